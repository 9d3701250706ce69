// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The INFORMATION_SCHEMA tables: their columns and their rows, computed from a catalog snapshot.
enum SystemTables {
    private static let text = SQLType.string.notNull
    private static let optionalText = SQLType.string
    private static let yesNo = SQLType(.varchar(3), nullable: false)

    static func fields(_ table: SystemTable) -> [(name: String, type: SQLType)] {
        switch table {
        case .catalogs: return [("CATALOG_ID", text), ("CATALOG_NAME", text)]
        case .schemata: return [("CATALOG_ID", text), ("CATALOG_NAME", text), ("SCHEMA_ID", text), ("SCHEMA_NAME", text)]
        case .tables:
            return [
                ("TABLE_CATALOG_ID", text), ("TABLE_CATALOG", text), ("TABLE_SCHEMA_ID", text), ("TABLE_SCHEMA", text), ("TABLE_NAME", text),
                ("TABLE_TYPE", text), ("IS_DISTRIBUTED", yesNo), ("DISTRIBUTION_ALGORITHM", optionalText),
                ("DISTRIBUTION_BUCKETS", SQLType(.integer)), ("IS_WATERMARKED", yesNo), ("WATERMARK_COLUMN", optionalText),
                ("WATERMARK_EXPRESSION", optionalText), ("WATERMARK_IS_HIDDEN", SQLType(.varchar(3))), ("IS_MATERIALIZED", yesNo),
                ("COMMENT", optionalText),
            ]
        case .columns:
            return [
                ("TABLE_CATALOG_ID", text), ("TABLE_CATALOG", text), ("TABLE_SCHEMA_ID", text), ("TABLE_SCHEMA", text), ("TABLE_NAME", text),
                ("COLUMN_NAME", text), ("ORDINAL_POSITION", SQLType(.integer, nullable: false)), ("IS_NULLABLE", yesNo), ("DATA_TYPE", text),
                ("FULL_DATA_TYPE", text), ("IS_HIDDEN", yesNo), ("IS_GENERATED", yesNo), ("GENERATION_EXPRESSION", optionalText),
                ("IS_METADATA", yesNo), ("METADATA_KEY", optionalText), ("IS_PERSISTED", yesNo),
                ("DISTRIBUTION_ORDINAL_POSITION", SQLType(.integer)), ("COMMENT", optionalText),
            ]
        }
    }

    static func types(_ table: SystemTable) -> [SQLType] { fields(table).map(\.type) }

    private static func yes(_ flag: Bool) -> Value { .string(flag ? "YES" : "NO") }
    private static func text(_ string: String?) -> Value { string.map(Value.string) ?? .null }

    /// The rows of `table` as seen from catalog `catalogID` (CATALOGS lists every catalog of the session).
    /// Kafka databases are in SCHEMATA, their topics (as tables) in TABLES and COLUMNS: listing those asks each cluster
    /// for its topics and the registry for their schemas.
    static func rows(
        _ table: SystemTable, catalogID: String, catalogs: [CatalogIdentity], kafkaDatabases: [KafkaDatabase], snapshot: CatalogSnapshot
    ) throws(SQLError) -> [Row] {
        guard let catalog = catalogs.first(where: { $0.id == catalogID }) else { return [] }
        let entry = snapshot.catalog(catalog.id)
        let databases = entry.databases.values.sorted { $0.name < $1.name }
        switch table {
        case .catalogs:
            return catalogs.map { [.string($0.id), .string($0.name)] }
        case .schemata:
            let kafka = kafkaDatabases.filter { $0.catalogID == catalog.id }.map { (id: $0.id, name: $0.name) }
            return (databases.map { (id: $0.id, name: $0.name) } + kafka).sorted { ($0.name, $0.id) < ($1.name, $1.id) }.map {
                [.string(catalog.id), .string(catalog.name), .string($0.id), .string($0.name)]
            }
                + [
                    [
                        .string(catalog.id), .string(catalog.name), .string("\(catalog.id)-information-schema"),
                        .string(NameResolver.informationSchema),
                    ]
                ]
        case .tables:
            var rows: [Row] = []
            for database in databases {
                let prefix: Row = [.string(catalog.id), .string(catalog.name), .string(database.id), .string(database.name)]
                for table in database.tables.values.sorted(by: { $0.name < $1.name }) { rows.append(prefix + tableRow(table)) }
                for view in database.views.values.sorted(by: { $0.name < $1.name }) { rows.append(prefix + viewRow(view)) }
            }
            for (database, tables) in try kafkaTables(of: catalog, kafkaDatabases, snapshot) {
                let prefix: Row = [.string(catalog.id), .string(catalog.name), .string(database.id), .string(database.name)]
                for table in tables { rows.append(prefix + tableRow(table)) }
                // A Kafka database's views live beside its topics.
                for view in (snapshot.kafkaViews?[database.id] ?? [:]).values.sorted(by: { $0.name < $1.name }) {
                    rows.append(prefix + viewRow(view))
                }
            }
            return rows
        case .columns:
            var rows: [Row] = []
            for database in databases {
                let prefix: Row = [.string(catalog.id), .string(catalog.name), .string(database.id), .string(database.name)]
                for table in database.tables.values.sorted(by: { $0.name < $1.name }) { rows += columnRows(table).map { prefix + $0 } }
            }
            for (database, tables) in try kafkaTables(of: catalog, kafkaDatabases, snapshot) {
                let prefix: Row = [.string(catalog.id), .string(catalog.name), .string(database.id), .string(database.name)]
                for table in tables { rows += columnRows(table).map { prefix + $0 } }
            }
            return rows
        }
    }

    /// The tables of `catalog`'s Kafka databases (every topic that is a table), by database.
    private static func kafkaTables(
        of catalog: CatalogIdentity, _ kafkaDatabases: [KafkaDatabase], _ snapshot: CatalogSnapshot
    ) throws(SQLError) -> [(KafkaDatabase, [TableEntry])] {
        var result: [(KafkaDatabase, [TableEntry])] = []
        for database in kafkaDatabases where database.catalogID == catalog.id {
            var tables: [TableEntry] = []
            for topic in try database.cluster.listTopics().filter(\.isTable).sorted(by: { $0.name < $1.name }) {
                let overrides = snapshot.kafkaOverrides(cluster: database.id, topic: topic.name)
                tables.append(try KafkaTable.resolve(topic, in: database, overrides: overrides).entry)
            }
            result.append((database, tables))
        }
        return result
    }

    /// A TABLES row of a view, after its catalog and database columns.
    private static func viewRow(_ view: ViewEntry) -> Row {
        [.string(view.name), .string("VIEW"), yes(false), .null, .null, yes(false), .null, .null, .null, yes(false), text(view.comment)]
    }

    /// A TABLES row of a table, after its catalog and database columns.
    private static func tableRow(_ table: TableEntry) -> Row {
        [
            .string(table.name), .string("BASE TABLE"), yes(!table.distributedBy.isEmpty),
            table.distributedBy.isEmpty ? .null : .string("HASH"), table.bucketCount.map { Value.int(Int64($0)) } ?? .null,
            yes(table.watermarkColumn != nil),
            text(table.watermarkColumn), text(table.watermarkExpression), table.watermarkColumn == nil ? .null : .string("NO"),
            yes(false), text(table.comment),
        ]
    }

    /// The COLUMNS rows of a table, after their catalog and database columns.
    private static func columnRows(_ table: TableEntry) -> [Row] {
        table.columns.enumerated().map { position, column in
            let distribution = table.distributedBy.firstIndex(of: column.name).map { Value.int(Int64($0 + 1)) } ?? .null
            return [
                .string(table.name), .string(column.name), .int(Int64(position + 1)), yes(column.type.nullable),
                .string(column.type.typeName), .string(column.type.sql), yes(false), yes(column.computed != nil),
                text(column.computed),
                yes(column.metadataKey != nil), text(column.metadataKey),
                yes(column.isPhysical || (column.metadataKey != nil && !column.isVirtual)),
                distribution, text(column.comment),
            ]
        }
    }
}
