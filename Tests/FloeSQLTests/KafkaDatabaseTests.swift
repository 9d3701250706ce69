// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSchemas
import Foundation
import Synchronization
import Testing

@testable import FloeSQL

/// A record an ``InMemoryKafkaCluster`` holds.
struct KafkaRecordData: Sendable {
    var partition: Int32
    var offset: Int64
    var timestamp: Int64?
    var timestampType: KafkaRecordView.TimestampType
    var key: [UInt8]?
    var value: [UInt8]?
    var headers: [(name: String, value: [UInt8]?)] = []
}

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

    /// The records of each topic, per partition.
    let records = Mutex<[String: [Int32: [KafkaRecordData]]]>([:])

    /// Appends a record to a partition of a topic.
    func produce(_ topic: String, partition: Int32, key: [UInt8]?, value: [UInt8]?, timestamp: Int64, headers: [(name: String, value: [UInt8]?)] = [])
    {
        records.withLock { all in
            let offset = Int64(all[topic]?[partition]?.count ?? 0)
            all[topic, default: [:]][partition, default: []].append(
                KafkaRecordData(
                    partition: partition, offset: offset, timestamp: timestamp, timestampType: .createTime, key: key, value: value, headers: headers))
        }
    }

    func openReader(topic: String, readCommitted: Bool) throws(SQLError) -> any KafkaTopicReader {
        try check()
        return InMemoryTopicReader(cluster: self, topic: topic)
    }

    /// Each writer's committed row count (its marker).
    let markers = Mutex<[String: Int64]>([:])

    /// Consumer groups' committed offsets, by group, topic and partition.
    let groupOffsets = Mutex<[String: [String: [Int32: Int64]]]>([:])

    func openWriter(topic: String, transactionalID: String, compression: String) throws(SQLError) -> any KafkaTopicWriter {
        try check()
        return InMemoryTopicWriter(cluster: self, topic: topic, writer: transactionalID)
    }

    func committedOffsets(group: String, topic: String, partitions: [Int32]) throws(SQLError) -> [Int32: Int64] {
        try check()
        let committed = groupOffsets.withLock { $0[group]?[topic] ?? [:] }
        return committed.filter { partitions.contains($0.key) }
    }
}

/// Writes to an ``InMemoryKafkaCluster``: records and marker at once (a committed transaction), keyed records to
/// the partition their key hashes to.
final class InMemoryTopicWriter: KafkaTopicWriter, @unchecked Sendable {
    let cluster: InMemoryKafkaCluster
    let topic: String
    let writer: String

    init(cluster: InMemoryKafkaCluster, topic: String, writer: String) {
        self.cluster = cluster
        self.topic = topic
        self.writer = writer
    }

    func committedCount() throws(SQLError) -> Int64 { cluster.markers.withLock { $0[writer] ?? 0 } }

    func write(_ records: [KafkaOutgoingRecord], committedCount: Int64) throws(SQLError) {
        let partitions = Int32(try cluster.describeTopic(topic)?.partitions ?? 1)
        for record in records {
            let partition = record.key.map { Int32(truncatingIfNeeded: $0.reduce(0) { ($0 &* 31) &+ Int($1) } & 0x7fff_ffff) % partitions } ?? 0
            cluster.produce(
                topic, partition: partition, key: record.key, value: record.value, timestamp: record.timestamp ?? 1_700_000_000_000,
                headers: record.headers)
        }
        cluster.markers.withLock { $0[writer] = committedCount }
        pending = []
    }

    /// Records sent in the open transaction.
    private var pending: [KafkaOutgoingRecord] = []

    func send(_ records: [KafkaOutgoingRecord]) throws(SQLError) { pending += records }

    func commit(committedCount: Int64) throws(SQLError) {
        let records = pending
        try write(records, committedCount: committedCount)
    }

    func close() {}
}

/// Reads an ``InMemoryKafkaCluster``'s records from assigned positions, with end-of-partition events.
final class InMemoryTopicReader: KafkaTopicReader, @unchecked Sendable {
    let cluster: InMemoryKafkaCluster
    let topic: String
    private var positions: [Int32: Int64] = [:]
    private var reportedEnd: Set<Int32> = []

    init(cluster: InMemoryKafkaCluster, topic: String) {
        self.cluster = cluster
        self.topic = topic
    }

    private func partitionRecords() -> [Int32: [KafkaRecordData]] { cluster.records.withLock { $0[topic] ?? [:] } }

    func assign(_ positions: [Int32: KafkaReadPosition]) throws(SQLError) {
        let records = partitionRecords()
        for (partition, position) in positions {
            switch position {
            case .beginning: self.positions[partition] = 0
            case .end: self.positions[partition] = Int64(records[partition]?.count ?? 0)
            case .offset(let offset): self.positions[partition] = offset
            }
        }
    }

    func poll(maxRecords: Int, withHeaders: Bool, _ visit: (KafkaReadItem) throws(SQLError) -> Void) throws(SQLError) {
        let records = partitionRecords()
        var handed = 0
        for partition in positions.keys.sorted() {
            let all = records[partition] ?? []
            var position = positions[partition]!
            while position < all.count, handed < maxRecords {
                let record = all[Int(position)]
                handed += 1
                position += 1
                positions[partition] = position
                reportedEnd.remove(partition)
                try Self.withBytes(record.key) { key throws(SQLError) in
                    try Self.withBytes(record.value) { value throws(SQLError) in
                        try visit(
                            .record(
                                KafkaRecordView(
                                    partition: record.partition, offset: record.offset, timestamp: record.timestamp,
                                    timestampType: record.timestampType, key: key, value: value, headers: withHeaders ? record.headers : [])))
                    }
                }
            }
            if position == all.count, !reportedEnd.contains(partition) {
                reportedEnd.insert(partition)
                try visit(.endOfPartition(partition, next: position))
            }
        }
    }

    private static func withBytes(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws(SQLError) -> Void) throws(SQLError) {
        guard let bytes else { return try body(nil) }
        var failure: SQLError?
        bytes.withUnsafeBytes { buffer in
            do throws(SQLError) { try body(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func endOffsets(_ partitions: [Int32]) throws(SQLError) -> [Int32: Int64] {
        let records = partitionRecords()
        return Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(records[$0]?.count ?? 0)) })
    }

    func offsets(atOrAfter timestamp: Int64, _ partitions: [Int32]) throws(SQLError) -> [Int32: Int64] {
        let records = partitionRecords()
        return Dictionary(
            uniqueKeysWithValues: partitions.map { partition in
                let all = records[partition] ?? []
                return (partition, all.first { ($0.timestamp ?? 0) >= timestamp }?.offset ?? Int64(all.count))
            })
    }

    var dataArrival: @Sendable () async -> Void { { try? await Task.sleep(for: .milliseconds(10)) } }

    func close() {}
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

    @Test func aMissingTopicIsNoTable() async throws {
        let cluster = InMemoryKafkaCluster(name: "orders", topics: [KafkaTopicInfo(name: "payments", partitions: 6)])
        let fixture = try Self.fixture([("lkc-abc123", "orders", cluster)])
        defer { fixture.remove() }
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
        let listed = Self.text(
            try await fixture.run(
                "SELECT TABLE_SCHEMA_ID, TABLE_NAME, DISTRIBUTION_BUCKETS FROM `INFORMATION_SCHEMA`.`TABLES` WHERE TABLE_SCHEMA = 'shop'"
            ).1)
        #expect(listed == "+I[lkc-shop1, orders, 4]", "\(listed)")
        let columns = Self.text(
            try await fixture.run(
                "SELECT COLUMN_NAME, IS_GENERATED FROM `INFORMATION_SCHEMA`.`COLUMNS` WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders'"
            ).1)
        #expect(columns == "+I[id, NO]\n+I[product, NO]\n+I[amount, NO]\n+I[ts, NO]\n+I[total, YES]", "\(columns)")
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
        #expect(await failure("CREATE TABLE shop.a (x INT, m INT METADATA FROM 'nope' VIRTUAL)").contains("Invalid metadata key 'nope'"))
        #expect(await failure("CREATE TABLE shop.a (x INT, o BIGINT METADATA FROM 'offset')").contains("read-only"))
    }
}

@Suite struct KafkaSourceTests {
    static let snapshot = ["sql.snapshot.mode": "now"]

    /// Produces `rows` to `topic` as Confluent's Avro serializer would: the value schema registered under
    /// `<topic>-value`, each record framed with its id.
    static func produceAvro(
        _ cluster: InMemoryKafkaCluster, _ registry: InMemorySchemaRegistry, topic: String, schema: String, columns: [SQLType.RowField],
        rows: [(partition: Int32, key: [UInt8]?, row: [Value]?)]
    ) async throws {
        let id = try await registry.register(subject: "\(topic)-value", schema: SchemaDefinition(text: schema), normalize: false).id
        let encoder = try AvroRowEncoder(schema: try AvroSchema(parsing: schema), columns: columns)
        for (index, record) in rows.enumerated() {
            let value = try record.row.map { try encoder.encodeFramed($0, schemaID: Int32(id)) }
            cluster.produce(topic, partition: record.partition, key: record.key, value: value, timestamp: 1_700_000_000_000 + Int64(index) * 1000)
        }
    }

    @Test func recordsWrittenUnderTheRegisteredSchemaReadAsRows() async throws {
        let (fixture, cluster, registry) = try KafkaTableDDLTests.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("orders", partitions: 2, configs: [:])
        let schema =
            #"{"type":"record","name":"orders_value","fields":[{"name":"id","type":"long"},{"name":"product","type":["null","string"],"default":null}]}"#
        let columns = [SQLType.RowField("id", SQLType(.bigint, nullable: false)), SQLType.RowField("product", .string)]
        try await Self.produceAvro(
            cluster, registry, topic: "orders", schema: schema, columns: columns,
            rows: [(0, nil, [.int(1), .string("tea")]), (1, nil, [.int(2), .null]), (0, nil, [.int(3), .string("cake")])])
        let rows = KafkaTableDDLTests.text(try await fixture.run("SELECT id, product FROM shop.orders", Self.snapshot).1)
        #expect(Set(rows.split(separator: "\n")) == ["+I[1, tea]", "+I[2, NULL]", "+I[3, cake]"], "\(rows)")
        // Metadata columns, added by ALTER TABLE.
        _ = try await fixture.run(
            "ALTER TABLE shop.orders ADD (`part` INT METADATA FROM 'partition' VIRTUAL, `off` BIGINT METADATA FROM 'offset' VIRTUAL)")
        let located = KafkaTableDDLTests.text(try await fixture.run("SELECT id, `part`, `off` FROM shop.orders", Self.snapshot).1)
        #expect(Set(located.split(separator: "\n")) == ["+I[1, 0, 0]", "+I[2, 1, 0]", "+I[3, 0, 1]"], "\(located)")
        await #expect(throws: SQLError.self) { try await fixture.run("ALTER TABLE shop.orders ADD `extra` INT") }
        // kafka.* options reconfigure the topic.
        _ = try await fixture.run("ALTER TABLE shop.orders SET ('kafka.retention.time' = '2 d')")
        #expect(try cluster.describeTopic("orders")?.configs["retention.ms"] == "172800000")
    }

    @Test func metadataColumnsAndRowtimeComeFromTheRecord() async throws {
        let (fixture, cluster, _) = try KafkaTableDDLTests.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("raw", partitions: 1, configs: [:])
        cluster.produce("raw", partition: 0, key: Array("k1".utf8), value: Array("v1".utf8), timestamp: 1_700_000_000_000)
        cluster.produce("raw", partition: 0, key: nil, value: Array("v2".utf8), timestamp: 1_700_000_001_000)
        let rows = KafkaTableDDLTests.text(
            try await fixture.run(
                "SELECT key, val, `$rowtime` FROM shop.raw", Self.snapshot.merging(["sql.local-time-zone": "UTC"]) { $1 }
            ).1)
        #expect(rows == "+I[x'6b31', x'7631', 2023-11-14 22:13:20.000]\n+I[NULL, x'7632', 2023-11-14 22:13:21.000]", "\(rows)")
    }

    @Test func aBoundedScanStopsAtTheEndItSawAndReportsNextOffsets() async throws {
        let (fixture, cluster, _) = try KafkaTableDDLTests.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("events", partitions: 3, configs: [:])
        for index in 0..<7 { cluster.produce("events", partition: Int32(index % 3), key: nil, value: [UInt8(index)], timestamp: 0) }
        let (traits, changes) = try await fixture.run("SELECT COUNT(*) FROM shop.events", Self.snapshot)
        #expect(traits.isBounded)
        #expect(KafkaTableDDLTests.text(changes) == "+I[7]")
    }

    @Test func underLogRecordsThatDoNotDecodeGoToTheDeadLetterTable() async throws {
        let (fixture, cluster, registry) = try KafkaTableDDLTests.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE shop.t (a INT) WITH ('error-handling.mode' = 'log', 'error-handling.log.target' = 't_dlq')")
        // CREATE TABLE made the dead-letter table: its topic and value schema.
        #expect(try cluster.describeTopic("t_dlq")?.partitions == 1)
        #expect(try await registry.latestVersion(subject: "t_dlq-value") != nil)
        let id = try #require(try await registry.latestVersion(subject: "t-value")).id
        let encoder = try AvroRowEncoder(
            schema: try AvroSchema(parsing: try #require(try await registry.latestVersion(subject: "t-value")).text),
            columns: [SQLType.RowField("a", SQLType(.integer))])
        cluster.produce("t", partition: 0, key: nil, value: try encoder.encodeFramed([.int(5)], schemaID: Int32(id)), timestamp: 0)
        cluster.produce("t", partition: 0, key: Array("k".utf8), value: [9, 9, 9], timestamp: 1_700_000_000_000)
        #expect(KafkaTableDDLTests.text(try await fixture.run("SELECT a FROM shop.t", Self.snapshot, statementID: "reader-1").1) == "+I[5]")
        let logged = KafkaTableDDLTests.text(
            try await fixture.run(
                "SELECT statement_id, source_table, source_topic, source_partition, source_offset, raw_key, raw_value, error_message FROM shop.t_dlq",
                Self.snapshot
            ).1)
        #expect(logged.hasPrefix("+I[reader-1, dev.shop.t, t, 0, 1, x'6b', x'090909', Record at partition 0, offset 1"), "\(logged)")
        #expect(logged.hasSuffix("(magic byte and schema id).]"), "\(logged)")
        // ALTER TABLE setting the mode makes the default target, error_log.
        _ = try await fixture.run("CREATE TABLE shop.u (a INT)")
        #expect(try cluster.describeTopic("error_log") == nil)
        _ = try await fixture.run("ALTER TABLE shop.u SET ('error-handling.mode' = 'log')")
        #expect(try cluster.describeTopic("error_log") != nil)
        await #expect { try await fixture.run("ALTER TABLE shop.u SET ('error-handling.log.target' = 'u')") } throws: {
            "\($0)".contains("names the table itself")
        }
    }

    @Test func recordsThatDoNotDecodeFailOrAreSkipped() async throws {
        let (fixture, cluster, registry) = try KafkaTableDDLTests.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE shop.t (a INT)")
        let id = try #require(try await registry.latestVersion(subject: "t-value")).id
        let encoder = try AvroRowEncoder(
            schema: try AvroSchema(parsing: try #require(try await registry.latestVersion(subject: "t-value")).text),
            columns: [SQLType.RowField("a", SQLType(.integer))])
        cluster.produce("t", partition: 0, key: nil, value: try encoder.encodeFramed([.int(5)], schemaID: Int32(id)), timestamp: 0)
        cluster.produce("t", partition: 0, key: nil, value: [9, 9, 9], timestamp: 0)
        await #expect { try await fixture.run("SELECT a FROM shop.t", Self.snapshot) } throws: { error in
            "\(error)".contains("does not decode") && "\(error)".contains("error-handling.mode")
        }
        _ = try await fixture.run("ALTER TABLE shop.t SET ('error-handling.mode' = 'ignore')")
        #expect(KafkaTableDDLTests.text(try await fixture.run("SELECT a FROM shop.t", Self.snapshot).1) == "+I[5]")
    }
}

@Suite struct KafkaViewTests {
    @Test func viewsLiveBesideTheTopicsOfAKafkaDatabase() async throws {
        let (fixture, _, _) = try KafkaTableDDLTests.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE shop.src (id BIGINT, name STRING)")
        _ = try await fixture.run("INSERT INTO shop.src VALUES (1, 'a'), (2, 'b'), (3, 'a')", statementID: "ins-1")
        _ = try await fixture.run("CREATE VIEW shop.just_a AS SELECT id FROM src WHERE name = 'a'", ["sql.current-database": "shop"])
        let rows = KafkaTableDDLTests.text(try await fixture.run("SELECT id FROM shop.just_a", KafkaSourceTests.snapshot).1)
        #expect(Set(rows.split(separator: "\n")) == ["+I[1]", "+I[3]"], "\(rows)")
        #expect(KafkaTableDDLTests.text(try await fixture.run("SHOW TABLES FROM shop").1) == "+I[just_a]\n+I[src]")
        #expect(KafkaTableDDLTests.text(try await fixture.run("SHOW VIEWS FROM shop").1) == "+I[just_a]")
        let listed = KafkaTableDDLTests.text(
            try await fixture.run("SELECT TABLE_NAME, TABLE_TYPE FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA_ID = 'lkc-shop1'").1)
        #expect(listed.contains("+I[just_a, VIEW]") && listed.contains("+I[src, BASE TABLE]"), "\(listed)")
        let shown = KafkaTableDDLTests.text(try await fixture.run("SHOW CREATE VIEW shop.just_a").1)
        #expect(shown.contains("CREATE VIEW") && shown.contains("just_a"), "\(shown)")
        await #expect { try await fixture.run("CREATE TABLE shop.just_a (x INT)") } throws: { "\($0)".contains("already exists") }
        await #expect { try await fixture.run("CREATE VIEW shop.src AS SELECT 1") } throws: { "\($0)".contains("already exists") }
        _ = try await fixture.run("CREATE VIEW IF NOT EXISTS shop.just_a AS SELECT 1")
        _ = try await fixture.run("DROP VIEW shop.just_a")
        #expect(KafkaTableDDLTests.text(try await fixture.run("SHOW VIEWS FROM shop").1).isEmpty)
        await #expect { try await fixture.run("DROP VIEW shop.just_a") } throws: { "\($0)".contains("does not exist") }
    }
}

@Suite struct KafkaSinkTests {
    @Test func createTableAsMakesTheTopicAndItsSchemasThenWritesTheQuery() async throws {
        let (fixture, cluster, registry) = try KafkaTableDDLTests.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE shop.src (id BIGINT, name STRING)")
        _ = try await fixture.run("INSERT INTO shop.src VALUES (1, 'a'), (2, 'b'), (3, 'a')", statementID: "ins-1")
        _ = try await fixture.run(
            "CREATE TABLE shop.counts (PRIMARY KEY (name) NOT ENFORCED) DISTRIBUTED INTO 2 BUCKETS AS SELECT name, COUNT(*) AS n FROM shop.src GROUP BY name",
            KafkaSourceTests.snapshot, statementID: "ctas-1")
        #expect(try cluster.describeTopic("counts")?.partitions == 2)
        #expect(try await registry.latestVersion(subject: "counts-key") != nil)
        let value = try #require(try await registry.latestVersion(subject: "counts-value"))
        #expect(value.text.contains(#""name":"n""#) && !value.text.contains(#""name":"name""#), "\(value.text)")
        let counted = KafkaTableDDLTests.text(try await fixture.run("SELECT name, n FROM shop.counts", KafkaSourceTests.snapshot).1)
        #expect(Set(counted.split(separator: "\n")) == ["+I[a, 2]", "+I[b, 1]"], "\(counted)")
        let shown = KafkaTableDDLTests.text(try await fixture.run("SHOW CREATE TABLE shop.counts").1)
        #expect(shown.contains("'changelog.mode' = 'upsert'"), "\(shown)")
        // The same statement again (a restart) finds the topic it made, and its writer's count says nothing is left to
        // write; another statement finds the name taken.
        _ = try await fixture.run(
            "CREATE TABLE shop.counts (PRIMARY KEY (name) NOT ENFORCED) DISTRIBUTED INTO 2 BUCKETS AS SELECT name, COUNT(*) AS n FROM shop.src GROUP BY name",
            KafkaSourceTests.snapshot, statementID: "ctas-1")
        #expect(cluster.records.withLock { $0["counts"]?.values.map(\.count).reduce(0, +) } == 2)
        await #expect {
            try await fixture.run("CREATE TABLE shop.counts AS SELECT name FROM shop.src", KafkaSourceTests.snapshot, statementID: "ctas-2")
        } throws: { error in
            "\(error)".contains("already exists")
        }
        // An updating query needs a key to upsert by.
        await #expect { try await fixture.run("CREATE TABLE shop.c2 AS SELECT name, COUNT(*) AS n FROM shop.src GROUP BY name") } throws: {
            error in "\(error)".contains("doesn't support consuming update and delete changes")
        }
        #expect(try cluster.describeTopic("c2") == nil)
    }

    @Test func anInsertWritesRecordsThatReadBackAndCountsThemForItsWriter() async throws {
        let (fixture, cluster, _) = try KafkaTableDDLTests.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE shop.src (id BIGINT, name STRING)")
        _ = try await fixture.run("CREATE TABLE shop.dst (id BIGINT, name STRING, PRIMARY KEY (id) NOT ENFORCED)")
        _ = try await fixture.run("CREATE TABLE shop.plain (n INT)")
        _ = try await fixture.run("INSERT INTO shop.plain VALUES (1), (2), (3)", statementID: "ins-1")
        #expect(cluster.markers.withLock { $0["floe-ins-1"] } == 3)
        let plain = KafkaTableDDLTests.text(try await fixture.run("SELECT n FROM shop.plain", KafkaSourceTests.snapshot).1)
        #expect(Set(plain.split(separator: "\n")) == ["+I[1]", "+I[2]", "+I[3]"], "\(plain)")
        // An upsert table: a key per row, the latest value wins, a delete is a tombstone.
        _ = try await fixture.run("INSERT INTO shop.dst VALUES (1, 'a'), (2, 'b')", statementID: "ins-2")
        _ = try await fixture.run("INSERT INTO shop.dst VALUES (1, 'c')", statementID: "ins-3")
        let upserted = KafkaTableDDLTests.text(try await fixture.run("SELECT id, name FROM shop.dst", KafkaSourceTests.snapshot).1)
        #expect(Set(upserted.split(separator: "\n")) == ["+I[1, c]", "+I[2, b]"], "\(upserted)")
        #expect(cluster.records.withLock { $0["dst"]?.values.flatMap { $0 }.allSatisfy { $0.key != nil } } == true)
    }
}
