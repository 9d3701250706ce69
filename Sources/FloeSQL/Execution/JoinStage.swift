// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

extension GroupKey {
    /// The key of a join on `values` (one value as a single-column key), as ``JoinStage`` spells it.
    init(joinKey values: [Value]) {
        self = values.count == 1 ? GroupKey(single: values[0]) : .row(values)
    }

    /// Whether a part of the key is NULL (such a key joins nothing).
    var hasNull: Bool {
        switch self {
        case .null: true
        case .global, .integer, .string: false
        case .row(let values): values.contains(where: \.isNull)
        }
    }
}

/// The equality conditions of a join that can be answered by hashing, and what remains.
struct JoinKeys {
    /// Key columns of the left input.
    var left: [Int] = []
    /// Key columns of the right input (numbered within the right input).
    var right: [Int] = []
    /// The rest of the condition, over the left fields followed by the right ones.
    var residual: BoundExpression?

    /// Splits `condition` into `l = r` conjuncts between bare columns of either side with the same physical
    /// representation (hashable as they are) and the residual.
    static func of(_ condition: BoundExpression?, leftCount: Int, types: [SQLType]) -> JoinKeys {
        var keys = JoinKeys()
        guard let condition else { return keys }
        let conjuncts: [BoundExpression]
        if case .and(let parts) = condition.node { conjuncts = parts } else { conjuncts = [condition] }
        var rest: [BoundExpression] = []
        func bareColumn(_ expression: BoundExpression) -> Int? {
            if let index = expression.columnIndex { return index }
            // A widening cast between integer types keeps the value as it is.
            if case .cast(let inner, false) = expression.node, let index = inner.columnIndex, inner.type.integerRank != nil,
                expression.type.integerRank != nil
            {
                return index
            }
            return nil
        }
        for conjunct in conjuncts {
            if case .compare(.equal, let a, let b) = conjunct.node, let x = bareColumn(a), let y = bareColumn(b),
                (x < leftCount) != (y < leftCount), Self.hashCompatible(types[x], types[y])
            {
                let (l, r) = x < leftCount ? (x, y) : (y, x)
                keys.left.append(l)
                keys.right.append(r - leftCount)
            } else {
                rest.append(conjunct)
            }
        }
        switch rest.count {
        case 0: keys.residual = nil
        case 1: keys.residual = rest[0]
        default: keys.residual = BoundExpression(.and(rest), condition.type)
        }
        return keys
    }

    /// Whether equal values of the two types are equal as stored values (so that they hash alike).
    static func hashCompatible(_ a: SQLType, _ b: SQLType) -> Bool {
        if a.integerRank != nil && b.integerRank != nil { return true }
        if a.isCharacter && b.isCharacter { return true }
        return a.kind == b.kind
    }
}

/// Regular joins (inner, left, right, full) on changelog inputs. Streaming: both sides are kept in hash tables on the
/// equi-join key and every change joins against the other side; a row of an outer side remembers how many partners
/// it has, so that its NULL-padded row is retracted when the first partner arrives and emitted again when the last one
/// goes. Batch (`final`): both sides are kept and joined once at the end.
///
/// Kept rows live in a `RowStore` per side (typed columns, no allocation per row), and joined rows are appended to
/// the output columns directly from the input batch and the store.
final class JoinStage: Stage {
    /// A kept row (its slot in the side's store) and how many rows of the other side it joins with.
    private struct Entry {
        var slot: Int32
        var partners: Int
    }

    /// One side's rows by join key (a reference, so that the tables are changed in place).
    private final class Side {
        let store: RowStore
        var buckets: [GroupKey: [Entry]] = [:]
        /// Batch mode: the keys in order of first insertion (the output order of unmatched right rows). Streaming
        /// keeps no order, and forgets a key whose last row goes.
        var order: [GroupKey] = []
        let keepsOrder: Bool

        init(types: [SQLType], live: [Bool]?, keepsOrder: Bool) {
            store = RowStore(types: types, live: live)
            self.keepsOrder = keepsOrder
        }

        func insert(_ entry: Entry, key: GroupKey) {
            if keepsOrder, buckets[key] == nil { order.append(key) }
            buckets[key, default: []].append(entry)
        }

        func save(into writer: inout StateWriter) {
            let keys = keepsOrder ? order : Array(buckets.keys)
            writer.array(keys) { writer, key in
                writer.row(key.values)
                writer.array(buckets[key] ?? []) { writer, entry in
                    writer.row(store.row(entry.slot))
                    writer.int(entry.partners)
                }
            }
        }

        func restore(from reader: inout StateReader) throws(SQLError) {
            for entries in buckets.values { for entry in entries { store.remove(entry.slot) } }
            buckets = [:]
            order = []
            let count = try reader.count()
            for _ in 0..<count {
                let key = GroupKey(joinKey: try reader.row())
                let entries = try reader.array { reader throws(SQLError) in
                    let row = try reader.row()
                    return Entry(slot: store.insert(row), partners: try reader.count())
                }
                if keepsOrder { order.append(key) }
                buckets[key] = entries
            }
        }

        /// Removes one entry whose row equals row `index` of `batch`; returns whether there was one.
        func remove(_ batch: Batch, _ index: Int, key: GroupKey) -> Bool {
            guard let position = buckets[key]?.lastIndex(where: { store.matches($0.slot, batch, index) }) else { return false }
            let entry = buckets[key]!.remove(at: position)
            store.remove(entry.slot)
            if !keepsOrder, buckets[key]!.isEmpty { buckets[key] = nil }
            return true
        }
    }

    let kind: JoinKind
    let keys: JoinKeys
    let residual: CompiledExpression?
    /// The residual evaluated on row pairs directly, when it is simple enough.
    var residualPredicate: JoinPredicate? {
        didSet { predicateColumns = Self.predicateColumns(keys.residual, leftCount: leftTypes.count) }
    }
    let leftTypes: [SQLType]
    let rightTypes: [SQLType]
    let final: Bool
    private let left: Side
    private let right: Side
    /// Which columns of each side are read above the join or by its condition (nil: all). The others are kept as
    /// NULL, so that state holds only what is needed.
    let leftLive: [Bool]?
    let rightLive: [Bool]?
    /// The columns of each side the residual reads (what `residualPredicate` needs boxed).
    private var predicateColumns: (left: [Int], right: [Int]) = ([], [])
    /// Batch mode: the left rows in arrival order, kept in their own store.
    private let finalLeftStore: RowStore
    private var finalLeft: [Int32] = []

    init(
        kind: JoinKind, keys: JoinKeys, residual: CompiledExpression?, leftTypes: [SQLType], rightTypes: [SQLType], final: Bool,
        leftLive: [Bool]? = nil, rightLive: [Bool]? = nil
    ) {
        self.kind = kind
        self.keys = keys
        self.residual = residual
        self.leftTypes = leftTypes
        self.rightTypes = rightTypes
        self.final = final
        self.leftLive = leftLive
        self.rightLive = rightLive
        left = Side(types: leftTypes, live: leftLive, keepsOrder: final)
        right = Side(types: rightTypes, live: rightLive, keepsOrder: final)
        finalLeftStore = RowStore(types: leftTypes, live: leftLive)
    }

    private static func predicateColumns(_ residual: BoundExpression?, leftCount: Int) -> (left: [Int], right: [Int]) {
        let columns = residual?.referencedColumns ?? []
        return (columns.filter { $0 < leftCount }.sorted(), columns.filter { $0 >= leftCount }.map { $0 - leftCount }.sorted())
    }

    override var inputCount: Int { 2 }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        left.save(into: &writer)
        right.save(into: &writer)
        writer.rows(finalLeft.map { finalLeftStore.row($0) })
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        try left.restore(from: &reader)
        try right.restore(from: &reader)
        for slot in finalLeft { finalLeftStore.remove(slot) }
        finalLeft = try reader.rows().map { finalLeftStore.insert($0) }
    }

    private var types: [SQLType] {
        leftTypes.map { $0.withNullable($0.nullable || kind == .right || kind == .full) }
            + rightTypes.map { $0.withNullable($0.nullable || kind == .left || kind == .full) }
    }
    private var leftIsOuter: Bool { kind == .left || kind == .full }
    private var rightIsOuter: Bool { kind == .right || kind == .full }

    /// Rows joined by one batch, in order: where each half comes from. The columns are built at the end, one at a
    /// time (`RowStore.gather`).
    private struct Output {
        var left: [RowSource] = []
        var right: [RowSource] = []
        var kinds: [RowKind] = []

        mutating func add(_ left: RowSource, _ right: RowSource, _ kind: RowKind) {
            self.left.append(left)
            self.right.append(right)
            kinds.append(kind)
        }

        /// The joined rows: kept rows from the two stores, input rows from `input` (on the left side when
        /// `inputIsLeft`).
        func batches(types: [SQLType], leftCount: Int, input: Batch?, inputIsLeft: Bool, leftStore: RowStore, rightStore: RowStore) -> [Batch] {
            guard !kinds.isEmpty else { return [] }
            let columns = types.indices.map { c in
                let isLeft = c < leftCount
                let local = isLeft ? c : c - leftCount
                var appender = ColumnAppender(types[c].physical, capacity: kinds.count)
                let inputColumn = isLeft == inputIsLeft ? input?.columns[local] : nil
                (isLeft ? leftStore : rightStore).gather(column: local, isLeft ? left : right, input: inputColumn, into: &appender)
                return appender.column()
            }
            return [Batch(columns: columns, kinds: kinds)]
        }
    }

    /// The join key of row `index` of `batch`: a single integer or string key without an array (the common case),
    /// any other as its values.
    private func key(_ batch: Batch, _ index: Int, _ columns: [Int]) -> GroupKey {
        columns.count == 1 ? GroupKey(single: batch.columns[columns[0]].value(at: index)) : .row(columns.map { batch.columns[$0].value(at: index) })
    }

    private func key(_ store: RowStore, _ slot: Int32, _ columns: [Int]) -> GroupKey {
        columns.count == 1 ? GroupKey(single: store.value(slot, columns[0])) : .row(columns.map { store.value(slot, $0) })
    }

    /// Which of `candidates` (kept rows of the other side) satisfy the residual condition with `probe`, the boxed
    /// row on side `fromLeft` (only the columns the predicate reads, or every column for the batch fallback).
    private func partners(of probe: Row, fromLeft: Bool, among candidates: [Entry], in store: RowStore) throws(SQLError) -> [Int] {
        guard !candidates.isEmpty else { return [] }
        guard let residual else { return Array(candidates.indices) }
        if let residualPredicate {
            let only = fromLeft ? predicateColumns.right : predicateColumns.left
            return candidates.indices.filter {
                let other = store.row(candidates[$0].slot, only: only)
                return fromLeft ? residualPredicate.holds(probe, other) : residualPredicate.holds(other, probe)
            }
        }
        let pairs = candidates.map { fromLeft ? probe + store.row($0.slot) : store.row($0.slot) + probe }
        let test = try residual(Batch(rows: pairs, kinds: Array(repeating: .insert, count: pairs.count), types: types))
        guard case .bool(let flags) = test.data else { return [] }
        return candidates.indices.filter { flags[$0] && !test.isNull($0) }
    }

    /// The boxed row `partners` needs for row `index` of `batch` on side `fromLeft` (empty without a residual).
    private func probeRow(_ batch: Batch, _ index: Int, fromLeft: Bool) -> Row {
        guard residual != nil else { return [] }
        if residualPredicate != nil {
            var row = Row(repeating: .null, count: batch.columns.count)
            for c in fromLeft ? predicateColumns.left : predicateColumns.right { row[c] = batch.columns[c].value(at: index) }
            return row
        }
        return batch.row(index, live: fromLeft ? leftLive : rightLive)
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        let fromLeft = slot == 0
        var output = Output()
        // The rows the batch adds are stored up front, column by column; each takes its slot when its turn comes (a
        // retraction only ever finds rows whose turn has come).
        let store = final && fromLeft ? finalLeftStore : (fromLeft ? left : right).store
        let added = store.insert(batch, rows: batch.kinds.indices.filter { batch.kinds[$0].isAccumulate })
        var nextAdded = 0
        for i in 0..<batch.count {
            let rowKey = key(batch, i, fromLeft ? keys.left : keys.right)
            var newSlot: Int32?
            if batch.kinds[i].isAccumulate {
                newSlot = added[nextAdded]
                nextAdded += 1
            }
            if final {
                if fromLeft {
                    // Batch output follows the left input's order.
                    if let newSlot {
                        finalLeft.append(newSlot)
                    } else if let index = finalLeft.lastIndex(where: { finalLeftStore.matches($0, batch, i) }) {
                        finalLeftStore.remove(finalLeft.remove(at: index))
                    }
                } else if let newSlot {
                    right.insert(Entry(slot: newSlot, partners: 0), key: rowKey)
                } else {
                    _ = right.remove(batch, i, key: rowKey)
                }
                continue
            }
            try apply(batch, i, key: rowKey, kind: batch.kinds[i], slot: newSlot, fromLeft: fromLeft, into: &output)
        }
        return output.batches(
            types: types, leftCount: leftTypes.count, input: batch, inputIsLeft: fromLeft, leftStore: left.store, rightStore: right.store)
    }

    /// Joins one change of one side. Joined rows carry the change's own kind (+I/+U add, -U/-D retract), as Flink's
    /// join does; the NULL padding of the other side's rows changes with -D and +I.
    /// `slot`: where the row is already stored, when it adds (+I, +U).
    private func apply(
        _ batch: Batch, _ index: Int, key rowKey: GroupKey, kind: RowKind, slot: Int32?, fromLeft: Bool,
        into output: inout Output
    ) throws(SQLError) {
        let accumulate = kind.isAccumulate
        let ownOuter = fromLeft ? leftIsOuter : rightIsOuter
        let otherOuter = fromLeft ? rightIsOuter : leftIsOuter
        let own = fromLeft ? left : right
        let other = fromLeft ? right : left
        let mine = RowSource.input(index)
        func add(_ mine: RowSource, _ theirs: RowSource, _ kind: RowKind) {
            if fromLeft { output.add(mine, theirs, kind) } else { output.add(theirs, mine, kind) }
        }
        // A NULL key matches nothing.
        var matched: [Int] = []
        var partnerSlots: [Int32] = []
        var partnerCounts: [Int] = []
        if !rowKey.hasNull, let candidates = other.buckets[rowKey] {
            matched = try partners(of: probeRow(batch, index, fromLeft: fromLeft), fromLeft: fromLeft, among: candidates, in: other.store)
            partnerSlots = matched.map { candidates[$0].slot }
            partnerCounts = matched.map { candidates[$0].partners }
        }
        if accumulate {
            if matched.isEmpty, ownOuter { add(mine, .none, kind) }
            for (n, position) in matched.enumerated() {
                let theirs = RowSource.kept(partnerSlots[n])
                if otherOuter, partnerCounts[n] == 0 { add(.none, theirs, .delete) }
                add(mine, theirs, kind)
                // Partner counts only matter to an outer side's padding.
                if otherOuter { other.buckets[rowKey]![position].partners += 1 }
            }
            guard let slot else { preconditionFailure("JoinStage: a row that adds is stored before it is applied") }
            own.insert(Entry(slot: slot, partners: matched.count), key: rowKey)
        } else {
            guard own.remove(batch, index, key: rowKey) else { return }
            if matched.isEmpty, ownOuter { add(mine, .none, kind) }
            for (n, position) in matched.enumerated() {
                let theirs = RowSource.kept(partnerSlots[n])
                add(mine, theirs, kind)
                if otherOuter {
                    other.buckets[rowKey]![position].partners -= 1
                    if partnerCounts[n] == 1 { add(.none, theirs, .insert) }
                }
            }
        }
    }

    override func finish() throws(SQLError) -> [Batch] {
        guard final else { return [] }
        var output = Output()
        for slot in finalLeft {
            let rowKey = key(finalLeftStore, slot, keys.left)
            var matched: [Int] = []
            if !rowKey.hasNull, let candidates = right.buckets[rowKey] {
                let probe = residual == nil ? [] : finalLeftStore.row(slot, only: residualPredicate != nil ? predicateColumns.left : nil)
                matched = try partners(of: probe, fromLeft: true, among: candidates, in: right.store)
                for index in matched { output.add(.kept(slot), .kept(candidates[index].slot), .insert) }
            }
            for index in matched { right.buckets[rowKey]![index].partners += 1 }
            if matched.isEmpty, leftIsOuter { output.add(.kept(slot), .none, .insert) }
        }
        if rightIsOuter {
            for key in right.order {
                for entry in right.buckets[key] ?? [] where entry.partners == 0 { output.add(.none, .kept(entry.slot), .insert) }
            }
        }
        return output.batches(
            types: types, leftCount: leftTypes.count, input: nil, inputIsLeft: true, leftStore: finalLeftStore, rightStore: right.store)
    }
}
