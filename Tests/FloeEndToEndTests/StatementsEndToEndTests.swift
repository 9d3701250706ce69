// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import Foundation
import Testing

/// Flink SQL through `sql/v1` on the real binary: the engine, the scheduler and the durable result logs.
struct StatementSession {
    let server: ServerProcess
    let admin: FloeClient
    let base: String
    let pool: String

    static func start(dataDirectory: URL? = nil, pool existingPool: String? = nil) async throws -> StatementSession {
        let server = try await ServerProcess.start(dataDirectory: dataDirectory)
        let admin = try server.adminClient()
        let bootstrap = try server.bootstrap()
        var pool = existingPool ?? ""
        if existingPool == nil {
            let created = try await admin.send(
                "POST", "/fcpm/v2/compute-pools",
                json: ["spec": ["display_name": "e2e", "cloud": "AWS", "region": "us-east-1", "max_cfu": 10, "environment": ["id": .string(bootstrap.environmentID)]]])
            pool = try #require(created.json?["id"]?.stringValue)
        }
        return StatementSession(
            server: server, admin: admin, base: "/sql/v1/organizations/\(bootstrap.organizationID)/environments/\(bootstrap.environmentID)/statements",
            pool: pool)
    }

    /// Submits a statement and waits until it is in one of `phases`; returns the statement.
    @discardableResult
    func run(_ name: String, _ sql: String, properties: [String: String] = [:], until phases: Set<String> = ["COMPLETED"]) async throws -> JSONValue {
        let body: JSONValue = [
            "name": .string(name),
            "spec": ["statement": .string(sql), "compute_pool_id": .string(pool), "properties": .object(properties.map { ($0.key, .string($0.value)) })],
        ]
        let created = try await admin.send("POST", base, json: body)
        #expect(created.status == 201, "\(name): \(created.text)")
        return try await waitFor(name, phases: phases)
    }

    @discardableResult
    func waitFor(_ name: String, phases: Set<String>) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(20)
        var last: JSONValue?
        while ContinuousClock.now < deadline {
            last = try await admin.send("GET", "\(base)/\(name)").json
            if let phase = last?.value(at: "status", "phase")?.stringValue, phases.contains(phase) { return last! }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("\(name) never reached \(phases): \(String(describing: last?.value(at: "status")))")
        throw CancellationError()
    }

    /// Reads results pages from `position` until `count` changes were read or `next` is empty; returns the changes
    /// as `op:row` strings and the next position.
    func results(_ name: String, from position: Int = 0, atLeast count: Int? = nil) async throws -> (changes: [String], next: String) {
        var changes: [String] = []
        var path = "\(base)/\(name)/results" + (position > 0 ? "?page_token=\(position)" : "")
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let page = try await admin.send("GET", path)
            #expect(page.status == 200, "\(page.text)")
            for change in page.json?.value(at: "results", "data")?.arrayValue ?? [] {
                let row = change["row"]?.arrayValue?.map { $0.stringValue ?? "null" }.joined(separator: ",") ?? "?"
                changes.append("\(change["op"]?.intValue ?? 0):\(row)")
            }
            let next = page.json?.value(at: "metadata", "next")?.stringValue ?? ""
            if next.isEmpty || (count.map { changes.count >= $0 } ?? false) { return (changes, next) }
            path = next
        }
        return (changes, path)
    }
}

@Suite(.serialized) struct StatementsEndToEndTests {
    @Test func tablesQueriesAndAStreamingQueryThatFollowsInserts() async throws {
        let session = try await StatementSession.start()
        defer { session.server.shutDown() }
        let one = try await session.run("one", "SELECT 1 AS id")
        #expect(one.value(at: "status", "traits", "schema", "columns")?.arrayValue?.first?["name"] == "id")
        #expect(try await session.results("one").changes == ["0:1"])

        try await session.run("ddl", "CREATE TABLE orders (id INT, product STRING, amount DECIMAL(10, 2))")
        try await session.run("fill", "INSERT INTO orders VALUES (1, 'apple', 1.50), (2, 'pear', 2.25), (3, 'apple', 3.00)")
        try await session.run("totals", "SELECT product, SUM(amount) AS total FROM orders GROUP BY product", properties: ["sql.snapshot.mode": "now"])
        #expect(Set(try await session.results("totals").changes) == ["0:apple,4.50", "0:pear,2.25"])

        // Without snapshot mode a query over a table is unbounded: it keeps following the table.
        let live = try await session.run("live", "SELECT id, product FROM orders WHERE amount > 2", until: ["RUNNING"])
        #expect(live.value(at: "status", "traits", "is_bounded") == .bool(false))
        let first = try await session.results("live", atLeast: 2)
        #expect(first.changes == ["0:2,pear", "0:3,apple"])
        #expect(!first.next.isEmpty)
        try await session.run("more", "INSERT INTO orders VALUES (4, 'plum', 9.99), (5, 'fig', 0.10)")
        let second = try await session.results("live", from: 2, atLeast: 1)
        #expect(second.changes == ["0:4,plum"])

        // Stop it (GET, set stopped, PUT), with the 409 loop of a stale version.
        let current = try await session.admin.send("GET", "\(session.base)/live")
        let version = try #require(current.json?.value(at: "metadata", "resource_version")?.stringValue)
        let stale: JSONValue = ["metadata": ["resource_version": .string(String((Int(version) ?? 1) - 1))], "spec": ["stopped": true]]
        #expect(try await session.admin.send("PUT", "\(session.base)/live", json: stale).status == 409)
        let stop: JSONValue = ["metadata": ["resource_version": .string(version)], "spec": ["stopped": true]]
        #expect(try await session.admin.send("PUT", "\(session.base)/live", json: stop).status == 202)
        try await session.waitFor("live", phases: ["STOPPED"])
        #expect(try await session.results("live", from: 3).next.isEmpty)

        #expect(try await session.admin.send("DELETE", "\(session.base)/live").status == 202)
        #expect(try await session.admin.send("GET", "\(session.base)/live").status == 404)

        let failed = try await session.run("bad", "SELECT nope FROM orders", until: ["FAILED"])
        #expect(failed.value(at: "status", "detail")?.stringValue?.contains("nope") == true)
    }

    @Test func resultsAndRunningStatementsSurviveRestartAndKill() async throws {
        let session = try await StatementSession.start()
        try await session.run("ddl", "CREATE TABLE events (id BIGINT, name STRING)")
        try await session.run("fill", "INSERT INTO events VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        try await session.run("snapshot", "SELECT id, name FROM events", properties: ["sql.snapshot.mode": "now"])
        try await session.run("follow", "SELECT id, name FROM events", until: ["RUNNING"])
        #expect(try await session.results("follow", atLeast: 3).changes == ["0:1,a", "0:2,b", "0:3,c"])
        #expect(await session.server.stop() == 0)

        let restarted = try await StatementSession.start(dataDirectory: session.server.dataDirectory, pool: session.pool)
        #expect(try await restarted.results("snapshot").changes == ["0:1,a", "0:2,b", "0:3,c"])
        let follow = try await restarted.waitFor("follow", phases: ["RUNNING"])
        #expect(follow.value(at: "status", "traits", "is_bounded") == .bool(false))
        try await restarted.run("fill-2", "INSERT INTO events VALUES (4, 'd')")
        // The statement continues after the restart: the old rows are not delivered again, the new one follows.
        #expect(try await restarted.results("follow", atLeast: 4).changes == ["0:1,a", "0:2,b", "0:3,c", "0:4,d"])

        await restarted.server.kill9()
        let afterKill = try await StatementSession.start(dataDirectory: session.server.dataDirectory, pool: session.pool)
        defer { afterKill.server.shutDown() }
        try await afterKill.waitFor("follow", phases: ["RUNNING"])
        try await afterKill.run("fill-3", "INSERT INTO events VALUES (5, 'e')")
        #expect(try await afterKill.results("follow", atLeast: 5).changes == ["0:1,a", "0:2,b", "0:3,c", "0:4,d", "0:5,e"])
        let count = try await afterKill.run("count", "SELECT COUNT(*) FROM events", properties: ["sql.snapshot.mode": "now"])
        #expect(count.value(at: "status", "phase") == "COMPLETED")
        #expect(try await afterKill.results("count").changes == ["0:5"])
    }

    @Test func insertIntoSelectDoesNotDuplicateRowsAcrossAKill() async throws {
        let session = try await StatementSession.start()
        try await session.run("src", "CREATE TABLE src (id INT)")
        try await session.run("dst", "CREATE TABLE dst (id INT)")
        try await session.run("copy", "INSERT INTO dst SELECT id FROM src", until: ["RUNNING"])
        try await session.run("fill", "INSERT INTO src VALUES (1), (2), (3)")
        try await Self.waitForCount(session, table: "dst", count: 3, probe: "p1")
        await session.server.kill9()

        let restarted = try await StatementSession.start(dataDirectory: session.server.dataDirectory, pool: session.pool)
        defer { restarted.server.shutDown() }
        try await restarted.waitFor("copy", phases: ["RUNNING"])
        try await restarted.run("fill-2", "INSERT INTO src VALUES (4)")
        try await Self.waitForCount(restarted, table: "dst", count: 4, probe: "p2")
        try await Task.sleep(for: .milliseconds(300))
        try await restarted.run("check", "SELECT id FROM dst", properties: ["sql.snapshot.mode": "now"])
        #expect(try await restarted.results("check").changes.sorted() == ["0:1", "0:2", "0:3", "0:4"])
    }

    static func waitForCount(_ session: StatementSession, table: String, count: Int, probe: String) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        var attempt = 0
        while ContinuousClock.now < deadline {
            attempt += 1
            let name = "\(probe)-\(attempt)"
            try await session.run(name, "SELECT COUNT(*) FROM \(table)", properties: ["sql.snapshot.mode": "now"])
            if try await session.results(name).changes == ["0:\(count)"] { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(table) never held \(count) rows")
    }
}

extension FloeResponse {
    var text: String { String(decoding: body, as: UTF8.self) }
}
