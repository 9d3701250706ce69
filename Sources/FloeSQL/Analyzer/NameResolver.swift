// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// A catalog object a name resolves to.
enum CatalogObject: Sendable {
    case table(catalog: CatalogIdentity, database: String, TableEntry)
    case view(catalog: CatalogIdentity, database: String, ViewEntry)
    case system(catalog: CatalogIdentity, SystemTable)
    /// A topic of a Kafka cluster attached as a database.
    case kafkaTopic(catalog: CatalogIdentity, KafkaTable)
}

/// Where a new object goes: a catalog, a database and a name.
struct ObjectPath: Sendable {
    var catalog: CatalogIdentity
    var database: String
    var name: String

    var display: String { "`\(catalog.name)`.`\(database)`.`\(name)`" }
}

/// Resolves catalog, database and object names against a catalog snapshot in a session's context.
struct NameResolver: Sendable {
    static let informationSchema = "INFORMATION_SCHEMA"

    var session: SessionContext
    var snapshot: CatalogSnapshot
    /// Where the objects names resolve to are written down, when someone asks (``FlinkDeclarations``).
    var recorder: ResolvedObjects? = nil

    /// The catalog named `name` (by id or display name).
    func catalog(named name: String) throws(SQLError) -> CatalogIdentity {
        let all = session.visibleCatalogs
        if let match = all.first(where: { $0.id == name }) ?? all.first(where: { $0.name == name }) { return match }
        throw Self.noCatalog(name)
    }

    /// The current catalog (`sql.current-catalog`, else the statement's own environment, if the statement may use it).
    func currentCatalog() throws(SQLError) -> CatalogIdentity {
        guard let name = session.properties["sql.current-catalog"], !name.isEmpty else {
            guard session.visibleCatalogs.contains(session.catalog) else { throw Self.noCatalog(session.catalog.name) }
            return session.catalog
        }
        return try catalog(named: name)
    }

    static func noCatalog(_ name: String) -> SQLError {
        SQLError("Catalog '\(name)' does not exist or you do not have access to it.")
    }

    /// Checks that the statement may `use` `catalog` (read its tables, write them, or change what it holds), which
    /// its principal's roles and its API key decide (``SessionContext/grants``).
    func require(_ use: CatalogAccess, on catalog: CatalogIdentity) throws(SQLError) {
        let granted = session.access(to: catalog)
        guard !granted.isEmpty else { throw Self.noCatalog(catalog.name) }
        guard granted.isSuperset(of: use) else {
            let what = use.contains(.manage) ? "create, alter or drop objects" : use.contains(.write) ? "write to tables" : "read tables"
            throw SQLError("The statement may not \(what) in catalog '\(catalog.name)': its principal's roles and API key do not allow it.")
        }
    }

    /// The current database (`sql.current-database`, else `default`).
    var currentDatabaseName: String {
        let name = session.properties["sql.current-database"] ?? ""
        return name.isEmpty ? "default" : name
    }

    /// The database `name` of `catalog`, when it exists (INFORMATION_SCHEMA and Kafka databases included).
    func databaseExists(_ name: String, in catalog: CatalogIdentity) -> Bool {
        name == Self.informationSchema || snapshot.catalog(catalog.id).databases[name] != nil || kafkaDatabase(name, in: catalog) != nil
    }

    /// The Kafka cluster attached to `catalog` that the database name `name` refers to: its `lkc-…` id always does,
    /// its display name does unless an embedded database has that name (those came first, and keep their meaning).
    func kafkaDatabase(_ name: String, in catalog: CatalogIdentity) -> KafkaDatabase? {
        let attached = session.kafkaDatabases(of: catalog)
        if let byID = attached.first(where: { $0.id == name }) { return byID }
        guard snapshot.catalog(catalog.id).databases[name] == nil else { return nil }
        return attached.first { $0.name == name }
    }

    /// The path of a (possibly qualified) object name the statement will `use` (checked against its grants).
    func path(_ name: QualifiedName, for use: CatalogAccess = .read) throws(SQLError) -> ObjectPath {
        let path: ObjectPath
        switch name.parts.count {
        case 1: path = ObjectPath(catalog: try currentCatalog(), database: currentDatabaseName, name: name.parts[0])
        case 2: path = ObjectPath(catalog: try currentCatalog(), database: name.parts[0], name: name.parts[1])
        case 3: path = ObjectPath(catalog: try catalog(named: name.parts[0]), database: name.parts[1], name: name.parts[2])
        default: throw SQLError("Object name '\(name.parts.joined(separator: "."))' has too many parts.")
        }
        try require(use, on: path.catalog)
        return path
    }

    /// The table, view or system table `name` refers to.
    func object(_ name: QualifiedName) throws(SQLError) -> CatalogObject {
        let object = try lookUp(name)
        if let recorder {
            let path = try path(name, for: [])
            // A Flink session knows catalogs by the names statements write, and Floe's by display name otherwise.
            let catalog = name.parts.count == 3 ? name.parts[0] : path.catalog.name
            recorder.record(ResolvedObjects.Entry(catalog: catalog, database: path.database, name: path.name, object: object))
        }
        return object
    }

    private func lookUp(_ name: QualifiedName) throws(SQLError) -> CatalogObject {
        let notFound = SQLError(
            "Table (or view) '\(name.parts.joined(separator: "."))' does not exist or you do not have access to it.", at: name.origin.span)
        let path: ObjectPath
        do { path = try self.path(name, for: .read) } catch { throw notFound }
        if path.database == Self.informationSchema {
            guard let table = SystemTable(rawValue: path.name) else { throw notFound }
            return .system(catalog: path.catalog, table)
        }
        if let kafka = kafkaDatabase(path.database, in: path.catalog) {
            if let view = snapshot.kafkaViews?[kafka.id]?[path.name] { return .view(catalog: path.catalog, database: path.database, view) }
            guard let topic = try kafka.cluster.describeTopic(path.name), topic.isTable else { throw notFound }
            let overrides = snapshot.kafkaOverrides(cluster: kafka.id, topic: topic.name)
            return .kafkaTopic(catalog: path.catalog, try KafkaTable.resolve(topic, in: kafka, overrides: overrides))
        }
        guard let database = snapshot.catalog(path.catalog.id).databases[path.database] else { throw notFound }
        if let table = database.tables[path.name] { return .table(catalog: path.catalog, database: path.database, table) }
        if let view = database.views[path.name] { return .view(catalog: path.catalog, database: path.database, view) }
        throw notFound
    }

    /// A database path, `db` or `catalog.db`, that the statement will `use` (checked against its grants).
    func databasePath(_ name: QualifiedName, for use: CatalogAccess = .read) throws(SQLError) -> (CatalogIdentity, String) {
        let path: (CatalogIdentity, String)
        switch name.parts.count {
        case 1: path = (try currentCatalog(), name.parts[0])
        case 2: path = (try catalog(named: name.parts[0]), name.parts[1])
        default: throw SQLError("Database name '\(name.parts.joined(separator: "."))' has too many parts.")
        }
        try require(use, on: path.0)
        return path
    }
}
