"""Floe's Apache Flink backend end to end: ``floe serve`` with ``aws.us-east-1`` mapped onto the stand-in Flink SQL
Gateway (real Flink 2.1.0, tests/flink/standin) and the test broker attached as a Kafka cluster; every statement goes
through the public sql/v1 API, and what Flink did is checked in the MiniCluster's JobManager REST (each statement's
job is named ``floe-<statement uid>``) and in the topics (a new read_committed consumer from offset 0).

Steps:
* the Flink pool (aws.us-east-1) and the embedded pool (aws.us-west-2) show ``status.engine`` ``flink`` /
  ``embedded``, in the API and in ``floe flink compute-pool describe``;
* DDL on the Flink pool runs on Floe's catalog (no Flink job): kafka tables with json values, a view, SHOW TABLES,
  DESCRIBE;
* bounded SELECTs over VALUES, over a kafka table (``scan.bounded.mode`` = ``latest-offset``; also named with its
  catalog's id and display name) and over a view: exact
  rows with DECIMAL scale, BIGINT beyond 2^53, TIMESTAMP(3), NULL; the same rows, schema and traits as the same
  statement on the embedded pool; a FINISHED job per statement;
* a failing statement (a column that does not exist; a CAST failing at run time in the job): FAILED with the root
  ``Caused by:`` message in ``detail`` and in the exceptions list, no Java stack trace;
* a table only the embedded engine has (and INFORMATION_SCHEMA): FAILED naming it and the embedded engine;
* an unbounded SELECT delivering rows produced after it started;
* a continuous INSERT into an exactly-once kafka sink: exactly the expected records;
* stop (``spec.stopped``) → STOPPED through stop-with-savepoint, nothing written while stopped, its
  ``status.latest_offsets`` (shown for STOPPED statements only, as on Confluent Cloud), resume → a new job restored
  from that savepoint, every record exactly once;
* a graceful restart and a ``kill -9`` of ``floe serve`` while the INSERT and the unbounded SELECT run (records
  written meanwhile): both re-attached to their jobs (the same job ids, no second job), the sink exactly once, the
  SELECT's results going on without re-delivering a row;
* DELETE of both: their jobs CANCELED.

Needs FLOE_TEST_FLINK_GATEWAY/FLOE_TEST_FLINK_REST/FLOE_TEST_FLINK_SAVEPOINTS (tests/lib/flink.sh) and
FLOE_TEST_KAFKA (tests/lib/broker.sh); tests/flink/run.sh starts both and runs this with .venv/kafka's python.
Prints one PASS/FAIL/SKIP line per step and ``N passed, M failed``. COMPAT_KEEP=1 keeps the server's data and log.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from flink_e2e import (  # noqa: E402 - flink_e2e puts tests/compat and tests/kafka on the path
    DATABASE, EMBEDDED_REGION, FLINK_REGION, KAFKA, SAVEPOINTS, TERMINAL, Floe, Kafka, Results, cancel_active_jobs, difference,
    flink_server, jm, jobs_named, log_tail, materialize, missing_environment, multiset, need, statement_jobs, wait_jobs)
from floe_harness import FloeServer, SkipStep, Steps, check, exit_on_signals, start_or_exit  # noqa: E402

RUN = secrets.token_hex(3)
EMBEDDED_ONLY = "embedded engine"
# A Java stack frame: details must carry the root message, not a trace.
STACK_FRAME = re.compile(r"^\s*at [\w$.]+\(", re.MULTILINE)


def topic(what: str) -> str:
    return f"fb_{what}_{RUN}"


def kafka_table(name: str, columns: str, topic_name: str, extra: str = "") -> str:
    """DDL of a `kafka` table with json values on the test broker; `extra` adds options (each with a leading comma)."""
    return (f"CREATE TABLE `{name}` ({columns}) WITH ('connector' = 'kafka', 'properties.bootstrap.servers' = "
            f"'{KAFKA}', 'topic' = '{topic_name}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset'{extra})")


BOUNDED = ", 'scan.bounded.mode' = 'latest-offset'"

# The typed records: BIGINT beyond 2^53, DECIMAL(10,2) from JSON numbers with fewer decimals, TIMESTAMP(3) with and
# without trailing zeros, strings with a quote and non-ASCII, a NULL.
TYPED = [
    {"id": 2**53 + 1, "amount": 12.3, "ts": "2024-01-02 03:04:05.120", "name": "ann"},
    {"id": 2**53 + 3, "amount": 0.5, "ts": "2024-01-02 03:04:06.000", "name": "bob's"},
    {"id": -(2**53) - 5, "amount": 1000, "ts": "1999-12-31 23:59:59.999", "name": "ünïcødé"},
    {"id": 7, "amount": -7.25, "ts": "2024-02-29 00:00:00.005", "name": None},
    {"id": 8, "amount": 99.99, "ts": "2024-01-02 03:04:07.100", "name": ""},
]


# Expressions whose values the encodings step compares between the engines.
ENCODED = [
    "CAST(3.25 AS DOUBLE)", "CAST(1e300 AS DOUBLE)", "CAST(0.1 AS FLOAT)", "TRUE", "CAST(NULL AS INT)",
    "CAST(-128 AS TINYINT)", "CAST(32767 AS SMALLINT)", "CAST('12345678901234567890.123456789' AS DECIMAL(38, 9))",
    "DATE '2024-02-29'", "TIME '23:59:58'", "TIMESTAMP '2024-01-02 03:04:05'",
    "CAST('2024-01-02 03:04:05.123456789' AS TIMESTAMP(9))", "CAST(TIMESTAMP '2024-01-02 03:04:05.5' AS TIMESTAMP_LTZ(3))",
    "INTERVAL '3' DAY", "ARRAY[1, 2, 3]", "MAP['a', 1]", "ROW(1, 'z')", "CAST('caf' AS BYTES)", "CAST('ab' AS CHAR(4))",
    "'multi\nline \"quoted\"'",
]


def typed_row(record: dict) -> list:
    """A typed record as the results API encodes it (the embedded engine's strings)."""
    return [str(record["id"]), f"{record['amount']:.2f}", record["ts"], record["name"]]


def main() -> None:
    exit_on_signals()
    steps = Steps("Apache Flink backend (stand-in gateway over Flink 2.1.0, test broker)")
    missing = missing_environment()
    if missing:
        def unset() -> None:
            raise SkipStep(f"{missing} not set (tests/flink/run.sh starts the stand-in and the broker)")

        steps.run("the stand-in and the broker are named", unset)
        steps.finish()
    server = start_or_exit(flink_server("flink-backend"))
    started = time.monotonic()
    try:
        run(steps, server)
    finally:
        if steps.failed:
            print(f"server log (requests left out):\n{log_tail(server, 60)}", flush=True)
        server.stop()
        leftover = cancel_active_jobs()
        if leftover:
            print(f"cancelled Flink jobs left running: {leftover}", flush=True)
        print(f"({time.monotonic() - started:.1f}s)", flush=True)
    steps.finish()


def run(steps: Steps, server: FloeServer) -> None:
    admin = Floe(server, "fb", RUN)
    kafka = Kafka(KAFKA, RUN)
    state: dict = {}

    def flink() -> Floe:
        return need(state, "flink")

    def embedded() -> Floe:
        return need(state, "embedded")

    def statement_job(floe: Floe, name: str, states: set[str], what: str) -> dict:
        """The one Flink job of statement `name`, once it is in one of `states`."""
        jobs = wait_jobs(floe, name, lambda jobs: len(jobs) == 1 and jobs[0]["state"] in states,
                         f"{what}: one job {sorted(states)}")
        return jobs[0]

    # ------------------------------------------------------------------------------------------------ pools
    def pools() -> None:
        admin.attach_cluster(KAFKA)
        on_flink = admin.create_pool(FLINK_REGION)
        on_embedded = admin.create_pool(EMBEDDED_REGION)
        check(on_flink["status"].get("engine") == "flink", f"pool in {FLINK_REGION}: status {on_flink['status']}")
        check(on_embedded["status"].get("engine") == "embedded",
              f"pool in {EMBEDDED_REGION}: status {on_embedded['status']}")
        state["flink"] = admin.on_pool("fbf", on_flink["id"])
        state["embedded"] = admin.on_pool("fbe", on_embedded["id"])

    def describe() -> None:
        floe = flink()
        home = Path(tempfile.mkdtemp(prefix="floe-flink-cli-"))
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("FLOE_")}
            env["HOME"] = str(home)

            def cli(*args: str) -> str:
                done = subprocess.run([server.binary, *args], env=env, capture_output=True, text=True, timeout=30)
                check(done.returncode == 0, f"floe {' '.join(args)}: exit {done.returncode}: {done.stderr[-600:]}")
                return done.stdout

            cli("login", "--url", server.base_url, "--api-key", floe.boot.api_key, "--api-secret", floe.boot.api_secret)
            # The Flink pool shows its engine; an embedded pool shows `embedded` or, as the CLI keeps Confluent's
            # output for the pools it always had, nothing.
            for pool, engine in ((floe.pool, "flink"), (embedded().pool, "embedded")):
                human = cli("flink", "compute-pool", "describe", pool, "--environment", floe.env)
                shown = json.loads(cli("flink", "compute-pool", "describe", pool, "--environment", floe.env, "-o", "json"))
                if engine == "flink":
                    check(re.search(r"engine\W+flink\b", human, re.IGNORECASE),
                          f"describe {pool} (human) does not show engine flink:\n{human}")
                    check(shown.get("engine") == "flink", f"describe {pool} -o json: {shown}")
                else:
                    check(not re.search(r"engine\W+(?!embedded\b)\w+", human, re.IGNORECASE),
                          f"describe {pool} (human) shows another engine than embedded:\n{human}")
                    check(shown.get("engine", "embedded") == "embedded", f"describe {pool} -o json: {shown}")
        finally:
            shutil.rmtree(home, ignore_errors=True)

    # ------------------------------------------------------------------------------------------------ DDL
    def ddl() -> None:
        floe = flink()
        state["typed_topic"] = kafka.create_topic(topic("typed"))
        kafka.produce(state["typed_topic"], [(None, record, None) for record in TYPED])
        for what in ("live", "src", "sink"):
            kafka.create_topic(topic(what))
        statements = [
            kafka_table("typed", "id BIGINT, amount DECIMAL(10, 2), ts TIMESTAMP(3), name STRING", topic("typed"), BOUNDED),
            kafka_table("live", "id BIGINT, name STRING", topic("live")),
            kafka_table("src", "id BIGINT, name STRING, amount INT", topic("src")),
            kafka_table("sink", "id BIGINT, name STRING, doubled INT", topic("sink"),
                        f", 'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'fb-{RUN}', "
                        "'properties.transaction.timeout.ms' = '600000'"),
            f"CREATE TABLE plain_{RUN} (a INT)",
            "CREATE VIEW big_spenders AS SELECT id, amount, name FROM typed WHERE amount > 10",
        ]
        for sql in statements:
            name = floe.submit(sql)
            floe.wait(name, {"COMPLETED"})
            check(not statement_jobs(floe, name), f"{sql[:40]!r} on the Flink pool made a Flink job")
        tables = {row[0] for row in floe.query("SHOW TABLES")}
        wanted = {"typed", "live", "src", "sink", f"plain_{RUN}", "big_spenders"}
        check(wanted <= tables, f"SHOW TABLES on the Flink pool lacks {sorted(wanted - tables)}: {sorted(tables)}")
        columns = [row[:2] for row in floe.query("DESCRIBE typed")]
        check(columns == [["id", "BIGINT"], ["amount", "DECIMAL(10, 2)"], ["ts", "TIMESTAMP(3)"], ["name", "STRING"]],
              f"DESCRIBE typed: {columns}")
        # The embedded pool sees the same catalog.
        check(wanted <= {row[0] for row in embedded().query("SHOW TABLES")}, "the embedded pool's SHOW TABLES differs")
        state["ddl"] = True

    # ------------------------------------------------------------------------------------------------ bounded
    def same_as_embedded(sql: str, expected: list[list]) -> None:
        """Runs `sql` on both pools: exact `expected` rows on each, the same schema and traits, and a FINISHED Flink
        job for the Flink pool's statement (none for the embedded one's)."""
        floe, other = flink(), embedded()
        name = floe.submit(sql)
        doc = floe.wait(name, {"COMPLETED"}, 90)
        rows = floe.rows(name)
        check(multiset(rows) == multiset(expected), f"{sql}\n  on Flink: {difference(multiset(rows), multiset(expected))}"
                                                    f"\n  rows: {rows}")
        statement_job(floe, name, {"FINISHED"}, f"{sql} on Flink")
        reference = other.submit(sql)
        reference_doc = other.wait(reference, {"COMPLETED"})
        reference_rows = other.rows(reference)
        check(multiset(reference_rows) == multiset(expected),
              f"{sql}\n  on the embedded engine: {difference(multiset(reference_rows), multiset(expected))}")
        check(not statement_jobs(other, reference), f"{sql} on the embedded pool made a Flink job")
        traits, reference_traits = doc["status"].get("traits"), reference_doc["status"].get("traits")
        check(traits == reference_traits, f"{sql}\n  traits on Flink: {json.dumps(traits)}\n"
                                          f"  on the embedded engine: {json.dumps(reference_traits)}")

    def bounded_values() -> None:
        sql = ("SELECT a, d, b, ts, s FROM (VALUES "
               "(1, CAST(1.5 AS DECIMAL(10, 2)), CAST(9007199254740993 AS BIGINT), TIMESTAMP '2024-01-02 03:04:05.120', 'x'), "
               "(2, CAST(-0.05 AS DECIMAL(10, 2)), CAST(-9007199254740995 AS BIGINT), TIMESTAMP '1999-12-31 23:59:59.001', "
               "CAST(NULL AS STRING))) AS t(a, d, b, ts, s)")
        same_as_embedded(sql, [["1", "1.50", "9007199254740993", "2024-01-02 03:04:05.120", "x"],
                               ["2", "-0.05", "-9007199254740995", "1999-12-31 23:59:59.001", None]])

    def encodings() -> None:
        """Values of more types, each as the embedded engine encodes it (compared between the engines only: the
        encoding is the embedded engine's to define)."""
        floe, other = flink(), embedded()
        sql = "SELECT " + ", ".join(f"{expression} AS c{i}" for i, expression in enumerate(ENCODED))
        name, reference = floe.submit(sql), other.submit(sql)
        doc, reference_doc = floe.wait(name, TERMINAL, 90), other.wait(reference, TERMINAL, 60)
        check(reference_doc["status"]["phase"] == "COMPLETED", f"on the embedded engine: {reference_doc['status']}")
        check(doc["status"]["phase"] == "COMPLETED", f"on Flink: {doc['status']['phase']} {doc['status'].get('detail')!r}")
        rows, reference_rows = floe.rows(name), other.rows(reference)
        check(len(rows) == len(reference_rows) == 1, f"rows: {rows} on Flink, {reference_rows} on the embedded engine")
        differing = [f"{expression}: Flink {got!r}, embedded {want!r}"
                     for expression, got, want in zip(ENCODED, rows[0], reference_rows[0]) if got != want]
        check(not differing, "values encoded differently:\n    " + "\n    ".join(differing))
        check(doc["status"]["traits"] == reference_doc["status"]["traits"], "the traits differ")

    def bounded_kafka() -> None:
        need(state, "ddl")
        same_as_embedded("SELECT id, amount, ts, name FROM typed", [typed_row(record) for record in TYPED])
        same_as_embedded("SELECT id, amount, name FROM big_spenders",
                         [[str(r["id"]), f"{r['amount']:.2f}", r["name"]] for r in TYPED if r["amount"] > 10])
        # The catalog (the environment) named by its id and by its display name.
        status, environment, raw = flink().call("GET", f"/org/v2/environments/{flink().env}")
        check(status == 200, f"GET environment: HTTP {status} {raw[:300]!r}")
        for catalog in (flink().env, environment["display_name"]):
            same_as_embedded(f"SELECT id, name FROM `{catalog}`.`{DATABASE}`.`typed` WHERE amount < 10",
                             [[str(r["id"]), r["name"]] for r in TYPED if r["amount"] < 10])

    # ------------------------------------------------------------------------------------------------ failures
    def failing() -> None:
        need(state, "ddl")
        floe = flink()
        detail = floe.failure("SELECT nope FROM typed")
        check("Column 'nope' not found" in detail, f"an unknown column: {detail!r}")
        # A failure inside the Flink job: its root cause is the detail, and the exceptions list has it.
        name = floe.submit("SELECT id, CAST(name AS INT) AS n FROM typed")
        doc = floe.wait(name, TERMINAL, 90)
        detail = doc["status"].get("detail") or ""
        check(doc["status"]["phase"] == "FAILED", f"CAST of 'ann' AS INT ended {doc['status']['phase']} ({detail!r})")
        job = statement_job(floe, name, {"FAILED"}, f"the CAST's job (the statement's detail: {detail!r})")
        status, exceptions, raw = jm("GET", f"/jobs/{job['jid']}/exceptions")
        check(status == 200, f"GET /jobs/{job['jid']}/exceptions: HTTP {status} {raw[:300]}")
        trace = (exceptions.get("root-exception") or "") or \
            ((exceptions.get("exceptionHistory") or {}).get("entries") or [{}])[0].get("stacktrace", "")
        causes = [line[len("Caused by: "):] for line in trace.splitlines() if line.startswith("Caused by: ")]
        root = (causes[-1] if causes else trace.splitlines()[0] if trace else "").strip()
        check(root, f"no root cause in the JobManager's exceptions: {raw[:600]}")
        message = root.split(": ", 1)[1] if ": " in root else root  # the message after the exception's class
        check(message in detail, f"detail {detail!r} lacks the root cause {root!r}")
        check(not STACK_FRAME.search(detail), f"detail carries a stack trace: {detail[:600]!r}")
        listed = floe.exceptions(name)
        check(listed and any(message in (entry.get("message") or "") for entry in listed),
              f"the exceptions list lacks {message!r}: {listed}")

    def embedded_only() -> None:
        need(state, "ddl")
        floe = flink()
        embedded().query(f"INSERT INTO plain_{RUN} VALUES (1), (2)")
        # A table only the embedded engine has: named, and the embedded engine given as the reason.
        for sql, named in ((f"SELECT a FROM plain_{RUN}", f"`plain_{RUN}`"),
                           (f"INSERT INTO sink SELECT a, 'x', a FROM plain_{RUN}", f"`plain_{RUN}`"),
                           ("SELECT `TABLE_NAME` FROM `INFORMATION_SCHEMA`.`TABLES`", "`INFORMATION_SCHEMA`.`TABLES`")):
            reason = EMBEDDED_ONLY
            name = floe.submit(sql)
            doc = floe.wait(name, TERMINAL, 60)
            detail = doc["status"].get("detail") or ""
            check(doc["status"]["phase"] == "FAILED" and named in detail and reason in detail,
                  f"{sql}: {doc['status']['phase']} {detail!r}, expected FAILED naming {named} and {reason!r}")
            check(not statement_jobs(floe, name), f"{sql}: a Flink job was submitted")

    # ------------------------------------------------------------------------------------------------ unbounded
    live_rows: list[list] = []

    def produce_live(n: int) -> None:
        first = len(live_rows)
        batch = [{"id": first + i, "name": f"live-{first + i}"} for i in range(n)]
        kafka.produce(topic("live"), [(None, record, None) for record in batch])
        live_rows.extend([str(r["id"]), r["name"]] for r in batch)

    def live_delivered(results: Results, what: str, timeout: float = 60) -> None:
        """The SELECT's results reach every live row, each exactly once (never more)."""
        expected = multiset(live_rows)

        def done(changes: list[dict]) -> bool:
            seen = materialize(changes)
            check(not (seen - expected), f"{what}: {difference(seen, expected)}")
            return seen == expected

        results.until(done, what, timeout)

    def unbounded_select() -> None:
        need(state, "ddl")
        floe = flink()
        produce_live(3)
        name = floe.submit("SELECT id, name FROM live")
        doc = floe.wait(name, {"RUNNING"}, 60)
        results = Results(floe, name)
        live_delivered(results, "the rows written before the SELECT")
        produce_live(4)
        live_delivered(results, "rows written while the SELECT runs")
        job = statement_job(floe, name, {"RUNNING"}, "the unbounded SELECT")
        # The same traits as the embedded engine gives the same statement.
        other = embedded()
        reference = other.submit("SELECT id, name FROM live")
        try:
            reference_doc = other.wait(reference, {"RUNNING"})
        finally:
            other.delete(reference)
        check(doc["status"]["traits"] == reference_doc["status"]["traits"],
              f"traits on Flink: {json.dumps(doc['status']['traits'])}\n"
              f"  on the embedded engine: {json.dumps(reference_doc['status']['traits'])}")
        state["live"] = (name, results, job["jid"])

    # ------------------------------------------------------------------------------------------------ INSERT
    src_records: list[dict] = []

    def produce_src(n: int) -> None:
        first = len(src_records)
        batch = [{"id": first + i, "name": f"n{first + i}", "amount": (first + i) * 7 % 10} for i in range(n)]
        kafka.produce(topic("src"), [(None, record, None) for record in batch])
        src_records.extend(batch)

    def sink_expected() -> Counter:
        return Counter(tuple(sorted({"id": r["id"], "name": r["name"], "doubled": r["amount"] * 2}.items()))
                       for r in src_records if r["amount"] % 3 != 0)

    def sink_exact(what: str, timeout: float = 60) -> None:
        """The sink's committed records become exactly the expected ones (never more on the way), and stay so over
        two more checkpoints."""
        deadline = time.monotonic() + timeout
        while (seen := kafka.values(topic("sink"))) != sink_expected():
            check(not (seen - sink_expected()), f"{what}: {difference(seen, sink_expected())}")
            check(time.monotonic() < deadline, f"{what}, in {timeout:.0f}s: {difference(seen, sink_expected())}")
            time.sleep(0.5)
        time.sleep(4.5)
        seen = kafka.values(topic("sink"))
        check(seen == sink_expected(), f"{what}, after two more checkpoints: {difference(seen, sink_expected())}")

    def insert() -> None:
        need(state, "ddl")
        floe = flink()
        produce_src(30)
        name = floe.submit("INSERT INTO sink SELECT id, name, amount * 2 FROM src WHERE amount % 3 <> 0")
        floe.wait(name, {"RUNNING"}, 60)
        job = statement_job(floe, name, {"RUNNING"}, "the INSERT")
        sink_exact("the sink after the first records")
        produce_src(20)
        sink_exact("the sink after more records")
        state["insert"] = (name, job["jid"])

    def latest_offsets() -> None:
        # As on Confluent Cloud, only a STOPPED statement shows its offsets (the embedded engine's checkpoint format:
        # topic -> `partition:P,offset:N`); the values are best effort, so only their shape and bound are checked.
        floe = flink()
        name, _, _ = need(state, "stopped")
        doc = floe.status(name)
        offsets = doc["status"].get("latest_offsets") or {}
        check(doc["status"]["phase"] == "STOPPED" and offsets, f"status.latest_offsets of the STOPPED INSERT: {doc['status']}")
        check(set(offsets) == {topic("src")}, f"status.latest_offsets names {sorted(offsets)}, not the source {topic('src')}")
        match = re.fullmatch(r"partition:0,offset:(\d+)", offsets[topic("src")])
        check(match and int(match.group(1)) <= len(src_records), f"status.latest_offsets: {offsets}")

    def stop() -> None:
        floe = flink()
        name, jid = need(state, "insert")
        before = set(os.listdir(SAVEPOINTS))
        floe.set_stopped(name)
        floe.wait(name, {"STOPPED"}, 60)
        wait_jobs(floe, name, lambda jobs: [(job["jid"], job["state"]) for job in jobs] == [(jid, "FINISHED")],
                  f"the stopped INSERT's one job {jid} FINISHED (stop with savepoint)")
        taken = sorted(set(os.listdir(SAVEPOINTS)) - before)
        check(len(taken) == 1 and taken[0].startswith("savepoint-"), f"savepoints taken by the stop: {taken}")
        held = kafka.values(topic("sink"))
        produce_src(25)
        time.sleep(3)
        check(kafka.values(topic("sink")) == held, "records written to the sink while the INSERT is STOPPED")
        state["stopped"] = (name, jid, taken[0])

    def resume() -> None:
        floe = flink()
        name, jid, savepoint = need(state, "stopped")
        floe.set_stopped(name, False)
        floe.wait(name, {"RUNNING"}, 60)
        jobs = wait_jobs(floe, name, lambda jobs: len(jobs) == 2 and jobs[1]["state"] == "RUNNING",
                         "the resumed INSERT: a second job RUNNING")
        check(jobs[0]["jid"] == jid, f"the first job is not the stopped one: {jobs}")
        resumed = jobs[1]["jid"]
        status, checkpoints, raw = jm("GET", f"/jobs/{resumed}/checkpoints")
        restored = ((checkpoints or {}).get("latest") or {}).get("restored") or {}
        check(status == 200 and restored.get("is_savepoint") is True and savepoint in (restored.get("external_path") or ""),
              f"the resumed job was not restored from {savepoint}: {raw[:600]}")
        sink_exact("the sink after the resumption")
        state["insert"] = (name, resumed)

    # ------------------------------------------------------------------------------------------------ restarts
    def restart(kill: bool) -> None:
        floe = flink()
        insert_name, insert_jid = need(state, "insert")
        select_name, results, select_jid = need(state, "live")
        jobs_before = {n: [job["jid"] for job in statement_jobs(floe, n)] for n in (insert_name, select_name)}
        if kill:
            server.kill()
        else:
            server.shutdown()
        produce_src(15)  # written while the server is down
        produce_live(3)
        server.start()
        for n, jid in ((insert_name, insert_jid), (select_name, select_jid)):
            floe.wait(n, {"RUNNING"}, 60)
            time.sleep(0.5)
            jobs = statement_jobs(floe, n)
            check([job["jid"] for job in jobs] == jobs_before[n],
                  f"{n}: jobs {[(job['jid'], job['state']) for job in jobs]} after the restart, before {jobs_before[n]}")
            check(jobs[-1]["jid"] == jid and jobs[-1]["state"] == "RUNNING", f"{n}: its job {jid} is not RUNNING: {jobs}")
        sink_exact("the sink after the restart")
        produce_live(2)
        live_delivered(results, "the unbounded SELECT's results after the restart")
        # Read anew from the start: every row once, none re-delivered by the re-attached run.
        fresh = Results(floe, select_name)
        live_delivered(fresh, "the unbounded SELECT's results read anew after the restart")
        produce_src(5)
        sink_exact("the sink after more records")
        for n in (insert_name, select_name):
            jobs = statement_jobs(floe, n)
            check([job["jid"] for job in jobs] == jobs_before[n] and jobs[-1]["state"] == "RUNNING",
                  f"{n}: jobs {[(job['jid'], job['state']) for job in jobs]} in the end, before {jobs_before[n]}")

    # ------------------------------------------------------------------------------------------------ DELETE
    def delete() -> None:
        floe = flink()
        for key in ("live", "insert"):
            entry = need(state, key)
            name, jid = entry[0], entry[-1]
            uid = floe.uid(name)
            floe.delete(name)
            deadline = time.monotonic() + 30
            while True:
                jobs = [job for job in jobs_named(f"floe-{uid}") if job["jid"] == jid]
                check(jobs, f"DELETE {name}: its job {jid} is gone from /jobs/overview")
                if jobs[0]["state"] == "CANCELED":
                    break
                check(time.monotonic() < deadline, f"DELETE {name}: its job {jid} is {jobs[0]['state']}, not CANCELED")
                time.sleep(0.3)
            while (status := floe.call("GET", f"{floe.statements()}/{name}")[0]) != 404:
                check(time.monotonic() < deadline, f"GET {name} after DELETE: HTTP {status}")
                time.sleep(0.3)

    steps.run("pools: engine flink in aws.us-east-1, embedded in aws.us-west-2", pools)
    steps.run("floe flink compute-pool describe shows the engine", describe)
    steps.run("DDL on the Flink pool: Floe's catalog, no Flink job", ddl)
    steps.run("bounded SELECT over VALUES: typed values as the embedded engine's", bounded_values)
    steps.run("values of more types encoded as the embedded engine's", encodings)
    steps.run("bounded SELECT over a kafka table and a view, as the embedded engine's", bounded_kafka)
    steps.run("failing statements: FAILED with the root cause, in detail and exceptions", failing)
    steps.run("embedded-only tables fail naming them", embedded_only)
    steps.run("unbounded SELECT delivers rows produced later", unbounded_select)
    steps.run("INSERT into an exactly-once kafka sink: exact records", insert)
    steps.run("stop with savepoint: STOPPED, nothing written while stopped", stop)
    steps.run("status.latest_offsets of the STOPPED INSERT", latest_offsets)
    steps.run("resume from the savepoint: a new job, every record once", resume)
    steps.run("graceful restart of floe serve: re-attached", restart, False)
    steps.run("kill -9 of floe serve: re-attached", restart, True)
    steps.run("DELETE cancels the jobs", delete)


if __name__ == "__main__":
    main()
