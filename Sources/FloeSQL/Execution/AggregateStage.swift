// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// What a batch does to its groups, one entry per input row: the row's dense group index and sign, and
/// (streaming) the group's row count after the row, whether the row emptied the group and whether the group had an
/// emitted result before the row.
struct AggregationPlan {
    var groups: [Int32]
    var signs: [Int64]
    var rowsAfter: [Int64] = []
    var deleted: [Bool] = []
    var hadEmitted: [Bool] = []
    var count: Int { groups.count }
}

/// GROUP BY (and DISTINCT): keeps per-group accumulators. Streaming, it emits +I for a new group, -U/+U when a
/// group's result changes and -D when a group empties, after every input row, as Flink's GroupAggregate does.
/// Batch (`final`), it emits each group's final row once at the end (one row even for an empty global aggregate).
///
/// It works a batch at a time on the typed columns: keys map to dense group indices (an integer hash table for a
/// single integer key), each aggregate call updates typed per-group arrays in one pass over the batch, and the
/// output batch is built column by column.
final class AggregateStage: Stage {
    let keyCount: Int
    let calls: [AggregateCall]
    let final: Bool
    let outputTypes: [SQLType]
    private var state: GroupedAggregation

    init(keyCount: Int, calls: [AggregateCall], final: Bool, outputTypes: [SQLType]) {
        self.keyCount = keyCount
        self.calls = calls
        self.final = final
        self.outputTypes = outputTypes
        state = GroupedAggregation(keyCount: keyCount, calls: calls, final: final, outputTypes: outputTypes)
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        guard batch.count > 0, let output = state.process(batch) else { return [] }
        return [output]
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        state.save(into: &writer)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        try state.restore(from: &reader)
    }

    override func finish() throws(SQLError) -> [Batch] {
        guard final else { return [] }
        let rows = state.finalRows()
        return rows.isEmpty ? [] : [Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: outputTypes)]
    }
}

/// The groups and aggregate states of an `AggregateStage`. Group indices are dense and stable: an emptied group's
/// index goes to a free list (streaming only, so in batch mode indices are in first-seen order).
struct GroupedAggregation {
    let keyCount: Int
    let final: Bool
    let outputTypes: [SQLType]
    private var index = GroupIndex()
    private var calls: [AggregateCallState]
    /// Each group's key (streaming: as the row that last updated it spelled it; batch: as first seen).
    private var keys: [GroupKey] = []
    private var rowCounts: [Int64] = []
    private var hasEmitted: [Bool] = []
    private var live: [Bool] = []
    private var freeGroups: [Int32] = []
    /// COUNT(DISTINCT x) calls that count the same `x` (under different filters) and share one table.
    private var distinctShares: [DistinctShare] = []

    /// Calls `calls` (lane `n` of `table` is call `calls[n]`) counting distinct values of input column `argument`.
    private struct DistinctShare {
        let argument: Int
        let calls: [Int]
        var table: GroupValueLanes
    }

    init(keyCount: Int, calls: [AggregateCall], final: Bool, outputTypes: [SQLType]) {
        self.keyCount = keyCount
        self.final = final
        self.outputTypes = outputTypes
        self.calls = calls.enumerated().map { offset, call in
            let position = keyCount + offset
            return AggregateCallState(call, output: position < outputTypes.count ? outputTypes[position].physical : .value)
        }
        var byArgument: [Int: [Int]] = [:]
        for (c, state) in self.calls.enumerated() {
            if case .integerDistinctCount = state.strategy, let argument = state.call.argument { byArgument[argument, default: []].append(c) }
        }
        distinctShares = byArgument.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }.map {
            DistinctShare(argument: $0.key, calls: $0.value, table: GroupValueLanes(lanes: $0.value.count))
        }
    }

    /// Applies a batch to the shared distinct tables; per call of a share, how each row changed its group's number of
    /// distinct values. Every lane a row counts in is updated in one visit to the row's slot.
    private mutating func applyDistinctShares(_ batch: Batch, _ plan: AggregationPlan, streaming: Bool) -> [Int: [Int8]] {
        var deltas: [Int: [Int8]] = [:]
        for s in distinctShares.indices {
            // (No copy of the share is kept while its table changes: it would make the table copy itself.)
            let shareCalls = distinctShares[s].calls
            let column = batch.columns[distinctShares[s].argument]
            let nulls = column.nullMask
            let data: [Int64]? = if case .int(let integers) = column.data { integers } else { nil }
            let passes = shareCalls.map { c in calls[c].call.filter.map { AggregateCallState.passes(batch.columns[$0]) } }
            var laneDeltas = [[Int8]](repeating: [Int8](repeating: 0, count: plan.count), count: shareCalls.count)
            var lanes: [Int] = []
            lanes.reserveCapacity(shareCalls.count)
            for i in 0..<plan.count {
                let group = plan.groups[i]
                if !(nulls?[i] ?? false), let value = data?[i] ?? column.value(at: i).int {
                    lanes.removeAll(keepingCapacity: true)
                    for lane in passes.indices where passes[lane]?[i] ?? true { lanes.append(lane) }
                    if !lanes.isEmpty {
                        distinctShares[s].table.add(group, value, lanes: lanes, plan.signs[i]) { lane, change in laneDeltas[lane][i] = change }
                    }
                }
                // A group that empties forgets its values (retractions of rows never added can leave some).
                if streaming, plan.deleted[i] { distinctShares[s].table.removeGroup(group) }
            }
            for (lane, c) in shareCalls.enumerated() { deltas[c] = laneDeltas[lane] }
        }
        return deltas
    }

    private var groupCount: Int { rowCounts.count }

    private mutating func newGroup(_ key: GroupKey) -> Int32 {
        if let reused = freeGroups.popLast() {
            let group = Int(reused)
            keys[group] = key
            rowCounts[group] = 0
            hasEmitted[group] = false
            live[group] = true
            for c in calls.indices { calls[c].reset(group) }
            return reused
        }
        keys.append(key)
        rowCounts.append(0)
        hasEmitted.append(false)
        live.append(true)
        for c in calls.indices { calls[c].addGroup() }
        return Int32(groupCount - 1)
    }

    private mutating func group(for key: GroupKey) -> Int32 {
        let existing = index.group(of: key)
        if existing >= 0 { return existing }
        let group = newGroup(key)
        index.insert(key, group: group)
        return group
    }

    /// How the key columns of a batch were read.
    private enum BatchKeys {
        case global
        /// One integer key column (NULL where `nulls` says so).
        case integers([Int64], nulls: [Bool]?)
        /// Any other key: each row's key.
        case boxed([GroupKey])
    }

    /// Maps every row of `batch` to its group, creating groups for new keys.
    private mutating func assignGroups(_ batch: Batch) -> ([Int32], BatchKeys) {
        let count = batch.count
        var groups = [Int32](repeating: 0, count: count)
        if keyCount == 0 {
            let group = group(for: .global)
            for i in 0..<count { groups[i] = group }
            return (groups, .global)
        }
        let first = batch.columns[0]
        if keyCount == 1, case .int(let integers) = first.data {
            let nulls = first.nulls
            for i in 0..<count {
                if let nulls, nulls[i] {
                    groups[i] = group(for: .null)
                    continue
                }
                let key = integers[i]
                var (group, slot) = index.integers.find(key)
                if group < 0 {
                    group = newGroup(.integer(key))
                    index.integers.insert(key, group: group, at: slot)
                }
                groups[i] = group
            }
            return (groups, .integers(integers, nulls: nulls))
        }
        var rowKeys: [GroupKey] = []
        rowKeys.reserveCapacity(count)
        let keyColumns = batch.columns.prefix(keyCount)
        for i in 0..<count {
            let key = keyCount == 1 ? GroupKey(single: first.value(at: i)) : .row(keyColumns.map { $0.value(at: i) })
            rowKeys.append(key)
            groups[i] = group(for: key)
        }
        return (groups, .boxed(rowKeys))
    }

    /// Applies a batch; streaming, returns the changes it causes.
    mutating func process(_ batch: Batch) -> Batch? {
        let count = batch.count
        let (groups, batchKeys) = assignGroups(batch)
        var plan = AggregationPlan(groups: groups, signs: batch.kinds.map { $0.isAccumulate ? 1 : -1 })
        let streaming = !final
        var emptied: [Int32] = []
        if streaming {
            plan.rowsAfter = [Int64](repeating: 0, count: count)
            plan.deleted = [Bool](repeating: false, count: count)
            plan.hadEmitted = [Bool](repeating: false, count: count)
            for i in 0..<count {
                let group = Int(groups[i])
                let rows = rowCounts[group] + plan.signs[i]
                plan.rowsAfter[i] = rows
                plan.hadEmitted[i] = hasEmitted[group]
                if rows <= 0 {
                    // The group empties: it is forgotten, and a later row of its key starts it afresh.
                    plan.deleted[i] = true
                    rowCounts[group] = 0
                    hasEmitted[group] = false
                    emptied.append(groups[i])
                } else {
                    rowCounts[group] = rows
                    hasEmitted[group] = true
                }
            }
        } else {
            for i in 0..<count { rowCounts[Int(groups[i])] += plan.signs[i] }
        }

        var changed = streaming ? [Bool](repeating: false, count: count) : []
        var befores: [ResultColumn] = []
        var afters: [ResultColumn] = []
        let distinctDeltas = distinctShares.isEmpty ? [:] : applyDistinctShares(batch, plan, streaming: streaming)
        for c in calls.indices {
            var before = streaming ? ResultColumn(calls[c].strategy, count: count) : ResultColumn()
            var after = streaming ? ResultColumn(calls[c].strategy, count: count) : ResultColumn()
            calls[c].apply(batch, plan, streaming: streaming, changed: &changed, before: &before, after: &after, distinctDeltas: distinctDeltas[c])
            befores.append(before)
            afters.append(after)
        }
        guard streaming else { return nil }
        defer { forgetEmptied(emptied) }

        // The changes, in input row order: rows[e] is the input row, fromBefore[e] whether the change carries the
        // result before that row (-U, -D) or after it (+I, +U).
        var rows: [Int32] = []
        var fromBefore: [Bool] = []
        var kinds: [RowKind] = []
        rows.reserveCapacity(2 * count)
        fromBefore.reserveCapacity(2 * count)
        kinds.reserveCapacity(2 * count)
        for i in 0..<count {
            if plan.deleted[i] {
                if plan.hadEmitted[i] {
                    rows.append(Int32(i))
                    fromBefore.append(true)
                    kinds.append(.delete)
                }
            } else if !plan.hadEmitted[i] {
                rows.append(Int32(i))
                fromBefore.append(false)
                kinds.append(.insert)
            } else if changed[i] {
                rows.append(Int32(i))
                fromBefore.append(true)
                kinds.append(.updateBefore)
                rows.append(Int32(i))
                fromBefore.append(false)
                kinds.append(.updateAfter)
            }
        }

        var appenders = outputTypes.map { ColumnAppender($0.physical, capacity: kinds.count) }
        switch batchKeys {
        case .global:
            break
        case .integers(let integers, let nulls):
            // Equal integer keys are identical, so before and after rows carry the input row's key.
            let keys = [Int64](unsafeUninitializedCapacity: rows.count) { buffer, initialized in
                for change in 0..<rows.count { buffer.initializeElement(at: change, to: integers[Int(rows[change])]) }
                initialized = rows.count
            }
            appenders[0].appendIntegers(keys, nulls: nulls.map { mask in rows.map { mask[Int($0)] } })
        case .boxed(let rowKeys):
            // Equal keys may be spelled differently (-0.0 and 0.0, canonically equivalent strings): a before row
            // carries the key of the row that last updated the group, an after row its own.
            var change = 0
            for i in 0..<count {
                let group = Int(groups[i])
                while change < rows.count, rows[change] == Int32(i) {
                    (fromBefore[change] ? keys[group] : rowKeys[i]).append(to: &appenders)
                    change += 1
                }
                if !plan.deleted[i] { keys[group] = rowKeys[i] }
            }
        }
        for c in calls.indices {
            let position = keyCount + c
            guard position < appenders.count else { continue }
            AggregateCallState.appendChanges(
                rows, fromBefore, before: befores[c], after: afters[c], strategy: calls[c].strategy,
                to: &appenders[position])
        }
        guard !kinds.isEmpty else { return nil }
        return Batch(columns: appenders.map { $0.column() }, kinds: kinds)
    }

    /// Removes the groups that a batch left empty from the index and frees their indices.
    private mutating func forgetEmptied(_ emptied: [Int32]) {
        for reused in emptied {
            let group = Int(reused)
            guard live[group], rowCounts[group] == 0 else { continue }
            index.remove(keys[group])
            live[group] = false
            freeGroups.append(reused)
        }
    }

    /// Batch mode: every group's final row in first-seen order (one row for an empty global aggregate).
    mutating func finalRows() -> [Row] {
        var rows: [Row] = []
        for group in 0..<groupCount where live[group] && rowCounts[group] > 0 {
            var row = keys[group].values
            for c in calls.indices { row.append(calls[c].result(group, rows: rowCounts[group])) }
            rows.append(row)
        }
        if keyCount == 0, rows.isEmpty {
            var empty = calls.map { AggregateCallState($0.call, output: $0.output) }
            for c in empty.indices { empty[c].addGroup() }
            rows.append(empty.indices.map { empty[$0].result(0, rows: 0) })
        }
        return rows
    }

    // MARK: Checkpoints

    /// Writes the groups (keys, row counts, emitted flags, free indices) and every call's per-group state.
    func save(into writer: inout StateWriter) {
        writer.array(keys) { $0.groupKey($1) }
        writer.array(rowCounts) { $0.int($1) }
        writer.array(hasEmitted) { $0.bool($1) }
        writer.array(live) { $0.bool($1) }
        writer.array(freeGroups) { $0.int(Int64($1)) }
        // A call whose distinct values live in a shared table writes them as its own (the layout does not change).
        var shared: [Int: [(group: Int32, value: Int64, count: Int64)]] = [:]
        for share in distinctShares {
            for (lane, c) in share.calls.enumerated() { shared[c] = share.table.entries(lane: lane) }
        }
        writer.array(calls.indices) { writer, c in writer.section { calls[c].save(into: &$0, distinctEntries: shared[c]) } }
    }

    /// Restores what ``save(into:)`` wrote into an aggregation of the same calls; the key index is rebuilt.
    mutating func restore(from reader: inout StateReader) throws(SQLError) {
        keys = try reader.array { reader throws(SQLError) in try reader.groupKey() }
        rowCounts = try reader.array { reader throws(SQLError) in try reader.int() }
        hasEmitted = try reader.array { reader throws(SQLError) in try reader.bool() }
        live = try reader.array { reader throws(SQLError) in try reader.bool() }
        freeGroups = try reader.array { reader throws(SQLError) in Int32(clamping: try reader.int()) }
        let groups = keys.count
        guard rowCounts.count == groups, hasEmitted.count == groups, live.count == groups,
            freeGroups.allSatisfy({ $0 >= 0 && Int($0) < groups })
        else { throw StateReader.malformed() }
        var restored = calls
        let count = try reader.count()
        guard count == restored.count else { throw StateReader.malformed() }
        for c in restored.indices {
            try reader.section { reader throws(SQLError) in try restored[c].restore(from: &reader, groups: groups) }
        }
        // Values of calls that share a table move there.
        for s in distinctShares.indices {
            distinctShares[s].table = GroupValueLanes(lanes: distinctShares[s].calls.count)
            for (lane, c) in distinctShares[s].calls.enumerated() {
                for entry in restored[c].takeDistinctEntries() {
                    distinctShares[s].table.add(entry.group, entry.value, lanes: [lane], entry.count) { _, _ in }
                }
            }
        }
        calls = restored
        index = GroupIndex()
        for group in 0..<groups where live[group] { index.insert(keys[group], group: Int32(group)) }
    }
}

extension StateWriter {
    mutating func groupKey(_ key: GroupKey) {
        switch key {
        case .global: int(0)
        case .null: int(1)
        case .integer(let v):
            int(2)
            int(v)
        case .string(let s):
            int(3)
            string(s)
        case .row(let row):
            int(4)
            self.row(row)
        }
    }
}

extension StateReader {
    mutating func groupKey() throws(SQLError) -> GroupKey {
        switch try int() {
        case 0: return .global
        case 1: return .null
        case 2: return .integer(try int())
        case 3: return .string(try string())
        case 4: return .row(try row())
        default: throw StateReader.malformed()
        }
    }
}
