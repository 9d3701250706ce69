#!/usr/bin/env python3
"""Fuzzes every operation of Confluent's OpenAPI files that Floe serves, and the HTTP layer under them.

What it proves: whatever a client sends — valid requests (schemathesis' positive mode), requests that break the
schema (negative mode), with real ids of the bootstrap organization, environment and fixtures so requests reach the
handlers, or with random ids — Floe

* never answers 5xx,
* answers every 4xx/5xx with Confluent's error envelope: a JSON body (Content-Type application/json)
  ``{"errors":[{...}]}`` whose errors each carry ``status`` (the HTTP status, as a string) and ``detail``,
* answers every request within the per-request timeout (no hang),
* and is still alive and healthy (``GET /healthz`` 200) at the end.

A second part sends hand-made raw HTTP/1.1 requests that no OpenAPI generator produces (oversized header, URI and
body, malformed request lines, bad Content-Length and chunked encoding, missing or malformed credentials, deep JSON,
pipelining) with the same checks.

Operations come from org-v2, iam-v2 (users, service accounts, invitations), apikeys-v2, mds-v2 (role bindings),
fcpm-v2 and sql-v1 in $FLOE_OPENAPI_DIR. Operations Floe does not serve must still answer 404 in the envelope.

Environment: RELIABILITY_MODE=quick (default: derandomized, fixed examples per operation) or long (10x the
examples, random seed unless RELIABILITY_SEED is set); FLOE_BIN; FLOE_OPENAPI_DIR; RELIABILITY_FUZZ_EXAMPLES
overrides the examples per operation, generation mode and id variant.
"""
from __future__ import annotations

import base64
import collections
import json
import os
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))

from floe_harness import CheckFailed, FloeServer, Steps, check, exit_on_signals, start_or_exit  # noqa: E402

import requests  # noqa: E402
import schemathesis  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

MODE = os.environ.get("RELIABILITY_MODE", "quick")
LONG = MODE == "long"
EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "300" if LONG else "30"))
SEED = int(os.environ["RELIABILITY_SEED"]) if os.environ.get("RELIABILITY_SEED") else (
    random.SystemRandom().randrange(1 << 32) if LONG else None)
REQUEST_TIMEOUT = 15.0   # seconds: a response slower than this is a hang
SPECS = ["org-v2", "iam-v2", "apikeys-v2", "mds-v2", "fcpm-v2", "sql-v1"]
MAX_REPORTED = 12        # distinct failures printed per step


# --------------------------------------------------------------------------------------------------------------------
# Bookkeeping

@dataclass
class Failure:
    kind: str            # "5xx", "envelope", "no response", "slow"
    operation: str
    status: int | None
    reproducer: str
    detail: str


@dataclass
class Tally:
    sent: int = 0
    unsendable: int = 0              # requests the client library refused to build (e.g. non-Latin-1 header values)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    per_operation: collections.Counter = field(default_factory=collections.Counter)
    per_operation_status: collections.Counter = field(default_factory=collections.Counter)   # (operation, status)
    failures: list[Failure] = field(default_factory=list)
    max_latency: float = 0.0
    generation_notes: list[str] = field(default_factory=list)


TALLY = Tally()


def excerpt(data, limit: int = 300) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        text = data[:limit].decode("utf-8", errors="replace")
        more = len(data) > limit
    else:
        text = str(data)
        more = len(text) > limit
        text = text[:limit]
    return text + (f"… ({len(data)} bytes/chars)" if more else "")


def header(headers, name: str) -> str:
    """A header of a requests response (case-insensitive dict) or a schemathesis one (dict of lists, any case)."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return ", ".join(value) if isinstance(value, list) else str(value)
    return ""


def envelope_problem(status: int, content_type: str, body: bytes) -> str | None:
    """Why an error response is not Confluent's error envelope (None when it is)."""
    if not content_type.lower().startswith("application/json"):
        return f"Content-Type is {content_type!r}, not application/json"
    if not body:
        return "empty body"
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        return f"body is not JSON ({e})"
    if not isinstance(doc, dict) or not isinstance(doc.get("errors"), list) or not doc["errors"]:
        return "no non-empty 'errors' array"
    for error in doc["errors"]:
        if not isinstance(error, dict):
            return "an error is not an object"
        if not isinstance(error.get("detail"), str):
            return "an error lacks a string 'detail'"
        if "status" not in error:
            return "an error lacks 'status'"
        if str(error["status"]) != str(status):
            return f"an error's status {error['status']!r} is not the HTTP status {status}"
    return None


def judge(operation: str, status: int | None, content_type: str, body: bytes, elapsed: float, reproducer: str,
          error: str | None = None) -> list[Failure]:
    failures = []
    if status is None:
        failures.append(Failure("no response", operation, None, reproducer, error or "no response"))
        return failures
    if elapsed > REQUEST_TIMEOUT:
        failures.append(Failure("slow", operation, status, reproducer, f"answered after {elapsed:.1f}s"))
    if status >= 500:
        failures.append(Failure("5xx", operation, status, reproducer, excerpt(body)))
    if status >= 400:
        problem = envelope_problem(status, content_type, body)
        if problem:
            failures.append(Failure("envelope", operation, status, reproducer, f"{problem}; body: {excerpt(body, 200)!r}"))
    return failures


def report(failures: list[Failure]) -> str:
    """Distinct failures (by operation, kind, status), with the first reproducer of each and a count."""
    groups: dict[tuple, list[Failure]] = collections.OrderedDict()
    for f in failures:
        groups.setdefault((f.operation, f.kind, f.status), []).append(f)
    lines = []
    for (operation, kind, status), items in list(groups.items())[:MAX_REPORTED]:
        first = items[0]
        lines.append(f"  [{kind}] {operation} -> {status} (x{len(items)}): {first.detail}\n      reproducer: {first.reproducer}")
    if len(groups) > MAX_REPORTED:
        lines.append(f"  ... and {len(groups) - MAX_REPORTED} more distinct failures")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------------
# Fixtures: real ids for the "real" variant, and victims for DELETEs

@dataclass
class Fixtures:
    org: str
    env: str
    user: str
    api_key: str
    pool: str
    sa_owner: str
    sa_victim: str
    env_victim: str
    pool_victim: str
    key_victim: str
    rb_keep: str
    rb_victim: str
    stmt_target: str
    stmt_results: str
    stmt_victim: str


class Client:
    def __init__(self, server: FloeServer, key: str, secret: str):
        self.server = server
        self.session = requests.Session()
        self.auth_header = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.session.headers["Authorization"] = self.auth_header

    def url(self, path: str) -> str:
        return self.server.base_url + path

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 202), **kw):
        r = self.session.request(method, self.url(path), timeout=REQUEST_TIMEOUT, **kw)
        if r.status_code not in expect:
            raise CheckFailed(f"{method} {path} -> {r.status_code}: {excerpt(r.text)}")
        return r.json() if r.content else None


def make_fixtures(client: Client, server: FloeServer) -> Fixtures:
    b = server.bootstrap()
    c = client.call
    env_victim = c("POST", "/org/v2/environments", json={"display_name": "fuzz-victim"})["id"]
    sa_owner = c("POST", "/iam/v2/service-accounts", json={"display_name": "fuzz-owner", "description": "fuzz"})["id"]
    sa_victim = c("POST", "/iam/v2/service-accounts", json={"display_name": "fuzz-victim", "description": "fuzz"})["id"]
    crn = f"crn://confluent.cloud/organization={b.organization_id}/environment={b.environment_id}"
    rb_keep = c("POST", "/iam/v2/role-bindings", json={"principal": f"User:{sa_owner}", "role_name": "FlinkDeveloper",
                                                      "crn_pattern": crn})["id"]
    rb_victim = c("POST", "/iam/v2/role-bindings", json={"principal": f"User:{sa_victim}", "role_name": "FlinkDeveloper",
                                                        "crn_pattern": crn})["id"]
    key_victim = c("POST", "/iam/v2/api-keys", json={"spec": {"display_name": "fuzz-victim", "owner": {"id": sa_owner},
                                                              "resource": {"id": "cloud"}}})["id"]

    def pool(name):
        return c("POST", "/fcpm/v2/compute-pools", json={"spec": {
            "display_name": name, "cloud": "AWS", "region": "us-east-1", "max_cfu": 50,
            "environment": {"id": b.environment_id}}})["id"]
    main_pool, pool_victim = pool("fuzz-pool"), pool("fuzz-victim")
    deadline = time.monotonic() + 60
    while True:
        doc = c("GET", f"/fcpm/v2/compute-pools/{main_pool}", params={"environment": b.environment_id})
        if doc["status"]["phase"] == "PROVISIONED":
            break
        check(time.monotonic() < deadline, f"compute pool {main_pool} not PROVISIONED within 60s")
        time.sleep(0.2)
    statements = f"/sql/v1/organizations/{b.organization_id}/environments/{b.environment_id}/statements"
    for name, sql, props in (("fuzz-target", TARGET_SQL, {}),
                             ("fuzz-results", "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t (id, name)",
                              {"sql.snapshot.mode": "now"}),
                             ("fuzz-victim", "SELECT 1", {"sql.snapshot.mode": "now"})):
        c("POST", statements, json={"name": name, "spec": {"statement": sql, "compute_pool_id": main_pool,
                                                           "properties": props}})
    deadline = time.monotonic() + 60
    for name in ("fuzz-target", "fuzz-results", "fuzz-victim"):
        while c("GET", f"{statements}/{name}")["status"]["phase"] not in ("COMPLETED", "FAILED"):
            check(time.monotonic() < deadline, f"statement {name} did not finish within 60s")
            time.sleep(0.1)
    return Fixtures(org=b.organization_id, env=b.environment_id, user=b.user_id, api_key=b.api_key, pool=main_pool,
                    sa_owner=sa_owner, sa_victim=sa_victim, env_victim=env_victim, pool_victim=pool_victim,
                    key_victim=key_victim, rb_keep=rb_keep, rb_victim=rb_victim, stmt_target="fuzz-target",
                    stmt_results="fuzz-results", stmt_victim="fuzz-victim")


def real_path_parameters(op, fx: Fixtures) -> dict[str, str]:
    """Path parameters naming real resources: existing ones to read and change, victims to delete."""
    method, path = op.method.upper(), op.path
    names = {p.name for p in op.path_parameters}
    pp: dict[str, str] = {}
    if "organization_id" in names:
        pp["organization_id"] = fx.org
    if "environment_id" in names:
        pp["environment_id"] = fx.env
    if "statement_name" in names:
        pp["statement_name"] = fx.stmt_victim if method == "DELETE" else fx.stmt_target
    if path.endswith("/statements/{name}/results"):
        pp["name"] = fx.stmt_results
    if "id" in names:
        delete = method == "DELETE"
        if path.startswith("/org/v2/environments/"):
            pp["id"] = fx.env_victim if delete else fx.env
        elif path.startswith("/org/v2/organizations/"):
            pp["id"] = fx.org
        elif path.startswith("/iam/v2/users/") and not delete:   # never delete the admin
            pp["id"] = fx.user
        elif path.startswith("/iam/v2/service-accounts/"):
            pp["id"] = fx.sa_victim if delete else fx.sa_owner
        elif path.startswith("/iam/v2/api-keys/"):
            pp["id"] = fx.key_victim if delete else fx.api_key
        elif path.startswith("/iam/v2/role-bindings/"):
            pp["id"] = fx.rb_victim if delete else fx.rb_keep
        elif path.startswith("/fcpm/v2/compute-pools/"):
            pp["id"] = fx.pool_victim if delete else fx.pool
    return pp


def real_query(op, fx: Fixtures) -> dict[str, str]:
    names = {p.name for p in op.query}
    query = {}
    if "environment" in names:
        query["environment"] = fx.env
    if "crn_pattern" in names:
        query["crn_pattern"] = f"crn://confluent.cloud/organization={fx.org}/environment={fx.env}"
    return query


TARGET_SQL = "CREATE TABLE fuzz_target (id INT, name STRING)"
BOUNDED_SQL = ["SELECT 1", "SHOW TABLES", "SELECT * FROM fuzz_target", "CREATE TABLE IF NOT EXISTS fuzz_more (a BIGINT)",
               "INSERT INTO fuzz_target VALUES (1, 'x')", "SELECT COUNT(*) FROM (VALUES (1), (2)) AS t (a)",
               "DESCRIBE fuzz_target", "SELECT * FROM no_such_table"]


def realify(body, path: str, fx: Fixtures, rng: random.Random):
    """Puts real ids (environment, compute pool, owner, principal, CRN, region) into a generated positive body."""
    if not isinstance(body, dict):
        return body

    def walk(node, trail):
        if not isinstance(node, dict):
            return
        for key in list(node):
            value = node[key]
            if key == "environment":
                if isinstance(value, dict):
                    value["id"] = fx.env
                elif isinstance(value, str):
                    node[key] = fx.env
            elif key == "compute_pool_id":
                node[key] = fx.pool
            elif key == "owner" and isinstance(value, dict):
                value["id"] = fx.sa_owner
            elif key == "principal" and isinstance(value, str):
                node[key] = f"User:{fx.sa_owner}" if path.startswith("/iam/") else fx.sa_owner
            elif key == "crn_pattern":
                node[key] = f"crn://confluent.cloud/organization={fx.org}/environment={fx.env}"
            elif key == "cloud" and isinstance(value, str):
                node[key] = "AWS"
            elif key == "region" and isinstance(value, str):
                node[key] = "us-east-1"
            elif key == "max_cfu" and isinstance(value, int):
                node[key] = rng.choice([5, 10, 20, 30, 40, 50, value])
            elif key == "resource" and isinstance(value, dict):
                value["id"] = rng.choice(["cloud", "aws.us-east-1"])
                if value["id"] != "cloud":
                    value["environment"] = fx.env
            elif key == "role_name" and isinstance(value, str):
                node[key] = rng.choice(["FlinkDeveloper", "FlinkAdmin", "EnvironmentAdmin", "Assigner", value])
            elif key == "statement" and isinstance(value, str) and "spec" in trail:
                node[key] = rng.choice(BOUNDED_SQL + [value])
            elif key == "properties" and isinstance(value, dict) and "spec" in trail:
                value["sql.snapshot.mode"] = "now"   # never leave unbounded queries running
            walk(node[key], trail + (key,))
    walk(body, ())
    if path.endswith("/statements") and isinstance(body.get("spec"), dict) and rng.random() < 0.8:
        body["spec"]["compute_pool_id"] = fx.pool   # else Floe must pick a default pool (there are several)
    return body


# --------------------------------------------------------------------------------------------------------------------
# Schemathesis-driven fuzzing

NETWORK_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                  requests.exceptions.ChunkedEncodingError)


def reproducer_of(response_or_request, case) -> str:
    req = response_or_request.request if hasattr(response_or_request, "request") else response_or_request
    method = getattr(req, "method", case.method.upper())
    url = getattr(req, "url", case.formatted_path)
    body = getattr(req, "body", None)
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "user-agent")}
    extra = f" headers={excerpt(json.dumps(headers), 200)}" if headers else ""
    return f"{method} {excerpt(url, 400)}{extra} body={excerpt(body)!r}"


def send_case(case, client: Client, operation: str) -> None:
    start = time.monotonic()
    try:
        response = case.call(base_url=client.server.base_url, session=client.session,
                             headers={"Authorization": client.auth_header}, timeout=REQUEST_TIMEOUT)
    except NETWORK_ERRORS as e:
        TALLY.sent += 1
        TALLY.per_operation[operation] += 1
        req = getattr(e, "request", None)
        repro = reproducer_of(req, case) if req is not None else f"{case.method} {case.formatted_path}"
        TALLY.failures.append(Failure("no response", operation, None, repro, f"{type(e).__name__}: {excerpt(str(e), 200)}"))
        return
    except Exception as e:  # noqa: BLE001 - the client could not even build the request; not Floe's doing
        TALLY.unsendable += 1
        if len(TALLY.generation_notes) < 5:
            TALLY.generation_notes.append(f"{operation}: unsendable request ({type(e).__name__}: {excerpt(str(e), 120)})")
        return
    elapsed = time.monotonic() - start
    TALLY.sent += 1
    TALLY.per_operation[operation] += 1
    TALLY.statuses[response.status_code] += 1
    TALLY.per_operation_status[(operation, response.status_code)] += 1
    TALLY.max_latency = max(TALLY.max_latency, elapsed)
    TALLY.failures.extend(judge(operation, response.status_code, header(response.headers, "Content-Type"),
                                response.content, elapsed, reproducer_of(response, case)))


def variant_parameters(op, fx: Fixtures, variant: str) -> tuple[dict, dict]:
    """Fixed path and query parameters of an id variant: "real" (every id real: existing resources, victims for
    DELETE), "random" (organization and environment real, the resource ids generated) or "foreign" (all generated)."""
    if variant == "foreign":
        return {}, {}
    path_parameters = real_path_parameters(op, fx)
    if variant == "random":
        path_parameters = {k: v for k, v in path_parameters.items() if k in ("organization_id", "environment_id")}
    return path_parameters, real_query(op, fx)


def variants_of(op, fx: Fixtures) -> list[str]:
    real = real_path_parameters(op, fx)
    variants = ["real"]
    if any(p.name not in ("organization_id", "environment_id") for p in op.path_parameters):
        variants.append("random")
    if any(k in ("organization_id", "environment_id") for k in real) or real_query(op, fx):
        variants.append("foreign")
    return variants


def statement_version(client: Client, fx: Fixtures, name: str) -> str | None:
    try:
        r = client.session.get(client.url(f"/sql/v1/organizations/{fx.org}/environments/{fx.env}/statements/{name}"),
                               timeout=REQUEST_TIMEOUT)
        return r.json()["metadata"]["resource_version"] if r.status_code == 200 else None
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None


def fuzz_operation(op, client: Client, fx: Fixtures, mode: GenerationMode, variant: str) -> None:
    operation = f"{op.method.upper()} {op.path}"
    path_parameters, query = variant_parameters(op, fx, variant)
    rng = random.Random(f"{operation}/{mode.value}/{variant}/{SEED}")
    strategy = op.as_strategy(generation_mode=mode, path_parameters=path_parameters or None, query=query or None)
    examples = EXAMPLES if variant != "foreign" else max(5, EXAMPLES // 5)
    put_statement = op.method.upper() == "PUT" and op.path.endswith("/statements/{statement_name}")

    @settings(max_examples=examples, derandomize=SEED is None, database=None, deadline=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
              report_multiple_bugs=False)
    @given(case=strategy)
    def run(case):
        if variant == "real" and mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
            try:
                body = realify(case.body, op.path, fx, rng)
                if put_statement:
                    # Get past the optimistic-concurrency check so the update logic itself is fuzzed.
                    body.setdefault("metadata", {})["resource_version"] = statement_version(client, fx, fx.stmt_target)
                    body["name"] = fx.stmt_target
                    if rng.random() < 0.5 and isinstance(body.get("spec"), dict):
                        body["spec"]["statement"] = TARGET_SQL
                        body["spec"].pop("properties", None)
                case.body = body
            except Exception:  # noqa: BLE001 - a body we cannot walk stays as generated
                pass
        send_case(case, client, operation)

    if SEED is not None:
        run = seed(SEED)(run)
    try:
        run()
    except Exception as e:  # noqa: BLE001 - generation limits (unsatisfiable schemas) are notes, not failures
        TALLY.generation_notes.append(f"{operation} [{mode.value}, {variant} ids]: "
                                      f"{type(e).__name__}: {excerpt(str(e).splitlines()[0] if str(e) else '', 120)}")


def minimal_request(op, client: Client, fx: Fixtures) -> None:
    """One plain request per operation (real ids, `{}` body where one is expected), so every operation is hit even
    when its schema defeats the generator."""
    operation = f"{op.method.upper()} {op.path}"
    path = op.path
    for name, value in real_path_parameters(op, fx).items():
        path = path.replace("{" + name + "}", value)
    for p in op.path_parameters:
        path = path.replace("{" + p.name + "}", "fuzz-missing")
    kwargs = {"params": real_query(op, fx), "timeout": REQUEST_TIMEOUT}
    if op.method.upper() in ("POST", "PUT", "PATCH"):
        kwargs["json"] = [] if op.method.upper() == "PATCH" and path.startswith("/sql/") else {}
    start = time.monotonic()
    repro = f"{op.method.upper()} {path} params={kwargs['params']} body={kwargs.get('json')!r}"
    try:
        r = client.session.request(op.method.upper(), client.url(path), **kwargs)
    except NETWORK_ERRORS as e:
        TALLY.sent += 1
        TALLY.failures.append(Failure("no response", operation, None, repro, f"{type(e).__name__}: {e}"))
        return
    elapsed = time.monotonic() - start
    TALLY.sent += 1
    TALLY.per_operation[operation] += 1
    TALLY.statuses[r.status_code] += 1
    TALLY.per_operation_status[(operation, r.status_code)] += 1
    TALLY.max_latency = max(TALLY.max_latency, elapsed)
    TALLY.failures.extend(judge(operation, r.status_code, header(r.headers, "Content-Type"), r.content, elapsed, repro))


def fuzz_spec(spec: str, client: Client, fx: Fixtures, operations: dict) -> None:
    path = Path(os.environ["FLOE_OPENAPI_DIR"]) / f"{spec}-openapi.yaml"
    schema = schemathesis.openapi.from_path(str(path), config=schemathesis.Config())
    before_failures, before_sent = len(TALLY.failures), TALLY.sent
    ops = []
    for result in schema.get_all_operations():
        try:
            ops.append(result.ok())
        except Exception as e:  # noqa: BLE001
            TALLY.generation_notes.append(f"{spec}: operation not loadable: {excerpt(str(e), 160)}")
    for op in ops:
        operation = f"{op.method.upper()} {op.path}"
        operations[operation] = spec
        minimal_request(op, client, fx)
        for variant in variants_of(op, fx):
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz_operation(op, client, fx, mode, variant)
    new = TALLY.failures[before_failures:]
    print(f"   {spec}: {len(ops)} operations, {TALLY.sent - before_sent} requests, {len(new)} failed checks", flush=True)
    check(not new, f"{len(new)} responses broke the checks:\n{report(new)}")


# --------------------------------------------------------------------------------------------------------------------
# Raw HTTP probes

@dataclass
class RawResult:
    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None
    send_blocked: bool = False
    responses: list = field(default_factory=list)   # (status, headers, body) of every response read


def read_response(sock_file) -> tuple[int, dict, bytes] | None:
    line = sock_file.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        h = sock_file.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = sock_file.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(sock_file.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                sock_file.readline()
                break
            body += sock_file.read(size)
            sock_file.readline()
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = sock_file.read()
    return status, headers, body


def raw_exchange(port: int, data: bytes, expect_responses: int = 1, timeout: float = REQUEST_TIMEOUT) -> RawResult:
    """Sends `data` on one connection (from a thread, so a server that stops reading cannot block us) and reads
    `expect_responses` responses."""
    result = RawResult()
    start = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sent = threading.Event()

    def sender():
        try:
            sock.sendall(data)
        except OSError:
            pass   # the server closed or reset the connection: it did not leave us hanging
        sent.set()

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        f = sock.makefile("rb")
        for _ in range(expect_responses):
            response = read_response(f)
            if response is None:
                break
            result.responses.append(response)
    except (OSError, ValueError, IndexError) as e:
        result.error = f"{type(e).__name__}: {e}"
    result.elapsed = time.monotonic() - start
    if result.responses:
        result.status, result.headers, result.body = result.responses[0]
    elif result.error is None:
        result.error = "connection closed without a response"
    # The exchange is over only when the server has taken the whole request or closed the connection.
    remaining = max(0.0, timeout - (time.monotonic() - start))
    if not sent.wait(remaining):
        result.send_blocked = True
    try:
        sock.close()
    except OSError:
        pass
    thread.join(timeout=5)
    return result


class Probes:
    def __init__(self, server: FloeServer, fx: Fixtures, auth_header: str):
        self.server, self.fx, self.auth = server, fx, auth_header

    def request(self, method: str, target: str, headers: dict | None = None, body: bytes = b"",
                auth: bool = True, close: bool = True, content_length: bool = True) -> bytes:
        h = {"Host": f"127.0.0.1:{self.server.port}"}
        if auth:
            h["Authorization"] = self.auth
        if body and content_length:
            h["Content-Length"] = str(len(body))
            h.setdefault("Content-Type", "application/json")
        if close:
            h["Connection"] = "close"
        h.update(headers or {})
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
        return head.encode("latin-1") + body

    def run(self, name: str, data: bytes, expect: str = "error", responses: int = 1,
            repro: str = "") -> None:
        """expect: 'error' (a 4xx in the envelope), 'ok' (2xx) or 'any' (no 5xx; 4xx in the envelope)."""
        r = raw_exchange(self.server.port, data, expect_responses=responses)
        TALLY.sent += 1
        operation = f"raw: {name}"
        TALLY.per_operation[operation] += 1
        if r.status is not None:
            TALLY.statuses[r.status] += 1
        TALLY.max_latency = max(TALLY.max_latency, r.elapsed)
        repro = repro or excerpt(data, 160)
        failures = judge(operation, r.status, r.headers.get("content-type", ""), r.body, r.elapsed, repro, r.error)
        if r.send_blocked:
            failures.append(Failure("hang", operation, r.status, repro,
                                    f"after answering {r.status}, the server neither read the rest of the request nor "
                                    f"closed the connection for {REQUEST_TIMEOUT:.0f}s (a client sending the whole "
                                    f"request before reading hangs)"))
        if r.status is not None:
            if expect == "error" and not 400 <= r.status < 500:
                failures.append(Failure("status", operation, r.status, repro, f"expected a 4xx, got {r.status}"))
            if expect == "ok" and not 200 <= r.status < 300:
                failures.append(Failure("status", operation, r.status, repro, f"expected a 2xx, got {r.status}: {excerpt(r.body, 200)}"))
        if responses > 1 and len(r.responses) < responses:
            failures.append(Failure("pipelining", operation, r.status, repro,
                                    f"{len(r.responses)} of {responses} pipelined responses arrived ({r.error})"))
        for extra in r.responses[1:]:
            failures.extend(judge(operation, extra[0], extra[1].get("content-type", ""), extra[2], r.elapsed, repro))
        TALLY.failures.extend(failures)
        check(not failures, "\n" + report(failures))


PROMPT_EXCHANGE = 5.0   # seconds for a refused oversized upload to be over (answered, and read or cut off)
CLOSE_CLIENTS = 6


def probe_oversized_upload_with_close(p: Probes) -> None:
    """Clients that send the whole request before reading the answer (Python's http.client, hence requests) must get
    their 413 promptly: after answering a `Connection: close` request early, the server has to keep reading (RFC 9112
    9.6's staged close) or close the connection, not leave the client blocked in its send. Several clients at once,
    since the stall depends on timing."""
    sas = "/iam/v2/service-accounts"
    huge = b'{"display_name":"' + b"a" * (30 * 1024 * 1024) + b'"}'
    data = p.request("POST", sas, body=huge, close=True)
    results: list = [None] * CLOSE_CLIENTS

    def one(i):
        start = time.monotonic()
        r = raw_exchange(p.server.port, data)
        results[i] = (r, time.monotonic() - start)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(CLOSE_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    operation = "raw: body of 30 MiB with Connection: close"
    repro = (f"python3 -c \"import requests, time; t = time.time(); r = requests.post('$URL{sas}', auth=(KEY, SECRET), "
             f"data=b'x' * (30 << 20), headers={{'Content-Type': 'application/json', 'Connection': 'close'}}); "
             f"print(r.status_code, time.time() - t)\"  # run it a few times")
    failures = []
    for r, took in results:
        TALLY.sent += 1
        TALLY.per_operation[operation] += 1
        if r.status is not None:
            TALLY.statuses[r.status] += 1
        failures.extend(judge(operation, r.status, r.headers.get("content-type", ""), r.body, r.elapsed, repro, r.error))
        if r.send_blocked or took > PROMPT_EXCHANGE:
            failures.append(Failure("stall", operation, r.status, repro,
                                    f"answered {r.status} after {r.elapsed:.2f}s, but the exchange was over only after "
                                    f"{took:.1f}s{' (still blocked)' if r.send_blocked else ''}: the server stopped "
                                    f"reading the body without closing, so a client that sends the whole request "
                                    f"before reading waits that long for the answer (or times out first)"))
    TALLY.failures.extend(failures)
    times = ", ".join(f"{took:.2f}s" for _, took in results)
    check(not failures, f"{len(failures)} of {CLOSE_CLIENTS} exchanges (took {times}):\n{report(failures)}")


def probe_list(p: Probes):
    fx = p.fx
    envs, sas = "/org/v2/environments", "/iam/v2/service-accounts"
    big = 128 * 1024
    stmts = f"/sql/v1/organizations/{fx.org}/environments/{fx.env}/statements"
    deep = b"[" * 100_000 + b"]" * 100_000
    huge = b'{"display_name":"' + b"a" * (30 * 1024 * 1024) + b'"}'
    get = f"GET {envs} HTTP/1.1\r\nHost: x\r\nAuthorization: {p.auth}\r\n\r\n".encode()
    return [
        ("oversized header (128 KiB value)", lambda: p.request("GET", envs, {"X-Fuzz": "a" * big}), "error",
         f"curl -u KEY:SECRET -H \"X-Fuzz: $(head -c {big} /dev/zero | tr '\\0' a)\" $URL{envs}"),
        ("too many headers (2000)", lambda: p.request("GET", envs, {f"X-Fuzz-{i}": "v" for i in range(2000)}), "error",
         f"2000 'X-Fuzz-<i>: v' headers on GET {envs}"),
        ("oversized URI (128 KiB query)", lambda: p.request("GET", f"{envs}?page_token={'a' * big}"), "error",
         f"curl -u KEY:SECRET \"$URL{envs}?page_token=$(head -c {big} /dev/zero | tr '\\0' a)\""),
        ("oversized path (128 KiB segment)", lambda: p.request("GET", f"{sas}/{'a' * big}"), "error",
         f"curl -u KEY:SECRET $URL{sas}/<128 KiB of 'a'>"),
        ("malformed request line", lambda: b"\x00\x01\x02 garbage\r\n\r\n", "error", "printf '\\0\\1\\2 garbage\\r\\n\\r\\n' | nc HOST PORT"),
        ("unknown HTTP version", lambda: f"GET {envs} HTTP/9.9\r\nHost: x\r\n\r\n".encode(), "any",
         f"printf 'GET {envs} HTTP/9.9\\r\\nHost: x\\r\\n\\r\\n' | nc HOST PORT"),
        ("header line without colon", lambda: f"GET {envs} HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n".encode(), "error",
         f"printf 'GET {envs} HTTP/1.1\\r\\nHost: x\\r\\nNoColonHere\\r\\n\\r\\n' | nc HOST PORT"),
        ("non-numeric Content-Length", lambda: p.request("POST", sas, {"Content-Length": "abc"}, content_length=False),
         "error", f"POST {sas} with 'Content-Length: abc'"),
        ("invalid chunked body", lambda: p.request("POST", sas, {"Transfer-Encoding": "chunked", "Content-Type": "application/json"})
         + b"zz\r\n{}\r\n0\r\n\r\n", "error", f"POST {sas} with 'Transfer-Encoding: chunked' and chunk size 'zz'"),
        ("invalid JSON body", lambda: p.request("POST", sas, body=b"{nope"), "error",
         f"curl -u KEY:SECRET -d '{{nope' $URL{sas}"),
        ("JSON nested 100000 deep", lambda: p.request("POST", sas, body=deep), "error",
         f"POST {sas} with body '[' * 100000 + ']' * 100000"),
        ("JSON array instead of object", lambda: p.request("POST", stmts, body=b"[1,2,3]"), "error",
         f"curl -u KEY:SECRET -d '[1,2,3]' $URL{stmts}"),
        ("body of 30 MiB (keep-alive)", lambda: p.request("POST", sas, body=huge, close=False), "error",
         f"POST {sas} with a 30 MiB JSON body"),
        ("no credentials", lambda: p.request("GET", envs, auth=False), "error", f"curl $URL{envs}"),
        ("malformed Basic credentials", lambda: p.request("GET", envs, {"Authorization": "Basic !!!not-base64"}, auth=False),
         "error", f"curl -H 'Authorization: Basic !!!not-base64' $URL{envs}"),
        ("wrong secret", lambda: p.request("GET", envs, {"Authorization": "Basic " + base64.b64encode(
            f"{fx.api_key}:wrong".encode()).decode()}, auth=False), "error", f"curl -u KEY:wrong $URL{envs}"),
        ("bearer token", lambda: p.request("GET", envs, {"Authorization": "Bearer abc.def.ghi"}, auth=False), "error",
         f"curl -H 'Authorization: Bearer abc.def.ghi' $URL{envs}"),
        ("unknown path", lambda: p.request("GET", "/no/such/api"), "error", "curl -u KEY:SECRET $URL/no/such/api"),
        ("unsupported method", lambda: p.request("PUT", envs, body=b"{}"), "error", f"curl -u KEY:SECRET -X PUT -d '{{}}' $URL{envs}"),
        ("invalid percent-encoding", lambda: p.request("GET", f"{sas}/%zz%"), "error", f"curl -u KEY:SECRET '$URL{sas}/%zz%'"),
        ("percent-encoded non-UTF-8 id", lambda: p.request("GET", f"{sas}/%FF%FE"), "error", f"curl -u KEY:SECRET '$URL{sas}/%FF%FE'"),
        ("dot segments and encoded slashes", lambda: p.request("GET", f"{sas}/..%2F..%2Fhealthz"), "error",
         f"curl -u KEY:SECRET '$URL{sas}/..%2F..%2Fhealthz'"),
        ("bad page_token", lambda: p.request("GET", f"{envs}?page_token=%00%01notatoken"), "error",
         f"curl -u KEY:SECRET '$URL{envs}?page_token=%00%01notatoken'"),
        ("results page_token out of range", lambda: p.request("GET", f"{stmts}/{fx.stmt_results}/results?page_token=-5"),
         "error", f"curl -u KEY:SECRET '$URL{stmts}/{fx.stmt_results}/results?page_token=-5'"),
        ("HTTP/1.0 without Host", lambda: f"GET {envs} HTTP/1.0\r\nAuthorization: {p.auth}\r\n\r\n".encode(), "ok",
         f"printf 'GET {envs} HTTP/1.0\\r\\nAuthorization: Basic …\\r\\n\\r\\n' | nc HOST PORT"),
        ("three pipelined GETs", lambda: get * 2 + get.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"), "ok",
         f"three GET {envs} requests in one write"),
    ]


# --------------------------------------------------------------------------------------------------------------------

def main() -> None:
    exit_on_signals()
    steps = Steps(f"reliability: fuzz ({MODE} mode, {EXAMPLES} examples per operation/mode/id variant, "
                  f"seed {'derandomized' if SEED is None else SEED})")
    if not os.environ.get("FLOE_OPENAPI_DIR"):
        print("FAIL config: FLOE_OPENAPI_DIR is not set (run through tests/reliability/run.sh)", flush=True)
        print("0 passed, 1 failed", flush=True)
        sys.exit(2)
    started = time.monotonic()
    server = start_or_exit(FloeServer(label="fuzz"))   # rate limit off
    import atexit
    atexit.register(server.stop)
    print(f"floe {server.binary} at {server.base_url} (data dir {server.data_dir})", flush=True)
    client = Client(server, server.key, server.secret)
    fx = steps.run("setup: fixtures (pool, victims, statements)", make_fixtures, client, server)
    operations: dict[str, str] = {}
    if fx:
        for spec in SPECS:
            steps.run(f"fuzz {spec}", fuzz_spec, spec, client, fx, operations)
        probes = Probes(server, fx, client.auth_header)
        for name, build, expect, repro in probe_list(probes):
            responses = 3 if "pipelined" in name else 1
            steps.run(f"raw: {name}", probes.run, name, build(), expect, responses, repro)
        steps.run(f"raw: body of 30 MiB with Connection: close ({CLOSE_CLIENTS} clients) is over within "
                  f"{PROMPT_EXCHANGE:.0f}s", probe_oversized_upload_with_close, probes)

    def healthy():
        check(server.process is not None and server.process.poll() is None,
              f"the floe process is gone (exit {server.process.poll() if server.process else '?'}); log tail:\n{server.log_tail()}")
        r = requests.get(f"{server.base_url}/healthz", timeout=REQUEST_TIMEOUT)
        check(r.status_code == 200, f"GET /healthz -> {r.status_code}")
        r = client.session.get(client.url("/org/v2/environments"), timeout=REQUEST_TIMEOUT)
        check(r.status_code == 200, f"GET /org/v2/environments -> {r.status_code}: {excerpt(r.text)}")
    steps.run("server alive and healthy after fuzzing", healthy)

    for note in TALLY.generation_notes[:20]:
        print(f"note: {note}", flush=True)
    if len(TALLY.generation_notes) > 20:
        print(f"note: ... {len(TALLY.generation_notes) - 20} more generation notes", flush=True)
    if os.environ.get("RELIABILITY_VERBOSE") == "1":
        for op in operations:
            statuses = {status: n for (o, status), n in sorted(TALLY.per_operation_status.items()) if o == op}
            print(f"   {TALLY.per_operation[op]:5d} {op} {statuses}", flush=True)
    covered = sum(1 for op in operations if TALLY.per_operation[op] > 0)
    histogram = ", ".join(f"{status}: {n}" for status, n in sorted(TALLY.statuses.items()))
    kinds = collections.Counter(f.kind for f in TALLY.failures)
    print(f"FIGURES: mode={MODE} examples/variant={EXAMPLES} seed={'derandomized' if SEED is None else SEED} "
          f"requests sent={TALLY.sent} (unsendable skipped: {TALLY.unsendable}) "
          f"operations covered={covered}/{len(operations)} status histogram={{{histogram}}} "
          f"failed checks={len(TALLY.failures)} {dict(kinds)} max latency={TALLY.max_latency:.2f}s "
          f"wall time={time.monotonic() - started:.0f}s", flush=True)
    steps.finish()


if __name__ == "__main__":
    main()
