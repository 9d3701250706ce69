// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A column of a catalog table.
struct ColumnEntry: Sendable, Codable, Equatable {
    var name: String
    var type: SQLType
    var comment: String?
    /// The expression of a computed column (`name AS expr`), as SQL text.
    var computed: String?
    /// The metadata key of a metadata column (`name type METADATA [FROM key]`).
    var metadataKey: String?
    var isVirtual: Bool = false

    var isPhysical: Bool { computed == nil && metadataKey == nil }
}

/// A table: its schema, options and the id of its log.
struct TableEntry: Sendable, Codable, Equatable {
    /// The log's file name stem; stable across renames and distinct across drop and re-create.
    var id: String
    var name: String
    var columns: [ColumnEntry]
    var primaryKey: [String]
    var watermarkColumn: String?
    var watermarkExpression: String?
    var distributedBy: [String]
    /// `INTO n BUCKETS`, when given.
    var bucketCount: Int?
    var comment: String?
    var options: [String: String]

    /// The stored columns, in order (computed and virtual metadata columns are not in the log).
    var physicalColumns: [ColumnEntry] { columns.filter(\.isPhysical) }

    /// How the table's log holds changes (Confluent's `changelog.mode`): `upsert` by default with a primary key,
    /// `append` without.
    var changelogMode: ChangelogMode {
        options["changelog.mode"].flatMap { ChangelogMode(rawValue: $0.lowercased()) } ?? (primaryKey.isEmpty ? .append : .upsert)
    }
}

/// How a table's log holds changes.
enum ChangelogMode: String, Sendable, CaseIterable {
    /// Inserts only.
    case append
    /// Upserts and deletes by primary key: readers see the table as a changelog normalized per key (first row +I, a
    /// changed row -U/+U, a delete -D); writers drop update-befores.
    case upsert
    /// Every change as written (+I, -U, +U, -D).
    case retract
}

/// A view: its query text and the schema it had when created.
struct ViewEntry: Sendable, Codable, Equatable {
    var name: String
    var query: String
    var columnNames: [String]
    var comment: String?
    /// The full `CREATE VIEW` text SHOW CREATE VIEW prints.
    var definition: String
    /// The current catalog id and database when the view was created: Flink resolves the view's names there.
    var creationCatalogID: String?
    var creationDatabase: String?
}

/// A database (Kafka cluster on Confluent Cloud) of a catalog.
struct DatabaseEntry: Sendable, Codable, Equatable {
    var id: String
    var name: String
    var comment: String?
    var tables: [String: TableEntry] = [:]
    var views: [String: ViewEntry] = [:]
}

/// A catalog (environment): its databases, `default` always among them.
struct CatalogEntry: Sendable, Codable, Equatable {
    var databases: [String: DatabaseEntry]

    static func fresh(catalogID: String) -> CatalogEntry {
        CatalogEntry(databases: ["default": DatabaseEntry(id: "\(catalogID)-default", name: "default")])
    }
}

/// Everything the catalog file holds.
struct CatalogSnapshot: Sendable, Codable, Equatable {
    var version = 1
    var catalogs: [String: CatalogEntry] = [:]
    /// What DDL added to the topics of attached Kafka clusters, by cluster id (`lkc-…`) and topic: computed and
    /// metadata columns, a watermark, a primary key, options. Their physical columns are never kept here: they are
    /// the registered schemas'. Absent in catalogs written before clusters could be attached.
    var kafkaTables: [String: [String: TableEntry]]?

    /// The views of attached Kafka clusters' databases, by cluster id (`lkc-…`) and name (a cluster's topics are its
    /// tables; its views live only here). Absent in catalogs written before they could be made.
    var kafkaViews: [String: [String: ViewEntry]]?

    /// The DDL overrides of `topic` of cluster `clusterID`.
    func kafkaOverrides(cluster clusterID: String, topic: String) -> TableEntry? { kafkaTables?[clusterID]?[topic] }

    /// The catalog with `id`, created empty (with `default`) when it was never touched.
    func catalog(_ id: String) -> CatalogEntry {
        if ExampleCatalog.isExample(id) { return ExampleCatalog.entry }
        return catalogs[id] ?? .fresh(catalogID: id)
    }
}
