// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

extension StatementPlanner {
    /// Every function SHOW FUNCTIONS lists: each name (and alias) of the function registry, sorted.
    static var functionNames: [String] { FunctionRegistry.builtIn.names }

    /// SQL `LIKE` filtering of SHOW results.
    static func matching(_ names: [String], _ like: String?) -> [String] {
        guard let like else { return names }
        return names.filter { LikePattern.matches($0, pattern: like, escape: nil, similar: false) }
    }

    func show(_ target: ShowTarget, like: String?) throws(SQLError) -> any PreparedStatement {
        let text = Self.text
        switch target {
        case .catalogs:
            let catalogs = session.visibleCatalogs
            return metadata("SHOW_CATALOGS", [("catalog name", text), ("catalog id", text)]) { _ throws(SQLError) in
                catalogs.filter { like == nil || Self.matching([$0.name], like).count == 1 }.sorted { $0.name < $1.name }.map {
                    [.string($0.name), .string($0.id)]
                }
            }
        case .databases:
            let catalog = try resolver.currentCatalog()
            let kafka = session.kafkaDatabases(of: catalog).map { (name: $0.name, id: $0.id) }
            return metadata("SHOW_DATABASES", [("database name", text), ("database id", text)]) { snapshot throws(SQLError) in
                let embedded = snapshot.catalog(catalog.id).databases.values.map { (name: $0.name, id: $0.id) }
                return (embedded + kafka).filter { Self.matching([$0.name], like).count == 1 }.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
                    .map { [.string($0.name), .string($0.id)] }
            }
        case .tables, .views, .tablesFrom, .viewsFrom:
            let (catalog, database): (CatalogIdentity, String)
            switch target {
            case .tablesFrom(let name), .viewsFrom(let name): (catalog, database) = try resolver.databasePath(name)
            default: (catalog, database) = (try resolver.currentCatalog(), resolver.currentDatabaseName)
            }
            guard resolver.databaseExists(database, in: catalog) else {
                throw SQLError("Database '\(database)' does not exist in catalog '\(catalog.name)'.")
            }
            let isTables = {
                switch target {
                case .tables, .tablesFrom: true
                default: false
                }
            }()
            if let kafka = resolver.kafkaDatabase(database, in: catalog) {
                // Every topic is a table (but internal ones and those starting with `_`); SHOW TABLES lists the views too.
                let topics = isTables ? try kafka.cluster.listTopics().filter(\.isTable).map(\.name) : []
                return metadata(isTables ? "SHOW_TABLES" : "SHOW_VIEWS", [(isTables ? "table name" : "view name", text)]) {
                    snapshot throws(SQLError) in
                    let views = Array((snapshot.kafkaViews?[kafka.id] ?? [:]).keys)
                    return Self.matching(Array(Set(topics + views)).sorted(), like).map { [.string($0)] }
                }
            }
            return metadata(isTables ? "SHOW_TABLES" : "SHOW_VIEWS", [(isTables ? "table name" : "view name", text)]) { snapshot throws(SQLError) in
                if database == NameResolver.informationSchema {
                    return isTables ? Self.matching(SystemTable.allCases.map(\.rawValue).sorted(), like).map { [.string($0)] } : []
                }
                let entry = snapshot.catalog(catalog.id).databases[database]
                let names = isTables ? Array((entry?.tables ?? [:]).keys) + Array((entry?.views ?? [:]).keys) : Array((entry?.views ?? [:]).keys)
                return Self.matching(names.sorted(), like).map { [.string($0)] }
            }
        case .functions(let user):
            // SHOW USER FUNCTIONS lists the user-defined functions, of which Floe has none.
            let names = user ? [] : Self.functionNames
            return metadata("SHOW_FUNCTIONS", [("function name", text)]) { _ throws(SQLError) in
                Self.matching(names, like).map { [.string($0)] }
            }
        case .currentCatalog:
            let catalog = try resolver.currentCatalog()
            return metadata("SHOW_CURRENT_CATALOG", [("current catalog name", text)]) { _ throws(SQLError) in [[.string(catalog.name)]] }
        case .currentDatabase:
            let database = resolver.currentDatabaseName
            return metadata("SHOW_CURRENT_DATABASE", [("current database name", text)]) { _ throws(SQLError) in [[.string(database)]] }
        case .createTable(let name):
            let (path, table) = try requireTable(name)
            let definition = Self.createTableText(path, table)
            return metadata("SHOW_CREATE_TABLE", [("SHOW CREATE TABLE", text)]) { _ throws(SQLError) in [[.string(definition)]] }
        case .createView(let name):
            guard case .view(_, _, let view) = try resolver.object(name) else {
                throw SQLError("SHOW CREATE VIEW is only supported for views, but '\(name.parts.joined(separator: "."))' is a table.")
            }
            return metadata("SHOW_CREATE_VIEW", [("SHOW CREATE VIEW", text)]) { _ throws(SQLError) in [[.string(view.definition)]] }
        case .columns(let name):
            return try describe(name, extended: false, kind: "SHOW_COLUMNS")
        case .jobs:
            throw SQLError.unsupported("SHOW JOBS is not supported by this service.")
        }
    }

    static func createTableText(_ path: ObjectPath, _ table: TableEntry) -> String { createTableText(named: path.display, table) }

    /// The `CREATE TABLE` text of `table` under the (quoted, qualified) name `name`.
    static func createTableText(named name: String, _ table: TableEntry) -> String {
        var lines: [String] = table.columns.map { column in
            var line = "  `\(column.name)` "
            if let computed = column.computed {
                line += "AS \(computed)"
            } else {
                line += column.type.sql
                if let key = column.metadataKey { line += " METADATA FROM '\(key)'" + (column.isVirtual ? " VIRTUAL" : "") }
            }
            if let comment = column.comment { line += " COMMENT '\(comment.replacingOccurrences(of: "'", with: "''"))'" }
            return line
        }
        if !table.primaryKey.isEmpty {
            lines.append(
                "  CONSTRAINT `PK_\(table.primaryKey.joined(separator: "_"))` PRIMARY KEY (\(table.primaryKey.map { "`\($0)`" }.joined(separator: ", "))) NOT ENFORCED"
            )
        }
        if let column = table.watermarkColumn, let expression = table.watermarkExpression {
            lines.append("  WATERMARK FOR `\(column)` AS \(expression)")
        }
        var text = "CREATE TABLE \(name) (\n" + lines.joined(separator: ",\n") + "\n)"
        if let comment = table.comment { text += "\nCOMMENT '\(comment.replacingOccurrences(of: "'", with: "''"))'" }
        if !table.distributedBy.isEmpty {
            text += "\nDISTRIBUTED BY HASH(\(table.distributedBy.map { "`\($0)`" }.joined(separator: ", ")))"
            if let buckets = table.bucketCount { text += " INTO \(buckets) BUCKETS" }
        } else if let buckets = table.bucketCount {
            text += "\nDISTRIBUTED INTO \(buckets) BUCKETS"
        }
        let options = table.options.filter { !$0.key.hasPrefix("floe.") }.sorted { $0.key < $1.key }
        if !options.isEmpty {
            text +=
                "\nWITH (\n" + options.map { "  '\($0.key)' = '\($0.value.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: ",\n")
                + "\n)"
        }
        return text + "\n"
    }

    func describe(_ name: QualifiedName, extended: Bool, kind: String = "DESCRIBE") throws(SQLError) -> any PreparedStatement {
        let object = try resolver.object(name)
        var rows: [Row] = []
        let entry: TableEntry? =
            switch object {
            case .table(_, _, let table): table
            case .kafkaTopic(_, let kafka): kafka.entry
            case .view, .system: nil
            }
        switch entry {
        case let table?:
            for column in table.columns {
                var extras: [String] = []
                if let computed = column.computed { extras.append("AS \(computed)") }
                if let key = column.metadataKey { extras.append("METADATA FROM '\(key)'" + (column.isVirtual ? " VIRTUAL" : "")) }
                let isKey = table.primaryKey.contains(column.name)
                let watermark = table.watermarkColumn == column.name ? table.watermarkExpression.map(Value.string) ?? .null : .null
                rows.append([
                    .string(column.name), .string(column.type.kindSQL), .bool(column.type.nullable),
                    isKey ? .string("PRI(\(table.primaryKey.joined(separator: ", ")))") : .null,
                    extras.isEmpty ? .null : .string(extras.joined(separator: " ")), watermark, column.comment.map(Value.string) ?? .null,
                ])
            }
        case nil:
            let plan = try analyzer.namedObject(name)
            rows = plan.fields.map { [.string($0.name), .string($0.type.kindSQL), .bool($0.type.nullable), .null, .null, .null, .null] }
        }
        let text = Self.text
        let optional = SQLType.string
        let columns: [(String, SQLType)] = [
            ("name", text), ("type", text), ("null", SQLType(.boolean, nullable: false)), ("key", optional), ("extras", optional),
            ("watermark", optional), ("comment", optional),
        ]
        let finalRows = rows
        return metadata(kind, columns) { _ throws(SQLError) in finalRows }
    }
}
