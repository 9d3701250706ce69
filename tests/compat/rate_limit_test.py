#!/usr/bin/env python3
"""Rate limiting: starts its OWN floe server (rate limiting on, the default) and checks that more than 50
requests per second from one client address are answered 429 with Retry-After and the error envelope, while the
first 50 of a second are admitted, and that success responses carry X-RateLimit-Limit/Remaining/Reset.

Bounded: at most 200 requests in at most 5 seconds for the burst, plus a handful of single requests, and a client
following a stream's results for 8 seconds.
"""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from floe_harness import CheckFailed, FloeServer, Steps, check, exit_on_signals
from spec_validation import SpecRegistry

PER_SECOND = 50
MAX_REQUESTS = 200
MAX_SECONDS = 5.0
WORKERS = 16
PATH = "/org/v2/environments"


def int_header(resp, name: str) -> int:
    value = resp.headers.get(name)
    check(value is not None, f"{resp.request.method} {resp.url} -> {resp.status_code} lacks {name}")
    check(re.fullmatch(r"\d+", value.strip()), f"{name}={value!r} is not a non-negative integer")
    return int(value)


class RateLimit:
    def __init__(self, steps: Steps, server: FloeServer):
        self.steps = steps
        self.server = server
        boot = server.bootstrap()
        self.url = server.base_url + PATH
        self.auth = (boot.api_key, boot.api_secret)
        self.registry = SpecRegistry()
        self.local = threading.local()
        self.first_429 = None

    def session(self) -> requests.Session:
        s = getattr(self.local, "session", None)
        if s is None:
            s = requests.Session()
            s.trust_env = False
            s.auth = self.auth
            self.local.session = s
        return s

    def success_headers(self):
        time.sleep(1.05)  # a fresh one-second window
        s = self.session()
        first = s.get(self.url, timeout=30)
        check(first.status_code == 200, f"GET {PATH} -> {first.status_code}: {first.text[:200]}")
        limit = int_header(first, "X-RateLimit-Limit")
        remaining = int_header(first, "X-RateLimit-Remaining")
        reset = int_header(first, "X-RateLimit-Reset")
        check(limit >= PER_SECOND, f"X-RateLimit-Limit {limit} is below the per-second limit {PER_SECOND}")
        check(remaining < limit, f"X-RateLimit-Remaining {remaining} not below X-RateLimit-Limit {limit} after a request")
        check(0 <= reset <= 3600, f"X-RateLimit-Reset {reset} is not a relative number of seconds")
        check(first.headers.get("X-Request-Id"), "no X-Request-Id")
        second = s.get(self.url, timeout=30)
        check(int_header(second, "X-RateLimit-Remaining") < remaining or int_header(second, "X-RateLimit-Reset") > reset,
              "X-RateLimit-Remaining did not go down within the window")
        for path in ("/iam/v2/service-accounts", "/fcpm/v2/regions", "/fcpm/v2/compute-pool-config"):
            r = s.get(self.server.base_url + path, timeout=30)
            check(r.status_code == 200, f"GET {path} -> {r.status_code}")
            for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
                int_header(r, name)

    def burst(self):
        now = time.time()
        time.sleep((1.0 - (now % 1.0)) + 0.02)  # start just after a wall-clock second boundary
        records = []
        lock = threading.Lock()
        stop = threading.Event()
        started = time.monotonic()

        def one(i):
            if stop.is_set() or time.monotonic() - started > MAX_SECONDS:
                return
            t0 = time.time()
            r = self.session().get(self.url, timeout=30)
            t1 = time.time()
            with lock:
                records.append((t0, t1, r))
                if r.status_code == 429:
                    stop.set()

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for i in range(MAX_REQUESTS):
                if stop.is_set() or time.monotonic() - started > MAX_SECONDS:
                    break
                pool.submit(one, i)
        statuses = [r.status_code for _, _, r in records]
        check(set(statuses) <= {200, 429}, f"unexpected statuses in the burst: {sorted(set(statuses))}")
        refused = sorted((rec for rec in records if rec[2].status_code == 429), key=lambda rec: rec[0])
        check(refused, f"{len(records)} requests in {time.monotonic() - started:.1f}s, none answered 429")
        t0, t1, first = refused[0]
        self.first_429 = first
        second = int(t0)
        if int(t1) == second:  # the refusal happened inside one wall-clock second: count that second's admissions
            admitted_inside = sum(1 for a, b, r in records if r.status_code == 200 and int(a) == second and int(b) == second)
            admitted_touching = sum(1 for a, b, r in records if r.status_code == 200 and int(a) <= second <= int(b))
            check(admitted_inside <= PER_SECOND,
                  f"{admitted_inside} requests admitted within one second (limit {PER_SECOND})")
            check(admitted_touching >= PER_SECOND,
                  f"refused after only {admitted_touching} admitted requests in that second (limit {PER_SECOND})")
        print(f"    burst: {len(records)} requests, {statuses.count(200)} admitted, {statuses.count(429)} refused", flush=True)

    def refusal_shape(self):
        r = self.first_429
        if r is None:
            raise CheckFailed("no 429 was observed by the burst step")
        retry_after = int_header(r, "Retry-After")
        check(1 <= retry_after <= 60, f"Retry-After {retry_after}")
        check(r.headers.get("X-Request-Id"), "429 without X-Request-Id")
        op = self.registry.operation("GET", PATH)
        for name in self.registry.declared_headers(op, 429):
            check(r.headers.get(name) is not None, f"429 lacks {name}, declared by the spec")
        check(r.headers.get("Content-Type", "").startswith("application/json"), f"Content-Type {r.headers.get('Content-Type')}")
        body = r.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        check(isinstance(errors, list) and errors, f"429 body is not the error envelope: {r.text[:300]}")
        err = errors[0]
        for name in ("id", "status", "code", "title", "detail"):
            check(isinstance(err.get(name), str) and err[name], f"errors[0].{name} = {err.get(name)!r}")
        check(isinstance(err.get("source"), dict), f"errors[0].source = {err.get('source')!r}")
        check(err["status"] == "429", f"errors[0].status {err['status']!r} != '429'")

    def recovers(self):
        r = self.first_429
        wait = int(r.headers.get("Retry-After", "1")) if r is not None else 1
        time.sleep(min(wait, 5) + 0.05)
        again = self.session().get(self.url, timeout=30)
        check(again.status_code == 200, f"after Retry-After, GET {PATH} -> {again.status_code}")

    def naive_follower(self):
        """A client that follows `metadata.next` at once (as confluent-sql and simple scripts do) on a stream that
        trickles rows: the server holds pages that are not full briefly, so it stays far below the limits; a bounded
        query is read to its end without that hold slowing it."""
        boot = self.server.bootstrap()
        base = (f"{self.server.base_url}/sql/v1/organizations/{boot.organization_id}"
                f"/environments/{boot.environment_id}/statements")
        s = self.session()

        def create(name: str, sql: str) -> None:
            r = s.post(base, json={"name": name, "spec": {"statement": sql, "properties": {}}}, timeout=30)
            check(r.status_code in (200, 201), f"POST statement {name} -> {r.status_code}: {r.text[:200]}")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                phase = s.get(f"{base}/{name}", timeout=30).json().get("status", {}).get("phase")
                if phase != "PENDING":
                    return
                time.sleep(0.3)
            raise CheckFailed(f"statement {name} stayed PENDING")

        create("followed", "SELECT * FROM examples.marketplace.orders;")
        url, requests_made, rows, statuses = f"{base}/followed/results", 0, 0, set()
        started = time.monotonic()
        while time.monotonic() - started < 8 and url:
            r = s.get(url, timeout=30)
            requests_made += 1
            statuses.add(r.status_code)
            if r.status_code != 200:
                time.sleep(1)
                continue
            page = r.json()
            rows += len(page["results"]["data"])
            url = page["metadata"].get("next")
        elapsed = time.monotonic() - started
        check(statuses == {200}, f"statuses while following: {sorted(statuses)}")
        check(rows > 0, "no rows arrived from the stream")
        check(requests_made / elapsed <= 5, f"{requests_made} requests in {elapsed:.1f}s ({rows} rows)")
        print(f"    naive follower: {requests_made} requests, {rows} rows in {elapsed:.1f}s", flush=True)

        create("bounded", "SELECT * FROM (VALUES (1), (2), (3)) AS t(n);")
        url, rows, started = f"{base}/bounded/results", 0, time.monotonic()
        while url:
            page = s.get(url, timeout=30).json()
            rows += len(page["results"]["data"])
            url = page["metadata"].get("next")
        check(rows == 3, f"bounded query: {rows} rows")
        check(time.monotonic() - started < 2, f"a bounded query took {time.monotonic() - started:.1f}s to read")

    def run(self):
        st = self.steps
        st.run("rate: following `next` at once on a trickling stream stays within the limits", self.naive_follower)
        st.run("rate: 2xx responses carry integer X-RateLimit-Limit/Remaining/Reset (relative seconds)", self.success_headers)
        st.run(f"rate: more than {PER_SECOND} requests/second from one IP -> 429 (the first {PER_SECOND} admitted)", self.burst)
        st.run("rate: 429 has Retry-After, spec-declared headers and the error envelope", self.refusal_shape)
        st.run("rate: after Retry-After requests are admitted again", self.recovers)


def main():
    steps = Steps("rate_limit_test.py (own server, rate limiting on)")
    exit_on_signals()
    server = FloeServer(rate_limit=True, label="ratelimit")
    try:
        server.start()
    except Exception as e:  # noqa: BLE001
        print(f"FAIL start server: {e}", flush=True)
        print("0 passed, 1 failed", flush=True)
        raise SystemExit(2)
    try:
        print(f"started floe at {server.base_url} (rate limiting on)", flush=True)
        RateLimit(steps, server).run()
    finally:
        server.stop()
    steps.finish()


if __name__ == "__main__":
    main()
