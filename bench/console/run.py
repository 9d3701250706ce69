#!/usr/bin/env python3
"""Console latency against the API call underneath it, measured in the same run.

    python3 bench/console/run.py            # FLOE_BIN (default .build/release/floe), BENCH_REQUESTS (default 500)

Starts `floe serve` on a free port with a temporary data directory (rate limits off), signs in to the console with
the bootstrap admin key, creates a compute pool and a finished statement, then times sequential requests on one
keep-alive connection each:

- the compute pools page (`/environments/{env}/flink/compute-pools`) against `GET /fcpm/v2/compute-pools` with
  Basic auth (the page itself makes four API calls in process: role bindings, environment, pools, and renders);
- the workspace's status fetch (`/console/api/environments/{env}/statements/{name}`) against the API's
  `GET /sql/v1/…/statements/{name}`.

Prints median and p95 per request and the ratios console / API. Exits non-zero only if something broke.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "compat"))
from floe_harness import FloeServer  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "500"))
WARMUP = 50


class Connection:
    def __init__(self, port: int, headers: dict[str, str]):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = headers

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        self.conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, response.getheaders(), data


def timed(conn: Connection, path: str, headers: dict[str, str] | None = None) -> list[float]:
    samples = []
    for index in range(WARMUP + REQUESTS):
        started = time.perf_counter()
        status, _, _ = conn.request("GET", path, headers=headers)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        if index >= WARMUP:
            samples.append(elapsed * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def main() -> int:
    binary = os.environ.get("FLOE_BIN", str(REPO / ".build" / "release" / "floe"))
    with FloeServer(binary=binary, rate_limit=False, label="console-bench") as server:
        boot = server.bootstrap()
        port = urllib.parse.urlparse(server.base_url).port
        basic = "Basic " + base64.b64encode(f"{boot.api_key}:{boot.api_secret}".encode()).decode()
        api = Connection(port, {"Authorization": basic})
        env = boot.environment_id
        org = boot.organization_id

        # Sign in like a browser: the login page's token, then the form post.
        browser = Connection(port, {})
        status, headers, page = browser.request("GET", "/login")
        token = re.search(rb'name="_csrf" value="([^"]+)"', page).group(1).decode()
        login_cookie = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith("floe_login=")).split(";")[0]
        form = urllib.parse.urlencode({"_csrf": token, "key": boot.api_key, "secret": boot.api_secret}).encode()
        status, headers, _ = browser.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": login_cookie})
        if status != 303:
            raise SystemExit(f"sign-in answered {status}")
        session = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith("floe_session=")).split(";")[0]
        browser.headers = {"Cookie": session}
        _, _, page = browser.request("GET", "/environments")
        csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()

        status, _, body = api.request("POST", "/fcpm/v2/compute-pools", json.dumps(
            {"spec": {"display_name": "bench", "cloud": "AWS", "region": "us-east-1", "max_cfu": 10, "environment": {"id": env}}}).encode(),
            {"Content-Type": "application/json"})
        pool = json.loads(body)["id"]
        status, _, body = api.request("POST", f"/sql/v1/organizations/{org}/environments/{env}/statements", json.dumps(
            {"name": "bench-select", "spec": {"statement": "SELECT 1", "compute_pool_id": pool}}).encode(),
            {"Content-Type": "application/json"})
        if status != 201:
            raise SystemExit(f"statement create answered {status}: {body[:200]!r}")

        rows = []
        pages_api = summary(timed(api, f"/fcpm/v2/compute-pools?environment={env}"))
        pages_console = summary(timed(browser, f"/environments/{env}/flink/compute-pools"))
        rows.append(("compute pools: page vs API list", pages_console, pages_api))
        status_api = summary(timed(api, f"/sql/v1/organizations/{org}/environments/{env}/statements/bench-select"))
        status_console = summary(timed(browser, f"/console/api/environments/{env}/statements/bench-select", {"X-CSRF-Token": csrf}))
        rows.append(("statement status: console fetch vs API get", status_console, status_api))

    print(f"{REQUESTS} sequential requests each, one keep-alive connection, {binary}")
    print(f"{'':46} {'console p50':>12} {'p95':>8} {'API p50':>9} {'p95':>8} {'ratio p50':>10}")
    for label, (c50, c95), (a50, a95) in rows:
        print(f"{label:46} {c50:10.3f}ms {c95:6.3f}ms {a50:7.3f}ms {a95:6.3f}ms {c50 / a50:9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
