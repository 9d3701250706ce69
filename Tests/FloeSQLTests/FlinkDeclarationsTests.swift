// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Foundation
import Testing

@testable import FloeSQL

/// What a Flink SQL Gateway session is told to run a statement with Floe's names: catalogs, databases, the tables the
/// statement names as Flink tables of the same topics, and refusals for what only the embedded engine has.
@Suite struct FlinkDeclarationsTests {
    static func fixture() throws -> (EngineFixture, InMemoryKafkaCluster) {
        let cluster = InMemoryKafkaCluster(name: "shop")
        var fixture = try EngineFixture()
        fixture.kafkaDatabases = [
            KafkaDatabase(
                catalogID: EngineFixture.dev.id, id: "lkc-shop1", name: "shop", cluster: cluster, registry: InMemorySchemaRegistry(),
                bootstrap: "broker-1:9092", registryAddresses: ["/schema-registry/lsrc-abc123"],
                flinkProperties: ["properties.security.protocol": "SASL_PLAINTEXT", "properties.sasl.mechanism": "PLAIN"])
        ]
        return (fixture, cluster)
    }

    static let orders = """
        CREATE TABLE orders (id BIGINT, amount DECIMAL(10, 2), ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (
          'connector' = 'kafka', 'topic' = 'orders', 'properties.bootstrap.servers' = 'broker-1:9092', 'format' = 'json',
          'scan.startup.mode' = 'earliest-offset')
        """

    @Test func aQueryDeclaresItsTablesUnderTheNamesItUses() async throws {
        let (fixture, cluster) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("orders", partitions: 1, configs: [:])
        _ = try await fixture.run(Self.orders)
        let declarations = try await fixture.engine.flinkDeclarations(
            "SELECT id, SUM(amount) FROM orders GROUP BY id", in: fixture.context())
        let statements = declarations.statements
        #expect(statements.first == "CREATE CATALOG `dev` WITH ('type' = 'generic_in_memory')")
        #expect(statements.contains("CREATE DATABASE IF NOT EXISTS `dev`.`default`"))
        #expect(statements.suffix(2) == ["USE CATALOG `dev`", "USE `default`"])
        let table = try #require(statements.first { $0.hasPrefix("CREATE TABLE") })
        #expect(table.hasPrefix("CREATE TABLE `dev`.`default`.`orders` ("))
        #expect(table.contains("WATERMARK FOR `ts` AS ts - INTERVAL '1' SECOND") || table.contains("WATERMARK FOR `ts` AS"))
        // The cluster's connection properties are added; the user's options stay.
        #expect(table.contains("'properties.security.protocol' = 'SASL_PLAINTEXT'"))
        #expect(table.contains("'topic' = 'orders'") && table.contains("'format' = 'json'"))
        // `$rowtime` is not declared when the statement does not name it (it would show in SELECT *).
        #expect(!table.contains("$rowtime"))
        // A current catalog named by its id is used by the name its objects are declared under.
        let byID = try await fixture.engine.flinkDeclarations("SELECT id FROM orders", in: fixture.context(["sql.current-catalog": "env-1"]))
        #expect(byID.statements.suffix(2) == ["USE CATALOG `dev`", "USE `default`"])
        #expect(byID.statements.contains { $0.hasPrefix("CREATE TABLE `dev`.`default`.`orders`") })
        #expect(!byID.statements.contains { $0.contains("env-1") })
        let withRowtime = try await fixture.engine.flinkDeclarations("SELECT id, `$rowtime` FROM orders", in: fixture.context())
        #expect(withRowtime.statements.contains { $0.contains("`$rowtime` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL") })
    }

    @Test func anInsertDeclaresItsTargetAndFullyQualifiedNamesTheirCatalogs() async throws {
        let (fixture, cluster) = try Self.fixture()
        defer { fixture.remove() }
        try cluster.createTopic("orders", partitions: 1, configs: [:])
        try cluster.createTopic("big", partitions: 1, configs: [:])
        _ = try await fixture.run(Self.orders)
        _ = try await fixture.run(
            "CREATE TABLE big (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'big', 'properties.bootstrap.servers' = 'broker-1:9092', 'format' = 'json')"
        )
        let statements = try await fixture.engine.flinkDeclarations(
            "INSERT INTO `dev`.`default`.big SELECT id FROM orders WHERE amount > 10", in: fixture.context()
        ).statements
        #expect(statements.filter { $0.hasPrefix("CREATE TABLE") }.count == 2)
        #expect(statements.contains { $0.hasPrefix("CREATE TABLE `dev`.`default`.`big`") })
        #expect(statements.filter { $0.hasPrefix("CREATE CATALOG") }.count == 1)
    }

    @Test func whatOnlyTheEmbeddedEngineHasIsRefusedByName() async throws {
        let (fixture, _) = try Self.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE local_log (a INT)")
        await #expect {
            _ = try await fixture.engine.flinkDeclarations("SELECT * FROM local_log", in: fixture.context())
        } throws: { error in
            let message = (error as? SQLError)?.message ?? ""
            return message.contains("`dev`.`default`.`local_log`") && message.contains("embedded engine")
        }
        await #expect {
            _ = try await fixture.engine.flinkDeclarations("SELECT * FROM INFORMATION_SCHEMA.TABLES", in: fixture.context())
        } throws: { error in ((error as? SQLError)?.message ?? "").contains("INFORMATION_SCHEMA") }
        // A statement that does not prepare fails as it does on the embedded engine.
        await #expect(throws: SQLError.self) {
            _ = try await fixture.engine.flinkDeclarations("SELECT nope FROM nowhere", in: fixture.context())
        }
    }

    @Test func generatedTablesAndViewsAreDeclaredBeforeWhatUsesThem() async throws {
        let (fixture, _) = try Self.fixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE gen (k INT) WITH ('connector' = 'datagen', 'number-of-rows' = '5')")
        _ = try await fixture.run("CREATE VIEW small AS SELECT k FROM gen WHERE k < 10")
        let statements = try await fixture.engine.flinkDeclarations("SELECT COUNT(*) FROM small", in: fixture.context()).statements
        let table = try #require(statements.firstIndex { $0.hasPrefix("CREATE TABLE `dev`.`default`.`gen`") }, "\(statements)")
        let view = try #require(
            statements.firstIndex { $0.hasPrefix("CREATE VIEW `dev`.`default`.`small` AS SELECT `k` FROM `gen` WHERE (`k` < 10)") }, "\(statements)")
        #expect(statements[view - 2..<view] == ["USE CATALOG `dev`", "USE `default`"])
        #expect(table < view, "\(statements)")
        #expect(statements[table].contains("'connector' = 'datagen'"))
    }
}
