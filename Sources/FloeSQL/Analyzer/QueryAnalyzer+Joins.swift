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
                op = switch op {
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
}
