"""The two execution backends through the public API (see run.sh): one `floe serve` with a compute pool on the embedded
engine and one on Apache Flink (the stand-in SQL Gateway over Flink 2.1.0's MiniCluster), the same sql/v1 calls on
both. Prints medians (and p90 for the round trips), records/s, CPU seconds per side, and the ratios, all measured in
this run.

usage: python bench.py WORK_DIR   (run.sh starts the broker and the stand-in and sets the environment it reads)
"""
from __future__ import annotations

import base64
import http.client
import importlib.metadata
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timezone

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

RECORDS = int(os.environ.get("BENCH_RECORDS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
ROUND_TRIPS = int(os.environ.get("BENCH_ROUND_TRIPS", "20"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
ENGINE_CORE = os.environ.get("BENCH_CORE", "1")
# The Flink side's second pass: the stand-in (gateway process and JVM) on these cores; empty to skip it.
FLINK_WIDE_CPUS = os.environ.get("BENCH_FLINK_WIDE_CPUS", "0,1")
BOOTSTRAP = os.environ["FLOE_TEST_KAFKA"]
GATEWAY, JOB_MANAGER = os.environ["FLOE_TEST_FLINK_GATEWAY"], os.environ["FLOE_TEST_FLINK_REST"]
SAVEPOINTS = os.environ["FLOE_TEST_FLINK_SAVEPOINTS"]
STANDIN_PIDS = [int(pid) for pid in (os.environ["FLINK_STANDIN_PID"] + " " + os.environ.get("FLINK_STANDIN_JVM_PIDS", "")).split()]
BROKER_PID = int(os.environ["BROKER_PID"])
WORK = sys.argv[1]

FLINK_REGION, EMBEDDED_REGION = "us-east-1", "us-west-2"
TOPIC, KEYS, STEP_MS, JITTER_MS = "bench_events", 16, 2, 2000
BASE_MS = 1_700_000_000_000
TABLE = (f"CREATE TABLE bench_events (k STRING, x BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) "
         f"WITH ('connector' = 'kafka', 'topic' = '{TOPIC}', 'properties.bootstrap.servers' = '{BOOTSTRAP}', "
         f"'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json')")
QUERY = ("SELECT window_start, window_end, k, COUNT(*) AS n, SUM(x) AS total "
         "FROM TABLE(TUMBLE(TABLE bench_events, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (all their threads), from /proc."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLOCK_TICKS


def pin(pids: list[int], cpus: str) -> None:
    """Every thread of each process onto `cpus` (threads made later inherit it from the thread that makes them)."""
    for pid in pids:
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=True, stdout=subprocess.DEVNULL)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


class Floe:
    """One `floe serve` on ENGINE_CORE whose region us-east-1 runs on the stand-in's Flink; one keep-alive connection."""

    def __init__(self) -> None:
        self.port = free_port()
        self.data = os.path.join(WORK, "floe")
        region = f"aws.{FLINK_REGION}"
        env = dict(os.environ, FLOE_DATA_DIR=self.data, FLOE_RATE_LIMIT="off")
        self.proc = subprocess.Popen(
            ["taskset", "-c", ENGINE_CORE, os.environ["FLOE_BIN"], "serve", "--port", str(self.port),
             "--flink-gateway", f"{region}={GATEWAY}", "--flink-rest", f"{region}={JOB_MANAGER}",
             "--flink-savepoint-dir", f"{region}=file://{SAVEPOINTS}"],
            env=env, stdout=open(os.path.join(WORK, "floe.log"), "w"), stderr=subprocess.STDOUT)
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        for _ in range(400):
            try:
                self.connection.request("GET", "/healthz")
                self.connection.getresponse().read()
                break
            except OSError:
                self.connection.close()
                if self.proc.poll() is not None:
                    raise RuntimeError(f"floe serve exited ({self.proc.returncode}); see {WORK}/floe.log")
                time.sleep(0.05)
        boot = json.load(open(os.path.join(self.data, "bootstrap.json")))
        self.org, self.env = boot["organization_id"], boot["environment_id"]
        self.auth = "Basic " + base64.b64encode(f"{boot['api_key']}:{boot['api_secret']}".encode()).decode()
        self.statements = f"/sql/v1/organizations/{self.org}/environments/{self.env}/statements"
        # The environment's display name as the current catalog: with its ID there, the Flink pool's declarations name
        # the catalog both ways and the session cannot find unqualified tables (seen on a7b77c4).
        self.catalog = self.call("GET", f"/org/v2/environments/{self.env}")["display_name"]

    def call(self, method: str, path: str, body: dict | None = None, expect: tuple[int, ...] = (200, 201, 202)) -> dict:
        payload = json.dumps(body).encode() if body is not None else None
        self.connection.request(method, path, body=payload, headers={"Authorization": self.auth, "Content-Type": "application/json"})
        response = self.connection.getresponse()
        data = response.read()
        if response.status not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {response.status} {data[:400]!r}")
        return json.loads(data) if data else {}

    def pool(self, name: str, region: str) -> dict:
        pool = self.call("POST", "/fcpm/v2/compute-pools", {"spec": {
            "display_name": name, "cloud": "AWS", "region": region, "max_cfu": 50, "environment": {"id": self.env}}})
        for _ in range(200):
            pool = self.call("GET", f"/fcpm/v2/compute-pools/{pool['id']}?environment={self.env}")
            if pool["status"]["phase"] == "PROVISIONED":
                return pool
            time.sleep(0.05)
        raise RuntimeError(f"pool {name} was not PROVISIONED: {pool['status']}")

    def submit(self, name: str, sql: str, pool: str) -> None:
        self.call("POST", self.statements, {"name": name, "spec": {"statement": sql, "compute_pool_id": pool, "properties": {
            "sql.current-catalog": self.catalog, "sql.current-database": "default"}}})

    def phase(self, name: str) -> dict:
        return self.call("GET", f"{self.statements}/{name}")["status"]

    def wait(self, name: str, timeout: float = 900) -> None:
        """Polls the statement every 20 ms until it ends; it must end COMPLETED."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.phase(name)
            if status["phase"] in ("COMPLETED", "FAILED", "STOPPED"):
                if status["phase"] != "COMPLETED":
                    raise RuntimeError(f"{name}: {status['phase']}: {status.get('detail')}")
                return
            time.sleep(0.02)
        raise RuntimeError(f"{name} did not end within {timeout} s")

    def results(self, name: str) -> list[dict]:
        """Every change of the statement's results, following `metadata.next` until it is empty (the server long-polls
        while the statement runs)."""
        path, changes = f"{self.statements}/{name}/results", []
        while path:
            page = self.call("GET", path)
            changes += page["results"]["data"]
            following = (page.get("metadata") or {}).get("next") or ""
            parts = urllib.parse.urlparse(following)
            path = f"{parts.path}?{parts.query}" if following else ""
        return changes

    def delete(self, name: str) -> None:
        self.call("DELETE", f"{self.statements}/{name}")

    def stop(self) -> None:
        self.connection.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Gateway:
    """The stand-in's SQL Gateway REST API straight from this client, as Floe's Flink pool uses it (a session per
    statement, JSON rows, results followed by `nextResultUri`): what the gateway and Flink take without Floe. Not a
    strict floor: this is a Python client, polling as it does here, not Floe's."""

    def __init__(self) -> None:
        parts = urllib.parse.urlparse(GATEWAY)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        payload = json.dumps(body).encode() if body is not None else None
        self.connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"gateway {method} {path}: HTTP {response.status} {data[:400]!r}")
        return json.loads(data) if data else {}

    def run(self, declarations: list[str], sql: str) -> list[list]:
        """Opens a session (with the checkpoint interval Floe's sessions have), runs the declarations, then `sql`,
        reads its rows to EOS (polling every 10 ms while NOT_READY) and closes the session."""
        session = self.call("POST", "/v3/sessions", {"sessionName": "bench-direct", "properties": {
            "execution.checkpointing.interval": "2 s"}})["sessionHandle"]
        try:
            rows: list[list] = []
            for index, statement in enumerate(declarations + [sql]):
                operation = self.call("POST", f"/v3/sessions/{session}/statements", {"statement": statement})["operationHandle"]
                uri = f"/v3/sessions/{session}/operations/{operation}/result/0?rowFormat=JSON"
                while uri:
                    page = self.call("GET", uri)
                    if page["resultType"] == "EOS":
                        break
                    if page["resultType"] == "NOT_READY":
                        time.sleep(0.01)
                    elif index == len(declarations):
                        rows += [row["fields"] for row in page["results"]["data"] if row["kind"] == "INSERT"]
                    elif index < len(declarations):
                        break  # a declaration's one page says OK
                    uri = page.get("nextResultUri")
            return rows
        finally:
            self.call("DELETE", f"/v3/sessions/{session}")

    def close(self) -> None:
        self.connection.close()


def produce() -> tuple[Counter, float]:
    """RECORDS JSON records on one partition, their timestamps up to JITTER_MS out of order (less than the watermark's
    5 s delay, so none is late). Returns the windows' expected (window_start, k) -> (count, sum), and the mean size."""
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result()
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "linger.ms": 20, "batch.num.messages": 10000})
    generator = random.Random(18)
    expected: Counter = Counter()
    size = 0
    for index in range(RECORDS):
        millis = BASE_MS + index * STEP_MS + generator.randint(-JITTER_MS, JITTER_MS)
        key, x = f"key-{generator.randrange(KEYS):02d}", generator.randrange(1000)
        stamp = datetime.fromtimestamp(millis / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        value = json.dumps({"k": key, "x": x, "ts": stamp}, separators=(",", ":")).encode()
        size += len(value)
        window = millis - millis % 10_000
        expected[(window, key, "n")] += 1
        expected[(window, key, "total")] += x
        while True:
            try:
                producer.produce(TOPIC, value=value)
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush()
    return expected, size / RECORDS


def window_rows(expected: Counter) -> set[tuple]:
    """The query's rows as (window_start ms, window_end ms, k, count, sum)."""
    return {(window, window + 10_000, key, expected[(window, key, "n")], expected[(window, key, "total")])
            for (window, key, what) in expected if what == "n"}


def parsed(rows: list[list]) -> set[tuple]:
    """Result rows (strings from sql/v1, JSON values from the gateway) as (window_start ms, window_end ms, k, count,
    sum): the timestamps are TIMESTAMP(3) wall-clock values of UTC."""
    def millis(text: str) -> int:
        moment = datetime.fromisoformat(text.replace("T", " ")).replace(tzinfo=timezone.utc)
        return round(moment.timestamp() * 1000)
    return {(millis(start), millis(end), k, int(n), int(total)) for start, end, k, n, total in rows}


def main() -> None:
    floe = None
    try:
        floe = Floe()
        run(floe)
    finally:
        # Stopped whatever happened, so a failed run leaves no server behind.
        if floe and floe.proc.poll() is None:
            floe.stop()


class Others:
    """The CPU time the machine's other processes used while the measurements ran: a build or a test run elsewhere on
    these 2 cores makes the figures meaningless, and this says whether there was one (the load average counts the
    benchmark's own processes too)."""

    def __init__(self, own: list[int]) -> None:
        self.own, self.cpu, self.wall, self.started = own, 0.0, 0.0, None

    def busy(self) -> float:
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in stat.readline().split()[1:9])
        return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS - cpu_seconds(self.own + [os.getpid()])

    def __enter__(self) -> None:
        self.started = (time.monotonic(), self.busy())

    def __exit__(self, *_) -> None:
        wall, busy = self.started
        self.wall += time.monotonic() - wall
        self.cpu += self.busy() - busy

    def __str__(self) -> str:
        share = self.cpu / (self.wall * (os.cpu_count() or 1)) if self.wall else 0
        return f"{self.cpu:.1f} CPU-s in {self.wall:.0f} s of measurements ({share:.0%} of the machine)"


def run(floe: Floe) -> None:
    cluster = floe.call("POST", "/cmk/v2/clusters", {"spec": {
        "display_name": "bench", "availability": "SINGLE_ZONE", "cloud": "AWS", "region": FLINK_REGION,
        "config": {"kind": "Basic"}, "environment": {"id": floe.env}, "kafka_bootstrap_endpoint": BOOTSTRAP}})
    for _ in range(300):
        if floe.call("GET", f"/cmk/v2/clusters/{cluster['id']}?environment={floe.env}")["status"]["phase"] == "PROVISIONED":
            break
        time.sleep(0.1)
    pools = {"embedded": floe.pool("bench-embedded", EMBEDDED_REGION), "flink": floe.pool("bench-flink", FLINK_REGION)}
    for side, pool in pools.items():
        engine = pool["status"].get("engine")
        if engine != side:
            raise RuntimeError(f"pool {pool['id']} ({pool['spec']['region']}) shows status.engine {engine!r}, expected {side!r}")
    counter = iter(range(1_000_000))

    def name(prefix: str) -> str:
        return f"{prefix}-{next(counter)}"

    # 1. `SELECT 1` round trips: POST, the results followed to their end, the phase read (COMPLETED), then DELETE
    # (not timed). Alternating between the pools, after warm-up round trips on each.
    gateway = Gateway()

    def round_trip(side: str) -> float:
        statement = name(f"rt-{side}")
        started = time.perf_counter()
        if side == "gateway":
            rows = gateway.run([], "SELECT 1")
            elapsed = time.perf_counter() - started
            if rows != [[1]]:
                raise RuntimeError(f"SELECT 1 straight on the gateway: rows {rows}")
            return elapsed
        floe.submit(statement, "SELECT 1", pools[side]["id"])
        rows = [change["row"] for change in floe.results(statement)]
        phase = floe.phase(statement)["phase"]
        elapsed = time.perf_counter() - started
        if rows != [["1"]] or phase != "COMPLETED":
            raise RuntimeError(f"{statement} on the {side} pool: {phase}, rows {rows}")
        floe.delete(statement)
        return elapsed

    others = Others([floe.proc.pid, BROKER_PID] + STANDIN_PIDS)
    pin(STANDIN_PIDS, ENGINE_CORE)
    trip_sides = ["embedded", "flink", "gateway"]
    for _ in range(WARMUP):
        for side in trip_sides:
            round_trip(side)
    trips: dict[str, list[float]] = {side: [] for side in trip_sides}
    with others:
        for _ in range(ROUND_TRIPS):
            for side in trip_sides:
                trips[side].append(round_trip(side))

    # 2. The windowed aggregation over a bounded Kafka table of JSON records.
    expected, record_size = produce()
    want = window_rows(expected)
    floe.submit("ddl", TABLE, pools["embedded"]["id"])
    floe.wait("ddl")

    def aggregation(side: str) -> tuple[float, float, float, float, set[tuple]]:
        """Seconds from POST to COMPLETED, CPU seconds of Floe, of the stand-in (gateway process and JVM; idle on the
        embedded side) and of the broker, and the rows."""
        statement = name(f"agg-{side}")
        before = [cpu_seconds([floe.proc.pid]), cpu_seconds(STANDIN_PIDS), cpu_seconds([BROKER_PID])]
        started = time.monotonic()
        if side == "gateway":
            # The same table and query straight on the gateway, in a session of their own, rows read to EOS.
            rows = gateway.run([TABLE], QUERY)
            elapsed = time.monotonic() - started
        else:
            floe.submit(statement, QUERY, pools["flink" if side != "embedded" else "embedded"]["id"])
            floe.wait(statement)
            elapsed = time.monotonic() - started
        own, standin, broker = (cpu_seconds(pids) - then for pids, then in zip([[floe.proc.pid], STANDIN_PIDS, [BROKER_PID]], before))
        if side == "gateway":
            return elapsed, own, standin, broker, parsed(rows)
        changes = floe.results(statement)
        if any(change.get("op", 0) != 0 for change in changes):
            raise RuntimeError(f"{statement}: a windowed aggregation sent changes other than inserts")
        rows = [change["row"] for change in changes]
        got = parsed(rows)
        if len(got) != len(rows):
            raise RuntimeError(f"{statement}: {len(rows)} rows, {len(got)} distinct")
        floe.delete(statement)
        return elapsed, own, standin, broker, got

    # A first aggregation on each pool, not counted (the Flink JVM's classes and JIT; the topic into the page cache).
    sides = ["embedded", "flink", "gateway"] + (["flink-wide"] if FLINK_WIDE_CPUS else [])
    warm = {side: aggregation(side)[-1] for side in sides if side != "flink-wide"}
    runs: dict[str, list[tuple[float, float, float, float]]] = {side: [] for side in sides}
    answers: dict[str, set[tuple]] = dict(warm)
    for _ in range(RUNS):
        for side in sides:
            pin(STANDIN_PIDS, FLINK_WIDE_CPUS if side == "flink-wide" else ENGINE_CORE)
            with others:
                *figures, got = aggregation(side)
            runs[side].append(tuple(figures))
            if got != answers.setdefault(side, got):
                raise RuntimeError(f"the {side} pool's rows changed from one run to the next")
    pin(STANDIN_PIDS, ENGINE_CORE)

    # What ran.
    version = " ".join(line.split(":", 1)[1].strip() for line in subprocess.run(
        [os.environ["FLOE_BIN"], "--version"], capture_output=True, text=True).stdout.splitlines()
        if line.startswith(("Version", "Git Ref")))
    connection = http.client.HTTPConnection(urllib.parse.urlparse(GATEWAY).hostname, urllib.parse.urlparse(GATEWAY).port, timeout=10)
    connection.request("GET", "/v3/info")
    flink = json.loads(connection.getresponse().read())
    connection.close()
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    build = "release" if "/release/" in os.environ["FLOE_BIN"] else "DEBUG (not a release build: slower)" if "/debug/" in os.environ["FLOE_BIN"] else "?"
    print(f"floe {version}, {build} build: {os.environ['FLOE_BIN']}")
    print(f"flink: {flink.get('productName')} {flink.get('version')}, PyFlink's MiniCluster behind the stand-in SQL Gateway "
          f"(tests/flink/standin), parallelism 1; {java}")
    print(f"broker: noida-db {importlib.metadata.version('noida-db')}; producer confluent-kafka {importlib.metadata.version('confluent-kafka')}")
    print(f"pinning: broker on core 0; floe serve on core {ENGINE_CORE}; the stand-in (gateway process and JVM, every thread) on core "
          f"{ENGINE_CORE} too, and on cores {FLINK_WIDE_CPUS} for the 'wide' runs" if FLINK_WIDE_CPUS else
          f"pinning: broker on core 0; floe serve and the stand-in (gateway process and JVM, every thread) on core {ENGINE_CORE}")
    print(f"other processes on the machine: {others}")
    print(f"pools: {pools['embedded']['id']} ({EMBEDDED_REGION}, status.engine embedded), "
          f"{pools['flink']['id']} ({FLINK_REGION}, status.engine flink)")
    print()

    print(f"1. SELECT 1 round trip (POST, results to their end, phase COMPLETED), {ROUND_TRIPS} each after {WARMUP} warm-up, alternating;")
    print("   'gateway': the same query straight on the gateway from this (Python) client, without Floe: session opened, "
          "statement, rows to EOS (polled every 10 ms while NOT_READY), session closed")
    medians = {side: statistics.median(values) for side, values in trips.items()}
    for side, values in trips.items():
        print(f"  {side:9} median {medians[side] * 1000:8.1f} ms   p90 {percentile(values, 0.9) * 1000:8.1f} ms   "
              f"min {min(values) * 1000:8.1f} ms   max {max(values) * 1000:8.1f} ms")
    print(f"  ratio flink/embedded (medians): {medians['flink'] / medians['embedded']:.1f}x   "
          f"flink/gateway: {medians['flink'] / medians['gateway']:.2f}x")
    print()

    print(f"2. windowed aggregation, {RECORDS:,} JSON records ({record_size:.0f} bytes each), 1 partition, "
          f"{len(want):,} result rows; POST to COMPLETED, median of {RUNS} after 1 warm-up each, alternating")
    print(f"   {QUERY}")
    print("   'gateway': the same table and query straight on the gateway (session, CREATE TABLE, query, rows to EOS, "
          "session closed); the stand-in on core " + ENGINE_CORE + " as for 'flink'")
    rates = {}
    print(f"  {'pool':11} {'median':>8}  {'records/s':>11}   CPU s: {'floe':>5} {'stand-in':>8} {'broker':>6}   "
          f"{'records/CPU-s':>13}   runs (s)")
    for side in sides:
        times = [figures[0] for figures in runs[side]]
        median = statistics.median(times)
        own, standin, broker = (statistics.median([figures[i] for figures in runs[side]]) for i in (1, 2, 3))
        # The engine side's CPU: Floe's alone for the embedded pool, Floe's and the stand-in's for the Flink pool, the
        # stand-in's alone straight on the gateway.
        engine = (own if side != "gateway" else 0) + (standin if side != "embedded" else 0)
        rates[side] = RECORDS / median
        label = {"embedded": "embedded", "flink": "flink", "gateway": "gateway", "flink-wide": f"flink@{FLINK_WIDE_CPUS}"}[side]
        print(f"  {label:11} {median:7.2f}s  {rates[side]:11,.0f}          {own:5.2f} {standin:8.2f} {broker:6.2f}   "
              f"{RECORDS / engine:13,.0f}   {[round(t, 2) for t in sorted(times)]}")
    print(f"  ratio flink/embedded (records/s): {rates['flink'] / rates['embedded']:.2f}   flink/gateway: {rates['flink'] / rates['gateway']:.2f}"
          + (f"   flink@{FLINK_WIDE_CPUS}/embedded: {rates['flink-wide'] / rates['embedded']:.2f}" if "flink-wide" in rates else ""))
    same = all(rows == answers["embedded"] for rows in answers.values())
    correct = answers["embedded"] == want
    print(f"  final rows: {'identical on both pools (and straight from the gateway)' if same else 'DIFFERENT between the sides'}; "
          f"{'equal to' if correct else 'DIFFERENT from'} the windows computed from what was produced")
    if not same or not correct:
        for side, rows in answers.items():
            print(f"    {side}: {len(rows)} rows, {len(rows - want)} not expected, {len(want - rows)} missing")
        sys.exit(1)


if __name__ == "__main__":
    main()
