// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Binds the PARTITION BY and ORDER BY expressions of an OVER clause to columns: a bare column by its index, any
/// other expression as an extra column after the input's `width` columns.
struct OverKeyColumns {
    let width: Int
    private(set) var extra: [BoundExpression] = []

    init(width: Int) { self.width = width }

    mutating func column(_ bound: BoundExpression) -> Int {
        if let index = bound.columnIndex { return index }
        extra.append(bound)
        return width + extra.count - 1
    }
}

/// `ROW_NUMBER() OVER (…)`: Top-N and deduplication.
extension QueryAnalyzer {
    /// The name the row number column has in the scope of the select list.
    static let rowNumberField = "$rownumber"

    /// Replaces a `ROW_NUMBER() OVER (PARTITION BY … ORDER BY …)` item of the select list by a reference to a rank
    /// node's row-number column, adding that node over `input`.
    func rowNumbers(_ items: inout [SelectItem], input: inout QueryPlan, scope: inout Scope, aggregated: Bool) throws(SQLError) {
        for (position, item) in items.enumerated() {
            guard case .function(let name, let arguments, _, let over?) = item.expression else { continue }
            let function = name.name.uppercased()
            guard case .rowNumber? = library.registry[function]?.binding else { throw Self.unsupportedOver(function) }
            guard arguments.isEmpty else { throw SQLError("ROW_NUMBER takes no arguments.") }
            guard !aggregated else {
                throw SQLError("ROW_NUMBER() OVER cannot be combined with GROUP BY in the same SELECT; aggregate in a subquery.")
            }
            guard !over.orderBy.isEmpty else { throw SQLError("ROW_NUMBER() OVER needs an ORDER BY.") }
            guard !scope.fields.contains(where: { $0.name == Self.rowNumberField }) else {
                throw SQLError("Only one ROW_NUMBER() OVER is supported per SELECT.")
            }
            var keyColumns = OverKeyColumns(width: scope.fields.count)
            func column(_ expression: Expression) throws(SQLError) -> Int { keyColumns.column(try bind(expression, scope)) }
            var partitionKeys: [Int] = []
            for expression in over.partitionBy { partitionKeys.append(try column(expression)) }
            var sortKeys: [SortKey] = []
            for order in over.orderBy {
                sortKeys.append(SortKey(column: try column(order.expression), ascending: order.ascending, nullsFirst: order.nullsFirst))
            }
            let extra = keyColumns.extra
            var node = input.node
            if !extra.isEmpty {
                let identity = scope.fields.indices.map { BoundExpression(.column($0), scope.fields[$0].type) }
                node = .project(node, identity + extra)
                scope.fields += extra.map { PlanField(name: "", type: $0.type, qualifier: "$hidden") }
            }
            if let window = windowPartition(partitionKeys, fields: scope.fields, input: input) {
                // Window Top-N / deduplication: numbered once per window, when it fires.
                input.node = .windowRank(
                    node, partitionKeys: partitionKeys, sortKeys: sortKeys, limit: nil, windowEnd: window.end, localZone: window.zone)
            } else {
                input.node = .rank(node, partitionKeys: partitionKeys, sortKeys: sortKeys, limit: nil, insertOnlyInput: input.isAppendOnly)
                input.isAppendOnly = isSnapshot
            }
            input.fields = scope.fields
            scope.fields.append(PlanField(name: Self.rowNumberField, type: SQLType(.bigint, nullable: false), qualifier: nil))
            input.fields = scope.fields
            items[position] = SelectItem(expression: .column(QualifiedName([Self.rowNumberField])), alias: item.alias ?? "EXPR$\(position)")
        }
    }

    /// The `window_end` column and zone when a streaming ROW_NUMBER partitions append-only windowed rows by their
    /// window (`window_start` and `window_end` among its keys): a window Top-N.
    private func windowPartition(_ partitionKeys: [Int], fields: [PlanField], input: QueryPlan) -> (end: Int, zone: String?)? {
        guard !isSnapshot, input.isAppendOnly, partitionKeys.contains(where: { $0 < fields.count && fields[$0].windowRole == .start }),
            let end = partitionKeys.first(where: { $0 < fields.count && fields[$0].windowRole == .end }),
            !fields.contains(where: { $0.windowRole == .time && !$0.isRowtime })
        else { return nil }
        return (end, windowZone(fields))
    }

    /// The session zone when windowed rows come from LTZ windows (their `window_time` is a TIMESTAMP_LTZ).
    func windowZone(_ fields: [PlanField]) -> String? {
        guard let time = fields.first(where: { $0.windowRole == .time }), case .timestampLTZ = time.type.kind else { return nil }
        return sessionZone
    }

    /// `WHERE rn <= N` (also `rn < N`, `rn = 1`, `N >= rn`) over a subquery whose rows are numbered by a rank node with
    /// no limit yet: the limit moves into the rank node (Flink's Top-N) and the condition goes.
    static func applyRankLimit(_ conjuncts: inout [BoundExpression], to node: inout PlanNode) {
        guard case .project(let rankNode, let outputs) = node else { return }
        let input: PlanNode
        let withLimit: (Int) -> PlanNode
        switch rankNode {
        case .rank(let inner, let partitionKeys, let sortKeys, nil, let insertOnly):
            input = inner
            withLimit = { .rank(inner, partitionKeys: partitionKeys, sortKeys: sortKeys, limit: $0, insertOnlyInput: insertOnly) }
        case .windowRank(let inner, let partitionKeys, let sortKeys, nil, let windowEnd, let zone):
            input = inner
            withLimit = { .windowRank(inner, partitionKeys: partitionKeys, sortKeys: sortKeys, limit: $0, windowEnd: windowEnd, localZone: zone) }
        default: return
        }
        let rowNumber = (try? PhysicalPlanner.outputTypes(of: input).count) ?? -1
        func integer(_ expression: BoundExpression) -> Int64? {
            if case .int(let value)? = expression.constant { return value }
            if case .cast(let inner, _) = expression.node, case .int(let value)? = inner.constant { return value }
            return nil
        }
        func isRowNumber(_ expression: BoundExpression) -> Bool {
            var inner = expression
            if case .cast(let operand, _) = inner.node { inner = operand }
            guard let column = inner.columnIndex, column < outputs.count else { return false }
            return outputs[column].columnIndex == rowNumber
        }
        for (index, conjunct) in conjuncts.enumerated() {
            guard case .compare(let op, let a, let b) = conjunct.node else { continue }
            var limit: Int64?
            if isRowNumber(a), let n = integer(b) {
                switch op {
                case .lessOrEqual: limit = n
                case .less: limit = n - 1
                case .equal where n == 1: limit = 1
                default: break
                }
            } else if isRowNumber(b), let n = integer(a) {
                switch op {
                case .greaterOrEqual: limit = n
                case .greater: limit = n - 1
                case .equal where n == 1: limit = 1
                default: break
                }
            }
            guard let limit, limit >= 1 else { continue }
            node = .project(withLimit(Int(limit)), outputs)
            conjuncts.remove(at: index)
            return
        }
    }
}
