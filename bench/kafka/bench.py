"""Kafka tables throughput (see run.sh). Prints the medians of each side and the ratios, measured in this run."""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

RECORDS = int(os.environ.get("BENCH_RECORDS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
FLOE_CORE = int(os.environ.get("BENCH_CORE", "1"))
BOOTSTRAP = os.environ["FLOE_TEST_KAFKA"]
WORK = sys.argv[1]

SCHEMA = json.dumps({"type": "record", "name": "bench_src_value", "fields": [
    {"name": "id", "type": "long"}, {"name": "name", "type": "string"}, {"name": "qty", "type": "int"},
    {"name": "amount", "type": "double"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}]})
QUERY = "SELECT id, name, amount * 2 AS doubled FROM {src} WHERE qty % 4 <> 0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Floe:
    def __init__(self, librdkafka: str | None = None) -> None:
        self.port = free_port()
        self.data = os.path.join(WORK, "floe")
        # The benchmark polls statements every 20 ms: no rate limit. A restart keeps the data directory (the
        # cluster, the registry and its schema ids, the tables); FLOE_LIBRDKAFKA picks the client library.
        env = dict(os.environ, FLOE_DATA_DIR=self.data, FLOE_RATE_LIMIT="off")
        env.pop("FLOE_LIBRDKAFKA", None)
        if librdkafka:
            env["FLOE_LIBRDKAFKA"] = librdkafka
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(FLOE_CORE), os.environ["FLOE_BIN"], "serve", "--port", str(self.port)], env=env,
            stdout=open(os.path.join(WORK, "floe.log"), "w"), stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        boot = json.load(open(os.path.join(self.data, "bootstrap.json")))
        self.key, self.secret = boot["api_key"], boot["api_secret"]
        self.org, self.env = boot["organization_id"], boot["environment_id"]
        self.auth = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        pools = self.call("GET", f"/fcpm/v2/compute-pools?environment={self.env}")["data"]
        self.pool = pools[0]["id"] if pools else self.call("POST", "/fcpm/v2/compute-pools", {"spec": {
            "display_name": "bench", "cloud": "AWS", "region": "us-east-1", "max_cfu": 50,
            "environment": {"id": self.env}}})["id"]

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(self.base + path, method=method, headers={
            "Authorization": self.auth, "Content-Type": "application/json"},
            data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return json.loads(text) if text else {}

    def statement(self, name: str, sql: str, properties: dict | None = None, timeout: float = 600) -> float:
        """Runs a statement to its end; returns the seconds from submission to its final phase."""
        started = time.monotonic()
        path = f"/sql/v1/organizations/{self.org}/environments/{self.env}/statements"
        self.call("POST", path, {"name": name, "spec": {"statement": sql, "compute_pool_id": self.pool,
                                                       "properties": properties or {}}})
        while time.monotonic() - started < timeout:
            phase = self.call("GET", f"{path}/{name}")["status"]
            if phase["phase"] in ("COMPLETED", "FAILED", "STOPPED"):
                if phase["phase"] != "COMPLETED":
                    raise RuntimeError(f"{name}: {phase['phase']}: {phase.get('detail')}")
                return time.monotonic() - started
            time.sleep(0.02)
        raise RuntimeError(f"{name} did not end within {timeout} s")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def wheel_librdkafka() -> str | None:
    """The librdkafka bundled in the confluent-kafka wheel (the plain consumer's own client library)."""
    import confluent_kafka
    libs = os.path.join(os.path.dirname(os.path.dirname(confluent_kafka.__file__)), "confluent_kafka.libs")
    found = sorted(name for name in os.listdir(libs) if name.startswith("librdkafka")) if os.path.isdir(libs) else []
    return os.path.join(libs, found[0]) if found else None


def main() -> None:
    servers: list[Floe] = []
    try:
        run(servers)
    finally:
        # Stopped whatever happened, so a failed run leaves no server behind.
        for floe in servers:
            if floe.proc.poll() is None:
                floe.stop()


def run(servers: list[Floe]) -> None:
    floe = Floe()
    servers.append(floe)
    cluster = floe.call("POST", "/cmk/v2/clusters", {"spec": {
        "display_name": "bench", "availability": "SINGLE_ZONE", "cloud": "AWS", "region": "us-east-1",
        "config": {"kind": "Basic"}, "environment": {"id": floe.env}, "kafka_bootstrap_endpoint": BOOTSTRAP}})
    for _ in range(300):
        if floe.call("GET", f"/cmk/v2/clusters/{cluster['id']}?environment={floe.env}")["status"]["phase"] == "PROVISIONED":
            break
        time.sleep(0.1)
    registry_url = floe.call("GET", f"/srcm/v3/clusters?environment={floe.env}")["data"][0]["spec"]["http_endpoint"]

    # The source topic: one partition of RECORDS Avro records (~85 bytes framed), written through Floe's registry.
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    admin.create_topics([NewTopic("bench_src", 1, 1)])["bench_src"].result()
    registry = SchemaRegistryClient({"url": registry_url, "basic.auth.user.info": f"{floe.key}:{floe.secret}"})
    serializer = AvroSerializer(registry, SCHEMA)
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "linger.ms": 20, "batch.num.messages": 10000})
    context = SerializationContext("bench_src", MessageField.VALUE)
    size = 0
    for index in range(RECORDS):
        value = serializer({"id": index, "name": f"item-{index % 1000:04d}-of-the-benchmark-catalogue-{index % 7}", "qty": index % 97, "amount": index * 0.25,
                            "ts": 1_700_000_000_000 + index}, context)
        size += len(value)
        while True:
            try:
                producer.produce("bench_src", value=value)
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush()
    print(f"source: {RECORDS} records, {size / RECORDS:.1f} bytes each (framed Avro), 1 partition")
    expected = sum(1 for index in range(RECORDS) if (index % 97) % 4 != 0)

    # The same rows in an embedded log table, copied once by Floe.
    floe.statement("copy-ddl", "CREATE TABLE `default`.src_log (id BIGINT, name STRING, qty INT, amount DOUBLE, ts TIMESTAMP_LTZ(3))")
    floe.statement("copy", "INSERT INTO `default`.src_log SELECT id, name, qty, amount, ts FROM bench.bench_src",
                   {"sql.snapshot.mode": "now"})

    kafka_times, wheel_times, log_times, consumer_times = [], [], [], []
    wheel = wheel_librdkafka()
    for run in range(RUNS):
        floe.statement(f"k-ddl-{run}", f"CREATE TABLE bench.sink_{run} (id BIGINT, name STRING, doubled DOUBLE)")
        kafka_times.append(floe.statement(
            f"k-{run}", f"INSERT INTO bench.sink_{run} " + QUERY.format(src="bench.bench_src"), {"sql.snapshot.mode": "now"}))
        floe.statement(f"l-ddl-{run}", f"CREATE TABLE `default`.log_sink_{run} (id BIGINT, name STRING, doubled DOUBLE)")
        log_times.append(floe.statement(
            f"l-{run}", f"INSERT INTO `default`.log_sink_{run} " + QUERY.format(src="`default`.src_log"), {"sql.snapshot.mode": "now"}))
        # The plain consumer, alone on Floe's core, reads the source topic to its end.
        os.sched_setaffinity(0, {FLOE_CORE})
        consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"bench-{run}", "enable.auto.commit": False,
                             "isolation.level": "read_committed"})
        consumer.assign([TopicPartition("bench_src", 0, 0)])
        started, seen = time.monotonic(), 0
        while seen < RECORDS:
            seen += sum(1 for message in consumer.consume(10000, timeout=1.0) if message.error() is None)
        consumer_times.append(time.monotonic() - started)
        consumer.close()
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))

    # The same Kafka runs with the consumer's own librdkafka (the wheel's) in Floe: a restart of the same server.
    if wheel:
        floe.stop()
        floe = Floe(librdkafka=wheel)
        servers.append(floe)
        for run in range(RUNS):
            floe.statement(f"w-ddl-{run}", f"CREATE TABLE bench.wsink_{run} (id BIGINT, name STRING, doubled DOUBLE)")
            wheel_times.append(floe.statement(
                f"w-{run}", f"INSERT INTO bench.wsink_{run} " + QUERY.format(src="bench.bench_src"), {"sql.snapshot.mode": "now"}))

    # The sink really holds the expected rows (read committed).
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "bench-check", "isolation.level": "read_committed"})
    partitions = consumer.list_topics("sink_0", timeout=10).topics["sink_0"].partitions
    consumer.assign([TopicPartition("sink_0", p, 0) for p in partitions])
    written, idle = 0, 0
    while idle < 5:
        batch = consumer.consume(10000, timeout=1.0)
        idle = 0 if batch else idle + 1
        written += sum(1 for message in batch if message.error() is None)
    consumer.close()

    def rate(times: list[float]) -> float:
        return RECORDS / statistics.median(times)

    floe_kafka, floe_log, plain = rate(kafka_times), rate(log_times), rate(consumer_times)
    import confluent_kafka
    system_version = subprocess.run(["sh", "-c", "dpkg-query -W -f '${Version}' librdkafka1 2>/dev/null"], capture_output=True, text=True).stdout
    version = next((line.split(":", 1)[1].strip() for line in subprocess.run(
        [os.environ["FLOE_BIN"], "--version"], capture_output=True, text=True).stdout.splitlines() if line.startswith(("Version", "Git Ref"))), "?")
    print(f"floe: {version} ({os.environ['FLOE_BIN']}), pinned to core {FLOE_CORE}; broker noida-db on core 0")
    print(f"query: {QUERY.format(src='<src>')}  ({expected} of {RECORDS} rows pass; the Kafka sink holds {written})")
    print(f"runs: {RUNS}, medians of statement submission to COMPLETED (Floe) / assign to last record (consumer)")
    print(f"librdkafka: Floe's system library {system_version or '?'}; confluent-kafka {confluent_kafka.__version__} "
          f"with its bundled librdkafka {confluent_kafka.libversion()[0]}")
    print(f"  Floe, Kafka topic -> Kafka topic (transactions): {floe_kafka:12,.0f} records/s  {sorted(kafka_times)}")
    if wheel_times:
        floe_wheel = rate(wheel_times)
        print(f"  the same, Floe on the wheel's librdkafka:        {floe_wheel:12,.0f} records/s  {sorted(wheel_times)}")
    print(f"  Floe, log table -> log table:                    {floe_log:12,.0f} records/s  {sorted(log_times)}")
    print(f"  confluent-kafka Consumer.consume(10000):         {plain:12,.0f} records/s  {sorted(consumer_times)}")
    print(f"ratio Kafka/log table: {floe_kafka / floe_log:.2f}   ratio Kafka/plain consumer: {floe_kafka / plain:.2f} (target >= 0.5)")
    if wheel_times:
        print(f"ratio Kafka/plain consumer, both on librdkafka {confluent_kafka.libversion()[0]}: {floe_wheel / plain:.2f}")


if __name__ == "__main__":
    main()
