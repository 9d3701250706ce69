#!/usr/bin/env python3
"""sql/v1 statements: the real confluent-sql 0.7.0 driver through all its statement flows, plus raw-HTTP checks of
the statement wire contract (urllib, no client library in between).

Everything runs in an environment of its own (created here with the Cloud key of the bootstrap user), with compute
pools in aws.us-east-1 and a Flink API key scoped to that environment; confluent-sql connects with that Flink key.

Two kinds of checks:
* wire/API checks that need no SQL engine (shape, 201/202/404/409/400/401, paging, label selector, hidden label,
  PATCH/PUT/DELETE on a FAILED statement, dry run of invalid SQL, the client's error paths);
* `(engine)` checks that need the SQL engine to run statements (VALUES queries, DDL, INSERT, streaming cursor,
  changelog, type decoding, INFORMATION_SCHEMA, SHOW FUNCTIONS, views, POOL_EXHAUSTED). They carry `(engine)` in
  their step name and fail while the engine cannot run statements.

Every sql/v1 response seen (the raw ones and every one confluent-sql received, through an httpx event hook) is
validated against Confluent's sql-v1 OpenAPI file and against the shape the clients need (clients.md §1/§6: no
FAILING/DELETING phase, traits unless PENDING/FAILED, LogicalTypeRoot type names, string scalars in rows, absolute
`self`/`next` links, `next` of a listing ending in `?page_size=N&page_token=T`); the `stmt conformance:` steps at
the end report deviations once per operation and status.

Run by run.sh (which starts a server), or alone: `python statements_test.py` starts its own server (FLOE_BIN), or
attaches to COMPAT_FLOE_URL + COMPAT_FLOE_DATA_DIR. Prints PASS/FAIL per step and `N passed, M failed`.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import ssl
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import confluent_sql
from confluent_sql import (
    HIDDEN_LABEL,
    ComputePoolExhaustedError,
    ExecutionMode,
    NotSupportedError,
    Op,
    OperationalError,
    StatementNotFoundError,
)

from contract_test import envelope_problems
from floe_harness import CheckFailed, Steps, check, target_from_env
from spec_validation import SQL_SPECS, SpecRegistry

NOBODY = object()
DEFAULT = object()
REGION = "aws.us-east-1"
DATABASE = "compat_db"
VALUES_SQL = "SELECT * FROM (VALUES (1, 'alice'), (2, 'bob')) AS t(id, name)"
TYPES_SQL = ("SELECT 1, 'a', TRUE, CAST(1.5 AS DECIMAL(10,2)), CAST(2.5 AS DOUBLE), DATE '2024-01-02', "
             "TIMESTAMP '2024-01-02 03:04:05.678', CAST(NULL AS INT), ARRAY[1,2], MAP['k', 1], ROW(1, 'x')")
PHASES = {"PENDING", "RUNNING", "COMPLETED", "FAILED", "DEGRADED", "STOPPING", "STOPPED"}  # confluent-sql + cc-clients
TERMINAL = {"COMPLETED", "FAILED", "STOPPED"}
# LogicalTypeRoot spellings, the only type names both confluent-sql and the Table API accept (clients.md §1, §3, §6).
TYPE_ROOTS = {"CHAR", "VARCHAR", "BOOLEAN", "BINARY", "VARBINARY", "DECIMAL", "TINYINT", "SMALLINT", "INTEGER",
              "BIGINT", "FLOAT", "DOUBLE", "DATE", "TIME_WITHOUT_TIME_ZONE", "TIMESTAMP_WITHOUT_TIME_ZONE",
              "TIMESTAMP_WITH_LOCAL_TIME_ZONE", "INTERVAL_YEAR_MONTH", "INTERVAL_DAY_TIME", "ARRAY",
              "MULTISET", "MAP", "ROW", "NULL", "VARIANT"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# Departures of the published sql-v1 file from the wire every client relies on; not reported as deviations.
SPEC_ARTIFACTS = (
    # The 200/201 schemas add `spec.statement_name` to `required`, but sql.v1.StatementSpec defines no such property.
    "/spec: 'statement_name' is a required property",
    # sql.v1.StatementResult requires a top-level `data`, but defines (and clients read) `results.data`.
    "/: 'data' is a required property",
    # PUT documents "fails with a 409 Conflict if the Statement has changed" but lists no 409 response.
    "PUT /sql/v1/organizations/{organization_id}/environments/{environment_id}/statements/{statement_name} -> 409: "
    "status 409 is not declared",
)


def tag() -> str:
    return uuid.uuid4().hex[:8]


# --------------------------------------------------------------------------------------------------- shapes
def type_problems(t: Any, where: str) -> list[str]:
    if not isinstance(t, dict):
        return [f"{where}: type is not an object"]
    problems = []
    name = t.get("type")
    if name not in TYPE_ROOTS:
        problems.append(f"{where}.type {name!r} is not a LogicalTypeRoot name")
    if not isinstance(t.get("nullable"), bool):
        problems.append(f"{where}.nullable missing or not a boolean")
    needs = {"CHAR": ["length"], "VARCHAR": ["length"], "BINARY": ["length"], "VARBINARY": ["length"],
             "DECIMAL": ["precision", "scale"], "TIME_WITHOUT_TIME_ZONE": ["precision"],
             "TIMESTAMP_WITHOUT_TIME_ZONE": ["precision"], "TIMESTAMP_WITH_LOCAL_TIME_ZONE": ["precision"]}
    for member in needs.get(name, []):
        if not isinstance(t.get(member), int):
            problems.append(f"{where} ({name}) lacks integer {member}")
    if name in ("ARRAY", "MULTISET"):
        problems += type_problems(t.get("element_type"), f"{where}.element_type")
    if name == "MAP":
        problems += type_problems(t.get("key_type"), f"{where}.key_type")
        problems += type_problems(t.get("value_type"), f"{where}.value_type")
    if name == "ROW":
        fields = t.get("fields")
        if not isinstance(fields, list) or not fields:
            problems.append(f"{where} (ROW) lacks fields")
        else:
            for i, f in enumerate(fields):
                if not isinstance(f, dict) or not isinstance(f.get("name"), str):
                    problems.append(f"{where}.fields[{i}] lacks name")
                else:
                    problems += type_problems(f.get("field_type"), f"{where}.fields[{i}].field_type")
    return problems


def statement_problems(doc: Any, base: str) -> list[str]:
    """What confluent-sql / cc-clients / the Table API need of a Statement object (clients.md §1, §4, §6)."""
    if not isinstance(doc, dict):
        return ["statement is not a JSON object"]
    p = []
    if doc.get("api_version") != "sql/v1":
        p.append(f"api_version {doc.get('api_version')!r}")
    if doc.get("kind") != "Statement":
        p.append(f"kind {doc.get('kind')!r}")
    for k in ("name", "organization_id", "environment_id"):
        if not isinstance(doc.get(k), str) or not doc.get(k):
            p.append(f"{k} missing")
    md, spec, status = doc.get("metadata") or {}, doc.get("spec") or {}, doc.get("status") or {}
    expected_self = (f"{base}/sql/v1/organizations/{doc.get('organization_id')}/environments/"
                     f"{doc.get('environment_id')}/statements/{doc.get('name')}")
    if md.get("self") != expected_self:
        p.append(f"metadata.self {md.get('self')!r} != {expected_self!r}")
    for k in ("uid", "resource_version"):
        if not isinstance(md.get(k), str) or not md.get(k):
            p.append(f"metadata.{k} missing or not a non-empty string ({md.get(k)!r})")
    for k in ("created_at", "updated_at"):
        if not isinstance(md.get(k), str) or not RFC3339.match(md.get(k)):
            p.append(f"metadata.{k} {md.get(k)!r} is not RFC 3339")
    labels = md.get("labels")
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        p.append(f"metadata.labels {labels!r} is not a map of strings")
    if not isinstance(spec.get("statement"), str):
        p.append("spec.statement missing")
    props = spec.get("properties")
    if not isinstance(props, dict) or not all(isinstance(v, str) for v in props.values()):
        p.append(f"spec.properties {props!r} is not a map of strings")
    for k in ("compute_pool_id", "principal"):
        if not isinstance(spec.get(k), str):
            p.append(f"spec.{k} missing")
    if not isinstance(spec.get("stopped"), bool):
        p.append("spec.stopped missing or not a boolean")
    phase = status.get("phase")
    if phase not in PHASES:
        p.append(f"status.phase {phase!r} is not one the clients know ({sorted(PHASES)})")
    if not isinstance(status.get("detail"), str):
        p.append("status.detail missing")
    traits = status.get("traits")
    if phase not in ("PENDING", "FAILED") and not traits:
        p.append(f"status.traits missing in phase {phase} (confluent-sql raises)")
    if phase == "FAILED" and not status.get("detail"):
        p.append("FAILED without status.detail")
    if traits:
        if not isinstance(traits.get("sql_kind"), str) or not traits.get("sql_kind"):
            p.append("traits.sql_kind missing")
        for k in ("is_bounded", "is_append_only"):
            if not isinstance(traits.get(k), bool):
                p.append(f"traits.{k} missing or not a boolean")
        schema = traits.get("schema")
        if schema is not None:
            cols = schema.get("columns") if isinstance(schema, dict) else None
            if not isinstance(cols, list):
                p.append("traits.schema.columns is not a list")
            else:
                for i, c in enumerate(cols):
                    if not isinstance(c, dict) or not isinstance(c.get("name"), str):
                        p.append(f"schema.columns[{i}] lacks name")
                    else:
                        p += type_problems(c.get("type"), f"schema.columns[{i}]")
    for i, w in enumerate(status.get("warnings") or []):
        if not all(isinstance(w.get(k), str) for k in ("severity", "created_at", "reason", "message")):
            p.append(f"status.warnings[{i}] lacks severity/created_at/reason/message: {w}")
    scaling = status.get("scaling_status")
    if scaling is not None and scaling.get("scaling_state") not in (
            "OK", "PENDING_SCALE_DOWN", "PENDING_SCALE_UP", "POOL_EXHAUSTED"):
        p.append(f"scaling_status.scaling_state {scaling.get('scaling_state')!r}")
    return p


def row_value_problems(value: Any, where: str) -> list[str]:
    if value is None or isinstance(value, str):
        return []
    if isinstance(value, list):
        return [q for i, v in enumerate(value) for q in row_value_problems(v, f"{where}[{i}]")]
    return [f"{where} is {type(value).__name__} {value!r}: scalars must be JSON strings (or null)"]


def results_problems(doc: Any, base: str) -> list[str]:
    if not isinstance(doc, dict):
        return ["results body is not an object"]
    p = []
    if doc.get("api_version") != "sql/v1" or doc.get("kind") != "StatementResult":
        p.append(f"api_version/kind {doc.get('api_version')!r}/{doc.get('kind')!r}")
    md = doc.get("metadata") or {}
    if not str(md.get("self", "")).startswith(base + "/sql/v1/"):
        p.append(f"metadata.self {md.get('self')!r} is not absolute on {base}")
    if not isinstance(md.get("created_at"), str):
        p.append("metadata.created_at missing")
    nxt = md.get("next")
    if nxt and not (nxt.startswith(base + "/sql/v1/") and "page_token=" in nxt):
        p.append(f"metadata.next {nxt!r} is not an absolute URL with page_token=")
    data = (doc.get("results") or {}).get("data")
    if not isinstance(data, list):
        p.append("results.data is not a list (confluent-sql treats that as 'statement deleted')")
        return p
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("row"), list):
            p.append(f"results.data[{i}] lacks row")
            continue
        if item.get("op", 0) not in (0, 1, 2, 3):
            p.append(f"results.data[{i}].op {item.get('op')!r}")
        p += row_value_problems(item["row"], f"results.data[{i}].row")
    return p


def list_problems(doc: Any, base: str) -> list[str]:
    if not isinstance(doc, dict):
        return ["list body is not an object"]
    p = []
    if doc.get("api_version") != "sql/v1" or doc.get("kind") != "StatementList":
        p.append(f"api_version/kind {doc.get('api_version')!r}/{doc.get('kind')!r}")
    md = doc.get("metadata")
    if not isinstance(md, dict):
        return p + ["metadata missing (cc-clients reads metadata.next)"]
    nxt = md.get("next")
    if nxt and not re.match(re.escape(base) + r"/sql/v1/organizations/[^/]+/environments/[^/]+/statements"
                            r"\?page_size=\d+&page_token=[^&]+$", nxt):
        p.append(f"metadata.next {nxt!r} is not <abs>/statements?page_size=N&page_token=T (token last)")
    for i, item in enumerate(doc.get("data") or []):
        p += [f"data[{i}]: {q}" for q in statement_problems(item, base)]
    return p


# ---------------------------------------------------------------------------------------------------- http
@dataclass
class Resp:
    method: str
    url: str
    path: str
    status: int
    headers: dict
    text: str
    body: Any
    json_ok: bool
    elapsed: float = 0.0
    source: str = "http"
    problems: list[str] = field(default_factory=list)

    def where(self) -> str:
        return f"{self.method} {self.url}"

    def snippet(self) -> str:
        return self.text[:400].replace("\n", " ")


def inspect_response(resp: Resp, registry: SpecRegistry, base: str) -> None:
    """Spec + client-shape problems of one sql/v1 response (kept on the response, reported by conformance)."""
    if not resp.path.startswith("/sql/v1/"):
        return
    if resp.text and not resp.json_ok:
        resp.problems.append(f"body is not JSON: {resp.snippet()!r}")
    headers = {k.lower(): v for k, v in resp.headers.items()}
    if not headers.get("x-request-id"):
        resp.problems.append("no X-Request-Id header")
    if resp.text and resp.json_ok and not headers.get("content-type", "").startswith("application/json"):
        resp.problems.append(f"JSON body with Content-Type {headers.get('content-type')!r}")
    problems = registry.validate(resp.method, resp.path, resp.status, resp.body, bool(resp.text))
    resp.problems += [q for q in problems if not any(a in q for a in SPEC_ARTIFACTS)]
    if resp.status >= 400:
        resp.problems += envelope_problems(resp)
        return
    if not resp.json_ok:
        return
    if resp.path.endswith("/results"):
        resp.problems += results_problems(resp.body, base)
    elif resp.path.endswith("/statements") and resp.method == "GET":
        resp.problems += list_problems(resp.body, base)
    elif resp.path.endswith("/exceptions"):
        if not isinstance(resp.body.get("data"), list):
            resp.problems.append("exceptions data is not a list")
    elif resp.body is not None:
        resp.problems += statement_problems(resp.body, base)


class Http:
    """urllib with no proxies from the environment; records and inspects every response."""

    def __init__(self, base: str, registry: SpecRegistry, auth: tuple[str, str] | None, log: list[Resp]):
        self.base, self.registry, self.auth, self.log = base, registry, auth, log
        # An https run (run_all.py) names its test CA in COMPAT_CA_CERT (confluent-sql's httpx reads SSL_CERT_FILE).
        ca = os.environ.get("COMPAT_CA_CERT")
        context = ssl.create_default_context(cafile=ca) if ca else None
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPSHandler(context=context))

    def as_key(self, key: str, secret: str) -> "Http":
        return Http(self.base, self.registry, (key, secret), self.log)

    def call(self, method: str, target: str, body: Any = NOBODY, *, params: dict | None = None, auth: Any = DEFAULT,
             content_type: str | None = "application/json", raw: bytes | None = None, expect: Any = None,
             timeout: float = 30) -> Resp:
        url = target if target.startswith("http") else self.base + target
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        data = json.dumps(body).encode() if body is not NOBODY else raw
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None and content_type:
            req.add_header("Content-Type", content_type)
        credentials = self.auth if auth is DEFAULT else auth
        if credentials:
            req.add_header("Authorization", "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode())
        start = time.monotonic()
        try:
            with self.opener.open(req, timeout=timeout) as r:
                status, headers, text = r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            status, headers, text = e.code, dict(e.headers), e.read().decode()
        elapsed = time.monotonic() - start
        parsed, ok = None, False
        if text:
            try:
                parsed, ok = json.loads(text), True
            except ValueError:
                pass
        resp = Resp(method, url, urlsplit(url).path, status, headers, text, parsed, ok, elapsed)
        inspect_response(resp, self.registry, self.base)
        self.log.append(resp)
        if expect is not None:
            allowed = {expect} if isinstance(expect, int) else set(expect)
            if status not in allowed:
                raise CheckFailed(f"{method} {urlsplit(url).path}{'?' + urlsplit(url).query if urlsplit(url).query else ''}"
                                  f" -> HTTP {status}, expected {sorted(allowed)}: {resp.snippet()}")
        return resp


class ClientRecorder:
    """httpx event hooks on confluent-sql's Flink client: the requests it sent, and every response inspected."""

    def __init__(self, suite: "Statements"):
        self.suite = suite
        self.requests: list[tuple[str, str, bytes, dict]] = []

    def attach(self, conn) -> None:
        client = conn._get_flink_client()  # the driver's own httpx.Client (built lazily, reused for every call)
        client.event_hooks = {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request) -> None:
        self.requests.append((request.method, str(request.url), request.content, dict(request.headers)))

    def on_response(self, response) -> None:
        response.read()
        text = response.text
        parsed, ok = None, False
        if text:
            try:
                parsed, ok = json.loads(text), True
            except ValueError:
                pass
        url = str(response.request.url)
        resp = Resp(response.request.method, url, urlsplit(url).path, response.status_code, dict(response.headers), text,
                    parsed, ok, source="confluent-sql")
        inspect_response(resp, self.suite.registry, self.suite.base)
        self.suite.log.append(resp)

    def since(self, mark: int) -> list[tuple[str, str, bytes, dict]]:
        return self.requests[mark:]


# --------------------------------------------------------------------------------------------------- suite
class Statements:
    def __init__(self, steps: Steps):
        self.steps = steps
        t = target_from_env("statements")
        self.base = t.base_url
        self.boot = t.bootstrap
        self.org = self.boot.organization_id
        self.registry = SpecRegistry(names=SQL_SPECS)
        self.log: list[Resp] = []
        self.admin = Http(self.base, self.registry, (self.boot.api_key, self.boot.api_secret), self.log)
        self.recorder = ClientRecorder(self)
        self.s: dict[str, Any] = {}
        self.conn = None

    # ---------------------------------------------------------------------------------------------- helpers
    def need(self, name: str) -> Any:
        if name not in self.s:
            raise CheckFailed(f"prerequisite '{name}' was not created by an earlier step")
        return self.s[name]

    def stmts(self, env: str | None = None) -> str:
        return f"/sql/v1/organizations/{self.org}/environments/{env or self.need('env')}/statements"

    def flink(self) -> Http:
        key, secret = self.need("flink_key")
        return self.admin.as_key(key, secret)

    def post(self, name: str, sql: str, *, pool: Any = DEFAULT, props: dict | None = None, labels: dict | None = None,
             api: Http | None = None, env: str | None = None, expect: Any = 201) -> Resp:
        spec: dict[str, Any] = {"statement": sql, "properties": {"sql.current-catalog": env or self.need("env"),
                                                               "sql.current-database": DATABASE, **(props or {})}}
        if pool is DEFAULT:
            pool = self.need("pool")
        if pool:
            spec["compute_pool_id"] = pool
        body: dict[str, Any] = {"name": name, "organization_id": self.org, "environment_id": env or self.need("env"),
                                "spec": spec}
        if labels:
            body["metadata"] = {"labels": labels}
        return (api or self.admin).call("POST", self.stmts(env), body, expect=expect)

    def get(self, name: str, expect: Any = 200) -> Resp:
        return self.admin.call("GET", f"{self.stmts()}/{name}", expect=expect)

    def delete(self, name: str) -> None:
        self.admin.call("DELETE", f"{self.stmts()}/{name}", expect=(202, 404))

    def wait_phase(self, name: str, wanted: set[str], timeout: float = 60, fail_on: set[str] | None = None,
                   also=None) -> dict:
        """Polls GET until the phase is in `wanted` (and `also(doc)` holds); raises on a phase in `fail_on`."""
        fail_on = {"FAILED", "COMPLETED", "STOPPED"} - wanted if fail_on is None else fail_on
        deadline = time.monotonic() + timeout
        doc = None
        while time.monotonic() < deadline:
            doc = self.get(name).body
            phase = doc["status"]["phase"]
            if phase in wanted and (also is None or also(doc)):
                return doc
            if phase in fail_on:
                raise CheckFailed(f"{name} reached {phase} (waiting for {sorted(wanted)}): "
                                  f"detail {doc['status'].get('detail')!r}")
            time.sleep(0.2)
        raise CheckFailed(f"{name} not in {sorted(wanted)} within {timeout:.0f}s; last status {doc and doc['status']}")

    def results(self, name: str, timeout: float = 60) -> tuple[list[dict], list[Resp]]:
        """Follows results `next` (verbatim, absolute) until it is empty; all changes, and the responses."""
        url, changes, pages = f"{self.stmts()}/{name}/results", [], []
        deadline = time.monotonic() + timeout
        while url:
            check(time.monotonic() < deadline, f"results of {name} still had a next link after {timeout:.0f}s")
            r = self.admin.call("GET", url, expect=200)
            pages.append(r)
            changes += r.body["results"]["data"]
            url = r.body["metadata"].get("next")
        return changes, pages

    def list_names(self, params: dict, api: Http | None = None, env: str | None = None) -> list[str]:
        names, r = [], (api or self.admin).call("GET", self.stmts(env), params={**params, "page_size": 100}, expect=200)
        for _ in range(50):
            names += [d["name"] for d in r.body["data"]]
            nxt = r.body["metadata"].get("next")
            if not nxt:
                return names
            r = (api or self.admin).call("GET", nxt, expect=200)
        raise CheckFailed("listing did not end")

    def connect(self, **overrides):
        key, secret = self.need("flink_key")
        kwargs = dict(endpoint=self.base, organization_id=self.org, environment_id=self.need("env"),
                      compute_pool_id=self.need("pool"), flink_api_key=key, flink_api_secret=secret,
                      database=DATABASE, http_timeout_secs=30)
        kwargs.update(overrides)
        conn = confluent_sql.connect(**kwargs)
        self.recorder.attach(conn)
        return conn

    def sql(self):
        if self.conn is None:
            raise CheckFailed("prerequisite 'confluent-sql connection' was not created by an earlier step")
        return self.conn

    def server_detail(self, name: str) -> str:
        return self.get(name).body["status"]["detail"]

    def sent_bodies(self, mark: int, method: str, suffix: str) -> list[dict]:
        return [json.loads(c) for m, u, c, _ in self.recorder.since(mark)
                if m == method and urlsplit(u).path.endswith(suffix) and c]

    # ------------------------------------------------------------------------------------------------ setup
    def setup(self):
        env = self.admin.call("POST", "/org/v2/environments", {"display_name": f"stmt-{tag()}"}, expect=201).body["id"]
        self.s["env"] = env
        other = self.admin.call("POST", "/org/v2/environments", {"display_name": f"stmt-other-{tag()}"}, expect=201).body["id"]
        self.s["env_b"] = other

        def pool(environment: str, region: str = "us-east-1") -> str:
            body = {"spec": {"display_name": f"stmt-{tag()}", "cloud": "AWS", "region": region, "max_cfu": 5,
                             "environment": {"id": environment}}}
            return self.admin.call("POST", "/fcpm/v2/compute-pools", body, expect=202).body["id"]

        self.s["pool"], self.s["pool_q"], self.s["pool_b"] = pool(env), pool(env), pool(other)
        deadline = time.monotonic() + 30
        for key, environment in (("pool", env), ("pool_q", env), ("pool_b", other)):
            while True:
                doc = self.admin.call("GET", f"/fcpm/v2/compute-pools/{self.s[key]}", params={"environment": environment},
                                      expect=200).body
                if doc["status"]["phase"] == "PROVISIONED":
                    break
                check(time.monotonic() < deadline, f"pool {self.s[key]} not PROVISIONED after 30s: {doc['status']}")
                time.sleep(0.1)

        def flink_key(region: str) -> tuple[str, str]:
            body = {"spec": {"display_name": f"stmt-{region}-{tag()}", "description": "statements suite",
                             "owner": {"id": self.boot.user_id}, "resource": {"id": region, "environment": env}}}
            doc = self.admin.call("POST", "/iam/v2/api-keys", body, expect=202).body
            return doc["id"], doc["spec"]["secret"]

        self.s["flink_key"] = flink_key(REGION)
        self.s["flink_key_west"] = flink_key("aws.us-west-2")

    def client_connect(self):
        self.conn = self.connect()
        check(confluent_sql.__version__ == "0.7.0", f"confluent-sql {confluent_sql.__version__}, expected 0.7.0")

    # ------------------------------------------------------------------------------------ raw HTTP, no engine
    def http_create(self):
        name = f"stmt-create-{tag()}"
        labels = {"user.confluent.io/compat": "true"}
        r = self.post(name, "SELECT 1", props={"x.flag": True, "x.count": 3}, labels=labels, api=self.flink())
        doc = r.body
        check(r.headers.get("Location") == doc["metadata"]["self"],
              f"Location {r.headers.get('Location')!r} != metadata.self {doc['metadata']['self']!r}")
        check(doc["status"]["phase"] == "PENDING", f"POST answered phase {doc['status']['phase']}, expected PENDING")
        check(not doc["status"].get("traits"), f"traits in PENDING: {doc['status'].get('traits')}")
        check(doc["name"] == name and doc["organization_id"] == self.org and doc["environment_id"] == self.s["env"],
              f"identity {doc['name']}/{doc['organization_id']}/{doc['environment_id']}")
        spec = doc["spec"]
        check(spec["statement"] == "SELECT 1" and spec["compute_pool_id"] == self.s["pool"] and spec["stopped"] is False,
              f"spec {spec}")
        check(spec["properties"].get("x.flag") == "true" and spec["properties"].get("x.count") == "3",
              f"bool/int property values not kept as strings: {spec['properties']}")
        check(spec["properties"].get("sql.current-catalog") == self.s["env"], f"properties {spec['properties']}")
        check(spec["principal"] == self.boot.user_id, f"principal {spec['principal']!r}, expected the key owner")
        check(doc["metadata"]["labels"] == labels, f"labels {doc['metadata']['labels']}")
        self.s["created"] = (name, doc["metadata"]["uid"])

    def http_lifecycle(self):
        name, uid = self.need("created")
        seen: list[tuple[str, int]] = []
        deadline = time.monotonic() + 60
        while True:
            doc = self.get(name).body
            check(doc["metadata"]["uid"] == uid, "uid changed")
            state = (doc["status"]["phase"], int(doc["metadata"]["resource_version"]))
            if not seen or seen[-1] != state:
                seen.append(state)
            if state[0] in TERMINAL:
                break
            check(time.monotonic() < deadline, f"not terminal after 60s: {seen}")
            time.sleep(0.1)
        for (p1, v1), (p2, v2) in zip(seen, seen[1:]):
            check(v2 > v1 if p1 != p2 else v2 >= v1, f"resource_version did not grow with the phase: {seen}")
        self.s["created_final"] = doc

    def http_v1beta1(self):
        name, uid = self.need("created")
        path = self.stmts().replace("/sql/v1/", "/sql/v1beta1/")
        doc = self.admin.call("GET", f"{path}/{name}", expect=200).body
        check(doc["name"] == name and doc["metadata"]["uid"] == uid, f"v1beta1 GET returned {doc.get('name')}")
        listed = self.admin.call("GET", path, params={"page_size": 100}, expect=200).body
        check(name in [d["name"] for d in listed["data"]], "statement missing from the sql/v1beta1 listing")

    def http_not_found(self):
        missing = f"stmt-missing-{tag()}"
        base = f"{self.stmts()}/{missing}"
        for method, target, body in (("GET", base, NOBODY), ("GET", base + "/results", NOBODY),
                                     ("GET", base + "/exceptions", NOBODY), ("DELETE", base, NOBODY),
                                     ("PATCH", base, [{"op": "replace", "path": "/spec/stopped", "value": True}]),
                                     ("PUT", base, {"metadata": {"resource_version": "1"}, "spec": {"stopped": True}})):
            r = self.admin.call(method, target, body, expect=404)
            check(not envelope_problems(r), f"{method} {target}: {envelope_problems(r)}")
        self.admin.call("GET", f"/sql/v1/organizations/{self.org}/environments/env-nothere/statements", expect=404)

    def http_duplicate(self):
        name, uid = self.need("created")
        before = self.get(name).body
        r = self.post(name, "SELECT 2", expect=409)
        check(not envelope_problems(r) and r.body["errors"][0]["detail"], f"409 body {r.snippet()}")
        after = self.get(name).body
        check(after["metadata"]["uid"] == uid and after["spec"]["statement"] == before["spec"]["statement"]
              and after["metadata"]["resource_version"] == before["metadata"]["resource_version"],
              "the existing statement changed after a refused duplicate")

    def http_bad_requests(self):
        env = self.need("env")
        cases = [
            ("no name", {"spec": {"statement": "SELECT 1", "compute_pool_id": self.need("pool")}}),
            ("no spec.statement", {"name": f"stmt-nosql-{tag()}", "spec": {"compute_pool_id": self.need("pool")}}),
            ("upper-case name", {"name": f"Stmt_Bad_{tag()}", "spec": {"statement": "SELECT 1"}}),
            ("name of 101 chars", {"name": "a" * 101, "spec": {"statement": "SELECT 1"}}),
            ("properties not an object", {"name": f"stmt-props-{tag()}", "spec": {"statement": "SELECT 1", "properties": "x"}}),
            ("not JSON", None),
        ]
        for label, body in cases:
            if body is None:
                r = self.admin.call("POST", self.stmts(), raw=b"{not json", expect=(400, 422))
            else:
                r = self.admin.call("POST", self.stmts(), body, expect=(400, 422))
            check(not envelope_problems(r), f"{label}: {envelope_problems(r)}")
            if body and body.get("name"):
                self.admin.call("GET", f"{self.stmts()}/{body['name']}", expect=(404, 400))
        check(env == self.s["env"], "environment changed")

    def http_client_bodies(self):
        # cc-clients: no Content-Type, read-only members present as null; utf-8 charset; a leading comment (dbt).
        name = f"stmt-nulls-{tag()}"
        body = {"api_version": None, "kind": None, "metadata": None, "name": name, "organization_id": self.org,
                "environment_id": self.s["env"], "spec": {"statement": "SELECT 1", "properties": {},
                                                          "compute_pool_id": self.need("pool"), "principal": None,
                                                          "stopped": False}, "status": None, "result": None}
        r = self.admin.call("POST", self.stmts(), raw=json.dumps(body).encode(), content_type=None, expect=(200, 201))
        check(r.body["name"] == name and r.body["spec"]["principal"], f"{r.snippet()}")
        name2 = f"stmt-charset-{tag()}"
        self.admin.call("POST", self.stmts(), {"name": name2, "spec": {"statement": "/* {\"app\": \"dbt\"} */ SELECT 1",
                                                                        "compute_pool_id": self.need("pool")}},
                        content_type="application/json; charset=utf-8", expect=(200, 201))
        for n in (name, name2):
            self.delete(n)

    def http_failed(self):
        name = f"stmt-failed-{tag()}"
        self.post(name, "SELEC 1", expect=(200, 201))
        doc = self.wait_phase(name, {"FAILED"}, timeout=30)
        detail = doc["status"]["detail"]
        check(detail, "FAILED without status.detail")
        check(not doc["status"].get("traits"), f"FAILED statement carries traits {doc['status'].get('traits')}")
        ex = self.admin.call("GET", f"{self.stmts()}/{name}/exceptions", expect=200).body
        check(ex.get("kind") == "StatementExceptionList" and ex["data"], f"exceptions: {ex}")
        first = ex["data"][0]
        check(first.get("kind") == "StatementException" and first.get("name") and first.get("message")
              and RFC3339.match(first.get("timestamp", "")), f"exception entry {first}")
        res = self.admin.call("GET", f"{self.stmts()}/{name}/results", expect=200).body
        check(res["results"]["data"] == [] and not res["metadata"].get("next"),
              f"results of a FAILED statement must be empty and final: {res}")
        self.s["failed"] = name

    def http_patch_failed(self):
        name = self.need("failed")
        before = self.get(name).body
        r = self.admin.call("PATCH", f"{self.stmts()}/{name}", [{"op": "replace", "path": "/spec/stopped", "value": True}],
                            content_type="application/json-patch+json", expect=200)
        check(r.body["spec"]["stopped"] is True, f"PATCH response spec.stopped {r.body['spec']['stopped']}")
        check(r.body["metadata"]["uid"] == before["metadata"]["uid"], "uid changed")
        check(r.body["status"]["phase"] in ("FAILED", "STOPPED"), f"phase after stop {r.body['status']['phase']}")
        # cc-clients: upper-case op, no Content-Type, on a second FAILED statement
        other = f"stmt-failed2-{tag()}"
        self.post(other, "SELEC 2", expect=(200, 201))
        self.wait_phase(other, {"FAILED"}, timeout=30)
        r = self.admin.call("PATCH", f"{self.stmts()}/{other}",
                            raw=json.dumps([{"path": "/spec/stopped", "value": True, "op": "REPLACE"}]).encode(),
                            content_type=None, expect=200)
        check(r.body["spec"]["stopped"] is True, "upper-case REPLACE did not stop")
        # an immutable member through PATCH: refused, unchanged
        snap = self.get(other).body
        self.admin.call("PATCH", f"{self.stmts()}/{other}", [{"op": "replace", "path": "/spec/statement", "value": "SELECT 3"}],
                        content_type="application/json-patch+json", expect=(400, 422))
        check(self.get(other).body == snap, "statement changed by a refused PATCH")
        self.delete(other)

    def http_put_failed(self):
        name = f"stmt-put-{tag()}"
        self.post(name, "SELEC 3", expect=(200, 201))
        self.wait_phase(name, {"FAILED"}, timeout=30)
        current = self.get(name).body
        version = current["metadata"]["resource_version"]
        desired = json.loads(json.dumps(current))
        desired["spec"]["stopped"] = True
        r = self.admin.call("PUT", f"{self.stmts()}/{name}", desired, expect=202)
        check(r.body and r.body.get("name") == name, f"PUT 202 without the statement: {r.snippet()}")
        check(r.body["spec"]["stopped"] is True, "PUT did not apply spec.stopped")
        check(r.body["metadata"]["resource_version"] == version,
              f"PUT changed resource_version {version} -> {r.body['metadata']['resource_version']} (cc-clients needs equality)")
        after = self.get(name).body
        check(after["spec"]["stopped"] is True, "GET after PUT: not stopped")
        # {metadata, spec} form (Table API), changing labels
        labels = {"user.confluent.io/put": "true"}
        r = self.admin.call("PUT", f"{self.stmts()}/{name}",
                            {"metadata": {"resource_version": after["metadata"]["resource_version"], "labels": labels},
                             "spec": after["spec"]}, expect=202)
        check(r.body["metadata"]["labels"] == labels, f"labels after PUT {r.body['metadata']['labels']}")
        snap = self.get(name).body
        v = int(snap["metadata"]["resource_version"])
        stale = str(v - 1 if v > 1 else v + 1)
        r = self.admin.call("PUT", f"{self.stmts()}/{name}", {"metadata": {"resource_version": stale}, "spec": snap["spec"]},
                            expect=409)
        check(not envelope_problems(r), f"409 envelope: {envelope_problems(r)}")
        check(self.get(name).body == snap, "statement changed by a stale PUT")
        self.admin.call("PUT", f"{self.stmts()}/{name}", {"metadata": {}, "spec": snap["spec"]}, expect=(400, 422))
        changed = json.loads(json.dumps(snap))
        changed["spec"]["statement"] = "SELECT 42"
        self.admin.call("PUT", f"{self.stmts()}/{name}", changed, expect=(400, 422))
        check(self.get(name).body == snap, "statement changed by a refused PUT")
        self.s["put"] = name

    def http_delete(self):
        name = self.need("put")
        uid = self.get(name).body["metadata"]["uid"]
        r = self.admin.call("DELETE", f"{self.stmts()}/{name}", expect=202)
        check(not r.text, f"DELETE 202 with a body: {r.snippet()}")
        self.get(name, expect=404)
        self.admin.call("GET", f"{self.stmts()}/{name}/results", expect=404)
        self.admin.call("GET", f"{self.stmts()}/{name}/exceptions", expect=404)
        check(name not in self.list_names({}), "deleted statement still listed")
        self.admin.call("DELETE", f"{self.stmts()}/{name}", expect=404)
        again = self.post(name, "SELEC 4", expect=(200, 201)).body
        check(again["metadata"]["uid"] != uid, "name reuse returned the old statement")
        self.delete(name)

    def http_list(self):
        t = tag()
        label = f"user.confluent.io/list-{t}"
        names = [f"stmt-list-{t}-{i}" for i in range(3)]
        for n in names:
            self.post(n, "SELECT 1", labels={label: "true"})
        hidden = f"stmt-list-{t}-hidden"
        self.post(hidden, "SELECT 1", labels={label: "true", HIDDEN_LABEL: "true"})
        in_q = f"stmt-list-{t}-q"
        self.post(in_q, "SELECT 1", pool=self.need("pool_q"))
        # page_size=1 walk with the selector
        seen, url, params, pages = [], self.stmts(), {"label_selector": f"{label}=true", "page_size": 1}, 0
        while url:
            r = self.admin.call("GET", url, params=params, expect=200)
            params = None
            pages += 1
            check(len(r.body["data"]) <= 1, f"page_size=1 returned {len(r.body['data'])} items")
            seen += [d["name"] for d in r.body["data"]]
            url = r.body["metadata"].get("next")
            if url:
                check(re.search(r"\?page_size=1&page_token=[^&]+$", url), f"next {url!r}: want ?page_size=1&page_token=T")
                check(url.startswith(self.base + "/"), f"next {url!r} is not absolute on {self.base}")
            check(pages <= 10, f"listing did not end after 10 pages: {seen}")
        check(sorted(seen) == sorted(names), f"label walk saw {seen}, expected {names} (hidden excluded, no duplicates)")
        check(pages >= 3, f"3 items with page_size=1 came in {pages} pages")
        both = self.list_names({"label_selector": f"{label}=true,{HIDDEN_LABEL}=true"})
        check(both == [hidden], f"selector naming the hidden label: {both}")
        hidden_only = self.list_names({"label_selector": f"{HIDDEN_LABEL}=true"})
        check(hidden in hidden_only and not set(names) & set(hidden_only), f"hidden selector listed {hidden_only}")
        everything = self.list_names({})
        check(set(names) | {in_q} <= set(everything) and hidden not in everything,
              f"unfiltered listing: hidden present={hidden in everything}, missing {set(names) | {in_q} - set(everything)}")
        q = self.admin.call("GET", self.stmts(), params={"spec.compute_pool_id": self.need("pool_q"), "page_size": 100},
                            expect=200).body["data"]
        check(in_q in [d["name"] for d in q] and all(d["spec"]["compute_pool_id"] == self.need("pool_q") for d in q),
              f"spec.compute_pool_id filter: {[(d['name'], d['spec']['compute_pool_id']) for d in q]}")
        found = self.list_names({"statement_name_search_query": t, "time_ordered": "true"})
        check(sorted(found) == sorted(names + [in_q]), f"statement_name_search_query={t}: {found}")
        self.s["listed"] = names + [hidden, in_q]

    def http_auth(self):
        name, _ = self.need("created")
        target = f"{self.stmts()}/{name}"
        refused = [self.admin.call("GET", target, auth=None, expect=401),
                   self.admin.call("GET", target, auth=(self.boot.api_key, self.boot.api_secret[::-1]), expect=401)]
        key = self.flink()
        key.call("GET", target, expect=200)
        key.call("GET", self.stmts(), expect=200)
        refused.append(key.call("GET", self.stmts(self.need("env_b")), expect=401))
        west = self.admin.as_key(*self.need("flink_key_west"))
        refused.append(west.call("GET", target, expect=401))
        refused.append(west.call("GET", target + "/results", expect=401))
        refused.append(self.post(f"stmt-west-{tag()}", "SELECT 1", api=west, expect=401))
        for r in refused:
            check(not envelope_problems(r), f"{r.where()}: 401 envelope {envelope_problems(r)}")
            challenge = {k.lower(): v for k, v in r.headers.items()}.get("www-authenticate", "")
            check(challenge.lower().startswith("basic"), f"{r.where()}: 401 WWW-Authenticate {challenge!r}")

    def http_dry_run_invalid(self):
        name = f"stmt-dry-bad-{tag()}"
        r = self.post(name, "SELEC 1", props={"sql.dry-run": "true"}, expect=(200, 201))
        check(r.body["status"]["phase"] == "FAILED" and r.body["status"]["detail"], f"dry run of bad SQL: {r.body['status']}")
        self.get(name, expect=404)
        check(name not in self.list_names({}), "dry-run statement listed")

    def http_default_pool(self):
        env_b = self.need("env_b")
        name = f"stmt-default-{tag()}"
        r = self.post(name, "SELECT 1", pool=None, env=env_b, expect=201)
        check(r.body["spec"]["compute_pool_id"] == self.need("pool_b"),
              f"no compute_pool_id in an environment with one pool: got {r.body['spec']['compute_pool_id']!r}, "
              f"expected {self.need('pool_b')}")
        self.admin.call("DELETE", f"{self.stmts(env_b)}/{name}", expect=202)

    # -------------------------------------------------------------------------------- confluent-sql, no engine
    def sql_not_found(self):
        conn = self.sql()
        missing = f"stmt-missing-{tag()}"
        try:
            conn.get_statement(missing)
        except StatementNotFoundError as e:
            check(e.statement_name == missing, f"statement_name {e.statement_name!r}")
        else:
            raise CheckFailed("get_statement of a missing statement did not raise StatementNotFoundError")
        conn.delete_statement(missing)  # 404 tolerated
        try:
            conn.stop_statement(missing, wait_for_stopped=False)
        except StatementNotFoundError:
            pass
        else:
            raise CheckFailed("stop_statement of a missing statement did not raise StatementNotFoundError")

    def sql_failed_raises(self):
        conn = self.sql()
        name = f"stmt-sqlfail-{tag()}"
        mark = len(self.recorder.requests)
        try:
            with conn.closing_cursor() as cur:
                cur.execute("SELEC 1", statement_name=name, timeout=60)
        except OperationalError as e:
            message = str(e)
        else:
            raise CheckFailed("execute('SELEC 1') did not raise")
        sent = self.sent_bodies(mark, "POST", "/statements")
        check(len(sent) == 1, f"{len(sent)} POSTs")
        body = sent[0]
        props = body["spec"]["properties"]
        check(body["name"] == name and body["spec"]["compute_pool_id"] == self.need("pool")
              and props.get("sql.current-catalog") == self.need("env") and props.get("sql.current-database") == DATABASE
              and props.get("sql.snapshot.mode") == "now", f"body sent: {body}")
        check("parse" in message.lower() or "selec" in message.lower(),
              f"exception text carries no server detail: {message!r}")
        deletes = [u for m, u, _, _ in self.recorder.since(mark) if m == "DELETE"]
        check(deletes, "closing the cursor of a FAILED statement sent no DELETE")
        self.get(name, expect=404)

    def sql_duplicate(self):
        conn = self.sql()
        name = f"stmt-dup-{tag()}"
        self.post(name, "SELEC 1", expect=(200, 201))
        try:
            conn.cursor().execute("SELECT 1", statement_name=name, timeout=60)
        except OperationalError as e:
            check(e.http_status_code == 409, f"http_status_code {e.http_status_code}, expected 409: {e}")
            check("already exists" in str(e), f"409 detail not in the exception text: {e}")
        else:
            raise CheckFailed("a second statement with the same name was accepted")
        finally:
            self.delete(name)

    def sql_manage(self):
        conn = self.sql()
        t = tag()
        label = f"mgmt-{t}"
        names = [f"stmt-mgmt-{t}-{i}" for i in range(3)]
        cursors = []
        for n in names + [f"stmt-mgmt-{t}-hidden"]:
            labels = [label] + ([HIDDEN_LABEL] if n.endswith("hidden") else [])
            cur = conn.cursor()  # not closed: close() would delete the FAILED statement
            try:
                cur.execute("SELEC 1", statement_name=n, statement_labels=labels, timeout=60)
            except OperationalError:
                pass
            cursors.append(cur)
        hidden = f"stmt-mgmt-{t}-hidden"
        st = conn.get_statement(names[0])
        check(st.name == names[0] and st.end_user_labels == [label], f"labels {st.end_user_labels}")
        check(st.compute_pool_id == self.need("pool"), f"compute_pool_id {st.compute_pool_id}")
        check(st.properties.get("sql.current-catalog") == self.need("env") and st.properties.get("sql.snapshot.mode") == "now",
              f"properties {st.properties}")
        check(st.is_failed and st.status.get("detail"), f"phase {st.phase} detail {st.status.get('detail')!r}")
        mark = len(self.recorder.requests)
        listed = [s.name for s in conn.list_statements(label=label, page_size=1)]
        gets = [u for m, u, _, _ in self.recorder.since(mark) if m == "GET"]
        check(sorted(listed) == sorted(names), f"list_statements(label) -> {listed}, expected {names} (hidden excluded)")
        check(len(gets) >= 3 and all("page_token=" in u for u in gets[1:]), f"paging requests: {gets}")
        listed_hidden = [s.name for s in conn.list_statements(label="hidden")]
        check(hidden in listed_hidden, f"list_statements(label='hidden') lacks {hidden}: {listed_hidden}")
        by_name = sorted(s.name for s in conn.list_statements(name_contains=t))
        check(by_name == sorted(names), f"list_statements(name_contains) -> {by_name}")
        by_pool = [s.name for s in conn.list_statements(compute_pool_id=self.need("pool"))]
        check(set(names) <= set(by_pool), f"list_statements(compute_pool_id) lacks some of {names}")
        mark = len(self.recorder.requests)
        stopped = conn.stop_statement(names[0], wait_for_stopped=False)
        check(stopped.stop_requested, "stop_statement: spec.stopped not true in the PATCH response")
        patch = [(c, h) for m, _, c, h in self.recorder.since(mark) if m == "PATCH"]
        check(patch and json.loads(patch[0][0]) == [{"op": "replace", "path": "/spec/stopped", "value": True}]
              and patch[0][1].get("content-type") == "application/json-patch+json", f"PATCH sent: {patch}")
        final = conn.stop_statement(names[1], wait_for_stopped=True, timeout=30)
        check(final.phase.is_terminal and final.stop_requested, f"stop_statement(wait) -> {final.phase}")
        conn.delete_statement(names[0])
        try:
            conn.get_statement(names[0])
        except StatementNotFoundError:
            pass
        else:
            raise CheckFailed("get_statement after delete_statement did not raise StatementNotFoundError")
        left = [s.name for s in conn.list_statements(label=label)]
        check(sorted(left) == sorted(names[1:]), f"after delete: {left}")
        for cur in cursors:
            cur.close()  # FAILED/STOPPED are deletable: close() deletes them
        for n in names + [hidden]:
            self.get(n, expect=404)

    def sql_dry_run_invalid(self):
        try:
            self.sql().dry_run_statement("SELEC 1")
        except OperationalError as e:
            check(str(e).startswith("Dry-run failed:") and len(str(e)) > len("Dry-run failed: "),
                  f"dry-run error without the server's detail: {e}")
        else:
            raise CheckFailed("dry_run_statement('SELEC 1') did not raise")

    def sql_bad_credentials(self):
        conn = self.connect(flink_api_secret=self.need("flink_key")[1][::-1])
        try:
            conn.get_statement(f"stmt-any-{tag()}")
        except OperationalError as e:
            check(e.http_status_code == 401, f"http_status_code {e.http_status_code}, expected 401: {e}")
        else:
            raise CheckFailed("wrong secret accepted")
        finally:
            conn.close()

    # ------------------------------------------------------------------------------------------- engine steps
    def e_select_one(self):
        name = f"stmt-one-{tag()}"
        self.post(name, "SELECT 1", props={"sql.snapshot.mode": "now"})
        running_traits = []

        def note(doc):
            if doc["status"]["phase"] == "RUNNING":
                running_traits.append(doc["status"].get("traits"))
            return True
        doc = self.wait_phase(name, {"COMPLETED"}, fail_on={"FAILED", "STOPPED"}, also=note)
        traits = doc["status"]["traits"]
        check(traits["sql_kind"] == "SELECT" and traits["is_bounded"] is True and traits["is_append_only"] is True,
              f"traits {traits}")
        cols = traits["schema"]["columns"]
        check(len(cols) == 1 and cols[0]["type"]["type"] == "INTEGER" and cols[0]["type"]["nullable"] is False,
              f"schema {cols}")
        changes, pages = self.results(name)
        check([(c.get("op", 0), c["row"]) for c in changes] == [(0, ["1"])], f"results {changes}")
        check(all(p.body["metadata"].get("next") for p in pages[:-1]), "an intermediate page had no next")
        self.delete(name)

    def e_snapshot_values(self):
        conn = self.sql()
        name = f"stmt-values-{tag()}"
        mark = len(self.recorder.requests)
        with conn.closing_cursor() as cur:
            cur.execute(VALUES_SQL, statement_name=name, timeout=120)
            check([d[0] for d in cur.description] == ["id", "name"], f"description {cur.description}")
            rows = cur.fetchall()
            check(rows == [(1, "alice"), (2, "bob")], f"rows {rows!r}")
            seen_phase = cur.statement.phase.value
            check(seen_phase in ("RUNNING", "COMPLETED"), f"phase {cur.statement.phase}")
            check(self.get(name).body["spec"]["properties"].get("sql.snapshot.mode") == "now", "snapshot mode not stored")
        urls = [u for m, u, _, _ in self.recorder.since(mark) if m == "GET" and "/results" in u]
        check(urls, "no results request")
        # confluent-sql's close() deletes the statement only if the phase it last saw was terminal; an append-only
        # query is "ready" already while RUNNING, so which one it saw depends on timing (as on Confluent Cloud).
        deleted = any(m == "DELETE" for m, *_ in self.recorder.since(mark))
        if seen_phase == "COMPLETED":
            check(deleted, "closing the cursor of a COMPLETED statement sent no DELETE")
            self.get(name, expect=404)
        else:
            check(not deleted, "closing the cursor of a RUNNING statement sent a DELETE")
            final = self.wait_phase(name, {"COMPLETED"}, fail_on={"FAILED", "STOPPED"})
            check(final["status"]["traits"]["is_bounded"] is True, "a snapshot query must be bounded")
            self.delete(name)

    def e_dict_rows(self):
        with self.sql().closing_cursor(as_dict=True) as cur:
            cur.execute("SELECT 1 AS one", timeout=120)
            row = cur.fetchone()
            check(row == {"one": 1}, f"row {row!r}")
            check(cur.fetchone() is None, "more than one row")

    def e_dry_run(self):
        st = self.sql().dry_run_statement(VALUES_SQL)
        check(st.phase.value == "COMPLETED", f"phase {st.phase}")
        check(st.sql_kind == "SELECT" and st.is_bounded, f"traits {st.traits}")
        check([c.name for c in st.schema.columns] == ["id", "name"], f"schema {st.schema}")
        check(st.schema.columns[0].type.type_name == "INTEGER"
              and st.schema.columns[1].type.type_name in ("CHAR", "VARCHAR"), f"types {st.schema}")
        self.get(st.name, expect=404)
        check(st.name not in self.list_names({}), "dry-run statement stored")

    def e_ddl(self):
        conn = self.sql()
        # execute_snapshot_ddl closes its cursor, which deletes the statement: the returned Statement then reads
        # as the client-side phase DELETED, so the server's last phase is taken from status.
        st = conn.execute_snapshot_ddl(f"CREATE DATABASE IF NOT EXISTS {DATABASE}", timeout=120)
        check(st.status.get("phase") == "COMPLETED" and st.is_deleted, f"CREATE DATABASE -> {st.status}")
        for table, columns in (("events", "id INT, name STRING"), ("clicks", "name STRING"), ("quiet", "id INT")):
            st = conn.execute_snapshot_ddl(f"CREATE TABLE {table} ({columns})", timeout=120)
            check(st.status.get("phase") == "COMPLETED" and st.sql_kind == "CREATE_TABLE" and st.schema is None,
                  f"CREATE TABLE {table}: phase {st.status.get('phase')} kind {st.traits and st.sql_kind}")
            self.get(st.name, expect=404)  # deleted by the closing cursor
        self.s["tables"] = True

    def insert(self, sql: str) -> None:
        st = self.sql().execute_snapshot_ddl(sql, timeout=120)
        check(st.status.get("phase") == "COMPLETED", f"{sql} -> {st.status.get('phase')}")

    def e_insert_select(self):
        self.need("tables")
        self.insert("INSERT INTO events VALUES (1, 'alice'), (2, 'bob')")
        with self.sql().closing_cursor() as cur:
            cur.execute("SELECT id, name FROM events", timeout=120)
            rows = sorted(cur.fetchall())
        check(rows == [(1, "alice"), (2, "bob")], f"snapshot SELECT from table: {rows}")

    def e_streaming(self):
        self.need("tables")
        conn = self.sql()
        cur = conn.streaming_cursor()
        name = f"stmt-stream-{tag()}"
        try:
            cur.execute("SELECT id, name FROM events", statement_name=name, timeout=120)
            check(cur.statement.phase.value == "RUNNING" and cur.statement.is_bounded is False,
                  f"streaming statement {cur.statement.phase} bounded={cur.statement.is_bounded}")
            check("sql.snapshot.mode" not in self.get(name).body["spec"]["properties"], "streaming cursor sent snapshot mode")
            try:
                cur.fetchall()
            except NotSupportedError:
                pass
            else:
                raise CheckFailed("fetchall on an unbounded statement did not raise NotSupportedError")
            self.insert("INSERT INTO events VALUES (3, 'carol'), (4, 'dave'), (5, 'erin')")
            rows, deadline = [], time.monotonic() + 60
            while len({r[0] for r in rows} & {3, 4, 5}) < 3:
                check(time.monotonic() < deadline, f"streaming rows after 60s: {rows}")
                check(cur.may_have_results, "may_have_results false on a running unbounded statement")
                rows += cur.fetchmany(10)
            check({(3, "carol"), (4, "dave"), (5, "erin")} <= set(rows), f"rows {rows}")
            stopped = cur.stop_statement(wait_for_stopped=True, timeout=60)
            check(stopped.phase.value == "STOPPED", f"after stop_statement: {stopped.phase}")
        finally:
            cur.close()  # STOPPED is deletable: DELETE
        self.get(name, expect=404)

    def e_long_poll(self):
        self.need("tables")
        name = f"stmt-quiet-{tag()}"
        self.post(name, "SELECT id FROM quiet")
        try:
            self.wait_phase(name, {"RUNNING"})
            r = self.admin.call("GET", f"{self.stmts()}/{name}/results", expect=200)
            check(r.body["results"]["data"] == [], f"rows from an empty table: {r.body['results']['data']}")
            check(r.body["metadata"].get("next") and "page_token=0" in r.body["metadata"]["next"],
                  f"next {r.body['metadata'].get('next')!r} on a running statement without rows")
            check(0.5 <= r.elapsed <= 10, f"results answered in {r.elapsed:.2f}s, expected a ~1s long poll")
        finally:
            self.delete(name)
        self.admin.call("GET", f"{self.stmts()}/{name}/results", expect=404)

    def e_changelog(self):
        self.need("tables")
        cur = self.sql().streaming_cursor()
        name = f"stmt-groupby-{tag()}"
        state: dict[tuple, int] = {}
        ops: list[Op] = []

        def drain_until(expected: dict, label: str):
            deadline = time.monotonic() + 60
            while state != expected:
                check(time.monotonic() < deadline, f"{label}: changelog state {state} after 60s, expected {expected}")
                for change in cur.fetchmany(20):
                    ops.append(change.op)
                    key = tuple(change.row)
                    state[key] = state.get(key, 0) + (1 if change.op.treat_as_insert else -1)
                    if state[key] == 0:
                        del state[key]
        try:
            cur.execute("SELECT name, COUNT(*) AS c FROM clicks GROUP BY name", statement_name=name, timeout=120)
            check(cur.returns_changelog and not cur.statement.is_append_only,
                  f"GROUP BY statement append_only={cur.statement.is_append_only}")
            self.insert("INSERT INTO clicks VALUES ('a'), ('b')")
            drain_until({("a", 1): 1, ("b", 1): 1}, "after a, b")
            self.insert("INSERT INTO clicks VALUES ('a')")
            drain_until({("a", 2): 1, ("b", 1): 1}, "after a second a")
            check(any(op in (Op.UPDATE_BEFORE, Op.UPDATE_AFTER, Op.DELETE) for op in ops),
                  f"an aggregate changed but only {[str(o) for o in ops]} came")
        finally:
            try:
                cur.delete_statement()
            finally:
                cur.close()
        self.get(name, expect=404)

    def e_types(self):
        with self.sql().closing_cursor() as cur:
            cur.execute(TYPES_SQL, timeout=120)
            types = [(c.type.type_name, c.type.nullable) for c in cur.statement.schema.columns]
            row = cur.fetchone()
        expected_types = ["INTEGER", ("CHAR", "VARCHAR"), "BOOLEAN", "DECIMAL", "DOUBLE", "DATE",
                          "TIMESTAMP_WITHOUT_TIME_ZONE", "INTEGER", "ARRAY", "MAP", "ROW"]
        for i, (want, (got, _)) in enumerate(zip(expected_types, types)):
            check(got in (want if isinstance(want, tuple) else (want,)), f"column {i}: type {got}, expected {want}")
        check(types[7][1] is True, "CAST(NULL AS INT) column is not nullable")
        expected = [1, "a", True, Decimal("1.50"), 2.5, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5, 678000),
                    None, [1, 2], {"k": 1}, (1, "x")]
        check(row is not None and len(row) == len(expected), f"row {row!r}")
        for i, (want, got) in enumerate(zip(expected, row)):
            check(got == want and type(got) is type(want) or (isinstance(want, tuple) and tuple(got) == want),
                  f"column {i}: decoded {got!r} ({type(got).__name__}), expected {want!r} ({type(want).__name__})")
        check(str(row[3]) == "1.50", f"DECIMAL(10,2) decoded as {row[3]!r}, expected scale 2")
        # the same row on the wire: every scalar a string, NULL null, MAP pairs, ROW positional
        name = f"stmt-types-{tag()}"
        self.post(name, TYPES_SQL, props={"sql.snapshot.mode": "now"})
        try:
            self.wait_phase(name, {"COMPLETED"}, fail_on={"FAILED", "STOPPED"})
            changes, _ = self.results(name)
            check(len(changes) == 1, f"{len(changes)} changes")
            wire = changes[0]["row"]
            want = ["1", "a", "TRUE", "1.50", "2.5", "2024-01-02", "2024-01-02 03:04:05.678", None, ["1", "2"],
                    [["k", "1"]], ["1", "x"]]
            check(wire == want, f"wire row {wire}, expected {want}")
        finally:
            self.delete(name)

    def e_information_schema(self):
        self.need("tables")
        env = self.need("env")
        conn = self.sql()

        def rows(sql: str, as_dict: bool = False) -> list:
            with conn.closing_cursor(as_dict=as_dict) as cur:
                cur.execute(sql, timeout=120)
                return cur.fetchall()
        schemata = rows(f"SELECT SCHEMA_NAME as schema FROM `{env}`.`INFORMATION_SCHEMA`.`SCHEMATA` "
                        f"WHERE `SCHEMA_NAME` <> 'INFORMATION_SCHEMA'")
        check((DATABASE,) in schemata, f"SCHEMATA: {schemata}")
        tables = rows(f"SELECT TABLE_CATALOG_ID as database, TABLE_NAME as name, TABLE_SCHEMA as schema, "
                      f"TABLE_TYPE as type FROM INFORMATION_SCHEMA.`TABLES` WHERE TABLE_CATALOG_ID = '{env}' "
                      f"AND TABLE_SCHEMA = '{DATABASE}'", as_dict=True)
        check({"database": env, "name": "events", "schema": DATABASE, "type": "BASE TABLE"} in tables, f"TABLES: {tables}")
        catalogs = rows("SELECT * FROM INFORMATION_SCHEMA.CATALOGS")
        check(any(env in r for r in catalogs), f"CATALOGS lacks {env}: {catalogs}")
        functions = [str(r[0]).upper() for r in rows("SHOW FUNCTIONS")]
        check({"COUNT", "UPPER"} <= set(functions), f"SHOW FUNCTIONS lacks COUNT/UPPER: {functions[:20]}")

    def e_views(self):
        self.need("tables")
        conn = self.sql()
        view = f"`{self.need('env')}`.`{DATABASE}`.`names_v`"
        st = conn.execute_snapshot_ddl(f"create view {view} as (SELECT name FROM events WHERE id < 3)", timeout=120)
        check(st.status.get("phase") == "COMPLETED" and st.sql_kind == "CREATE_VIEW", f"create view: {st.status}")
        with conn.closing_cursor() as cur:
            cur.execute(f"SELECT name FROM {view}", timeout=120)
            got = sorted(cur.fetchall())
        check(got == [("alice",), ("bob",)], f"rows through the view: {got}")
        for _ in range(2):  # the second one drops nothing and must still complete
            st = conn.execute_snapshot_ddl(f"drop view if exists {view}", timeout=120)
            check(st.status.get("phase") == "COMPLETED" and st.sql_kind == "DROP_VIEW", f"drop view if exists: {st.status}")

    def e_stop_resume(self):
        self.need("tables")
        name = f"stmt-stopsel-{tag()}"
        self.post(name, "SELECT id FROM events")
        try:
            self.wait_phase(name, {"RUNNING"})
            r = self.admin.call("PATCH", f"{self.stmts()}/{name}", [{"op": "replace", "path": "/spec/stopped", "value": True}],
                                content_type="application/json-patch+json", expect=200)
            check(r.body["spec"]["stopped"] is True and r.body["status"]["phase"] in ("RUNNING", "STOPPING", "STOPPED"),
                  f"PATCH stop -> {r.body['status']['phase']}")
            self.wait_phase(name, {"STOPPED"})
            self.admin.call("PATCH", f"{self.stmts()}/{name}", [{"op": "replace", "path": "/spec/stopped", "value": False}],
                            content_type="application/json-patch+json", expect=400)
        finally:
            self.delete(name)
        sink = f"stmt-sink-{tag()}"
        self.post(sink, "INSERT INTO quiet SELECT id FROM events")
        try:
            self.wait_phase(sink, {"RUNNING"})
            self.admin.call("PATCH", f"{self.stmts()}/{sink}", [{"op": "replace", "path": "/spec/stopped", "value": True}],
                            content_type="application/json-patch+json", expect=200)
            doc = self.wait_phase(sink, {"STOPPED"})
            put = json.loads(json.dumps(doc))
            put["spec"]["stopped"] = False
            self.admin.call("PUT", f"{self.stmts()}/{sink}", put, expect=202)
            self.wait_phase(sink, {"RUNNING"}, fail_on={"FAILED", "COMPLETED"})
        finally:
            self.delete(sink)

    def e_pool_exhausted(self):
        self.need("tables")
        pool = self.need("pool_q")
        running = [f"stmt-cfu-{tag()}-{i}" for i in range(5)]
        extra = f"stmt-cfu-extra-{tag()}"
        try:
            for n in running:
                self.post(n, "SELECT id FROM events", pool=pool)
            for n in running:
                self.wait_phase(n, {"RUNNING"})
            self.post(extra, "SELECT id FROM events", pool=pool)
            doc = self.wait_phase(extra, {"PENDING"},
                                  also=lambda d: (d["status"].get("scaling_status") or {}).get("scaling_state") == "POOL_EXHAUSTED",
                                  timeout=30, fail_on={"RUNNING", "FAILED"})
            check(any(w.get("reason") == "POOL_EXHAUSTED" for w in doc["status"].get("warnings") or []),
                  f"no POOL_EXHAUSTED warning: {doc['status'].get('warnings')}")
            name = f"stmt-cfu-client-{tag()}"
            cur = self.sql().streaming_cursor()
            try:
                cur.execute("SELECT id FROM events", statement_name=name, compute_pool_id=pool, timeout=60)
            except ComputePoolExhaustedError as e:
                check(e.statement_name == name and e.statement_deleted, f"deleted={e.statement_deleted}")
            else:
                raise CheckFailed("a 6th statement on a full pool did not raise ComputePoolExhaustedError")
            finally:
                cur.close()
            self.get(name, expect=404)
            self.delete(running.pop())  # frees one CFU: the waiting statement starts
            self.wait_phase(extra, {"RUNNING"})
        finally:
            for n in running + [extra]:
                self.delete(n)

    # ------------------------------------------------------------------------------------------ conformance
    def conformance(self):
        st = self.steps
        groups: dict[tuple, list[Resp]] = {}
        for r in self.log:
            op = self.registry.operation(r.method, r.path)
            if op is None:
                continue
            groups.setdefault((op.method.upper(), op.template.split("/environments/{environment_id}")[-1], r.status), []).append(r)

        def conforms(rs: list[Resp]):
            bad = [(r, p) for r in rs for p in r.problems]
            if bad:
                examples = "; ".join(f"[{r.source} {r.method} {urlsplit(r.url).path}] {p}" for r, p in bad[:3])
                raise CheckFailed(f"{len({id(r) for r, _ in bad})}/{len(rs)} responses deviate: {examples}")

        for (method, template, status), rs in sorted(groups.items()):
            sources = "+".join(sorted({r.source for r in rs}))
            st.run(f"stmt conformance: sql-v1 {method} {template} -> {status} ({len(rs)} responses, {sources})",
                   conforms, rs)

    # ------------------------------------------------------------------------------------------------- run
    def run(self):
        st = self.steps
        if not st.run("stmt setup: own environment, pools (us-east-1, PROVISIONED), Flink API keys", self.setup):
            return
        st.run("stmt setup: confluent-sql 0.7.0 connect(endpoint=http://..., Flink key)", self.client_connect)
        E = " (engine)"
        # raw HTTP, no engine needed
        st.run("stmt http POST -> 201 + Location, PENDING without traits, body echoed (bool/int properties as strings)",
               self.http_create)
        st.run("stmt http GET polls to a terminal phase; resource_version grows with each phase", self.http_lifecycle)
        st.run("stmt http the same statement under sql/v1beta1", self.http_v1beta1)
        st.run("stmt http unknown statement -> 404 on GET/results/exceptions/PATCH/PUT/DELETE; unknown environment -> 404",
               self.http_not_found)
        st.run("stmt http duplicate name -> 409 envelope, original unchanged", self.http_duplicate)
        st.run("stmt http malformed POSTs -> 400/422 envelope", self.http_bad_requests)
        st.run("stmt http POST without Content-Type with null read-only members (cc-clients), charset, leading comment",
               self.http_client_bodies)
        st.run("stmt http SELEC 1 -> FAILED with detail, no traits; exceptions listed; results empty and final",
               self.http_failed)
        st.run("stmt http PATCH stop on a FAILED statement (replace / REPLACE, any Content-Type); immutable member -> 400",
               self.http_patch_failed)
        st.run("stmt http PUT (full object and {metadata,spec}) -> 202, resource_version unchanged; stale -> 409",
               self.http_put_failed)
        st.run("stmt http DELETE -> 202 empty, then 404 everywhere; name reusable", self.http_delete)
        st.run("stmt http list: page_size=1 walk, label_selector, hidden label, spec.compute_pool_id, name search",
               self.http_list)
        st.run("stmt http auth: none/wrong -> 401; Flink key only in its environment and region", self.http_auth)
        st.run("stmt http dry run of invalid SQL -> FAILED in the POST response, not stored", self.http_dry_run_invalid)
        st.run("stmt http no compute_pool_id -> the environment's only pool", self.http_default_pool)
        # confluent-sql, no engine needed
        st.run("stmt sql get/delete/stop of a missing statement (StatementNotFoundError, 404 tolerated)", self.sql_not_found)
        st.run("stmt sql execute('SELEC 1') raises with the server detail; body sent; close() deletes", self.sql_failed_raises)
        st.run("stmt sql duplicate statement_name -> OperationalError(http_status_code=409)", self.sql_duplicate)
        st.run("stmt sql get_statement/list_statements(label, page_size=1, hidden, name, pool)/stop_statement/"
               "delete_statement", self.sql_manage)
        st.run("stmt sql dry_run_statement('SELEC 1') raises with the detail", self.sql_dry_run_invalid)
        st.run("stmt sql wrong secret -> OperationalError(401)", self.sql_bad_credentials)
        # needs the SQL engine
        st.run("stmt http SELECT 1: RUNNING with traits, COMPLETED, results [[\"1\"]] via next" + E, self.e_select_one)
        st.run("stmt sql snapshot VALUES: execute + fetchall, description, close() deletes" + E, self.e_snapshot_values)
        st.run("stmt sql dict rows: SELECT 1 AS one" + E, self.e_dict_rows)
        st.run("stmt sql dry_run_statement(VALUES): COMPLETED with schema, not stored" + E, self.e_dry_run)
        st.run("stmt sql DDL: CREATE DATABASE IF NOT EXISTS, CREATE TABLE x3 -> COMPLETED" + E, self.e_ddl)
        st.run("stmt sql INSERT INTO ... VALUES, then snapshot SELECT from the table" + E, self.e_insert_select)
        st.run("stmt sql streaming cursor: fetchmany while another statement INSERTs; stop -> STOPPED; close deletes" + E,
               self.e_streaming)
        st.run("stmt http results long poll on a RUNNING statement without rows" + E, self.e_long_poll)
        st.run("stmt sql GROUP BY changelog: -U/+U ops, compressed state" + E, self.e_changelog)
        st.run("stmt sql type decoding (INTEGER..ROW) and the wire encoding of the row" + E, self.e_types)
        st.run("stmt sql INFORMATION_SCHEMA SCHEMATA/TABLES/CATALOGS, SHOW FUNCTIONS" + E, self.e_information_schema)
        st.run("stmt sql create view / select / drop view if exists (x2)" + E, self.e_views)
        st.run("stmt http stop RUNNING SELECT -> STOPPED, resume -> 400; INSERT INTO resumes via PUT" + E,
               self.e_stop_resume)
        st.run("stmt sql POOL_EXHAUSTED: 5 running on max_cfu 5, 6th -> ComputePoolExhaustedError; capacity frees" + E,
               self.e_pool_exhausted)
        if self.conn is not None:
            self.conn.close()
        self.conformance()


def main():
    steps = Steps("statements_test.py (confluent-sql 0.7.0 + sql/v1 wire contract)")
    Statements(steps).run()
    steps.finish()


if __name__ == "__main__":
    main()
