// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@testable import FloeSQL

/// Statements at and past ``SQLLimits``: the deepest statement of each shape the parser accepts is analyzed, planned
/// and run to its end on a task thread (the server's stack), and the next one is refused with the limit's message.
/// Run in the debug build, whose stack frames are the largest.
@Suite struct NestingLimitTests {
    /// A shape of deep statement: its SQL for a size `n`, and the result the statement gives.
    struct Shape: Sendable, CustomStringConvertible {
        var description: String
        var sql: @Sendable (Int) -> String
        var result: @Sendable (Int) -> [String]

        static func repeated(_ text: String, _ n: Int) -> String { String(repeating: text, count: n) }
    }

    static let shapes: [Shape] = [
        Shape(
            description: "parentheses", sql: { "SELECT " + .init(repeating: "(", count: $0) + "1" + .init(repeating: ")", count: $0) },
            result: { _ in ["+I[1]"] }),
        Shape(description: "NOT", sql: { "SELECT " + Shape.repeated("NOT ", $0) + "TRUE" }, result: { [$0 % 2 == 0 ? "+I[TRUE]" : "+I[FALSE]"] }),
        Shape(
            description: "function calls", sql: { "SELECT " + Shape.repeated("ABS(", $0) + "-1" + Shape.repeated(")", $0) },
            result: { _ in ["+I[1]"] }),
        Shape(
            description: "unary minus", sql: { "SELECT " + Shape.repeated("-(", $0) + "1" + Shape.repeated(")", $0) },
            result: { ["+I[\($0 % 2 == 0 ? 1 : -1)]"] }),
        Shape(description: "a chain of +", sql: { "SELECT 1" + Shape.repeated("+1", $0) }, result: { ["+I[\($0 + 1)]"] }),
        Shape(description: "a chain of OR", sql: { "SELECT 1 = 2" + Shape.repeated(" OR 1 = 2", $0) }, result: { _ in ["+I[FALSE]"] }),
        Shape(
            description: "CASE", sql: { "SELECT " + Shape.repeated("CASE WHEN TRUE THEN ", $0) + "7" + Shape.repeated(" ELSE 0 END", $0) },
            result: { _ in ["+I[7]"] }),
        Shape(
            description: "nested types",
            sql: { "SELECT CAST(NULL AS " + Shape.repeated("ARRAY<", $0) + "INT" + Shape.repeated(">", $0) + ") IS NULL" },
            result: { _ in ["+I[TRUE]"] }),
        Shape(
            description: "UNION ALL", sql: { "SELECT 1" + Shape.repeated(" UNION ALL SELECT 1", $0) + "" },
            result: { Array(repeating: "+I[1]", count: $0 + 1) }),
        Shape(
            description: "subqueries",
            sql: { "SELECT x FROM " + Shape.repeated("(SELECT x FROM ", $0) + "(VALUES (5)) AS v(x)" + Shape.repeated(")", $0) },
            result: { _ in ["+I[5]"] }),
        Shape(
            description: "joins",
            sql: { n in
                "SELECT COUNT(*) FROM (VALUES (1)) AS t0(x)" + (1...max(n, 1)).map { " JOIN (VALUES (1)) AS t\($0)(x) ON t\($0).x = t0.x" }.joined()
            }, result: { _ in ["+I[1]"] }),
        // A chain whose operands are chains: deeper than anything counted while parsing, caught by the tree's measure.
        Shape(
            description: "chains of chains",
            sql: { n in
                let k = 40
                return "SELECT " + Shape.repeated("(", n) + "1" + Shape.repeated(Shape.repeated("+1", k) + ")", n)
            }, result: { ["+I[\($0 * 40 + 1)]"] }),
    ]

    /// The largest `n` for which `accepts(n)` holds, given that it holds for `low` and not for `high`.
    static func largest(from low: Int, to high: Int, where accepts: (Int) async -> Bool) async -> Int {
        var (low, high) = (low, high)
        while high - low > 1 {
            let middle = (low + high) / 2
            if await accepts(middle) { low = middle } else { high = middle }
        }
        return low
    }

    /// Whether `sql` parses, on the engine's threads (as the engine parses: the recursion needs their stack).
    static func parses(_ sql: String) async -> Bool {
        (try? await EngineThreads.run { try Parser.parseStatement(sql) }) != nil
    }

    /// The syntax error `sql` gets, parsed on the engine's threads.
    static func syntaxError(_ sql: String) async -> SQLSyntaxError? {
        do {
            _ = try await EngineThreads.run { try Parser.parseStatement(sql) }
            return nil
        } catch {
            return error as? SQLSyntaxError
        }
    }

    @Test(arguments: shapes) func deepestAcceptedRunsAndTheNextIsRefused(_ shape: Shape) async throws {
        let deepest = await Self.largest(from: 1, to: 100_000) { await Self.parses(shape.sql($0)) }
        // Every shape may nest a useful amount (the limit counts levels of the tree, not characters).
        #expect(deepest >= (shape.description == "chains of chains" ? 20 : SQLLimits.nestingDepth / 4), "\(shape): \(deepest)")
        #expect(shape.sql(deepest + 1).count < 131_072 || deepest > 3000)

        let refused = await Self.syntaxError(shape.sql(deepest + 1))
        #expect(refused?.exceedsLimit == true)
        #expect(refused?.message == "SQL statement too deeply nested (limit \(SQLLimits.nestingDepth))")

        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let (_, changes) = try await fixture.run(shape.sql(deepest), ["sql.snapshot.mode": "now"])
        #expect(changes.map(EngineText.change) == shape.result(deepest))
        let failure = await #expect(throws: SQLError.self) { try await fixture.engine.prepare(shape.sql(deepest + 1), in: fixture.context()) }
        #expect(failure?.exceedsLimit == true)
        #expect(failure?.message.contains("too deeply nested (limit \(SQLLimits.nestingDepth))") == true)
    }

    /// What the deepest statements need of an engine thread's stack, measured on a thread of their own: well under
    /// its size, even with a debug build's frames.
    @Test(arguments: shapes) func theDeepestStatementsFitTheStack(_ shape: Shape) async throws {
        let deepest = await Self.largest(from: 1, to: 100_000) { await Self.parses(shape.sql($0)) }
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let thread = EngineThreads(count: 1)
        let used = try await withTaskExecutorPreference(thread) { () async throws -> Int in
            let context = fixture.context(["sql.snapshot.mode": "now"])
            let prepared = try StatementPlanner(session: context, services: fixture.engine.services).plan(
                try Parser.parseStatement(shape.sql(deepest)))
            try await prepared.run(deliveringTo: CollectingReceiver(), skippingFirst: 0)
            return EngineThreads.deepestStackUse() ?? 0
        }
        print("stack at the limit, \(shape): \(used >> 20) MiB for \(deepest) levels")
        #expect(used > 0 && used < EngineThreads.stackSize / 4, "\(shape): \(used) bytes")
    }

    /// The inputs that crashed the server before the limits, each far past them.
    @Test func theReportedInputsAreRefused() async throws {
        let inputs = [
            "SELECT " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000),
            "SELECT " + String(repeating: "NOT ", count: 20000) + "TRUE",
            "SELECT " + String(repeating: "ABS(", count: 20000) + "1" + String(repeating: ")", count: 20000),
            "SELECT 1" + String(repeating: " UNION ALL SELECT 1", count: 3000),
            "SELECT 1" + String(repeating: "+1", count: 60000),
        ]
        for sql in inputs {
            #expect(sql.count < 131_072)
            let error = await Self.syntaxError(sql)
            #expect(error?.exceedsLimit == true)
        }
    }

    /// Views of views nest past what any one text does. Creating a view analyzes it, so such a chain cannot be created
    /// past the limit today; the chain is written to the catalog directly, as a catalog of an earlier version (or one
    /// restored from a backup) may hold it, and querying it must fail cleanly.
    @Test func viewChainsStopAtTheLimit() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let count = SQLLimits.nestingDepth + 2
        try fixture.engine.services.catalog.update { snapshot throws(SQLError) in
            var entry = snapshot.catalog(EngineFixture.dev.id)
            for i in 0...count {
                let query = i == 0 ? "SELECT 1 AS x" : "SELECT x + 1 AS x FROM v\(i - 1)"
                entry.databases["default"]!.views["v\(i)"] = ViewEntry(
                    name: "v\(i)", query: query, columnNames: ["x"], comment: nil, definition: "CREATE VIEW v\(i) AS \(query)",
                    creationCatalogID: EngineFixture.dev.id, creationDatabase: "default")
            }
            snapshot.catalogs[EngineFixture.dev.id] = entry
        }
        func prepares(_ i: Int) async -> Bool { (try? await fixture.engine.prepare("SELECT x FROM v\(i)", in: fixture.context())) != nil }
        #expect(await !prepares(count))
        let deepest = await Self.largest(from: 0, to: count, where: prepares)
        // Each view's text nests about seven levels: the expanded texts add up to the limit.
        #expect(deepest >= SQLLimits.nestingDepth / 10 && deepest < SQLLimits.nestingDepth / 4, "\(deepest)")
        let (_, changes) = try await fixture.run("SELECT x FROM v\(deepest)", ["sql.snapshot.mode": "now"])
        #expect(changes.map(EngineText.change) == ["+I[\(deepest + 1)]"])
        let failure = await #expect(throws: SQLError.self) {
            try await fixture.engine.prepare("SELECT x FROM v\(deepest + 1)", in: fixture.context())
        }
        #expect(failure?.exceedsLimit == true)
        #expect(failure?.message.contains("too deeply nested") == true)
        // Creating one more view on top of the deepest one is refused the same way.
        let create = await #expect(throws: SQLError.self) {
            try await fixture.engine.prepare("CREATE VIEW w AS SELECT x FROM v\(deepest + 1)", in: fixture.context())
        }
        #expect(create?.exceedsLimit == true)
    }

    /// Views whose texts each nest deeply: what each text nests adds up along the expansion, so five views of 600
    /// levels are refused (and not a million frames deep), while one of them runs.
    @Test func deepViewTextsAddUp() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let chain = String(repeating: " UNION ALL SELECT 1 AS x", count: 600)
        try fixture.engine.services.catalog.update { snapshot throws(SQLError) in
            var entry = snapshot.catalog(EngineFixture.dev.id)
            for i in 0...5 {
                let query = (i == 0 ? "SELECT 1 AS x" : "SELECT x FROM w\(i - 1)") + chain
                entry.databases["default"]!.views["w\(i)"] = ViewEntry(
                    name: "w\(i)", query: query, columnNames: ["x"], comment: nil, definition: "CREATE VIEW w\(i) AS \(query)",
                    creationCatalogID: EngineFixture.dev.id, creationDatabase: "default")
            }
            snapshot.catalogs[EngineFixture.dev.id] = entry
        }
        let (_, changes) = try await fixture.run("SELECT COUNT(*) FROM w0", ["sql.snapshot.mode": "now"])
        #expect(changes.map(EngineText.change).last == "+I[601]")
        let failure = await #expect(throws: SQLError.self) { try await fixture.engine.prepare("SELECT COUNT(*) FROM w5", in: fixture.context()) }
        #expect(failure?.message.contains("too deeply nested (limit \(SQLLimits.nestingDepth))") == true)
    }

    /// The catalog keeps a view's query printed, and the printed form nests deeper than what was written: a view is
    /// created only if it reads back, so every view that exists can be used.
    @Test func everyViewThatIsCreatedCanBeUsed() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        func view(_ n: Int) -> String { "CREATE OR REPLACE VIEW nots AS SELECT " + String(repeating: "NOT ", count: n) + "TRUE AS b" }
        func creates(_ n: Int) async -> Bool { (try? await fixture.run(view(n))) != nil }
        let deepest = await Self.largest(from: 1, to: SQLLimits.nestingDepth, where: creates)
        #expect(deepest > 100)
        _ = try await fixture.run(view(deepest))
        let (_, changes) = try await fixture.run("SELECT b FROM nots", ["sql.snapshot.mode": "now"])
        #expect(changes.map(EngineText.change) == [deepest % 2 == 0 ? "+I[TRUE]" : "+I[FALSE]"])
        let refused = await #expect(throws: SQLError.self) { _ = try await fixture.run(view(deepest + 1)) }
        #expect(refused?.exceedsLimit == true)
    }

    /// A statement set shares one budget of expansions: its INSERTs cannot multiply it.
    @Test func aStatementSetSharesTheExpansionBudget() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE VIEW d0 AS SELECT 1 AS x")
        for i in 1...11 { _ = try await fixture.run("CREATE VIEW d\(i) AS SELECT x FROM d\(i - 1) UNION ALL SELECT x FROM d\(i - 1)") }
        _ = try await fixture.run("CREATE TABLE sink (x INT) WITH ('connector' = 'blackhole')")
        // One INSERT expands 4,094 views; three of them pass 10,000 together.
        let one = "INSERT INTO sink SELECT x FROM d11;"
        _ = try await fixture.engine.prepare("EXECUTE STATEMENT SET BEGIN \(one) \(one) END", in: fixture.context())
        let failure = await #expect(throws: SQLError.self) {
            try await fixture.engine.prepare("EXECUTE STATEMENT SET BEGIN \(one) \(one) \(one) END", in: fixture.context())
        }
        #expect(failure?.message.contains("expands too many views") == true)
    }

    @Test func commonTableExpressionChainsStopAtTheLimit() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        func sql(_ n: Int) -> String {
            "WITH c0 AS (SELECT 1 AS x)" + (0..<n).map { ", c\($0 + 1) AS (SELECT x + 1 AS x FROM c\($0))" }.joined() + " SELECT x FROM c\(n)"
        }
        func prepares(_ n: Int) async -> Bool { (try? await fixture.engine.prepare(sql(n), in: fixture.context())) != nil }
        let deepest = await Self.largest(from: 0, to: 5000, where: prepares)
        #expect(deepest >= SQLLimits.nestingDepth / 10, "\(deepest)")
        let (_, changes) = try await fixture.run(sql(deepest), ["sql.snapshot.mode": "now"])
        #expect(changes.map(EngineText.change) == ["+I[\(deepest + 1)]"])
        let failure = await #expect(throws: SQLError.self) { try await fixture.engine.prepare(sql(deepest + 1), in: fixture.context()) }
        #expect(failure?.exceedsLimit == true)
    }

    /// A view that uses the view below it twice doubles the plan at each level: the expansions are counted, so such
    /// a chain is refused (when a view is created, its query is analyzed) long before it takes time or memory.
    @Test func doublingViewsAreRefusedQuickly() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        _ = try await fixture.run("CREATE VIEW d0 AS SELECT 1 AS x")
        var refused: SQLError?
        var level = 1
        let started = ContinuousClock.now
        while level <= 40 {
            do {
                _ = try await fixture.run("CREATE VIEW d\(level) AS SELECT x FROM d\(level - 1) UNION ALL SELECT x FROM d\(level - 1)")
            } catch let error as SQLError {
                refused = error
                break
            }
            level += 1
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        // Creating d(n) expands 2 + 4 + … + 2^n views: past the budget at n = 13.
        #expect((1 << (level + 1)) - 2 > SQLLimits.expansions && (1 << level) - 2 <= SQLLimits.expansions, "refused at level \(level)")
        #expect(refused?.exceedsLimit == true)
        #expect(refused?.message.contains("expands too many views and common table expressions (limit \(SQLLimits.expansions))") == true)
        // Within the budget, the same views work.
        let (_, changes) = try await fixture.run("SELECT COUNT(*) FROM d10", ["sql.snapshot.mode": "now"])
        #expect(changes.map(EngineText.change).last == "+I[1024]")
    }
}
