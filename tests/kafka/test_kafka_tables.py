"""Kafka tables end to end: a real broker attached through ``cmk/v2``, real clients writing it, Flink SQL reading it.

Starts the real ``floe serve`` (tests/compat/floe_harness.py: a free port, a temporary data directory, generated
bootstrap credentials) and attaches the broker named by ``FLOE_TEST_KAFKA`` (tests/kafka/run.sh starts a noida-db
one) as a Kafka cluster of the default environment. confluent-kafka then creates topics (``AdminClient``) and
writes records with its own serializers (``AvroSerializer``/``JSONSerializer``, registering through Floe's Schema
Registry found via ``srcm/v3``), and statements submitted through ``sql/v1`` read those topics as tables: inferred
from the registered subjects, raw ``key``/``val`` without them, with metadata columns, error handling, CREATE/ALTER/
DROP TABLE acting on the topic and its subjects, and an unbounded SELECT that keeps delivering new records.

Every expected result is computed from what the producers wrote and what their delivery reports said; nothing is
hard-coded. INSERT into Kafka tables is not covered (Floe does not write Kafka tables yet).

Run: ``FLOE_TEST_KAFKA=127.0.0.1:PORT .venv/kafka/bin/python tests/kafka/test_kafka_tables.py`` (or through
tests/kafka/run.sh). FLOE_BIN names the binary (default .build/debug/floe). Without FLOE_TEST_KAFKA every step is
reported as SKIP. Prints one PASS/FAIL/SKIP line per step and ``N passed, M failed``.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))
sys.path.insert(0, str(HERE))

from floe_harness import FloeServer, SkipStep, Steps, check, exit_on_signals, start_or_exit  # noqa: E402
from kafka_e2e import SQLClient, multiset  # noqa: E402

from confluent_kafka import Consumer, Producer, SerializingProducer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONSerializer  # noqa: E402
from confluent_kafka.serialization import StringSerializer  # noqa: E402

REGION, CLOUD = "us-east-1", "AWS"
RUN = secrets.token_hex(3)  # topic names are unique per run: run.sh shares one broker between modules

ORDER_V1 = {
    "type": "record", "name": "Order", "namespace": "floe.kt",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}],
}
# BACKWARD compatible with v1: a new field with a default, which records written with v1 read.
ORDER_V2 = {
    "type": "record", "name": "Order", "namespace": "floe.kt",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"},
               {"name": "quantity", "type": "int", "default": 7}],
}
PAYMENT_JSON = {
    "$schema": "http://json-schema.org/draft-07/schema#", "title": "Payment", "type": "object",
    "properties": {"id": {"type": "integer"}, "note": {"type": "string"}}, "required": ["id", "note"],
    "additionalProperties": False,
}


def topic_name(what: str) -> str:
    return f"kt_{what}_{RUN}"


class Floe(SQLClient):
    """The control plane and sql/v1 (``SQLClient``) with the bootstrap Cloud key."""

    def __init__(self, server: FloeServer):
        super().__init__(server, "kt", RUN)

    def snapshot(self, sql: str, timeout: float = 60) -> list[list]:
        return self.query(sql, {"sql.snapshot.mode": "now"}, timeout)


def delivered(producer) -> None:
    """Flushes and checks nothing is left undelivered."""
    left = producer.flush(15)
    check(left == 0, f"{left} records not delivered within 15 s")


def main() -> None:
    exit_on_signals()
    bootstrap = os.environ.get("FLOE_TEST_KAFKA", "")
    steps = Steps("kafka tables (confluent-kafka producers, sql/v1 statements)")
    if not bootstrap:
        def no_broker() -> None:
            raise SkipStep("FLOE_TEST_KAFKA is not set (tests/kafka/run.sh starts a broker)")

        steps.run("FLOE_TEST_KAFKA names a broker", no_broker)
        steps.finish()
    server = start_or_exit(FloeServer(label="kafka-tables"))
    try:
        run(steps, server, bootstrap)
    finally:
        server.stop()  # keeps the data directory and log when COMPAT_KEEP=1
    steps.finish()


def run(steps: Steps, server: FloeServer, bootstrap: str) -> None:
    floe = Floe(server)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    state: dict = {}

    def need(key: str):
        if key not in state:
            raise SkipStep(f"needs '{key}' from an earlier step")
        return state[key]

    def cluster_path(cluster_id: str) -> str:
        return f"/cmk/v2/clusters/{cluster_id}?environment={floe.env}"

    def wait_cluster(cluster_id: str, timeout: float = 15) -> tuple[dict, bytes]:
        deadline = time.monotonic() + timeout
        while True:
            status, doc, raw = floe.call("GET", cluster_path(cluster_id))
            check(status == 200, f"GET cluster: HTTP {status} {raw[:300]!r}")
            if doc["status"]["phase"] != "PROVISIONING":
                return doc, raw
            check(time.monotonic() < deadline, f"cluster {cluster_id} still PROVISIONING after {timeout:.0f}s")
            time.sleep(0.2)

    def create_cluster(name: str, endpoint: str, credentials: dict | None) -> tuple[int, dict, bytes]:
        spec = {"display_name": name, "availability": "SINGLE_ZONE", "cloud": CLOUD, "region": REGION,
                "config": {"kind": "Basic"}, "environment": {"id": floe.env}, "kafka_bootstrap_endpoint": endpoint}
        if credentials:
            spec["credentials"] = credentials
        return floe.call("POST", "/cmk/v2/clusters", {"spec": spec})

    # ------------------------------------------------------------------------------------------------ 1. attach
    def attach() -> None:
        # noida-db accepts any SASL PLAIN credentials: a password lets us check it never comes back.
        password = "pw-" + secrets.token_hex(12)
        name = f"kt-{RUN}"
        status, doc, raw = create_cluster(name, bootstrap, {"mechanism": "PLAIN", "username": "floe", "password": password})
        check(status == 202, f"POST cluster: HTTP {status} {raw[:400]!r}")
        check(doc["status"]["phase"] == "PROVISIONING", f"POST answered {doc['status']!r}, expected PROVISIONING")
        check(doc["id"].startswith("lkc-"), f"id {doc['id']!r}")
        check(password.encode() not in raw, "the POST response carries the password")
        doc, raw = wait_cluster(doc["id"])
        check(doc["status"]["phase"] == "PROVISIONED", f"cluster ended {doc['status']!r}")
        check(password.encode() not in raw, "the GET response carries the password")
        check("credentials" not in doc["spec"] and "credentials" not in doc["status"],
              f"the response shows credentials: spec {sorted(doc['spec'])}, status {doc['status']!r}")
        check(doc["spec"]["display_name"] == name and doc["spec"].get("kafka_bootstrap_endpoint"), f"{doc['spec']!r}")
        status, listed, raw = floe.call("GET", f"/cmk/v2/clusters?environment={floe.env}")
        check(status == 200 and password.encode() not in raw, f"list: HTTP {status}, or it carries the password")
        check(doc["id"] in [c["id"] for c in listed["data"]], f"the cluster is not listed: {listed!r}")
        state["lkc"], state["cluster"] = doc["id"], name

    def attach_unreachable() -> None:
        status, doc, raw = create_cluster(f"kt-dead-{RUN}", "127.0.0.1:1", None)
        check(status == 202, f"POST cluster: HTTP {status} {raw[:400]!r}")
        doc, _ = wait_cluster(doc["id"])
        check(doc["status"]["phase"] == "FAILED", f"a cluster on 127.0.0.1:1 ended {doc['status']!r}, expected FAILED")
        detail = doc["status"].get("detail") or ""
        check(len(detail) >= 10 and "127.0.0.1:1" in detail,
              f"status.detail should say why, naming the endpoint: {detail!r}")

    def setup_sql() -> None:
        body = {"spec": {"display_name": f"kt-{RUN}", "cloud": CLOUD, "region": REGION, "max_cfu": 10,
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
        floe.database = need("cluster")
        status, listed, raw = floe.call("GET", f"/srcm/v3/clusters?environment={floe.env}")
        check(status == 200 and len(listed["data"]) == 1, f"srcm: HTTP {status} {raw[:300]!r}")
        url = listed["data"][0]["spec"]["http_endpoint"]
        state["registry"] = SchemaRegistryClient(
            {"url": url, "basic.auth.user.info": f"{floe.boot.api_key}:{floe.boot.api_secret}"})
        check(isinstance(state["registry"].get_subjects(), list), "the registry answers with the Cloud key")

    # ------------------------------------------------------------------------------------------------ 2. catalog
    def create_topic(name: str, partitions: int) -> None:
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        futures[name].result(15)
        deadline = time.monotonic() + 10
        while len(admin.list_topics(name, timeout=10).topics[name].partitions) != partitions:
            check(time.monotonic() < deadline, f"topic {name} has not {partitions} partitions")
            time.sleep(0.1)

    def show_catalog() -> None:
        cluster, lkc = need("cluster"), need("lkc")
        plain = topic_name("plain")
        create_topic(plain, 1)
        # A committed group offset makes the broker create __consumer_offsets, which must not be a table.
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"kt-{RUN}", "enable.auto.commit": False})
        try:
            consumer.commit(offsets=[TopicPartition(plain, 0, 0)], asynchronous=False)
        finally:
            consumer.close()
        internal = {t for t in admin.list_topics(timeout=10).topics if t.startswith("__")}
        check("__consumer_offsets" in internal, f"the broker has no __consumer_offsets after a commit: {sorted(internal)}")
        rows = floe.query("SHOW DATABASES")
        flat = {value for row in rows for value in row}
        check(cluster in flat and lkc in flat, f"SHOW DATABASES lacks {cluster!r}/{lkc!r}: {rows!r}")
        for database in (cluster, lkc):
            tables = {row[0] for row in floe.query(f"SHOW TABLES FROM `{database}`")}
            check(plain in tables, f"SHOW TABLES FROM {database} lacks {plain}: {sorted(tables)}")
            check(not tables & internal, f"internal topics listed as tables: {sorted(tables & internal)}")
        tables = {row[0] for row in floe.query(f"SHOW TABLES IN `{floe.env}`.`{lkc}`")}
        check(plain in tables, f"SHOW TABLES IN catalog.lkc lacks {plain}: {sorted(tables)}")

    # ------------------------------------------------------------------------------------------------ 3. avro/json
    def avro_topic() -> None:
        registry = need("registry")
        topic = topic_name("orders")
        create_topic(topic, 3)
        producer = SerializingProducer({
            "bootstrap.servers": bootstrap, "key.serializer": StringSerializer("utf_8"),
            "value.serializer": AvroSerializer(registry, json.dumps(ORDER_V1))})
        reports: list[tuple[int, int, bytes]] = []  # partition, offset, the serialized value

        def on_delivery(error, message) -> None:
            if error is None:
                reports.append((message.partition(), message.offset(), message.value()))

        written = []
        for i in range(12):
            value = {"id": 1000 + i, "item": f"item-{secrets.token_hex(3)}"}
            producer.produce(topic, key=f"k{i}", value=value, on_delivery=on_delivery)
            written.append(value)
        delivered(producer)
        check(len(reports) == len(written), f"{len(reports)} delivery reports for {len(written)} records")
        check(len({p for p, _, _ in reports}) > 1, f"records landed in one partition only: {reports}")
        rows = floe.snapshot(f"SELECT id, item FROM `{need('cluster')}`.`{topic}`")
        expected = multiset([str(v["id"]), v["item"]] for v in written)
        check(multiset(rows) == expected, f"rows {sorted(rows)} != produced {sorted(expected.elements())}")
        # The same table through the catalog's id and the cluster's lkc id.
        rows = floe.snapshot(f"SELECT id, item FROM `{floe.env}`.`{need('lkc')}`.`{topic}`")
        check(multiset(rows) == expected, f"by environment and lkc id: rows {sorted(rows)}")
        # The key was written with a StringSerializer and has no subject: the raw `key` column holds its bytes.
        keyed = floe.snapshot(f"SELECT `key`, id FROM `{need('cluster')}`.`{topic}`")
        expected_keys = multiset([f"x'{f'k{i}'.encode().hex()}'", str(1000 + i)] for i in range(12))
        check(multiset(keyed) == expected_keys, f"raw keys {sorted(keyed)} != {sorted(expected_keys.elements())}")
        state["orders"] = (topic, written, reports)

    def avro_evolved() -> None:
        registry = need("registry")
        topic, old, _ = need("orders")
        producer = SerializingProducer({"bootstrap.servers": bootstrap,
                                        "value.serializer": AvroSerializer(registry, json.dumps(ORDER_V2))})
        new = [{"id": 2000 + i, "item": f"new-{i}", "quantity": 100 + i} for i in range(5)]
        for value in new:
            producer.produce(topic, value=value)
        delivered(producer)
        check(registry.get_latest_version(f"{topic}-value").version == 2, "v2 registered")
        rows = floe.snapshot(f"SELECT id, item, quantity FROM `{need('cluster')}`.`{topic}`")
        default = next(f["default"] for f in ORDER_V2["fields"] if f["name"] == "quantity")
        expected = multiset([[str(v["id"]), v["item"], str(default)] for v in old]
                            + [[str(v["id"]), v["item"], str(v["quantity"])] for v in new])
        check(multiset(rows) == expected, f"rows {sorted(rows)} != {sorted(expected.elements())}")

    def json_topic() -> None:
        registry = need("registry")
        topic = topic_name("payments")
        create_topic(topic, 2)
        producer = SerializingProducer({"bootstrap.servers": bootstrap,
                                        "value.serializer": JSONSerializer(json.dumps(PAYMENT_JSON), registry)})
        written = [{"id": 500 + i, "note": f"note {i} {secrets.token_hex(2)}"} for i in range(8)]
        for value in written:
            producer.produce(topic, value=value)
        delivered(producer)
        rows = floe.snapshot(f"SELECT id, note FROM `{need('cluster')}`.`{topic}`")
        check(multiset(rows) == multiset([str(v["id"]), v["note"]] for v in written), f"rows {sorted(rows)}")
        ddl = floe.query(f"SHOW CREATE TABLE `{need('cluster')}`.`{topic}`")[0][0]
        check("'value.format' = 'json-registry'" in ddl, f"SHOW CREATE TABLE of a JSON Schema topic:\n{ddl}")

    # ------------------------------------------------------------------------------------------------ 4. raw
    def raw_topic() -> None:
        topic = topic_name("raw")
        create_topic(topic, 1)
        producer = Producer({"bootstrap.servers": bootstrap})
        written = [(secrets.token_bytes(3), secrets.token_bytes(5)) for _ in range(4)]
        for key, value in written:
            producer.produce(topic, key=key, value=value)
        delivered(producer)
        rows = floe.snapshot(f"SELECT `key`, `val` FROM `{need('cluster')}`.`{topic}`")
        expected = multiset([f"x'{k.hex()}'", f"x'{v.hex()}'"] for k, v in written)
        check(multiset(rows) == expected,
              f"rows {sorted(rows)} != {sorted(expected.elements())}")
        described = floe.query(f"DESCRIBE `{need('cluster')}`.`{topic}`")
        types = {row[0]: row[1] for row in described}
        check(set(types) >= {"key", "val"} and all(("BYTES" in types[c] or "VARBINARY" in types[c]) for c in ("key", "val")),
              f"DESCRIBE of a topic without subjects: {described!r}")

    # ------------------------------------------------------------------------------------------------ 5. metadata
    def metadata_columns() -> None:
        topic, written, reports = need("orders")
        table = f"`{need('cluster')}`.`{topic}`"
        floe.query(f"ALTER TABLE {table} ADD (`p` INT METADATA FROM 'partition' VIRTUAL, "
                   f"`o` BIGINT METADATA FROM 'offset' VIRTUAL)")
        rows = floe.snapshot(f"SELECT p, o FROM {table} WHERE id < 2000")
        expected = multiset([str(p), str(o)] for p, o, _ in reports)
        check(multiset(rows) == expected, f"partition/offset {sorted(rows)} != delivery reports {sorted(expected.elements())}")
        floe.query(f"ALTER TABLE {table} ADD (`tp` STRING METADATA FROM 'topic' VIRTUAL, "
                   f"`rv` BYTES METADATA FROM 'raw-value' VIRTUAL)")
        rows = floe.snapshot(f"SELECT tp, p, o, rv FROM {table} WHERE id < 2000")
        expected = multiset([topic, str(p), str(o), f"x'{v.hex()}'"] for p, o, v in reports)
        check(multiset(rows) == expected, f"topic/raw-value {sorted(rows)[:3]}… != {sorted(expected.elements())[:3]}…")
        described = {row[0] for row in floe.query(f"DESCRIBE {table}")}
        check({"p", "o", "tp", "rv"} <= described, f"DESCRIBE lacks the metadata columns: {sorted(described)}")

    # ------------------------------------------------------------------------------------------------ 6. DDL
    def create_table() -> None:
        registry = need("registry")
        table = topic_name("created")
        buckets = 4
        floe.query(f"CREATE TABLE `{table}` (k INT, s STRING, n BIGINT) DISTRIBUTED BY (k) INTO {buckets} BUCKETS")
        metadata = admin.list_topics(table, timeout=10).topics[table]
        check(metadata.error is None, f"topic {table}: {metadata.error}")
        check(len(metadata.partitions) == buckets, f"{len(metadata.partitions)} partitions, expected {buckets}")
        subjects = registry.get_subjects()
        check({f"{table}-key", f"{table}-value"} <= set(subjects), f"subjects {subjects}")
        check(registry.get_compatibility(f"{table}-key") == "FULL_TRANSITIVE",
              f"key subject compatibility {registry.get_compatibility(f'{table}-key')!r}")
        ddl = floe.query(f"SHOW CREATE TABLE `{table}`")[0][0]
        check("'connector' = 'confluent'" in ddl, f"SHOW CREATE TABLE lacks the connector:\n{ddl}")
        check(f"INTO {buckets} BUCKETS" in ddl, f"SHOW CREATE TABLE lacks the buckets:\n{ddl}")
        options = [line.strip().rstrip(",") for line in ddl.split("WITH (", 1)[-1].splitlines()
                   if line.strip().startswith("'")]
        check(options and options == sorted(options), f"options are not sorted:\n{ddl}")
        check(any(o.startswith("'key.format'") for o in options) and any(o.startswith("'value.format'") for o in options),
              f"formats not shown:\n{ddl}")

        key_schema = registry.get_latest_version(f"{table}-key").schema.schema_str
        value_schema = registry.get_latest_version(f"{table}-value").schema.schema_str
        serializer_conf = {"auto.register.schemas": False, "use.latest.version": True}
        producer = SerializingProducer({
            "bootstrap.servers": bootstrap,
            "key.serializer": AvroSerializer(registry, key_schema, conf=serializer_conf),
            "value.serializer": AvroSerializer(registry, value_schema, conf=serializer_conf)})
        written = [(i, f"s{i}-{secrets.token_hex(2)}", i * 1_000_000_007) for i in range(6)]
        for k, s, n in written:
            producer.produce(table, key={"k": k}, value={"s": s, "n": n})
        delivered(producer)
        check(registry.get_latest_version(f"{table}-value").version == 1, "the producer registered a new version")
        rows = floe.snapshot(f"SELECT k, s, n FROM `{table}`")
        check(multiset(rows) == multiset([str(k), s, str(n)] for k, s, n in written), f"rows {sorted(rows)}")
        state["created"] = table

    def alter_kafka_options() -> None:
        table = need("created")
        resource = ConfigResource(ConfigResource.Type.TOPIC, table)

        def retention_ms() -> str:
            return admin.describe_configs([resource])[resource].result(10)["retention.ms"].value

        before = retention_ms()
        wanted = 86_400_000 * 2
        check(before != str(wanted), f"retention.ms is already {before}")
        floe.query(f"ALTER TABLE `{table}` SET ('kafka.retention.time' = '2 d')")
        check(retention_ms() == str(wanted), f"retention.ms {retention_ms()} after SET 'kafka.retention.time' = '2 d'")
        ddl = floe.query(f"SHOW CREATE TABLE `{table}`")[0][0]
        check("'kafka.retention.time' = '2 d'" in ddl, f"SHOW CREATE TABLE after SET:\n{ddl}")

    def create_keyless() -> None:
        registry = need("registry")
        table = topic_name("keyless")
        floe.query(f"CREATE TABLE `{table}` (s STRING, n INT)")
        metadata = admin.list_topics(table, timeout=10).topics[table]
        check(metadata.error is None and len(metadata.partitions) == 6,
              f"topic {table}: {metadata.error} with {len(metadata.partitions)} partitions, expected the default 6")
        subjects = set(registry.get_subjects())
        check(f"{table}-value" in subjects and f"{table}-key" not in subjects,
              f"a table without a key registers only its value subject: {sorted(s for s in subjects if table in s)}")
        columns = [row[0] for row in floe.query(f"DESCRIBE `{table}`")]
        ddl = floe.query(f"SHOW CREATE TABLE `{table}`")[0][0]
        floe.query(f"DROP TABLE `{table}`")
        # CT: `CREATE TABLE t_minimal (s STRING)` is an append table without a key, distributed round-robin.
        check(columns == ["s", "n"], f"DESCRIBE lists {columns}, expected the declared columns ['s', 'n']")
        check("HASH(" not in ddl, f"a keyless table is not distributed by a hash:\n{ddl}")

    def drop_table() -> None:
        registry = need("registry")
        table = need("created")
        floe.query(f"DROP TABLE `{table}`")
        deadline = time.monotonic() + 10
        while table in admin.list_topics(timeout=10).topics:
            check(time.monotonic() < deadline, f"topic {table} still exists after DROP TABLE")
            time.sleep(0.2)
        subjects = registry.get_subjects()
        check(not {f"{table}-key", f"{table}-value"} & set(subjects), f"subjects left after DROP TABLE: {subjects}")
        deleted = registry.get_subjects(deleted=True)
        check({f"{table}-key", f"{table}-value"} <= set(deleted), f"subjects are soft-deleted: {deleted}")
        tables = {row[0] for row in floe.query("SHOW TABLES")}
        check(table not in tables, f"{table} still listed: {sorted(tables)}")

    # ------------------------------------------------------------------------------------------------ 7. errors
    def error_handling() -> None:
        registry = need("registry")
        topic = topic_name("broken")
        create_topic(topic, 1)
        good = SerializingProducer({"bootstrap.servers": bootstrap,
                                    "value.serializer": AvroSerializer(registry, json.dumps(ORDER_V1))})
        raw = Producer({"bootstrap.servers": bootstrap})
        written = [{"id": 3000 + i, "item": f"ok-{i}"} for i in range(4)]
        good.produce(topic, value=written[0])
        good.produce(topic, value=written[1])
        delivered(good)
        raw.produce(topic, value=b"this is not avro at all")
        delivered(raw)
        good.produce(topic, value=written[2])
        good.produce(topic, value=written[3])
        delivered(good)
        table = f"`{need('cluster')}`.`{topic}`"
        detail = floe.failure(f"SELECT id, item FROM {table}", {"sql.snapshot.mode": "now"})
        check("error-handling.mode" in detail, f"the failure should mention 'error-handling.mode': {detail!r}")
        floe.query(f"ALTER TABLE {table} SET ('error-handling.mode' = 'ignore')")
        rows = floe.snapshot(f"SELECT id, item FROM {table}")
        check(multiset(rows) == multiset([str(v["id"]), v["item"]] for v in written), f"rows {sorted(rows)}")

    # ------------------------------------------------------------------------------------------------ 8. unbounded
    def unbounded() -> None:
        registry = need("registry")
        topic = topic_name("stream")
        create_topic(topic, 2)
        producer = SerializingProducer({"bootstrap.servers": bootstrap,
                                        "value.serializer": AvroSerializer(registry, json.dumps(ORDER_V1))})
        first = [{"id": 4000 + i, "item": f"first-{i}"} for i in range(3)]
        for value in first:
            producer.produce(topic, value=value)
        delivered(producer)
        name = floe.submit(f"SELECT id, item FROM `{need('cluster')}`.`{topic}`")
        try:
            floe.wait(name, {"RUNNING"}, 60)
            url: str | None = f"{floe.statements()}/{name}/results"
            rows: list[list] = []

            def collect(expected: Counter, timeout: float) -> None:
                nonlocal url
                deadline = time.monotonic() + timeout
                while multiset(rows) != expected:
                    check(time.monotonic() < deadline, f"rows {sorted(rows)} did not reach {sorted(expected.elements())}")
                    check(url, "the results of a RUNNING statement have no next link")
                    page, url = floe.results_page(url)
                    check(all(c.get("op", 0) == 0 for c in page), f"non-insert changes: {page}")
                    rows.extend(c["row"] for c in page)
                    check(not (multiset(rows) - expected), f"unexpected rows {sorted(rows)}")

            collect(multiset([str(v["id"]), v["item"]] for v in first), 30)
            check(floe.status(name)["status"]["phase"] == "RUNNING", "the unbounded SELECT stopped by itself")
            more = [{"id": 4100 + i, "item": f"more-{i}"} for i in range(4)]
            for value in more:
                producer.produce(topic, value=value)
            delivered(producer)
            collect(multiset([str(v["id"]), v["item"]] for v in first + more), 30)
            check(floe.status(name)["status"]["phase"] == "RUNNING", "the unbounded SELECT stopped by itself")
        finally:
            status, _, raw = floe.call("PATCH", f"{floe.statements()}/{name}",
                                       [{"op": "replace", "path": "/spec/stopped", "value": True}])
        check(status == 200, f"PATCH spec.stopped: HTTP {status} {raw[:300]!r}")
        doc = floe.wait(name, {"STOPPED"}, 30)
        check(doc["spec"]["stopped"] is True, f"{doc['spec']!r}")

    steps.run("attach the broker: cmk cluster PROVISIONED, no credential shown", attach)
    steps.run("an unreachable broker: cmk cluster FAILED with a detail", attach_unreachable)
    steps.run("compute pool and the environment's registry", setup_sql)
    steps.run("SHOW DATABASES / SHOW TABLES list the cluster and its topics", show_catalog)
    steps.run("avro topic (3 partitions) read as a table", avro_topic)
    steps.run("avro topic after a compatible schema evolution", avro_evolved)
    steps.run("json schema topic read as a table", json_topic)
    steps.run("a topic without subjects reads as raw key/val", raw_topic)
    steps.run("metadata columns partition/offset match the delivery reports", metadata_columns)
    steps.run("CREATE TABLE creates topic and subjects; records read back", create_table)
    steps.run("ALTER TABLE SET kafka.retention.time reconfigures the topic", alter_kafka_options)
    steps.run("DROP TABLE deletes topic and soft-deletes subjects", drop_table)
    steps.run("CREATE TABLE without a key: 6 partitions, value subject, declared columns", create_keyless)
    steps.run("an undecodable record fails, error-handling.mode ignore skips it", error_handling)
    steps.run("an unbounded SELECT keeps running and delivers new records", unbounded)


if __name__ == "__main__":
    main()
