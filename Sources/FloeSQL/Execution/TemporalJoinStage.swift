// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// An event-time temporal join (``TemporalJoinSpec``), as Flink's rowtime temporal join runs it.
///
/// The right input is an upsert table's changelog: every upsert (+I, +U) starts a version of its key's row at the row's
/// time, every delete (-D) ends it at its time (update-befores are implied by the update-afters). Left rows wait until
/// the watermark (the lesser of both inputs') passes their time; then, in time order, each joins the version of its
/// key valid at its time — the latest one that started at or before it, unless a delete ended it — or, in a LEFT JOIN,
/// is padded with NULLs. Versions that no waiting or future on-time row can see any more are dropped.
final class TemporalJoinStage: Stage {
    let spec: TemporalJoinSpec
    /// The whole join condition (the version found by primary key must also satisfy its other parts).
    let condition: CompiledExpression
    /// The condition evaluated on the row pair directly, when it is simple enough.
    var conditionPredicate: JoinPredicate?
    private let types: [SQLType]

    /// Left rows waiting for the watermark, by time.
    private var pending: [Int64: [Row]] = [:]
    private var due = DueTimes()
    /// Per primary key, its versions in time order: a row from its time on, or nil for a delete.
    private var versions: [[Value]: [(time: Int64, row: Row?)]] = [:]
    /// Keys with more than one version: the ones pruning may shorten.
    private var prunable = Set<[Value]>()

    init(spec: TemporalJoinSpec, condition: @escaping CompiledExpression) {
        self.spec = spec
        self.condition = condition
        types = spec.leftTypes + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left) }
    }

    override var inputCount: Int { 2 }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        var output: [Row] = []
        let padding = Array(repeating: Value.null, count: spec.rightTypes.count)
        for i in 0..<batch.count {
            let row = batch.row(i)
            if slot == 0 {
                guard batch.kinds[i].isAccumulate else { continue }
                guard case .int(let time) = row[spec.leftTime] else {
                    if spec.kind == .left { output.append(row + padding) }
                    continue
                }
                if pending[time] == nil {
                    pending[time] = [row]
                    due.push(time: time, partition: 0)
                } else {
                    pending[time]!.append(row)
                }
            } else {
                guard batch.kinds[i] != .updateBefore, case .int(let time) = row[spec.rightTime] else { continue }
                let key = spec.rightKey.map { row[$0] }
                let version = (time: time, row: batch.kinds[i] == .delete ? nil : Optional(row))
                // Versions normally arrive in time order; an out-of-order one goes to its place.
                if let last = versions[key]?.last, last.time > time {
                    let index = versions[key]!.firstIndex { $0.time > time } ?? versions[key]!.count
                    versions[key]!.insert(version, at: index)
                } else {
                    versions[key, default: []].append(version)
                }
                if versions[key]!.count > 1 { prunable.insert(key) }
            }
        }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: types)]
    }

    override func watermarkAdvanced(to watermark: Int64) throws(SQLError) -> [Batch] {
        var output: [Row] = []
        let padding = Array(repeating: Value.null, count: spec.rightTypes.count)
        while let next = due.peek(), next.time <= watermark {
            due.pop()
            guard let rows = pending.removeValue(forKey: next.time) else { continue }
            for row in rows {
                let key = spec.leftKey.map { row[$0] }
                var joined = false
                if !key.contains(where: \.isNull), let list = versions[key], let version = list.last(where: { $0.time <= next.time }),
                    let partner = version.row, try matches(row, partner)
                {
                    output.append(row + partner)
                    joined = true
                }
                if !joined, spec.kind == .left { output.append(row + padding) }
            }
        }
        // Rows still to come are at or after the watermark: only the latest version at or before it stays visible.
        for key in prunable { prune(key, before: watermark) }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: types)]
    }

    private func prune(_ key: [Value], before watermark: Int64) {
        guard let visible = versions[key]?.lastIndex(where: { $0.time <= watermark }) else { return }
        if visible > 0 { versions[key]!.removeFirst(visible) }
        let list = versions[key]!
        if list.count == 1, list[0].row == nil { versions[key] = nil }
        if (versions[key]?.count ?? 0) <= 1 { prunable.remove(key) }
    }

    private func matches(_ row: Row, _ partner: Row) throws(SQLError) -> Bool {
        if let conditionPredicate { return conditionPredicate.holds(row, partner) }
        let test = try condition(Batch(rows: [row + partner], kinds: [.insert], types: types))
        guard case .bool(let flags) = test.data else { return false }
        return flags[0] && !test.isNull(0)
    }

    // MARK: Checkpoints

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.array(pending.sorted { $0.key < $1.key }) { writer, entry in
            writer.int(entry.key)
            writer.rows(entry.value)
        }
        writer.array(Array(versions)) { writer, entry in
            writer.row(entry.key)
            writer.array(entry.value) { writer, version in
                writer.int(version.time)
                writer.bool(version.row != nil)
                if let row = version.row { writer.row(row) }
            }
        }
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        pending = [:]
        due = DueTimes()
        for (time, rows) in try reader.array({ reader throws(SQLError) in (try reader.int(), try reader.rows()) }) {
            pending[time] = rows
            due.push(time: time, partition: 0)
        }
        versions = [:]
        prunable = []
        let count = try reader.count()
        for _ in 0..<count {
            let key = try reader.row()
            let list = try reader.array { reader throws(SQLError) in
                let time = try reader.int()
                return (time, try reader.bool() ? try reader.row() : nil)
            }
            versions[key] = list
            if list.count > 1 { prunable.insert(key) }
        }
    }
}
