// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@testable import FloeSQL

/// A statement reaches only the catalogs its session grants, each only for what is granted.
@Suite struct CatalogAccessTests {
    static let dev = EngineFixture.dev
    static let prod = EngineFixture.prod

    /// A fixture with a table `t` (one row) in `dev` and in `prod`.
    static func fixture() async throws -> EngineFixture {
        let fixture = try EngineFixture()
        for catalog in ["dev", "prod"] {
            _ = try await fixture.run("CREATE TABLE `\(catalog)`.`default`.t (x INT)")
            _ = try await fixture.run("INSERT INTO `\(catalog)`.`default`.t VALUES (1)", statementID: "fill-\(catalog)")
        }
        return fixture
    }

    static func session(_ grants: [CatalogGrant], _ properties: [String: String] = [:]) -> SessionContext {
        SessionContext(catalog: dev, grants: grants, properties: properties)
    }

    static func run(_ fixture: EngineFixture, _ sql: String, _ session: SessionContext) async throws -> [String] {
        var session = session
        session.properties["sql.snapshot.mode"] = "now"
        let prepared = try await fixture.engine.prepare(sql, in: session)
        let receiver = CollectingReceiver()
        try await prepared.run(deliveringTo: receiver, skippingFirst: 0)
        return receiver.collected.map(EngineText.change)
    }

    static func message(_ fixture: EngineFixture, _ sql: String, _ session: SessionContext) async -> String? {
        do {
            _ = try await run(fixture, sql, session)
            return nil
        } catch {
            return (error as? SQLError)?.message ?? "\(error)"
        }
    }

    @Test func anUngrantedCatalogDoesNotExistForTheStatement() async throws {
        let fixture = try await Self.fixture()
        defer { fixture.remove() }
        let own = Self.session([CatalogGrant(Self.dev, .all)])
        #expect(try await Self.run(fixture, "SELECT x FROM t", own) == ["+I[1]"])
        let hidden = "Catalog 'prod' does not exist or you do not have access to it."
        for sql in [
            "SELECT x FROM `prod`.`default`.t", "SELECT x FROM `env-2`.`default`.t", "INSERT INTO `prod`.`default`.t VALUES (2)",
            "CREATE TABLE `prod`.`default`.u (x INT)", "DROP TABLE `prod`.`default`.t", "ALTER TABLE `prod`.`default`.t ADD y INT",
            "CREATE VIEW `prod`.`default`.v AS SELECT 1 AS x", "CREATE DATABASE `prod`.extra", "SHOW TABLES FROM `prod`.`default`",
            "DESCRIBE `prod`.`default`.t", "SELECT * FROM `prod`.`INFORMATION_SCHEMA`.`TABLES`",
        ] {
            let message = await Self.message(fixture, sql, own)
            #expect(message == hidden || message?.contains("does not exist or you do not have access to it") == true, "\(sql): \(message ?? "ran")")
        }
        let withCurrent = Self.session([CatalogGrant(Self.dev, .all)], ["sql.current-catalog": "prod"])
        #expect(await Self.message(fixture, "SELECT x FROM t", withCurrent) == "Table (or view) 't' does not exist or you do not have access to it.")
        #expect(await Self.message(fixture, "CREATE TABLE u (x INT)", withCurrent) == hidden)
        // Listings show only what the statement may use (and Confluent's examples).
        #expect(try await Self.run(fixture, "SHOW CATALOGS", own) == ["+I[dev, env-1]", "+I[examples, examples]"])
        #expect(try await Self.run(fixture, "SELECT CATALOG_NAME FROM `INFORMATION_SCHEMA`.`CATALOGS`", own) == ["+I[dev]"])
        // Nothing changed in prod.
        let admin = Self.session([CatalogGrant(Self.dev, .all), CatalogGrant(Self.prod, .all)])
        #expect(try await Self.run(fixture, "SELECT x FROM `prod`.`default`.t", admin) == ["+I[1]"])
        #expect(try await Self.run(fixture, "SHOW TABLES FROM `prod`.`default`", admin) == ["+I[t]"])
        #expect(try await Self.run(fixture, "SHOW CATALOGS", admin) == ["+I[dev, env-1]", "+I[examples, examples]", "+I[prod, env-2]"])
    }

    @Test func eachUseNeedsItsOwnGrant() async throws {
        let fixture = try await Self.fixture()
        defer { fixture.remove() }
        let readOnly = Self.session([CatalogGrant(Self.dev, .all), CatalogGrant(Self.prod, .read)])
        #expect(try await Self.run(fixture, "SELECT x FROM `prod`.`default`.t", readOnly) == ["+I[1]"])
        #expect(
            await Self.message(fixture, "INSERT INTO `prod`.`default`.t VALUES (2)", readOnly)
                == "The statement may not write to tables in catalog 'prod': its principal's roles and API key do not allow it.")
        #expect(
            await Self.message(fixture, "CREATE TABLE `prod`.`default`.u (x INT)", readOnly)
                == "The statement may not create, alter or drop objects in catalog 'prod': its principal's roles and API key do not allow it.")
        #expect(await Self.message(fixture, "DROP TABLE `prod`.`default`.t", readOnly)?.contains("may not create, alter or drop") == true)
        // A copy from prod into dev needs read on prod and write on dev only.
        #expect(try await Self.run(fixture, "INSERT INTO t SELECT x + 1 FROM `prod`.`default`.t", readOnly).isEmpty)
        #expect(Set(try await Self.run(fixture, "SELECT x FROM t", readOnly)) == ["+I[1]", "+I[2]"])
    }

    /// Without a grant on its own catalog (its principal lost its role), a statement reaches nothing of it.
    @Test func aStatementWithoutItsOwnCatalog() async throws {
        let fixture = try await Self.fixture()
        defer { fixture.remove() }
        let none = Self.session([])
        #expect(await Self.message(fixture, "SELECT x FROM t", none) == "Table (or view) 't' does not exist or you do not have access to it.")
        #expect(await Self.message(fixture, "CREATE TABLE u (x INT)", none) == "Catalog 'dev' does not exist or you do not have access to it.")
        #expect(try await Self.run(fixture, "SHOW CATALOGS", none) == ["+I[examples, examples]"])
        #expect(try await Self.run(fixture, "SHOW TABLES FROM `examples`.`marketplace`", none).contains("+I[clicks]"))
        #expect(
            await Self.message(fixture, "DROP TABLE `examples`.`marketplace`.`clicks`", none)
                == "Catalog 'examples' is read-only: its tables are generated examples.")
    }
}
