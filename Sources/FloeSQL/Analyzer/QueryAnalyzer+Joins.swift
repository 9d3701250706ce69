// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Joins bounded in time (Flink's interval joins).
extension QueryAnalyzer {
    /// The time bounds of an interval join found in `condition`: conjuncts comparing a time attribute of each side,
    /// each possibly shifted by a constant day-time interval, that bound `leftTime - rightTime` from below and above
    /// (`l.ts BETWEEN r.ts - INTERVAL '1' HOUR AND r.ts`, `l.ts >= r.ts AND l.ts < r.ts + INTERVAL '10' MINUTE`,
    /// `l.ts = r.ts`). Nil when the condition does not bound the two times on both sides.
    static func intervalBounds(_ condition: BoundExpression, left: [PlanField], right: [PlanField]) -> IntervalJoinSpec.Bounds? {
        let leftCount = left.count
        let fields = left + right
        /// A time attribute plus a constant: `ts`, `ts + INTERVAL …`, `ts - INTERVAL …`.
        func timeTerm(_ expression: BoundExpression) -> (column: Int, offset: Int64)? {
            if let column = expression.columnIndex { return fields[column].isRowtime ? (column, 0) : nil }
            guard case .function(let name, let arguments, _, _) = expression.node, name == "+" || name == "-", arguments.count == 2,
                let column = arguments[0].columnIndex, fields[column].isRowtime,
                arguments[1].type.kind == .intervalDayTime, case .int(let amount)? = arguments[1].constant
            else { return nil }
            return (column, name == "+" ? amount : -amount)
        }
        var pair: (left: Int, right: Int)?
        var lower: Int64?
        var upper: Int64?
        for conjunct in condition.conjuncts {
            guard case .compare(var op, let a, let b) = conjunct.node, op != .notEqual, let x = timeTerm(a), let y = timeTerm(b),
                (x.column < leftCount) != (y.column < leftCount)
            else { continue }
            // x + a op y + b, as leftTime - rightTime op k.
            let k: Int64
            let columns: (left: Int, right: Int)
            if x.column < leftCount {
                k = y.offset - x.offset
                columns = (x.column, y.column)
            } else {
                k = x.offset - y.offset
                columns = (y.column, x.column)
                op =
                    switch op {
                    case .less: .greater
                    case .lessOrEqual: .greaterOrEqual
                    case .greater: .less
                    case .greaterOrEqual: .lessOrEqual
                    default: op
                    }
            }
            if let pair, pair != columns { continue }
            pair = columns
            switch op {
            case .greaterOrEqual: lower = max(lower ?? .min, k)
            case .greater: lower = max(lower ?? .min, k + 1)
            case .lessOrEqual: upper = min(upper ?? .max, k)
            case .less: upper = min(upper ?? .max, k - 1)
            case .equal:
                lower = max(lower ?? .min, k)
                upper = min(upper ?? .max, k)
            case .notEqual: break
            }
        }
        guard let pair, let lower, let upper else { return nil }
        return IntervalJoinSpec.Bounds(leftTime: pair.left, rightTime: pair.right - leftCount, lower: lower, upper: upper)
    }

    /// `left JOIN versioned FOR SYSTEM_TIME AS OF left.time ON …`: an event-time temporal join against an upsert
    /// table (primary key and time attribute), as Flink checks it.
    func temporalJoin(
        left: QueryPlan, right: QueryPlan, kind: JoinKind, condition: BoundExpression?, asOf: Expression,
        fields joinedFields: [PlanField]
    ) throws(SQLError) -> QueryPlan {
        guard !isSnapshot else {
            throw SQLError("FOR SYSTEM_TIME AS OF (a temporal join) runs in streaming mode only; 'sql.snapshot.mode' = 'now' cannot run it.")
        }
        guard kind == .inner || kind == .left else {
            throw SQLError.unsupported("Temporal table join currently only supports INNER JOIN and LEFT JOIN, but was \(kind.rawValue) JOIN.")
        }
        let time = try bind(asOf, Scope(fields: left.fields))
        guard let leftTime = time.columnIndex, left.fields[leftTime].isRowtime else {
            throw SQLError(
                "FOR SYSTEM_TIME AS OF must name the left table's time attribute (a WATERMARK column or $rowtime), not \(asOf.sql). Processing-time temporal joins are not supported."
            )
        }
        guard left.isAppendOnly else { throw SQLError("The left input of a temporal join must be append-only.") }
        guard let primaryKey = right.upsertKeys, !primaryKey.isEmpty else {
            throw SQLError("Temporal Table Join requires primary key in versioned table, but no primary key can be found.")
        }
        guard let rightTime = right.fields.firstIndex(where: \.isRowtime) else {
            throw SQLError(
                "Event-Time Temporal Table Join requires both primary key and row time attribute in versioned table, but no row time attribute can be found."
            )
        }
        let leftCount = left.fields.count
        let keys = JoinKeys.of(condition, leftCount: leftCount, types: left.types + right.types)
        guard let condition, Set(primaryKey).isSubset(of: Set(keys.right)) else {
            let names = primaryKey.map { right.fields[$0].name }.joined(separator: ", ")
            throw SQLError(
                "Temporal table's primary key [\(names)] must be included in the equivalence condition of Temporal join, but current temporal join condition is [\(condition.map { _ in "the ON clause" } ?? "none")]."
            )
        }
        var fields = joinedFields
        fields[leftTime].isRowtime = true
        var leftKey: [Int] = []
        for column in primaryKey { leftKey.append(keys.left[keys.right.firstIndex(of: column)!]) }
        let spec = TemporalJoinSpec(
            kind: kind, condition: condition, leftTypes: left.types, rightTypes: right.types, leftTime: leftTime, rightTime: rightTime,
            leftKey: leftKey, rightKey: primaryKey)
        return QueryPlan(
            node: .temporalJoin(left.node, right.node, spec), fields: fields, isBounded: left.isBounded && right.isBounded,
            isAppendOnly: true, upsertKeys: nil)
    }

    /// The `window_end` columns of a window join's sides: `condition` equates both sides' `window_start` and their
    /// `window_end`. Nil otherwise.
    static func windowJoinColumns(_ condition: BoundExpression, left: [PlanField], right: [PlanField]) -> (leftEnd: Int, rightEnd: Int)? {
        let fields = left + right
        guard !fields.contains(where: { $0.windowRole == .time && !$0.isRowtime }) else { return nil }
        var starts = false
        var ends: (Int, Int)?
        for conjunct in condition.conjuncts {
            guard case .compare(.equal, let a, let b) = conjunct.node, let x = a.columnIndex, let y = b.columnIndex,
                (x < left.count) != (y < left.count), let role = fields[x].windowRole, fields[y].windowRole == role
            else { continue }
            let (l, r) = x < left.count ? (x, y - left.count) : (y, x - left.count)
            switch role {
            case .start: starts = true
            case .end: ends = (l, r)
            case .time: break
            }
        }
        guard starts, let ends else { return nil }
        return (ends.0, ends.1)
    }
}
