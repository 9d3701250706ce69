// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
public import FloeSchemas
import GRDB
import Synchronization

/// The Schema Registries of every environment, durable in Floe's database and served from memory.
///
/// The same pattern as ``SQLiteControlPlaneStore``: all registries are read once at open; readers get the committed
/// ``SchemaRegistryState`` of a registry without I/O; a mutation runs on a copy under GRDB's writer, its recorded
/// changes are written in one transaction, and the copy is published only after the commit. A failed operation or
/// transaction leaves the database and what readers see unchanged, and writes are serialized across registries.
public final class SchemaRegistryStore: Sendable {
    private let database: any DatabaseWriter
    private let committed: Mutex<[String: SchemaRegistryState]>
    /// What each registry may hold.
    public let limits: SchemaRegistryLimits

    init(database: any DatabaseWriter, limits: SchemaRegistryLimits = SchemaRegistryLimits()) throws {
        self.database = database
        self.limits = limits
        var registries: [String: SchemaRegistryState] = [:]
        func state(_ id: String) -> SchemaRegistryState { registries[id] ?? SchemaRegistryState(limits: limits) }
        try database.read { db in
            let schemas = try Row.fetchCursor(db, sql: "SELECT registry_id, id, type, schema, identity, refs FROM sr_schema")
            while let row = try schemas.next() {
                let registryID: String = row["registry_id"]
                let typeName: String = row["type"]
                guard let type = SchemaType(registryName: typeName) else { continue }
                let refs: String = row["refs"]
                var registry = state(registryID)
                registry.load(
                    StoredSchema(
                        id: row["id"], type: type, text: row["schema"], identity: row["identity"], references: Self.decodeReferences(refs)))
                registries[registryID] = registry
            }
            let versions = try Row.fetchCursor(db, sql: "SELECT registry_id, subject, version, schema_id, deleted FROM sr_subject_version")
            while let row = try versions.next() {
                let registryID: String = row["registry_id"]
                var registry = state(registryID)
                registry.load(SubjectVersion(subject: row["subject"], version: row["version"], schemaID: row["schema_id"], deleted: row["deleted"]))
                registries[registryID] = registry
            }
            let configs = try Row.fetchCursor(db, sql: "SELECT registry_id, subject, compatibility FROM sr_config")
            while let row = try configs.next() {
                let registryID: String = row["registry_id"]
                let subject: String = row["subject"]
                let levelName: String = row["compatibility"]
                guard let level = CompatibilityLevel(registryName: levelName) else { continue }
                var registry = state(registryID)
                registry.load(level: level, subject: subject.isEmpty ? nil : subject)
                registries[registryID] = registry
            }
        }
        self.committed = Mutex(registries)
    }

    /// The committed state of registry `registryID` (empty for a registry with nothing stored yet).
    public func snapshot(_ registryID: String) -> SchemaRegistryState {
        committed.withLock { $0[registryID] } ?? SchemaRegistryState(limits: limits)
    }

    /// The ids of every registry with something stored.
    public func storedRegistryIDs() -> Set<String> {
        committed.withLock { Set($0.keys) }
    }

    /// Applies `operation` to a copy of registry `registryID`, persists its changes atomically and publishes the copy.
    /// - Throws: what `operation` threw (typically ``SchemaRegistryError``) or a database error; nothing changed then.
    public func mutate<Result: Sendable>(
        _ registryID: String, _ operation: @Sendable (inout SchemaRegistryState) throws -> Result
    ) async throws -> Result {
        try await database.writeWithoutTransaction { db in
            var working = self.snapshot(registryID)
            let result = try operation(&working)
            let changes = working.drainChanges()
            guard !changes.isEmpty else { return result }
            try db.inTransaction {
                for change in changes { try Self.apply(change, registryID: registryID, in: db) }
                return .commit
            }
            self.committed.withLock { $0[registryID] = working }
            return result
        }
    }

    /// Deletes everything of registry `registryID` (its environment was deleted).
    ///
    /// The in-memory state goes in the same turn of the writer as the rows, so a mutation queued behind the drop
    /// starts from the empty registry rather than publishing the dropped one again.
    public func drop(_ registryID: String) async throws {
        try await database.writeWithoutTransaction { db in
            try db.inTransaction {
                for table in ["sr_schema", "sr_subject_version", "sr_config"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE registry_id = ?", arguments: [registryID])
                }
                return .commit
            }
            self.committed.withLock { $0[registryID] = nil }
        }
    }

    /// Drops the registries of environments that no longer exist (an environment deleted while the server stopped
    /// before dropping its registry).
    /// - Returns: the registries dropped.
    @discardableResult
    public func dropOrphans(keeping live: Set<String>) async throws -> [String] {
        let orphans = storedRegistryIDs().subtracting(live).sorted()
        for orphan in orphans { try await drop(orphan) }
        return orphans
    }

    /// Registry `registryID` behind the ``SchemaRegistry`` protocol (for the SQL engine and other in-process users).
    public func registry(_ registryID: String) -> any SchemaRegistry {
        StoredSchemaRegistry(store: self, registryID: registryID)
    }

    static func apply(_ change: SchemaRegistryChange, registryID: String, in db: Database) throws {
        switch change {
        case .schemaAdded(let schema):
            try db.execute(
                sql: "INSERT INTO sr_schema (registry_id, id, type, schema, identity, refs) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [registryID, schema.id, schema.type.rawValue, schema.text, schema.identity, encodeReferences(schema.references)])
        case .versionSaved(let version):
            try db.execute(
                sql: """
                    INSERT INTO sr_subject_version (registry_id, subject, version, schema_id, deleted) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (registry_id, subject, version) DO UPDATE SET schema_id = excluded.schema_id, deleted = excluded.deleted
                    """,
                arguments: [registryID, version.subject, version.version, version.schemaID, version.deleted])
        case .versionRemoved(let subject, let version):
            try db.execute(
                sql: "DELETE FROM sr_subject_version WHERE registry_id = ? AND subject = ? AND version = ?",
                arguments: [registryID, subject, version])
        case .levelSaved(let subject, let level?):
            try db.execute(
                sql: """
                    INSERT INTO sr_config (registry_id, subject, compatibility) VALUES (?, ?, ?)
                    ON CONFLICT (registry_id, subject) DO UPDATE SET compatibility = excluded.compatibility
                    """,
                arguments: [registryID, subject ?? "", level.rawValue])
        case .levelSaved(let subject, nil):
            try db.execute(sql: "DELETE FROM sr_config WHERE registry_id = ? AND subject = ?", arguments: [registryID, subject ?? ""])
        }
    }

    static func encodeReferences(_ references: [SchemaReference]) -> String {
        JSONValue.array(
            references.map { ["name": .string($0.name), "subject": .string($0.subject), "version": .int(Int64($0.version))] }
        ).serializedString
    }

    static func decodeReferences(_ text: String) -> [SchemaReference] {
        guard let entries = (try? JSONValue.parse(text))?.arrayValue else { return [] }
        return entries.compactMap { entry in
            guard let name = entry["name"]?.stringValue, let subject = entry["subject"]?.stringValue, let version = entry["version"]?.intValue
            else { return nil }
            return SchemaReference(name: name, subject: subject, version: Int(version))
        }
    }
}

/// One registry of a ``SchemaRegistryStore`` as a ``SchemaRegistry``.
struct StoredSchemaRegistry: SchemaRegistry {
    let store: SchemaRegistryStore
    let registryID: String

    func latestVersion(subject: String) async throws -> RegisteredSchema? {
        store.snapshot(registryID).latest(of: subject)
    }

    func schema(id: Int) async throws -> RegisteredSchema? {
        let state = store.snapshot(registryID)
        guard let schema = try? state.schema(id: id) else { return nil }
        let usage = state.usages(ofSchema: id, includeDeleted: true).min { ($0.subject, $0.version) < ($1.subject, $1.version) }
        return RegisteredSchema(
            id: id, subject: usage?.subject ?? "", version: usage?.version ?? 0, type: schema.type, text: schema.text,
            references: schema.references, deleted: usage?.deleted ?? false)
    }

    func register(subject: String, schema: SchemaDefinition, normalize: Bool) async throws -> SchemaRegistration {
        try await store.mutate(registryID) { state in try state.register(subject: subject, definition: schema, normalize: normalize) }
    }

    func deleteSubject(_ subject: String, permanent: Bool) async throws -> [Int] {
        try await store.mutate(registryID) { state in try state.deleteSubject(subject, permanent: permanent) }
    }

    func compatibility(subject: String) async throws -> CompatibilityLevel? {
        store.snapshot(registryID).subjectLevels[subject]
    }

    func setCompatibility(_ level: CompatibilityLevel, subject: String) async throws {
        try await store.mutate(registryID) { state in try state.setLevel(level, subject: subject) }
    }
}
