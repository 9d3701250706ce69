"""Self-test of the stand-in Flink SQL Gateway (tests/flink/standin) against the exchanges that
shared/reference/flink-sql-gateway.md records from a real Flink 2.1.0 gateway, and against Flink's own JobManager
REST of the stand-in's MiniCluster.

Covers: /api_versions and /info; a session's create, heartbeat, properties and close, and the errors for an unknown
session or operation; a DDL's result page (`result` = `OK`, resultKind SUCCESS, no jobID); a bounded SELECT polled
NOT_READY → PAYLOAD … → EOS with its jobID, ResultFetcher's token rule (the current token again gives the same page,
a later one is an error); changelog kinds in batch and streaming sessions, and a switch of runtime mode by SET
within one session; value encodings in JSON and PLAIN_TEXT with each column's logicalType; a failing statement
(status ERROR, HTTP 500 with the `Caused by:` line); an unbounded SELECT whose cancel fails once FINISHED and whose
close cancels its job; an INSERT into an exactly-once Kafka sink (the `job id` row), stop with savepoint through the
JobManager REST, resumption from that savepoint without duplicates in the sink (read anew with a read_committed
consumer from offset 0) and a later SELECT that does not restore from the savepoint.

Needs FLOE_TEST_FLINK_GATEWAY and FLOE_TEST_FLINK_REST (tests/lib/flink.sh start_flink_standin exports them);
without them every step is SKIP. The Kafka steps also need FLOE_TEST_KAFKA (tests/lib/broker.sh) and confluent-kafka
(the .venv/kafka python, which tests/flink/run.sh uses). Prints one PASS/FAIL/SKIP line per step and
``N passed, M failed`` last.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))

from floe_harness import SkipStep, Steps, check, exit_on_signals  # noqa: E402

GATEWAY = os.environ.get("FLOE_TEST_FLINK_GATEWAY", "").rstrip("/")
JOBMANAGER = os.environ.get("FLOE_TEST_FLINK_REST", "").rstrip("/")
KAFKA = os.environ.get("FLOE_TEST_KAFKA", "")
RUN = secrets.token_hex(3)
VARCHAR_MAX = {"type": "VARCHAR", "nullable": True, "length": 2147483647}


def call(base: str, method: str, path: str, body: object | None = None, timeout: float = 30.0) -> tuple[int, object, str]:
    """One request; returns (HTTP status, parsed JSON or None, raw text)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read().decode()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, raw


def gw(method: str, path: str, body: object | None = None) -> tuple[int, object, str]:
    return call(GATEWAY, method, path, body)


def jm(method: str, path: str, body: object | None = None) -> tuple[int, object, str]:
    return call(JOBMANAGER, method, path, body)


def ok(method: str, path: str, body: object | None = None) -> object:
    status, parsed, raw = gw(method, path, body)
    check(status == 200, f"{method} {path}: HTTP {status}: {raw[:600]}")
    return parsed


def need_gateway() -> None:
    if not GATEWAY or not JOBMANAGER:
        raise SkipStep("FLOE_TEST_FLINK_GATEWAY / FLOE_TEST_FLINK_REST not set (tests/lib/flink.sh starts the stand-in)")


def open_session(properties: dict | None = None) -> str:
    body = {"sessionName": f"standin-{RUN}", "properties": properties or {}}
    return ok("POST", "/v3/sessions", body)["sessionHandle"]


def close_session(session: str) -> None:
    gw("DELETE", f"/v3/sessions/{session}")


def submit(session: str, statement: str) -> str:
    return ok("POST", f"/v3/sessions/{session}/statements", {"statement": statement})["operationHandle"]


def configure(session: str, statement: str) -> None:
    check(ok("POST", f"/v3/sessions/{session}/configure-session", {"statement": statement}) == {},
          f"configure-session {statement!r} should answer {{}}")


def wait_status(session: str, op: str, wanted: set[str], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = ok("GET", f"/v3/sessions/{session}/operations/{op}/status")["status"]
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


class Fetched:
    """Everything a poll loop saw: each response's resultType, the pages and the rows."""

    def __init__(self) -> None:
        self.types: list[str] = []
        self.pages: list[dict] = []
        self.rows: list[dict] = []


def fetch(session: str, op: str, row_format: str = "JSON", limit: int | None = None,
          timeout: float = 60.0) -> Fetched:
    """Follows nextResultUri from token 0 until EOS (or until `limit` rows); every response must be HTTP 200."""
    seen = Fetched()
    uri = f"/v3/sessions/{session}/operations/{op}/result/0?rowFormat={row_format}"
    deadline = time.monotonic() + timeout
    while True:
        check(time.monotonic() < deadline, f"no EOS within {timeout:.0f} s (saw {Counter(seen.types)})")
        status, page, raw = gw("GET", uri)
        check(status == 200, f"GET {uri}: HTTP {status}: {raw[:800]}")
        seen.types.append(page["resultType"])
        if page["resultType"] == "NOT_READY":
            check(page.get("nextResultUri") == uri, f"NOT_READY must repeat the same URI: {page}")
            time.sleep(0.05)
            continue
        seen.pages.append(page)
        seen.rows.extend(page["results"]["data"])
        if page["resultType"] == "EOS":
            check("nextResultUri" not in page, f"EOS has no nextResultUri: {page}")
            return seen
        check(page["resultType"] == "PAYLOAD", f"unexpected resultType: {page}")
        if limit is not None and len(seen.rows) >= limit:
            return seen
        if not page["results"]["data"]:
            time.sleep(0.05)
        uri = page["nextResultUri"]


def expect_error(status: int, body: object, raw: str, *needles: str) -> str:
    """An HTTP 500 in Flink's REST error shape whose server-side trace contains every needle; returns the trace."""
    check(status == 500, f"expected HTTP 500, got {status}: {raw[:400]}")
    check(isinstance(body, dict) and isinstance(body.get("errors"), list) and len(body["errors"]) == 2,
          f"error body shape: {raw[:400]}")
    check(body["errors"][0] == "Internal server error.", f"errors[0]: {body['errors'][0]!r}")
    trace = body["errors"][1]
    check(trace.startswith("<Exception on server side:\n") and trace.rstrip().endswith("End of exception on server side>"),
          f"errors[1] framing: {trace[:200]!r}")
    for needle in needles:
        check(needle in trace, f"{needle!r} not in the server-side trace: {trace[:1500]}")
    return trace


def job_state(job_id: str) -> str | None:
    status, body, _ = jm("GET", "/jobs/overview")
    check(status == 200, f"JobManager /jobs/overview: HTTP {status}")
    for job in body["jobs"]:
        if job["jid"] == job_id:
            return job["state"]
    return None


def wait_job(job_id: str, states: set[str], timeout: float = 30.0) -> str | None:
    deadline = time.monotonic() + timeout
    while True:
        state = job_state(job_id)
        if state in states or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


# -- steps --------------------------------------------------------------------------------------------------------

def step_versions_and_info() -> None:
    need_gateway()
    check(ok("GET", "/api_versions") == {"versions": ["V1", "V2", "V3", "V4"]}, "api_versions")
    for version in ("v1", "v2", "v3", "v4"):
        check(ok("GET", f"/{version}/info") == {"productName": "Apache Flink", "version": "2.1.0"}, f"/{version}/info")
    status, body, raw = gw("GET", "/v3/no-such-endpoint")
    check(status == 404 and isinstance(body, dict) and body.get("errors"), f"unknown path: {status} {raw[:200]}")


def step_session_lifecycle() -> None:
    need_gateway()
    session = ok("POST", "/v3/sessions", {"sessionName": "life", "properties": {"pipeline.name": f"life-{RUN}"}})["sessionHandle"]
    check(ok("POST", f"/v3/sessions/{session}/heartbeat") == {}, "heartbeat answers {}")
    props = ok("GET", f"/v3/sessions/{session}")["properties"]
    check(props.get("pipeline.name") == f"life-{RUN}", f"the session's properties: {props}")
    configure(session, "SET 'table.local-time-zone' = 'UTC'")
    check(ok("GET", f"/v3/sessions/{session}")["properties"].get("table.local-time-zone") == "UTC", "SET shows")
    configure(session, "RESET 'table.local-time-zone'")
    status, body, raw = gw("POST", f"/v3/sessions/{session}/configure-session", {"statement": "SELECT 1"})
    expect_error(status, body, raw, "Unsupported statement for configuring session:SELECT 1")
    check("table.local-time-zone" not in ok("GET", f"/v3/sessions/{session}")["properties"], "RESET removes")
    missing = "00000000-0000-0000-0000-000000000000"
    status, body, raw = gw("GET", f"/v3/sessions/{session}/operations/{missing}/status")
    expect_error(status, body, raw, "Can not find the submitted operation in the OperationManager")
    check(ok("DELETE", f"/v3/sessions/{session}") == {"status": "CLOSED"}, "close answers CLOSED")
    status, body, raw = gw("POST", f"/v3/sessions/{session}/heartbeat")
    expect_error(status, body, raw, f"Session '{session}' does not exist.")
    status, body, raw = gw("POST", f"/v3/sessions/{session}/statements", {"statement": "SELECT 1"})
    expect_error(status, body, raw, "does not exist")


def step_ddl_result() -> None:
    need_gateway()
    session = open_session()
    try:
        op = submit(session, "CREATE TABLE gen (id BIGINT, k INT) WITH ('connector'='datagen','number-of-rows'='3')")
        seen = fetch(session, op)
        first = seen.pages[0]
        check(first["resultType"] == "PAYLOAD" and first["isQueryResult"] is False, f"first page: {first}")
        check(first["resultKind"] == "SUCCESS" and "jobID" not in first, f"DDL: SUCCESS without jobID: {first}")
        check(first["results"]["columns"] == [{"name": "result", "logicalType": VARCHAR_MAX, "comment": None}],
              f"columns: {first['results']['columns']}")
        check(first["results"]["rowFormat"] == "JSON", "rowFormat echoed")
        check(seen.rows == [{"kind": "INSERT", "fields": ["OK"]}], f"rows: {seen.rows}")
        check(seen.types[-1] == "EOS" and seen.types.count("PAYLOAD") == 1, f"one page then EOS: {seen.types}")
        check(wait_status(session, op, {"FINISHED"}) == "FINISHED", "DDL status FINISHED")
        op = submit(session, "SHOW TABLES")
        seen = fetch(session, op)
        check(seen.pages[0]["resultKind"] == "SUCCESS_WITH_CONTENT" and seen.pages[0]["isQueryResult"] is False,
              f"SHOW TABLES page: {seen.pages[0]}")
        check([r["fields"] for r in seen.rows] == [["gen"]], f"SHOW TABLES rows: {seen.rows}")
    finally:
        close_session(session)


def step_bounded_select() -> None:
    need_gateway()
    session = open_session()
    try:
        op = submit(session, "SELECT x, x * 10 AS y FROM (VALUES (1), (2), (3)) AS t(x)")
        seen = fetch(session, op)
        types = seen.types
        check(types[-1] == "EOS" and "PAYLOAD" in types, f"sequence: {types}")
        first_payload = types.index("PAYLOAD")
        check(all(t == "NOT_READY" for t in types[:first_payload]), f"only NOT_READY before the first page: {types}")
        check(all(t == "PAYLOAD" for t in types[first_payload:-1]), f"only PAYLOAD pages before EOS: {types}")
        columns = [{"name": "x", "logicalType": {"type": "INTEGER", "nullable": False}, "comment": None},
                   {"name": "y", "logicalType": {"type": "INTEGER", "nullable": False}, "comment": None}]
        job_ids = {p.get("jobID") for p in seen.pages}
        check(len(job_ids) == 1 and None not in job_ids, f"one jobID on every page: {job_ids}")
        for page in seen.pages:
            check(page["isQueryResult"] is True and page["resultKind"] == "SUCCESS_WITH_CONTENT", f"page: {page}")
            check(page["results"]["columns"] == columns, f"columns: {page['results']['columns']}")
        check(seen.rows == [{"kind": "INSERT", "fields": [1, 10]}, {"kind": "INSERT", "fields": [2, 20]},
                            {"kind": "INSERT", "fields": [3, 30]}], f"rows: {seen.rows}")
        check(wait_job(job_ids.pop(), {"FINISHED"}) == "FINISHED", "the SELECT's job FINISHED in the JobManager")
        check(wait_status(session, op, {"FINISHED"}) == "FINISHED", "status FINISHED")

        # ResultFetcher's token rule, on a fresh operation: the current token may be fetched again (same page),
        # a token past the next one is refused.
        op = submit(session, "SELECT x FROM (VALUES (7), (8)) AS t(x)")
        check(wait_status(session, op, {"FINISHED", "ERROR"}) == "FINISHED", "second SELECT FINISHED")
        base = f"/v3/sessions/{session}/operations/{op}/result"
        page0 = ok("GET", f"{base}/0?rowFormat=JSON")
        again = ok("GET", f"{base}/0?rowFormat=JSON")
        check(page0 == again, f"token 0 twice gives the same page: {page0} vs {again}")
        check(page0["nextResultUri"].endswith("/result/1?rowFormat=JSON"), f"next token 1: {page0}")
        status, body, raw = gw("GET", f"{base}/3?rowFormat=JSON")
        expect_error(status, body, raw, "Expecting token to be 1 or 0, but found 3.", "Failed to fetchResults.")
        check(ok("DELETE", f"/v3/sessions/{session}/operations/{op}/close") == {"status": "CLOSED"}, "close")

        # Pages stay bounded (the stand-in's 1000 rows); nothing is lost or repeated across them.
        configure(session, "CREATE TABLE many (id BIGINT) WITH ('connector'='datagen','number-of-rows'='2500',"
                           "'fields.id.kind'='sequence','fields.id.start'='1','fields.id.end'='2500')")
        seen = fetch(session, submit(session, "SELECT id FROM many"))
        sizes = [len(p["results"]["data"]) for p in seen.pages]
        check(max(sizes) <= 1000 and sum(sizes) == 2500, f"page sizes: {sizes}")
        check(sorted(r["fields"][0] for r in seen.rows) == list(range(1, 2501)), "every id once")
    finally:
        close_session(session)


def group_by_kinds(session: str, execution_config: dict | None = None) -> tuple[Counter, dict]:
    body: dict = {"statement": "SELECT k, COUNT(*) AS c FROM (VALUES (1), (1), (2), (1)) AS t(k) GROUP BY k"}
    if execution_config is not None:
        body["executionConfig"] = execution_config
    op = ok("POST", f"/v3/sessions/{session}/statements", body)["operationHandle"]
    seen = fetch(session, op)
    kinds = Counter(r["kind"] for r in seen.rows)
    final: dict = {}
    for r in seen.rows:  # apply the changelog
        k, c = r["fields"]
        if r["kind"] in ("INSERT", "UPDATE_AFTER"):
            final[k] = c
        elif r["kind"] in ("UPDATE_BEFORE", "DELETE") and final.get(k) == c:
            del final[k]
    return kinds, final


def step_changelog_kinds() -> None:
    need_gateway()
    batch = open_session({"execution.runtime-mode": "batch"})
    streaming = open_session()
    try:
        kinds, final = group_by_kinds(batch)
        check(set(kinds) == {"INSERT"} and final == {1: 3, 2: 1}, f"batch: only final INSERTs: {kinds} {final}")
        kinds, final = group_by_kinds(streaming)
        check(kinds["UPDATE_BEFORE"] >= 1 and kinds["UPDATE_AFTER"] >= 1 and kinds["UPDATE_BEFORE"] == kinds["UPDATE_AFTER"],
              f"streaming: retractions: {kinds}")
        check(final == {1: 3, 2: 1}, f"streaming: the changelog ends at the true counts: {final}")
        # a statement's executionConfig applies to that statement only
        kinds, final = group_by_kinds(streaming, {"execution.runtime-mode": "batch"})
        check(set(kinds) == {"INSERT"} and final == {1: 3, 2: 1}, f"executionConfig batch: {kinds} {final}")
        kinds, _ = group_by_kinds(streaming)
        check(kinds["UPDATE_BEFORE"] >= 1, f"streaming again after that statement: {kinds}")
        # SET within the session switches its runtime mode; tables made before stay visible.
        configure(streaming, "CREATE TABLE nums (k INT) WITH ('connector'='datagen','number-of-rows'='5','fields.k.min'='1','fields.k.max'='1')")
        configure(streaming, "SET 'execution.runtime-mode' = 'batch'")
        kinds, final = group_by_kinds(streaming)
        check(set(kinds) == {"INSERT"} and final == {1: 3, 2: 1}, f"after SET batch: {kinds} {final}")
        seen = fetch(streaming, submit(streaming, "SELECT k, COUNT(*) FROM nums GROUP BY k"))
        check([r["fields"] for r in seen.rows] == [[1, 5]] and {r["kind"] for r in seen.rows} == {"INSERT"},
              f"the table made in streaming mode, read in batch mode: {seen.rows}")
    finally:
        close_session(batch)
        close_session(streaming)


ENCODING_QUERY = ("SELECT CAST(1.50 AS DECIMAL(5, 2)) AS d, TIMESTAMP '2024-01-02 03:04:05.120' AS ts, "
                  "CAST(9007199254740993 AS BIGINT) AS b, CAST(NULL AS INT) AS n, ARRAY[1, 2] AS a, "
                  "MAP['x', 1] AS m, ROW(1, 'z') AS r, DATE '2024-01-02' AS dt, "
                  "CAST(TIMESTAMP '2024-01-02 03:04:05.1' AS TIMESTAMP_LTZ(3)) AS ltz")


def step_encodings() -> None:
    need_gateway()
    session = open_session({"execution.runtime-mode": "batch", "table.local-time-zone": "UTC"})
    try:
        json_seen = fetch(session, submit(session, ENCODING_QUERY), "JSON")
        text_seen = fetch(session, submit(session, ENCODING_QUERY), "PLAIN_TEXT")
        check(len(json_seen.rows) == 1 and len(text_seen.rows) == 1, "one row each")
        check(json_seen.pages[0]["results"]["rowFormat"] == "JSON", "JSON rowFormat")
        check(text_seen.pages[0]["results"]["rowFormat"] == "PLAIN_TEXT", "PLAIN_TEXT rowFormat")
        d, ts, b, n, a, m, r, dt, ltz = json_seen.rows[0]["fields"]
        check(d == 1.5 and ts == "2024-01-02T03:04:05.12" and n is None and dt == "2024-01-02"
              and ltz == "2024-01-02T03:04:05.1Z", f"JSON scalars: {json_seen.rows[0]}")
        check(b == 9007199254740993 and isinstance(b, int), f"JSON BIGINT exact: {b!r}")
        check(a == [1, 2] and m == {"x": 1} and r == {"EXPR$0": 1, "EXPR$1": "z"}, f"JSON nested: {a} {m} {r}")
        check(text_seen.rows[0]["fields"] == ["1.50", "2024-01-02 03:04:05.120", "9007199254740993", None,
                                              "[1, 2]", "{x=1}", "(1, z)", "2024-01-02",
                                              "2024-01-02 03:04:05.100"],
              f"PLAIN_TEXT: {text_seen.rows[0]['fields']}")
        types = {c["name"]: c["logicalType"] for c in json_seen.pages[0]["results"]["columns"]}
        char1 = {"type": "CHAR", "nullable": False, "length": 1}
        integer = {"type": "INTEGER", "nullable": False}
        expected = {
            "d": {"type": "DECIMAL", "nullable": False, "precision": 5, "scale": 2},
            "ts": {"type": "TIMESTAMP_WITHOUT_TIME_ZONE", "nullable": False, "precision": 3},
            "b": {"type": "BIGINT", "nullable": False},
            "n": {"type": "INTEGER", "nullable": True},
            "a": {"type": "ARRAY", "nullable": False, "elementType": integer},
            "m": {"type": "MAP", "nullable": False, "keyType": char1, "valueType": integer},
            "r": {"type": "ROW", "nullable": False,
                  "fields": [{"name": "EXPR$0", "fieldType": integer}, {"name": "EXPR$1", "fieldType": char1}]},
            "dt": {"type": "DATE", "nullable": False},
            "ltz": {"type": "TIMESTAMP_WITH_LOCAL_TIME_ZONE", "nullable": False, "precision": 3},
        }
        for name, want in expected.items():
            check(types.get(name) == want, f"logicalType of {name}: {types.get(name)} (expected {want})")
        check(types == {c["name"]: c["logicalType"] for c in text_seen.pages[0]["results"]["columns"]},
              "PLAIN_TEXT pages carry the same logicalType")
        # The raw text keeps 2^53+1 exact (a JSON double could not).
        op = submit(session, "SELECT CAST(9007199254740993 AS BIGINT) AS b")
        check(wait_status(session, op, {"FINISHED"}) == "FINISHED", "FINISHED")
        raw_pages = []
        uri = f"/v3/sessions/{session}/operations/{op}/result/0?rowFormat=JSON"
        while True:
            status, page, raw = gw("GET", uri)
            raw_pages.append(raw)
            if page["resultType"] == "EOS":
                break
            uri = page["nextResultUri"]
        check(any('"fields":[9007199254740993]' in raw for raw in raw_pages), f"raw BIGINT text: {raw_pages}")
    finally:
        close_session(session)


def step_failing_statement() -> None:
    need_gateway()
    session = open_session()
    try:
        op = submit(session, "SELECT nope FROM (VALUES (1)) AS t(x)")
        check(wait_status(session, op, {"ERROR", "FINISHED"}) == "ERROR", "status ERROR")
        status, body, raw = gw("GET", f"/v3/sessions/{session}/operations/{op}/result/0?rowFormat=JSON")
        trace = expect_error(status, body, raw, "Failed to fetchResults.")
        caused = [line for line in trace.splitlines() if line.startswith("Caused by:")]
        check(caused and "Column 'nope' not found in any table" in caused[-1], f"last Caused by: {caused[-1:]}")
        # the session is still usable
        seen = fetch(session, submit(session, "SELECT 1"))
        check([r["fields"] for r in seen.rows] == [[1]], f"SELECT 1 after an error: {seen.rows}")
    finally:
        close_session(session)


def step_unbounded_select_close() -> None:
    need_gateway()
    session = open_session()
    try:
        configure(session, "CREATE TABLE ticks (id BIGINT) WITH ('connector'='datagen','rows-per-second'='20')")
        op = submit(session, "SELECT id FROM ticks")
        seen = fetch(session, op, limit=5, timeout=60)
        check(len(seen.rows) >= 5 and all(r["kind"] == "INSERT" for r in seen.rows), f"rows flow: {len(seen.rows)}")
        job_id = seen.pages[0]["jobID"]
        check(job_state(job_id) == "RUNNING", f"the job runs: {job_state(job_id)}")
        check(ok("GET", f"/v3/sessions/{session}/operations/{op}/status") == {"status": "FINISHED"},
              "an unbounded SELECT's operation is FINISHED once it runs")
        status, body, raw = gw("POST", f"/v3/sessions/{session}/operations/{op}/cancel")
        expect_error(status, body, raw, "Failed to convert the Operation Status from FINISHED to CANCELED")
        check(ok("DELETE", f"/v3/sessions/{session}/operations/{op}/close") == {"status": "CLOSED"}, "close")
        check(wait_job(job_id, {"CANCELED"}) == "CANCELED", f"closing cancels the job: {job_state(job_id)}")
        status, body, raw = gw("GET", f"/v3/sessions/{session}/operations/{op}/result/1?rowFormat=JSON")
        expect_error(status, body, raw, "Can not find the submitted operation")
    finally:
        close_session(session)


def step_concurrent_sessions() -> None:
    """Four sessions planning and running at once (the stand-in plans on one Java thread; Calcite needs that)."""
    need_gateway()
    errors: list[str] = []
    results: dict[int, list] = {}

    def one(i: int) -> None:
        try:
            session = open_session()
            try:
                configure(session, f"CREATE TABLE c{i} (k INT) WITH ('connector'='datagen','number-of-rows'='{10 * (i + 1)}',"
                                   "'fields.k.min'='0','fields.k.max'='0')")
                seen = fetch(session, submit(session, f"SELECT k, COUNT(*) AS c FROM c{i} GROUP BY k"))
                final = {}
                for r in seen.rows:
                    if r["kind"] in ("INSERT", "UPDATE_AFTER"):
                        final[r["fields"][0]] = r["fields"][1]
                results[i] = sorted(final.items())
            finally:
                close_session(session)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"session {i}: {type(e).__name__}: {str(e)[:300]}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, "; ".join(errors))
    check(results == {i: [(0, 10 * (i + 1))] for i in range(4)}, f"each session's own count: {results}")


def step_select1_round_trip() -> None:
    """Not a fidelity check: the median REST round trip of SELECT 1 (submit, poll to EOS), printed for the record."""
    need_gateway()
    session = open_session()
    try:
        fetch(session, submit(session, "SELECT 1"))  # warm-up
        times = []
        for _ in range(10):
            started = time.monotonic()
            seen = fetch(session, submit(session, "SELECT 1"))
            times.append(time.monotonic() - started)
            check([r["fields"] for r in seen.rows] == [[1]], f"SELECT 1: {seen.rows}")
        print(f"     SELECT 1 round trip: median {statistics.median(times) * 1000:.0f} ms, "
              f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms", flush=True)
    finally:
        close_session(session)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def step_session_idle_expiry() -> None:
    """A second stand-in with a 2 s idle timeout: an idle session is closed, a heartbeating one lives on; SIGTERM
    stops it and its JVM."""
    python, classpath = os.environ.get("FLINK_STANDIN_PYTHON"), os.environ.get("FLINK_STANDIN_CLASSPATH")
    if not python or not classpath:
        raise SkipStep("FLINK_STANDIN_PYTHON / FLINK_STANDIN_CLASSPATH not set (tests/lib/flink.sh exports them)")
    port, rest_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as work:
        log = open(Path(work) / "standin.log", "w")
        process = subprocess.Popen(
            [python, "-u", str(HERE / "standin" / "gateway.py"), "--port", str(port), "--rest-port", str(rest_port),
             "--savepoint-dir", str(Path(work) / "savepoints"), "--session-idle-timeout", "2"],
            env={**os.environ, "HADOOP_CLASSPATH": classpath, "FLINK_LOG_DIR": work}, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                check(process.poll() is None, "the second stand-in exited: " + (Path(work) / "standin.log").read_text()[-2000:])
                try:
                    if call(base, "GET", "/v3/info", timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                check(time.monotonic() < deadline, "the second stand-in did not answer /v3/info within 60 s")
                time.sleep(0.2)
            idle = call(base, "POST", "/v3/sessions", {"properties": {}})[1]["sessionHandle"]
            busy = call(base, "POST", "/v3/sessions", {"properties": {}})[1]["sessionHandle"]
            for _ in range(8):  # 4 s: twice the timeout
                time.sleep(0.5)
                check(call(base, "POST", f"/v3/sessions/{busy}/heartbeat")[0] == 200, "heartbeats keep a session")
            status, body, raw = call(base, "POST", f"/v3/sessions/{idle}/heartbeat")
            expect_error(status, body, raw, f"Session '{idle}' does not exist.")
            jvms = children_of(process.pid)
            check(jvms, "the stand-in's JVM is its child")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        check(process.returncode == 0, f"SIGTERM: exit status {process.returncode}")
        deadline = time.monotonic() + 10
        while any(alive(p) for p in jvms) and time.monotonic() < deadline:
            time.sleep(0.1)
        check(not any(alive(p) for p in jvms), f"the JVM ({jvms}) is gone after SIGTERM")


# -- Kafka: INSERT, stop with savepoint, resume ---------------------------------------------------------------------

def kafka_modules():
    if not KAFKA:
        raise SkipStep("FLOE_TEST_KAFKA not set (tests/lib/broker.sh starts a broker)")
    try:
        import confluent_kafka  # noqa: F401
        from confluent_kafka.admin import AdminClient, NewTopic  # noqa: F401
    except ImportError:
        raise SkipStep("confluent-kafka is not importable (run with .venv/kafka's python)") from None
    return confluent_kafka


def produce(ck, topic: str, ids: range) -> None:
    producer = ck.Producer({"bootstrap.servers": KAFKA})
    for i in ids:
        producer.produce(topic, json.dumps({"id": i, "name": f"n{i}"}).encode())
    check(producer.flush(30) == 0, "every record delivered")


def read_committed(ck, topic: str, expect: int, timeout: float = 60.0) -> list[int]:
    """The ids in the topic as a new read_committed reader sees them from offset 0, once `expect` arrived (or timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        consumer = ck.Consumer({"bootstrap.servers": KAFKA, "group.id": f"standin-{RUN}-{secrets.token_hex(2)}",
                                "isolation.level": "read_committed", "enable.auto.commit": False})
        try:
            consumer.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
            ids: list[int] = []
            idle_until = time.monotonic() + 2.0
            while time.monotonic() < idle_until:
                message = consumer.poll(0.2)
                if message is None or message.error():
                    continue
                ids.append(json.loads(message.value())["id"])
                idle_until = time.monotonic() + 1.0
        finally:
            consumer.close()
        if len(ids) >= expect or time.monotonic() > deadline:
            return ids
        time.sleep(1.0)


def step_kafka_insert_savepoint_resume() -> None:
    need_gateway()
    ck = kafka_modules()
    from confluent_kafka.admin import AdminClient, NewTopic
    source, sink = f"standin_src_{RUN}", f"standin_dst_{RUN}"
    admin = AdminClient({"bootstrap.servers": KAFKA})
    for future in admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 1, 1)]).values():
        future.result(30)
    produce(ck, source, range(0, 300))
    session = open_session()
    jobs: list[str] = []
    try:
        configure(session, "SET 'execution.checkpointing.interval' = '1s'")
        configure(session, f"""CREATE TABLE src (id BIGINT, name STRING) WITH ('connector'='kafka', 'topic'='{source}',
            'properties.bootstrap.servers'='{KAFKA}', 'scan.startup.mode'='earliest-offset', 'format'='json')""")
        configure(session, f"""CREATE TABLE dst (id BIGINT, name STRING) WITH ('connector'='kafka', 'topic'='{sink}',
            'properties.bootstrap.servers'='{KAFKA}', 'format'='json', 'sink.delivery-guarantee'='exactly-once',
            'sink.transactional-id-prefix'='standin-{RUN}', 'properties.transaction.timeout.ms'='600000')""")
        insert = "INSERT INTO dst SELECT id, name FROM src"
        seen = fetch(session, submit(session, insert))
        page = seen.pages[0]
        job = page.get("jobID")
        check(job and page["isQueryResult"] is False and page["resultKind"] == "SUCCESS_WITH_CONTENT", f"page: {page}")
        check(page["results"]["columns"] == [{"name": "job id", "logicalType": VARCHAR_MAX, "comment": None}],
              f"columns: {page['results']['columns']}")
        check(seen.rows == [{"kind": "INSERT", "fields": [job]}], f"the job id row: {seen.rows}")
        jobs.append(job)
        check(wait_job(job, {"RUNNING"}) == "RUNNING", f"the INSERT runs: {job_state(job)}")
        first = read_committed(ck, sink, 300)
        check(sorted(first) == list(range(300)), f"300 rows committed before the stop (got {len(first)})")

        location = stop_with_savepoint(job)
        check(wait_job(job, {"FINISHED"}) == "FINISHED", f"stopped job FINISHED: {job_state(job)}")

        produce(ck, source, range(300, 500))
        configure(session, f"SET 'execution.savepoint.path' = '{location}'")
        seen = fetch(session, submit(session, insert))
        resumed = seen.pages[0].get("jobID")
        check(resumed and resumed != job, f"a new job: {resumed}")
        jobs.append(resumed)
        check(wait_job(resumed, {"RUNNING"}) == "RUNNING", f"the resumed INSERT runs: {job_state(resumed)}")
        status, checkpoints, raw = jm("GET", f"/jobs/{resumed}/checkpoints")
        restored = (checkpoints.get("latest") or {}).get("restored") or {}
        check(status == 200 and restored.get("is_savepoint") is True and restored.get("external_path") == location,
              f"restored from the savepoint: {restored}")
        read_committed(ck, sink, 500)
        time.sleep(2.5)  # two more checkpoints: a replay would have committed its duplicates by now
        ids = read_committed(ck, sink, 500)
        duplicates = [i for i, c in Counter(ids).items() if c > 1]
        check(not duplicates, f"no duplicates in the sink: {duplicates[:10]}")
        check(sorted(ids) == list(range(500)), f"ids 0..499 exactly once (got {len(ids)})")

        # The savepoint path does not leak into later jobs of the session.
        check("execution.savepoint.path" not in ok("GET", f"/v3/sessions/{session}")["properties"],
              "execution.savepoint.path gone from the session once a job used it")
        seen = fetch(session, submit(session, "SELECT k, COUNT(*) FROM (VALUES (1), (2), (1)) AS t(k) GROUP BY k"))
        later = seen.pages[0]["jobID"]
        check(wait_job(later, {"FINISHED", "FAILED"}) == "FINISHED", f"a later SELECT runs fresh: {job_state(later)}")
        status, checkpoints, raw = jm("GET", f"/jobs/{later}/checkpoints")
        check(status == 200 and not (checkpoints.get("latest") or {}).get("restored"),
              f"the later SELECT restored nothing: {raw[:300]}")
    finally:
        for job in jobs:
            if job_state(job) in ("RUNNING", "CREATED", "INITIALIZING", "RESTARTING"):
                jm("PATCH", f"/jobs/{job}?mode=cancel")
                wait_job(job, {"CANCELED", "FINISHED", "FAILED"}, timeout=15)
        close_session(session)


def stop_with_savepoint(job: str) -> str:
    """POST /jobs/:id/stop {"drain": false}, then poll /jobs/:id/savepoints/:request until COMPLETED; the location."""
    status, body, raw = jm("POST", f"/jobs/{job}/stop", {"drain": False})
    check(status == 202 and isinstance(body, dict) and "request-id" in body, f"stop: HTTP {status} {raw[:300]}")
    request_id = body["request-id"]
    deadline = time.monotonic() + 60
    while True:
        status, body, raw = jm("GET", f"/jobs/{job}/savepoints/{request_id}")
        check(status == 200, f"savepoint status: HTTP {status} {raw[:300]}")
        if body["status"]["id"] == "COMPLETED":
            operation = body.get("operation") or {}
            check("location" in operation, f"savepoint failed: {raw[:1500]}")
            return operation["location"]
        check(time.monotonic() < deadline, f"savepoint not COMPLETED within 60 s: {raw[:300]}")
        time.sleep(0.1)


def main() -> None:
    exit_on_signals()
    started = time.monotonic()
    steps = Steps("Flink SQL Gateway stand-in")
    steps.run("versions_and_info", step_versions_and_info)
    steps.run("session_lifecycle", step_session_lifecycle)
    steps.run("ddl_result", step_ddl_result)
    steps.run("bounded_select", step_bounded_select)
    steps.run("changelog_kinds", step_changelog_kinds)
    steps.run("encodings", step_encodings)
    steps.run("failing_statement", step_failing_statement)
    steps.run("unbounded_select_close", step_unbounded_select_close)
    steps.run("concurrent_sessions", step_concurrent_sessions)
    steps.run("select1_round_trip", step_select1_round_trip)
    steps.run("session_idle_expiry", step_session_idle_expiry)
    steps.run("kafka_insert_savepoint_resume", step_kafka_insert_savepoint_resume)
    print(f"     test_standin: {time.monotonic() - started:.1f} s", flush=True)
    steps.finish()


if __name__ == "__main__":
    main()
