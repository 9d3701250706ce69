"""`SELECT 1` round trips through sql/v1, as a client sees them: submit → COMPLETED → results.

Each round trip, on one keep-alive HTTP connection:
  1. POST …/statements {"name": "rt-N", "spec": {"statement": "SELECT 1", "compute_pool_id": pool}}
  2. GET  …/statements/rt-N/results, then follow `metadata.next` until it is empty (the server long-polls while the
     statement is still PENDING/RUNNING, so the client never sleeps and never spins);
  3. checks the single row is ["1"];
  4. DELETE …/statements/rt-N (not timed), as confluent-sql's cursor.close() does.
The baseline, measured in the same run on the same connection, is an authenticated GET of the statement list
(one round trip through the same middleware, no scheduling). Prints p50/p99 of both and their ratio.

usage: python3 roundtrip.py URL DATA_DIR [COUNT]
"""
from __future__ import annotations

import base64
import http.client
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request


def main() -> int:
    url, data_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    boot = json.load(open(f"{data_dir}/bootstrap.json"))
    key, secret = boot["api_key"], boot["api_secret"]
    org, env = boot["organization_id"], boot["environment_id"]
    auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)

    def call(method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)

    status, pool = call("POST", "/fcpm/v2/compute-pools", {"spec": {"display_name": "bench", "cloud": "AWS", "region": "us-east-1",
                                                                      "max_cfu": 50, "environment": {"id": env}}})
    assert status == 202, (status, pool)
    pool_id = pool["id"]
    deadline = time.time() + 10
    while call("GET", f"/fcpm/v2/compute-pools/{pool_id}?environment={env}")[1]["status"]["phase"] != "PROVISIONED":
        assert time.time() < deadline, "pool never provisioned"
        time.sleep(0.05)

    base = f"/sql/v1/organizations/{org}/environments/{env}/statements"

    def round_trip(index: int) -> float:
        name = f"rt-{index}"
        started = time.perf_counter()
        status, created = call("POST", base, {"name": name, "spec": {"statement": "SELECT 1", "compute_pool_id": pool_id}})
        assert status == 201, (status, created)
        rows = []
        path = f"{base}/{name}/results"
        while path:
            status, page = call("GET", path)
            assert status == 200, (status, page)
            rows += [change["row"] for change in page["results"]["data"]]
            next_url = page["metadata"]["next"]
            path = urllib.parse.urlparse(next_url).path + "?" + urllib.parse.urlparse(next_url).query if next_url else ""
        elapsed = time.perf_counter() - started
        assert rows == [["1"]], rows
        assert call("DELETE", f"{base}/{name}")[0] == 202
        return elapsed

    def baseline() -> float:
        started = time.perf_counter()
        status, _ = call("GET", f"{base}?page_size=1")
        assert status == 200
        return time.perf_counter() - started

    for index in range(20):  # warm-up
        round_trip(-index - 1)
        baseline()
    trips, bases = [], []
    for index in range(count):
        trips.append(round_trip(index))
        bases.append(baseline())

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    print(f"SELECT 1 round trip over {count}: p50 {pct(trips, 0.5):.2f} ms, p99 {pct(trips, 0.99):.2f} ms, mean {statistics.mean(trips) * 1000:.2f} ms")
    print(f"baseline GET (same connection):   p50 {pct(bases, 0.5):.2f} ms, p99 {pct(bases, 0.99):.2f} ms")
    print(f"ratio round trip / baseline (p50): {pct(trips, 0.5) / pct(bases, 0.5):.1f}x")
    target = pct(trips, 0.5) < 5.0
    print(f"{'PASS' if target else 'FAIL'}: round-trip p50 < 5 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
