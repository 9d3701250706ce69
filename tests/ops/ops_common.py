"""Standard-library helpers shared by the operations suite (tests/ops/*_test.py).

* ``Pki`` (from tests/compat/floe_harness.py): a throwaway certificate authority made with the ``openssl`` command
  line, and the server certificates it signs; ``peer_certificate``/``der_of`` to compare what a server shows.
* ``Api``: one HTTP/1.1 exchange per request on a fresh connection (``http.client``, ``Connection: close``), over
  http or https (with the ``ssl.SSLContext`` given), and ``Resp`` with status, headers, text and parsed JSON.
* ``parse_exposition``/``exposition_problems``: a parser of Prometheus' text exposition format 0.0.4 (names, labels
  with escaped values, values) and a validator of a whole body against the format's rules.
* ``Admin``: the bootstrap admin's set-up calls (environments, pools, statements, service accounts, keys, bindings).

The servers themselves are ``floe_harness.FloeServer`` (tests/compat), which knows TLS material. Nothing here needs a
package beyond the standard library.
"""
from __future__ import annotations

import base64
import http.client
import json
import math
import re
import ssl
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "compat"))

from floe_harness import (CheckFailed, FloeServer, Leaf, Pki, SkipStep, Steps, check,  # noqa: E402,F401
                          default_binary, envelope_problems_of, exit_on_signals, free_port, generate_bootstrap_credentials, read_bootstrap)

NOBODY = object()
TERMINAL = {"COMPLETED", "FAILED", "STOPPED"}
REGION = "aws.us-east-1"


def tag() -> str:
    return uuid.uuid4().hex[:8]


def peer_certificate(host: str, port: int, context: ssl.SSLContext, server_name: str | None = None) -> bytes:
    """The DER certificate a fresh TLS connection to host:port is shown."""
    import socket
    with socket.create_connection((host, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_name or host) as tls:
            return tls.getpeercert(binary_form=True)


def der_of(pem_path: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(Path(pem_path).read_text())


# -------------------------------------------------------------------------------------------------------------- HTTP
@dataclass
class Resp:
    method: str
    path: str
    status: int
    headers: dict
    text: str
    body: Any
    json_ok: bool
    elapsed: float

    def snippet(self, n: int = 300) -> str:
        return self.text[:n].replace("\n", " ")


def envelope_problems(resp: Resp) -> list[str]:
    return envelope_problems_of(resp.status, resp.body, resp.json_ok, resp.text)


def require_error(resp: Resp, status: int, what: str = "") -> Resp:
    label = what or f"{resp.method} {resp.path[:80]}"
    check(resp.status == status, f"{label} -> HTTP {resp.status}, expected {status}: {resp.snippet()}")
    problems = envelope_problems(resp)
    check(not problems, f"{label} -> HTTP {resp.status} without Confluent's error envelope: {'; '.join(problems)}")
    return resp


def connect(url: str, context: ssl.SSLContext | None, timeout: float = 30.0) -> http.client.HTTPConnection:
    """A connection (not yet opened) to the scheme, host and port of `url`."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                           context=context or ssl.create_default_context())
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def basic(credentials: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()


class Api:
    """Requests to one listener with one key; a fresh connection per request."""

    def __init__(self, base: str, auth: tuple[str, str] | None = None, context: ssl.SSLContext | None = None,
                 timeout: float = 30.0):
        self.base = base.rstrip("/")
        self.auth = auth
        self.context = context
        self.timeout = timeout

    def with_key(self, key: str, secret: str) -> "Api":
        return Api(self.base, (key, secret), self.context, self.timeout)

    def without_key(self) -> "Api":
        return Api(self.base, None, self.context, self.timeout)

    def call(self, method: str, target: str, body: Any = NOBODY, *, headers: dict | None = None, expect: Any = None,
             content_type: str = "application/json") -> Resp:
        url = target if target.startswith(("http://", "https://")) else self.base + target
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        data = json.dumps(body).encode() if body is not NOBODY else None
        hdrs = {"Accept": "application/json", "Connection": "close"}
        if data is not None:
            hdrs["Content-Type"] = content_type
        if self.auth:
            hdrs["Authorization"] = basic(self.auth)
        hdrs.update(headers or {})
        start = time.monotonic()
        conn = connect(url, self.context, self.timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            text = r.read().decode("utf-8", errors="replace")
            status, rheaders = r.status, {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        parsed, ok = None, False
        if text:
            try:
                parsed, ok = json.loads(text), True
            except ValueError:
                pass
        resp = Resp(method, parts.path, status, rheaders, text, parsed, ok, time.monotonic() - start)
        if expect is not None:
            allowed = {expect} if isinstance(expect, int) else set(expect)
            check(status in allowed, f"{method} {parts.path[:120]} -> HTTP {status}, expected {sorted(allowed)}: "
                                     f"{resp.snippet()}")
        return resp


# --------------------------------------------------------------------------------------------------------- set-up
class Admin:
    """The bootstrap admin's set-up calls through `api` (any listener)."""

    def __init__(self, api: Api, org: str):
        self.api = api
        self.org = org

    def create_environment(self, name: str) -> str:
        return self.api.call("POST", "/org/v2/environments", {"display_name": name}, expect=201).body["id"]

    def create_pool(self, env: str, max_cfu: int = 20) -> str:
        body = {"spec": {"display_name": f"pool-{tag()}", "cloud": "AWS", "region": "us-east-1", "max_cfu": max_cfu,
                         "environment": {"id": env}}}
        pool = self.api.call("POST", "/fcpm/v2/compute-pools", body, expect=(201, 202)).body["id"]
        deadline = time.monotonic() + 30
        while True:
            doc = self.api.call("GET", f"/fcpm/v2/compute-pools/{pool}?environment={env}", expect=200).body
            if (doc.get("status") or {}).get("phase") == "PROVISIONED":
                return pool
            check(time.monotonic() < deadline, f"compute pool {pool} not PROVISIONED within 30s: {doc.get('status')}")
            time.sleep(0.1)

    def statements_path(self, env: str) -> str:
        return f"/sql/v1/organizations/{self.org}/environments/{env}/statements"

    def post_statement(self, env: str, name: str, sql: str, pool: str, api: Api | None = None,
                       props: dict | None = None) -> Resp:
        body = {"name": name, "organization_id": self.org, "environment_id": env,
                "spec": {"statement": sql, "compute_pool_id": pool, "properties": dict(props or {})}}
        return (api or self.api).call("POST", self.statements_path(env), body, expect=(200, 201))

    def get_statement(self, env: str, name: str, api: Api | None = None) -> dict:
        return (api or self.api).call("GET", f"{self.statements_path(env)}/{name}", expect=200).body

    def delete_statement(self, env: str, name: str) -> None:
        self.api.call("DELETE", f"{self.statements_path(env)}/{name}", expect=(202, 204, 404))

    def wait_phase(self, env: str, name: str, wanted: set[str], timeout: float = 60) -> dict:
        """Polls until the phase is in `wanted`; fails on another terminal phase or at the timeout."""
        deadline = time.monotonic() + timeout
        doc: Any = None
        while time.monotonic() < deadline:
            doc = self.get_statement(env, name)
            phase = doc["status"]["phase"]
            if phase in wanted:
                return doc
            check(phase not in TERMINAL, f"statement {name} is {phase}, waiting for {sorted(wanted)}: "
                                         f"{doc['status'].get('detail', '')[:300]!r}")
            time.sleep(0.15)
        raise CheckFailed(f"statement {name} not in {sorted(wanted)} within {timeout:.0f}s: {doc and doc['status']}")

    def run(self, env: str, pool: str, sql: str, props: dict | None = None) -> dict:
        """A statement that must reach COMPLETED."""
        name = f"ops-{tag()}"
        self.post_statement(env, name, sql, pool, props=props)
        return self.wait_phase(env, name, {"COMPLETED"})

    def service_account(self, label: str) -> str:
        return self.api.call("POST", "/iam/v2/service-accounts", {"display_name": f"{label}-{tag()}",
                                                                  "description": label}, expect=(200, 201)).body["id"]

    def bind(self, principal_id: str, role: str, crn: str) -> None:
        self.api.call("POST", "/iam/v2/role-bindings",
                      {"principal": f"User:{principal_id}", "role_name": role, "crn_pattern": crn}, expect=(200, 201))

    def cloud_key(self, owner: str) -> tuple[str, str]:
        body = {"spec": {"display_name": f"k-{tag()}", "owner": {"id": owner}, "resource": {"id": "cloud"}}}
        doc = self.api.call("POST", "/iam/v2/api-keys", body, expect=(201, 202)).body
        return doc["id"], doc["spec"]["secret"]

    def org_crn(self) -> str:
        return f"crn://confluent.cloud/organization={self.org}"

    def env_crn(self, env: str) -> str:
        return f"crn://confluent.cloud/organization={self.org}/environment={env}"


def wait_for_line(path: Path, pattern: str, timeout: float = 20.0, start: int = 0) -> re.Match | None:
    """The first match of `pattern` in the log file at `path` (from byte `start`), waiting up to `timeout`."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = Path(path).read_bytes()[start:].decode("utf-8", errors="replace")
        except OSError:
            text = ""
        match = regex.search(text)
        if match or time.monotonic() > deadline:
            return match
        time.sleep(0.1)


def log_size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


# ----------------------------------------------------------------------------------------- Prometheus exposition
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


@dataclass
class Sample:
    name: str
    labels: dict[str, str]
    value: float
    line: int

    def key(self) -> tuple:
        return self.name, tuple(sorted(self.labels.items()))


@dataclass
class Family:
    name: str
    type: str | None = None
    help: str | None = None
    samples: list[Sample] = field(default_factory=list)


@dataclass
class Exposition:
    families: dict[str, Family]
    samples: list[Sample]
    problems: list[str]

    def find(self, name: str, **labels: str) -> list[Sample]:
        """Samples named `name` whose labels include `labels`."""
        return [s for s in self.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]

    def value(self, name: str, **labels: str) -> float | None:
        """The value of the one series `name` with exactly these labels (None when absent)."""
        for s in self.samples:
            if s.name == name and s.labels == labels:
                return s.value
        return None

    def total(self, name: str, **labels: str) -> float:
        return sum(s.value for s in self.find(name, **labels))


def parse_value(text: str) -> float:
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)", text):
        raise ValueError(f"not a sample value: {text!r}")
    return float(text)


def parse_labels(text: str, pos: int) -> tuple[dict[str, str], int]:
    """Labels from text[pos] == '{' to the closing '}'; the labels and the position after '}'."""
    labels: dict[str, str] = {}
    pos += 1
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == "}":
            return labels, pos + 1
        m = LABEL_NAME.match(text, pos)
        if not m:
            raise ValueError(f"bad label name at column {pos + 1}")
        name = m.group(0)
        pos = m.end()
        if text[pos:pos + 2] != '="':
            raise ValueError(f"label {name} lacks =\" at column {pos + 1}")
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise ValueError(f"unterminated value of label {name}")
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt == "n":
                    value.append("\n")
                elif nxt in ('"', "\\"):
                    value.append(nxt)
                else:
                    raise ValueError(f"bad escape \\{nxt} in the value of label {name}")
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == "\n":
                raise ValueError(f"newline in the value of label {name}")
            else:
                value.append(c)
                pos += 1
        if name in labels:
            raise ValueError(f"label {name} given twice")
        labels[name] = "".join(value)
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] == "}":
            continue
        else:
            raise ValueError(f"expected , or }} after label {name} at column {pos + 1}")


def family_of(sample_name: str, families: dict[str, Family]) -> Family | None:
    """The family a sample belongs to: its own name, or for histograms/summaries the name without the suffix."""
    if sample_name in families and families[sample_name].type not in ("histogram",):
        return families[sample_name]
    for suffix, kinds in (("_bucket", ("histogram",)), ("_sum", ("histogram", "summary")),
                          ("_count", ("histogram", "summary"))):
        if sample_name.endswith(suffix):
            base = sample_name[: -len(suffix)]
            if base in families and families[base].type in kinds:
                return families[base]
    return None


def parse_exposition(text: str) -> Exposition:
    """Parses text format 0.0.4 and checks its rules; `problems` lists every violation (empty when valid):
    each sample belongs to a family declared by a `# TYPE` line before it, families are contiguous and declared once,
    no series appears twice, histogram buckets are cumulative, end in `le="+Inf"` and equal `_count`."""
    families: dict[str, Family] = {}
    samples: list[Sample] = []
    problems: list[str] = []
    seen: set[tuple] = set()
    closed: set[str] = set()   # families whose group of lines has ended
    current: str | None = None
    if text and not text.endswith("\n"):
        problems.append("the body does not end with a newline")
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.fullmatch(name):
                    problems.append(f"line {number}: bad metric name {name!r}")
                    continue
                fam = families.get(name)
                if fam is None:
                    fam = families[name] = Family(name)
                elif name in closed or (current != name and fam.samples):
                    problems.append(f"line {number}: # {parts[1]} {name} after its samples or another family")
                if parts[1] == "TYPE":
                    kind = parts[3].strip() if len(parts) > 3 else ""
                    if kind not in TYPES:
                        problems.append(f"line {number}: unknown type {kind!r} of {name}")
                    if fam.type is not None:
                        problems.append(f"line {number}: second # TYPE of {name}")
                    if fam.samples:
                        problems.append(f"line {number}: # TYPE of {name} after its first sample")
                    fam.type = kind
                else:
                    if fam.help is not None:
                        problems.append(f"line {number}: second # HELP of {name}")
                    fam.help = parts[3] if len(parts) > 3 else ""
                if current is not None and current != name:
                    closed.add(current)
                current = name
            continue
        m = METRIC_NAME.match(line)
        if not m:
            problems.append(f"line {number}: not a sample: {line[:120]!r}")
            continue
        name, pos, labels = m.group(0), m.end(), {}
        try:
            if pos < len(line) and line[pos] == "{":
                labels, pos = parse_labels(line, pos)
            rest = line[pos:].split()
            if not rest or len(rest) > 2:
                raise ValueError("expected a value and an optional timestamp")
            value = parse_value(rest[0])
            if len(rest) == 2 and not re.fullmatch(r"-?\d+", rest[1]):
                raise ValueError(f"bad timestamp {rest[1]!r}")
        except ValueError as e:
            problems.append(f"line {number}: {e}: {line[:160]!r}")
            continue
        sample = Sample(name, labels, value, number)
        fam = family_of(name, families)
        if fam is None or fam.type is None:
            problems.append(f"line {number}: sample {name} belongs to no family declared with # TYPE")
            fam = families.setdefault(name, Family(name))
        if current is not None and fam.name != current:
            closed.add(current)
        if fam.name in closed:
            problems.append(f"line {number}: sample of {fam.name} separated from the rest of its family")
        current = fam.name
        if sample.key() in seen:
            problems.append(f"line {number}: duplicate series {name}{labels}")
        seen.add(sample.key())
        fam.samples.append(sample)
        samples.append(sample)
    problems += histogram_problems(families)
    return Exposition(families, samples, problems)


def histogram_problems(families: dict[str, Family]) -> list[str]:
    problems = []
    for fam in families.values():
        if fam.type != "histogram":
            continue
        series: dict[tuple, dict[str, Any]] = {}
        for s in fam.samples:
            rest = {k: v for k, v in s.labels.items() if k != "le"}
            entry = series.setdefault(tuple(sorted(rest.items())), {"buckets": [], "sum": None, "count": None})
            if s.name == fam.name + "_bucket":
                if "le" not in s.labels:
                    problems.append(f"{s.name}{s.labels} lacks le")
                    continue
                try:
                    entry["buckets"].append((parse_value(s.labels["le"]), s.value))
                except ValueError:
                    problems.append(f"{s.name}: le={s.labels['le']!r} is not a number")
            elif s.name == fam.name + "_sum":
                entry["sum"] = s.value
            elif s.name == fam.name + "_count":
                entry["count"] = s.value
        for labels, entry in series.items():
            where = f"{fam.name}{dict(labels)}"
            buckets = sorted(entry["buckets"])
            if not buckets or buckets[-1][0] != math.inf:
                problems.append(f"{where}: no le=\"+Inf\" bucket")
                continue
            if any(b[1] < a[1] for a, b in zip(buckets, buckets[1:])):
                problems.append(f"{where}: buckets are not cumulative: {buckets}")
            if entry["count"] is None or entry["sum"] is None:
                problems.append(f"{where}: lacks _count or _sum")
            elif entry["count"] != buckets[-1][1]:
                problems.append(f"{where}: _count {entry['count']} != +Inf bucket {buckets[-1][1]}")
            elif entry["sum"] < 0:
                problems.append(f"{where}: negative _sum {entry['sum']}")
    return problems
