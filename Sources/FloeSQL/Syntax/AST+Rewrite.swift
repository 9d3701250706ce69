// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

extension Expression {
    /// The expression with every subexpression for which `replacement` returns a value replaced by it, top down: a
    /// replaced subexpression is not visited further. Subqueries are left as they are (they have scopes of their own).
    func rewritten<Failure: Error>(_ replacement: (Expression) throws(Failure) -> Expression?) throws(Failure) -> Expression {
        if let replaced = try replacement(self) { return replaced }
        func r(_ e: Expression) throws(Failure) -> Expression { try e.rewritten(replacement) }
        func all(_ list: [Expression]) throws(Failure) -> [Expression] {
            var result: [Expression] = []
            result.reserveCapacity(list.count)
            for e in list { result.append(try r(e)) }
            return result
        }
        switch self {
        case .null, .boolean, .number, .string, .typedLiteral, .interval, .column, .star, .scalarSubquery, .exists, .tableArgument, .descriptor:
            return self
        case .unary(let op, let e, let origin): return .unary(op, try r(e), origin)
        case .binary(let op, let a, let b, let origin): return .binary(op, try r(a), try r(b), origin)
        case .isNull(let e, let negated): return .isNull(try r(e), negated: negated)
        case .isTruth(let e, let value, let negated): return .isTruth(try r(e), value: value, negated: negated)
        case .isDistinctFrom(let a, let b, let negated): return .isDistinctFrom(try r(a), try r(b), negated: negated)
        case .between(let e, let low, let high, let negated, let origin):
            return .between(try r(e), low: try r(low), high: try r(high), negated: negated, origin: origin)
        case .inList(let e, let list, let negated, let origin): return .inList(try r(e), try all(list), negated: negated, origin: origin)
        case .inQuery(let e, let query, let negated): return .inQuery(try r(e), query, negated: negated)
        case .like(let e, let pattern, let escape, let negated, let similar, let origin):
            return .like(try r(e), pattern: try r(pattern), escape: try escape.map(r), negated: negated, similar: similar, origin: origin)
        case .function(let name, let arguments, let distinct, let over):
            return .function(name: name, arguments: try all(arguments), distinct: distinct, over: over)
        case .cast(let e, let type, let isTry, let origin): return .cast(try r(e), type, isTry: isTry, origin: origin)
        case .caseWhen(let operand, let branches, let otherwise, let origin):
            var rewrittenBranches: [CaseBranch] = []
            for branch in branches { rewrittenBranches.append(CaseBranch(condition: try r(branch.condition), result: try r(branch.result))) }
            return .caseWhen(operand: try operand.map(r), branches: rewrittenBranches, otherwise: try otherwise.map(r), origin: origin)
        case .extract(let unit, let e): return .extract(unit: unit, from: try r(e))
        case .element(let a, let b): return .element(try r(a), try r(b))
        case .row(let items): return .row(try all(items))
        case .array(let items): return .array(try all(items))
        case .map(let items): return .map(try all(items))
        case .namedArgument(let name, let e): return .namedArgument(name, try r(e))
        }
    }
}

extension Expression {
    /// Where it was written: its own origin, or else the stretch from the first to the last written part inside it
    /// (a literal alone has none). Errors about an expression point here.
    public var span: SourceSpan? {
        switch self {
        case .unary(_, _, let origin), .binary(_, _, _, let origin), .caseWhen(_, _, _, let origin), .between(_, _, _, _, let origin),
            .inList(_, _, _, let origin), .like(_, _, _, _, _, let origin), .cast(_, _, _, let origin):
            if let span = origin.span { return span }
        case .column(let name), .tableArgument(let name):
            return name.origin.span
        case .function(let name, _, _, _):
            if let span = name.origin.span { return span }
        default:
            break
        }
        // The outermost written parts inside it: a part with a span of its own is not looked into.
        var span: SourceSpan?
        _ = rewritten { (part: Expression) -> Expression? in
            guard let inner = part.ownSpan else { return nil }
            span = span.map { $0.union(inner) } ?? inner
            return part
        }
        return span
    }

    /// The origin a node carries itself, if it is one of the kinds that carry one.
    private var origin: Origin? {
        switch self {
        case .unary(_, _, let origin), .binary(_, _, _, let origin), .caseWhen(_, _, _, let origin), .between(_, _, _, _, let origin),
            .inList(_, _, _, let origin), .like(_, _, _, _, _, let origin), .cast(_, _, _, let origin):
            origin
        case .column(let name), .tableArgument(let name), .function(let name, _, _, _): name.origin
        default: nil
        }
    }

    private var ownSpan: SourceSpan? { origin?.span }
}
