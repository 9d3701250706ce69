// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@testable import FloeSQL

@Suite struct TableLogTests {
    func temporaryURL() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("floe-log-\(UUID().uuidString).log")
    }

    @Test func appendReadAndReopen() throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            let log = try TableLog(url: url)
            try log.append([[.int(1), .string("a")], [.int(2), .null]], writer: "w1")
            try log.append([[.int(3), .string("c")]], writer: "w2")
            let (rows, _, _, next) = try log.read(from: 0)
            #expect(rows == [[.int(1), .string("a")], [.int(2), .null], [.int(3), .string("c")]])
            #expect(next == log.end)
        }
        let reopened = try TableLog(url: url)
        #expect(reopened.rowCount == 3)
        #expect(reopened.rowsWritten(by: "w1") == 2)
        #expect(reopened.rowsWritten(by: "w2") == 1)
        #expect(try reopened.read(from: 0).rows.count == 3)
    }

    @Test func tornTailIsTruncatedOnOpen() throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let goodEnd: Int64
        do {
            let log = try TableLog(url: url)
            try log.append([[.int(1)]], writer: "w")
            goodEnd = log.end
            try log.append([[.int(2)], [.int(3)]], writer: "w")
        }
        // Simulate a crash in the middle of the second record.
        let handle = try FileHandle(forUpdating: url)
        try handle.truncate(atOffset: UInt64(goodEnd + 5))
        try handle.close()
        let reopened = try TableLog(url: url)
        #expect(reopened.end == goodEnd)
        #expect(try reopened.read(from: 0).rows == [[.int(1)]])
        #expect(reopened.rowsWritten(by: "w") == 1)
        try reopened.append([[.int(4)]], writer: "w")
        #expect(try reopened.read(from: 0).rows == [[.int(1)], [.int(4)]])
    }

    @Test func corruptedRecordIsTruncated() throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            let log = try TableLog(url: url)
            try log.append([[.string("hello")]], writer: "w")
        }
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: url)
        let reopened = try TableLog(url: url)
        #expect(reopened.end == 0)
        #expect(reopened.rowCount == 0)
    }

    @Test func waitingReaderWakesOnAppendAndCancels() async throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let log = try TableLog(url: url)
        let waiter = Task { try await log.waitForAppend(beyond: 0) }
        try await Task.sleep(for: .milliseconds(50))
        try log.append([[.int(1)]], writer: "w")
        try await waiter.value
        let cancelled = Task { try await log.waitForAppend(beyond: log.end) }
        try await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
    }

    @Test func codecRoundTrips() throws {
        let row: Row = [
            .null, .bool(true), .int(-42), .int(Int64.max), .double(1.5), .decimal(-123456789012345678901234567), .string("héllo"),
            .bytes([0, 255]), .list([.int(1), .list([.string("x")])]),
        ]
        var bytes: [UInt8] = []
        ValueCodec.encode(row, into: &bytes)
        var reader = ValueCodec.Reader(bytes)
        #expect(try reader.row() == row)
    }
}

@Suite struct EngineBehaviourTests {
    @Test func catalogSurvivesReopen() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE DATABASE shop")
        _ = try await fixture.run("CREATE TABLE shop.items (name STRING, price DECIMAL(6, 2))")
        _ = try await fixture.run("INSERT INTO shop.items VALUES ('pen', 1.50)")
        _ = try await fixture.run("CREATE VIEW shop.cheap AS SELECT name FROM shop.items WHERE price < 2")
        let reopened = try EngineFixture(directory: fixture.directory)
        let (_, rows) = try await reopened.run("SELECT * FROM shop.cheap", ["sql.snapshot.mode": "now"])
        #expect(rows == [ResultChange(kind: .insert, row: ["pen"])])
        let (_, tables) = try await reopened.run("SHOW TABLES", ["sql.current-database": "shop"])
        #expect(tables.map(\.row) == [["cheap"], ["items"]])
    }

    @Test func prepareHasNoSideEffects() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.engine.prepare("CREATE TABLE t (x INT)", in: fixture.context())
        await #expect(throws: SQLError.self) { try await fixture.engine.prepare("SELECT * FROM t", in: fixture.context()) }
    }

    @Test func anUnboundedDatagenTableIsPacedAndRepeatsItselfOnARerun() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run(
            "CREATE TABLE ticks (n BIGINT, s STRING) WITH ('connector' = 'datagen', 'rows-per-second' = '40', 'fields.s.length' = '5')")
        /// Runs the query until it has delivered `wanted` rows; returns them and how long that took.
        func collect(_ wanted: Int) async throws -> (rows: [ResultChange], elapsed: Duration) {
            let prepared = try await fixture.engine.prepare("SELECT n, s FROM ticks", in: fixture.context())
            #expect(prepared.traits.isBounded == false)
            let receiver = CollectingReceiver()
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { try await prepared.run(deliveringTo: receiver, skippingFirst: 0) }
            // 60 s: the suite runs the nesting-limit statements on the same engine threads at the same time.
            try await waitUntil(seconds: 60) { receiver.collected.count >= wanted }
            let elapsed = clock.now - start
            task.cancel()
            _ = await task.result
            return (Array(receiver.collected.prefix(wanted)), elapsed)
        }
        // Paced at 40 rows/s with the first row due at once, the 21st row cannot come before 0.5 s.
        // (Only a lower bound: a loaded machine makes the source slower, never faster.)
        let first = try await collect(21)
        #expect(first.rows.count == 21)
        #expect(first.elapsed >= .milliseconds(490), "21 rows after \(first.elapsed)")
        // Seeded by the table: a second run (as after a restart) produces the same rows in the same order.
        let second = try await collect(10)
        #expect(
            second.rows.map(\.row) == first.rows.prefix(10).map(\.row), "\(first.rows.prefix(3).map(\.row)) vs \(second.rows.prefix(3).map(\.row))")
    }

    @Test func unboundedSelectFollowsAppendsAndStopsPromptly() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE events (id INT, kind STRING)")
        _ = try await fixture.run("INSERT INTO events VALUES (1, 'a'), (2, 'b')")
        let prepared = try await fixture.engine.prepare("SELECT id FROM events WHERE kind <> 'x'", in: fixture.context())
        #expect(prepared.traits.isBounded == false)
        #expect(prepared.traits.isAppendOnly)
        let receiver = CollectingReceiver()
        let task = Task { try await prepared.run(deliveringTo: receiver, skippingFirst: 0) }
        try await waitUntil { receiver.collected.count == 2 }
        _ = try await fixture.run("INSERT INTO events VALUES (3, 'c'), (4, 'x')")
        try await waitUntil { receiver.collected.count == 3 }
        #expect(receiver.collected.map(\.row) == [["1"], ["2"], ["3"]])
        // Cancelling must wake the source's wait for appends: the run ends without any further insert.
        // (A liveness check, not a timing one: the bound is generous so a loaded machine cannot fail it.)
        task.cancel()
        let ended = CollectingFlag()
        let watcher = Task {
            _ = await task.result
            ended.set()
        }
        try await waitUntil(seconds: 30) { ended.isSet }
        watcher.cancel()
        if case .success = await task.result { Issue.record("a cancelled unbounded statement must throw") }
    }

    @Test func skippingFirstRecomputesWithoutRedelivering() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let (_, all) = try await fixture.run("SELECT * FROM (VALUES (1), (2), (3)) AS t(v)")
        let (_, rest) = try await fixture.run("SELECT * FROM (VALUES (1), (2), (3)) AS t(v)", skip: 2)
        #expect(rest == Array(all.dropFirst(2)))
    }

    @Test func insertReRunDoesNotDuplicate() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE t (x INT)")
        _ = try await fixture.run("INSERT INTO t VALUES (1), (2)", statementID: "stmt-1")
        _ = try await fixture.run("INSERT INTO t VALUES (1), (2)", statementID: "stmt-1")
        _ = try await fixture.run("INSERT INTO t VALUES (1), (2)", statementID: "stmt-2")
        let (_, rows) = try await fixture.run("SELECT COUNT(*) FROM t", ["sql.snapshot.mode": "now"])
        #expect(rows.map(\.row) == [["4"]])
    }

    @Test func ctasReRunFindsItsOwnTable() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let sql = "CREATE TABLE copy AS SELECT * FROM (VALUES (1), (2)) AS t(v)"
        let prepared = try await fixture.engine.prepare(sql, in: fixture.context(statementID: "ctas-1"))
        try await prepared.run(deliveringTo: CollectingReceiver(), skippingFirst: 0)
        try await prepared.run(deliveringTo: CollectingReceiver(), skippingFirst: 0)
        let (_, rows) = try await fixture.run("SELECT COUNT(*) FROM copy", ["sql.snapshot.mode": "now"])
        #expect(rows.map(\.row) == [["2"]])
    }

    @Test func droppedTableFailsItsReader() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE t (x INT)")
        let prepared = try await fixture.engine.prepare("SELECT x FROM t", in: fixture.context())
        let task = Task { try await prepared.run(deliveringTo: CollectingReceiver(), skippingFirst: 0) }
        try await Task.sleep(for: .milliseconds(100))
        _ = try await fixture.run("DROP TABLE t")
        let result = await task.result
        guard case .failure(let error) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect("\(error)".contains("dropped"))
    }

    @Test func dropCatalogForgetsEverything() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE TABLE t (x INT)")
        try await fixture.engine.dropCatalog(id: "env-1")
        await #expect(throws: SQLError.self) { try await fixture.engine.prepare("SELECT * FROM t", in: fixture.context()) }
    }

    @Test func filterProjectionThroughput() throws {
        let rate = try FloeBenchmark.filterProjection(rows: 2_000_000)
        #expect(rate > 1_000_000)
    }

    /// Polls `condition` every 20 ms for up to `seconds` (generous: the suite runs many tests at once).
    func waitUntil(seconds: Int = 15, _ condition: @escaping @Sendable () -> Bool) async throws {
        for _ in 0..<(seconds * 50) where !condition() { try await Task.sleep(for: .milliseconds(20)) }
        #expect(condition())
    }
}

/// The faker expressions of `examples.marketplace`: values stay in their ranges and formats.
@Suite struct FakerTests {
    @Test func expressionsGenerateValuesInTheirRangesAndFormats() throws {
        var random = SplitMix64(seed: 42)
        let string = SQLType.string.notNull
        let int = SQLType(.integer, nullable: false)
        let uuid = try #require(FakerExpression.parse("#{Internet.uuid}"))
        let between = try #require(FakerExpression.parse("#{Number.numberBetween '3000','5000'}"))
        let price = try #require(FakerExpression.parse("#{Number.randomDouble '2','10','100'}"))
        let url = try #require(FakerExpression.parse("#{regexify 'https://www[.]acme[.]com/product/[a-z]{5}'}"))
        var ids = Set<String>()
        var seen = Set<Int64>()
        for _ in 0..<10_000 {
            guard case .string(let id) = uuid.generate(&random, type: string) else {
                Issue.record("uuid is not a string")
                return
            }
            #expect(id.count == 36 && id.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12] && Array(id)[14] == "4")
            ids.insert(id)
            guard case .int(let n) = between.generate(&random, type: int) else {
                Issue.record("numberBetween is not an int")
                return
            }
            #expect((3000..<5000).contains(n))
            seen.insert(n)
            guard case .double(let p) = price.generate(&random, type: SQLType(.double, nullable: false)) else {
                Issue.record("price")
                return
            }
            #expect(p >= 10 && p <= 100 && abs((p * 100).rounded() - p * 100) < 1e-6)
            guard case .string(let link) = url.generate(&random, type: string) else {
                Issue.record("url")
                return
            }
            #expect(link.hasPrefix("https://www.acme.com/product/") && link.count == 34 && link.suffix(5).allSatisfy { ("a"..."z").contains($0) })
        }
        #expect(ids.count == 10_000)
        #expect(seen.count > 1900)
        // numberBetween into a STRING column (products' ids) gives the number as text.
        #expect(FakerExpression.numberBetween(1000, 1001).generate(&random, type: string) == .string("1000"))
        #expect(FakerExpression.parse("#{Number.numberBetween '5','5'}") == nil)
        #expect(FakerExpression.parse("#{Lorem.word}") == nil)
    }

    @Test func unsupportedFakerOptionsAreRefused() {
        let columns: [(name: String, type: SQLType)] = [("a", .string)]
        #expect(throws: SQLError.self) { try DatagenSpec.faker(options: ["connector": "faker"], columns: columns, seed: "s") }
        #expect(throws: SQLError.self) {
            try DatagenSpec.faker(options: ["connector": "faker", "fields.a.expression": "#{Nope.nope}"], columns: columns, seed: "s")
        }
        #expect(throws: SQLError.self) {
            try DatagenSpec.faker(
                options: ["connector": "faker", "fields.a.expression": "#{Internet.uuid}", "bogus": "1"], columns: columns, seed: "s")
        }
    }
}

/// Idle tables (`sql.tables.scan.idle-timeout`): a silent table stops holding back the watermark of a join.
@Suite struct IdlenessTests {
    @Test func idleTimeoutsParseAsConfluentWritesThem() throws {
        #expect(try IdleTimeout.parse(nil) == .progressive)
        #expect(try IdleTimeout.parse("10 s") == .fixed(.seconds(10)))
        #expect(try IdleTimeout.parse("500ms") == .fixed(.milliseconds(500)))
        #expect(try IdleTimeout.parse("2 min") == .fixed(.seconds(120)))
        #expect(try IdleTimeout.parse("0 ms") == .disabled)
        #expect(throws: SQLError.self) { try IdleTimeout.parse("soon") }
        #expect(IdleTimeout.progressive.timeout(age: .seconds(1)) == .seconds(15))
        #expect(IdleTimeout.progressive.timeout(age: .seconds(60)) == .seconds(60))
        #expect(IdleTimeout.progressive.timeout(age: .seconds(3600)) == .seconds(300))
    }

    @Test func aSilentVersionedTableGoesIdleAndReleasesATemporalJoin() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run(
            "CREATE TABLE rates (currency STRING, rate INT, ts TIMESTAMP(3), PRIMARY KEY (currency) NOT ENFORCED, WATERMARK FOR ts AS ts)")
        _ = try await fixture.run("CREATE TABLE orders (id INT, currency STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)")
        _ = try await fixture.run("INSERT INTO rates VALUES ('EUR', 100, TIMESTAMP '2024-01-01 10:00:00')")
        _ = try await fixture.run(
            "INSERT INTO orders VALUES (1, 'EUR', TIMESTAMP '2024-01-01 10:00:01'), (2, 'EUR', TIMESTAMP '2024-01-01 10:00:05')")
        _ = try await fixture.run("INSERT INTO orders VALUES (3, 'EUR', TIMESTAMP '2024-01-01 10:00:20')")
        let sql = "SELECT o.id, r.rate FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency"
        // Without idleness the join waits for the rates' watermark, which stays at 10:00:00.
        let (_, waiting) = try await fixture.run(sql, [IdleTimeout.property: "0"])
        #expect(waiting.isEmpty)
        // With a short timeout the silent rates table goes idle: the orders' watermark alone releases every order.
        let prepared = try await fixture.engine.prepare(sql, in: fixture.context([IdleTimeout.property: "200 ms"]))
        let receiver = CollectingReceiver()
        let task = Task { try await prepared.run(deliveringTo: receiver, skippingFirst: 0) }
        for _ in 0..<1500 where receiver.collected.count < 3 { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        _ = await task.result
        #expect(receiver.collected.map { $0.row.map { $0.stringValue ?? "NULL" }.joined(separator: "|") } == ["1|100", "2|100", "3|100"])
        // A bad value is refused when the statement is planned.
        await #expect(throws: (any Error).self) { try await fixture.engine.prepare(sql, in: fixture.context([IdleTimeout.property: "soon"])) }
    }
}

/// Join conditions evaluated on row pairs agree with the same conditions compiled over batches.
@Suite struct JoinPredicateTests {
    @Test func rowPairEvaluationAgreesWithBatchEvaluation() throws {
        let int = SQLType(.integer)
        let text = SQLType.string
        let boolean = SQLType(.boolean)
        func column(_ i: Int, _ type: SQLType) -> BoundExpression { BoundExpression(.column(i), type) }
        func compare(_ op: ComparisonOperator, _ a: BoundExpression, _ b: BoundExpression) -> BoundExpression {
            BoundExpression(.compare(op, a, b), boolean)
        }
        // Left (a INT, s STRING), right (b INT, t STRING): columns 0, 1 and 2, 3 of the pair.
        let conditions: [BoundExpression] = [
            compare(.less, column(0, int), column(2, int)),
            BoundExpression(
                .and([compare(.greaterOrEqual, column(0, int), column(2, int)), compare(.equal, column(1, text), column(3, text))]), boolean),
            BoundExpression(
                .or([compare(.notEqual, column(1, text), column(3, text)), BoundExpression(.isNull(column(2, int), negated: false), boolean)]),
                boolean),
            BoundExpression(.not(compare(.lessOrEqual, column(2, int), .literal(.int(2), int))), boolean),
        ]
        let values: [Value] = [.null, .int(1), .int(2), .int(3)]
        let strings: [Value] = [.null, .string("x"), .string("y")]
        var pairs: [(Row, Row)] = []
        for a in values { for s in strings { for b in values { for t in strings { pairs.append(([a, s], [b, t])) } } } }
        let compiler = ExpressionCompiler(caster: Caster(renderer: ValueRenderer(zone: Temporal.zone(nil))))
        for condition in conditions {
            let predicate = try #require(JoinPredicate.compile(condition, leftCount: 2))
            let batch = Batch(rows: pairs.map { $0.0 + $0.1 }, kinds: Array(repeating: .insert, count: pairs.count), types: [int, text, int, text])
            let column = try compiler.compile(condition)(batch)
            guard case .bool(let flags) = column.data else {
                Issue.record("not a condition")
                return
            }
            for (index, pair) in pairs.enumerated() {
                #expect(predicate.holds(pair.0, pair.1) == (flags[index] && !column.isNull(index)), "\(condition) on \(pair)")
            }
        }
    }
}

/// SPLIT_INDEX's byte search against the obvious split (`components(separatedBy:)`), on random texts.
@Test func splitIndexAgreesWithSplittingEverything() {
    var random = SystemRandomNumberGenerator()
    let alphabet: [Character] = ["a", "/", "/", "é", ",", "|", "🎉"]
    for _ in 0..<2000 {
        let text = String((0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
        let separator = ["/", "//", ",", "é", "|🎉"].randomElement(using: &random)!
        let parts = text.components(separatedBy: separator)
        for index in -1...6 {
            let expected = index >= 0 && index < parts.count ? parts[index] : nil
            #expect(StringFunctions.splitIndex(text, separator: separator, index) == expected, "\(text) \(separator) \(index)")
        }
    }
}

/// Window assignment without arrays (`forEachWindow`) against the array form, for every kind, offsets and times on
/// both sides of the epoch.
@Test func windowAssignmentAgreesWithTheListOfWindows() {
    var random = SystemRandomNumberGenerator()
    let kinds: [WindowKind] = [
        .tumble(size: 10), .hop(slide: 2, size: 10), .hop(slide: 3, size: 10), .hop(slide: 5, size: 5),
        .cumulate(step: 2, size: 10), .cumulate(step: 5, size: 5),
    ]
    for kind in kinds {
        for _ in 0..<500 {
            let spec = WindowSpec(kind: kind, offset: Int64.random(in: -3...3, using: &random), timeColumn: 0, localZone: nil)
            let t = Int64.random(in: -100...100, using: &random)
            var visited: [(Int64, Int64)] = []
            spec.forEachWindow(containing: t) { visited.append(($0, $1)) }
            let listed = spec.windows(containing: t)
            #expect(visited.map(\.0) == listed.map(\.start) && visited.map(\.1) == listed.map(\.end), "\(kind) \(spec.offset) \(t)")
            #expect(visited.allSatisfy { $0.0 <= t && t < $0.1 })
        }
    }
}

/// The COUNT(DISTINCT) table against a dictionary, through growth, removals (backward shifts) and group scans.
@Test func groupValueCountsAgreeWithADictionary() {
    var random = SeededGenerator(seed: 99)
    var table = GroupValueCounts()
    var reference: [Int64: [Int64: Int64]] = [:]
    for step in 0..<40_000 {
        let group = Int32.random(in: 0..<40, using: &random)
        // Values collide in their low bits, to exercise probing.
        let value = Int64.random(in: -300...300, using: &random) << 24
        let sign: Int64 = Int.random(in: 0..<3, using: &random) == 0 ? -1 : 1
        let before = reference[Int64(group), default: [:]][value] ?? 0
        let after = before + sign
        reference[Int64(group), default: [:]][value] = after > 0 ? after : nil
        let expected = before <= 0 && after > 0 ? 1 : (before > 0 && after <= 0 ? -1 : 0)
        #expect(table.add(group, value, sign) == expected)
        if step % 5000 == 4999 {
            table.removeGroup(group)
            reference[Int64(group)] = nil
        }
    }
    #expect(table.count == reference.values.reduce(0) { $0 + $1.count })
    for (group, values) in reference {
        for (value, count) in values { #expect(table.occurrences(Int32(group), value) == count) }
    }
    #expect(table.entries.count == table.count)
}
