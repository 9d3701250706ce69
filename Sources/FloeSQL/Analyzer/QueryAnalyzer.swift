// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Columns visible to an expression: the fields of the FROM clause.
struct Scope: Sendable {
    var fields: [PlanField]

    /// The index of the column `name` refers to.
    func resolve(_ name: QualifiedName) throws(SQLError) -> Int {
        let matches: [Int]
        switch name.parts.count {
        case 1: matches = fields.indices.filter { fields[$0].name == name.parts[0] }
        default:
            let qualifier = name.parts[name.parts.count - 2]
            matches = fields.indices.filter { fields[$0].name == name.name && fields[$0].qualifier == qualifier }
        }
        guard let first = matches.first else {
            if name.parts.count > 1, !fields.contains(where: { $0.qualifier == name.parts[name.parts.count - 2] }) {
                throw SQLError("Table '\(name.parts[name.parts.count - 2])' not found", at: name.origin.span)
            }
            throw SQLError("Column '\(name.parts.joined(separator: "."))' not found in any table", at: name.origin.span)
        }
        guard matches.count == 1 else { throw SQLError("Column '\(name.name)' is ambiguous", at: name.origin.span) }
        return first
    }
}

/// The aggregates and group keys of a SELECT being analyzed.
final class AggregationContext {
    let inputScope: Scope
    let groupExpressions: [Expression]
    var boundKeys: [BoundExpression]
    var arguments: [BoundExpression] = []
    var calls: [AggregateCall] = []
    var callTexts: [String] = []
    /// Whether `COUNT(DISTINCT CASE WHEN c THEN x END)` (what `FILTER (WHERE c)` becomes) is bound as a count of `x`
    /// with the filter `c` (`AggregateCall.filter`); the group aggregations honour filters, OVER windows do not.
    var splitsDistinctFilters = true
    /// Whether every group holds at least one row even without group keys (an OVER window that ends at the current
    /// row): SUM, AVG, MIN and MAX of a NOT NULL argument are then NOT NULL.
    let neverEmpty: Bool

    init(inputScope: Scope, groupExpressions: [Expression], boundKeys: [BoundExpression], neverEmpty: Bool = false) {
        self.inputScope = inputScope
        self.groupExpressions = groupExpressions
        self.boundKeys = boundKeys
        self.neverEmpty = neverEmpty
    }
}

/// Turns queries into plans: resolves names, derives types, checks semantics as Flink does.
struct QueryAnalyzer {
    var resolver: NameResolver
    var library: FunctionLibrary
    /// `sql.snapshot.mode = now`: sources end at their current end and the result is final (batch semantics).
    var isSnapshot: Bool
    /// Where filesystem tables may read.
    var fileSystem: FileSystemAccess = .unrestricted
    /// Common table expressions in scope, innermost last.
    var ctes: [String: (columns: [String], query: Query)] = [:]
    /// Views being expanded (to reject cycles).
    var expanding: Set<String> = []
    /// How deep the texts of the views and common table expressions being expanded nest, added up along the way to the
    /// query being analyzed: the parser bounds each text, this bounds what expanding them nests (a view of a view of a
    /// view …), so that every recursion over the expanded query stays within ``SQLLimits/nestingDepth`` beyond the
    /// statement's own text.
    var expansionNesting = 0
    /// The view and CTE expansions of the statement so far, shared by every copy of the analyzer (and every query of a
    /// statement set): a view that uses the view below it twice doubles the plan at each level, which only a count of
    /// all expansions stops.
    var expansions = ExpansionCount()

    /// Counts expansions across the copies of one statement's analyzer.
    final class ExpansionCount {
        var count = 0
    }

    /// The names of the aggregate functions, from the function registry.
    static let aggregateNames: Set<String> = FunctionRegistry.builtIn.names(of: .aggregate)

    // MARK: Queries

    func analyze(_ query: Query) throws(SQLError) -> QueryPlan {
        var inner = self
        for entry in query.with { inner.ctes[entry.name] = (entry.columns, entry.query) }
        var plan = try inner.body(query.body, orderBy: query.orderBy)
        let limit = try inner.constantInteger(query.limit, clause: "LIMIT")
        let offset = try inner.constantInteger(query.offset, clause: "OFFSET") ?? 0
        if !query.orderBy.isEmpty {
            if case .sort = plan.node {} else { plan = try inner.sort(plan, query.orderBy) }
            guard case .sort(let input, let keys, _, _) = plan.node else { return plan }
            if !plan.isBounded && limit == nil {
                throw SQLError.unsupported("Sort on a non-time-attribute field is not supported.")
            }
            plan.node = .sort(input, keys: keys, limit: limit, offset: offset)
            if !plan.isBounded || (!isSnapshot && !plan.isAppendOnly) {
                plan.isAppendOnly = false
            }
            plan = inner.dropHidden(plan)
        } else if limit != nil || offset > 0 {
            plan.node = .limit(plan.node, limit: limit, offset: offset)
        }
        return plan
    }

    /// How a table stores the strategy `WATERMARK FOR $rowtime AS SOURCE_WATERMARK()` (however it was spelled).
    static let sourceWatermark = "SOURCE_WATERMARK()"

    /// `SOURCE_WATERMARK()` here: the greatest time seen less 1 ms (as Flink's bounded out-of-orderness with no delay
    /// emits), so that rows of the same millisecond as the latest one are never late.
    func sourceWatermarkExpression(_ column: Int, _ type: SQLType) throws(SQLError) -> BoundExpression {
        try temporalArithmetic("-", BoundExpression(.column(column), type), .literal(.int(1000), SQLType(.intervalDayTime, nullable: false)))
    }

    /// Removes the sort-only columns a sort added past the visible fields.
    func dropHidden(_ plan: QueryPlan) -> QueryPlan {
        let visible = plan.fields.filter { $0.qualifier != "$hidden" }
        guard visible.count < plan.fields.count else { return plan }
        var result = plan
        result.node = .project(plan.node, visible.indices.map { BoundExpression(.column($0), visible[$0].type) })
        result.fields = visible
        return result
    }

    func constantInteger(_ expression: Expression?, clause: String) throws(SQLError) -> Int? {
        guard let expression else { return nil }
        guard case .number(let text) = expression, let value = Int(text), value >= 0 else {
            throw SQLError("\(clause) must be a non-negative integer literal.")
        }
        return value
    }

    func body(_ body: QueryBody, orderBy: [OrderItem] = []) throws(SQLError) -> QueryPlan {
        switch body {
        case .select(let select): return try self.select(select, orderBy: orderBy)
        case .values(let rows): return try values(rows)
        case .nested(let query): return try analyze(query)
        case .setOperation(let op, let all, let left, let right, let origin):
            let l = try self.body(left)
            let r = try self.body(right)
            guard l.fields.count == r.fields.count else {
                throw SQLError("Column count mismatch in \(all ? op + " ALL" : op)", at: origin.span)
            }
            var fields = l.fields
            var leftCasts: [BoundExpression] = []
            var rightCasts: [BoundExpression] = []
            for i in fields.indices {
                guard let common = SQLType.common(l.fields[i].type, r.fields[i].type) else {
                    throw SQLError(
                        "Type mismatch in column \(i + 1) of \(all ? op + " ALL" : op): \(l.fields[i].type.errorSpelling) and \(r.fields[i].type.errorSpelling)",
                        at: origin.span)
                }
                fields[i] = PlanField(name: l.fields[i].name, type: common, qualifier: nil)
                leftCasts.append(BoundExpression(.column(i), l.fields[i].type).casted(to: common))
                rightCasts.append(BoundExpression(.column(i), r.fields[i].type).casted(to: common))
            }
            guard op == "UNION" else { throw SQLError.unsupported("\(op) is not supported yet.", at: origin.span) }
            var plan = QueryPlan(
                node: .union([.project(l.node, leftCasts), .project(r.node, rightCasts)]), fields: fields,
                isBounded: l.isBounded && r.isBounded, isAppendOnly: l.isAppendOnly && r.isAppendOnly, upsertKeys: nil)
            if !all {
                // UNION (distinct) is a grouping on every column.
                let keys = fields.indices.map { BoundExpression(.column($0), fields[$0].type) }
                plan = QueryPlan(
                    node: .aggregate(.project(plan.node, keys), keyCount: fields.count, aggregates: []), fields: fields,
                    isBounded: plan.isBounded, isAppendOnly: isSnapshot || false, upsertKeys: isSnapshot ? nil : Array(fields.indices))
            }
            return plan
        }
    }

    func values(_ rows: [[Expression]]) throws(SQLError) -> QueryPlan {
        guard let width = rows.first?.count else { throw SQLError("VALUES needs at least one row.") }
        let empty = Scope(fields: [])
        var bound: [[BoundExpression]] = []
        for row in rows {
            guard row.count == width else { throw SQLError("Values passed to VALUES operator must have compatible types") }
            var boundRow: [BoundExpression] = []
            for expression in row { boundRow.append(try bind(expression, empty)) }
            bound.append(boundRow)
        }
        var types: [SQLType] = []
        for column in 0..<width {
            var type = bound[0][column].type
            for row in bound.dropFirst() {
                guard let common = SQLType.common(type, row[column].type) else {
                    throw SQLError("Values passed to VALUES operator must have compatible types")
                }
                type = common
            }
            // Flink widens CHAR literals of different lengths in VALUES to VARCHAR.
            if case .char(let n) = type.kind, bound.contains(where: { $0[column].type.length != n }) {
                type = SQLType(.varchar(n), nullable: type.nullable)
            }
            types.append(type)
        }
        let casted = bound.map { row in row.indices.map { row[$0].casted(to: types[$0]) } }
        let fields = types.indices.map { PlanField(name: "EXPR$\($0)", type: types[$0], qualifier: nil) }
        return QueryPlan(node: .values(casted, types: types), fields: fields, isBounded: true, isAppendOnly: true, upsertKeys: nil)
    }

    // MARK: FROM

    func tableReference(_ reference: TableReference) throws(SQLError) -> QueryPlan {
        switch reference {
        case .named(let name, let alias, _):
            var plan: QueryPlan
            if name.parts.count == 1, let cte = ctes[name.name] {
                var inner = try expanding(cte.query)
                inner.ctes[name.name] = nil
                plan = try inner.analyze(cte.query)
                plan = try rename(plan, columns: cte.columns)
            } else {
                plan = try namedObject(name)
            }
            return try rename(plan, alias: alias ?? TableAlias(name: name.name))
        case .subquery(let query, let alias):
            let plan = try analyze(query)
            return try alias.map { alias throws(SQLError) in try rename(plan, alias: alias) } ?? plan
        case .join(let leftReference, let rightReference, let kind, let on, let using):
            let left = try tableReference(leftReference)
            let right = try tableReference(rightReference)
            // A regular join's output has no time attributes and no window columns: its rows are not ordered by time any
            // more. The fields of the side an outer join pads become nullable.
            let padsLeft = kind == .right || kind == .full
            let padsRight = kind == .left || kind == .full
            let fields =
                left.fields.map { field in
                    var f = field
                    if padsLeft { f.type = f.type.withNullable(true) }
                    f.isRowtime = false
                    f.windowRole = nil
                    return f
                }
                + right.fields.map { field in
                    var f = field
                    if padsRight { f.type = f.type.withNullable(true) }
                    f.isRowtime = false
                    f.windowRole = nil
                    return f
                }
            /// The joined fields of a join that keeps time order (window, interval, temporal): window columns keep their
            /// roles, and the time attributes of the sides that are not padded stay.
            func timedFields(keepsTimeAttributes: Bool) -> [PlanField] {
                var timed = fields
                for (index, field) in left.fields.enumerated() {
                    timed[index].windowRole = field.windowRole
                    if !padsLeft, keepsTimeAttributes || field.windowRole == .time { timed[index].isRowtime = field.isRowtime }
                }
                for (index, field) in right.fields.enumerated() {
                    timed[left.fields.count + index].windowRole = field.windowRole
                    if !padsRight, keepsTimeAttributes || field.windowRole == .time { timed[left.fields.count + index].isRowtime = field.isRowtime }
                }
                return timed
            }
            let scope = Scope(fields: left.fields + right.fields)
            var condition: BoundExpression?
            if let on {
                condition = try bind(on, scope)
                guard condition!.type.kind == .boolean || condition!.type.isNull else {
                    throw SQLError("ON clause must be a condition, but was of type \(condition!.type.errorSpelling)")
                }
            } else if !using.isEmpty {
                var parts: [BoundExpression] = []
                for column in using {
                    let l = try Scope(fields: left.fields).resolve(QualifiedName([column]))
                    let r = try Scope(fields: right.fields).resolve(QualifiedName([column]))
                    parts.append(
                        try compare(
                            .equal, BoundExpression(.column(l), left.fields[l].type),
                            BoundExpression(.column(left.fields.count + r), right.fields[r].type)))
                }
                condition = BoundExpression(.and(parts), SQLType(.boolean))
            }
            let joinKind = kind == .cross ? JoinKind.inner : kind
            let isBounded = left.isBounded && right.isBounded
            if case .named(_, _, let asOf?) = rightReference {
                return try temporalJoin(left: left, right: right, kind: joinKind, condition: condition, asOf: asOf, fields: fields)
            }
            // An inner join's conditions on one side filter that side first; what remains joins.
            var leftNode = left.node
            var rightNode = right.node
            var joinCondition = condition
            if joinKind == .inner, let condition,
                case .join(let l, let r, _, let remaining, _, _) = Self.pushingDown(
                    condition.conjuncts,
                    into: .join(left.node, right.node, kind: .inner, condition: nil, leftTypes: left.types, rightTypes: right.types))
            {
                (leftNode, rightNode, joinCondition) = (l, r, remaining)
            }
            // Equal window_start and window_end of two windowed inputs make a window join: each window joined once.
            if !isSnapshot, left.isAppendOnly, right.isAppendOnly, let joinCondition,
                let window = Self.windowJoinColumns(joinCondition, left: left.fields, right: right.fields)
            {
                let spec = WindowJoinSpec(
                    kind: joinKind, condition: joinCondition, leftTypes: left.types, rightTypes: right.types, leftEnd: window.leftEnd,
                    rightEnd: window.rightEnd, localZone: windowZone(left.fields))
                return QueryPlan(
                    node: .windowJoin(leftNode, rightNode, spec), fields: timedFields(keepsTimeAttributes: false), isBounded: isBounded,
                    isAppendOnly: true, upsertKeys: nil)
            }
            // Time bounds between the two sides' time attributes make a streaming join of append-only inputs an interval
            // join: append-only even when outer, and the time attributes stay.
            if !isSnapshot, left.isAppendOnly, right.isAppendOnly, let joinCondition,
                let bounds = Self.intervalBounds(joinCondition, left: left.fields, right: right.fields)
            {
                let spec = IntervalJoinSpec(kind: joinKind, condition: joinCondition, leftTypes: left.types, rightTypes: right.types, bounds: bounds)
                return QueryPlan(
                    node: .intervalJoin(leftNode, rightNode, spec), fields: timedFields(keepsTimeAttributes: true), isBounded: isBounded,
                    isAppendOnly: true, upsertKeys: nil)
            }
            let node = PlanNode.join(leftNode, rightNode, kind: joinKind, condition: joinCondition, leftTypes: left.types, rightTypes: right.types)
            let appendOnly = isSnapshot || (left.isAppendOnly && right.isAppendOnly && !padsLeft && !padsRight)
            return QueryPlan(node: node, fields: fields, isBounded: isBounded, isAppendOnly: appendOnly, upsertKeys: nil)
        case .tableFunction(let call, let alias):
            let plan: QueryPlan
            do { plan = try windowFunction(call) } catch { throw error.located(call.span) }
            return try alias.map { alias throws(SQLError) in try rename(plan, alias: alias) } ?? plan
        case .unnest:
            throw SQLError.unsupported("UNNEST is not supported yet.")
        }
    }

    /// The scan of a table (its log, generator, files, or Kafka topic) with its computed and metadata columns, its
    /// watermark and its changelog.
    func tablePlan(_ table: TableEntry, qualifiedName: String, kafka: KafkaTable?) throws(SQLError) -> QueryPlan {
        let physical = table.physicalColumns
        var kafka = kafka
        var resolved: (ConnectorFactory, TableConnector)?
        if kafka == nil {
            resolved = try ConnectorRegistry.connector(of: table, fileSystem: fileSystem)
            if case .kafka(let options)? = resolved?.1 {
                // Apache Flink's Kafka connectors: a topic of an attached cluster the statement may use.
                kafka = try KafkaTable.resolve(flink: options, entry: table, in: resolver.session.kafkaDatabases)
            }
        }
        // A table's log yields `$rowtime`, each row's append time, and so do faker's rows and Kafka records (their
        // timestamps). A Kafka scan also yields the metadata columns, after the physical ones.
        let hasRowtime: Bool
        var isBounded: Bool
        var node: PlanNode
        var scanned: [ColumnEntry] = physical
        if let kafka {
            hasRowtime = true
            let metadata = table.columns.filter { $0.metadataKey != nil }
            try KafkaScanSpec.checkMetadataColumns(metadata, table: qualifiedName)
            scanned += metadata
            var spec = KafkaScanSpec(table: kafka, metadataKeys: metadata.map { $0.metadataKey! }, isSnapshot: isSnapshot)
            spec.qualifiedName = qualifiedName
            if let target = kafka.settings.deadLetterTarget {
                guard let topic = try kafka.database.cluster.describeTopic(target) else {
                    throw SQLError.runtime(
                        "The dead-letter table '\(target)' of \(qualifiedName) does not exist ('error-handling.mode' = 'log'); "
                            + "ALTER TABLE … SET ('error-handling.mode' = 'log') makes it.")
                }
                let overrides = resolver.snapshot.kafkaOverrides(cluster: kafka.database.id, topic: target)
                spec.deadLetters = try KafkaTable.resolve(topic, in: kafka.database, overrides: overrides)
            }
            // `SOURCE_WATERMARK()` on `$rowtime`, declared or the default, is computed per partition by the source.
            spec.sourceWatermark =
                !isSnapshot
                && (table.watermarkColumn == nil
                    || (table.watermarkColumn == PlanField.rowtimeName && table.watermarkExpression == Self.sourceWatermark))
            node = .kafkaScan(spec, name: qualifiedName, types: scanned.map(\.type) + [PlanField.rowtimeType])
            isBounded = kafka.settings.bounded != .unbounded
        } else {
            guard let (factory, connector) = resolved else { preconditionFailure("a table is a Kafka topic or has a connector") }
            try factory.requireSource()
            hasRowtime = factory.hasRowtime
            isBounded = connector.isBounded
            switch connector {
            case .log: node = .tableScan(tableID: table.id, name: qualifiedName, types: physical.map(\.type) + [PlanField.rowtimeType])
            case .generated(let spec): node = .generated(spec, name: qualifiedName)
            case .files(let spec): node = .files(spec, name: qualifiedName)
            case .blackhole: throw SQLError.runtime("A blackhole table has no rows to read.")
            case .kafka: preconditionFailure("Kafka tables are scanned above")
            }
            if case .generated(let generator) = connector, generator.rowLimit == nil, isSnapshot {
                throw SQLError("Table \(qualifiedName) generates rows without end ('number-of-rows' is not set), so it cannot be read as a snapshot.")
            }
        }
        var fields = scanned.map { PlanField(name: $0.name, type: $0.type, qualifier: nil) }
        let rowtimeField = PlanField(name: PlanField.rowtimeName, type: PlanField.rowtimeType, qualifier: nil, isSystem: true)
        if hasRowtime { fields.append(rowtimeField) }
        if scanned.count != table.columns.count || scanned.count != physical.count {
            // Computed columns are evaluated over the scanned ones; metadata columns a scan does not yield read as NULL.
            let scope = Scope(fields: fields)
            var expressions: [BoundExpression] = []
            var allFields: [PlanField] = []
            for column in table.columns {
                if let index = scanned.firstIndex(where: { $0.name == column.name }) {
                    expressions.append(BoundExpression(.column(index), column.type))
                } else if let text = column.computed {
                    let parsed: Expression
                    do { parsed = try Parser.parseExpression(text) } catch { throw SQLError("Invalid computed column \(column.name): \(error)") }
                    expressions.append(try bind(parsed, scope))
                } else {
                    expressions.append(.literal(.null, column.type.withNullable(true)))
                }
                allFields.append(PlanField(name: column.name, type: expressions.last!.type, qualifier: nil))
            }
            if hasRowtime {
                expressions.append(BoundExpression(.column(scanned.count), PlanField.rowtimeType))
                allFields.append(rowtimeField)
            }
            node = .project(node, expressions)
            fields = allFields
        }
        if let rowtime = table.watermarkColumn, let index = fields.firstIndex(where: { $0.name == rowtime }) {
            fields[index].isRowtime = true
            // A snapshot is read as a batch: time attributes are plain timestamps and nothing waits for watermarks.
            if !isSnapshot, let text = table.watermarkExpression {
                if text == Self.sourceWatermark {
                    node = .watermark(
                        node, rowtime: index, expression: try sourceWatermarkExpression(index, fields[index].type), perRecord: false)
                } else {
                    node = .watermark(
                        node, rowtime: index, expression: try watermarkStrategy(text, over: fields, table: qualifiedName), perRecord: true)
                }
            }
        } else if hasRowtime, let index = fields.lastIndex(where: { $0.name == PlanField.rowtimeName && $0.isSystem }) {
            // Confluent's default: `WATERMARK FOR $rowtime AS SOURCE_WATERMARK()`.
            fields[index].isRowtime = true
            if !isSnapshot {
                node = .watermark(node, rowtime: index, expression: try sourceWatermarkExpression(index, PlanField.rowtimeType), perRecord: false)
            }
        }
        var isAppendOnly = true
        var upsertKeys: [Int]?
        if hasRowtime {
            switch table.changelogMode {
            case .append: break
            case .upsert:
                // Upserts by primary key, normalized into a changelog (after the watermark assigner, as in Flink).
                var keys: [Int] = []
                for key in table.primaryKey {
                    guard let index = fields.firstIndex(where: { $0.name == key }) else {
                        throw SQLError("Table \(qualifiedName) has primary key column '\(key)', which it no longer has.")
                    }
                    keys.append(index)
                }
                node = .changelogNormalize(node, keys: keys, ignoring: fields.lastIndex { $0.isSystem })
                isAppendOnly = isSnapshot
                upsertKeys = isSnapshot ? nil : keys
            case .retract:
                isAppendOnly = false
            }
        }
        return QueryPlan(
            node: node, fields: fields, isBounded: isSnapshot || isBounded, isAppendOnly: isAppendOnly,
            upsertKeys: upsertKeys)
    }

    func namedObject(_ name: QualifiedName) throws(SQLError) -> QueryPlan {
        switch try resolver.object(name) {
        case .system(let catalog, let table):
            let fields = SystemTables.fields(table).map { PlanField(name: $0.name, type: $0.type, qualifier: nil) }
            return QueryPlan(node: .systemTable(table, catalogID: catalog.id), fields: fields, isBounded: true, isAppendOnly: true, upsertKeys: nil)
        case .table(let catalog, let database, let table):
            return try tablePlan(table, qualifiedName: "\(catalog.name).\(database).\(table.name)", kafka: nil)
        case .kafkaTopic(let catalog, let kafka):
            return try tablePlan(kafka.entry, qualifiedName: "\(catalog.name).\(kafka.database.name).\(kafka.topic.name)", kafka: kafka)
        case .view(let catalog, let database, let view):
            let key = "\(catalog.id).\(database).\(view.name)"
            guard !expanding.contains(key) else { throw SQLError("View \(view.name) refers to itself.") }
            var inner = self
            inner.expanding.insert(key)
            inner.ctes = [:]
            var properties = resolver.session.properties
            // Flink expands a view's names where it was created, not where it lives.
            properties["sql.current-catalog"] = view.creationCatalogID ?? catalog.id
            properties["sql.current-database"] = view.creationDatabase ?? database
            inner.resolver.session.properties = properties
            let query: Query
            do {
                guard case .query(let parsed) = try Parser.parseStatement(view.query) else { throw SQLError("View \(view.name) is not a query.") }
                query = parsed
            } catch let error as SQLSyntaxError {
                throw SQLError("View \(view.name) cannot be parsed: \(error.flinkMessage)", exceedsLimit: error.exceedsLimit)
            } catch let error as SQLError {
                throw error
            } catch {
                throw SQLError("\(error)")
            }
            let plan: QueryPlan
            do {
                plan = try inner.expanding(query).analyze(query)
            } catch {
                // Positions inside the view's stored text mean nothing in this statement.
                throw error.unlocated
            }
            return try rename(plan, columns: view.columnNames.count == plan.fields.count ? view.columnNames : [])
        }
    }

    /// A copy of the analyzer for expanding `query`, the text of one more view or common table expression.
    func expanding(_ query: Query) throws(SQLError) -> QueryAnalyzer {
        expansions.count += 1
        guard expansions.count <= SQLLimits.expansions else {
            throw SQLError(
                "SQL statement expands too many views and common table expressions (limit \(SQLLimits.expansions)); a view that uses another view several times expands it every time.",
                exceedsLimit: true)
        }
        var inner = self
        inner.expansionNesting += NestingProbe(limit: SQLLimits.nestingDepth - expansionNesting).depth(query)
        guard inner.expansionNesting <= SQLLimits.nestingDepth else { throw SQLError.tooDeeplyNested }
        return inner
    }

    func rename(_ plan: QueryPlan, columns: [String]) throws(SQLError) -> QueryPlan {
        guard !columns.isEmpty else { return plan }
        guard columns.count == plan.fields.count else {
            throw SQLError(
                "List of column aliases must have same degree as table; table has \(plan.fields.count) columns, whereas alias list has \(columns.count) columns"
            )
        }
        var result = plan
        for i in columns.indices { result.fields[i].name = columns[i] }
        return result
    }

    func rename(_ plan: QueryPlan, alias: TableAlias) throws(SQLError) -> QueryPlan {
        var result = try rename(plan, columns: alias.columns)
        for i in result.fields.indices { result.fields[i].qualifier = alias.name }
        return result
    }

    // MARK: SELECT

    /// The first aggregate call in `expression` (outside OVER windows and subqueries), for errors that point at it.
    func firstAggregate(in expression: Expression) -> Expression? {
        var found: Expression?
        _ = expression.rewritten { (part: Expression) -> Expression? in
            guard found == nil else { return part }
            if case .function(let name, _, _, nil) = part, Self.aggregateNames.contains(name.name.uppercased()) {
                found = part
                return part
            }
            return nil
        }
        return found
    }

    func isAggregate(_ expression: Expression) -> Bool {
        switch expression {
        case .function(let name, let arguments, _, let over):
            if over == nil, Self.aggregateNames.contains(name.name.uppercased()) { return true }
            return arguments.contains(where: isAggregate)
        case .unary(_, let e, _), .isNull(let e, _), .isTruth(let e, _, _), .cast(let e, _, _, _), .extract(_, let e): return isAggregate(e)
        case .binary(_, let a, let b, _), .isDistinctFrom(let a, let b, _), .element(let a, let b): return isAggregate(a) || isAggregate(b)
        case .between(let a, let b, let c, _, _): return isAggregate(a) || isAggregate(b) || isAggregate(c)
        case .inList(let a, let list, _, _): return isAggregate(a) || list.contains(where: isAggregate)
        case .like(let a, let b, _, _, _, _): return isAggregate(a) || isAggregate(b)
        case .caseWhen(let operand, let branches, let otherwise, _):
            return (operand.map(isAggregate) ?? false) || branches.contains { isAggregate($0.condition) || isAggregate($0.result) }
                || (otherwise.map(isAggregate) ?? false)
        case .row(let items), .array(let items), .map(let items): return items.contains(where: isAggregate)
        default: return false
        }
    }

    func select(_ written: Select, orderBy: [OrderItem]) throws(SQLError) -> QueryPlan {
        var select = written
        // Over an inner join, WHERE conditions are join conditions: time bounds in them make an interval join.
        if case .join(let left, let right, let kind, let on, let using)? = select.from, kind == .inner || kind == .cross, using.isEmpty,
            let filter = select.filter, !isAggregate(filter)
        {
            select.from = .join(left, right, kind: .inner, on: on.map { .binary("AND", $0, filter) } ?? filter, using: [])
            select.filter = nil
        }
        var input: QueryPlan
        if let from = select.from {
            input = try tableReference(from)
        } else {
            input = QueryPlan(node: .values([[]], types: []), fields: [], isBounded: true, isAppendOnly: true, upsertKeys: nil)
        }
        var scope = Scope(fields: input.fields)
        if let filter = select.filter {
            if let aggregate = firstAggregate(in: filter) {
                throw SQLError("Aggregate expression is illegal in WHERE clause", at: aggregate.span)
            }
            let condition = try bind(filter, scope)
            guard condition.type.kind == .boolean || condition.type.isNull else {
                throw SQLError("WHERE clause must be a condition, but was of type \(condition.type.errorSpelling)", at: filter.span)
            }
            var conjuncts = condition.conjuncts
            Self.applyRankLimit(&conjuncts, to: &input.node)
            input.node = Self.pushingDown(conjuncts, into: input.node)
        }
        // Expand `*`.
        var items: [SelectItem] = []
        for item in select.items {
            if case .star(let qualifier) = item.expression {
                // System columns (`$rowtime`) are selected by name only.
                let matching = scope.fields.indices.filter {
                    !scope.fields[$0].isSystem && (qualifier == nil || scope.fields[$0].qualifier == qualifier?.name)
                }
                if matching.isEmpty, let qualifier { throw SQLError("Unknown identifier '\(qualifier.name)'", at: qualifier.origin.span) }
                if matching.isEmpty { throw SQLError("SELECT * needs a FROM clause with columns") }
                for index in matching {
                    let field = scope.fields[index]
                    let name = field.qualifier.map { [$0, field.name] } ?? [field.name]
                    items.append(SelectItem(expression: .column(QualifiedName(name)), alias: field.name))
                }
            } else {
                items.append(item)
            }
        }
        let aggregated = !select.groupBy.isEmpty || select.having != nil || items.contains { isAggregate($0.expression) }
        let inputWidth = input.fields.count
        try overAggregates(&items, input: &input, scope: &scope, aggregated: aggregated)
        try rowNumbers(&items, input: &input, scope: &scope, aggregated: aggregated)
        // An updating input's upsert key survives a plain projection that keeps its columns (not a ranking).
        let inputKeys = input.fields.count == inputWidth ? input.upsertKeys : nil
        var aggregation: AggregationContext?
        if aggregated {
            var keys: [BoundExpression] = []
            for expression in select.groupBy {
                if let aggregate = firstAggregate(in: expression) {
                    throw SQLError("Aggregate expression is illegal in GROUP BY clause", at: aggregate.span)
                }
                keys.append(try bind(expression, scope))
            }
            aggregation = AggregationContext(inputScope: scope, groupExpressions: select.groupBy, boundKeys: keys)
        }
        // The select list.
        var outputs: [BoundExpression] = []
        var fields: [PlanField] = []
        for (position, item) in items.enumerated() {
            let bound = try bind(item.expression, scope, aggregation: aggregation)
            outputs.append(bound)
            let name: String
            if let alias = item.alias {
                name = alias
            } else if case .column(let column) = item.expression {
                name = column.name
            } else {
                name = "EXPR$\(position)"
            }
            var field = PlanField(name: name, type: bound.type, qualifier: nil)
            if aggregation == nil, let index = bound.columnIndex {
                field.isRowtime = scope.fields[index].isRowtime
                field.windowRole = scope.fields[index].windowRole
            }
            fields.append(field)
        }
        var having: BoundExpression?
        if let condition = select.having {
            having = try bind(condition, scope, aggregation: aggregation)
            guard having!.type.kind == .boolean else {
                throw SQLError("HAVING clause must be a condition, but was of type \(having!.type.errorSpelling)", at: condition.span)
            }
        }
        // ORDER BY keys that are not output columns become hidden outputs.
        var hiddenOrder: [BoundExpression] = []
        for item in orderBy where try outputIndex(item.expression, fields) == nil {
            if case .number = item.expression { continue }
            hiddenOrder.append(try bind(item.expression, scope, aggregation: aggregation))
        }
        var plan = input
        if let aggregation {
            let keyCount = aggregation.boundKeys.count
            let projected = PlanNode.project(input.node, aggregation.boundKeys + aggregation.arguments)
            if let window = try windowAggregation(aggregation, input: input) {
                plan.node = .windowAggregate(
                    projected, keyCount: keyCount, aggregates: aggregation.calls.map { $0.withInsertOnlyInput(true) },
                    windowStart: window.startKey, windowEnd: window.endKey,
                    localZone: window.localZone)
                plan.isAppendOnly = true
                // The window columns keep their roles, and `window_time` stays a time attribute (for cascaded windows).
                for (position, output) in outputs.enumerated() {
                    guard let key = output.columnIndex, key < keyCount, let column = aggregation.boundKeys[key].columnIndex else { continue }
                    fields[position].windowRole = input.fields[column].windowRole
                    fields[position].isRowtime = input.fields[column].windowRole == .time
                }
            } else {
                plan.node = .aggregate(
                    projected, keyCount: keyCount, aggregates: aggregation.calls.map { $0.withInsertOnlyInput(input.isAppendOnly) })
                plan.isAppendOnly = isSnapshot || false
            }
            plan.upsertKeys = nil
            scope = Scope(fields: [])
            if let having { plan.node = .filter(plan.node, having) }
            let aggregateFields =
                aggregation.boundKeys.map { PlanField(name: "", type: $0.type, qualifier: nil) }
                + aggregation.calls.map { PlanField(name: "", type: $0.type, qualifier: nil) }
            plan.fields = aggregateFields
            // Upsert key: the group keys, when every key is projected as a bare reference.
            if !plan.isAppendOnly, keyCount > 0 {
                var positions: [Int] = []
                for key in 0..<keyCount {
                    if let position = outputs.firstIndex(where: { $0.columnIndex == key }) { positions.append(position) }
                }
                plan.upsertKeys = positions.count == keyCount ? positions : nil
            }
        } else if let inputKeys, !input.isAppendOnly {
            let positions = inputKeys.compactMap { key in outputs.firstIndex { $0.columnIndex == key } }
            plan.upsertKeys = positions.count == inputKeys.count ? positions : nil
        } else {
            plan.upsertKeys = nil
        }
        let hiddenFields = hiddenOrder.map { PlanField(name: "", type: $0.type, qualifier: "$hidden") }
        plan.node = .project(plan.node, outputs + hiddenOrder)
        plan.fields = fields + hiddenFields
        if select.distinct {
            let keys = plan.fields.indices.map { BoundExpression(.column($0), plan.fields[$0].type) }
            plan.node = .aggregate(.project(plan.node, keys), keyCount: keys.count, aggregates: [])
            plan.isAppendOnly = isSnapshot
            plan.upsertKeys = isSnapshot ? nil : Array(fields.indices)
        }
        if !orderBy.isEmpty {
            plan = try sort(plan, orderBy, hiddenStart: fields.count)
        }
        return plan
    }

    /// `node` filtered by `conjuncts`, each placed as low as it can go: conditions on one side of an inner join move
    /// into that side, conditions over both sides become the join's condition (where the join hashes on equalities);
    /// the rest filters `node`. Volatile conditions stay where they were written.
    static func pushingDown(_ conjuncts: [BoundExpression], into node: PlanNode) -> PlanNode {
        guard !conjuncts.isEmpty else { return node }
        guard case .join(let left, let right, .inner, let condition, let leftTypes, let rightTypes) = node else {
            return .filter(node, BoundExpression.conjunction(conjuncts)!)
        }
        let width = leftTypes.count
        var toLeft: [BoundExpression] = []
        var toRight: [BoundExpression] = []
        var toJoin = condition?.conjuncts ?? []
        for conjunct in conjuncts {
            let columns = conjunct.referencedColumns
            // `CURRENT_WATERMARK` over one side is evaluated on that side, below the join, as Flink pushes it.
            if conjunct.isVolatile(ignoring: [CurrentWatermark.name]) || columns.isEmpty {
                toJoin.append(conjunct)
            } else if columns.allSatisfy({ $0 < width }) {
                toLeft.append(conjunct)
            } else if columns.allSatisfy({ $0 >= width }) {
                toRight.append(conjunct.shiftingColumns(by: -width))
            } else {
                toJoin.append(conjunct)
            }
        }
        return .join(
            pushingDown(toLeft, into: left), pushingDown(toRight, into: right), kind: .inner,
            condition: BoundExpression.conjunction(toJoin), leftTypes: leftTypes, rightTypes: rightTypes)
    }

    /// The output column an ORDER BY item names (alias, column name or 1-based ordinal).
    func outputIndex(_ expression: Expression, _ fields: [PlanField]) throws(SQLError) -> Int? {
        switch expression {
        case .number(let text):
            guard let ordinal = Int(text), ordinal >= 1, ordinal <= fields.count else {
                throw SQLError("Ordinal out of range in ORDER BY: \(text)")
            }
            return ordinal - 1
        case .column(let name) where name.parts.count == 1:
            return fields.firstIndex { $0.name == name.name && $0.qualifier != "$hidden" }
        default: return nil
        }
    }

    func sort(_ plan: QueryPlan, _ orderBy: [OrderItem], hiddenStart: Int? = nil) throws(SQLError) -> QueryPlan {
        var keys: [SortKey] = []
        var hidden = hiddenStart ?? plan.fields.count
        for item in orderBy {
            if let index = try outputIndex(item.expression, plan.fields) {
                keys.append(SortKey(column: index, ascending: item.ascending, nullsFirst: item.nullsFirst))
            } else if hiddenStart != nil {
                keys.append(SortKey(column: hidden, ascending: item.ascending, nullsFirst: item.nullsFirst))
                hidden += 1
            } else {
                let scope = Scope(fields: plan.fields)
                let bound = try bind(item.expression, scope)
                guard let index = bound.columnIndex else { throw SQLError("ORDER BY expressions over set operations must be output columns.") }
                keys.append(SortKey(column: index, ascending: item.ascending, nullsFirst: item.nullsFirst))
            }
        }
        var result = plan
        result.node = .sort(plan.node, keys: keys, limit: nil, offset: 0)
        return result
    }
}
