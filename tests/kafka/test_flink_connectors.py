"""Apache Flink's ``'connector' = 'kafka'`` and ``'upsert-kafka'`` end to end, in the environment's embedded
``default`` database: tables that name an attached Kafka cluster by ``'properties.bootstrap.servers'``.

Starts the real ``floe serve`` (tests/compat/floe_harness.py: a free port, a temporary data directory, generated
bootstrap credentials) and attaches the broker named by ``FLOE_TEST_KAFKA`` (tests/kafka/run.sh starts a noida-db
one) as a Kafka cluster of the default environment through ``cmk/v2``. Then, with statements submitted through
``sql/v1`` whose current database is ``default`` (not the cluster's database):

* plain JSON values with string keys, written by a confluent-kafka ``Producer`` (no registry), read back by bounded
  SELECTs (``scan.bounded.mode`` = ``latest-offset``) over ``format`` = ``json`` and over ``key.format`` = ``raw`` +
  ``value.format`` = ``json`` with ``EXCEPT_KEY`` and the partition/offset metadata columns;
* ``scan.startup.mode`` = ``group-offsets``: offsets committed by a confluent-kafka ``Consumer`` decide where a SELECT
  starts, ``properties.auto.offset.reset`` covers partitions without a commit, and the SELECT commits nothing; then
  ``specific-offsets`` and ``timestamp`` at both ends (the stop exclusive, as Flink's), and ``latest-offset``;
* a bounded ``INSERT INTO`` a ``kafka`` table with ``csv`` values and raw keys named with ``key.fields-prefix``,
  which completes by itself; its records as a consumer sees them and as Floe reads them back;
* ``avro-confluent`` values written by confluent-kafka's ``AvroSerializer`` with two writer schemas (neither Flink's
  ``record``), read by resolving each record's schema by its id; a sink with ``avro-confluent.subject`` registering
  the columns' schema there and writing with its id;
* a table in another environment's embedded database: it reaches the cluster when the statement's principal may use
  the cluster's environment (an admin; a service account once granted, through a Cloud key, never through a Flink
  key of the other environment), and its ``avro-confluent.url`` must name the cluster's environment's registry;
* a continuous ``INSERT INTO`` an ``upsert-kafka`` table (raw keys, ``avro-confluent`` values registered in Floe's
  Schema Registry as Flink's ``record``) of a count per user, read by a ``read_committed`` consumer with
  ``AvroDeserializer``, and again after more clicks; a second one (JSON keys, registry named on another host) whose
  HAVING clause deletes keys, which shows as tombstones; both tables read back through Floe as well; the first
  resumes after two ``kill -9`` of the server (clicks written meanwhile) with every count exactly once, and once
  STOPPED (PATCH ``spec.stopped``) writes nothing more;
* a continuous ``INSERT INTO`` a ``kafka`` table with JSON keys and values, whose records are exactly the filtered
  clicks, and whose writer's transactional id ``<sink.transactional-id-prefix>-<statement uid>`` a zombie producer
  takes, which fences the statement;
* the refusals: a bootstrap server of no attached cluster (while one attached server in a list is enough),
  ``properties.*`` connection settings, a registry that is not the environment's (named by the option as written),
  a missing topic, ``group-offsets`` without ``properties.group.id`` or without a commit.

Every expected result is computed from what the producers wrote and what their delivery reports said (partition and
offset); nothing is hard-coded. Sinks are read from offset 0 by a new ``read_committed`` consumer each time (see
tests/kafka/run.sh on what noida-db does differently from Apache Kafka). When PyYAML and openapi-schema-validator are
importable (the kafka venv has them), the cmk/fcpm/srcm/sql responses the test saw are validated against
../shared/reference/confluent-openapi.

Run: ``FLOE_TEST_KAFKA=127.0.0.1:PORT .venv/kafka/bin/python tests/kafka/test_flink_connectors.py`` (or through
tests/kafka/run.sh). FLOE_BIN names the binary (default .build/debug/floe). Without FLOE_TEST_KAFKA every step is
reported as SKIP. Prints one PASS/FAIL/SKIP line per step and ``N passed, M failed``.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))
sys.path.insert(0, str(HERE))

from floe_harness import FloeServer, SkipStep, Steps, check, exit_on_signals, start_or_exit  # noqa: E402
from kafka_e2e import TERMINAL, SQLClient, basic, difference, multiset  # noqa: E402

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, SerializingProducer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

REGION, CLOUD = "us-east-1", "AWS"
RUN = secrets.token_hex(3)  # topic and group names are unique per run: run.sh shares one broker between modules
DATABASE = "default"  # the environment's embedded database: the Flink tables live there, not in the cluster's
USERS = ["ann", "bob", "cy", "dee", "eve"]
NOT_ATTACHED = "is not a Kafka cluster attached to an environment this statement may use"
# Departures of the published sql-v1 file from the wire every client relies on (tests/compat/statements_test.py's
# SPEC_ARTIFACTS): not Floe's to fix.
SPEC_ARTIFACTS = (
    # The 200/201 schemas add `spec.statement_name` to `required`, but sql.v1.StatementSpec defines no such property.
    "/spec: 'statement_name' is a required property",
    # sql.v1.StatementResult requires a top-level `data`, but defines (and clients read) `results.data`.
    "/: 'data' is a required property",
)


def topic_name(what: str) -> str:
    return f"fk_{what}_{RUN}"


class Floe(SQLClient):
    """The control plane and sql/v1 (``SQLClient``), by default with the bootstrap Cloud key in the default
    environment; records every response so that the last step can hold them against the OpenAPI files.

    `as_` gives another principal (an API key) or environment: it shares the record, and names its statements
    with its own label."""

    def __init__(self, server: FloeServer):
        super().__init__(server, "fk", RUN, DATABASE)
        self.recorded = []

    def as_(self, label: str, env: str, pool: str, key: tuple[str, str] | None = None) -> "Floe":
        other = Floe(self.server)
        other.label, other.env, other.pool, other.recorded = label, env, pool, self.recorded
        if key:
            other.auth = basic(*key)
        return other

    def materialized(self, name: str, timeout: float = 60) -> Counter:
        """The rows a finished statement's changelog ends with: +I/+U add a row, -U/-D take one away (each must be
        there to take)."""
        rows: Counter = Counter()
        for change in self.changes(name, timeout):
            row = tuple(change["row"])
            if change.get("op", 0) in (0, 2):
                rows[row] += 1
            else:
                check(rows[row] > 0, f"{name} retracts {row}, which it does not hold")
                rows[row] -= 1
        return +rows

    def set_stopped(self, name: str, stopped: bool = True) -> None:
        super().set_stopped(name, stopped)
        if stopped:
            doc = self.wait(name, {"STOPPED"}, 30)
            check(doc["spec"]["stopped"] is True, f"{doc['spec']!r}")


def read_committed(bootstrap: str, topic: str, partitions: int, timeout: float = 15) -> list[tuple]:
    """Every committed record of `topic` as (partition, offset, key, value): a new read_committed consumer (assigned
    partitions, no group commits) reads each partition from offset 0 to its end."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"fk-reader-{RUN}", "enable.auto.commit": False,
        "isolation.level": "read_committed", "enable.partition.eof": True, "auto.offset.reset": "error"})
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


def main() -> None:
    exit_on_signals()
    bootstrap = os.environ.get("FLOE_TEST_KAFKA", "")
    steps = Steps("Flink's kafka / upsert-kafka connectors (embedded database, attached broker)")
    if not bootstrap:
        def no_broker() -> None:
            raise SkipStep("FLOE_TEST_KAFKA is not set (tests/kafka/run.sh starts a broker)")

        steps.run("FLOE_TEST_KAFKA names a broker", no_broker)
        steps.finish()
    server = start_or_exit(FloeServer(label="kafka-flink"))
    try:
        run(steps, server, bootstrap)
    finally:
        server.stop()  # keeps the data directory and log when COMPAT_KEEP=1
    steps.finish()


def run(steps: Steps, server: FloeServer, bootstrap: str) -> None:
    floe = Floe(server)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    clicks = topic_name("clicks")
    # Every click produced: (key, user_name, url, amount, partition, offset), from the delivery reports.
    produced: list[tuple[str, str, str, int, int, int]] = []
    sequence = iter(range(1, 1_000_000))
    # Each click's record timestamp (CreateTime, set by the test): strictly increasing with the sequence, 10 ms apart.
    stamps: dict[str, int] = {}
    epoch = int(time.time() * 1000)
    state: dict = {}

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

    def produce(whos: list[str]) -> list[tuple[str, str, str, int, int, int]]:
        """One plain-JSON click per entry of `whos` (string keys, the partitions chosen by the producer's own
        partitioner); some values carry a field the tables do not declare, which Flink's json format ignores.
        Returns them as delivered."""
        producer = Producer({"bootstrap.servers": bootstrap})
        reports: dict[str, tuple[int, int]] = {}
        batch = []
        for who in whos:
            n = next(sequence)
            key, url, amount = f"k-{n}", f"/p/{secrets.token_hex(2)}", (n * 37) % 100
            value = {"user_name": who, "url": url, "amount": amount}
            if n % 3 == 0:
                value["extra"] = {"ignored": True}
            stamps[key] = epoch + 10 * n
            producer.produce(clicks, key=key.encode(), value=json.dumps(value).encode(), timestamp=stamps[key],
                             on_delivery=lambda error, message, key=key: reports.__setitem__(
                                 key, (-1, -1) if error else (message.partition(), message.offset())))
            batch.append((key, who, url, amount))
        left = producer.flush(15)
        check(left == 0 and len(reports) == len(batch), f"{left} records not delivered, {len(reports)} reports")
        check(all(offset >= 0 for _, offset in reports.values()), f"delivery failed: {reports}")
        delivered = [(key, who, url, amount, *reports[key]) for key, who, url, amount in batch]
        produced.extend(delivered)
        return delivered

    def counts() -> dict[str, int]:
        return dict(Counter(who for _, who, _, _, _, _ in produced))

    def clicks_table(name: str, extra: str, key: bool = False) -> str:
        """DDL of a `kafka` table over the clicks topic; `extra` adds options (each with a leading comma)."""
        columns = "uid STRING, user_name STRING, url STRING, amount INT" if key else "user_name STRING, url STRING, amount INT"
        formats = ("'key.format' = 'raw', 'key.fields' = 'uid', 'value.format' = 'json', "
                   "'value.fields-include' = 'EXCEPT_KEY'") if key else "'format' = 'json'"
        return (f"CREATE TABLE `{name}` ({columns}, `part` INT METADATA FROM 'partition' VIRTUAL, "
                f"`off` BIGINT METADATA FROM 'offset' VIRTUAL) WITH ('connector' = 'kafka', "
                f"'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{clicks}', {formats}{extra})")

    def bounded(name: str, key: bool = False) -> None:
        """Creates table `name` over the clicks topic read from the start up to the latest offsets at its start."""
        floe.query(clicks_table(name, ", 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset'",
                                key=key))

    # ------------------------------------------------------------------------------------------------ setup
    def attach() -> None:
        # noida-db accepts any SASL PLAIN credentials: the tables reach the cluster with the attached ones.
        spec = {"display_name": f"fk-{RUN}", "availability": "SINGLE_ZONE", "cloud": CLOUD, "region": REGION,
                "config": {"kind": "Basic"}, "environment": {"id": floe.env}, "kafka_bootstrap_endpoint": bootstrap,
                "credentials": {"mechanism": "PLAIN", "username": "floe", "password": "pw-" + secrets.token_hex(8)}}
        status, doc, raw = floe.call("POST", "/cmk/v2/clusters", {"spec": spec})
        check(status == 202, f"POST cluster: HTTP {status} {raw[:400]!r}")
        lkc = doc["id"]
        deadline = time.monotonic() + 15
        while doc["status"]["phase"] == "PROVISIONING":
            check(time.monotonic() < deadline, f"cluster {lkc} still PROVISIONING after 15 s")
            time.sleep(0.2)
            status, doc, raw = floe.call("GET", f"/cmk/v2/clusters/{lkc}?environment={floe.env}")
            check(status == 200, f"GET cluster: HTTP {status} {raw[:300]!r}")
        check(doc["status"]["phase"] == "PROVISIONED", f"cluster ended {doc['status']!r}")

        body = {"spec": {"display_name": f"fk-{RUN}", "cloud": CLOUD, "region": REGION, "max_cfu": 10,
                         "environment": {"id": floe.env}}}
        status, doc, raw = floe.call("POST", "/fcpm/v2/compute-pools", body)
        check(status == 202, f"POST compute pool: HTTP {status} {raw[:300]!r}")
        pool = doc["id"]
        deadline = time.monotonic() + 30
        while True:
            status, doc, _ = floe.call("GET", f"/fcpm/v2/compute-pools/{pool}?environment={floe.env}")
            if status == 200 and doc["status"]["phase"] == "PROVISIONED":
                break
            check(time.monotonic() < deadline, f"pool not PROVISIONED after 30 s: {doc!r}")
            time.sleep(0.1)
        floe.pool = pool

        status, listed, raw = floe.call("GET", f"/srcm/v3/clusters?environment={floe.env}")
        check(status == 200 and len(listed["data"]) == 1, f"srcm: HTTP {status} {raw[:300]!r}")
        url = listed["data"][0]["spec"]["http_endpoint"]
        state["registry_url"], state["lsrc"] = url, listed["data"][0]["id"]
        state["registry"] = SchemaRegistryClient(
            {"url": url, "basic.auth.user.info": f"{floe.boot.api_key}:{floe.boot.api_secret}"})
        check(isinstance(state["registry"].get_subjects(), list), "the registry answers with the Cloud key")
        databases = {value for row in floe.query("SHOW DATABASES") for value in row}
        check(DATABASE in databases, f"SHOW DATABASES lacks the embedded {DATABASE!r}: {sorted(databases)}")
        state["lkc"] = lkc

    # ------------------------------------------------------------------------------------------------ 1. json source
    def json_source() -> None:
        need("lkc")
        create_topic(clicks, 2)
        first = produce([USERS[i % len(USERS)] for i in range(14)])
        check(len({p for *_, p, _ in first}) == 2, f"the keys all landed in one partition: {first}")
        bounded("clicks")
        rows = floe.query("SELECT user_name, url, amount FROM clicks")
        expected = multiset([who, url, str(amount)] for _, who, url, amount, _, _ in produced)
        check(multiset(rows) == expected, f"SELECT from a json table: {difference(multiset(rows), expected)}")
        # The table lives in the embedded database the statement names.
        tables = {row[0] for row in floe.query("SHOW TABLES")}
        check("clicks" in tables, f"SHOW TABLES in {DATABASE} lacks clicks: {sorted(tables)}")
        # An aggregate over the same bounded table: a bounded statement's changes end in the true counts.
        name = floe.submit("SELECT user_name, COUNT(*) AS n FROM clicks GROUP BY user_name")
        floe.wait(name, {"COMPLETED"})
        totals = floe.materialized(name)
        expected = multiset([who, str(n)] for who, n in counts().items())
        check(totals == expected, f"counts of a bounded json table: {difference(totals, expected)}")
        state["json_source"] = True

    def keyed_source() -> None:
        need("json_source")
        bounded("clicks_keyed", key=True)
        rows = floe.query("SELECT uid, user_name, url, amount, `part`, `off` FROM clicks_keyed")
        expected = multiset([key, who, url, str(amount), str(p), str(o)] for key, who, url, amount, p, o in produced)
        check(multiset(rows) == expected, f"raw keys, json values, metadata: {difference(multiset(rows), expected)}")
        # The bound is the latest offsets when the statement starts: records written later are not read.
        later = produce(["zed"])
        rows = floe.query("SELECT uid FROM clicks_keyed WHERE user_name = 'zed'")
        check(rows == [[later[0][0]]], f"the click written before the second SELECT: {rows}")

    # ------------------------------------------------------------------------------------------------ 2. groups
    def group_offsets() -> None:
        need("json_source")
        by_partition: dict[int, list[int]] = defaultdict(list)
        for *_, p, o in produced:
            by_partition[p].append(o)
        check(all(len(by_partition[p]) >= 3 for p in (0, 1)), f"too few clicks per partition: {dict(by_partition)}")
        # Commit somewhere in the middle of each partition: not at 0 and not at the end.
        start = {p: sorted(by_partition[p])[len(by_partition[p]) // 2] for p in (0, 1)}
        group = f"fk-group-{RUN}"

        def commit(group_id: str, offsets: dict[int, int]) -> None:
            consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False})
            try:
                consumer.commit(offsets=[TopicPartition(clicks, p, o) for p, o in offsets.items()], asynchronous=False)
                committed = consumer.committed([TopicPartition(clicks, p) for p in offsets], timeout=10)
                check({tp.partition: tp.offset for tp in committed} == offsets, f"committed {committed}")
            finally:
                consumer.close()

        def after(offsets: dict[int, int]) -> Counter:
            return multiset([key, str(p), str(o)] for key, _, _, _, p, o in produced if p in offsets and o >= offsets[p])

        commit(group, start)
        floe.query(clicks_table("from_group", f", 'properties.group.id' = '{group}', 'scan.bounded.mode' = 'latest-offset'",
                                key=True))
        rows = floe.query("SELECT uid, `part`, `off` FROM from_group")
        check(multiset(rows) == after(start), f"group-offsets: {difference(multiset(rows), after(start))}")
        # Reading is not committing: the group's offsets are where the test put them.
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
        try:
            committed = {tp.partition: tp.offset for tp in consumer.committed(
                [TopicPartition(clicks, p) for p in (0, 1)], timeout=10)}
        finally:
            consumer.close()
        check(committed == start, f"the SELECT moved the group's offsets: {committed} != {start}")

        # A group with a commit for partition 0 only: partition 1 starts where 'properties.auto.offset.reset' says.
        half = f"fk-half-{RUN}"
        commit(half, {0: start[0]})
        floe.query(clicks_table("half_latest", f", 'properties.group.id' = '{half}', 'properties.auto.offset.reset' = 'latest', "
                                               "'scan.bounded.mode' = 'latest-offset'", key=True))
        rows = floe.query("SELECT uid, `part`, `off` FROM half_latest")
        expected = after({0: start[0]})
        check(multiset(rows) == expected, f"committed p0, latest p1: {difference(multiset(rows), expected)}")
        floe.query(clicks_table("half_earliest", f", 'properties.group.id' = '{half}', 'properties.auto.offset.reset' = "
                                                 "'earliest', 'scan.bounded.mode' = 'latest-offset'", key=True))
        rows = floe.query("SELECT uid, `part`, `off` FROM half_earliest")
        expected = after({0: start[0], 1: 0})
        check(multiset(rows) == expected, f"committed p0, earliest p1: {difference(multiset(rows), expected)}")
        # Without a reset policy a partition without a commit has nowhere to start.
        floe.query(clicks_table("half_none", f", 'properties.group.id' = '{half}', 'scan.bounded.mode' = 'latest-offset'",
                                key=True))
        detail = floe.failure("SELECT uid FROM half_none")
        check("Undefined offset with no reset policy" in detail and f"{clicks}-1" in detail,
              f"group without a commit for partition 1, no reset policy: {detail!r}")

    def startup_modes() -> None:
        need("json_source")
        by_partition: dict[int, list[int]] = defaultdict(list)
        for *_, p, o in produced:
            by_partition[p].append(o)
        check(all(len(by_partition[p]) >= 4 for p in (0, 1)), f"too few clicks per partition: {dict(by_partition)}")
        # specific-offsets, both ends: from S (inclusive) to E (exclusive, as Flink's stopping offsets are).
        begin = {p: sorted(by_partition[p])[1] for p in (0, 1)}
        end = {p: sorted(by_partition[p])[-2] for p in (0, 1)}
        spec = ";".join(f"partition:{p},offset:{o}" for p, o in begin.items())
        stop = ";".join(f"partition:{p},offset:{o}" for p, o in end.items())
        floe.query(clicks_table("between", f", 'scan.startup.mode' = 'specific-offsets', "
                                           f"'scan.startup.specific-offsets' = '{spec}', 'scan.bounded.mode' = 'specific-offsets', "
                                           f"'scan.bounded.specific-offsets' = '{stop}'", key=True))
        rows = floe.query("SELECT uid, `part`, `off` FROM between")
        expected = multiset([key, str(p), str(o)] for key, *_, p, o in produced if begin[p] <= o < end[p])
        check(multiset(rows) == expected, f"specific-offsets {spec} to {stop}: {difference(multiset(rows), expected)}")
        # timestamp, both ends: the records stamped from T (inclusive) to U (exclusive).
        ordered = sorted(stamps.values())
        since, until = ordered[len(ordered) // 4], ordered[3 * len(ordered) // 4]
        floe.query(clicks_table("stamped", f", 'scan.startup.mode' = 'timestamp', 'scan.startup.timestamp-millis' = '{since}', "
                                           f"'scan.bounded.mode' = 'timestamp', 'scan.bounded.timestamp-millis' = '{until}'",
                                key=True))
        rows = floe.query("SELECT uid, `part`, `off` FROM stamped")
        expected = multiset([key, str(p), str(o)] for key, *_, p, o in produced if since <= stamps[key] < until)
        check(multiset(rows) == expected, f"timestamp {since} to {until}: {difference(multiset(rows), expected)}")
        # latest-offset: a bounded read from the end reads nothing.
        floe.query(clicks_table("latest", ", 'scan.startup.mode' = 'latest-offset', 'scan.bounded.mode' = 'latest-offset'"))
        rows = floe.query("SELECT user_name FROM latest")
        check(rows == [], f"latest-offset to latest-offset read {rows}")

    def csv_sink() -> None:
        need("json_source")
        out = topic_name("lines")
        create_topic(out, 1)
        # A key column with a prefix the key's field drops; CSV values of the other columns, in column order.
        floe.query(f"CREATE TABLE lines (k_user STRING, amount INT, url STRING) WITH ('connector' = 'kafka', "
                   f"'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{out}', 'key.format' = 'raw', "
                   f"'key.fields' = 'k_user', 'key.fields-prefix' = 'k_', 'value.fields-include' = 'EXCEPT_KEY', "
                   f"'value.format' = 'csv', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')")
        bounded("clicks_now")
        # An INSERT from a bounded table ends by itself, COMPLETED, after committing what it wrote.
        name = floe.submit("INSERT INTO lines SELECT user_name, amount, url FROM clicks_now WHERE amount >= 50")
        floe.wait(name, {"COMPLETED"})
        wanted = [(who, amount, url) for _, who, url, amount, _, _ in produced if amount >= 50]
        check(wanted, "no click has an amount of 50 or more")
        records = read_committed(bootstrap, out, 1)
        written = Counter((key.decode(), value.decode()) for _, _, key, value in records)
        expected = Counter((who, f"{amount},{url}") for who, amount, url in wanted)
        check(written == expected, f"the records of a csv sink: {difference(written, expected)}")
        rows = floe.query("SELECT k_user, amount, url FROM lines")
        expected_rows = multiset([who, str(amount), url] for who, amount, url in wanted)
        check(multiset(rows) == expected_rows, f"the csv table read back: {difference(multiset(rows), expected_rows)}")

    def avro_source() -> None:
        need("json_source")
        registry, url = need("registry"), need("registry_url")
        topic = topic_name("orders")
        create_topic(topic, 2)
        # Two writer schemas, neither Flink's `record`: a reader resolves each record's by its id.
        v1 = {"type": "record", "name": "Order", "namespace": "floe.fk",
              "fields": [{"name": "id", "type": "long"}, {"name": "who", "type": "string"}]}
        v2 = {**v1, "fields": v1["fields"] + [{"name": "note", "type": "string", "default": "none"}]}
        written = []
        for schema, values in ((v1, [{"id": 10 + i, "who": USERS[i]} for i in range(3)]),
                               (v2, [{"id": 20 + i, "who": USERS[i], "note": f"n-{secrets.token_hex(2)}"} for i in range(3)])):
            producer = SerializingProducer({"bootstrap.servers": bootstrap,
                                            "value.serializer": AvroSerializer(registry, json.dumps(schema))})
            for value in values:
                producer.produce(topic, value=value)
            check(producer.flush(15) == 0, "records not delivered")
            written += values
        check(registry.get_latest_version(f"{topic}-value").version == 2, "the producers registered two versions")
        floe.query(f"CREATE TABLE orders (id BIGINT, who STRING, note STRING) WITH ('connector' = 'kafka', "
                   f"'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{topic}', 'format' = 'avro-confluent', "
                   f"'avro-confluent.url' = '{url}', 'scan.startup.mode' = 'earliest-offset', "
                   f"'scan.bounded.mode' = 'latest-offset')")
        rows = floe.query("SELECT id, who, note FROM orders")
        expected = multiset([str(v["id"]), v["who"], v.get("note")] for v in written)
        check(multiset(rows) == expected, f"avro-confluent with two writer schemas: {difference(multiset(rows), expected)}")

        # A sink with its own subject: the columns' schema is registered there, and the records carry its id.
        out, subject = topic_name("notes"), f"fk-notes-{RUN}"
        create_topic(out, 1)
        floe.query(f"CREATE TABLE notes (id BIGINT, note STRING) WITH ('connector' = 'kafka', "
                   f"'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{out}', 'value.format' = 'avro-confluent', "
                   f"'value.avro-confluent.url' = '{url}', 'value.avro-confluent.subject' = '{subject}')")
        name = floe.submit("INSERT INTO notes SELECT id, note FROM orders WHERE note IS NOT NULL")
        floe.wait(name, {"COMPLETED"})
        subjects = registry.get_subjects()
        check(subject in subjects and f"{out}-value" not in subjects, f"subjects {sorted(x for x in subjects if RUN in x)}")
        registered = registry.get_latest_version(subject)
        schema = json.loads(registered.schema.schema_str)
        check(schema.get("name") == "record" and [f["name"] for f in schema["fields"]] == ["id", "note"],
              f"the sink's schema {schema}")
        deserializer = AvroDeserializer(registry)
        context = SerializationContext(out, MessageField.VALUE)
        records = read_committed(bootstrap, out, 1)
        check(all(value[1:5] == registered.schema_id.to_bytes(4, "big") for *_, value in records),
              f"records not written with schema id {registered.schema_id}")
        seen = multiset([v["id"], v["note"]] for v in (deserializer(value, context) for *_, value in records))
        expected = multiset([v["id"], v["note"]] for v in written if "note" in v)
        check(seen == expected, f"the avro-confluent sink: {difference(seen, expected)}")

    def other_environment() -> None:
        need("json_source")
        registry_url, lsrc = need("registry_url"), need("lsrc")
        status, env, raw = floe.call("POST", "/org/v2/environments", {"display_name": f"fk-other-{RUN}"})
        check(status == 201, f"POST environment: HTTP {status} {raw[:300]!r}")
        other = env["id"]
        body = {"spec": {"display_name": f"fk-other-{RUN}", "cloud": CLOUD, "region": REGION, "max_cfu": 10,
                         "environment": {"id": other}}}
        status, doc, raw = floe.call("POST", "/fcpm/v2/compute-pools", body)
        check(status == 202, f"POST compute pool: HTTP {status} {raw[:300]!r}")
        pool = doc["id"]
        deadline = time.monotonic() + 30
        while True:
            status, doc, _ = floe.call("GET", f"/fcpm/v2/compute-pools/{pool}?environment={other}")
            if status == 200 and doc["status"]["phase"] == "PROVISIONED":
                break
            check(time.monotonic() < deadline, f"pool not PROVISIONED after 30 s: {doc!r}")
            time.sleep(0.1)
        admin_there = floe.as_("fk-admin", other, pool)
        # The cluster is attached to the default environment, which the organization's admin may use: a table of
        # the other environment's embedded database reaches it.
        admin_there.query(clicks_table("clicks_there", ", 'scan.startup.mode' = 'earliest-offset', "
                                                       "'scan.bounded.mode' = 'latest-offset'", key=True))
        rows = admin_there.query("SELECT uid FROM clicks_there")
        expected = multiset([key] for key, *_ in produced)
        check(multiset(rows) == expected, f"from another environment: {difference(multiset(rows), expected)}")
        # The registry an avro-confluent table names is that of the cluster's environment, not the statement's.
        status, listed, raw = floe.call("GET", f"/srcm/v3/clusters?environment={other}")
        check(status == 200 and len(listed["data"]) == 1, f"srcm of {other}: HTTP {status} {raw[:300]!r}")
        own = listed["data"][0]["spec"]["http_endpoint"]
        check(own != registry_url and listed["data"][0]["id"] != lsrc, "the environments share a registry")
        admin_there.query(f"CREATE TABLE own_registry (a STRING) WITH ('connector' = 'kafka', "
                          f"'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{clicks}', 'format' = 'avro-confluent', "
                          f"'avro-confluent.url' = '{own}', 'scan.startup.mode' = 'earliest-offset')")
        detail = admin_there.failure("SELECT a FROM own_registry")
        check(own in detail and "is not the Schema Registry" in detail,
              f"the statement's environment's registry for a cluster of another: {detail!r}")

        # A service account that may use the other environment only: the cluster is not one it may reach.
        status, account, raw = floe.call("POST", "/iam/v2/service-accounts", {"display_name": f"fk-sa-{RUN}"})
        check(status == 201, f"POST service account: HTTP {status} {raw[:300]!r}")

        def grant(environment: str) -> None:
            status, _, raw = floe.call("POST", "/iam/v2/role-bindings", {
                "principal": f"User:{account['id']}", "role_name": "FlinkDeveloper",
                "crn_pattern": f"crn://confluent.cloud/organization={floe.boot.organization_id}/environment={environment}"})
            check(status == 201, f"POST role binding: HTTP {status} {raw[:300]!r}")

        def key_of(resource: dict) -> tuple[str, str]:
            status, key, raw = floe.call("POST", "/iam/v2/api-keys", {"spec": {
                "display_name": f"fk-sa-{RUN}", "owner": {"id": account["id"]}, "resource": resource}})
            check(status == 202, f"POST api key for {resource}: HTTP {status} {raw[:300]!r}")
            return key["id"], key["spec"]["secret"]

        grant(other)
        # A Cloud key reaches every environment its principal's roles allow; a Flink key only its own environment.
        by_cloud_key = floe.as_("fk-cloud", other, pool, key_of({"id": "cloud"}))
        by_flink_key = floe.as_("fk-flink", other, pool, key_of({"id": f"{CLOUD.lower()}.{REGION}", "environment": other}))
        for principal in (by_cloud_key, by_flink_key):
            detail = principal.failure("SELECT uid FROM clicks_there")
            check(NOT_ATTACHED in detail, f"a principal without the cluster's environment ({principal.label}): {detail!r}")
        # Once it may use the cluster's environment too, the same table reads, through the key that reaches it.
        grant(floe.env)
        rows = by_cloud_key.query("SELECT uid FROM clicks_there")
        check(multiset(rows) == expected, f"after the grant, with a Cloud key: {difference(multiset(rows), expected)}")
        detail = by_flink_key.failure("SELECT uid FROM clicks_there")
        check(NOT_ATTACHED in detail, f"a Flink key of another environment, after the grant: {detail!r}")

    # ------------------------------------------------------------------------------------------------ 3. upsert-kafka
    def totals_problems() -> list[str]:
        """What is wrong with the totals topic: each key's counts must strictly increase (a replayed or lost
        checkpoint would show) and end at the true count; values must repeat their key."""
        totals, _ = need("totals")
        deserializer = AvroDeserializer(need("registry"))
        context = SerializationContext(totals, MessageField.VALUE)
        seen: dict[str, list[int | None]] = defaultdict(list)
        for _, _, key, value in read_committed(bootstrap, totals, 3):
            check(key is not None, f"a record without a key in {totals}")
            decoded = None if value is None else deserializer(value, context)
            if decoded is not None:
                check(decoded["user_name"] == key.decode(), f"value {decoded!r} under key {key!r}")
            seen[key.decode()].append(None if decoded is None else decoded["cnt"])
        found = []
        expected = counts()
        for who in sorted(set(seen) | set(expected)):
            values = seen.get(who, [])
            if not values or values[-1] != expected.get(who):
                found.append(f"{who}: latest {values[-1:]} != {expected.get(who)}")
            elif any(v is None for v in values) or any(b <= a for a, b in zip(values, values[1:])):
                found.append(f"{who}: counts not strictly increasing {values}")
        return found

    def settle_totals(what: str, timeout: float = 40) -> None:
        """Until the totals topic shows the true counts (the statement RUNNING all along), and a little longer."""
        _, name = need("totals")
        deadline = time.monotonic() + timeout
        while found := totals_problems():
            status = floe.status(name)["status"]
            check(status["phase"] == "RUNNING", f"{name} is {status['phase']}: {status.get('detail')!r}")
            check(time.monotonic() < deadline, f"{what} not reached in {timeout:.0f}s: {'; '.join(found[:5])}")
            time.sleep(0.5)
        time.sleep(1.5)  # a late duplicate would show now
        found = totals_problems()
        check(not found, f"{what}, after settling: {'; '.join(found[:5])}")

    def upsert_counts() -> None:
        need("json_source")
        registry, url = need("registry"), need("registry_url")
        totals = topic_name("totals")
        create_topic(totals, 3)
        floe.query(clicks_table("clicks_stream", ", 'scan.startup.mode' = 'earliest-offset'"))
        floe.query(f"CREATE TABLE totals (user_name STRING, cnt BIGINT, PRIMARY KEY (user_name) NOT ENFORCED) WITH ("
                   f"'connector' = 'upsert-kafka', 'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{totals}', "
                   f"'key.format' = 'raw', 'value.format' = 'avro-confluent', 'value.avro-confluent.url' = '{url}')")
        name = floe.submit("INSERT INTO totals SELECT user_name, COUNT(*) FROM clicks_stream GROUP BY user_name")
        floe.wait(name, {"RUNNING"})
        state["totals"] = (totals, name)
        settle_totals("the counts of the first clicks")
        # Flink's avro-confluent registers the columns' schema, a record named `record`, under `<topic>-value`.
        latest = registry.get_latest_version(f"{totals}-value")
        schema = json.loads(latest.schema.schema_str)
        check(schema.get("type") == "record" and schema.get("name") == "record"
              and [f["name"] for f in schema["fields"]] == ["user_name", "cnt"], f"registered schema {schema}")
        check(f"{totals}-key" not in registry.get_subjects(), "a raw key registered a key subject")
        more = produce([USERS[1]] * 3 + [USERS[3], "fay"])
        check(any(who == "fay" for _, who, *_ in more), "no new user")
        settle_totals("the counts after more clicks")
        # The table reads back through Floe: the latest value per key (upsert-kafka reads from the earliest offset).
        rows = floe.query("SELECT user_name, cnt FROM totals", {"sql.snapshot.mode": "now"})
        expected = multiset([who, str(n)] for who, n in counts().items())
        check(multiset(rows) == expected, f"SELECT from the upsert-kafka table: {difference(multiset(rows), expected)}")

    def upsert_tombstones() -> None:
        need("totals")
        lsrc = need("lsrc")
        few = topic_name("few")
        create_topic(few, 2)
        limit = 3
        # The registry named on another host: Floe's registry is known by its path, whatever the host.
        url = f"http://registry.invalid:8081/schema-registry/{lsrc}"
        floe.query(f"CREATE TABLE few (user_name STRING, cnt BIGINT NOT NULL, PRIMARY KEY (user_name) NOT ENFORCED) WITH ("
                   f"'connector' = 'upsert-kafka', 'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{few}', "
                   f"'key.format' = 'json', 'value.format' = 'avro-confluent', 'value.avro-confluent.url' = '{url}', "
                   f"'value.fields-include' = 'EXCEPT_KEY')")
        name = floe.submit(f"INSERT INTO few SELECT user_name, COUNT(*) FROM clicks_stream GROUP BY user_name "
                           f"HAVING COUNT(*) <= {limit}")
        floe.wait(name, {"RUNNING"})
        deserializer = AvroDeserializer(need("registry"))
        context = SerializationContext(few, MessageField.VALUE)

        def latest() -> dict[str, object]:
            """The last value per key (None: a tombstone); values of EXCEPT_KEY hold only `cnt`."""
            last: dict[str, object] = {}
            for _, _, key, value in read_committed(bootstrap, few, 2):
                decoded_key = json.loads(key)
                check(set(decoded_key) == {"user_name"}, f"key {key!r} is not the JSON {{user_name}}")
                decoded = None if value is None else deserializer(value, context)
                check(decoded is None or set(decoded) == {"cnt"}, f"an EXCEPT_KEY value {decoded!r}")
                last[decoded_key["user_name"]] = None if decoded is None else decoded["cnt"]
            return last

        def wanted() -> dict[str, object]:
            # A key once under the limit and now over it ends with a tombstone; a key never under it is never written.
            return {who: (n if n <= limit else None) for who, n in counts().items()}

        def matches(last: dict[str, object]) -> bool:
            want = wanted()
            return all(last.get(who, None) == value for who, value in want.items() if value is not None) and all(
                want.get(who) == value for who, value in last.items())

        try:
            deadline = time.monotonic() + 40
            while not matches(last := latest()):
                check(time.monotonic() < deadline, f"latest per key {last} != {wanted()}")
                time.sleep(0.5)
            before = dict(last)
            # Push one user under the limit over it: its key must end deleted.
            under = sorted(who for who, n in counts().items() if n <= limit)
            check(under, f"no user at or under {limit}: {counts()}")
            victim = under[0]
            produce([victim] * (limit + 1 - counts()[victim]))
            deadline = time.monotonic() + 40
            while not matches(last := latest()):
                check(time.monotonic() < deadline, f"latest per key {last} != {wanted()}")
                time.sleep(0.5)
            check(before.get(victim) is not None and last.get(victim, "absent") is None,
                  f"{victim} went over {limit}: {before.get(victim)!r} then {last.get(victim, 'absent')!r}, "
                  "expected a count then a tombstone")
            rows = floe.query("SELECT user_name, cnt FROM few", {"sql.snapshot.mode": "now"})
            expected = multiset([who, str(n)] for who, n in wanted().items() if n is not None)
            check(multiset(rows) == expected, f"SELECT from few: {difference(multiset(rows), expected)}")
        finally:
            floe.set_stopped(name)

    def kill_nine() -> None:
        _, name = need("totals")
        for round_ in range(2):
            produce([USERS[(round_ + i) % len(USERS)] for i in range(6)])
            time.sleep(0.3 * round_)  # the first kill lands while those are read, the second a little later
            server.kill()
            produce([USERS[(round_ + i) % len(USERS)] for i in range(4)])  # written while the server is down
            server.start()
            status, listed, raw = floe.call("GET", f"/srcm/v3/clusters?environment={floe.env}")
            check(status == 200, f"srcm after the restart: HTTP {status} {raw[:300]!r}")
            state["registry"] = SchemaRegistryClient({  # the registry moved with the server's port
                "url": listed["data"][0]["spec"]["http_endpoint"],
                "basic.auth.user.info": f"{floe.boot.api_key}:{floe.boot.api_secret}"})
            floe.wait(name, {"RUNNING"}, 90)
        settle_totals("the counts after two kill -9 of the server")

    def stop_totals() -> None:
        totals, name = need("totals")
        floe.set_stopped(name)
        # Nothing is written while the statement is stopped.
        held = sorted(read_committed(bootstrap, totals, 3))
        produce([USERS[0]])
        time.sleep(2)
        now = sorted(read_committed(bootstrap, totals, 3))
        check(now == held, f"{len(now) - len(held)} records written to {totals} by a STOPPED statement: "
                           f"{[record for record in now if record not in held][:4]}")

    # ------------------------------------------------------------------------------------------------ 4. kafka sink
    def kafka_sink() -> None:
        need("totals")  # its step created clicks_stream
        out = topic_name("cheap")
        create_topic(out, 2)
        prefix = f"fk-tx-{RUN}"
        threshold = 40
        floe.query(f"CREATE TABLE cheap (user_name STRING, url STRING, amount INT) WITH ('connector' = 'kafka', "
                   f"'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{out}', 'key.format' = 'json', "
                   f"'key.fields' = 'user_name', 'value.format' = 'json', 'sink.transactional-id-prefix' = '{prefix}', "
                   f"'sink.delivery-guarantee' = 'exactly-once')")
        name = floe.submit(f"INSERT INTO cheap SELECT user_name, url, amount FROM clicks_stream WHERE amount < {threshold}")
        floe.wait(name, {"RUNNING"})

        def expected() -> Counter:
            return Counter((json.dumps({"user_name": who}), (who, url, amount))
                           for _, who, url, amount, _, _ in produced if amount < threshold)

        def seen() -> Counter:
            found = Counter()
            for _, _, key, value in read_committed(bootstrap, out, 2):
                decoded = json.loads(value)
                check(set(decoded) == {"user_name", "url", "amount"}, f"value {value!r}")
                found[(json.dumps(json.loads(key)), (decoded["user_name"], decoded["url"], decoded["amount"]))] += 1
            return found

        def wait_exact(what: str) -> None:
            deadline = time.monotonic() + 40
            while (now := seen()) != expected():
                check(not (now - expected()), f"{what}: {difference(now, expected())}")
                check(time.monotonic() < deadline, f"{what} in 40 s: {difference(now, expected())}")
                time.sleep(0.5)
            time.sleep(1.5)
            check(seen() == expected(), f"{what}, after settling: {difference(seen(), expected())}")

        wait_exact("the filtered clicks")
        produce(USERS * 2)
        wait_exact("the filtered clicks after more")
        # The writer's transactional.id is `<prefix>-<statement uid>`: a producer taking it fences the statement.
        uid = floe.status(name)["metadata"]["uid"]
        zombie = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"{prefix}-{uid}"})
        zombie.init_transactions(30)
        held = seen()
        produce(USERS * 4)
        doc = floe.wait(name, TERMINAL, 30)
        detail = doc["status"].get("detail") or ""
        check(doc["status"]["phase"] == "FAILED" and "fenced" in detail.lower(),
              f"after a producer took transactional.id {prefix}-{uid}: {doc['status']['phase']} {detail!r}")
        after = seen()
        check(held <= after and not (after - expected()), f"output of the fenced statement: {difference(after, expected())}")

    # ------------------------------------------------------------------------------------------------ 5. refusals
    def unattached() -> None:
        need("json_source")
        # A server no attached cluster has: the table is created (Flink checks options, not reachability, then),
        # reading or writing it fails.
        floe.query(f"CREATE TABLE nowhere (a STRING) WITH ('connector' = 'kafka', 'properties.bootstrap.servers' = "
                   f"'127.0.0.1:1', 'topic' = '{clicks}', 'format' = 'raw', 'scan.startup.mode' = 'earliest-offset')")
        detail = floe.failure("SELECT a FROM nowhere")
        check(NOT_ATTACHED in detail and "127.0.0.1:1" in detail, f"SELECT, a bootstrap of no attached cluster: {detail!r}")
        detail = floe.failure("INSERT INTO nowhere VALUES ('x')")
        check(NOT_ATTACHED in detail, f"INSERT into a table of no attached cluster: {detail!r}")
        # One server of an attached cluster's bootstrap list is enough, in any case, next to unknown ones.
        host, port = bootstrap.rsplit(":", 1)
        floe.query(f"CREATE TABLE anyone (uid STRING) WITH ('connector' = 'kafka', 'properties.bootstrap.servers' = "
                   f"'127.0.0.1:1, PLAINTEXT://{host.upper()}:{port}', 'topic' = '{clicks}', 'key.format' = 'raw', "
                   f"'key.fields' = 'uid', 'value.format' = 'json', 'value.fields-include' = 'EXCEPT_KEY', "
                   f"'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')")
        rows = floe.query("SELECT uid FROM anyone")
        expected = multiset([key] for key, *_ in produced)
        check(multiset(rows) == expected, f"a bootstrap list naming the broker second: {difference(multiset(rows), expected)}")

    def connection_options() -> None:
        need("json_source")
        # Connection settings are the attached cluster's: refused at CREATE, naming the key.
        detail = floe.failure(
            f"CREATE TABLE jaas (a STRING) WITH ('connector' = 'kafka', 'properties.bootstrap.servers' = '{bootstrap}', "
            f"'topic' = '{clicks}', 'format' = 'raw', 'properties.sasl.jaas.config' = 'x')")
        check("properties.sasl.jaas.config" in detail, f"properties.sasl.jaas.config: {detail!r}")
        detail = floe.failure(
            f"CREATE TABLE tls (a STRING, b STRING, PRIMARY KEY (a) NOT ENFORCED) WITH ('connector' = 'upsert-kafka', "
            f"'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{clicks}', 'key.format' = 'raw', "
            f"'value.format' = 'json', 'properties.security.protocol' = 'SSL')")
        check("properties.security.protocol" in detail, f"properties.security.protocol: {detail!r}")
        tables = {row[0] for row in floe.query("SHOW TABLES")}
        check(not {"jaas", "tls"} & tables, f"a refused CREATE left a table: {sorted(tables)}")

    def foreign_registry() -> None:
        need("json_source")
        elsewhere = "http://127.0.0.1:1/apis/ccompat/v7"
        floe.query(f"CREATE TABLE foreign_registry (user_name STRING, amount INT) WITH ('connector' = 'kafka', "
                   f"'properties.bootstrap.servers' = '{bootstrap}', 'topic' = '{clicks}', 'format' = 'avro-confluent', "
                   f"'avro-confluent.url' = '{elsewhere}', 'scan.startup.mode' = 'earliest-offset')")
        for sql in ("SELECT user_name FROM foreign_registry", "INSERT INTO foreign_registry VALUES ('x', 1)"):
            detail = floe.failure(sql)
            check(f"'avro-confluent.url' = '{elsewhere}'" in detail and "is not the Schema Registry" in detail,
                  f"{sql}: a foreign registry: {detail!r}")

    def foreign_registry_named() -> None:
        need("json_source")
        # Floe's registry host, but the path of a registry that is not the environment's; set as the value format's
        # option, which the refusal must name as it was written.
        wrong = need("registry_url").rsplit("/", 1)[0] + "/lsrc-000000"
        floe.query(f"CREATE TABLE other_lsrc (a STRING) WITH ('connector' = 'kafka', 'properties.bootstrap.servers' = "
                   f"'{bootstrap}', 'topic' = '{clicks}', 'value.format' = 'avro-confluent', "
                   f"'value.avro-confluent.url' = '{wrong}', 'scan.startup.mode' = 'earliest-offset')")
        detail = floe.failure("SELECT a FROM other_lsrc")
        check(wrong in detail and "is not the Schema Registry" in detail, f"another lsrc: {detail!r}")
        check(f"'value.avro-confluent.url' = '{wrong}'" in detail,
              f"the refusal names another option than the one set: {detail!r}")

    def group_required() -> None:
        need("json_source")
        # group-offsets is the kafka connector's default startup mode, and needs a group.
        floe.query(f"CREATE TABLE no_group (a STRING) WITH ('connector' = 'kafka', 'properties.bootstrap.servers' = "
                   f"'{bootstrap}', 'topic' = '{clicks}', 'format' = 'raw')")
        detail = floe.failure("SELECT a FROM no_group")
        check("'properties.group.id' is required" in detail, f"group-offsets without a group: {detail!r}")

    def missing_topic() -> None:
        need("json_source")
        missing = topic_name("missing")
        floe.query(f"CREATE TABLE missing (a STRING) WITH ('connector' = 'kafka', 'properties.bootstrap.servers' = "
                   f"'{bootstrap}', 'topic' = '{missing}', 'format' = 'raw', 'scan.startup.mode' = 'earliest-offset')")
        for sql in ("SELECT a FROM missing", "INSERT INTO missing VALUES ('x')"):
            detail = floe.failure(sql)
            check(f"Topic '{missing}'" in detail and "does not exist" in detail, f"{sql}, a missing topic: {detail!r}")
        check(missing not in admin.list_topics(timeout=10).topics, f"using {missing} created it")

    # ------------------------------------------------------------------------------------------------ 6. OpenAPI
    def openapi() -> None:
        try:
            from spec_validation import CONTROL_PLANE_SPECS, SQL_SPECS, SpecRegistry  # needs PyYAML, openapi-schema-validator
        except ImportError as error:
            raise SkipStep(f"OpenAPI validation needs tests/compat's packages ({error.name} is missing)")
        specs = SpecRegistry(names=CONTROL_PLANE_SPECS + SQL_SPECS + ("srcm-v3",))
        problems = []
        for method, path, status, body, has_body in floe.recorded:
            problems += [problem for problem in specs.validate(method, path, status, body, has_body)
                         if not any(artifact in problem for artifact in SPEC_ARTIFACTS)]
        check(len(floe.recorded) > 50, f"only {len(floe.recorded)} responses recorded")
        check(not problems, "\n  ".join(problems[:12]))

    steps.run("attach the broker; compute pool; the environment's registry", attach)
    steps.run("json values from a Producer, bounded SELECT in the default database", json_source)
    steps.run("raw keys + json values (EXCEPT_KEY) with partition/offset metadata", keyed_source)
    steps.run("group-offsets: start after the group's commits; reset policy; nothing committed", group_offsets)
    steps.run("startup specific-offsets / timestamp / latest-offset, bounded by offsets and time", startup_modes)
    steps.run("a bounded INSERT writes csv values and prefixed raw keys; read back", csv_sink)
    steps.run("avro-confluent: two writer schemas read; a sink registers under avro-confluent.subject", avro_source)
    steps.run("another environment's database reaches the cluster as its principal may", other_environment)
    steps.run("upsert-kafka avro-confluent: counts per user, read_committed, updated", upsert_counts)
    steps.run("upsert-kafka with HAVING: a key over the limit ends with a tombstone", upsert_tombstones)
    steps.run("kafka sink json: exactly the filtered rows; fenced by <prefix>-<uid>", kafka_sink)
    steps.run("kill -9 of the server twice: the upsert INSERT resumes, counts exactly once", kill_nine)
    steps.run("stopping the upsert INSERT: nothing more is written", stop_totals)
    steps.run("a bootstrap of no attached cluster fails SELECT and INSERT; one attached server suffices", unattached)
    steps.run("properties.sasl.jaas.config / security.protocol refused at CREATE, named", connection_options)
    steps.run("avro-confluent.url of another registry fails SELECT and INSERT", foreign_registry)
    steps.run("value.avro-confluent.url of another registry: the refusal names that option", foreign_registry_named)
    steps.run("group-offsets without properties.group.id fails", group_required)
    steps.run("a topic that does not exist fails SELECT and INSERT, and is not created", missing_topic)
    steps.run("responses match the OpenAPI files", openapi)


if __name__ == "__main__":
    main()
