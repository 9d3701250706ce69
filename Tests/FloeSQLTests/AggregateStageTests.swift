// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Testing

@testable import FloeSQL

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Drives `AggregateStage` and the row-at-a-time reference with the same batches and compares their output.
struct AggregateHarness {
    let keyTypes: [SQLType]
    let calls: [AggregateCall]
    let final: Bool
    let stage: AggregateStage
    let reference: ReferenceAggregateStage

    /// The argument columns every harness input has after its keys: INT, DOUBLE, DECIMAL(10, 2), STRING, TINYINT,
    /// FLOAT.
    static let argumentTypes: [SQLType] = [
        SQLType(.integer), SQLType(.double), SQLType(.decimal(precision: 10, scale: 2)), SQLType.string, SQLType(.tinyint),
        SQLType(.float),
    ]

    init(keyTypes: [SQLType], calls: [AggregateCall], final: Bool) {
        self.keyTypes = keyTypes
        self.calls = calls
        self.final = final
        let outputTypes = keyTypes + calls.map(\.type)
        stage = AggregateStage(keyCount: keyTypes.count, calls: calls, final: final, outputTypes: outputTypes)
        reference = ReferenceAggregateStage(keyCount: keyTypes.count, calls: calls, final: final, outputTypes: outputTypes)
    }

    var inputTypes: [SQLType] { keyTypes + Self.argumentTypes }

    /// The aggregate calls of the harness's argument columns, as the binder types them.
    static func call(_ function: AggregateFunction, _ argument: Int?, keyCount: Int, distinct: Bool = false) -> AggregateCall {
        guard let argument else {
            return AggregateCall(function: .count, argument: nil, distinct: distinct, argumentType: nil, type: SQLType(.bigint, nullable: false))
        }
        let argumentType = argumentTypes[argument]
        let type: SQLType
        switch function {
        case .count: type = SQLType(.bigint, nullable: false)
        case .sum, .sum0:
            if case .decimal(_, let s) = argumentType.kind { type = SQLType(.decimal(precision: 38, scale: s)) } else { type = argumentType }
        case .avg:
            if case .decimal(_, let s) = argumentType.kind { type = SQLType(.decimal(precision: 38, scale: max(6, s))) } else { type = argumentType }
        case .min, .max: type = argumentType
        }
        return AggregateCall(
            function: function, argument: keyCount + argument, distinct: distinct, argumentType: argumentType,
            type: function == .sum0 ? type.withNullable(false) : type)
    }

    /// Feeds one batch to both and expects the same output (column representation included).
    func feed(_ rows: [Row], _ kinds: [RowKind], boxed: Bool, _ note: String) throws {
        let batch: Batch
        if boxed {
            batch = Batch(columns: inputTypes.indices.map { c in Column(data: .value(rows.map { $0[c] })) }, kinds: kinds)
        } else {
            batch = Batch(rows: rows, kinds: kinds, types: inputTypes)
        }
        let actual = try stage.process(batch, from: 0)
        let expected = try reference.process(batch, from: 0)
        Self.expectSame(actual, expected, note)
    }

    func finish(_ note: String) throws {
        let actual = try stage.inputFinished(0)
        let expected = try reference.inputFinished(0)
        Self.expectSame(actual, expected, note)
    }

    /// Compares the UTF-8 of the texts: `String` equality would equate canonically equivalent spellings.
    static func expectSame(_ actual: [Batch], _ expected: [Batch], _ note: String) {
        let same = Array(text(actual).utf8) == Array(text(expected).utf8)
        #expect(same, "\(note)\nactual:\n\(text(actual))\nexpected:\n\(text(expected))")
    }

    static func text(_ batches: [Batch]) -> String {
        batches.map { batch in
            "kinds \(batch.kinds.map(\.rawValue))\n"
                + batch.columns.map { "\($0.data) nulls \(String(describing: $0.nulls))" }.joined(separator: "\n")
        }.joined(separator: "\n--\n")
    }
}

@Suite struct AggregateStageTests {
    /// Key and argument values, including NULLs, -0.0, NaN and canonically equivalent strings.
    static func randomValue(_ type: SQLType, _ random: inout SeededGenerator, spread: Int, forExtremes: Bool = false) -> Value {
        if Int.random(in: 0..<8, using: &random) == 0 { return .null }
        switch type.kind {
        case .bigint, .integer: return .int(Int64(Int.random(in: -spread...spread, using: &random)))
        case .tinyint: return .int(Int64(Int.random(in: -128...127, using: &random)))
        case .double, .float:
            let choices: [Double] = forExtremes ? [0.5, -1.25, 0.0, -0.0, 3, 100.75] : [0.5, -1.25, 0.0, -0.0, 3, 100.75, .nan]
            return .double(choices[Int.random(in: 0..<choices.count, using: &random)])
        case .decimal: return .decimal(Int128(Int.random(in: -99_999...99_999, using: &random)))
        default:
            let choices = ["a", "b", "\u{e9}", "e\u{301}", "f", "", "zz"]
            return .string(choices[Int.random(in: 0..<min(choices.count, spread + 2), using: &random)])
        }
    }

    static func allCalls(keyCount: Int) -> [AggregateCall] {
        typealias H = AggregateHarness
        return [
            H.call(.count, nil, keyCount: keyCount),
            H.call(.count, 0, keyCount: keyCount), H.call(.count, 3, keyCount: keyCount),
            H.call(.count, 0, keyCount: keyCount, distinct: true), H.call(.count, 3, keyCount: keyCount, distinct: true),
            H.call(.sum, 0, keyCount: keyCount), H.call(.sum0, 0, keyCount: keyCount), H.call(.avg, 0, keyCount: keyCount),
            H.call(.sum, 4, keyCount: keyCount), H.call(.avg, 4, keyCount: keyCount),
            H.call(.sum, 1, keyCount: keyCount), H.call(.sum0, 1, keyCount: keyCount), H.call(.avg, 1, keyCount: keyCount),
            H.call(.sum, 5, keyCount: keyCount), H.call(.avg, 5, keyCount: keyCount),
            H.call(.sum, 2, keyCount: keyCount), H.call(.sum0, 2, keyCount: keyCount), H.call(.avg, 2, keyCount: keyCount),
            H.call(.sum, 0, keyCount: keyCount, distinct: true), H.call(.avg, 2, keyCount: keyCount, distinct: true),
            H.call(.min, 0, keyCount: keyCount), H.call(.max, 0, keyCount: keyCount),
            H.call(.min, 3, keyCount: keyCount), H.call(.max, 3, keyCount: keyCount),
            H.call(.min, 2, keyCount: keyCount), H.call(.max, 2, keyCount: keyCount, distinct: true),
            H.call(.min, 1, keyCount: keyCount), H.call(.max, 1, keyCount: keyCount),
        ]
    }

    static let keyShapes: [[SQLType]] = [
        [], [SQLType(.bigint)], [SQLType(.integer, nullable: false)], [SQLType.string], [SQLType(.double)],
        [SQLType(.integer), SQLType.string], [SQLType(.bigint), SQLType(.bigint)],
    ]

    /// Random changelogs (inserts, updates, retractions of earlier rows and of rows never inserted) in random
    /// batches, typed or boxed, streaming and batch: the columnar stage matches the reference exactly.
    @Test(arguments: 0..<keyShapes.count)
    func matchesReferenceOnRandomChangelogs(shape: Int) throws {
        let keyTypes = Self.keyShapes[shape]
        var random = SeededGenerator(seed: UInt64(1000 + shape))
        for round in 0..<24 {
            let final = round % 4 == 3
            let every = Self.allCalls(keyCount: keyTypes.count)
            var calls = every.filter { _ in Bool.random(using: &random) }
            if calls.isEmpty { calls = [every[0]] }
            let harness = AggregateHarness(keyTypes: keyTypes, calls: calls, final: final)
            let spread = [2, 5, 40, 300][round % 4]
            var live: [Row] = []
            for step in 0..<12 {
                var rows: [Row] = []
                var kinds: [RowKind] = []
                for _ in 0..<Int.random(in: 1...200, using: &random) {
                    let choice = Int.random(in: 0..<10, using: &random)
                    if choice < 3, !live.isEmpty {
                        let row = live.remove(at: Int.random(in: 0..<live.count, using: &random))
                        rows.append(row)
                        kinds.append(Bool.random(using: &random) ? .delete : .updateBefore)
                        continue
                    }
                    var row = keyTypes.map { Self.randomValue($0, &random, spread: spread) }
                    // Arguments without NaN: the reference's MIN/MAX among NaNs depends on hash order.
                    row += AggregateHarness.argumentTypes.map { Self.randomValue($0, &random, spread: 1000, forExtremes: true) }
                    if choice == 3 {
                        rows.append(row)  // a retraction of a row never inserted
                        kinds.append(.delete)
                    } else {
                        live.append(row)
                        rows.append(row)
                        kinds.append(choice == 4 ? .updateAfter : .insert)
                    }
                }
                try harness.feed(rows, kinds, boxed: step % 3 == 2, "shape \(shape) round \(round) step \(step)")
            }
            try harness.finish("shape \(shape) round \(round) finish")
        }
    }

    /// Insert-only changelogs (what a source or a window produces): MIN and MAX told their input never retracts keep
    /// only the extreme and still match the reference, typed and boxed, streaming and batch.
    @Test(arguments: 0..<keyShapes.count)
    func insertOnlyExtremesMatchReference(shape: Int) throws {
        let keyTypes = Self.keyShapes[shape]
        var random = SeededGenerator(seed: UInt64(2000 + shape))
        let k = keyTypes.count
        let calls = [
            AggregateHarness.call(.min, 0, keyCount: k), AggregateHarness.call(.max, 0, keyCount: k), AggregateHarness.call(.max, 4, keyCount: k),
            AggregateHarness.call(.min, 3, keyCount: k), AggregateHarness.call(.max, 3, keyCount: k), AggregateHarness.call(.max, 2, keyCount: k),
            AggregateHarness.call(.min, 2, keyCount: k), AggregateHarness.call(.count, 0, keyCount: k, distinct: true),
        ].map { $0.withInsertOnlyInput(true) }
        for round in 0..<16 {
            let harness = AggregateHarness(keyTypes: keyTypes, calls: calls, final: round % 4 == 3)
            let spread = [2, 5, 40, 300][round % 4]
            for step in 0..<10 {
                // Without the decomposed spelling of "é": the reference keeps whichever spelling of the two (equal as
                // Swift strings, ordered apart by code units) came first, which no single extreme can mimic.
                let rows = (0..<Int.random(in: 1...200, using: &random)).map { _ in
                    (keyTypes.map { Self.randomValue($0, &random, spread: spread) }
                        + AggregateHarness.argumentTypes.map { Self.randomValue($0, &random, spread: 1000, forExtremes: true) })
                        .map { $0 == .string("e\u{301}") && $0.string?.unicodeScalars.count == 2 ? Value.string("d") : $0 }
                }
                try harness.feed(
                    rows, Array(repeating: .insert, count: rows.count), boxed: step % 3 == 2, "shape \(shape) round \(round) step \(step)")
            }
            try harness.finish("shape \(shape) round \(round) finish")
        }
    }

    /// Retracting every row empties each group (-D) and a re-insert of the same key starts it afresh (+I), also
    /// within one batch; group indices are reused without leaking state.
    @Test func retractionToZeroAndReinsert() throws {
        let keyTypes = [SQLType(.bigint)]
        let calls = Self.allCalls(keyCount: 1)
        for final in [false, true] {
            let harness = AggregateHarness(keyTypes: keyTypes, calls: calls, final: final)
            func row(_ key: Int64?, _ v: Int64) -> Row {
                [key.map { .int($0) } ?? .null, .int(v), .double(Double(v)), .decimal(Int128(v)), .string("s\(v)"), .int(v), .double(Double(v))]
            }
            try harness.feed([row(1, 10), row(2, 20), row(nil, 30)], [.insert, .insert, .insert], boxed: false, "insert")
            try harness.feed(
                [row(1, 10), row(1, 11), row(1, 11), row(nil, 30), row(nil, 31)],
                [.delete, .insert, .updateBefore, .delete, .insert], boxed: false, "empty and refill in one batch")
            try harness.feed([row(3, 1), row(4, 2), row(2, 20), row(5, 3)], [.insert, .insert, .delete, .insert], boxed: true, "reuse")
            try harness.feed([row(2, 5), row(9, 9)], [.insert, .delete], boxed: false, "re-insert and spurious retraction")
            try harness.finish("finish")
        }
    }

    /// Thousands of groups: the integer table grows, and deletes (backward shifts) keep every key findable.
    @Test func manyGroupsWithDeletes() throws {
        let keyTypes = [SQLType(.bigint)]
        let calls = [AggregateHarness.call(.count, nil, keyCount: 1), AggregateHarness.call(.sum, 0, keyCount: 1)]
        var random = SeededGenerator(seed: 7)
        for final in [false, true] {
            let harness = AggregateHarness(keyTypes: keyTypes, calls: calls, final: final)
            var live: [Row] = []
            for step in 0..<20 {
                var rows: [Row] = []
                var kinds: [RowKind] = []
                for _ in 0..<3000 {
                    if Int.random(in: 0..<3, using: &random) == 0, !live.isEmpty {
                        rows.append(live.swapRemoveRandom(&random))
                        kinds.append(.delete)
                    } else {
                        // Keys collide in their low bits to exercise probing.
                        let key = Int64(Int.random(in: 0..<5000, using: &random)) << 20
                        let row: Row = [.int(key), .int(Int64(Int.random(in: -9...9, using: &random))), .null, .null, .null, .null, .null]
                        live.append(row)
                        rows.append(row)
                        kinds.append(.insert)
                    }
                }
                try harness.feed(rows, kinds, boxed: false, "step \(step)")
            }
            try harness.finish("finish")
        }
    }

    @Test func integerTableMatchesDictionary() {
        var random = SeededGenerator(seed: 11)
        var table = IntegerGroupTable()
        var model: [Int64: Int32] = [:]
        for step in 0..<200_000 {
            let key = Int64(Int.random(in: -3000...3000, using: &random)) &* (step % 2 == 0 ? 1 : 1 << 40)
            let (found, slot) = table.find(key)
            #expect(found == (model[key] ?? -1))
            if found < 0 {
                let group = Int32(step)
                table.insert(key, group: group, at: slot)
                model[key] = group
            } else if Bool.random(using: &random) {
                table.remove(key)
                model[key] = nil
            }
        }
        #expect(table.count == model.count)
        for (key, group) in model { #expect(table.find(key).group == group) }
    }

    /// NULL slots of typed input columns may hold any placeholder: NULL keys still form one group, NULL arguments
    /// are skipped, and output NULLs carry the placeholders `ColumnBuilder` uses.
    @Test func nullsWithNonZeroPlaceholders() throws {
        let calls = [
            AggregateHarness.call(.count, nil, keyCount: 1), AggregateHarness.call(.sum, 0, keyCount: 1),
            AggregateHarness.call(.count, 0, keyCount: 1), AggregateHarness.call(.avg, 1, keyCount: 1),
        ]
        for final in [false, true] {
            let outputTypes = [SQLType(.bigint)] + calls.map(\.type)
            let stage = AggregateStage(keyCount: 1, calls: calls, final: final, outputTypes: outputTypes)
            let reference = ReferenceAggregateStage(keyCount: 1, calls: calls, final: final, outputTypes: outputTypes)
            let filler = Column(data: .int([0, 0, 0, 0]))
            let batch = Batch(
                columns: [
                    Column(data: .int([5, 99, 5, 42]), nulls: [false, true, false, true]),
                    Column(data: .int([1, 2, 77, 3]), nulls: [false, false, true, false]),
                    Column(data: .double([0.5, 9, 1.5, 2]), nulls: [true, false, false, false]),
                    filler, filler, filler, filler,
                ], kinds: [.insert, .insert, .insert, .updateAfter])
            AggregateHarness.expectSame(try stage.process(batch, from: 0), try reference.process(batch, from: 0), "process")
            AggregateHarness.expectSame(try stage.inputFinished(0), try reference.inputFinished(0), "finish")
        }
    }

    /// An empty global aggregate emits one row in batch mode, nothing streaming.
    @Test func emptyGlobalAggregate() throws {
        for final in [false, true] {
            let harness = AggregateHarness(keyTypes: [], calls: Self.allCalls(keyCount: 0), final: final)
            try harness.finish("empty")
        }
    }

    /// The benchmark's query keeps producing -U/+U pairs (and is far faster than 1M rows/s even in debug builds).
    @Test func groupByThroughput() throws {
        let rate = try FloeBenchmark.groupBy(rows: 200_000)
        #expect(rate > 100_000)
    }
}

extension Array {
    fileprivate mutating func swapRemoveRandom(_ random: inout SeededGenerator) -> Element {
        let index = Int.random(in: 0..<count, using: &random)
        swapAt(index, count - 1)
        return removeLast()
    }
}

/// Checkpoints written before COUNT(DISTINCT) of integers and MIN/MAX over insert-only inputs had typed state (boxed
/// accumulators, no layout marker) restore into the typed state with the same results.
@Test func aggregateStateOfTheEarlierLayoutRestores() throws {
    let bigint = SQLType(.bigint)
    let distinct = AggregateCall(function: .count, argument: 1, distinct: true, argumentType: bigint, type: SQLType(.bigint, nullable: false))
    let maximum = AggregateCall(function: .max, argument: 1, distinct: false, argumentType: bigint, type: bigint, insertOnlyInput: true)
    // Group 0 saw 5, 5, 9; group 1 saw nothing but NULLs.
    func earlierLayout(extremum: Int, emitted: [Value]) -> [UInt8] {
        var first = Accumulator()
        for value: Int64 in [5, 5, 9] { first.apply(.int(value), sign: 1, keepValues: true, extremum: extremum) }
        var writer = StateWriter()
        for _ in 0..<4 { writer.array([Int64]()) { $0.int($1) } }
        writer.array([first, Accumulator()]) { $1.save(into: &$0) }
        for _ in 0..<4 { writer.array([Int64]()) { $0.int($1) } }
        writer.array(emitted) { $0.value($1) }
        return writer.bytes
    }
    var counting = AggregateCallState(distinct, output: .int)
    var reader = StateReader(earlierLayout(extremum: 0, emitted: [.int(2), .int(0)]))
    try counting.restore(from: &reader, groups: 2)
    #expect(counting.result(0, rows: 3) == .int(2) && counting.result(1, rows: 1) == .int(0))
    var largest = AggregateCallState(maximum, output: .int)
    reader = StateReader(earlierLayout(extremum: 1, emitted: [.int(9), .null]))
    try largest.restore(from: &reader, groups: 2)
    #expect(largest.result(0, rows: 3) == .int(9) && largest.result(1, rows: 1) == .null)
    // And the current layout round-trips.
    var writer = StateWriter()
    largest.save(into: &writer)
    var again = AggregateCallState(maximum, output: .int)
    reader = StateReader(writer.bytes)
    try again.restore(from: &reader, groups: 2)
    #expect(again.result(0, rows: 3) == .int(9) && again.result(1, rows: 1) == .null)
}
