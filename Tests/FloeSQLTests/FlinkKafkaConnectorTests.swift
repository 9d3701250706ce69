// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Foundation
import Synchronization
import Testing

@testable import FloeSQL

/// Apache Flink's `kafka` and `upsert-kafka` connectors in the embedded database: options checked as Flink checks
/// them, a topic of an attached cluster named by its bootstrap servers, Flink's formats for keys and values.
@Suite struct FlinkKafkaConnectorTests {
    static let bootstrap = "broker-1:9092,broker-2:9092"
    static let registryURL = "http://localhost:8080/schema-registry/lsrc-abc123"
    static let snapshot = ["sql.snapshot.mode": "now"]

    static func fixture() throws -> (EngineFixture, InMemoryKafkaCluster, InMemorySchemaRegistry) {
        let cluster = InMemoryKafkaCluster(name: "shop")
        let registry = InMemorySchemaRegistry()
        var fixture = try EngineFixture()
        fixture.kafkaDatabases = [
            KafkaDatabase(
                catalogID: EngineFixture.dev.id, id: "lkc-shop1", name: "shop", cluster: cluster, registry: registry, bootstrap: bootstrap,
                registryAddresses: ["/schema-registry/lsrc-abc123"])
        ]
        return (fixture, cluster, registry)
    }

    static func text(_ changes: [ResultChange]) -> [String] { changes.map(EngineText.change).sorted() }

    static func options(_ pairs: [String: String]) -> [String: String] {
        ["connector": "kafka", "topic": "t", "properties.bootstrap.servers": bootstrap, "format": "json"].merging(pairs) { $1 }.filter {
            !$0.value.isEmpty
        }
    }

    static func refusal(
        _ options: [String: String], columns: [(name: String, type: SQLType)] = [("a", .string), ("b", SQLType(.integer))],
        primaryKey: [String] = []
    ) -> String {
        do {
            _ = try FlinkKafkaOptions(options: options, columns: columns, primaryKey: primaryKey)
            return "accepted"
        } catch { return error.message }
    }

    @Test func optionsAreCheckedAsFlinkChecksThem() {
        #expect(Self.refusal(Self.options([:])) == "accepted")
        #expect(
            Self.refusal(Self.options(["properties.bootstrap.servers": ""])).contains("Missing required options are:\n\nproperties.bootstrap.servers")
        )
        #expect(Self.refusal(Self.options(["topic": ""])).contains("Missing required options are:\n\ntopic"))
        let jaas = Self.refusal(Self.options(["properties.sasl.jaas.config": "x"]))
        #expect(jaas.contains("Unsupported options found for 'kafka'") && jaas.contains("properties.sasl.jaas.config") && jaas.contains("attached"))
        #expect(Self.refusal(Self.options(["json.no-such-option": "1"])).contains("json.no-such-option"))
        #expect(Self.refusal(Self.options([:]), primaryKey: ["a"]).contains("doesn't support defining PRIMARY KEY"))
        #expect(Self.refusal(Self.options(["connector": "upsert-kafka"])).contains("require to define a PRIMARY KEY"))
        #expect(
            Self.refusal(Self.options(["connector": "upsert-kafka", "format": "", "key.format": "raw", "value.format": "json"]), primaryKey: ["a"])
                == "accepted")
        #expect(Self.refusal(Self.options(["key.fields": "a"])).contains("'key.fields' can only be declared if a key format is defined"))
        #expect(Self.refusal(Self.options(["key.format": "json"])).contains("requires the declaration of one or more of key fields"))
        #expect(Self.refusal(Self.options(["key.format": "json", "key.fields": "zz"])).contains("Could not find the field 'zz'"))
        #expect(
            Self.refusal(Self.options(["key.format": "json", "key.fields": "a", "key.fields-prefix": "k_", "value.fields-include": "EXCEPT_KEY"]))
                .contains("must be prefixed with 'k_'"))
        #expect(Self.refusal(Self.options(["key.fields-prefix": "k_"])).contains("A key prefix is not allowed"))
        #expect(Self.refusal(Self.options(["format": "avro-confluent"])).contains("Missing required options are:\n\navro-confluent.url"))
        #expect(
            Self.refusal(Self.options(["format": "avro-confluent", "avro-confluent.url": "http://r", "avro-confluent.basic-auth.user-info": "k:s"]))
                .contains("avro-confluent.basic-auth.user-info"))
        #expect(Self.refusal(Self.options(["format": "debezium-json"])).contains("not supported yet"))
        #expect(Self.refusal(Self.options(["format": "yaml"])).contains("Could not find any format factory for identifier 'yaml'"))
        #expect(Self.refusal(Self.options(["format": "raw"])).contains("only one physical column"))
        #expect(Self.refusal(Self.options(["topic-pattern": "t.*"])).contains("'topic-pattern'"))
        #expect(Self.refusal(Self.options(["topic": "a;b"])).contains("several topics"))
        #expect(Self.refusal(Self.options(["scan.startup.mode": "now"])).contains("Invalid value for option 'scan.startup.mode'"))
        #expect(Self.refusal(Self.options(["scan.startup.mode": "timestamp"])).contains("scan.startup.timestamp-millis"))
        #expect(Self.refusal(Self.options(["sink.partitioner": "round-robin"])).contains("'sink.partitioner' = 'round-robin' is not supported"))
        #expect(Self.refusal(Self.options(["sink.delivery-guarantee": "twice"])).contains("sink.delivery-guarantee"))
        #expect(Self.refusal(Self.options(["sink.buffer-flush.max-rows": "10"])).contains("'sink.buffer-flush.max-rows'"))
        #expect(Self.refusal(Self.options(["properties.commit.offsets.on.checkpoint": "true"])).contains("does not commit them"))
        #expect(Self.refusal(Self.options(["properties.auto.offset.reset": "sometimes"])).contains("properties.auto.offset.reset"))
    }

    @Test func aTableInTheEmbeddedDatabaseReadsJSONValuesAndCSVKeys() async throws {
        let (fixture, cluster, _) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("clicks", partitions: 2, configs: [:])
        cluster.produce("clicks", partition: 0, key: Array("u1".utf8), value: Array(#"{"user_name":"ann","ms":5}"#.utf8), timestamp: 1_000)
        cluster.produce(
            "clicks", partition: 1, key: Array("u2".utf8), value: Array(#"{"ms":7,"user_name":"bob","extra":true}"#.utf8), timestamp: 2_000)
        cluster.produce("clicks", partition: 1, key: nil, value: Array(#"{"user_name":"cy"}"#.utf8), timestamp: 3_000)
        // The bootstrap list names the cluster by any one of its servers, in any case.
        _ = try await fixture.run(
            """
            CREATE TABLE clicks (uid STRING, user_name STRING, ms INT, `part` INT METADATA FROM 'partition' VIRTUAL) WITH (
              'connector' = 'kafka', 'topic' = 'clicks', 'properties.bootstrap.servers' = 'BROKER-2:9092',
              'key.format' = 'csv', 'key.fields' = 'uid', 'value.format' = 'json', 'value.fields-include' = 'EXCEPT_KEY',
              'scan.startup.mode' = 'earliest-offset')
            """)
        let rows = Self.text(try await fixture.run("SELECT uid, user_name, ms, `part` FROM clicks", Self.snapshot).1)
        #expect(rows == ["+I[NULL, cy, NULL, 1]", "+I[u1, ann, 5, 0]", "+I[u2, bob, 7, 1]"], "\(rows)")
        // A malformed value fails the statement, naming where it is.
        cluster.produce("clicks", partition: 0, key: nil, value: Array("{not json".utf8), timestamp: 4_000)
        await #expect { try await fixture.run("SELECT * FROM clicks", Self.snapshot) } throws: { error in
            "\(error)".contains("partition 0, offset 1")
        }
    }

    @Test func groupOffsetsStartWhereTheGroupCommitted() async throws {
        let (fixture, cluster, _) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("ticks", partitions: 1, configs: [:])
        for index in 0..<4 { cluster.produce("ticks", partition: 0, key: nil, value: Array("\(index)".utf8), timestamp: Int64(index)) }
        cluster.groupOffsets.withLock { $0["g1"] = ["ticks": [0: 2]] }
        func table(_ name: String, _ extra: String) -> String {
            """
            CREATE TABLE \(name) (n STRING) WITH ('connector' = 'kafka', 'topic' = 'ticks', 'properties.bootstrap.servers' = 'broker-1:9092',
              'format' = 'raw'\(extra))
            """
        }
        _ = try await fixture.run(table("committed", ", 'properties.group.id' = 'g1'"))
        #expect(Self.text(try await fixture.run("SELECT n FROM committed", Self.snapshot).1) == ["+I[2]", "+I[3]"])
        _ = try await fixture.run(table("nogroup", ""))
        await #expect { try await fixture.run("SELECT n FROM nogroup", Self.snapshot) } throws: { error in
            "\(error)".contains("'properties.group.id' is required in 'group-offsets' startup mode")
        }
        _ = try await fixture.run(table("fresh", ", 'properties.group.id' = 'g2'"))
        await #expect { try await fixture.run("SELECT n FROM fresh", Self.snapshot) } throws: { error in
            "\(error)".contains("Undefined offset with no reset policy for partitions: [ticks-0]")
        }
        _ = try await fixture.run(table("reset", ", 'properties.group.id' = 'g2', 'properties.auto.offset.reset' = 'earliest'"))
        #expect(Self.text(try await fixture.run("SELECT n FROM reset", Self.snapshot).1).count == 4)
    }

    @Test func anUpsertKafkaTableWritesAvroConfluentAndReadsItBack() async throws {
        let (fixture, cluster, registry) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("totals", partitions: 3, configs: [:])
        _ = try await fixture.run(
            """
            CREATE TABLE totals (user_name STRING, n BIGINT, PRIMARY KEY (user_name) NOT ENFORCED) WITH (
              'connector' = 'upsert-kafka', 'topic' = 'totals', 'properties.bootstrap.servers' = '\(Self.bootstrap)',
              'key.format' = 'raw', 'value.format' = 'avro-confluent', 'value.avro-confluent.url' = '\(Self.registryURL)/',
              'sink.transactional-id-prefix' = 'totals-tx')
            """)
        _ = try await fixture.run("INSERT INTO totals VALUES ('ann', 1), ('bob', 2)", statementID: "w-1")
        _ = try await fixture.run("INSERT INTO totals VALUES ('ann', 3)", statementID: "w-2")
        #expect(cluster.markers.withLock { $0["totals-tx-w-1"] } == 2)
        // Flink's avro-confluent registers the columns' schema (record `record`) under `<topic>-value`.
        let schema = try #require(try await registry.latestVersion(subject: "totals-value"))
        #expect(schema.text.contains(#""name":"record""#) && schema.text.contains(#""name":"n""#), "\(schema.text)")
        let keys = cluster.records.withLock { $0["totals"]?.values.flatMap { $0 }.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } } }
        #expect(keys?.sorted() == ["ann", "ann", "bob"])
        #expect(Self.text(try await fixture.run("SELECT user_name, n FROM totals", Self.snapshot).1) == ["+I[ann, 3]", "+I[bob, 2]"])
        // An updating query may write it (it keeps changes by key).
        _ = try await fixture.run(
            "INSERT INTO totals SELECT user_name, SUM(n) FROM (VALUES ('cy', 1), ('cy', 2)) AS v(user_name, n) GROUP BY user_name", statementID: "w-3"
        )
        #expect(Self.text(try await fixture.run("SELECT n FROM totals WHERE user_name = 'cy'", Self.snapshot).1) == ["+I[3]"])
    }

    @Test func aKafkaTableWritesCSVValuesWithTimestampsFromTheProducer() async throws {
        let (fixture, cluster, _) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("lines", partitions: 1, configs: [:])
        _ = try await fixture.run(
            """
            CREATE TABLE lines (id INT, note STRING) WITH ('connector' = 'kafka', 'topic' = 'lines',
              'properties.bootstrap.servers' = 'broker-1:9092', 'format' = 'csv', 'csv.field-delimiter' = ';')
            """)
        _ = try await fixture.run("INSERT INTO lines VALUES (1, 'a;b'), (2, CAST(NULL AS STRING))", statementID: "w-1")
        let values = cluster.records.withLock { $0["lines"]?[0]?.map { String(decoding: $0.value ?? [], as: UTF8.self) } }
        #expect(values == [#"1;"a;b""#, "2;"])
        #expect(cluster.records.withLock { $0["lines"]?[0]?.allSatisfy { $0.key == nil } } == true)
    }

    @Test func theRecordTimestampAndHeadersAreReadAndWritten() async throws {
        let (fixture, cluster, _) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("events", partitions: 1, configs: [:])
        _ = try await fixture.run(
            """
            CREATE TABLE events (id INT, ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp', hdrs MAP<STRING, BYTES> METADATA FROM 'headers',
              `off` BIGINT METADATA FROM 'offset' VIRTUAL) WITH ('connector' = 'kafka', 'topic' = 'events',
              'properties.bootstrap.servers' = 'broker-1:9092', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset')
            """)
        _ = try await fixture.run(
            "INSERT INTO events VALUES (1, TO_TIMESTAMP_LTZ(1700000000123, 3), MAP['trace', CAST('abc' AS BYTES)])", statementID: "w-1")
        // Left out, they are the producer's: its clock and no headers.
        _ = try await fixture.run("INSERT INTO events (id) VALUES (2)", statementID: "w-2")
        let written = cluster.records.withLock { $0["events"]?[0] ?? [] }
        #expect(written.count == 2)
        #expect(written.first?.timestamp == 1_700_000_000_123)
        #expect(written.first?.headers.map(\.name) == ["trace"] && written.first?.headers.first?.value == Array("abc".utf8))
        #expect(written.last?.headers.isEmpty == true)
        #expect(String(decoding: written.first?.value ?? [], as: UTF8.self) == #"{"id":1}"#)
        let rows = Self.text(
            try await fixture.run(
                "SELECT id, ts, CARDINALITY(hdrs), `off` FROM events WHERE id = 1",
                Self.snapshot.merging(["sql.local-time-zone": "UTC"]) { $1 }
            ).1)
        #expect(rows == ["+I[1, 2023-11-14 22:13:20.123, 1, 0]"], "\(rows)")
        // A read-only key cannot be written.
        _ = try await fixture.run(
            """
            CREATE TABLE bad (id INT, p INT METADATA FROM 'partition') WITH ('connector' = 'kafka', 'topic' = 'events',
              'properties.bootstrap.servers' = 'broker-1:9092', 'format' = 'json')
            """)
        await #expect { try await fixture.run("INSERT INTO bad VALUES (1, 0)") } throws: { error in "\(error)".contains("is read-only") }
    }

    @Test func windowsFireOnTheLeastPartitionWatermark() async throws {
        let (fixture, cluster, _) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("ticks", partitions: 2, configs: [:])
        let base: Int64 = 1_700_000_040_000  // a minute boundary
        // Partition 0 runs 20 minutes ahead of partition 1; both are past their warm-up and in order (50 ms tolerance).
        for index in 0..<1_200 {
            cluster.produce("ticks", partition: 0, key: nil, value: Array("a".utf8), timestamp: base + Int64(index) * 1_000)
        }
        for index in 0..<1_100 {
            cluster.produce("ticks", partition: 1, key: nil, value: Array("b".utf8), timestamp: base + Int64(index) * 500)
        }
        _ = try await fixture.run(
            """
            CREATE TABLE ticks (v STRING) WITH ('connector' = 'kafka', 'topic' = 'ticks', 'properties.bootstrap.servers' = 'broker-1:9092',
              'format' = 'raw', 'scan.startup.mode' = 'earliest-offset')
            """)
        let (traits, changes) = try await fixture.run(
            "SELECT window_end, COUNT(*) FROM TABLE(TUMBLE(TABLE ticks, DESCRIPTOR($rowtime), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end",
            ["sql.tables.scan.idle-timeout": "0", "sql.local-time-zone": "UTC"])
        #expect(!traits.isBounded)
        // Partition 1 reached base + 549.5 s: its watermark, 50 ms less, closes the first nine windows only.
        let rows = Self.text(changes)
        #expect(rows.count == 9, "\(rows)")
        #expect(rows.first == "+I[2023-11-14 22:15:00.000, 180]", "\(rows)")
    }

    @Test func writingAnotherEnvironmentsClusterNeedsItsWriteGrant() async throws {
        let cluster = InMemoryKafkaCluster(name: "shop")
        try cluster.createTopic("t", partitions: 1, configs: [:])
        var fixture = try EngineFixture()
        defer { fixture.remove() }
        // The cluster is a database of prod; the table lives in dev's default database.
        fixture.kafkaDatabases = [
            KafkaDatabase(
                catalogID: EngineFixture.prod.id, id: "lkc-prod1", name: "shop", cluster: cluster, registry: InMemorySchemaRegistry(),
                bootstrap: Self.bootstrap)
        ]
        _ = try await fixture.run(
            "CREATE TABLE t (a STRING) WITH ('connector' = 'kafka', 'topic' = 't', 'properties.bootstrap.servers' = 'broker-1:9092', 'format' = 'raw')"
        )
        let readOnly = SessionContext(
            catalog: EngineFixture.dev, grants: [CatalogGrant(EngineFixture.dev, .all), CatalogGrant(EngineFixture.prod, .read)],
            properties: [:], kafkaDatabases: fixture.kafkaDatabases)
        let refusal = await CatalogAccessTests.message(fixture, "INSERT INTO t VALUES ('x')", readOnly)
        #expect(refusal?.contains("may not write to tables in catalog 'prod'") == true, "\(refusal ?? "accepted")")
        #expect(cluster.records.withLock { $0["t"] } == nil)
        _ = try await fixture.run("INSERT INTO t VALUES ('x')", statementID: "w-1")
        #expect(cluster.records.withLock { $0["t"]?[0]?.count } == 1)
    }

    @Test func onlyAttachedClustersAndTheirRegistriesAreReached() async throws {
        let (fixture, cluster, _) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("t", partitions: 1, configs: [:])
        _ = try await fixture.run(
            "CREATE TABLE elsewhere (a STRING) WITH ('connector' = 'kafka', 'topic' = 't', 'properties.bootstrap.servers' = 'other:9092', 'format' = 'raw', 'scan.startup.mode' = 'earliest-offset')"
        )
        await #expect { try await fixture.run("SELECT * FROM elsewhere", Self.snapshot) } throws: { error in
            "\(error)".contains("'properties.bootstrap.servers' = 'other:9092'") && "\(error)".contains("not a Kafka cluster attached")
        }
        await #expect { try await fixture.run("INSERT INTO elsewhere VALUES ('x')") } throws: { error in
            "\(error)".contains("not a Kafka cluster attached")
        }
        _ = try await fixture.run(
            "CREATE TABLE foreign_registry (a STRING) WITH ('connector' = 'kafka', 'topic' = 't', 'properties.bootstrap.servers' = 'broker-1:9092', 'format' = 'avro-confluent', 'avro-confluent.url' = 'http://evil:8081')"
        )
        await #expect { try await fixture.run("INSERT INTO foreign_registry VALUES ('x')") } throws: { error in
            "\(error)".contains("'avro-confluent.url' = 'http://evil:8081'") && "\(error)".contains("is not the Schema Registry")
        }
        _ = try await fixture.run(
            "CREATE TABLE missing (a STRING) WITH ('connector' = 'kafka', 'topic' = 'nope', 'properties.bootstrap.servers' = 'broker-1:9092', 'format' = 'raw')"
        )
        await #expect { try await fixture.run("INSERT INTO missing VALUES ('x')") } throws: { error in
            "\(error)".contains("Topic 'nope'") && "\(error)".contains("does not exist")
        }
    }
}
