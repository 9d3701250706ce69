"""What Floe's Apache Flink backend tests share (tests/flink/test_flink_backend.py, test_differential.py): a
``floe serve`` mapped onto the stand-in gateway, the test broker attached as a Kafka cluster, a compute pool on Flink
and one on the embedded engine, the JobManager REST of the stand-in's MiniCluster, and Kafka topics written and read
with confluent-kafka.

Environment (tests/flink/run.sh exports all of them): FLOE_TEST_FLINK_GATEWAY (the SQL Gateway REST API),
FLOE_TEST_FLINK_REST (the JobManager REST), FLOE_TEST_FLINK_SAVEPOINTS (the savepoint directory), FLOE_TEST_KAFKA
(the broker), FLOE_BIN (the binary; tests/compat/floe_harness.py's default otherwise).

The server maps ``aws.us-east-1`` onto the stand-in (``--flink-gateway``/``--flink-rest``/``--flink-savepoint-dir``);
the embedded pool is in ``aws.us-west-2``, which no flag names. The Flink job of a statement is named
``floe-<statement uid>`` (its ``pipeline.name``), which is how the tests find it in ``/jobs/overview``.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))
sys.path.insert(0, str(HERE.parent / "kafka"))

from floe_harness import FloeServer, SkipStep, check  # noqa: E402
from kafka_e2e import TERMINAL, SQLClient, difference, multiset  # noqa: E402,F401 - re-exported for the tests

GATEWAY = os.environ.get("FLOE_TEST_FLINK_GATEWAY", "").rstrip("/")
JOBMANAGER = os.environ.get("FLOE_TEST_FLINK_REST", "").rstrip("/")
SAVEPOINTS = os.environ.get("FLOE_TEST_FLINK_SAVEPOINTS", "")
KAFKA = os.environ.get("FLOE_TEST_KAFKA", "")

CLOUD = "AWS"
FLINK_REGION = "us-east-1"  # mapped onto the stand-in
EMBEDDED_REGION = "us-west-2"  # not mapped: the embedded engine
FLINK_REGION_ID = f"{CLOUD.lower()}.{FLINK_REGION}"
DATABASE = "default"  # the environment's embedded database, where Flink kafka/upsert-kafka tables are created

# Job states of the JobManager that are not final (Flink's JobStatus).
JOB_ACTIVE = {"INITIALIZING", "CREATED", "RUNNING", "FAILING", "CANCELLING", "RESTARTING", "RECONCILING", "SUSPENDED"}


def missing_environment() -> str:
    """Which of the variables the suites need are unset (empty when none is)."""
    names = {"FLOE_TEST_FLINK_GATEWAY": GATEWAY, "FLOE_TEST_FLINK_REST": JOBMANAGER,
             "FLOE_TEST_FLINK_SAVEPOINTS": SAVEPOINTS, "FLOE_TEST_KAFKA": KAFKA}
    return ", ".join(name for name, value in names.items() if not value)


def flink_server(label: str) -> FloeServer:
    """A ``floe serve`` (not started) whose ``aws.us-east-1`` runs on the stand-in; savepoints go to the stand-in's
    savepoint directory, given as the ``file://`` URI Flink's file systems take."""
    return FloeServer(label=label, extra_args=[
        "--flink-gateway", f"{FLINK_REGION_ID}={GATEWAY}",
        "--flink-rest", f"{FLINK_REGION_ID}={JOBMANAGER}",
        "--flink-savepoint-dir", f"{FLINK_REGION_ID}={Path(SAVEPOINTS).resolve().as_uri()}",
    ])


def log_tail(server: FloeServer, lines: int = 60) -> str:
    """The end of the server's log without its per-request lines (polling floods them)."""
    try:
        text = server.log_path.read_text(errors="replace").splitlines()
    except (OSError, AttributeError):
        return "(no log)"
    return "\n".join([line for line in text if "[FloeServer] request" not in line][-lines:])


# ------------------------------------------------------------------------------------------------ changelogs
def materialize(changes: list[dict]) -> Counter:
    """The rows a changelog ends with: +I (0) and +U (2) add a row, -U (1) and -D (3) take one away, which must be
    there to take (a retraction of a row never added is a bug worth reporting, not something to paper over)."""
    rows: Counter = Counter()
    for change in changes:
        row, op = tuple(change["row"]), change.get("op", 0)
        if op in (0, 2):
            rows[row] += 1
        else:
            check(rows[row] > 0, f"op {op} retracts {list(row)}, which is not in the result")
            rows[row] -= 1
            if not rows[row]:
                del rows[row]
    return rows


# ------------------------------------------------------------------------------------------------ Floe
class Floe(SQLClient):
    """sql/v1 and the control plane (``SQLClient``) with statements on one compute pool; ``other`` gives a client of
    the same server on another pool (statement names get its own label)."""

    def __init__(self, server: FloeServer, label: str, run: str):
        super().__init__(server, label, run, DATABASE)

    def on_pool(self, label: str, pool: str) -> "Floe":
        other = Floe(self.server, label, self.run_id)
        other.pool = pool
        return other

    def relative(self, url: str) -> str:
        """A results `next` link as a path, so that it is followed on the server's current port (it moves when the
        server is restarted)."""
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def materialized(self, name: str, timeout: float = 60) -> Counter:
        return materialize(self.changes(name, timeout))

    def uid(self, name: str) -> str:
        return self.status(name)["metadata"]["uid"]

    def delete(self, name: str) -> None:
        status, _, raw = self.call("DELETE", f"{self.statements()}/{name}")
        check(status in (200, 202, 204), f"DELETE {name}: HTTP {status} {raw[:300]!r}")

    def exceptions(self, name: str) -> list[dict]:
        status, doc, raw = self.call("GET", f"{self.statements()}/{name}/exceptions")
        check(status == 200, f"GET {name}/exceptions: HTTP {status} {raw[:300]!r}")
        return doc["data"]

    # ---------------------------------------------------------------------------------------------- control plane
    def attach_cluster(self, bootstrap: str) -> str:
        """Attaches the broker as a Kafka cluster of the environment (noida-db takes any PLAIN credentials)."""
        spec = {"display_name": f"{self.label}-{self.run_id}", "availability": "SINGLE_ZONE", "cloud": CLOUD,
                "region": FLINK_REGION, "config": {"kind": "Basic"}, "environment": {"id": self.env},
                "kafka_bootstrap_endpoint": bootstrap,
                "credentials": {"mechanism": "PLAIN", "username": "floe", "password": "pw-" + secrets.token_hex(8)}}
        status, doc, raw = self.call("POST", "/cmk/v2/clusters", {"spec": spec})
        check(status == 202, f"POST cluster: HTTP {status} {raw[:400]!r}")
        lkc = doc["id"]
        deadline = time.monotonic() + 15
        while doc["status"]["phase"] == "PROVISIONING":
            check(time.monotonic() < deadline, f"cluster {lkc} still PROVISIONING after 15 s")
            time.sleep(0.2)
            status, doc, raw = self.call("GET", f"/cmk/v2/clusters/{lkc}?environment={self.env}")
            check(status == 200, f"GET cluster: HTTP {status} {raw[:300]!r}")
        check(doc["status"]["phase"] == "PROVISIONED", f"cluster ended {doc['status']!r}")
        return lkc

    def create_pool(self, region: str) -> dict:
        """A compute pool in AWS `region`, once PROVISIONED (its document)."""
        body = {"spec": {"display_name": f"{self.label}-{region}-{self.run_id}", "cloud": CLOUD, "region": region,
                         "max_cfu": 10, "environment": {"id": self.env}}}
        status, doc, raw = self.call("POST", "/fcpm/v2/compute-pools", body)
        check(status == 202, f"POST compute pool in {region}: HTTP {status} {raw[:300]!r}")
        pool = doc["id"]
        deadline = time.monotonic() + 30
        while True:
            doc = self.pool_doc(pool)
            if doc["status"]["phase"] == "PROVISIONED":
                return doc
            check(time.monotonic() < deadline, f"pool {pool} not PROVISIONED after 30 s: {doc!r}")
            time.sleep(0.1)

    def pool_doc(self, pool: str) -> dict:
        status, doc, raw = self.call("GET", f"/fcpm/v2/compute-pools/{pool}?environment={self.env}")
        check(status == 200, f"GET compute pool {pool}: HTTP {status} {raw[:300]!r}")
        return doc


class Results:
    """Reads a (running) statement's results page by page, following `next` on the server's current port, so that
    it can go on across a restart of the server; ``changes`` holds every change read so far."""

    def __init__(self, floe: Floe, name: str):
        self.floe = floe
        self.name = name
        self.url: str | None = f"{floe.statements()}/{name}/results"
        self.changes: list[dict] = []

    def poll(self) -> list[dict]:
        """One page (maybe empty); afterwards ``url`` is the next link, None once the results ended."""
        if self.url is None:
            return []
        page, nxt = self.floe.results_page(self.url)
        self.changes += page
        self.url = self.floe.relative(nxt) if nxt else None
        return page

    def until(self, wanted, what: str, timeout: float = 60) -> None:
        """Polls until ``wanted(changes)`` holds."""
        deadline = time.monotonic() + timeout
        while not wanted(self.changes):
            check(self.url is not None, f"{what}: the results of {self.name} ended: {self.changes[-5:]}")
            check(time.monotonic() < deadline,
                  f"{what}: not within {timeout:.0f}s; {len(self.changes)} changes read, last {self.changes[-5:]}")
            if not self.poll():
                time.sleep(0.3)


# ------------------------------------------------------------------------------------------------ JobManager REST
def jm(method: str, path: str, body: object | None = None, timeout: float = 30) -> tuple[int, object, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(JOBMANAGER + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read().decode()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, raw


def jobs_named(name: str) -> list[dict]:
    """The MiniCluster's jobs called `name` (``/jobs/overview``: jid, name, state, start-time …), oldest first."""
    status, doc, raw = jm("GET", "/jobs/overview")
    check(status == 200, f"GET /jobs/overview: HTTP {status} {raw[:300]}")
    return sorted((job for job in doc["jobs"] if job["name"] == name), key=lambda job: job.get("start-time", 0))


def statement_jobs(floe: Floe, name: str) -> list[dict]:
    """The Flink jobs of statement `name` (named ``floe-<uid>``), oldest first."""
    return jobs_named(f"floe-{floe.uid(name)}")


def wait_jobs(floe: Floe, name: str, wanted, what: str, timeout: float = 30) -> list[dict]:
    """Polls the statement's jobs until ``wanted(jobs)`` holds; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = statement_jobs(floe, name)
        if wanted(jobs):
            return jobs
        check(time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s; jobs of {name}: "
                                           f"{[(job['jid'], job['state']) for job in jobs]}")
        time.sleep(0.3)


def cancel_active_jobs(prefix: str = "floe-") -> list[str]:
    """Cancels the MiniCluster's unfinished jobs whose name starts with `prefix` (a cleanup after a failed step,
    so that a leftover unbounded job does not eat one of the machine's two cores); returns their ids."""
    status, doc, _ = jm("GET", "/jobs/overview")
    if status != 200:
        return []
    cancelled = []
    for job in doc["jobs"]:
        if job["name"].startswith(prefix) and job["state"] in JOB_ACTIVE:
            jm("PATCH", f"/jobs/{job['jid']}?mode=cancel")
            cancelled.append(job["jid"])
    return cancelled


# ------------------------------------------------------------------------------------------------ Kafka
class Kafka:
    """Topics on the test broker: created, written with record timestamps, read back as a read_committed consumer
    from offset 0 (a new consumer each time, as tests/kafka does)."""

    def __init__(self, bootstrap: str, run: str):
        from confluent_kafka.admin import AdminClient

        self.bootstrap = bootstrap
        self.run = run
        self.admin = AdminClient({"bootstrap.servers": bootstrap})

    def create_topic(self, name: str, partitions: int = 1) -> str:
        from confluent_kafka.admin import NewTopic

        self.admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[name].result(15)
        deadline = time.monotonic() + 10
        while len(self.admin.list_topics(name, timeout=10).topics[name].partitions) != partitions:
            check(time.monotonic() < deadline, f"topic {name} has not {partitions} partitions")
            time.sleep(0.1)
        return name

    def produce(self, topic: str, records: list[tuple[object, dict, int | None]]) -> list[tuple[int, int]]:
        """Writes (key or None, JSON value, timestamp ms or None) records in order; their (partition, offset)."""
        from confluent_kafka import Producer

        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True})
        reports: list[tuple[int, int] | None] = [None] * len(records)
        for i, (key, value, stamp) in enumerate(records):
            def report(error, message, i=i) -> None:
                reports[i] = (-1, -1) if error else (message.partition(), message.offset())

            producer.produce(topic, key=None if key is None else json.dumps(key).encode(),
                             value=json.dumps(value).encode(), timestamp=stamp or 0, on_delivery=report)
            producer.poll(0)
        left = producer.flush(15)
        check(left == 0 and all(r is not None and r[1] >= 0 for r in reports),
              f"{left} records to {topic} not delivered: {reports[:5]}")
        return reports  # type: ignore[return-value]

    def read_committed(self, topic: str, timeout: float = 30) -> list[tuple[int, int, bytes | None, bytes]]:
        """Every committed record of `topic` from offset 0: (partition, offset, key, value)."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

        partitions = len(self.admin.list_topics(topic, timeout=10).topics[topic].partitions)
        consumer = Consumer({
            "bootstrap.servers": self.bootstrap, "group.id": f"flink-e2e-reader-{self.run}",
            "enable.auto.commit": False, "isolation.level": "read_committed", "enable.partition.eof": True,
            "auto.offset.reset": "error"})
        records = []
        try:
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
            pending = set(range(partitions))
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                message = consumer.poll(0.2)
                if message is None:
                    continue
                if message.error():
                    check(message.error().code() == KafkaError._PARTITION_EOF, f"consumer of {topic}: {message.error()}")
                    pending.discard(message.partition())
                    continue
                records.append((message.partition(), message.offset(), message.key(), message.value()))
                pending.add(message.partition())
        finally:
            consumer.close()
        check(not pending, f"partitions {sorted(pending)} of {topic} not read to their end in {timeout:.0f}s")
        return records

    def values(self, topic: str) -> Counter:
        """The committed records' JSON values, as a multiset of their sorted items."""
        return Counter(tuple(sorted(json.loads(value).items())) for _, _, _, value in self.read_committed(topic))


def need(state: dict, key: str):
    """A value an earlier step left in `state`, else the step is skipped (the earlier step has failed)."""
    if key not in state:
        raise SkipStep(f"needs '{key}' from an earlier step")
    return state[key]
