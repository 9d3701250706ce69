// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Synchronization

/// What a Flink SQL Gateway session must be told before it can run a statement as Floe's catalog defines its names:
/// the catalogs and databases the statement names, each table it reads or writes declared as an Apache Flink table of
/// the same name, its views, and the current catalog and database.
///
/// Floe stays the catalog. A Flink cluster sees the statement's objects only through these declarations, made afresh
/// in the statement's own session, so that it reads and writes exactly the Kafka topics the embedded engine would.
/// Tables that live only in the embedded engine (its table logs, files on Floe's machine) cannot be declared, and the
/// statement fails saying so.
public struct FlinkDeclarations: Sendable, Equatable {
    /// The statements to run in the session, in order (CREATE CATALOG, CREATE DATABASE, CREATE TABLE, CREATE VIEW,
    /// USE CATALOG, USE).
    public var statements: [String]

    public init(statements: [String]) {
        self.statements = statements
    }
}

/// The catalog objects a statement's names resolved to, in the order they were met, each with the names it was reached
/// by (a Flink session must know it by the same names).
final class ResolvedObjects: Sendable {
    struct Entry {
        /// The catalog as the statement names it (written, or the current catalog's name).
        var catalog: String
        var database: String
        var name: String
        var object: CatalogObject
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    var all: [Entry] { entries.withLock { $0 } }
}

extension FlinkDeclarations {
    /// The declarations of `objects` for a statement whose text is `sql`, run in `session`.
    static func make(
        for objects: [ResolvedObjects.Entry], sql: String, session: SessionContext, resolver: NameResolver
    ) throws(SQLError)
        -> FlinkDeclarations
    {
        // Objects named without their catalog are declared under the current catalog's display name (however
        // `sql.current-catalog` names it, by id or by name), so the session uses that name too.
        let currentCatalog = try resolver.currentCatalog().name
        let currentDatabase = resolver.currentDatabaseName
        // `$rowtime` is a system column on Confluent Cloud (not in `SELECT *`); on Flink it can only be a metadata
        // column, which `SELECT *` would show. So it is declared only for statements (and views) that name it.
        var texts = [sql]
        for entry in objects { if case .view(_, _, let view) = entry.object { texts.append(view.query) } }
        let namesRowtime = texts.contains { $0.range(of: PlanField.rowtimeName, options: .caseInsensitive) != nil }

        var catalogs: [String] = [currentCatalog]
        var databases: [(String, String)] = [(currentCatalog, currentDatabase)]
        var objectStatements: [String] = []
        var declared: Set<String> = []
        // Views are expanded after the names in them were resolved: declare what they use before them.
        for entry in objects.reversed() {
            let path = "\(quoted(entry.catalog)).\(quoted(entry.database)).\(quoted(entry.name))"
            guard declared.insert(path).inserted else { continue }
            var places = [(entry.catalog, entry.database)]
            if case .view(let catalog, let database, let view) = entry.object {
                // Flink qualifies a view's names when it is created, where the statement's session is: create it where
                // Floe resolves them, where the view was created.
                let creation = view.creationCatalogID.flatMap { id in session.visibleCatalogs.first { $0.id == id }?.name } ?? catalog.name
                let creationDatabase = view.creationDatabase ?? database
                places.append((creation, creationDatabase))
                objectStatements += ["USE CATALOG \(quoted(creation))", "USE \(quoted(creationDatabase))"]
            }
            for (catalog, database) in places {
                if !catalogs.contains(catalog) { catalogs.append(catalog) }
                if !databases.contains(where: { $0 == (catalog, database) }) { databases.append((catalog, database)) }
            }
            objectStatements.append(try declaration(of: entry, path: path, namesRowtime: namesRowtime, session: session))
        }
        var statements = catalogs.map { "CREATE CATALOG \(quoted($0)) WITH ('type' = 'generic_in_memory')" }
        statements += databases.map { "CREATE DATABASE IF NOT EXISTS \(quoted($0.0)).\(quoted($0.1))" }
        statements += objectStatements
        statements += ["USE CATALOG \(quoted(currentCatalog))", "USE \(quoted(currentDatabase))"]
        return FlinkDeclarations(statements: statements)
    }

    private static func declaration(
        of entry: ResolvedObjects.Entry, path: String, namesRowtime: Bool, session: SessionContext
    ) throws(SQLError)
        -> String
    {
        let display = "`\(entry.catalog)`.`\(entry.database)`.`\(entry.name)`"
        switch entry.object {
        case .system:
            throw SQLError.unsupported(
                "\(display) is an INFORMATION_SCHEMA table of Floe's catalog, which only the embedded engine reads: statements of compute pools "
                    + "that run on Apache Flink cannot.")
        case .view(_, _, let view):
            // Flink resolves the view's names where it was created, as Floe does.
            return "CREATE VIEW \(path) AS \(view.query)"
        case .table(_, _, let table):
            switch table.options["connector"]?.lowercased() {
            case nil:
                throw SQLError.unsupported(
                    "Table \(display) is a table of Floe's embedded engine (its rows are kept by the Floe server), which an Apache Flink "
                        + "cluster cannot read or write. Statements of compute pools that run on Flink use the topics of attached Kafka clusters.")
            case "filesystem":
                throw SQLError.unsupported(
                    "Table \(display) reads files on the Floe server's machine, which an Apache Flink cluster cannot reach. Declare it on Flink's "
                        + "own file systems, or run the statement on a compute pool of the embedded engine.")
            case "kafka", "upsert-kafka":
                var options = table.options
                let servers = Set(FlinkKafkaOptions.servers(options["properties.bootstrap.servers"] ?? ""))
                if let database = session.kafkaDatabases.first(where: { !$0.bootstrapServers.isDisjoint(with: servers) }) {
                    for (key, value) in database.flinkProperties { options[key] = value }
                    // `avro-confluent.url` names the environment's registry (Floe checked it): reach it as Flink can.
                    for key in options.keys.sorted() where key.hasSuffix("avro-confluent.url") {
                        guard let registry = database.flinkRegistryOptions else { throw ownRegistry(display) }
                        let prefix = key.dropLast("url".count)
                        for (option, value) in registry { options[prefix + option] = value }
                    }
                }
                var declared = table
                declared.options = options
                if namesRowtime { declared.columns.append(rowtimeColumn) }
                return StatementPlanner.createTableText(named: path, declared)
            default:
                // datagen, blackhole and the like: Flink has them (and says so if it does not).
                return StatementPlanner.createTableText(named: path, table)
            }
        case .kafkaTopic(_, let kafka):
            return try topicDeclaration(kafka, path: path, display: display, namesRowtime: namesRowtime)
        }
    }

    /// A Confluent table (a topic of an attached cluster) as Apache Flink's `kafka` or `upsert-kafka` table.
    private static func topicDeclaration(_ kafka: KafkaTable, path: String, display: String, namesRowtime: Bool) throws(SQLError) -> String {
        var table = kafka.entry
        let settings = kafka.settings
        var options: [String: String] = [
            "topic": kafka.topic.name, "properties.bootstrap.servers": kafka.database.bootstrapServers.sorted().joined(separator: ","),
        ]
        for (key, value) in kafka.database.flinkProperties { options[key] = value }
        let upsert = settings.changelogMode == .upsert && !table.primaryKey.isEmpty
        options["connector"] = upsert ? "upsert-kafka" : "kafka"
        func format(_ part: KafkaPartFormat, _ prefix: String) throws(SQLError) {
            switch part {
            case .raw: options["\(prefix).format"] = "raw"
            case .avroRegistry, .avroConfluent:
                guard let registry = kafka.database.flinkRegistryOptions else { throw ownRegistry(display) }
                options["\(prefix).format"] = "avro-confluent"
                for (key, value) in registry { options["\(prefix).avro-confluent.\(key)"] = value }
                if case .avroConfluent(let subject) = part { options["\(prefix).avro-confluent.subject"] = subject }
            case .jsonRegistry:
                throw SQLError.unsupported(
                    "Table \(display) is encoded as 'json-registry' (Confluent's JSON Schema wire format), which Apache Flink has no format for.")
            case .text(let text): options["\(prefix).format"] = text.format.rawValue
            }
        }
        let keyColumns = kafka.keyPart.map(\.name)
        if !keyColumns.isEmpty {
            try format(settings.keyFormat, "key")
            if !upsert { options["key.fields"] = keyColumns.joined(separator: ";") }
        }
        try format(settings.valueFormat, "value")
        options["value.fields-include"] = kafka.valuePart.count == kafka.layout.columns.count ? "ALL" : "EXCEPT_KEY"
        if !upsert {
            options["scan.startup.mode"] = Self.startupMode(settings.startup, into: &options)
            if let bounded = Self.boundedMode(settings.bounded, into: &options) { options["scan.bounded.mode"] = bounded }
        }
        if settings.readCommitted { options["properties.isolation.level"] = "read_committed" }
        table.options = options
        table.distributedBy = []
        table.bucketCount = nil
        if table.watermarkExpression == QueryAnalyzer.sourceWatermark || table.watermarkColumn == nil {
            // Apache Flink has no SOURCE_WATERMARK(): the table is declared without a watermark, and statements that need
            // event time on it say so in Flink's words.
            table.watermarkColumn = nil
            table.watermarkExpression = nil
        }
        if namesRowtime || table.watermarkColumn == PlanField.rowtimeName { table.columns.append(rowtimeColumn) }
        return StatementPlanner.createTableText(named: path, table)
    }

    private static func startupMode(_ bound: KafkaOffsetBound, into options: inout [String: String]) -> String {
        switch bound {
        case .earliest, .unbounded: return "earliest-offset"
        case .latest: return "latest-offset"
        case .groupOffsets: return "group-offsets"
        case .timestamp(let millis):
            options["scan.startup.timestamp-millis"] = String(millis)
            return "timestamp"
        case .specificOffsets(let offsets):
            options["scan.startup.specific-offsets"] = offsets.sorted { $0.key < $1.key }.map { "partition:\($0.key),offset:\($0.value)" }.joined(
                separator: ";")
            return "specific-offsets"
        }
    }

    private static func boundedMode(_ bound: KafkaOffsetBound, into options: inout [String: String]) -> String? {
        switch bound {
        case .unbounded, .earliest: return nil
        case .latest: return "latest-offset"
        case .groupOffsets: return "group-offsets"
        case .timestamp(let millis):
            options["scan.bounded.timestamp-millis"] = String(millis)
            return "timestamp"
        case .specificOffsets(let offsets):
            options["scan.bounded.specific-offsets"] = offsets.sorted { $0.key < $1.key }.map { "partition:\($0.key),offset:\($0.value)" }.joined(
                separator: ";")
            return "specific-offsets"
        }
    }

    private static func ownRegistry(_ display: String) -> SQLError {
        SQLError.unsupported(
            "Table \(display) is encoded with Avro through the Schema Registry of its environment, which is Floe's own: a Flink cluster "
                + "cannot use it (it takes API keys, whose secrets Floe does not keep). Give the environment an external Schema Registry "
                + "to run such statements on Flink.")
    }

    /// `$rowtime` as Flink can have it: the record's timestamp, read only.
    private static let rowtimeColumn = ColumnEntry(
        name: PlanField.rowtimeName, type: SQLType(.timestampLTZ(3)), metadataKey: "timestamp", isVirtual: true)

    static func quoted(_ name: String) -> String { "`" + name.replacingOccurrences(of: "`", with: "``") + "`" }
}
