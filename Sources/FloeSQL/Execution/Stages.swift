// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

extension RowKind {
    /// Whether the row adds to the result (+I, +U) rather than retracting from it (-U, -D).
    var isAccumulate: Bool { self == .insert || self == .updateAfter }
}

/// One operator of a running dataflow: it consumes changelog batches from its inputs (numbered slots) and
/// produces changelog batches for its parent.
class Stage {
    weak var parent: Stage?
    /// Further consumers of a stage shared by several parents (a source read once for a statement set's INSERTs).
    var sharedWith: [SharedConsumer] = []
    /// For a root of a dataflow, which of its outputs the stage's batches go to.
    var outputIndex: Int?
    /// The input in slot 0 (the stages own their inputs; parents are weak).
    var firstInput: Stage?
    /// Inputs in other slots.
    var otherInputs: [Stage] = []
    var slot = 0
    private(set) var finishedInputs = Set<Int>()
    var inputCount: Int { 1 }
    /// The latest watermark of each input slot (event-time microseconds; `Int64.min` before the first).
    private var inputWatermarks: [Int: Int64] = [:]
    /// The watermark this stage last advanced to (its inputs' combined watermark), forwarded to its parent less
    /// ``watermarkDelay``.
    private(set) var outputWatermark = Int64.min {
        didSet { watermarkCell?.value = outputWatermark }
    }
    /// Where the stage's expressions read its watermark (`CURRENT_WATERMARK`).
    var watermarkCell: WatermarkCell?

    /// Processes one input batch.
    func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] { [batch] }

    /// Called when input `slot` ends; returns what the stage emits at that point.
    func inputFinished(_ slot: Int) throws(SQLError) -> [Batch] {
        finishedInputs.insert(slot)
        return finishedInputs.count == inputCount ? try finish() : []
    }

    var isFinished: Bool { finishedInputs.count == inputCount }

    /// Called once every input ended.
    func finish() throws(SQLError) -> [Batch] { [] }

    /// Whether the stage needs no more input (a satisfied LIMIT).
    var isSatisfied: Bool { false }

    // MARK: Event time

    /// Takes a watermark from input `slot`. The stage's own watermark is the least of its inputs' latest ones; when
    /// that advances, ``watermarkAdvanced(to:)`` emits what the advance completes (fired windows) and the new watermark
    /// is returned for forwarding, after those rows.
    func receiveWatermark(_ watermark: Int64, from slot: Int) throws(SQLError) -> (batches: [Batch], forward: Int64?) {
        inputWatermarks[slot] = max(inputWatermarks[slot] ?? .min, watermark)
        return try advanceWatermark(to: combinedWatermark)
    }

    /// The least latest watermark of the inputs that are not idle; when every input is idle, the greatest (as Flink's
    /// watermark valve flushes the maximum when its last active channel goes idle).
    private var combinedWatermark: Int64 {
        if idleInputs.count == inputCount { return (0..<inputCount).map { inputWatermarks[$0] ?? .min }.max() ?? .min }
        var combined = Int64.max
        for input in 0..<inputCount where !idleInputs.contains(input) { combined = min(combined, inputWatermarks[input] ?? .min) }
        return combined
    }

    /// Inputs marked idle: they do not hold back the stage's watermark until they produce again.
    private var idleInputs = Set<Int>()
    /// Whether every input is idle (the stage is idle to its parent).
    private(set) var isIdle = false

    /// Marks input `slot` idle or active again. Returns what the watermark advance this allows emits, the watermark to
    /// forward, and the stage's own new idleness when it changed.
    func inputIdleness(_ idle: Bool, from slot: Int) throws(SQLError) -> (batches: [Batch], forward: Int64?, changed: Bool?) {
        if idle { idleInputs.insert(slot) } else { idleInputs.remove(slot) }
        let nowIdle = idleInputs.count == inputCount
        let changed: Bool? = nowIdle != isIdle ? nowIdle : nil
        isIdle = nowIdle
        let (batches, forward) = try advanceWatermark(to: combinedWatermark)
        return (batches, forward, changed)
    }

    /// Raises the stage's watermark to `watermark` if that is an advance.
    final func advanceWatermark(to watermark: Int64) throws(SQLError) -> (batches: [Batch], forward: Int64?) {
        guard watermark > outputWatermark else { return ([], nil) }
        let batches = try watermarkAdvanced(to: watermark)
        outputWatermark = watermark
        let delay = watermarkDelay
        guard delay != 0, watermark != .max else { return (batches, watermark) }
        let (delayed, overflow) = watermark.subtractingReportingOverflow(delay)
        return (batches, overflow ? nil : delayed)
    }

    /// How far the watermark this stage forwards lags its own (an interval join's output rows can be that much older
    /// than its input watermark).
    var watermarkDelay: Int64 { 0 }

    /// What the stage emits when its watermark advances (before the watermark is forwarded).
    func watermarkAdvanced(to watermark: Int64) throws(SQLError) -> [Batch] { [] }

    /// A watermark the stage generated itself while processing input (a watermark assigner), taken once.
    func takeGeneratedWatermark() -> Int64? { nil }

    // MARK: Checkpoints

    /// Writes the stage's state for a checkpoint: here the watermarks and which inputs ended; stages with state of
    /// their own extend it (calling `super` first).
    func saveState(into writer: inout StateWriter) {
        writer.array(finishedInputs.sorted()) { $0.int($1) }
        writer.array(inputWatermarks.sorted { $0.key < $1.key }) { writer, entry in
            writer.int(entry.key)
            writer.int(entry.value)
        }
        writer.int(outputWatermark)
    }

    /// Restores what ``saveState(into:)`` wrote, into a stage freshly built from the same plan.
    func restoreState(from reader: inout StateReader) throws(SQLError) {
        finishedInputs = Set(try reader.array { reader throws(SQLError) in try reader.count() })
        let watermarks = try reader.array { reader throws(SQLError) in (try reader.count(), try reader.int()) }
        inputWatermarks = Dictionary(watermarks, uniquingKeysWith: { _, last in last })
        outputWatermark = try reader.int()
    }
}

/// A further parent of a shared stage, and the input slot the stage feeds there.
struct SharedConsumer {
    weak var stage: Stage?
    var slot: Int
}

/// The current watermark of a stage, shared with its compiled expressions (`CURRENT_WATERMARK`).
final class WatermarkCell {
    var value = Int64.min
}

/// `CURRENT_WATERMARK(rowtime)`: the watermark of the operator evaluating it, NULL before the first one.
enum CurrentWatermark {
    static let name = "CURRENT_WATERMARK"
}

/// Keeps rows whose condition is TRUE.
final class FilterStage: Stage {
    let condition: CompiledExpression

    init(_ condition: @escaping CompiledExpression) { self.condition = condition }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        let result = try condition(batch)
        guard case .bool(let flags) = result.data else { return [] }
        var keep: [Int] = []
        keep.reserveCapacity(batch.count)
        if let nulls = result.nulls {
            for i in 0..<batch.count where flags[i] && !nulls[i] { keep.append(i) }
        } else {
            for i in 0..<batch.count where flags[i] { keep.append(i) }
        }
        if keep.count == batch.count { return [batch] }
        return keep.isEmpty ? [] : [batch.filtered(keep)]
    }
}

/// Computes new columns.
final class ProjectStage: Stage {
    let expressions: [CompiledExpression]

    init(_ expressions: [CompiledExpression]) { self.expressions = expressions }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        var columns: [Column] = []
        columns.reserveCapacity(expressions.count)
        for expression in expressions { columns.append(try expression(batch)) }
        return [Batch(columns: columns, kinds: batch.kinds)]
    }
}

/// Concatenates its inputs.
final class UnionStage: Stage {
    let count: Int
    init(inputs: Int) { count = inputs }
    override var inputCount: Int { count }
}

/// Passes the first `limit` inserted rows after skipping `offset`.
final class LimitStage: Stage {
    let limit: Int?
    var toSkip: Int
    var passed = 0

    init(limit: Int?, offset: Int) {
        self.limit = limit
        self.toSkip = offset
    }

    override var isSatisfied: Bool { limit.map { passed >= $0 } ?? false }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(toSkip)
        writer.int(passed)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        toSkip = try reader.count()
        passed = try reader.count()
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        var keep: [Int] = []
        for i in 0..<batch.count {
            if toSkip > 0 {
                toSkip -= 1
                continue
            }
            if let limit, passed >= limit { break }
            keep.append(i)
            passed += 1
        }
        return keep.isEmpty ? [] : [batch.filtered(keep)]
    }
}

/// Rows of a changelog as a multiset (for sorts and joins).
struct RowMultiset {
    private(set) var rows: [Row] = []

    init(rows: [Row] = []) { self.rows = rows }

    mutating func apply(_ row: Row, kind: RowKind) {
        if kind.isAccumulate {
            rows.append(row)
        } else if let index = rows.lastIndex(of: row) {
            rows.remove(at: index)
        }
    }
}

/// ORDER BY [LIMIT]: a final sort for bounded input; a Top-N with retractions for unbounded input.
final class SortStage: Stage {
    let keys: [SortKey]
    let limit: Int?
    let offset: Int
    let incremental: Bool
    let types: [SQLType]
    var state = RowMultiset()
    var emitted: [Row] = []

    init(keys: [SortKey], limit: Int?, offset: Int, incremental: Bool, types: [SQLType]) {
        self.keys = keys
        self.limit = limit
        self.offset = offset
        self.incremental = incremental
        self.types = types
    }

    func ordered(_ rows: [Row]) -> [Row] {
        let sorted = rows.enumerated().sorted { a, b in
            for key in keys {
                let (x, y) = (a.element[key.column], b.element[key.column])
                if x.isNull != y.isNull { return x.isNull == key.nullsFirst }
                let c = Value.compare(x, y)
                if c != 0 { return key.ascending ? c < 0 : c > 0 }
            }
            return a.offset < b.offset
        }.map(\.element)
        let start = min(offset, sorted.count)
        let end = limit.map { min(sorted.count, start + $0) } ?? sorted.count
        return Array(sorted[start..<end])
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        for i in 0..<batch.count { state.apply(batch.row(i), kind: batch.kinds[i]) }
        guard incremental else { return [] }
        let top = ordered(state.rows)
        var removed = RowMultiset()
        for row in emitted { removed.apply(row, kind: .insert) }
        var added: [Row] = []
        for row in top {
            if removed.rows.contains(row) { removed.apply(row, kind: .delete) } else { added.append(row) }
        }
        emitted = top
        let rows = removed.rows + added
        guard !rows.isEmpty else { return [] }
        return [
            Batch(
                rows: rows, kinds: Array(repeating: .delete, count: removed.rows.count) + Array(repeating: .insert, count: added.count), types: types)
        ]
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.rows(state.rows)
        writer.rows(emitted)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        state = RowMultiset(rows: try reader.rows())
        emitted = try reader.rows()
    }

    override func finish() throws(SQLError) -> [Batch] {
        guard !incremental else { return [] }
        let rows = ordered(state.rows)
        return rows.isEmpty ? [] : [Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: types)]
    }
}
