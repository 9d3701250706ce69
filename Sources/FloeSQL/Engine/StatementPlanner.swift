// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// Turns one parsed statement into a prepared statement: analysis happens here, effects happen in `run`.
struct StatementPlanner {
    let session: SessionContext
    let services: EngineServices
    let resolver: NameResolver
    let caster: Caster
    let isSnapshot: Bool

    init(session: SessionContext, services: EngineServices, recorder: ResolvedObjects? = nil) {
        self.session = session
        self.services = services
        self.resolver = NameResolver(session: session, snapshot: services.catalog.snapshot, recorder: recorder)
        self.caster = Caster(renderer: ValueRenderer(zone: Temporal.zone(session.properties["sql.local-time-zone"])))
        self.isSnapshot = session.properties["sql.snapshot.mode"]?.lowercased() == "now"
        self.analyzer = QueryAnalyzer(
            resolver: resolver, library: FunctionLibrary(caster: caster), isSnapshot: isSnapshot, fileSystem: services.fileSystem)
    }

    /// One analyzer for the whole statement, so that all its queries (a statement set's INSERTs) share one budget of
    /// view and CTE expansions.
    let analyzer: QueryAnalyzer

    static let text = SQLType.string.notNull

    func ddl(_ kind: String, _ apply: @escaping @Sendable () throws(SQLError) -> Void) -> any PreparedStatement {
        DDLStatement(traits: StatementTraits(sqlKind: kind, isBounded: true, isAppendOnly: true), apply: apply)
    }

    func metadata(
        _ kind: String, _ columns: [(String, SQLType)], _ rows: @escaping @Sendable (CatalogSnapshot) throws(SQLError) -> [Row]
    ) -> any PreparedStatement {
        MetadataStatement(
            traits: StatementTraits(
                sqlKind: kind, isBounded: true, isAppendOnly: true, schema: columns.map { SchemaColumn(name: $0.0, type: $0.1.schemaType) }),
            types: columns.map(\.1), renderer: caster.renderer, services: services, rows: rows)
    }

    func plan(_ statement: Statement) throws(SQLError) -> any PreparedStatement {
        _ = try IdleTimeout.parse(session.properties[IdleTimeout.property])
        switch statement {
        case .query(let query):
            let plan = try analyzer.analyze(query)
            let traits = StatementTraits(
                sqlKind: "SELECT", isBounded: plan.isBounded, isAppendOnly: plan.isAppendOnly,
                upsertColumns: plan.isAppendOnly ? nil : plan.upsertKeys,
                schema: plan.fields.map { SchemaColumn(name: $0.name, type: $0.type.schemaType) })
            return QueryStatement(traits: traits, plan: plan, session: session, caster: caster, isSnapshot: isSnapshot, services: services)
        case .insert(let insert):
            return try self.insert(insert, kind: "INSERT_INTO")
        case .statementSet(let inserts):
            var prepared: [InsertStatement] = []
            for (index, insert) in inserts.enumerated() {
                prepared.append(try self.insert(insert, kind: "INSERT_INTO", keySuffix: "#\(index)"))
            }
            return StatementSetStatement(
                traits: StatementTraits(sqlKind: "EXECUTE_STATEMENT_SET", isBounded: prepared.allSatisfy(\.traits.isBounded), isAppendOnly: true),
                inserts: prepared)
        case .createTable(let create):
            if create.asQuery != nil { return try createTableAs(create) }
            return try createTable(create)
        case .dropTable(let name, let ifExists):
            let path = try resolver.path(name, for: .manage)
            if let kafka = resolver.kafkaDatabase(path.database, in: path.catalog) {
                return try dropKafkaTable(name, path: path, in: kafka, ifExists: ifExists)
            }
            let catalog = services.catalog
            let logs = services.logs
            if !ifExists { try requireTable(name, for: .manage) }
            return ddl("DROP_TABLE") { () throws(SQLError) in
                let dropped: TableEntry? = try catalog.update { snapshot throws(SQLError) in
                    var entry = snapshot.catalog(path.catalog.id)
                    guard let table = entry.databases[path.database]?.tables[path.name] else {
                        if ifExists { return nil }
                        throw SQLError("Table (or view) '\(name.parts.joined(separator: "."))' does not exist or you do not have access to it.")
                    }
                    entry.databases[path.database]!.tables[path.name] = nil
                    snapshot.catalogs[path.catalog.id] = entry
                    return table
                }
                if let dropped { logs.drop(dropped.id) }
            }
        case .createView(let name, let columns, let query, let ifNotExists, let comment, let orReplace):
            let path = try resolver.path(name, for: .manage)
            let kafka = resolver.kafkaDatabase(path.database, in: path.catalog)
            if kafka == nil { try requireDatabase(path) }
            let plan = try analyzer.analyze(query)
            if !columns.isEmpty, columns.count != plan.fields.count {
                throw SQLError(
                    "List of column aliases must have same degree as table; table has \(plan.fields.count) columns, whereas alias list has \(columns.count) columns"
                )
            }
            let view = ViewEntry(
                name: path.name, query: try Self.reparsable(query.sql, what: "view \(path.name)"),
                columnNames: columns.isEmpty ? plan.fields.map(\.name) : columns,
                comment: comment,
                definition:
                    "CREATE VIEW \(path.display)\(columns.isEmpty ? "" : "(" + columns.map { "`\($0)`" }.joined(separator: ", ") + ")")\(comment.map { " COMMENT '\($0)'" } ?? "") AS\n\(query.sql)"
            )
            let catalog = services.catalog
            var created = view
            created.creationCatalogID = try resolver.currentCatalog().id
            created.creationDatabase = resolver.currentDatabaseName
            let finalView = created
            if let kafka {
                // In a Kafka cluster's database, a view sits beside the topics: its name must not be a topic's.
                return ddl("CREATE_VIEW") { () throws(SQLError) in
                    if try kafka.cluster.describeTopic(path.name) != nil { throw Self.exists(path) }
                    try catalog.update { snapshot throws(SQLError) in
                        var views = snapshot.kafkaViews ?? [:]
                        if views[kafka.id]?[path.name] != nil, !orReplace {
                            if ifNotExists { return }
                            throw Self.exists(path)
                        }
                        views[kafka.id, default: [:]][path.name] = finalView
                        snapshot.kafkaViews = views
                    }
                }
            }
            return ddl("CREATE_VIEW") { () throws(SQLError) in
                try catalog.update { snapshot throws(SQLError) in
                    var entry = snapshot.catalog(path.catalog.id)
                    guard entry.databases[path.database] != nil else { throw Self.noDatabase(path) }
                    if entry.databases[path.database]!.tables[path.name] != nil { throw Self.exists(path) }
                    if entry.databases[path.database]!.views[path.name] != nil, !orReplace {
                        if ifNotExists { return }
                        throw Self.exists(path)
                    }
                    entry.databases[path.database]!.views[path.name] = finalView
                    snapshot.catalogs[path.catalog.id] = entry
                }
            }
        case .dropView(let name, let ifExists):
            let path = try resolver.path(name, for: .manage)
            let catalog = services.catalog
            if let kafka = resolver.kafkaDatabase(path.database, in: path.catalog) {
                return ddl("DROP_VIEW") { () throws(SQLError) in
                    try catalog.update { snapshot throws(SQLError) in
                        guard snapshot.kafkaViews?[kafka.id]?[path.name] != nil else {
                            if ifExists { return }
                            throw SQLError("View '\(name.parts.joined(separator: "."))' does not exist or you do not have access to it.")
                        }
                        snapshot.kafkaViews?[kafka.id]?[path.name] = nil
                    }
                }
            }
            return ddl("DROP_VIEW") { () throws(SQLError) in
                try catalog.update { snapshot throws(SQLError) in
                    var entry = snapshot.catalog(path.catalog.id)
                    guard entry.databases[path.database]?.views[path.name] != nil else {
                        if ifExists { return }
                        throw SQLError("View '\(name.parts.joined(separator: "."))' does not exist or you do not have access to it.")
                    }
                    entry.databases[path.database]!.views[path.name] = nil
                    snapshot.catalogs[path.catalog.id] = entry
                }
            }
        case .createDatabase(let name, let ifNotExists, let comment, _):
            let (catalogIdentity, database) = try resolver.databasePath(name, for: .manage)
            guard database != NameResolver.informationSchema else { throw SQLError("Database \(database) is read-only.") }
            let catalog = services.catalog
            return ddl("CREATE_DATABASE") { () throws(SQLError) in
                try catalog.update { snapshot throws(SQLError) in
                    var entry = snapshot.catalog(catalogIdentity.id)
                    if entry.databases[database] != nil {
                        if ifNotExists { return }
                        throw SQLError("Database \(database) already exists in Catalog \(catalogIdentity.name).")
                    }
                    entry.databases[database] = DatabaseEntry(id: "\(catalogIdentity.id)-\(database)", name: database, comment: comment)
                    snapshot.catalogs[catalogIdentity.id] = entry
                }
            }
        case .dropDatabase(let name, let ifExists, let cascade):
            let (catalogIdentity, database) = try resolver.databasePath(name, for: .manage)
            let catalog = services.catalog
            let logs = services.logs
            return ddl("DROP_DATABASE") { () throws(SQLError) in
                let dropped: [String] = try catalog.update { snapshot throws(SQLError) in
                    var entry = snapshot.catalog(catalogIdentity.id)
                    guard let existing = entry.databases[database] else {
                        if ifExists { return [] }
                        throw SQLError("Database \(database) does not exist in Catalog \(catalogIdentity.name).")
                    }
                    if !cascade, !(existing.tables.isEmpty && existing.views.isEmpty) {
                        throw SQLError("Database \(database) in catalog \(catalogIdentity.name) is not empty.")
                    }
                    entry.databases[database] = nil
                    snapshot.catalogs[catalogIdentity.id] = entry
                    return existing.tables.values.map(\.id)
                }
                for id in dropped { logs.drop(id) }
            }
        case .alterTable(let name, let action):
            return try alterTable(name, action)
        case .show(let target, let like):
            return try show(target, like: like)
        case .describe(let name, let extended):
            return try describe(name, extended: extended)
        case .useCatalog(let name):
            _ = try resolver.catalog(named: name)
            return ddl("USE_CATALOG") {}
        case .useDatabase(let name):
            let (catalog, database) = try resolver.databasePath(name)
            guard resolver.databaseExists(database, in: catalog) else {
                throw SQLError("A database with name [\(database)] does not exist in the catalog: [\(catalog.name)].")
            }
            return ddl("USE") {}
        case .explain(let inner):
            let text: String
            switch inner {
            case .query(let query): text = "== Optimized Physical Plan ==\n" + (try analyzer.analyze(query)).explanation
            case .insert(let insert):
                let target = try resolver.path(insert.table)
                text =
                    "== Optimized Physical Plan ==\nSink(table=[\(target.catalog.name).\(target.database).\(target.name)])\n"
                    + (try analyzer.analyze(insert.source)).explanation
            default: throw SQLError("EXPLAIN supports queries and INSERT statements.")
            }
            return metadata("EXPLAIN", [("plan", Self.text)]) { _ throws(SQLError) in [[.string(text)]] }
        case .set, .reset:
            throw SQLError.unsupported(
                "The SET and RESET statements are not supported. Set properties on the statement (e.g. 'sql.local-time-zone') instead.")
        }
    }

    /// `text`, SQL the catalog keeps (a view's query, a computed column, a watermark), once it is known to parse again:
    /// the printed form nests a little deeper than what was written (`NOT NOT x` prints as `(NOT (NOT x))`), and an
    /// object that could not be read back must not be created.
    static func reparsable(_ text: String, what: String, isExpression: Bool = false) throws(SQLError) -> String {
        do {
            if isExpression { _ = try Parser.parseExpression(text) } else { _ = try Parser.parseStatement(text) }
        } catch {
            throw SQLError("The \(what) cannot be stored: \(error.message) once written out.", exceedsLimit: error.exceedsLimit)
        }
        return text
    }

    static func exists(_ path: ObjectPath) -> SQLError {
        SQLError("Table already exists: a table or view named \(path.display) already exists.")
    }

    static func noDatabase(_ path: ObjectPath) -> SQLError {
        SQLError("Database '\(path.database)' does not exist in catalog '\(path.catalog.name)'.")
    }

    func requireDatabase(_ path: ObjectPath) throws(SQLError) {
        guard path.database != NameResolver.informationSchema else { throw SQLError("INFORMATION_SCHEMA is read-only.") }
        if let kafka = resolver.kafkaDatabase(path.database, in: path.catalog) {
            throw SQLError.unsupported(
                "Kafka cluster '\(kafka.name)' (\(kafka.id)) holds topics, whose tables CREATE TABLE makes, and views; it cannot hold other objects yet."
            )
        }
        guard resolver.databaseExists(path.database, in: path.catalog) else { throw Self.noDatabase(path) }
    }

    /// The table `name`, which the statement will `use`.
    @discardableResult
    func requireTable(_ name: QualifiedName, for use: CatalogAccess = .read) throws(SQLError) -> (ObjectPath, TableEntry) {
        let path = try resolver.path(name, for: use)
        switch try resolver.object(name) {
        case .table(_, _, let table): return (path, table)
        case .kafkaTopic(_, let kafka): return (path, kafka.entry)
        default: throw SQLError("'\(name.parts.joined(separator: "."))' is not a table.")
        }
    }

    // MARK: CREATE TABLE

    func columnEntries(_ definitions: [ColumnDefinition], scopeBase: [ColumnEntry]) throws(SQLError) -> [ColumnEntry] {
        var columns = scopeBase
        var result: [ColumnEntry] = []
        for definition in definitions {
            guard !columns.contains(where: { $0.name == definition.name }) && !result.contains(where: { $0.name == definition.name }) else {
                throw SQLError("A column named '\(definition.name)' already exists in the table.")
            }
            switch definition.kind {
            case .physical(let syntax):
                result.append(ColumnEntry(name: definition.name, type: try SQLType.resolve(syntax), comment: definition.comment))
            case .metadata(let syntax, let key, let virtual):
                result.append(
                    ColumnEntry(
                        name: definition.name, type: try SQLType.resolve(syntax), comment: definition.comment, metadataKey: key ?? definition.name,
                        isVirtual: virtual))
            case .computed(let expression):
                let physical = columns.filter(\.isPhysical)
                let scope = Scope(fields: physical.map { PlanField(name: $0.name, type: $0.type, qualifier: nil) })
                let bound = try analyzer.bind(expression, scope)
                result.append(
                    ColumnEntry(
                        name: definition.name, type: bound.type, comment: definition.comment,
                        computed: try Self.reparsable(expression.sql, what: "computed column \(definition.name)", isExpression: true)))
            }
            columns.append(result.last!)
        }
        return result
    }

    /// The catalog entry of a new table, checked. `checkConnector` false leaves the options to the caller (a Kafka
    /// table's are Confluent's, checked by ``ConfluentTableOptions``).
    func tableEntry(_ create: CreateTable, path: ObjectPath, columns: [ColumnEntry], checkConnector: Bool = true) throws(SQLError) -> TableEntry {
        var columns = columns
        for key in create.primaryKey {
            guard let index = columns.firstIndex(where: { $0.name == key }) else {
                throw SQLError("Invalid primary key 'PK_\(create.primaryKey.joined(separator: "_"))'. Column '\(key)' does not exist.")
            }
            columns[index].type = columns[index].type.notNull
        }
        var watermarkExpression: String?
        if let watermark = create.watermark {
            // Tables backed by a log (and faker's) also have the system column `$rowtime`.
            let options = Dictionary(create.options, uniquingKeysWith: { _, last in last })
            let hasRowtime = try ConnectorRegistry.factory(for: options).hasRowtime
            let system = hasRowtime ? [ColumnEntry(name: PlanField.rowtimeName, type: PlanField.rowtimeType)] : []
            guard let column = (columns + system).first(where: { $0.name == watermark.column }) else {
                throw SQLError("The rowtime attribute field '\(watermark.column)' is not defined in the table schema, at line 1")
            }
            if case .function(let name, let arguments, _, nil) = watermark.expression, name.name.uppercased() == "SOURCE_WATERMARK" {
                guard arguments.isEmpty, column.name == PlanField.rowtimeName else {
                    throw SQLError("SOURCE_WATERMARK() is only supported on the system column $rowtime.")
                }
                watermarkExpression = QueryAnalyzer.sourceWatermark
            }
            switch column.type.kind {
            case .timestamp, .timestampLTZ: break
            default:
                throw SQLError(
                    "Invalid data type of time field for watermark definition. The field must be of type TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the time field type is \(column.type.sql)"
                )
            }
            if watermarkExpression == nil {
                let scope = Scope(fields: (columns + system).map { PlanField(name: $0.name, type: $0.type, qualifier: nil) })
                try QueryAnalyzer.requireWatermarkType(try analyzer.bind(watermark.expression, scope).type)
                watermarkExpression = try Self.reparsable(watermark.expression.sql, what: "watermark", isExpression: true)
            }
        }
        for column in create.distributedBy where !columns.contains(where: { $0.name == column }) {
            throw SQLError("Invalid bucket key '\(column)'. A bucket key must reference a physical column in the schema.")
        }
        let options = Dictionary(create.options, uniquingKeysWith: { _, last in last })
        try Self.checkChangelogMode(options, primaryKey: create.primaryKey, table: path.name)
        if checkConnector {
            // Every option is checked when the table is created, not only when it is read or written.
            let (factory, _) = try ConnectorRegistry.resolve(
                options: options, columns: columns.filter(\.isPhysical).map { ($0.name, $0.type) }, primaryKey: create.primaryKey, seed: "",
                fileSystem: services.fileSystem)
            if create.asQuery != nil, factory.isGenerated {
                throw SQLError("CREATE TABLE AS cannot create a generated table ('connector' = '\(factory.identifier ?? "")').")
            }
            if create.asQuery != nil, !factory.isSink {
                throw SQLError("Connector '\(factory.identifier ?? "")' can only be used as a source. It cannot be used as a sink.")
            }
        }
        return TableEntry(
            id: UUID().uuidString.lowercased(), name: path.name, columns: columns, primaryKey: create.primaryKey,
            watermarkColumn: create.watermark?.column,
            watermarkExpression: watermarkExpression, distributedBy: create.distributedBy, bucketCount: create.bucketCount, comment: create.comment,
            options: Dictionary(create.options, uniquingKeysWith: { _, last in last }))
    }

    /// Checks the `changelog.mode` option: a known mode, and `upsert` only with a primary key.
    static func checkChangelogMode(_ options: [String: String], primaryKey: [String], table: String) throws(SQLError) {
        guard let mode = options["changelog.mode"] else { return }
        guard let parsed = ChangelogMode(rawValue: mode.lowercased()) else {
            throw SQLError("Invalid value for option 'changelog.mode': '\(mode)'. Supported values are 'append', 'upsert' and 'retract'.")
        }
        if parsed == .upsert, primaryKey.isEmpty {
            throw SQLError("Table '\(table)' has 'changelog.mode' = 'upsert' but no primary key; an upsert table needs PRIMARY KEY (…) NOT ENFORCED.")
        }
    }

    func createTable(_ create: CreateTable) throws(SQLError) -> any PreparedStatement {
        let path = try resolver.path(create.name, for: .manage)
        if let kafka = resolver.kafkaDatabase(path.database, in: path.catalog) { return try createKafkaTable(create, path: path, in: kafka) }
        try requireDatabase(path)
        var base: [ColumnEntry] = []
        if let like = create.like {
            let (_, source) = try requireTable(like)
            base = source.columns
        }
        let columns = base + (try columnEntries(create.columns, scopeBase: base))
        guard !columns.isEmpty else { throw SQLError("A table needs at least one column.") }
        let table = try tableEntry(create, path: path, columns: columns)
        let catalog = services.catalog
        let ifNotExists = create.ifNotExists
        return ddl("CREATE_TABLE") { () throws(SQLError) in
            try catalog.update { snapshot throws(SQLError) in
                var entry = snapshot.catalog(path.catalog.id)
                guard let database = entry.databases[path.database] else { throw Self.noDatabase(path) }
                if database.tables[path.name] != nil || database.views[path.name] != nil {
                    if ifNotExists { return }
                    throw Self.exists(path)
                }
                entry.databases[path.database]!.tables[path.name] = table
                snapshot.catalogs[path.catalog.id] = entry
            }
        }
    }

    func createTableAs(_ create: CreateTable) throws(SQLError) -> any PreparedStatement {
        let path = try resolver.path(create.name, for: [.manage, .write])
        if let kafka = resolver.kafkaDatabase(path.database, in: path.catalog) { return try createKafkaTableAs(create, path: path, in: kafka) }
        try requireDatabase(path)
        let source = try analyzer.analyze(create.asQuery!)
        let declared = try columnEntries(create.columns, scopeBase: [])
        var columns = declared
        for field in source.fields where !columns.contains(where: { $0.name == field.name }) {
            columns.append(ColumnEntry(name: field.name, type: field.type))
        }
        var table = try tableEntry(create, path: path, columns: columns)
        try requireAppendOnly(source, into: table, sink: path)
        let key = writerKey()
        table.options["floe.created-by"] = key
        let finalTable = table
        // The query's columns map by name onto the table's physical columns.
        let scope = Scope(fields: source.fields)
        var expressions: [BoundExpression] = []
        for (position, column) in table.physicalColumns.enumerated() {
            if let index = try? scope.resolve(QualifiedName([column.name])) {
                expressions.append(
                    try assignment(
                        BoundExpression(.column(index), source.fields[index].type), to: column, at: position, sink: path,
                        query: source.fields, sinkColumns: table.physicalColumns))
            } else {
                expressions.append(.literal(.null, column.type.withNullable(true)))
            }
        }
        var plan = source
        plan.node = .project(source.node, expressions)
        let catalog = services.catalog
        let ifNotExists = create.ifNotExists
        return InsertStatement(
            traits: StatementTraits(sqlKind: "CREATE_TABLE_AS", isBounded: source.isBounded, isAppendOnly: true), plan: plan,
            target: try checkedTarget(table),
            session: session, caster: caster, isSnapshot: isSnapshot, services: services, writerKey: key,
            before: { () throws(SQLError) in
                try catalog.update { snapshot throws(SQLError) in
                    var entry = snapshot.catalog(path.catalog.id)
                    guard let database = entry.databases[path.database] else { throw Self.noDatabase(path) }
                    if let existing = database.tables[path.name] {
                        // A re-run after a restart finds the table it created itself.
                        if existing.id == finalTable.id || ifNotExists { return }
                        throw Self.exists(path)
                    }
                    if database.views[path.name] != nil { throw Self.exists(path) }
                    entry.databases[path.database]!.tables[path.name] = finalTable
                    snapshot.catalogs[path.catalog.id] = entry
                }
            })
    }

    /// A sink target, after checking that the statement may write where it lands: a Flink `kafka` table of one
    /// catalog can name a cluster of another, whose catalog must grant writing too.
    func checkedTarget(_ table: TableEntry) throws(SQLError) -> SinkTarget {
        let target = try SinkTarget.of(table, fileSystem: services.fileSystem, kafkaDatabases: session.kafkaDatabases)
        if case .kafka(let kafka, _) = target {
            let catalog = session.grantedCatalogs.first { $0.id == kafka.database.catalogID }
            try resolver.require(.write, on: catalog ?? CatalogIdentity(id: kafka.database.catalogID, name: kafka.database.catalogID))
        }
        return target
    }

    /// The writer key of this statement's sink offsets (stable across re-runs when the server passes an id).
    func writerKey(_ suffix: String = "") -> String {
        (session.statementID ?? "anonymous-" + UUID().uuidString) + suffix
    }

    /// Refuses an updating query for a sink that takes inserts only: every sink but a blackhole (which drops all) and a
    /// table whose log keeps changes (`changelog.mode` `upsert`, the default with a primary key, or `retract`).
    func requireAppendOnly(_ plan: QueryPlan, into table: TableEntry, sink: ObjectPath, isKafka: Bool = false) throws(SQLError) {
        let factory = isKafka ? ConnectorRegistry.tableLog : try ConnectorRegistry.factory(for: table.options)
        // A table's own log keeps changes unless it is append-only; an upsert-kafka topic keeps them by its key.
        let keepsChanges = (factory.identifier == nil && table.changelogMode != .append) || factory.identifier == "upsert-kafka"
        guard plan.isAppendOnly || factory.takesAnyChanges || keepsChanges else {
            throw SQLError(
                "Table sink '\(sink.catalog.name).\(sink.database).\(sink.name)' doesn't support consuming update and delete changes which is produced by an updating query (GROUP BY, DISTINCT, outer join or Top-N). Declare a PRIMARY KEY on the sink table (an upsert table), run the query with 'sql.snapshot.mode' = 'now', or make it append-only."
            )
        }
    }

    /// `value` converted for storing into `column` (the `position`th of the sink's physical columns), as Flink's
    /// implicit sink conversions allow.
    func assignment(
        _ value: BoundExpression, to column: ColumnEntry, at position: Int, sink: ObjectPath, query: [PlanField], sinkColumns: [ColumnEntry]
    ) throws(SQLError) -> BoundExpression {
        let from = value.type
        let to = column.type
        let compatible =
            from.isNull || from.kind == to.kind || (from.isNumeric && to.isNumeric) || (from.isCharacter && to.isCharacter)
            || (from.isBinary && to.isBinary) || (from.isTemporal && to.isTemporal && SQLType.canCast(from, to: to))
            || (from.isConstructed && to.isConstructed && SQLType.canCast(from, to: to))
        guard compatible else {
            throw Self.sinkMismatch(
                sink, cause: "Incompatible types for sink column '\(column.name)' at position \(position).", query: query, sinkColumns: sinkColumns)
        }
        return value.casted(to: to.withNullable(true))
    }

    /// Flink's message for a query whose columns do not fit the table it writes.
    static func sinkMismatch(_ sink: ObjectPath, cause: String, query: [PlanField], sinkColumns: [ColumnEntry]) -> SQLError {
        SQLError(
            """
            Column types of query result and sink for '\(sink.catalog.name).\(sink.database).\(sink.name)' do not match.
            Cause: \(cause)

            Query schema: [\(query.map { "\($0.name): \($0.type.sql)" }.joined(separator: ", "))]
            Sink schema:  [\(sinkColumns.map { "\($0.name): \($0.type.sql)" }.joined(separator: ", "))]
            """)
    }

    func insert(_ insert: Insert, kind: String, keySuffix: String = "") throws(SQLError) -> InsertStatement {
        let (path, table) = try requireTable(insert.table, for: .write)
        var kafka: KafkaTable?
        if case .kafkaTopic(_, let topic) = try resolver.object(insert.table) { kafka = topic }
        let factory = kafka == nil ? try ConnectorRegistry.factory(for: table.options) : ConnectorRegistry.tableLog
        if factory.isGenerated {
            throw SQLError(
                "Table '\(path.catalog.name).\(path.database).\(path.name)' is generated ('connector' = '\(factory.identifier ?? "")') and cannot be written to."
            )
        }
        guard factory.isSink else {
            throw SQLError("Connector '\(factory.identifier ?? "")' can only be used as a source. It cannot be used as a sink.")
        }
        let source = try analyzer.analyze(insert.source)
        try requireAppendOnly(source, into: table, sink: path, isKafka: kafka != nil)
        // A Kafka table's persisted metadata columns (the record's `timestamp` and `headers`) are written too, after the
        // physical ones: Flink's persisted columns.
        let isKafkaSink = kafka != nil || ["kafka", "upsert-kafka"].contains(factory.identifier ?? "")
        let metadata = isKafkaSink ? table.columns.filter { $0.metadataKey != nil } : []
        try KafkaScanSpec.checkMetadataColumns(metadata, table: "\(path.catalog.name).\(path.database).\(path.name)")
        let physical = table.physicalColumns
        let persisted = physical + metadata.filter { !$0.isVirtual }
        let targets = insert.columns.isEmpty ? persisted.map(\.name) : insert.columns
        for name in targets where !persisted.contains(where: { $0.name == name }) {
            throw SQLError("Unknown target column '\(name)'")
        }
        guard targets.count == source.fields.count else {
            throw Self.sinkMismatch(path, cause: "Different number of columns.", query: source.fields, sinkColumns: persisted)
        }
        var expressions: [BoundExpression] = []
        for (position, column) in persisted.enumerated() {
            if let index = targets.firstIndex(of: column.name) {
                expressions.append(
                    try assignment(
                        BoundExpression(.column(index), source.fields[index].type), to: column, at: position, sink: path,
                        query: source.fields, sinkColumns: persisted))
            } else {
                // A metadata column left out is the producer's default (its clock, no headers).
                guard column.type.nullable || column.metadataKey != nil else {
                    throw SQLError("Column '\(column.name)' has no default value and does not allow NULLs")
                }
                expressions.append(.literal(.null, column.type.withNullable(true)))
            }
        }
        var plan = source
        plan.node = .project(source.node, expressions)
        let target: SinkTarget
        if let kafka {
            target = .kafka(kafka, keys: try SinkTarget.keyPositions(table))
        } else {
            target = try checkedTarget(table)
        }
        return InsertStatement(
            traits: StatementTraits(sqlKind: kind, isBounded: source.isBounded, isAppendOnly: true), plan: plan,
            target: target, session: session,
            caster: caster, isSnapshot: isSnapshot, services: services, writerKey: writerKey(keySuffix), before: nil)
    }

    // MARK: ALTER TABLE

    func alterTable(_ name: QualifiedName, _ action: AlterTableAction) throws(SQLError) -> any PreparedStatement {
        let target = try resolver.path(name, for: .manage)
        if let kafka = resolver.kafkaDatabase(target.database, in: target.catalog) { return try alterKafkaTable(name, action, in: kafka) }
        let (path, table) = try requireTable(name, for: .manage)
        var changed = table
        switch action {
        case .addColumns(let definitions):
            changed.columns += try columnEntries(definitions, scopeBase: table.columns)
        case .modifyColumns(let definitions):
            for entry in try columnEntries(definitions, scopeBase: []) {
                guard let index = changed.columns.firstIndex(where: { $0.name == entry.name }) else {
                    throw SQLError("Try to modify a column `\(entry.name)` which does not exist in the table.")
                }
                guard changed.columns[index].isPhysical == entry.isPhysical else {
                    throw SQLError("Cannot change the kind of column `\(entry.name)`.")
                }
                changed.columns[index] = entry
            }
        case .setOptions(let options):
            for (key, value) in options { changed.options[key] = value }
        case .resetOptions(let keys):
            for key in keys { changed.options[key] = nil }
        case .renameColumn(let from, let to):
            guard let index = changed.columns.firstIndex(where: { $0.name == from }) else {
                throw SQLError("The column `\(from)` does not exist in the base table.")
            }
            changed.columns[index].name = to
            changed.primaryKey = changed.primaryKey.map { $0 == from ? to : $0 }
            if changed.watermarkColumn == from { changed.watermarkColumn = to }
        case .dropColumns, .rename:
            throw SQLError.unsupported("This ALTER TABLE action is not supported.")
        }
        try Self.checkChangelogMode(changed.options, primaryKey: changed.primaryKey, table: path.name)
        // The changed options are checked as CREATE TABLE checks them (a new filesystem path must be allowed too).
        _ = try ConnectorRegistry.connector(of: changed, fileSystem: services.fileSystem)
        let catalog = services.catalog
        let final = changed
        return ddl("ALTER_TABLE") { () throws(SQLError) in
            try catalog.update { snapshot throws(SQLError) in
                var entry = snapshot.catalog(path.catalog.id)
                guard entry.databases[path.database]?.tables[path.name]?.id == table.id else {
                    throw SQLError("Table (or view) '\(name.parts.joined(separator: "."))' does not exist or you do not have access to it.")
                }
                entry.databases[path.database]!.tables[path.name] = final
                snapshot.catalogs[path.catalog.id] = entry
            }
        }
    }
}
