// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Normalizes an upsert changelog per key (``PlanNode/changelogNormalize(_:keys:ignoring:)``): upserts and deletes
/// by key become a proper changelog with update-befores. Streaming, changes are emitted as they come; batch, the
/// latest row of every key is emitted at the end of the input, in order of the keys' first appearance.
final class ChangelogNormalizeStage: Stage {
    let keys: [Int]
    /// A column left out of comparisons (`$rowtime`: an upsert of the same values is no change).
    let ignoring: Int?
    let final: Bool
    let types: [SQLType]
    private var latest: [[Value]: Row] = [:]
    /// Batch: keys in order of first appearance.
    private var order: [[Value]] = []
    private var seen = Set<[Value]>()

    init(keys: [Int], ignoring: Int?, final: Bool, types: [SQLType]) {
        self.keys = keys
        self.ignoring = ignoring
        self.final = final
        self.types = types
    }

    private func same(_ a: Row, _ b: Row) -> Bool {
        guard let ignoring else { return a == b }
        for index in a.indices where index != ignoring && a[index] != b[index] { return false }
        return true
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        var rows: [Row] = []
        var kinds: [RowKind] = []
        for i in 0..<batch.count {
            let row = batch.row(i)
            let key = keys.map { row[$0] }
            let previous = latest[key]
            switch batch.kinds[i] {
            case .insert, .updateAfter:
                if final {
                    if seen.insert(key).inserted { order.append(key) }
                    latest[key] = row
                    continue
                }
                if let previous {
                    if same(previous, row) { continue }
                    rows += [previous, row]
                    kinds += [.updateBefore, .updateAfter]
                } else {
                    rows.append(row)
                    kinds.append(.insert)
                }
                latest[key] = row
            case .delete:
                guard var previous else { continue }
                latest[key] = nil
                if !final {
                    // The delete happened at its own record's time.
                    if let ignoring { previous[ignoring] = row[ignoring] }
                    rows.append(previous)
                    kinds.append(.delete)
                }
            case .updateBefore:
                // Implied by the update-after that follows.
                continue
            }
        }
        return rows.isEmpty ? [] : [Batch(rows: rows, kinds: kinds, types: types)]
    }

    override func finish() throws(SQLError) -> [Batch] {
        guard final else { return [] }
        let rows = order.compactMap { latest[$0] }
        return rows.isEmpty ? [] : [Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: types)]
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        let keys = final ? order : Array(latest.keys)
        writer.array(keys) { writer, key in
            writer.row(key)
            writer.bool(latest[key] != nil)
            if let row = latest[key] { writer.row(row) }
        }
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        latest = [:]
        order = []
        seen = []
        let count = try reader.count()
        for _ in 0..<count {
            let key = try reader.row()
            if final {
                order.append(key)
                seen.insert(key)
            }
            if try reader.bool() { latest[key] = try reader.row() }
        }
    }
}
