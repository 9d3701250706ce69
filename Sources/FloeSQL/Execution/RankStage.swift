// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

extension Array where Element == SortKey {
    /// Whether `a` comes before `b` under these keys (NULLs placed as each key says; equal rows do not).
    func orders(_ a: Row, before b: Row) -> Bool {
        for key in self {
            let (x, y) = (a[key.column], b[key.column])
            if x.isNull != y.isNull { return x.isNull == key.nullsFirst }
            let c = Value.compare(x, y)
            if c != 0 { return key.ascending ? c < 0 : c > 0 }
        }
        return false
    }
}

/// `ROW_NUMBER() OVER (PARTITION BY … ORDER BY …)` with an optional `rn <= N` (Flink's Top-N and deduplication):
/// every output row is an input row followed by its row number within its partition. Streaming, each partition keeps
/// its rows in order; after every input row, its partition compares its new top rows with the ones emitted, row
/// number by row number: a changed position retracts its old row (-U) and emits its new one (+U); a new position is
/// +I, a vanished one -D. With insert-only input and a limit, rows past the limit can never come back and are not
/// kept. Batch (`final`): each partition's rows are numbered once at the end.
final class RankStage: Stage {
    let partitionKeys: [Int]
    let sortKeys: [SortKey]
    let limit: Int?
    let insertOnlyInput: Bool
    let final: Bool
    let outputTypes: [SQLType]

    /// One partition: its rows in rank order and the rows last emitted for it (position i has row number i + 1).
    private final class Partition {
        var rows: [Row] = []
        var emitted: [Row] = []
    }

    private var partitions: [[Value]: Partition] = [:]
    /// Batch mode: the partitions in order of first appearance (the output order).
    private var order: [[Value]] = []

    init(partitionKeys: [Int], sortKeys: [SortKey], limit: Int?, insertOnlyInput: Bool, final: Bool, outputTypes: [SQLType]) {
        self.partitionKeys = partitionKeys
        self.sortKeys = sortKeys
        self.limit = limit
        self.insertOnlyInput = insertOnlyInput
        self.final = final
        self.outputTypes = outputTypes
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        let keys = final ? order : Array(partitions.keys)
        writer.array(keys) { writer, key in
            writer.row(key)
            writer.rows(partitions[key]?.rows ?? [])
            writer.rows(partitions[key]?.emitted ?? [])
        }
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        partitions = [:]
        order = []
        let count = try reader.count()
        for _ in 0..<count {
            let key = try reader.row()
            let partition = Partition()
            partition.rows = try reader.rows()
            partition.emitted = try reader.rows()
            if final { order.append(key) }
            partitions[key] = partition
        }
    }

    /// Whether `a` ranks before `b`.
    private func precedes(_ a: Row, _ b: Row) -> Bool { sortKeys.orders(a, before: b) }

    /// The position after every row that does not rank after `row` (ties keep arrival order).
    private func insertionPoint(_ row: Row, in rows: [Row]) -> Int {
        var low = 0
        var high = rows.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(row, rows[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        var rows: [Row] = []
        var kinds: [RowKind] = []
        for i in 0..<batch.count {
            let row = batch.row(i)
            let key = partitionKeys.map { row[$0] }
            let partition: Partition
            if let existing = partitions[key] {
                partition = existing
            } else {
                partition = Partition()
                partitions[key] = partition
                if final { order.append(key) }
            }
            if batch.kinds[i].isAccumulate {
                let position = insertionPoint(row, in: partition.rows)
                if !final, insertOnlyInput, let limit, position >= limit { continue }
                partition.rows.insert(row, at: position)
                if !final, insertOnlyInput, let limit, partition.rows.count > limit { partition.rows.removeLast() }
            } else if let index = partition.rows.lastIndex(of: row) {
                partition.rows.remove(at: index)
            } else {
                continue
            }
            guard !final else { continue }
            // The changes after every input row, so that the changelog does not depend on how rows were batched.
            emitChanges(partition, into: &rows, &kinds)
            if partition.rows.isEmpty { partitions[key] = nil }
        }
        return rows.isEmpty ? [] : [Batch(rows: rows, kinds: kinds, types: outputTypes)]
    }

    private func emitChanges(_ partition: Partition, into rows: inout [Row], _ kinds: inout [RowKind]) {
        let top = Array(partition.rows.prefix(limit ?? partition.rows.count))
        let old = partition.emitted
        for position in 0..<max(old.count, top.count) {
            if position < old.count, position < top.count, old[position] == top[position] { continue }
            let number = Value.int(Int64(position + 1))
            if position < old.count {
                rows.append(old[position] + [number])
                kinds.append(position < top.count ? .updateBefore : .delete)
            }
            if position < top.count {
                rows.append(top[position] + [number])
                kinds.append(position < old.count ? .updateAfter : .insert)
            }
        }
        partition.emitted = top
    }

    override func finish() throws(SQLError) -> [Batch] {
        guard final else { return [] }
        var rows: [Row] = []
        for key in order {
            guard let partition = partitions[key] else { continue }
            for (position, row) in partition.rows.prefix(limit ?? partition.rows.count).enumerated() {
                rows.append(row + [.int(Int64(position + 1))])
            }
        }
        return rows.isEmpty ? [] : [Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: outputTypes)]
    }
}
