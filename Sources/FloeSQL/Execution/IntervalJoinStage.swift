// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// An interval join (``IntervalJoinSpec``) of two append-only inputs, as Flink's event-time interval join runs it.
///
/// Each row joins the rows of the other side kept under its key whose time lies in its range (and that pass the rest
/// of the condition). It is then kept while rows of the other side that it could join can still arrive on time: a
/// left row at `t` while the watermark is below `t - lower`, a right row at `t` while it is below `t + upper`. When
/// the watermark passes that point the row is dropped; a row of an outer side that never joined is emitted padded
/// with NULLs then (or at once, when it arrives too late to be kept). The forwarded watermark lags by the larger
/// relative bound, so that joined rows are not late for time-based operators downstream.
final class IntervalJoinStage: Stage {
    let spec: IntervalJoinSpec
    let keys: JoinKeys
    let residual: CompiledExpression?
    /// The residual evaluated on row pairs directly, when it is simple enough.
    var residualPredicate: JoinPredicate?
    private let types: [SQLType]

    /// A kept row: its time, and whether it joined a row yet.
    private struct Entry {
        var time: Int64
        var row: Row
        var matched: Bool
    }

    /// One side's kept rows by join key, with the times they expire at.
    private final class Side {
        private(set) var ids: [[Value]: Int] = [:]
        private(set) var buckets: [[Entry]] = []
        private var keysByID: [[Value]?] = []
        private var freeIDs: [Int] = []
        /// (expiry, key id) per kept row; an id may have been reused since, which only makes the cleaning look at a
        /// key whose rows have not expired.
        var expiries = DueTimes()

        func entries(_ key: [Value]) -> [Entry]? { ids[key].map { buckets[$0] } }

        func markMatched(_ key: [Value], _ indices: [Int]) {
            guard let id = ids[key] else { return }
            for index in indices { buckets[id][index].matched = true }
        }

        func keep(_ entry: Entry, key: [Value], expiry: Int64) {
            let id: Int
            if let existing = ids[key] {
                id = existing
            } else if let reused = freeIDs.popLast() {
                id = reused
                keysByID[id] = key
                ids[key] = id
            } else {
                id = buckets.count
                buckets.append([])
                keysByID.append(key)
                ids[key] = id
            }
            buckets[id].append(entry)
            expiries.push(time: expiry, partition: id)
        }

        /// Removes the rows of key `id` whose expiry (by `expiry(time)`) is at or before `watermark`; returns them.
        func expire(_ id: Int, watermark: Int64, expiry: (Int64) -> Int64) -> [Entry] {
            guard let key = keysByID[id] else { return [] }
            var expired: [Entry] = []
            buckets[id].removeAll { entry in
                guard expiry(entry.time) <= watermark else { return false }
                expired.append(entry)
                return true
            }
            if buckets[id].isEmpty {
                ids[key] = nil
                keysByID[id] = nil
                freeIDs.append(id)
            }
            return expired
        }

        var keptEntries: [(key: [Value], entries: [Entry])] {
            ids.sorted { $0.value < $1.value }.map { ($0.key, buckets[$0.value]) }
        }
    }

    private let left = Side()
    private let right = Side()

    init(spec: IntervalJoinSpec, keys: JoinKeys, residual: CompiledExpression?) {
        self.spec = spec
        self.keys = keys
        self.residual = residual
        types =
            spec.leftTypes.map { $0.withNullable($0.nullable || spec.kind == .right || spec.kind == .full) }
            + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left || spec.kind == .full) }
    }

    override var inputCount: Int { 2 }
    override var watermarkDelay: Int64 { max(0, -spec.bounds.lower, spec.bounds.upper) }

    private var leftIsOuter: Bool { spec.kind == .left || spec.kind == .full }
    private var rightIsOuter: Bool { spec.kind == .right || spec.kind == .full }
    /// When a kept row of a side expires: once no on-time row of the other side can join it.
    private func leftExpiry(_ time: Int64) -> Int64 { time &- spec.bounds.lower }
    private func rightExpiry(_ time: Int64) -> Int64 { time &+ spec.bounds.upper }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        let fromLeft = slot == 0
        let own = fromLeft ? left : right
        let other = fromLeft ? right : left
        let ownOuter = fromLeft ? leftIsOuter : rightIsOuter
        let timeColumn = fromLeft ? spec.bounds.leftTime : spec.bounds.rightTime
        let padding = Array(repeating: Value.null, count: fromLeft ? spec.rightTypes.count : spec.leftTypes.count)
        var output: [Row] = []
        for i in 0..<batch.count where batch.kinds[i].isAccumulate {
            let row = batch.row(i)
            guard case .int(let time) = row[timeColumn] else {
                if ownOuter { output.append(fromLeft ? row + padding : padding + row) }
                continue
            }
            let key = (fromLeft ? keys.left : keys.right).map { row[$0] }
            // The other side's times this row joins: leftTime - rightTime within [lower, upper].
            let (low, high) =
                fromLeft
                ? (time &- spec.bounds.upper, time &- spec.bounds.lower) : (time &+ spec.bounds.lower, time &+ spec.bounds.upper)
            var matched = false
            if !key.contains(where: \.isNull), let candidates = other.entries(key) {
                let inRange = candidates.indices.filter { candidates[$0].time >= low && candidates[$0].time <= high }
                let joined = try partners(of: row, fromLeft: fromLeft, among: inRange.map { candidates[$0].row })
                for index in joined { output.append(fromLeft ? row + candidates[inRange[index]].row : candidates[inRange[index]].row + row) }
                if fromLeft ? rightIsOuter : leftIsOuter { other.markMatched(key, joined.map { inRange[$0] }) }
                matched = !joined.isEmpty
            }
            let expiry = fromLeft ? leftExpiry(time) : rightExpiry(time)
            if expiry > outputWatermark, !key.contains(where: \.isNull) {
                own.keep(Entry(time: time, row: row, matched: matched), key: key, expiry: expiry)
            } else if !matched, ownOuter {
                output.append(fromLeft ? row + padding : padding + row)
            }
        }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: types)]
    }

    /// Which of `candidates` satisfy the rest of the condition with `row`.
    private func partners(of row: Row, fromLeft: Bool, among candidates: [Row]) throws(SQLError) -> [Int] {
        guard !candidates.isEmpty else { return [] }
        guard let residual else { return Array(candidates.indices) }
        if let residualPredicate {
            return candidates.indices.filter {
                fromLeft ? residualPredicate.holds(row, candidates[$0]) : residualPredicate.holds(candidates[$0], row)
            }
        }
        let pairs = candidates.map { fromLeft ? row + $0 : $0 + row }
        let test = try residual(Batch(rows: pairs, kinds: Array(repeating: .insert, count: pairs.count), types: types))
        guard case .bool(let flags) = test.data else { return [] }
        return candidates.indices.filter { flags[$0] && !test.isNull($0) }
    }

    override func watermarkAdvanced(to watermark: Int64) throws(SQLError) -> [Batch] {
        var output: [Row] = []
        for fromLeft in [true, false] {
            let side = fromLeft ? left : right
            let outer = fromLeft ? leftIsOuter : rightIsOuter
            let padding = Array(repeating: Value.null, count: fromLeft ? spec.rightTypes.count : spec.leftTypes.count)
            // One pass per key and advance: it removes every row of the key that expired by now.
            var cleaned = Set<Int>()
            while let next = side.expiries.peek(), next.time <= watermark {
                side.expiries.pop()
                guard cleaned.insert(next.partition).inserted else { continue }
                let expired = side.expire(next.partition, watermark: watermark, expiry: fromLeft ? leftExpiry : rightExpiry)
                guard outer else { continue }
                for entry in expired where !entry.matched { output.append(fromLeft ? entry.row + padding : padding + entry.row) }
            }
        }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: types)]
    }

    // MARK: Checkpoints

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        for side in [left, right] {
            writer.array(side.keptEntries) { writer, kept in
                writer.row(kept.key)
                writer.array(kept.entries) { writer, entry in
                    writer.int(entry.time)
                    writer.row(entry.row)
                    writer.bool(entry.matched)
                }
            }
        }
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        for (side, fromLeft) in [(left, true), (right, false)] {
            let kept = try reader.array { reader throws(SQLError) in
                (
                    try reader.row(),
                    try reader.array { reader throws(SQLError) in Entry(time: try reader.int(), row: try reader.row(), matched: try reader.bool()) }
                )
            }
            for (key, entries) in kept {
                for entry in entries { side.keep(entry, key: key, expiry: fromLeft ? leftExpiry(entry.time) : rightExpiry(entry.time)) }
            }
        }
    }
}
