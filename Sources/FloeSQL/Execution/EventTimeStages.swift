// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A source that computes its own watermark (a Kafka table's, per partition).
protocol WatermarkSource: AnyObject {
    /// The watermark now (event-time microseconds), nil while there is none.
    var currentWatermark: Int64? { get }
}

/// Generates a source's watermarks: after each input batch the watermark becomes the greatest value of the
/// watermark expression seen so far (NULLs ignored), and never goes back. Rows pass through unchanged.
///
/// Watermarks advance at batch boundaries; a table's log is read a record (one appended batch) at a time under a
/// watermark, so the watermark sequence, and with it which rows are late, is the same on every run over the same log.
final class WatermarkAssignerStage: Stage {
    let expression: CompiledExpression
    /// A source that computes the watermark itself (a Kafka table's per-partition `SOURCE_WATERMARK()`): then its
    /// watermark is taken after each batch instead of the expression's.
    weak var source: (any WatermarkSource)?
    private var generated = Int64.min
    private var pending = false

    init(_ expression: @escaping CompiledExpression) { self.expression = expression }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        if let source {
            if let watermark = source.currentWatermark, watermark > generated {
                generated = watermark
                pending = true
            }
            return [batch]
        }
        let column = try expression(batch)
        if case .int(let values) = column.data {
            var highest = generated
            if let nulls = column.nulls {
                for i in values.indices where !nulls[i] && values[i] > highest { highest = values[i] }
            } else {
                for value in values where value > highest { highest = value }
            }
            if highest > generated {
                generated = highest
                pending = true
            }
        }
        return [batch]
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(generated)
        writer.bool(pending)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        generated = try reader.int()
        pending = try reader.bool()
    }

    override func takeGeneratedWatermark() -> Int64? {
        guard pending else { return nil }
        pending = false
        return generated > outputWatermark ? generated : nil
    }
}

/// A window TVF: every row once per window it falls in, with `window_start`, `window_end` and `window_time` appended.
/// Rows whose time is NULL belong to no window.
final class WindowAssignStage: Stage {
    let spec: WindowSpec
    let zone: TimeZone?

    init(spec: WindowSpec) {
        self.spec = spec
        self.zone = spec.localZone.map { Temporal.zone($0) }
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        let time = batch.columns[spec.timeColumn]
        guard case .int(let instants) = time.data else { return [] }
        var sources: [Int] = []
        var starts: [Int64] = []
        var ends: [Int64] = []
        var windowTimes: [Int64] = []
        sources.reserveCapacity(batch.count)
        for i in 0..<batch.count where !time.isNull(i) {
            let local = zone.map { Temporal.local(instants[i], in: $0) } ?? instants[i]
            spec.forEachWindow(containing: local) { start, end in
                sources.append(i)
                starts.append(start)
                ends.append(end)
                let last = end - WindowSpec.windowTimeGap
                windowTimes.append(zone.map { Temporal.instant(last, in: $0) } ?? last)
            }
        }
        guard !sources.isEmpty else { return [] }
        let expanded = sources.elementsEqual(0..<batch.count) ? batch : batch.filtered(sources)
        return [
            Batch(
                columns: expanded.columns + [Column(data: .int(starts)), Column(data: .int(ends)), Column(data: .int(windowTimes))],
                kinds: expanded.kinds)
        ]
    }
}

/// A window aggregation: one final aggregation per window, keyed by the window's end. A window's rows are emitted
/// (+I, once) when the watermark reaches the window's last instant; a row arriving for a window already past that
/// point is late and dropped, as Flink's window operators drop it.
///
/// Within a window, `window_start` and `window_end` are the same for every row, so each window's aggregation groups
/// by the other keys only (a single BIGINT key, such as Nexmark's auction id, takes the integer fast path); the bounds
/// are put back into the rows when the window fires.
final class WindowAggregateStage: Stage {
    let keyCount: Int
    let calls: [AggregateCall]
    let outputTypes: [SQLType]
    /// The key columns holding the window's start and end (local wall clock for LTZ windows).
    let windowStart: Int
    let windowEnd: Int
    let zone: TimeZone?
    /// The keys a window's aggregation groups by, and the aggregates over the columns that follow them.
    private let innerKeys: [Int]
    private let innerCalls: [AggregateCall]
    private let innerTypes: [SQLType]

    /// One open window: its bounds as the rows spell them, and its aggregation.
    private struct Window {
        var start: Value
        var end: Value
        var aggregation: GroupedAggregation
    }

    private var windows: [Int64: Window] = [:]
    /// Rows dropped because their window had fired (Flink's `numLateRecordsDropped`).
    private(set) var lateRows = 0

    init(keyCount: Int, calls: [AggregateCall], outputTypes: [SQLType], windowStart: Int, windowEnd: Int, localZone: String?) {
        self.keyCount = keyCount
        self.calls = calls
        self.outputTypes = outputTypes
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.zone = localZone.map { Temporal.zone($0) }
        innerKeys = (0..<keyCount).filter { $0 != windowStart && $0 != windowEnd }
        let removed = keyCount - innerKeys.count
        innerCalls = calls.map { call in
            var shifted = call
            shifted.argument = call.argument.map { $0 - removed }
            shifted.filter = call.filter.map { $0 - removed }
            return shifted
        }
        innerTypes = innerKeys.map { outputTypes[$0] } + calls.map(\.type)
    }

    /// The instant (in watermark terms) at which the window ending at `end` fires.
    private func firingTime(_ end: Int64) -> Int64 {
        let last = end - WindowSpec.windowTimeGap
        return zone.map { Temporal.instant(last, in: $0) } ?? last
    }

    private func newAggregation() -> GroupedAggregation {
        GroupedAggregation(keyCount: innerKeys.count, calls: innerCalls, final: true, outputTypes: innerTypes)
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        let endColumn = batch.columns[windowEnd]
        guard case .int(let ends) = endColumn.data else { return [] }
        var rowsByWindow: [Int64: [Int]] = [:]
        var order: [Int64] = []
        for i in 0..<batch.count {
            // Window aggregation takes insert-only input; a retraction here would be a planning error.
            guard batch.kinds[i].isAccumulate, !endColumn.isNull(i) else { continue }
            let end = ends[i]
            if firingTime(end) <= outputWatermark {
                lateRows += 1
                continue
            }
            if rowsByWindow[end] == nil { order.append(end) }
            rowsByWindow[end, default: []].append(i)
        }
        let valueColumns = Array(batch.columns.dropFirst(keyCount))
        for end in order {
            let rows = rowsByWindow[end]!
            let part = rows.count == batch.count ? batch : batch.filtered(rows)
            if windows[end] == nil {
                let first = rows[0]
                windows[end] = Window(
                    start: batch.columns[windowStart].value(at: first), end: endColumn.value(at: first), aggregation: newAggregation())
            }
            let columns = innerKeys.map { part.columns[$0] } + (rows.count == batch.count ? valueColumns : Array(part.columns.dropFirst(keyCount)))
            _ = windows[end]!.aggregation.process(Batch(columns: columns, kinds: part.kinds))
        }
        return []
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(lateRows)
        writer.array(windows.keys.sorted()) { writer, end in
            writer.int(end)
            writer.value(windows[end]!.start)
            writer.value(windows[end]!.end)
            writer.section { windows[end]!.aggregation.save(into: &$0) }
        }
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        lateRows = try reader.count()
        windows = [:]
        let count = try reader.count()
        for _ in 0..<count {
            let end = try reader.int()
            var window = Window(start: try reader.value(), end: try reader.value(), aggregation: newAggregation())
            try reader.section { reader throws(SQLError) in try window.aggregation.restore(from: &reader) }
            windows[end] = window
        }
    }

    override func watermarkAdvanced(to watermark: Int64) throws(SQLError) -> [Batch] {
        fire { firingTime($0) <= watermark }
    }

    override func finish() throws(SQLError) -> [Batch] { fire { _ in true } }

    private func fire(_ due: (Int64) -> Bool) -> [Batch] {
        let ready = windows.keys.filter(due).sorted()
        var rows: [Row] = []
        for end in ready {
            let window = windows.removeValue(forKey: end)!
            var aggregation = window.aggregation
            for inner in aggregation.finalRows() {
                var row: [Value] = []
                row.reserveCapacity(outputTypes.count)
                var next = 0
                for key in 0..<keyCount {
                    if key == windowStart {
                        row.append(window.start)
                    } else if key == windowEnd {
                        row.append(window.end)
                    } else {
                        row.append(inner[next])
                        next += 1
                    }
                }
                row.append(contentsOf: inner[next...])
                rows.append(row)
            }
        }
        return rows.isEmpty ? [] : [Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: outputTypes)]
    }
}
