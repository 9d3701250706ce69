// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// When a window fires: once the watermark reaches the window's last instant (`window_end` less 1 ms; LTZ windows'
/// ends are local wall-clock times in `zone`).
struct WindowFiring {
    let zone: TimeZone?

    init(localZone: String?) { zone = localZone.map { Temporal.zone($0) } }

    func time(_ end: Int64) -> Int64 {
        let last = end - WindowSpec.windowTimeGap
        return zone.map { Temporal.instant(last, in: $0) } ?? last
    }
}

/// Window Top-N and window deduplication: `ROW_NUMBER() OVER (PARTITION BY window_start, window_end, … ORDER BY …)`
/// over windowed rows (a window TVF or a window aggregation). Each window keeps, per partition, its rows in rank order
/// (ties in arrival order) — only the top `limit` of them when there is a limit; when the window fires, they are
/// numbered and emitted once: append-only, like Flink's WindowRank. Rows of a window that fired are late and dropped.
final class WindowRankStage: Stage {
    let partitionKeys: [Int]
    let sortKeys: [SortKey]
    let limit: Int?
    let windowEnd: Int
    let firing: WindowFiring
    let outputTypes: [SQLType]

    /// One open window: its partitions in order of first appearance, each with its ranked rows.
    private struct WindowRows {
        var order: [[Value]] = []
        var partitions: [[Value]: [Row]] = [:]
    }

    private var windows: [Int64: WindowRows] = [:]
    private(set) var lateRows: Int64 = 0

    init(partitionKeys: [Int], sortKeys: [SortKey], limit: Int?, windowEnd: Int, localZone: String?, outputTypes: [SQLType]) {
        self.partitionKeys = partitionKeys
        self.sortKeys = sortKeys
        self.limit = limit
        self.windowEnd = windowEnd
        self.firing = WindowFiring(localZone: localZone)
        self.outputTypes = outputTypes
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        for i in 0..<batch.count where batch.kinds[i].isAccumulate {
            let row = batch.row(i)
            guard case .int(let end) = row[windowEnd] else { continue }
            guard firing.time(end) > outputWatermark else {
                lateRows += 1
                continue
            }
            add(row, toWindow: end)
        }
        return []
    }

    private func add(_ row: Row, toWindow end: Int64) {
        let key = partitionKeys.map { row[$0] }
        var window = windows.removeValue(forKey: end) ?? WindowRows()
        var rows = window.partitions.removeValue(forKey: key) ?? []
        if rows.isEmpty { window.order.append(key) }
        // After every row that does not rank after this one: ties keep arrival order.
        var low = 0
        var high = rows.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(row, rows[middle]) { high = middle } else { low = middle + 1 }
        }
        if limit.map({ low < $0 }) ?? true {
            rows.insert(row, at: low)
            if let limit, rows.count > limit { rows.removeLast() }
        }
        window.partitions[key] = rows
        windows[end] = window
    }

    override func watermarkAdvanced(to watermark: Int64) throws(SQLError) -> [Batch] { fire { firing.time($0) <= watermark } }

    override func finish() throws(SQLError) -> [Batch] { fire { _ in true } }

    private func precedes(_ a: Row, _ b: Row) -> Bool { sortKeys.orders(a, before: b) }

    private func fire(_ due: (Int64) -> Bool) -> [Batch] {
        var output: [Row] = []
        for end in windows.keys.filter(due).sorted() {
            let window = windows.removeValue(forKey: end)!
            for key in window.order {
                for (position, row) in (window.partitions[key] ?? []).enumerated() { output.append(row + [.int(Int64(position + 1))]) }
            }
        }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: outputTypes)]
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(lateRows)
        writer.array(windows.keys.sorted()) { writer, end in
            writer.int(end)
            let window = windows[end]!
            writer.rows(window.order.flatMap { window.partitions[$0] ?? [] })
        }
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        lateRows = try reader.int()
        windows = [:]
        // The saved rows are in rank order per partition: adding them again rebuilds the same window.
        for (end, rows) in try reader.array({ reader throws(SQLError) in (try reader.int(), try reader.rows()) }) {
            for row in rows { add(row, toWindow: end) }
        }
    }
}

/// A window join: two windowed inputs joined on equal `window_start` and `window_end` (and the rest of the condition).
/// Both sides' rows wait in their window; when it fires, its rows are joined (hashing the equality keys) and emitted
/// once — inner matches, and for outer joins the rows of the padded side's other side that matched nothing — then the
/// window is forgotten: append-only, like Flink's WindowJoin. Rows of a window that fired are late and dropped.
final class WindowJoinStage: Stage {
    let spec: WindowJoinSpec
    let keys: JoinKeys
    let residual: CompiledExpression?
    let firing: WindowFiring
    private let types: [SQLType]
    private var left: [Int64: [Row]] = [:]
    private var right: [Int64: [Row]] = [:]
    private(set) var lateRows: Int64 = 0

    init(spec: WindowJoinSpec, keys: JoinKeys, residual: CompiledExpression?) {
        self.spec = spec
        self.keys = keys
        self.residual = residual
        firing = WindowFiring(localZone: spec.localZone)
        types =
            spec.leftTypes.map { $0.withNullable($0.nullable || spec.kind == .right || spec.kind == .full) }
            + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left || spec.kind == .full) }
    }

    override var inputCount: Int { 2 }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        let endColumn = slot == 0 ? spec.leftEnd : spec.rightEnd
        for i in 0..<batch.count where batch.kinds[i].isAccumulate {
            let row = batch.row(i)
            guard case .int(let end) = row[endColumn] else { continue }
            guard firing.time(end) > outputWatermark else {
                lateRows += 1
                continue
            }
            if slot == 0 { left[end, default: []].append(row) } else { right[end, default: []].append(row) }
        }
        return []
    }

    override func watermarkAdvanced(to watermark: Int64) throws(SQLError) -> [Batch] { try fire { firing.time($0) <= watermark } }

    override func finish() throws(SQLError) -> [Batch] { try fire { _ in true } }

    private func fire(_ due: (Int64) -> Bool) throws(SQLError) -> [Batch] {
        var output: [Row] = []
        let ends = Set(left.keys.filter(due)).union(right.keys.filter(due)).sorted()
        let leftPadding = Array(repeating: Value.null, count: spec.leftTypes.count)
        let rightPadding = Array(repeating: Value.null, count: spec.rightTypes.count)
        for end in ends {
            let leftRows = left.removeValue(forKey: end) ?? []
            let rightRows = right.removeValue(forKey: end) ?? []
            var byKey: [[Value]: [Int]] = [:]
            for (index, row) in rightRows.enumerated() {
                let key = keys.right.map { row[$0] }
                if !key.contains(where: \.isNull) { byKey[key, default: []].append(index) }
            }
            var rightMatched = Array(repeating: false, count: rightRows.count)
            for row in leftRows {
                let key = keys.left.map { row[$0] }
                var matched = false
                if !key.contains(where: \.isNull), let candidates = byKey[key] {
                    let pairs = candidates.map { row + rightRows[$0] }
                    let passing = try passes(pairs)
                    for (n, index) in candidates.enumerated() where passing[n] {
                        output.append(pairs[n])
                        rightMatched[index] = true
                        matched = true
                    }
                }
                if !matched, spec.kind == .left || spec.kind == .full { output.append(row + rightPadding) }
            }
            if spec.kind == .right || spec.kind == .full {
                for (index, row) in rightRows.enumerated() where !rightMatched[index] { output.append(leftPadding + row) }
            }
        }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: types)]
    }

    private func passes(_ pairs: [Row]) throws(SQLError) -> [Bool] {
        guard let residual, !pairs.isEmpty else { return Array(repeating: true, count: pairs.count) }
        let test = try residual(Batch(rows: pairs, kinds: Array(repeating: .insert, count: pairs.count), types: types))
        guard case .bool(let flags) = test.data else { return Array(repeating: false, count: pairs.count) }
        return pairs.indices.map { flags[$0] && !test.isNull($0) }
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(lateRows)
        for side in [left, right] {
            writer.array(side.keys.sorted()) { writer, end in
                writer.int(end)
                writer.rows(side[end]!)
            }
        }
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        lateRows = try reader.int()
        left = [:]
        right = [:]
        for (end, rows) in try reader.array({ reader throws(SQLError) in (try reader.int(), try reader.rows()) }) { left[end] = rows }
        for (end, rows) in try reader.array({ reader throws(SQLError) in (try reader.int(), try reader.rows()) }) { right[end] = rows }
    }
}
