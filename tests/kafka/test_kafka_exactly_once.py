"""INSERT INTO Kafka tables, exactly once: across ``kill -9`` of the server, statement stop/resume, a second
statement started from a stopped one's ``status.latest_offsets``, and a zombie writer fenced by its transactional id.

Starts the real ``floe serve`` (tests/compat/floe_harness.py: a free port, a temporary data directory, generated
bootstrap credentials), attaches the broker named by ``FLOE_TEST_KAFKA`` (tests/kafka/run.sh starts a noida-db one)
as a Kafka cluster of the default environment through ``cmk/v2``, and produces Avro records with unique ids to a
3-partition source topic with confluent-kafka's ``AvroSerializer`` (registering through Floe's Schema Registry).
``INSERT INTO … SELECT`` statements submitted through ``sql/v1`` write three sinks created with CREATE TABLE: an
append table (a filter), an upsert table (a count per user) and an upsert table whose HAVING clause deletes keys
(tombstones). Then: ``kill -9`` of the server three times (restarted on the same data directory) while a producer
keeps writing; stop and resume of a statement (PATCH ``spec.stopped``); a STOPPED statement's ``latest_offsets`` set
verbatim as ``scan.startup.specific-offsets`` for a second INSERT; and a confluent-kafka producer taking the
transactional.id ``floe-<statement uid>``, which must fail the statement as fenced.

Every check reads a sink anew from offset 0 with a ``read_committed`` consumer (partitions assigned, no group) and
``AvroDeserializer``: what a new transactional reader sees; nothing here reads uncommitted records. (A consumer kept
open across the kill -9 restarts loses rows on noida-db. Its read_committed Fetch responses keep listing an aborted
transaction past its ABORT marker, so librdkafka drops what the restarted writer, same transactional.id and so same
producer id, commits afterwards. Kafka does not do this; see tests/kafka/run.sh.)

Floe writes each checkpoint's output as one Kafka transaction. The checks: the append sink holds every expected row
exactly once (no duplicate, nothing missing, nothing else); each key of the count sink shows strictly increasing
counts ending at the true count (a replayed checkpoint would repeat a count); the HAVING sink ends with the true count or a tombstone per key. Expected results are computed from what
the producers wrote (their delivery reports give partitions and offsets); nothing is hard-coded.

Run: ``FLOE_TEST_KAFKA=127.0.0.1:PORT .venv/kafka/bin/python tests/kafka/test_kafka_exactly_once.py`` (or through
tests/kafka/run.sh). FLOE_BIN names the binary (default .build/debug/floe). Without FLOE_TEST_KAFKA every step is
reported as SKIP. Prints one PASS/FAIL/SKIP line per step and ``N passed, M failed``.
"""
from __future__ import annotations

import json
import os
import random
import secrets
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))
sys.path.insert(0, str(HERE))

from floe_harness import FloeServer, SkipStep, Steps, check, exit_on_signals, start_or_exit  # noqa: E402
from kafka_e2e import TERMINAL, SQLClient, difference  # noqa: E402

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

REGION, CLOUD = "us-east-1", "AWS"
RUN = secrets.token_hex(3)  # topic names are unique per run: run.sh shares one broker between modules
SOURCE_PARTITIONS = 3
USERS = [f"u{i}" for i in range(8)]
# The append sink keeps the rows whose amount is below this; amounts are drawn from 0..99.
THRESHOLD = 60

CLICK = {
    "type": "record", "name": "Click", "namespace": "floe.eo",
    "fields": [{"name": "id", "type": "long"}, {"name": "who", "type": "string"}, {"name": "amount", "type": "int"}],
}


def topic_name(what: str) -> str:
    return f"eo_{what}_{RUN}"


class Floe(SQLClient):
    """The control plane and sql/v1 (``SQLClient``) with the bootstrap Cloud key; follows the server's port."""

    def __init__(self, server: FloeServer):
        super().__init__(server, "eo", RUN)

    def registry(self) -> SchemaRegistryClient:
        """A client of the environment's registry at the server's current address (it moves with each restart)."""
        status, listed, raw = self.call("GET", f"/srcm/v3/clusters?environment={self.env}")
        check(status == 200 and len(listed["data"]) == 1, f"srcm: HTTP {status} {raw[:300]!r}")
        url = listed["data"][0]["spec"]["http_endpoint"]
        return SchemaRegistryClient({"url": url, "basic.auth.user.info": f"{self.boot.api_key}:{self.boot.api_secret}"})

    def run(self, sql: str, timeout: float = 60) -> None:
        """Runs a DDL statement to COMPLETED."""
        self.wait(self.submit(sql), {"COMPLETED"}, timeout)

    def running(self, name: str) -> None:
        """Fails unless the statement is RUNNING now (it has not ended on its own)."""
        phase = self.status(name)["status"]
        check(phase["phase"] == "RUNNING", f"{name} is {phase['phase']} ({phase.get('detail')!r}), expected RUNNING")


class SinkReader:
    """What a new read_committed consumer of a topic sees: each `drain` reads every partition from its beginning.

    A fresh consumer each time, from offset 0, rather than one kept across the test: on noida-db a reader whose fetches
    start past a fenced transaction's ABORT marker drops the writer's later commits (see the module's docstring)."""

    def __init__(self, bootstrap: str, topic: str, partitions: int):
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.records: list[tuple[int, int, bytes | None, bytes | None]] = []  # partition, offset, key, value
        self._decoded: dict[tuple[int, int], tuple[object, object]] = {}
        self._registry: SchemaRegistryClient | None = None
        self._deserializer: AvroDeserializer | None = None

    def drain(self, timeout: float = 15) -> None:
        """Reads every partition from offset 0 to its (committed) end; fails when that takes over `timeout`."""
        consumer = Consumer({
            "bootstrap.servers": self.bootstrap, "group.id": f"eo-reader-{RUN}", "enable.auto.commit": False,
            "isolation.level": "read_committed", "enable.partition.eof": True, "auto.offset.reset": "error"})
        try:
            consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in range(self.partitions)])
            records = []
            pending = set(range(self.partitions))
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                message = consumer.poll(0.2)
                if message is None:
                    continue
                if message.error():
                    check(message.error().code() == KafkaError._PARTITION_EOF,
                          f"consumer of {self.topic}: {message.error()}")
                    pending.discard(message.partition())
                    continue
                records.append((message.partition(), message.offset(), message.key(), message.value()))
                pending.add(message.partition())
        finally:
            consumer.close()
        check(not pending, f"partitions {sorted(pending)} of {self.topic} not read to their end in {timeout:.0f}s")
        self.records = records

    def decoded(self, registry: SchemaRegistryClient) -> list[tuple[object, object]]:
        """(key, value) of every record read, each decoded with AvroDeserializer (None stays None: a tombstone).
        Records decoded before are not decoded again; `registry` is the one at the server's current address."""
        if self._registry is not registry:
            self._registry, self._deserializer = registry, AvroDeserializer(registry)
        keys = SerializationContext(self.topic, MessageField.KEY)
        values = SerializationContext(self.topic, MessageField.VALUE)
        result = []
        for partition, offset, k, v in self.records:
            if (partition, offset) not in self._decoded:
                self._decoded[(partition, offset)] = (None if k is None else self._deserializer(k, keys),
                                                      None if v is None else self._deserializer(v, values))
            result.append(self._decoded[(partition, offset)])
        return result


def main() -> None:
    exit_on_signals()
    bootstrap = os.environ.get("FLOE_TEST_KAFKA", "")
    steps = Steps("kafka tables exactly once (INSERT INTO, kill -9, stop/resume, latest_offsets, fencing)")
    if not bootstrap:
        def no_broker() -> None:
            raise SkipStep("FLOE_TEST_KAFKA is not set (tests/kafka/run.sh starts a broker)")

        steps.run("FLOE_TEST_KAFKA names a broker", no_broker)
        steps.finish()
    server = start_or_exit(FloeServer(label="kafka-eo"))
    try:
        run(steps, server, bootstrap)
    finally:
        server.stop()  # keeps the data directory and log when COMPAT_KEEP=1
    steps.finish()


def run(steps: Steps, server: FloeServer, bootstrap: str) -> None:
    floe = Floe(server)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    source = topic_name("clicks")
    state: dict = {}
    writers: dict[str, str] = {}  # sink topic -> the statement writing it, for failure messages
    # Every record produced to the source: (id, who, amount, partition, offset), from the delivery reports.
    produced: list[tuple[int, str, int, int, int]] = []
    ids = iter(range(10_000, 10_000_000))
    rng = random.Random(secrets.randbits(32))

    def need(key: str):
        if key not in state:
            raise SkipStep(f"needs '{key}' from an earlier step")
        return state[key]

    def create_topic(name: str, partitions: int) -> None:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[name].result(15)
        deadline = time.monotonic() + 10
        while len(admin.list_topics(name, timeout=10).topics[name].partitions) != partitions:
            check(time.monotonic() < deadline, f"topic {name} has not {partitions} partitions")
            time.sleep(0.1)

    def encode(count: int, users: list[str] | None = None,
               tail: bool = False) -> list[tuple[int, str, int, int, bytes]]:
        """`count` clicks of random users (or one click of each of `users`, in order), serialized by AvroSerializer
        through Floe's registry, for the source's partitions round-robin (explicitly, so every partition gets some);
        with `tail`, one more record per partition that passes the append sink's filter, so a statement whose sink
        shows every expected row has read every partition to its end. Encoding first lets `send` write them while
        the server (and so the registry) is down."""
        serializer = AvroSerializer(need("registry"), json.dumps(CLICK))
        context = SerializationContext(source, MessageField.VALUE)
        whos = users if users is not None else [rng.choice(USERS) for _ in range(count)]
        planned = [(next(ids), who, rng.randrange(100), i % SOURCE_PARTITIONS) for i, who in enumerate(whos)]
        if tail:
            planned += [(next(ids), rng.choice(USERS), rng.randrange(THRESHOLD), p) for p in range(SOURCE_PARTITIONS)]
        return [(id_, who, amount, partition, serializer({"id": id_, "who": who, "amount": amount}, context))
                for id_, who, amount, partition in planned]

    def send(encoded: list[tuple[int, str, int, int, bytes]]) -> list[tuple[int, str, int, int, int]]:
        """Writes encoded clicks; returns them as delivered (id, who, amount, partition, offset)."""
        producer = Producer({"bootstrap.servers": bootstrap})
        reports: dict[int, tuple[int, int]] = {}
        for id_, _, _, partition, value in encoded:
            producer.produce(source, value=value, partition=partition,
                             on_delivery=lambda error, message, id_=id_: reports.__setitem__(
                                 id_, (-1, -1) if error else (message.partition(), message.offset())))
        left = producer.flush(15)
        check(left == 0 and len(reports) == len(encoded), f"{left} records not delivered, {len(reports)} reports")
        check(all(offset >= 0 for _, offset in reports.values()), "some records were not delivered")
        batch = [(id_, who, amount, *reports[id_]) for id_, who, amount, _, _ in encoded]
        produced.extend(batch)
        return batch

    def produce(count: int, users: list[str] | None = None, tail: bool = False) -> list[tuple[int, str, int, int, int]]:
        return send(encode(count, users, tail))

    def appended(records) -> Counter:
        """The append sink's expected rows for these source records."""
        return Counter((i, w, a) for i, w, a, _, _ in records if a < THRESHOLD)

    def counts() -> dict[str, int]:
        return dict(Counter(w for _, w, _, _, _ in produced))

    def insert(sink: str, query: str) -> str:
        """Submits INSERT INTO `sink` `query` and waits until it is RUNNING."""
        name = floe.submit(f"INSERT INTO `{sink}` {query}")
        writers[sink] = name
        floe.wait(name, {"RUNNING"})
        return name

    def reader(name: str) -> SinkReader:
        metadata = admin.list_topics(name, timeout=10).topics[name]
        check(metadata.error is None and metadata.partitions, f"sink topic {name}: {metadata.error}")
        return SinkReader(bootstrap, name, len(metadata.partitions))

    def rows_of(sink: SinkReader) -> Counter:
        rows = Counter()
        for _, value in sink.decoded(need("registry")):
            check(value is not None, f"a tombstone in the append sink {sink.topic}")
            rows[(value["id"], value["who"], value["amount"])] += 1
        return rows

    def per_key(sink: SinkReader) -> dict[str, list[int | None]]:
        """Each key's values in the order the upsert sink holds them (None: a tombstone)."""
        history: dict[str, list[int | None]] = defaultdict(list)
        for key, value in sink.decoded(need("registry")):
            check(isinstance(key, dict) and "who" in key, f"upsert key {key!r} is not the {{who}} record")
            history[key["who"]].append(None if value is None else value["cnt"])
        return history

    def wait_for(what: str, sink: SinkReader, done: Callable[[], bool], explain: Callable[[], str],
                 timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while True:
            sink.drain()
            if done():
                return
            if time.monotonic() >= deadline:
                writer = writers.get(sink.topic)
                status = floe.status(writer)["status"] if writer else {}
                check(False, f"{what} not reached within {timeout:.0f}s: {explain()} "
                             f"(its writer {writer} is {status.get('phase')}: {status.get('detail')!r})")

    def wait_append(sink: SinkReader, expected: Counter, timeout: float = 40) -> None:
        """Until the sink holds `expected` (and then a little longer, so a late duplicate would show). A duplicate or
        an unexpected row fails at once: committed records never go away."""
        def done() -> bool:
            seen = rows_of(sink)
            check(not (seen - expected), f"append sink {sink.topic}: {difference(seen, expected)}")
            return seen == expected

        wait_for(f"append sink {sink.topic}", sink, done, lambda: difference(rows_of(sink), expected), timeout)
        time.sleep(1.5)
        sink.drain()
        seen = rows_of(sink)
        check(seen == expected, f"append sink {sink.topic} after settling: {difference(seen, expected)}")

    def count_problems(sink: SinkReader, expected: dict[str, int]) -> list[str]:
        """Counts must end at `expected` and strictly increase per key: a repeated or lost checkpoint would show."""
        problems = []
        history = per_key(sink)
        for who in sorted(set(history) | set(expected)):
            values = history.get(who, [])
            if not values or values[-1] != expected.get(who):
                problems.append(f"{who}: latest {values[-1:]} != {expected.get(who)}")
            elif any(v is None for v in values) or any(b <= a for a, b in zip(values, values[1:])):
                problems.append(f"{who}: counts not strictly increasing {values}")
        return problems

    def few_problems(sink: SinkReader, expected: dict[str, int], limit: int) -> list[str]:
        """The HAVING COUNT(*) <= limit sink: a key over the limit ends deleted (tombstone), any other at its count."""
        problems = []
        history = per_key(sink)
        for who in sorted(set(history) | set(expected)):
            latest = history.get(who, [None])[-1]
            want = expected[who] if expected.get(who, 0) <= limit else None
            if latest != want:
                problems.append(f"{who}: latest {latest} != {want} (history {history.get(who)})")
        return problems

    def wait_counts(sink: SinkReader, timeout: float = 40) -> None:
        wait_for(f"count sink {sink.topic}", sink, lambda: not count_problems(sink, counts()),
                 lambda: "; ".join(count_problems(sink, counts())[:4]), timeout)
        time.sleep(1.5)
        sink.drain()
        problems = count_problems(sink, counts())
        check(not problems, f"count sink after settling: {'; '.join(problems[:4])}")

    def wait_few(sink: SinkReader, limit: int, timeout: float = 40) -> None:
        wait_for(f"HAVING sink {sink.topic}", sink, lambda: not few_problems(sink, counts(), limit),
                 lambda: "; ".join(few_problems(sink, counts(), limit)[:4]), timeout)

    # ------------------------------------------------------------------------------------------------ 1. source
    def attach() -> None:
        name = f"eo-{RUN}"
        spec = {"display_name": name, "availability": "SINGLE_ZONE", "cloud": CLOUD, "region": REGION,
                "config": {"kind": "Basic"}, "environment": {"id": floe.env}, "kafka_bootstrap_endpoint": bootstrap}
        status, doc, raw = floe.call("POST", "/cmk/v2/clusters", {"spec": spec})
        check(status == 202, f"POST cluster: HTTP {status} {raw[:400]!r}")
        deadline = time.monotonic() + 15
        while doc["status"]["phase"] == "PROVISIONING":
            check(time.monotonic() < deadline, f"cluster still PROVISIONING: {doc['status']!r}")
            time.sleep(0.2)
            status, doc, raw = floe.call("GET", f"/cmk/v2/clusters/{doc['id']}?environment={floe.env}")
            check(status == 200, f"GET cluster: HTTP {status} {raw[:300]!r}")
        check(doc["status"]["phase"] == "PROVISIONED", f"cluster ended {doc['status']!r}")
        body = {"spec": {"display_name": name, "cloud": CLOUD, "region": REGION, "max_cfu": 10,
                         "environment": {"id": floe.env}}}
        status, pool, raw = floe.call("POST", "/fcpm/v2/compute-pools", body)
        check(status == 202, f"POST compute pool: HTTP {status} {raw[:300]!r}")
        deadline = time.monotonic() + 30
        while True:
            status, doc, _ = floe.call("GET", f"/fcpm/v2/compute-pools/{pool['id']}?environment={floe.env}")
            if status == 200 and doc["status"]["phase"] == "PROVISIONED":
                break
            check(time.monotonic() < deadline, f"pool not PROVISIONED after 30 s: {doc!r}")
            time.sleep(0.1)
        floe.pool, floe.database = pool["id"], name
        state["registry"] = floe.registry()

    def source_topic() -> None:
        need("registry")
        create_topic(source, SOURCE_PARTITIONS)
        batch = produce(300)
        check(len({i for i, *_ in batch}) == len(batch), "ids are unique")
        check({p for *_, p, _ in batch} == set(range(SOURCE_PARTITIONS)), "every partition got records")
        check(f"{source}-value" in state["registry"].get_subjects(), "the serializer registered the value subject")
        state["source"] = True

    # ------------------------------------------------------------------------------------------------ 2. sinks
    def append_sink() -> None:
        need("source")
        sink = topic_name("hits")
        floe.run(f"CREATE TABLE `{sink}` (id BIGINT, who STRING, amount INT)")
        name = insert(sink, f"SELECT id, who, amount FROM `{source}` WHERE amount < {THRESHOLD}")
        read = reader(sink)
        wait_append(read, appended(produced))
        floe.running(name)
        state["append"] = (name, read)

    def upsert_sinks() -> None:
        need("source")
        sink = topic_name("counts")
        floe.run(f"CREATE TABLE `{sink}` (who STRING NOT NULL, cnt BIGINT, PRIMARY KEY (who) NOT ENFORCED)")
        name = insert(sink, f"SELECT who, COUNT(*) AS cnt FROM `{source}` GROUP BY who")
        read = reader(sink)
        wait_counts(read)
        floe.running(name)
        state["counts"] = (name, read)

    def tombstones() -> None:
        need("source")
        _, count_reader = need("counts")
        sink = topic_name("few")
        # The limit is the largest count so far: every user is in the sink until some get more clicks.
        limit = max(counts().values())
        floe.run(f"CREATE TABLE `{sink}` (who STRING NOT NULL, cnt BIGINT, PRIMARY KEY (who) NOT ENFORCED)")
        name = insert(sink, f"SELECT who, COUNT(*) AS cnt FROM `{source}` GROUP BY who HAVING COUNT(*) <= {limit}")
        read = reader(sink)
        wait_few(read, limit)
        check(all(v is not None for values in per_key(read).values() for v in values),
              "a tombstone before any key passed the limit")
        # Half the users pass the limit: each must end with a tombstone, the others keep their count.
        over = USERS[: len(USERS) // 2]
        now = counts()
        produce(0, users=[who for who in over for _ in range(limit - now.get(who, 0) + 1)])
        wait_few(read, limit)
        history = per_key(read)
        check(all(history[who][-1] is None for who in over), f"tombstones expected for {over}: {dict(history)}")
        wait_counts(count_reader)
        floe.running(name)
        state["few"] = (name, read, limit)

    # ------------------------------------------------------------------------------------------------ 3. kill -9
    def kill_nine() -> None:
        append_name, append_reader = need("append")
        count_name, count_reader = need("counts")
        few_name, few_reader, limit = need("few")
        # A producer keeps writing (about 100 records a second, encoded up front: the registry is down with the
        # server) through every crash, so each kill -9 lands while statements read, checkpoint and commit.
        backlog = encode(2000)
        done = threading.Event()
        errors: list[BaseException] = []

        def feed() -> None:
            try:
                for start in range(0, len(backlog), 10):
                    if done.is_set():
                        return
                    send(backlog[start:start + 10])
                    time.sleep(0.08)
            except BaseException as error:  # noqa: BLE001 - reported by the step
                errors.append(error)

        written_before = len(produced)
        feeder = threading.Thread(target=feed, name="feeder", daemon=True)
        feeder.start()
        try:
            for _ in range(3):
                time.sleep(rng.uniform(0.6, 1.6))
                server.kill()
                time.sleep(0.5)
                server.start()
                state["registry"] = floe.registry()
                for name in (append_name, count_name, few_name):
                    floe.wait(name, {"RUNNING"}, 30)
            time.sleep(rng.uniform(0.6, 1.6))
        finally:
            done.set()
            feeder.join(20)
        check(not errors, f"the producer failed: {errors[:1]!r}")
        written = len(produced) - written_before
        check(written >= 200, f"only {written} records written during the kills")
        wait_append(append_reader, appended(produced), 60)
        wait_counts(count_reader, 60)
        wait_few(few_reader, limit, 60)
        for name in (append_name, count_name, few_name):
            floe.running(name)

    # ------------------------------------------------------------------------------------------------ 4. stop/resume
    def stop_resume() -> None:
        name, read = need("append")
        wait_append(read, appended(produced))
        floe.set_stopped(name, True)
        doc = floe.wait(name, {"STOPPED"}, 30)
        check(doc["spec"]["stopped"] is True, f"spec.stopped after PATCH: {doc['spec']!r}")
        read.drain()
        before = rows_of(read)
        check(before == appended(produced), f"at the stop: {difference(before, appended(produced))}")
        batch = produce(150)
        time.sleep(2)  # a few checkpoint intervals: a statement still running would have written by now
        read.drain()
        check(rows_of(read) == before, f"a STOPPED statement wrote: {difference(rows_of(read), before)}")
        floe.set_stopped(name, False)
        floe.wait(name, {"RUNNING"}, 30)
        wait_append(read, appended(produced))
        check(appended(batch) <= rows_of(read), "the rows produced while stopped are in the sink")
        floe.running(name)

    # ------------------------------------------------------------------------------------------------ 5. offsets
    def offsets_carry_over() -> None:
        name, read = need("append")
        # One matching record at the end of every partition: once the sink shows them, the statement has read every
        # partition to its end, and its offsets at the stop are the partitions' ends.
        produce(30, tail=True)
        wait_append(read, appended(produced))
        floe.set_stopped(name, True)
        doc = floe.wait(name, {"STOPPED"}, 30)
        offsets = doc["status"].get("latest_offsets") or {}
        check(source in offsets, f"status.latest_offsets lacks the source topic {source}: {offsets!r}")
        text = offsets[source]
        ends = {p: max(o for *_, q, o in produced if q == p) + 1 for p in range(SOURCE_PARTITIONS)}
        wanted = ";".join(f"partition:{p},offset:{ends[p]}" for p in range(SOURCE_PARTITIONS))
        check(text == wanted, f"latest_offsets[{source}] = {text!r}, expected the partitions' ends {wanted!r}")
        stopped_at = len(produced)
        sink = topic_name("after")
        floe.run(f"CREATE TABLE `{sink}` (id BIGINT, who STRING, amount INT)")
        floe.run(f"ALTER TABLE `{source}` SET ('scan.startup.mode' = 'specific-offsets', "
                 f"'scan.startup.specific-offsets' = '{text}')")
        produce(120)
        second = insert(sink, f"SELECT id, who, amount FROM `{source}` WHERE amount < {THRESHOLD}")
        after = reader(sink)
        produce(60)
        wait_append(after, appended(produced[stopped_at:]))
        floe.running(second)
        state["second"] = (second, after, stopped_at)

    # ------------------------------------------------------------------------------------------------ 6. fencing
    def fencing() -> None:
        name, read, stopped_at = need("second")
        uid = floe.status(name)["metadata"]["uid"]
        read.drain()
        committed = rows_of(read)
        zombie = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"floe-{uid}"})
        zombie.init_transactions(30)
        produce(60)
        doc = floe.wait(name, TERMINAL, 30)
        detail = doc["status"].get("detail") or ""
        check(doc["status"]["phase"] == "FAILED" and "fenced" in detail.lower(),
              f"after another producer took transactional.id floe-{uid}: {doc['status']['phase']} {detail!r}")
        read.drain()
        seen = rows_of(read)
        expected = appended(produced[stopped_at:])
        check(all(n == 1 for n in seen.values()) and not (seen - expected),
              f"committed output of the fenced statement: {difference(seen, expected)}")
        check(committed <= seen, f"rows committed before the fence are gone: {difference(seen, committed)}")

    steps.run("attach the broker; compute pool; the environment's registry", attach)
    steps.run("avro records with unique ids to a 3-partition source topic", source_topic)
    steps.run("append sink: INSERT … WHERE sees each expected row once (read_committed)", append_sink)
    steps.run("upsert sink: GROUP BY count, latest value per key, counts strictly increase", upsert_sinks)
    steps.run("upsert sink with HAVING: keys over the limit end with a tombstone", tombstones)
    steps.run("kill -9 of the server three times mid-stream: every sink exactly once", kill_nine)
    steps.run("stop / resume: nothing written while STOPPED, then exactly once", stop_resume)
    steps.run("latest_offsets of a STOPPED statement start a second INSERT after them", offsets_carry_over)
    steps.run("a zombie with transactional.id floe-<uid> fences the statement: FAILED, output intact", fencing)


if __name__ == "__main__":
    main()
