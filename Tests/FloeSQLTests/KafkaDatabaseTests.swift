// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSchemas
import Foundation
import Synchronization
import Testing

@testable import FloeSQL

/// A Kafka cluster held in memory: topics with partitions and configs, for the catalog's tests.
final class InMemoryKafkaCluster: KafkaClusterClient {
    let name: String
    private let topics: Mutex<[String: KafkaTopicInfo]>
    /// When set, every call fails with this message (an unreachable cluster).
    let failure: String?

    init(name: String, topics: [KafkaTopicInfo] = [], failure: String? = nil) {
        self.name = name
        self.topics = Mutex(Dictionary(uniqueKeysWithValues: topics.map { ($0.name, $0) }))
        self.failure = failure
    }

    private func check() throws(SQLError) {
        if let failure { throw SQLError.runtime("Kafka cluster '\(name)': \(failure)") }
    }

    func listTopics() throws(SQLError) -> [KafkaTopicInfo] {
        try check()
        return topics.withLock { Array($0.values) }
    }

    func describeTopic(_ name: String) throws(SQLError) -> KafkaTopicInfo? {
        try check()
        return topics.withLock { $0[name] }
    }

    func createTopic(_ name: String, partitions: Int, configs: [String: String]) throws(SQLError) {
        try check()
        try topics.withLock { (all: inout [String: KafkaTopicInfo]) throws(SQLError) in
            guard all[name] == nil else { throw SQLError.runtime("Topic '\(name)' already exists.") }
            all[name] = KafkaTopicInfo(name: name, partitions: partitions, configs: configs)
        }
    }

    func deleteTopic(_ name: String) throws(SQLError) {
        try check()
        try topics.withLock { (all: inout [String: KafkaTopicInfo]) throws(SQLError) in
            guard all.removeValue(forKey: name) != nil else { throw SQLError.runtime("Topic '\(name)' does not exist.") }
        }
    }

    func alterTopicConfigs(_ name: String, _ configs: [String: String]) throws(SQLError) {
        try check()
        try topics.withLock { (all: inout [String: KafkaTopicInfo]) throws(SQLError) in
            guard all[name] != nil else { throw SQLError.runtime("Topic '\(name)' does not exist.") }
            all[name]!.configs = configs
        }
    }
}

@Suite struct KafkaDatabaseTests {
    static func fixture(_ clusters: [(id: String, name: String, cluster: InMemoryKafkaCluster)]) throws -> EngineFixture {
        var fixture = try EngineFixture()
        fixture.kafkaDatabases = clusters.map {
            KafkaDatabase(catalogID: EngineFixture.dev.id, id: $0.id, name: $0.name, cluster: $0.cluster, registry: InMemorySchemaRegistry())
        }
        return fixture
    }

    static func rows(_ changes: [ResultChange]) -> [String] { changes.map(EngineText.change) }

    @Test func attachedClustersAreDatabasesByNameAndID() async throws {
        let orders = InMemoryKafkaCluster(
            name: "orders",
            topics: [
                KafkaTopicInfo(name: "payments", partitions: 6), KafkaTopicInfo(name: "_confluent-ksql", partitions: 1),
                KafkaTopicInfo(name: "__consumer_offsets", partitions: 50, isInternal: true), KafkaTopicInfo(name: "clicks", partitions: 3),
            ])
        let fixture = try Self.fixture([("lkc-abc123", "orders", orders)])
        defer { fixture.remove() }
        let databases = try await fixture.run("SHOW DATABASES").1
        #expect(Self.rows(databases) == ["+I[default, env-1-default]", "+I[orders, lkc-abc123]"])
        let schemata = try await fixture.run("SELECT SCHEMA_NAME, SCHEMA_ID FROM `INFORMATION_SCHEMA`.`SCHEMATA`").1
        #expect(Self.rows(schemata).contains("+I[orders, lkc-abc123]"))
        for name in ["orders", "`lkc-abc123`", "`orders`"] {
            let tables = try await fixture.run("SHOW TABLES FROM \(name)").1
            #expect(Self.rows(tables) == ["+I[clicks]", "+I[payments]"], "SHOW TABLES FROM \(name)")
        }
        let current = try await fixture.run("SHOW TABLES", ["sql.current-database": "lkc-abc123"]).1
        #expect(Self.rows(current) == ["+I[clicks]", "+I[payments]"])
        _ = try await fixture.run("USE orders")
    }

    @Test func anEmbeddedDatabaseKeepsItsNameAndTheIDStillReachesTheCluster() async throws {
        let cluster = InMemoryKafkaCluster(name: "shop", topics: [KafkaTopicInfo(name: "t", partitions: 1)])
        let fixture = try Self.fixture([("lkc-1", "shop", cluster)])
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE DATABASE shop")
        #expect(Self.rows(try await fixture.run("SHOW TABLES FROM shop").1).isEmpty)
        #expect(Self.rows(try await fixture.run("SHOW TABLES FROM `lkc-1`").1) == ["+I[t]"])
    }

    @Test func whatKafkaTablesCannotDoYetFailsNamingTheCluster() async throws {
        let cluster = InMemoryKafkaCluster(name: "orders", topics: [KafkaTopicInfo(name: "payments", partitions: 6)])
        let fixture = try Self.fixture([("lkc-abc123", "orders", cluster)])
        defer { fixture.remove() }
        await #expect { try await fixture.run("SELECT * FROM orders.payments") } throws: { error in
            (error as? SQLError)?.kind == .unsupported && "\(error)".contains("lkc-abc123")
        }
        await #expect { try await fixture.run("INSERT INTO orders.payments SELECT CAST('a' AS BYTES), CAST('b' AS BYTES)") } throws: { error in
            (error as? SQLError)?.kind == .unsupported && "\(error)".contains("lkc-abc123")
        }
        await #expect { try await fixture.run("SELECT * FROM orders.missing") } throws: { error in
            "\(error)".contains("does not exist")
        }
    }

    @Test func anUnreachableClusterFailsTheStatementWithItsReason() async throws {
        let cluster = InMemoryKafkaCluster(name: "down", failure: "Failed to connect to 127.0.0.1:1")
        let fixture = try Self.fixture([("lkc-down", "down", cluster)])
        defer { fixture.remove() }
        await #expect { try await fixture.run("SHOW TABLES FROM down") } throws: { error in
            "\(error)".contains("Failed to connect to 127.0.0.1:1")
        }
        // The embedded databases do not depend on it.
        #expect(Self.rows(try await fixture.run("SHOW TABLES").1).isEmpty)
    }
}

@Suite struct KafkaTableDDLTests {
    static func fixture() throws -> (EngineFixture, InMemoryKafkaCluster, InMemorySchemaRegistry) {
        let cluster = InMemoryKafkaCluster(name: "shop")
        let registry = InMemorySchemaRegistry()
        var fixture = try EngineFixture()
        fixture.kafkaDatabases = [KafkaDatabase(catalogID: EngineFixture.dev.id, id: "lkc-shop1", name: "shop", cluster: cluster, registry: registry)]
        return (fixture, cluster, registry)
    }

    static func text(_ changes: [ResultChange]) -> String { changes.map(EngineText.change).joined(separator: "\n") }

    @Test func aTopicWithoutSchemasIsARawTable() async throws {
        let (fixture, cluster, _) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("clicks", partitions: 3, configs: [:])
        let described = Self.text(try await fixture.run("DESCRIBE shop.clicks").1)
        #expect(described == "+I[key, BYTES, TRUE, NULL, NULL, NULL, NULL]\n+I[val, BYTES, TRUE, NULL, NULL, NULL, NULL]")
        let shown = Self.text(try await fixture.run("SHOW CREATE TABLE shop.clicks").1)
        #expect(shown.contains("DISTRIBUTED BY HASH(`key`) INTO 3 BUCKETS"), "\(shown)")
        #expect(shown.contains("'key.format' = 'raw'") && shown.contains("'value.format' = 'raw'") && shown.contains("'connector' = 'confluent'"))
        #expect(shown.contains("'kafka.retention.time' = '7 d'") && shown.contains("'scan.startup.mode' = 'earliest-offset'"))
    }

    @Test func createTableMakesTheTopicAndRegistersItsSchemas() async throws {
        let (fixture, cluster, registry) = try Self.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run(
            """
            CREATE TABLE shop.orders (id BIGINT, product STRING, amount INT, ts TIMESTAMP_LTZ(3), total AS amount * 2,
              PRIMARY KEY (id) NOT ENFORCED) DISTRIBUTED BY HASH(id) INTO 4 BUCKETS WITH ('kafka.retention.time' = '1 d')
            """)
        let topic = try #require(try cluster.describeTopic("orders"))
        #expect(topic.partitions == 4 && topic.configs["retention.ms"] == "86400000" && topic.configs["cleanup.policy"] == "delete")
        let key = try #require(try await registry.latestVersion(subject: "orders-key"))
        let value = try #require(try await registry.latestVersion(subject: "orders-value"))
        #expect(key.text.contains("\"orders_key\"") && key.text.contains("\"id\""))
        #expect(value.text.contains("\"orders_value\"") && !value.text.contains("\"id\"") && value.text.contains("\"product\""))
        #expect(try await registry.compatibility(subject: "orders-key") == .fullTransitive)
        // The table reads back from the topic and its schemas, with what DDL added.
        let described = Self.text(try await fixture.run("DESCRIBE shop.orders").1)
        #expect(described.hasPrefix("+I[id, BIGINT, FALSE, PRI(id), NULL, NULL, NULL]\n+I[product, STRING, TRUE"), "\(described)")
        #expect(described.contains("+I[total, INT, TRUE, NULL, AS (`amount` * 2)"), "\(described)")
        let shown = Self.text(try await fixture.run("SHOW CREATE TABLE shop.orders").1)
        #expect(shown.contains("'changelog.mode' = 'upsert'") && shown.contains("'kafka.retention.time' = '1 d'"), "\(shown)")
        #expect(shown.contains("DISTRIBUTED BY HASH(`id`) INTO 4 BUCKETS"), "\(shown)")
        #expect(Self.text(try await fixture.run("SHOW TABLES FROM shop").1) == "+I[orders]")
        // Again: refused, unless IF NOT EXISTS.
        await #expect(throws: SQLError.self) { try await fixture.run("CREATE TABLE shop.orders (x INT)") }
        _ = try await fixture.run("CREATE TABLE IF NOT EXISTS shop.orders (x INT)")
    }

    @Test func dropTableDeletesTheTopicAndItsSubjects() async throws {
        let (fixture, cluster, registry) = try Self.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE shop.t (k INT, v STRING) DISTRIBUTED BY (k) INTO 2 BUCKETS")
        #expect(try await registry.latestVersion(subject: "t-key") != nil)
        _ = try await fixture.run("DROP TABLE shop.t")
        #expect(try cluster.describeTopic("t") == nil)
        #expect(try await registry.latestVersion(subject: "t-key") == nil)
        #expect(try await registry.latestVersion(subject: "t-value") == nil)
        await #expect(throws: SQLError.self) { try await fixture.run("DROP TABLE shop.t") }
        _ = try await fixture.run("DROP TABLE IF EXISTS shop.t")
        // A new table of that name may have another schema: the old subjects were deleted.
        _ = try await fixture.run("CREATE TABLE shop.t (k STRING, w DOUBLE) DISTRIBUTED BY (k)")
        #expect(try cluster.describeTopic("t")?.partitions == 6)
    }

    @Test func aSchemaTheRegistryRefusesLeavesNoTopicBehind() async throws {
        let (fixture, cluster, registry) = try Self.fixture()
        defer { fixture.remove() }
        // An existing value subject whose schema the new one cannot follow (BACKWARD: a new field without default).
        _ = try await registry.register(
            subject: "late-value",
            schema: SchemaDefinition(text: #"{"type":"record","name":"late_value","fields":[{"name":"a","type":"int"}]}"#), normalize: false)
        await #expect { try await fixture.run("CREATE TABLE shop.late (a INT, b INT NOT NULL)") } throws: { error in
            "\(error)".contains("Schema Registry")
        }
        #expect(try cluster.describeTopic("late") == nil)
    }

    @Test func optionsAndFormatsAreChecked() async throws {
        let (fixture, _, _) = try Self.fixture()
        defer { fixture.remove() }
        func failure(_ sql: String) async -> String {
            do {
                _ = try await fixture.run(sql)
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(await failure("CREATE TABLE shop.a (x INT) WITH ('topic' = 'x')").contains("Unsupported options"))
        #expect(await failure("CREATE TABLE shop.a (k INT, v INT) DISTRIBUTED BY (k) WITH ('key.format' = 'raw')").contains("'raw' key"))
        #expect(await failure("CREATE TABLE shop.a (x INT) WITH ('connector' = 'datagen')").contains("'confluent'"))
        #expect(await failure("CREATE TABLE shop.a (x INT) WITH ('value.format' = 'proto-registry')").contains("not supported yet"))
        #expect(
            await failure("CREATE TABLE shop.a (k INT, v INT) DISTRIBUTED BY (k) INTO 3 BUCKETS WITH ('kafka.partitions' = '4')").contains(
                "contradicts"))
        #expect(await failure("CREATE VIEW shop.v AS SELECT 1").contains("cannot hold views"))
    }
}
