// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Measures how deep a syntax tree nests, stopping as soon as it passes a limit, so that the measurement itself
/// recurses no deeper than the limit. (The depth of a node is counted from 1; a tree that nests deeper than the limit
/// measures `limit + 1`.)
///
/// The parser already refuses input that nests too deeply while it reads it (and reports where), but it counts what it
/// is reading, not the tree it has built: an operand that is itself a long chain, such as `((a+a+…)+a+…)+…`, makes a
/// tree deeper than any count taken during parsing. This walk over the finished tree is the exact check; every later
/// recursion (analysis, planning, the dataflow, printing) relies on it.
struct NestingProbe {
    let limit: Int

    /// Whether `statement` nests deeper than the limit.
    func exceeds(_ statement: Statement) -> Bool { exceeds(statement, 1) }

    /// Whether `expression` nests deeper than the limit.
    func exceeds(_ expression: Expression) -> Bool { exceeds(expression, 1) }

    /// How deep `query` nests, or `limit + 1` if deeper than the limit.
    func depth(_ query: Query) -> Int {
        var low = 0
        var high = limit + 1
        // The smallest limit the query does not exceed, by bisection over the cut-off walk (each walk stops at its
        // cut-off, so this costs a few walks of the query's top levels).
        while high - low > 1 {
            let middle = (low + high) / 2
            if NestingProbe(limit: middle).exceeds(query, 1) { low = middle } else { high = middle }
        }
        return high
    }

    private func exceeds(_ statement: Statement, _ depth: Int) -> Bool {
        guard depth <= limit else { return true }
        let next = depth + 1
        switch statement {
        case .query(let query): return exceeds(query, next)
        case .createTable(let create):
            for column in create.columns where exceeds(column.kind, next) { return true }
            if let watermark = create.watermark, exceeds(watermark.expression, next) { return true }
            return create.asQuery.map { exceeds($0, next) } ?? false
        case .createView(_, _, let query, _, _, _): return exceeds(query, next)
        case .alterTable(_, .addColumns(let columns)), .alterTable(_, .modifyColumns(let columns)):
            return columns.contains { exceeds($0.kind, next) }
        case .insert(let insert): return exceeds(insert.source, next)
        case .statementSet(let inserts): return inserts.contains { exceeds($0.source, next) }
        case .explain(let inner): return exceeds(inner, next)
        case .createDatabase, .dropTable, .dropView, .dropDatabase, .alterTable, .show, .describe, .useCatalog, .useDatabase, .set, .reset:
            return false
        }
    }

    private func exceeds(_ kind: ColumnDefinition.Kind, _ depth: Int) -> Bool {
        switch kind {
        case .physical(let type), .metadata(let type, _, _): return exceeds(type, depth)
        case .computed(let expression): return exceeds(expression, depth)
        }
    }

    func exceeds(_ query: Query, _ depth: Int) -> Bool {
        guard depth <= limit else { return true }
        let next = depth + 1
        if query.with.contains(where: { exceeds($0.query, next) }) { return true }
        if exceeds(query.body, next) { return true }
        if query.orderBy.contains(where: { exceeds($0.expression, next) }) { return true }
        return [query.limit, query.offset].contains { $0.map { exceeds($0, next) } ?? false }
    }

    private func exceeds(_ body: QueryBody, _ depth: Int) -> Bool {
        guard depth <= limit else { return true }
        let next = depth + 1
        switch body {
        case .select(let select):
            if select.items.contains(where: { exceeds($0.expression, next) }) { return true }
            if let from = select.from, exceeds(from, next) { return true }
            if select.groupBy.contains(where: { exceeds($0, next) }) { return true }
            return [select.filter, select.having].contains { $0.map { exceeds($0, next) } ?? false }
        case .values(let rows): return rows.contains { $0.contains { exceeds($0, next) } }
        case .setOperation(_, _, let left, let right, _): return exceeds(left, next) || exceeds(right, next)
        case .nested(let query): return exceeds(query, next)
        }
    }

    private func exceeds(_ reference: TableReference, _ depth: Int) -> Bool {
        guard depth <= limit else { return true }
        let next = depth + 1
        switch reference {
        case .named(_, _, let asOf): return asOf.map { exceeds($0, next) } ?? false
        case .subquery(let query, _): return exceeds(query, next)
        case .tableFunction(let call, _), .unnest(let call, _): return exceeds(call, next)
        case .join(let left, let right, _, let on, _):
            return exceeds(left, next) || exceeds(right, next) || (on.map { exceeds($0, next) } ?? false)
        }
    }

    private func exceeds(_ expression: Expression, _ depth: Int) -> Bool {
        guard depth <= limit else { return true }
        let next = depth + 1
        func any(_ list: [Expression]) -> Bool { list.contains { exceeds($0, next) } }
        switch expression {
        case .null, .boolean, .number, .string, .typedLiteral, .interval, .column, .star, .tableArgument, .descriptor: return false
        case .unary(_, let e, _), .isNull(let e, _), .isTruth(let e, _, _), .extract(_, let e), .namedArgument(_, let e): return exceeds(e, next)
        case .binary(_, let a, let b, _), .isDistinctFrom(let a, let b, _), .element(let a, let b): return exceeds(a, next) || exceeds(b, next)
        case .between(let e, let low, let high, _, _): return any([e, low, high])
        case .inList(let e, let list, _, _): return exceeds(e, next) || any(list)
        case .inQuery(let e, let query, _): return exceeds(e, next) || exceeds(query, next)
        case .like(let e, let pattern, let escape, _, _, _): return any([e, pattern] + (escape.map { [$0] } ?? []))
        case .function(_, let arguments, _, let over):
            if any(arguments) { return true }
            guard let over else { return false }
            if any(over.partitionBy) || over.orderBy.contains(where: { exceeds($0.expression, next) }) { return true }
            guard let frame = over.frame else { return false }
            return [frame.start, frame.end].contains { bound in
                switch bound {
                case .preceding(let offset), .following(let offset): return exceeds(offset, next)
                case .unboundedPreceding, .currentRow, .unboundedFollowing: return false
                }
            }
        case .cast(let e, let type, _, _): return exceeds(e, next) || exceeds(type, next)
        case .caseWhen(let operand, let branches, let otherwise, _):
            if let operand, exceeds(operand, next) { return true }
            if branches.contains(where: { exceeds($0.condition, next) || exceeds($0.result, next) }) { return true }
            return otherwise.map { exceeds($0, next) } ?? false
        case .scalarSubquery(let query), .exists(let query): return exceeds(query, next)
        case .row(let items), .array(let items), .map(let items): return any(items)
        }
    }

    private func exceeds(_ type: TypeSyntax, _ depth: Int) -> Bool {
        guard depth <= limit else { return true }
        let next = depth + 1
        switch type {
        case .named: return false
        case .array(let element, _), .multiset(let element, _): return exceeds(element, next)
        case .map(let key, let value, _): return exceeds(key, next) || exceeds(value, next)
        case .row(let fields, _): return fields.contains { exceeds($0.type, next) }
        }
    }
}
