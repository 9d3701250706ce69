// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import Foundation
import Testing

/// Statements sent back to back to a new compute pool start in the order they were sent, each DDL ending before what
/// follows it: the curl tour of the README, whose INSERT used to race its CREATE TABLE.
@Suite(.serialized) struct StartOrderEndToEndTests {
    /// Creates a compute pool (PROVISIONING for its first half second) and returns its id.
    static func freshPool(_ session: StatementSession, name: String) async throws -> String {
        let bootstrap = try session.server.bootstrap()
        let created = try await session.admin.send(
            "POST", "/fcpm/v2/compute-pools",
            json: [
                "spec": [
                    "display_name": .string(name), "cloud": "AWS", "region": "us-east-1", "max_cfu": 10,
                    "environment": ["id": .string(bootstrap.environmentID)],
                ]
            ])
        #expect(created.status == 202 || created.status == 201, "\(created.text)")
        #expect(created.json?.value(at: "status", "phase") == "PROVISIONING")
        return try #require(created.json?["id"]?.stringValue)
    }

    /// Sends a statement without waiting for it.
    static func send(_ session: StatementSession, _ name: String, _ sql: String, pool: String) async throws {
        let body: JSONValue = ["name": .string(name), "spec": ["statement": .string(sql), "compute_pool_id": .string(pool)]]
        let created = try await session.admin.send("POST", session.base, json: body)
        #expect(created.status == 201, "\(name): \(created.text)")
        #expect(created.json?.value(at: "status", "phase") == "PENDING")
    }

    @Test func ddlThenInsertSentBackToBackToAProvisioningPoolBothSucceedFiveTimesInARow() async throws {
        let session = try await StatementSession.start()
        defer { session.server.shutDown() }
        for round in 1...5 {
            let pool = try await Self.freshPool(session, name: "fresh-\(round)")
            try await Self.send(session, "ddl-\(round)", "CREATE TABLE orders_\(round) (id INT, product STRING, amount DECIMAL(10,2))", pool: pool)
            try await Self.send(session, "fill-\(round)", "INSERT INTO orders_\(round) VALUES (1, 'apple', 1.50), (2, 'pear', 2.25)", pool: pool)
            try await Self.send(session, "totals-\(round)", "SELECT product, COUNT(*) AS n FROM orders_\(round) GROUP BY product", pool: pool)
            let ddl = try await session.waitFor("ddl-\(round)", phases: ["COMPLETED", "FAILED"])
            #expect(ddl.value(at: "status", "phase") == "COMPLETED", "round \(round): \(String(describing: ddl.value(at: "status", "detail")))")
            let fill = try await session.waitFor("fill-\(round)", phases: ["COMPLETED", "FAILED"])
            #expect(fill.value(at: "status", "phase") == "COMPLETED", "round \(round): \(String(describing: fill.value(at: "status", "detail")))")
            try await session.waitFor("totals-\(round)", phases: ["RUNNING"])
            #expect(Set(try await session.results("totals-\(round)", atLeast: 2).changes) == ["0:apple,1", "0:pear,1"], "round \(round)")
        }
    }

    /// A failed DDL does not hold back what follows it.
    @Test func statementsAfterAFailedDDLStillStart() async throws {
        let session = try await StatementSession.start()
        defer { session.server.shutDown() }
        let pool = try await Self.freshPool(session, name: "fresh")
        try await Self.send(session, "ddl", "CREATE TABLE twice (id INT)", pool: pool)
        try await Self.send(session, "again", "CREATE TABLE twice (id INT)", pool: pool)
        try await Self.send(session, "fill", "INSERT INTO twice VALUES (1)", pool: pool)
        try await session.waitFor("ddl", phases: ["COMPLETED"])
        let again = try await session.waitFor("again", phases: ["FAILED"])
        #expect(again.value(at: "status", "detail")?.stringValue?.contains("already exists") == true)
        try await session.waitFor("fill", phases: ["COMPLETED"])
    }

    /// Statements left PENDING by a crash start in creation order after the restart.
    @Test func statementsLeftPendingByACrashStartInCreationOrder() async throws {
        let session = try await StatementSession.start()
        let pool = try await Self.freshPool(session, name: "fresh")
        try await Self.send(session, "ddl", "CREATE TABLE orders (id INT, product STRING)", pool: pool)
        try await Self.send(session, "fill", "INSERT INTO orders VALUES (1, 'apple'), (2, 'pear')", pool: pool)
        await session.server.kill9()

        let restarted = try await StatementSession.start(dataDirectory: session.server.dataDirectory, pool: pool)
        defer { restarted.server.shutDown() }
        let fill = try await restarted.waitFor("fill", phases: ["COMPLETED", "FAILED"])
        #expect(fill.value(at: "status", "phase") == "COMPLETED", "\(String(describing: fill.value(at: "status", "detail")))")
        try await restarted.run("check", "SELECT id, product FROM orders", properties: ["sql.snapshot.mode": "now"])
        #expect(try await restarted.results("check").changes.sorted() == ["0:1,apple", "0:2,pear"])
    }
}
