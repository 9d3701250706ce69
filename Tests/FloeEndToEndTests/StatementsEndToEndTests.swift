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
                json: [
                    "spec": [
                        "display_name": "e2e", "cloud": "AWS", "region": "us-east-1", "max_cfu": 10,
                        "environment": ["id": .string(bootstrap.environmentID)],
                    ]
                ])
            pool = try #require(created.json?["id"]?.stringValue)
        }
        return StatementSession(
            server: server, admin: admin,
            base: "/sql/v1/organizations/\(bootstrap.organizationID)/environments/\(bootstrap.environmentID)/statements",
            pool: pool)
    }

    /// Submits a statement and waits until it is in one of `phases`; returns the statement.
    @discardableResult
    func run(_ name: String, _ sql: String, properties: [String: String] = [:], until phases: Set<String> = ["COMPLETED"]) async throws -> JSONValue {
        let body: JSONValue = [
            "name": .string(name),
            "spec": [
                "statement": .string(sql), "compute_pool_id": .string(pool), "properties": .object(properties.map { ($0.key, .string($0.value)) }),
            ],
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

    @Test func aStoppedInsertShowsItsOffsetsAndResumesWhereItStopped() async throws {
        let session = try await StatementSession.start()
        defer { session.server.shutDown() }
        try await session.run("src", "CREATE TABLE src (id INT)")
        try await session.run("dst", "CREATE TABLE dst (id INT)")
        try await session.run("copy", "INSERT INTO dst SELECT id * 10 FROM src", until: ["RUNNING"])
        try await session.run("fill", "INSERT INTO src VALUES (1), (2), (3)")
        try await Self.waitForCount(session, table: "dst", count: 3, probe: "p1")
        let running = try await session.admin.send("GET", "\(session.base)/copy")
        #expect(running.json?.value(at: "status", "latest_offsets") == .object([]))
        let stop = try await session.admin.send("PATCH", "\(session.base)/copy", json: [["op": "replace", "path": "/spec/stopped", "value": true]])
        #expect(stop.status == 200, "\(stop.text)")
        let stopped = try await session.waitFor("copy", phases: ["STOPPED"])
        #expect(stopped.value(at: "status", "latest_offsets") == ["src": "partition:0,offset:3"])
        #expect(stopped.value(at: "status", "latest_offsets_timestamp")?.stringValue?.hasSuffix("Z") == true)
        #expect(stopped.value(at: "status", "state_limit_status", "state_limit_state") == "OK")
        // Rows that arrive while it is stopped are read when it resumes, and nothing is read twice.
        try await session.run("fill-2", "INSERT INTO src VALUES (4), (5)")
        let version = try #require(stopped.value(at: "metadata", "resource_version")?.stringValue)
        let resume = try await session.admin.send(
            "PUT", "\(session.base)/copy", json: ["metadata": ["resource_version": .string(version)], "spec": ["stopped": false]])
        #expect(resume.status == 202, "\(resume.text)")
        try await session.waitFor("copy", phases: ["RUNNING"])
        try await Self.waitForCount(session, table: "dst", count: 5, probe: "p2")
        try await Task.sleep(for: .milliseconds(700))
        try await session.run("check", "SELECT id FROM dst", properties: ["sql.snapshot.mode": "now"])
        #expect(try await session.results("check").changes.sorted() == ["0:10", "0:20", "0:30", "0:40", "0:50"])
    }

    /// The crash test: stateful and stateless INSERTs killed mid-stream continue from their last checkpoints, and
    /// every sink holds each row exactly once.
    @Test func insertsKilledMidStreamContinueFromTheirCheckpointsExactlyOnce() async throws {
        let session = try await StatementSession.start()
        // 3000 events at 1000 a second; event n happens at n × 10 ms, so each one-second window holds 100 of them.
        try await session.run(
            "events",
            """
            CREATE TABLE events (n BIGINT, ts AS TO_TIMESTAMP_LTZ(n * 10, 3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen',
              'rows-per-second' = '1000', 'fields.n.kind' = 'sequence', 'fields.n.start' = '0', 'fields.n.end' = '2999')
            """)
        try await session.run("copied", "CREATE TABLE copied (n BIGINT)")
        try await session.run("per-second", "CREATE TABLE per_second (window_start TIMESTAMP_LTZ(3), c BIGINT, low BIGINT, high BIGINT)")
        try await session.run("copy", "INSERT INTO copied SELECT n FROM events", until: ["RUNNING"])
        try await session.run(
            "windows",
            """
            INSERT INTO per_second SELECT window_start, COUNT(*), MIN(n), MAX(n)
            FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end
            """, until: ["RUNNING"])
        // Kill once some output is committed, well before the input ends.
        var committed = 0
        for attempt in 0..<200 where committed < 600 {
            try await session.run("probe-\(attempt)", "SELECT COUNT(*) FROM copied", properties: ["sql.snapshot.mode": "now"])
            committed = Int(try await session.results("probe-\(attempt)").changes.first?.dropFirst(2) ?? "") ?? 0
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect((600..<3000).contains(committed), "\(committed) rows committed before the kill")
        await session.server.kill9()

        let restarted = try await StatementSession.start(dataDirectory: session.server.dataDirectory, pool: session.pool)
        defer { restarted.server.shutDown() }
        for name in ["copy", "windows"] {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline,
                try await restarted.admin.send("GET", "\(restarted.base)/\(name)").json?.value(at: "status", "phase") != "COMPLETED"
            {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try await restarted.waitFor("copy", phases: ["COMPLETED"])
        try await restarted.waitFor("windows", phases: ["COMPLETED"])
        try await restarted.run(
            "check-copy", "SELECT COUNT(*), COUNT(DISTINCT n), MIN(n), MAX(n) FROM copied", properties: ["sql.snapshot.mode": "now"])
        #expect(try await restarted.results("check-copy").changes == ["0:3000,3000,0,2999"])
        try await restarted.run(
            "check-windows", "SELECT COUNT(*), COUNT(DISTINCT window_start), MIN(c), MAX(c), SUM(high - low) FROM per_second",
            properties: ["sql.snapshot.mode": "now"])
        #expect(try await restarted.results("check-windows").changes == ["0:30,30,100,100,2970"])
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
