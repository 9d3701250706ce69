// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A join condition evaluated on a left row and a right row as they are, without building a batch per probe: for
/// the conditions joins usually have (comparisons between columns and constants, timestamps shifted by a constant
/// interval, combined with AND, OR, NOT and IS NULL). Other conditions compile to nil and run as batch expressions.
struct JoinPredicate {
    /// TRUE, FALSE or UNKNOWN (nil) for a pair of rows.
    let test: (Row, Row) -> Bool?

    /// A value computed from the pair.
    private typealias Term = (Row, Row) -> Value

    static func compile(_ expression: BoundExpression, leftCount: Int) -> JoinPredicate? {
        predicate(expression, leftCount).map(JoinPredicate.init)
    }

    /// Whether the pair satisfies the condition (UNKNOWN does not).
    @inline(__always) func holds(_ left: Row, _ right: Row) -> Bool { test(left, right) == true }

    private static func term(_ e: BoundExpression, _ leftCount: Int) -> Term? {
        switch e.node {
        case .column(let index):
            if index < leftCount { return { left, _ in left[index] } }
            let shifted = index - leftCount
            return { _, right in right[shifted] }
        case .literal(let value):
            return { _, _ in value }
        case .cast(let inner, false) where inner.type.isInteger && e.type.isInteger:
            // Integer widening keeps the value.
            return term(inner, leftCount)
        case .function(let name, let arguments, _, _) where (name == "+" || name == "-") && arguments.count == 2:
            switch arguments[0].type.kind {
            case .timestamp, .timestampLTZ: break
            default: return nil
            }
            guard arguments[1].type.kind == .intervalDayTime, case .int(let amount)? = arguments[1].constant,
                let base = term(arguments[0], leftCount)
            else { return nil }
            let delta = name == "+" ? amount : -amount
            return { left, right in
                guard case .int(let time) = base(left, right) else { return .null }
                return .int(time &+ delta)
            }
        default:
            return nil
        }
    }

    /// AND (`decisive` FALSE) or OR (`decisive` TRUE) with SQL's three-valued logic: one decisive part decides,
    /// otherwise any UNKNOWN part makes the whole UNKNOWN.
    private static func connective(_ parts: [BoundExpression], decisive: Bool, _ leftCount: Int) -> ((Row, Row) -> Bool?)? {
        var compiled: [(Row, Row) -> Bool?] = []
        for part in parts {
            guard let p = predicate(part, leftCount) else { return nil }
            compiled.append(p)
        }
        return { left, right in
            var unknown = false
            for p in compiled {
                guard let value = p(left, right) else {
                    unknown = true
                    continue
                }
                if value == decisive { return decisive }
            }
            return unknown ? nil : !decisive
        }
    }

    private static func predicate(_ e: BoundExpression, _ leftCount: Int) -> ((Row, Row) -> Bool?)? {
        switch e.node {
        case .literal(let value):
            let result: Bool? = if case .bool(let b) = value { b } else { nil }
            return { _, _ in result }
        case .compare(let op, let a, let b):
            guard let x = term(a, leftCount), let y = term(b, leftCount) else { return nil }
            return { left, right in
                let (u, v) = (x(left, right), y(left, right))
                if u.isNull || v.isNull { return nil }
                if case .string(let s) = u, case .string(let t) = v, op == .equal || op == .notEqual { return (s == t) == (op == .equal) }
                return op.holds(Value.compare(u, v))
            }
        case .and(let parts): return connective(parts, decisive: false, leftCount)
        case .or(let parts): return connective(parts, decisive: true, leftCount)
        case .not(let inner):
            guard let p = predicate(inner, leftCount) else { return nil }
            return { left, right in p(left, right).map { !$0 } }
        case .isNull(let operand, let negated):
            guard let x = term(operand, leftCount) else { return nil }
            return { left, right in x(left, right).isNull != negated }
        default:
            return nil
        }
    }
}
