"""What the Kafka end-to-end tests share (tests/kafka/test_*.py): a client of the real server's control plane and
sql/v1 (``SQLClient``: JSON over HTTP with the bootstrap Cloud key, statements submitted, awaited, read to their
end) and the multiset comparisons their checks report with. Each test subclasses the client for what only it does.
"""
from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from urllib.parse import urlsplit

from floe_harness import FloeServer, check

TERMINAL = {"COMPLETED", "FAILED", "STOPPED"}


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def multiset(rows) -> Counter:
    return Counter(tuple(row) for row in rows)


def difference(seen: Counter, expected: Counter) -> str:
    """Why two multisets of rows differ: duplicates, missing rows and unexpected rows, a few of each."""
    duplicated = sorted(row for row, n in seen.items() if n > 1 and expected[row] < n)
    missing = sorted((expected - seen).elements())
    extra = sorted((seen - expected).elements())
    return (f"{sum(seen.values())} rows read, {sum(expected.values())} expected; "
            f"{len(duplicated)} duplicated {duplicated[:5]}; {len(missing)} missing {missing[:5]}; "
            f"{len(extra)} unexpected {extra[:5]}")


class SQLClient:
    """The control plane and sql/v1 as JSON over HTTP, with the bootstrap Cloud key unless told otherwise; follows
    the server's port across restarts. Statements are named ``<label>-<run>-<n>`` and run with ``sql.current-catalog``
    set to the environment and ``sql.current-database`` to ``database`` when it is set.

    When ``recorded`` is a list, every response is appended to it (method, path, status, body, had a body), for a
    test that holds them against the OpenAPI files."""

    def __init__(self, server: FloeServer, label: str, run: str, database: str = ""):
        self.server = server
        self.boot = server.bootstrap()
        self.auth = basic(self.boot.api_key, self.boot.api_secret)
        self.env = self.boot.environment_id
        self.pool = ""
        self.database = database
        self.label = label
        self.run_id = run
        self.counter = 0
        self.recorded: list[tuple[str, str, int, object, bool]] | None = None

    def call(self, method: str, path: str, body: object | None = None) -> tuple[int, object, bytes]:
        data = None if body is None else json.dumps(body).encode()
        # `path` may be an absolute URL: results `next` links are followed verbatim.
        url = path if path.startswith(("http://", "https://")) else self.server.base_url + path
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", self.auth)
        request.add_header("Accept", "application/json")
        if data is not None:
            content_type = "application/json-patch+json" if isinstance(body, list) else "application/json"
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        if self.recorded is not None:
            self.recorded.append((method, urlsplit(url).path, status, parsed, bool(raw)))
        return status, parsed, raw

    # ------------------------------------------------------------------------------------------------ statements
    def statements(self) -> str:
        return f"/sql/v1/organizations/{self.boot.organization_id}/environments/{self.env}/statements"

    def submit(self, sql: str, props: dict | None = None) -> str:
        self.counter += 1
        name = f"{self.label}-{self.run_id}-{self.counter}"
        properties = {"sql.current-catalog": self.env, **({"sql.current-database": self.database} if self.database else {}),
                      **(props or {})}
        body = {"name": name, "organization_id": self.boot.organization_id, "environment_id": self.env,
                "spec": {"statement": sql, "compute_pool_id": self.pool, "properties": properties}}
        status, _, raw = self.call("POST", self.statements(), body)
        check(status == 201, f"POST statement {sql!r}: HTTP {status} {raw[:400]!r}")
        return name

    def status(self, name: str) -> dict:
        status, doc, raw = self.call("GET", f"{self.statements()}/{name}")
        check(status == 200, f"GET statement {name}: HTTP {status} {raw[:300]!r}")
        return doc

    def wait(self, name: str, phases: set[str], timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            doc = self.status(name)
            if doc["status"]["phase"] in phases:
                return doc
            check(doc["status"]["phase"] not in TERMINAL,
                  f"{name} ended {doc['status']['phase']} ({doc['status'].get('detail')!r}), expected {sorted(phases)}")
            check(time.monotonic() < deadline, f"{name} not {sorted(phases)} within {timeout:.0f}s: {doc['status']}")
            time.sleep(0.2)

    def results_page(self, url: str) -> tuple[list[dict], str | None]:
        """One page of a statement's results and the link to the next (None when there is none)."""
        status, doc, raw = self.call("GET", url)
        check(status == 200, f"GET {url}: HTTP {status} {raw[:300]!r}")
        return doc["results"]["data"], (doc.get("metadata") or {}).get("next") or None

    def changes(self, name: str, timeout: float = 60) -> list[dict]:
        """Every change of a finished statement: follows results `next` until there is none."""
        url: str | None = f"{self.statements()}/{name}/results"
        changes: list[dict] = []
        deadline = time.monotonic() + timeout
        while url:
            check(time.monotonic() < deadline, f"results of {name} still had a next link after {timeout:.0f}s")
            page, url = self.results_page(url)
            changes += page
        return changes

    def rows(self, name: str, timeout: float = 60) -> list[list]:
        """Every row of a finished statement; its changes must be inserts."""
        changes = self.changes(name, timeout)
        check(all(change.get("op", 0) == 0 for change in changes), f"non-insert changes: {changes[:5]}")
        return [change["row"] for change in changes]

    def query(self, sql: str, props: dict | None = None, timeout: float = 60) -> list[list]:
        """Runs a statement to COMPLETED (a bounded one ends by itself) and returns its rows."""
        name = self.submit(sql, props)
        self.wait(name, {"COMPLETED"}, timeout)
        return self.rows(name)

    def failure(self, sql: str, props: dict | None = None, timeout: float = 60) -> str:
        """Runs a statement that must end FAILED; its status.detail."""
        name = self.submit(sql, props)
        doc = self.wait(name, TERMINAL, timeout)
        check(doc["status"]["phase"] == "FAILED",
              f"{sql!r} ended {doc['status']['phase']}, expected FAILED ({doc['status'].get('detail')!r})")
        return doc["status"].get("detail") or ""

    def set_stopped(self, name: str, stopped: bool = True) -> None:
        """PATCHes ``spec.stopped`` (the statement then stops or resumes)."""
        status, _, raw = self.call("PATCH", f"{self.statements()}/{name}",
                                   [{"op": "replace", "path": "/spec/stopped", "value": stopped}])
        check(status == 200, f"PATCH {name} spec.stopped={stopped}: HTTP {status} {raw[:300]!r}")
