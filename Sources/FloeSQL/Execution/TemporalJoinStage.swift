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
    let keys: JoinKeys
    let residual: CompiledExpression?
    private let types: [SQLType]

    /// Left rows waiting for the watermark, by time.
    private var pending: [Int64: [Row]] = [:]
    private var due = DueTimes()
    /// Per right key, its versions in time order: a row from its time on, or nil for a delete.
    private var versions: [[Value]: [(time: Int64, row: Row?)]] = [:]

    init(spec: TemporalJoinSpec, keys: JoinKeys, residual: CompiledExpression?) {
        self.spec = spec
        self.keys = keys
        self.residual = residual
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
                let key = keys.right.map { row[$0] }
                var list = versions[key] ?? []
                let version = (time: time, row: batch.kinds[i] == .delete ? nil : Optional(row))
                // Versions normally arrive in time order; an out-of-order one goes to its place.
                if let last = list.last, last.time > time {
                    let index = list.firstIndex { $0.time > time } ?? list.count
                    list.insert(version, at: index)
                } else {
                    list.append(version)
                }
                versions[key] = list
            }
        }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: types)]
    }

    override func watermarkAdvanced(to watermark: Int64) throws(SQLError) -> [Batch] {
        var output: [Row] = []
        let padding = Array(repeating: Value.null, count: spec.rightTypes.count)
        var touched = Set<[Value]>()
        while let next = due.peek(), next.time <= watermark {
            due.pop()
            guard let rows = pending.removeValue(forKey: next.time) else { continue }
            for row in rows {
                let key = keys.left.map { row[$0] }
                touched.insert(key)
                var joined = false
                if !key.contains(where: \.isNull), let list = versions[key], let version = list.last(where: { $0.time <= next.time }),
                    let partner = version.row, try matches(row + partner)
                {
                    output.append(row + partner)
                    joined = true
                }
                if !joined, spec.kind == .left { output.append(row + padding) }
            }
        }
        // Rows still to come are at or after the watermark: only the latest version at or before it stays visible.
        for key in touched { prune(key, before: watermark) }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: types)]
    }

    private func prune(_ key: [Value], before watermark: Int64) {
        guard var list = versions[key], let visible = list.lastIndex(where: { $0.time <= watermark }), visible > 0 else { return }
        list.removeFirst(visible)
        if list.count == 1, list[0].row == nil { versions[key] = nil } else { versions[key] = list }
    }

    private func matches(_ joined: Row) throws(SQLError) -> Bool {
        guard let residual else { return true }
        let test = try residual(Batch(rows: [joined], kinds: [.insert], types: types))
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
        let count = try reader.count()
        for _ in 0..<count {
            let key = try reader.row()
            versions[key] = try reader.array { reader throws(SQLError) in
                let time = try reader.int()
                return (time, try reader.bool() ? try reader.row() : nil)
            }
        }
    }
}
