// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// OVER aggregations: `agg(x) OVER (PARTITION BY … ORDER BY time ROWS|RANGE BETWEEN … PRECEDING AND CURRENT ROW)`.
extension QueryAnalyzer {
    /// The names the aggregate columns of an OVER node have in the scope of the select list.
    static let overFieldPrefix = "$over"

    static func unsupportedOver(_ function: String) -> SQLError {
        SQLError.unsupported(
            "\(function) OVER is not supported; Floe supports aggregate functions (COUNT, SUM, AVG, MIN, MAX) OVER windows and ROW_NUMBER() OVER (PARTITION BY … ORDER BY …) for Top-N and deduplication."
        )
    }

    /// Replaces every aggregate call with an OVER window in the select list by a reference to a column of an
    /// over-aggregate node added over `input`, which outputs the input columns followed by the aggregates.
    func overAggregates(_ items: inout [SelectItem], input: inout QueryPlan, scope: inout Scope, aggregated: Bool) throws(SQLError) {
        var calls: [Expression] = []
        var window: WindowSpecification?
        for (position, item) in items.enumerated() {
            let rewritten = try item.expression.rewritten { (e: Expression) throws(SQLError) -> Expression? in
                guard case .function(let name, let arguments, let distinct, let over?) = e, Self.aggregateNames.contains(name.name.uppercased())
                else {
                    return nil
                }
                if let window, window != over {
                    throw SQLError.unsupported("Over Agg: Unsupported use of OVER windows. All aggregates must be computed on the same window.")
                }
                window = over
                // Calls are told apart as the binder tells aggregates apart, so that call i is the node's aggregate i.
                let call = Expression.function(name: QualifiedName([name.name.uppercased()]), arguments: arguments, distinct: distinct, over: nil)
                let index: Int
                if let existing = calls.firstIndex(of: call) {
                    index = existing
                } else {
                    calls.append(call)
                    index = calls.count - 1
                }
                return .column(QualifiedName([Self.overFieldPrefix + String(index)]))
            }
            if rewritten != item.expression { items[position] = SelectItem(expression: rewritten, alias: item.alias ?? "EXPR$\(position)") }
        }
        guard let window else { return }
        guard !aggregated else { throw SQLError("OVER aggregates cannot be combined with GROUP BY in the same SELECT; aggregate in a subquery.") }
        guard isSnapshot || input.isAppendOnly else {
            throw SQLError("OverAggregate doesn't support consuming update and delete changes; OVER windows need an append-only input.")
        }
        guard window.orderBy.count <= 1 else { throw SQLError("The window can only be ordered by a single time column.") }

        let width = scope.fields.count
        var keyColumns = OverKeyColumns(width: width)
        func column(_ expression: Expression) throws(SQLError) -> Int { keyColumns.column(try bind(expression, scope)) }
        var partitionKeys: [Int] = []
        for expression in window.partitionBy { partitionKeys.append(try column(expression)) }
        var orderKey: SortKey?
        var orderType: SQLType?
        if let order = window.orderBy.first {
            let index = try column(order.expression)
            orderKey = SortKey(column: index, ascending: order.ascending, nullsFirst: order.nullsFirst)
            orderType = index < width ? scope.fields[index].type : keyColumns.extra[index - width].type
            if !isSnapshot {
                guard index < width, scope.fields[index].isRowtime else {
                    throw SQLError("OVER windows' ordering in stream mode must be defined on a time attribute.")
                }
                guard order.ascending else { throw SQLError("The window can only be ordered in ASCENDING mode.") }
            }
        } else if !isSnapshot {
            throw SQLError("OVER windows' ordering in stream mode must be defined on a time attribute.")
        }
        let (isRows, preceding) = try overFrame(window.frame, orderType: orderType)
        let extra = keyColumns.extra

        let aggregation = AggregationContext(inputScope: scope, groupExpressions: [], boundKeys: [], neverEmpty: true)
        aggregation.splitsDistinctFilters = false
        for call in calls { _ = try bind(call, scope, aggregation: aggregation) }
        precondition(aggregation.calls.count == calls.count, "each distinct OVER call is one aggregate")
        let argumentStart = width + extra.count
        let aggregates = aggregation.calls.map { call in
            var shifted = call
            shifted.argument = call.argument.map { $0 + argumentStart }
            return shifted
        }
        var node = input.node
        if !extra.isEmpty || !aggregation.arguments.isEmpty {
            let identity = scope.fields.indices.map { BoundExpression(.column($0), scope.fields[$0].type) }
            node = .project(node, identity + extra + aggregation.arguments)
        }
        let over = OverWindow(
            partitionKeys: partitionKeys, orderKey: orderKey, isRows: isRows, preceding: preceding, aggregates: aggregates,
            isEventTime: !isSnapshot)
        input.node = .overAggregate(node, over)
        scope.fields += (extra + aggregation.arguments).map { PlanField(name: "", type: $0.type, qualifier: "$hidden") }
        scope.fields += aggregates.indices.map { PlanField(name: Self.overFieldPrefix + String($0), type: aggregates[$0].type, qualifier: nil) }
        input.fields = scope.fields
    }

    /// The frame of an OVER window as (counts rows, preceding extent): nil extent for UNBOUNDED PRECEDING; for RANGE,
    /// the extent is in the ORDER BY key's unit (microseconds for times).
    private func overFrame(_ frame: WindowFrame?, orderType: SQLType?) throws(SQLError) -> (isRows: Bool, preceding: Int64?) {
        guard let frame else { return (false, nil) }
        guard orderType != nil else { throw SQLError("A window frame needs an ORDER BY.") }
        guard frame.end == .currentRow else {
            throw SQLError.unsupported("OVER windows ending after the current row (FOLLOWING) are not supported; frames end at CURRENT ROW.")
        }
        let isRows = frame.unit == .rows
        switch frame.start {
        case .unboundedPreceding: return (isRows, nil)
        case .currentRow: return (isRows, 0)
        case .following, .unboundedFollowing: throw SQLError("A window frame cannot start after the current row.")
        case .preceding(let offset):
            let bound = try bind(offset, Scope(fields: []))
            guard case .int(let extent)? = bound.constant, extent >= 0 else {
                throw SQLError("A window frame's PRECEDING offset must be a non-negative constant, not \(offset.sql).")
            }
            if isRows {
                guard bound.type.isInteger else { throw SQLError("ROWS PRECEDING needs an integer row count, not \(offset.sql).") }
                return (true, extent)
            }
            let isTime: Bool
            switch orderType?.kind {
            case .timestamp?, .timestampLTZ?: isTime = true
            default: isTime = false
            }
            if isTime {
                guard bound.type.kind == .intervalDayTime else {
                    throw SQLError("RANGE PRECEDING over a time ordering needs a day-time interval (INTERVAL '10' MINUTE), not \(offset.sql).")
                }
            } else {
                guard bound.type.isInteger, orderType?.isInteger == true else {
                    throw SQLError("RANGE PRECEDING with an offset needs a time or integer ORDER BY key and an offset of its kind.")
                }
            }
            return (false, extent)
        }
    }
}
