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
final class JoinStage: Stage {
    /// A kept row and how many rows of the other side it joins with.
    private struct Entry {
        var row: Row
        var partners: Int
    }

    /// One side's rows by join key (a reference, so that the tables are changed in place).
    private final class Side {
        var buckets: [GroupKey: [Entry]] = [:]
        /// Batch mode: the keys in order of first insertion (the output order of unmatched right rows). Streaming
        /// keeps no order, and forgets a key whose last row goes.
        var order: [GroupKey] = []
        let keepsOrder: Bool

        init(keepsOrder: Bool) { self.keepsOrder = keepsOrder }

        func insert(_ entry: Entry, key: GroupKey) {
            if keepsOrder, buckets[key] == nil { order.append(key) }
            buckets[key, default: []].append(entry)
        }

        func save(into writer: inout StateWriter) {
            let keys = keepsOrder ? order : Array(buckets.keys)
            writer.array(keys) { writer, key in
                writer.row(key.values)
                writer.array(buckets[key] ?? []) { writer, entry in
                    writer.row(entry.row)
                    writer.int(entry.partners)
                }
            }
        }

        func restore(from reader: inout StateReader) throws(SQLError) {
            buckets = [:]
            order = []
            let count = try reader.count()
            for _ in 0..<count {
                let key = GroupKey(joinKey: try reader.row())
                let entries = try reader.array { reader throws(SQLError) in Entry(row: try reader.row(), partners: try reader.count()) }
                if keepsOrder { order.append(key) }
                buckets[key] = entries
            }
        }

        /// Removes one entry equal to `row`; returns whether there was one.
        func remove(_ row: Row, key: GroupKey) -> Bool {
            guard let index = buckets[key]?.lastIndex(where: { $0.row == row }) else { return false }
            buckets[key]!.remove(at: index)
            if !keepsOrder, buckets[key]!.isEmpty { buckets[key] = nil }
            return true
        }
    }

    let kind: JoinKind
    let keys: JoinKeys
    let residual: CompiledExpression?
    /// The residual evaluated on row pairs directly, when it is simple enough.
    var residualPredicate: JoinPredicate?
    let leftTypes: [SQLType]
    let rightTypes: [SQLType]
    let final: Bool
    private let left: Side
    private let right: Side
    /// Which columns of each side are read above the join or by its condition (nil: all). The others are kept as
    /// NULL, so that state holds only what is needed.
    var leftLive: [Bool]?
    var rightLive: [Bool]?
    /// Batch mode: the left rows in arrival order.
    private var finalLeft: [Row] = []

    init(kind: JoinKind, keys: JoinKeys, residual: CompiledExpression?, leftTypes: [SQLType], rightTypes: [SQLType], final: Bool) {
        self.kind = kind
        self.keys = keys
        self.residual = residual
        self.leftTypes = leftTypes
        self.rightTypes = rightTypes
        self.final = final
        left = Side(keepsOrder: final)
        right = Side(keepsOrder: final)
    }

    override var inputCount: Int { 2 }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        left.save(into: &writer)
        right.save(into: &writer)
        writer.rows(finalLeft)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        try left.restore(from: &reader)
        try right.restore(from: &reader)
        finalLeft = try reader.rows()
    }

    private var types: [SQLType] {
        leftTypes.map { $0.withNullable($0.nullable || kind == .right || kind == .full) }
            + rightTypes.map { $0.withNullable($0.nullable || kind == .left || kind == .full) }
    }
    private var leftIsOuter: Bool { kind == .left || kind == .full }
    private var rightIsOuter: Bool { kind == .right || kind == .full }

    /// Rows joined by one batch, in order.
    private struct Output {
        var rows: [Row] = []
        var kinds: [RowKind] = []

        mutating func add(_ row: Row, _ kind: RowKind) {
            rows.append(row)
            kinds.append(kind)
        }
    }

    /// A row's join key: a single integer or string key without an array (the common case), any other as its values.
    private func key(_ row: Row, _ columns: [Int]) -> GroupKey {
        columns.count == 1 ? GroupKey(single: row[columns[0]]) : .row(columns.map { row[$0] })
    }

    /// Which of `candidates` satisfy the residual condition with `row` (on side `fromLeft`).
    private func partners(of row: Row, fromLeft: Bool, among candidates: [Entry]) throws(SQLError) -> [Int] {
        guard !candidates.isEmpty else { return [] }
        guard let residual else { return Array(candidates.indices) }
        if let residualPredicate {
            return candidates.indices.filter { fromLeft ? residualPredicate.holds(row, candidates[$0].row) : residualPredicate.holds(candidates[$0].row, row) }
        }
        let pairs = candidates.map { fromLeft ? row + $0.row : $0.row + row }
        let test = try residual(Batch(rows: pairs, kinds: Array(repeating: .insert, count: pairs.count), types: types))
        guard case .bool(let flags) = test.data else { return [] }
        return candidates.indices.filter { flags[$0] && !test.isNull($0) }
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        let fromLeft = slot == 0
        var output = Output()
        for i in 0..<batch.count {
            let row = batch.row(i, live: fromLeft ? leftLive : rightLive)
            let rowKey = key(row, fromLeft ? keys.left : keys.right)
            if final {
                if fromLeft {
                    // Batch output follows the left input's order.
                    if batch.kinds[i].isAccumulate {
                        finalLeft.append(row)
                    } else if let index = finalLeft.lastIndex(of: row) {
                        finalLeft.remove(at: index)
                    }
                } else if batch.kinds[i].isAccumulate {
                    right.insert(Entry(row: row, partners: 0), key: rowKey)
                } else {
                    _ = right.remove(row, key: rowKey)
                }
                continue
            }
            try apply(row, key: rowKey, kind: batch.kinds[i], fromLeft: fromLeft, into: &output)
        }
        return output.rows.isEmpty ? [] : [Batch(rows: output.rows, kinds: output.kinds, types: types)]
    }

    /// Joins one change of one side. Joined rows carry the change's own kind (+I/+U add, -U/-D retract), as Flink's
    /// join does; the NULL padding of the other side's rows changes with -D and +I.
    private func apply(_ row: Row, key rowKey: GroupKey, kind: RowKind, fromLeft: Bool, into output: inout Output) throws(SQLError) {
        let accumulate = kind.isAccumulate
        let ownOuter = fromLeft ? leftIsOuter : rightIsOuter
        let otherOuter = fromLeft ? rightIsOuter : leftIsOuter
        let own = fromLeft ? left : right
        let other = fromLeft ? right : left
        let nullOther = Array(repeating: Value.null, count: fromLeft ? rightTypes.count : leftTypes.count)
        let nullOwn = Array(repeating: Value.null, count: row.count)
        func joined(_ mine: Row, _ theirs: Row) -> Row { fromLeft ? mine + theirs : theirs + mine }
        // A NULL key matches nothing.
        var matched: [Int] = []
        var partnerRows: [Row] = []
        var partnerCounts: [Int] = []
        if !rowKey.hasNull, let candidates = other.buckets[rowKey] {
            matched = try partners(of: row, fromLeft: fromLeft, among: candidates)
            partnerRows = matched.map { candidates[$0].row }
            partnerCounts = matched.map { candidates[$0].partners }
        }
        if accumulate {
            if matched.isEmpty, ownOuter { output.add(joined(row, nullOther), kind) }
            for (n, index) in matched.enumerated() {
                if otherOuter, partnerCounts[n] == 0 { output.add(joined(nullOwn, partnerRows[n]), .delete) }
                output.add(joined(row, partnerRows[n]), kind)
                other.buckets[rowKey]![index].partners += 1
            }
            own.insert(Entry(row: row, partners: matched.count), key: rowKey)
        } else {
            guard own.remove(row, key: rowKey) else { return }
            if matched.isEmpty, ownOuter { output.add(joined(row, nullOther), kind) }
            for (n, index) in matched.enumerated() {
                output.add(joined(row, partnerRows[n]), kind)
                other.buckets[rowKey]![index].partners -= 1
                if otherOuter, partnerCounts[n] == 1 { output.add(joined(nullOwn, partnerRows[n]), .insert) }
            }
        }
    }

    override func finish() throws(SQLError) -> [Batch] {
        guard final else { return [] }
        var output = Output()
        let nullRight = Array(repeating: Value.null, count: rightTypes.count)
        let nullLeft = Array(repeating: Value.null, count: leftTypes.count)
        for row in finalLeft {
            let rowKey = key(row, keys.left)
            var matched: [Int] = []
            if !rowKey.hasNull, let candidates = right.buckets[rowKey] {
                matched = try partners(of: row, fromLeft: true, among: candidates)
                for index in matched { output.add(row + candidates[index].row, .insert) }
            }
            for index in matched { right.buckets[rowKey]![index].partners += 1 }
            if matched.isEmpty, leftIsOuter { output.add(row + nullRight, .insert) }
        }
        if rightIsOuter {
            for key in right.order {
                for entry in right.buckets[key] ?? [] where entry.partners == 0 { output.add(nullLeft + entry.row, .insert) }
            }
        }
        return output.rows.isEmpty ? [] : [Batch(rows: output.rows, kinds: output.kinds, types: types)]
    }
}
