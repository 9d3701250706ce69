// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

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
        fixture.kafkaDatabases = clusters.map { KafkaDatabase(catalogID: EngineFixture.dev.id, id: $0.id, name: $0.name, cluster: $0.cluster) }
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
        await #expect { try await fixture.run("CREATE TABLE orders.t (a INT)") } throws: { error in
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
