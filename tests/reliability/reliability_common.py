"""Standard-library helpers shared by connections_test.py, nesting_test.py and rbac_matrix_test.py.

* ``MODE``: ``RELIABILITY_MODE`` (``quick``, the default, for CI; ``long`` for release checks).
* ``Api``: one HTTP/1.1 exchange per request on a fresh connection (``http.client``, ``Connection: close``), so the
  tests never hold connections they did not mean to hold; ``Resp`` keeps status, headers, text and parsed JSON.
* ``envelope_problems``/``require_error``: every 4xx/5xx from Floe must carry Confluent's error envelope
  ``{"errors":[{"id","status","code","title","detail","source"}]}``.
* ``Admin``: the bootstrap admin's calls used for set-up (environments, pools, statements).
* ``rss_kib``: VmRSS of a process from ``/proc/<pid>/status``.

Nothing here needs a package beyond the standard library.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))

from floe_harness import CheckFailed, FloeServer, SkipStep, Steps, check, envelope_problems_of  # noqa: E402,F401  (re-exported)

MODE = os.environ.get("RELIABILITY_MODE", "quick").strip().lower() or "quick"
if MODE not in ("quick", "long"):
    print(f"NOTE: RELIABILITY_MODE={MODE!r} is neither 'quick' nor 'long'; using 'quick'", flush=True)
    MODE = "quick"
LONG = MODE == "long"

NOBODY = object()
TERMINAL = {"COMPLETED", "FAILED", "STOPPED"}


def tag() -> str:
    return uuid.uuid4().hex[:8]


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

    def detail(self) -> str:
        try:
            return str(self.body["errors"][0].get("detail", ""))
        except (TypeError, KeyError, IndexError, AttributeError):
            return ""

    def code(self) -> str:
        try:
            return str(self.body["errors"][0].get("code", ""))
        except (TypeError, KeyError, IndexError, AttributeError):
            return ""


def parse_json(text: str) -> tuple[Any, bool]:
    if not text:
        return None, False
    try:
        return json.loads(text), True
    except ValueError:
        return None, False


def envelope_problems(resp: Resp) -> list[str]:
    return envelope_problems_of(resp.status, resp.body, resp.json_ok, resp.text)


def require_error(resp: Resp, statuses, code: str | None = None, what: str = "") -> Resp:
    """The response has one of `statuses` and carries the error envelope (and `code` when given)."""
    allowed = {statuses} if isinstance(statuses, int) else set(statuses)
    label = what or f"{resp.method} {resp.path[:80]}"
    check(resp.status in allowed, f"{label} -> HTTP {resp.status}, expected {sorted(allowed)}: {resp.snippet()}")
    problems = envelope_problems(resp)
    check(not problems, f"{label} -> HTTP {resp.status} without the error envelope: {'; '.join(problems)}")
    if code is not None:
        check(resp.code() == code, f"{label} -> error code {resp.code()!r}, expected {code!r}: {resp.snippet()}")
    return resp


class Api:
    """Requests to one server with one key; a fresh connection per request."""

    def __init__(self, base: str, auth: tuple[str, str] | None = None, timeout: float = 30.0):
        self.base = base.rstrip("/")
        self.auth = auth
        self.timeout = timeout

    def with_key(self, key: str, secret: str) -> "Api":
        return Api(self.base, (key, secret), self.timeout)

    def call(self, method: str, target: str, body: Any = NOBODY, *, raw: bytes | None = None,
             headers: dict | None = None, expect: Any = None, timeout: float | None = None,
             auth: Any = NOBODY) -> Resp:
        url = target if target.startswith("http") else self.base + target
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        data = json.dumps(body).encode() if body is not NOBODY else raw
        hdrs = {"Accept": "application/json", "Connection": "close"}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        credentials = self.auth if auth is NOBODY else auth
        if credentials:
            token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
            hdrs["Authorization"] = f"Basic {token}"
        hdrs.update(headers or {})
        start = time.monotonic()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout or self.timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            text = r.read().decode("utf-8", errors="replace")
            status, rheaders = r.status, {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        parsed, ok = parse_json(text)
        resp = Resp(method, parts.path, status, rheaders, text, parsed, ok, time.monotonic() - start)
        if expect is not None:
            allowed = {expect} if isinstance(expect, int) else set(expect)
            if status not in allowed:
                raise CheckFailed(f"{method} {parts.path[:120]} -> HTTP {status}, expected {sorted(allowed)}: "
                                  f"{resp.snippet()}")
            if status >= 400:
                require_error(resp, allowed)
        return resp


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` in KiB (0 when unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def healthz(base: str, timeout: float = 5.0) -> int:
    """Status of GET /healthz (0 when the server did not answer)."""
    try:
        return Api(base, timeout=timeout).call("GET", "/healthz").status
    except (OSError, http.client.HTTPException):
        return 0


def alive(server: FloeServer) -> bool:
    return server.process is not None and server.process.poll() is None


class Admin:
    """The bootstrap admin's set-up calls."""

    def __init__(self, server: FloeServer):
        self.server = server
        self.boot = server.bootstrap()
        self.org = self.boot.organization_id

    @property
    def api(self) -> Api:  # the port changes when the server is restarted
        return Api(self.server.base_url, (self.boot.api_key, self.boot.api_secret))

    def create_environment(self, name: str) -> str:
        return self.api.call("POST", "/org/v2/environments", {"display_name": name}, expect=201).body["id"]

    def create_pool(self, env: str, name: str | None = None, max_cfu: int = 50) -> str:
        body = {"spec": {"display_name": name or f"pool-{tag()}", "cloud": "AWS", "region": "us-east-1",
                         "max_cfu": max_cfu, "environment": {"id": env}}}
        return self.api.call("POST", "/fcpm/v2/compute-pools", body, expect=(201, 202)).body["id"]

    def wait_pool(self, env: str, pool: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        phase = None
        while time.monotonic() < deadline:
            r = self.api.call("GET", f"/fcpm/v2/compute-pools/{pool}?environment={env}", expect=200)
            phase = (r.body.get("status") or {}).get("phase")
            if phase == "PROVISIONED":
                return
            time.sleep(0.1)
        raise CheckFailed(f"compute pool {pool} not PROVISIONED within {timeout:.0f}s (phase {phase})")

    def statements_path(self, env: str) -> str:
        return f"/sql/v1/organizations/{self.org}/environments/{env}/statements"

    @staticmethod
    def statement_body(org: str, env: str, name: str, sql: str, pool: str | None, props: dict | None = None) -> dict:
        spec: dict[str, Any] = {"statement": sql, "properties": dict(props or {})}
        if pool:
            spec["compute_pool_id"] = pool
        return {"name": name, "organization_id": org, "environment_id": env, "spec": spec}

    def post_statement(self, env: str, name: str, sql: str, pool: str | None, props: dict | None = None,
                       api: Api | None = None, expect: Any = None, timeout: float = 60) -> Resp:
        return (api or self.api).call("POST", self.statements_path(env),
                                      self.statement_body(self.org, env, name, sql, pool, props),
                                      expect=expect, timeout=timeout)

    def get_statement(self, env: str, name: str, api: Api | None = None) -> Resp:
        return (api or self.api).call("GET", f"{self.statements_path(env)}/{name}")

    def wait_statement(self, env: str, name: str, wanted: set[str], timeout: float = 60,
                       api: Api | None = None) -> dict:
        """Polls until the phase is in `wanted` (or terminal); the last statement document."""
        deadline = time.monotonic() + timeout
        doc: Any = None
        while True:
            r = self.get_statement(env, name, api)
            check(r.status == 200, f"GET statement {name} -> HTTP {r.status}: {r.snippet()}")
            doc = r.body
            phase = doc["status"]["phase"]
            if phase in wanted or phase in TERMINAL:
                return doc
            if time.monotonic() > deadline:
                return doc
            time.sleep(0.15)

    def results(self, env: str, name: str, timeout: float = 30, api: Api | None = None) -> list[list]:
        """Rows (+I/+U minus retractions are not applied: the raw rows of insert changes) until `next` ends."""
        url = f"{self.statements_path(env)}/{name}/results"
        rows: list[list] = []
        deadline = time.monotonic() + timeout
        while url and time.monotonic() < deadline:
            r = (api or self.api).call("GET", url, expect=200)
            for change in r.body["results"]["data"]:
                if change.get("op", 0) in (0, 2):
                    rows.append(change["row"])
            url = r.body["metadata"].get("next")
        check(not url, f"results of {name} still had a next link after {timeout:.0f}s")
        return rows


def start_server(steps: Steps, label: str, extra_args: list[str] | None = None,
                 fallback: bool = True) -> FloeServer | None:
    """Starts a server with `extra_args` as a step; if that fails and `fallback`, starts one without them (so the
    remaining checks still run and report how the current binary behaves)."""
    server = FloeServer(label=label, extra_args=extra_args)

    def start():
        try:
            server.start(timeout=60)
        except RuntimeError as e:
            raise CheckFailed(f"floe serve {' '.join(extra_args or [])} did not start: {str(e)[-600:]}") from None

    name = f"start floe serve {' '.join(extra_args or [])}".strip()
    if steps.run(name, start):
        return server
    server.stop()
    if not (fallback and extra_args):
        return None
    plain = FloeServer(label=label)
    try:
        plain.start(timeout=60)
    except RuntimeError as e:
        print(f"FAIL start floe serve (no options): {e}", flush=True)
        steps.failed += 1
        return None
    print(f"NOTE: continuing against a server started WITHOUT {extra_args} (checks use the specified values)",
          flush=True)
    return plain
