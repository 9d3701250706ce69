// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
public import FloeSchemas
import Foundation
import GRDB
import Synchronization

/// The SQLite implementation of ``ControlPlaneStore`` (GRDB, WAL journal, `synchronous=FULL`).
///
/// Each resource is one row of `control_plane_resource`: its kind, id, organization, environment, creation sequence
/// and its JSON body; the credentials of Kafka clusters are rows of `kafka_cluster_secret` instead. Rows are written
/// only by ``mutate(_:)``; the tables are read once, at open.
///
/// The file shrinks after deletes: the database uses incremental auto-vacuum, and once a tenth of its pages are free
/// (and at least a few megabytes) they are given back to the file system; the WAL file is truncated to 16 MiB after
/// each checkpoint.
public final class SQLiteControlPlaneStore: ControlPlaneStore {
    private let database: any DatabaseWriter
    private let committed: Mutex<ControlPlaneState>
    /// The most bytes of results kept per statement (``StatementResultStore``).
    let resultsLimit: Int
    /// Statement uid → bytes of its stored results, learned from the database at its first append after opening.
    private let resultBytes = Mutex<[String: Int]>([:])
    /// The environments' Schema Registries, in the same database.
    public let schemaRegistries: SchemaRegistryStore

    /// The default of ``resultsLimit``: 64 MiB, about 700,000 result changes of a few columns.
    public static let defaultResultsLimit = 64 << 20

    /// Opens (creating if needed) the database at `path`, migrates it and loads the state.
    /// - Throws: a database error, or a decoding error if a stored body is unreadable.
    public convenience init(path: String, resultsLimit: Int = defaultResultsLimit) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA journal_size_limit = \(16 << 20)")
        }
        configuration.busyMode = .timeout(5)
        try self.init(writer: DatabasePool(path: path, configuration: configuration), resultsLimit: resultsLimit)
    }

    /// A store on a private in-memory database, for tests.
    public static func inMemory(resultsLimit: Int = defaultResultsLimit) throws -> SQLiteControlPlaneStore {
        try SQLiteControlPlaneStore(writer: DatabaseQueue(), resultsLimit: resultsLimit)
    }

    init(writer: any DatabaseWriter, resultsLimit: Int = defaultResultsLimit) throws {
        self.database = writer
        self.resultsLimit = resultsLimit
        // A database a newer Floe migrated holds what this binary cannot know about (GRDB's migrator would open it
        // anyway): a downgrade goes through a backup, never by starting the older binary on the newer data.
        if try writer.read({ db in try FloeMigrations.migrator.hasBeenSuperseded(db) }) {
            throw StoreNewerThanBinary(migrations: try writer.read { db in try FloeMigrations.migrator.appliedIdentifiers(db).sorted() })
        }
        // Incremental auto-vacuum must be chosen before the first table exists, or applied by a VACUUM (once, for
        // databases of earlier versions). The VACUUM needs free space about the size of the database; if it fails (a
        // full disk, which is when space matters), the store opens as it is and tries again at the next start.
        try? writer.writeWithoutTransaction { db in
            if try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") != 2 {
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        }
        try FloeMigrations.migrator.migrate(writer)
        var state = ControlPlaneState()
        try writer.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT kind, body FROM control_plane_resource ORDER BY sequence")
            while let row = try rows.next() {
                let kindName: String = row["kind"]
                guard let kind = ResourceKind(rawValue: kindName) else { continue }
                let body: Data = row["body"]
                try state.load(kind: kind, body: body)
            }
            let secrets = try Row.fetchCursor(db, sql: "SELECT body FROM kafka_cluster_secret ORDER BY sequence")
            while let row = try secrets.next() {
                let body: Data = row["body"]
                try state.load(kind: .kafkaClusterSecret, body: body)
            }
            if let counter = try Int64.fetchOne(db, sql: "SELECT value FROM control_plane_counter WHERE name = 'sequence'") {
                state.load(lastSequence: counter)
            }
        }
        self.committed = Mutex(state)
        self.schemaRegistries = try SchemaRegistryStore(database: writer)
    }

    /// The Schema Registry of environment `environmentID`, as committed now; `nil` for an unknown environment.
    ///
    /// This is how components other than the HTTP API (the SQL engine's Kafka formats and DDL) reach a registry.
    public func schemaRegistry(environmentID: String) -> (any SchemaRegistry)? {
        guard let registryID = snapshot().environments[environmentID]?.schemaRegistryID else { return nil }
        return schemaRegistries.registry(registryID)
    }

    public func snapshot() -> ControlPlaneState {
        committed.withLock { $0 }
    }

    public func mutate<Result: Sendable>(_ operation: @Sendable (inout ControlPlaneState) throws -> Result) async throws -> Result {
        try await database.writeWithoutTransaction { db in
            var working = self.committed.withLock { $0 }
            let result = try operation(&working)
            let changes = working.drainChanges()
            if !changes.isEmpty {
                try db.inTransaction {
                    for change in changes { try Self.apply(change, in: db) }
                    try db.execute(
                        sql: "UPDATE control_plane_counter SET value = MAX(value, ?) WHERE name = 'sequence'", arguments: [working.lastSequence])
                    return .commit
                }
            }
            self.committed.withLock { $0 = working }
            return result
        }
    }

    static func apply(_ change: ResourceChange, in db: Database) throws {
        if change.kind == .kafkaClusterSecret {
            try applySecret(change, in: db)
            return
        }
        if let body = change.body {
            try db.execute(
                sql: """
                    INSERT INTO control_plane_resource (kind, id, organization_id, environment_id, sequence, body)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (kind, id) DO UPDATE SET
                      organization_id = excluded.organization_id, environment_id = excluded.environment_id,
                      sequence = excluded.sequence, body = excluded.body
                    """,
                arguments: [change.kind.rawValue, change.id, change.organizationID, change.environmentID, change.sequence, body])
        } else {
            try db.execute(
                sql: "DELETE FROM control_plane_resource WHERE kind = ? AND id = ?", arguments: [change.kind.rawValue, change.id])
        }
    }
}

extension SQLiteControlPlaneStore {
    /// Writes a Kafka cluster's credentials to their own table (never to `control_plane_resource`).
    static func applySecret(_ change: ResourceChange, in db: Database) throws {
        if let body = change.body {
            try db.execute(
                sql: """
                    INSERT INTO kafka_cluster_secret (cluster_id, organization_id, environment_id, sequence, body)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (cluster_id) DO UPDATE SET
                      organization_id = excluded.organization_id, environment_id = excluded.environment_id,
                      sequence = excluded.sequence, body = excluded.body
                    """,
                arguments: [change.id, change.organizationID, change.environmentID ?? "", change.sequence, body])
        } else {
            try db.execute(sql: "DELETE FROM kafka_cluster_secret WHERE cluster_id = ?", arguments: [change.id])
        }
    }
}

extension SQLiteControlPlaneStore: StatementResultStore {
    public func appendResults(statementID: String, statementUID: String, _ changes: [StoredResultChange]) async throws {
        guard !changes.isEmpty else { return }
        try await database.write { db in
            let owner = try String.fetchOne(
                db, sql: "SELECT json_extract(CAST(body AS TEXT), '$.uid') FROM control_plane_resource WHERE kind = ? AND id = ?",
                arguments: [ResourceKind.statement.rawValue, statementID])
            guard owner == statementUID else { return }
            let statement = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO statement_result (statement_uid, position, op, row) VALUES (?, ?, ?, ?)")
            var added = 0
            for change in changes {
                try statement.execute(arguments: [statementUID, change.position, change.op, change.row])
                if db.changesCount > 0 { added += Self.storedSize(change.row.count, uid: statementUID) }
            }
            try self.keepWithinLimit(statementUID: statementUID, adding: added, db)
        }
    }

    /// The bytes a stored change takes, roughly: its row, its key and SQLite's per-row overhead.
    static func storedSize(_ rowBytes: Int, uid: String) -> Int { rowBytes + uid.utf8.count + 16 }

    /// Drops the oldest results of `statementUID` once they pass ``resultsLimit``, down to nine tenths of it (so that
    /// not every append trims), and frees the space.
    private func keepWithinLimit(statementUID: String, adding added: Int, _ db: Database) throws {
        let known = resultBytes.withLock { $0[statementUID] }
        let total: Int
        if let known {
            total = known + added
        } else {
            let stored =
                try Int.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(length(row)), 0) + COUNT(*) * ? FROM statement_result WHERE statement_uid = ?",
                    arguments: [Self.storedSize(0, uid: statementUID), statementUID]) ?? 0
            total = stored
        }
        guard total > resultsLimit else {
            resultBytes.withLock { $0[statementUID] = total }
            return
        }
        var remaining = total
        var cutoff: Int64?
        let rows = try Row.fetchCursor(
            db, sql: "SELECT position, length(row) AS bytes FROM statement_result WHERE statement_uid = ? ORDER BY position",
            arguments: [statementUID])
        while remaining > resultsLimit / 10 * 9, let row = try rows.next() {
            let position: Int64 = row["position"]
            let bytes: Int = row["bytes"]
            remaining -= Self.storedSize(bytes, uid: statementUID)
            cutoff = position
        }
        if let cutoff {
            try db.execute(sql: "DELETE FROM statement_result WHERE statement_uid = ? AND position <= ?", arguments: [statementUID, cutoff])
        }
        resultBytes.withLock { $0[statementUID] = remaining }
        try Self.reclaimFreePages(db)
    }

    /// Gives free pages back to the file system once they are a tenth of the file and at least 4 MiB.
    static func reclaimFreePages(_ db: Database) throws {
        let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        let total = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        guard free * pageSize >= 4 << 20, free * 10 >= total else { return }
        try db.execute(sql: "PRAGMA incremental_vacuum")
    }

    /// The bytes all stored results take, counted as ``resultsLimit`` counts them (rows, their keys, SQLite's per-row
    /// overhead). A scan of the results table, read beside the writers (WAL): for scrapes, not for hot paths.
    public func resultStoreBytes() async throws -> Int {
        try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(length(row) + length(statement_uid) + 16), 0) FROM statement_result") ?? 0
        }
    }

    public func results(statementUID: String, from position: Int64, limit: Int) async throws -> [StoredResultChange] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT position, op, row FROM statement_result WHERE statement_uid = ? AND position >= ? ORDER BY position LIMIT ?",
                arguments: [statementUID, position, limit]
            ).map { StoredResultChange(position: $0["position"], op: $0["op"], row: $0["row"]) }
        }
    }

    public func resultCount(statementUID: String) async throws -> Int64 {
        try await database.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM statement_result WHERE statement_uid = ?", arguments: [statementUID]) ?? 0
        }
    }

    public func resultLogUIDs() async throws -> Set<String> {
        try await database.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT statement_uid FROM statement_result")) }
    }

    public func deleteResults(statementUID: String) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM statement_result WHERE statement_uid = ?", arguments: [statementUID])
        }
        resultBytes.withLock { $0[statementUID] = nil }
        try await database.writeWithoutTransaction { db in try Self.reclaimFreePages(db) }
    }
}

/// The database was migrated by a newer Floe than this binary: refusing it keeps its data as the newer version wrote it.
public struct StoreNewerThanBinary: Error, CustomStringConvertible {
    /// The migrations the database records (some unknown to this binary).
    public var migrations: [String]

    public var description: String {
        let known = Set(FloeMigrations.migrator.migrations)
        let unknown = migrations.filter { !known.contains($0) }
        return
            "The database was written by a newer version of Floe (migrations this binary does not know: \(unknown.joined(separator: ", "))). "
            + "Run that version, or restore a backup taken before the upgrade."
    }
}
