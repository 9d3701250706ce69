// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Synchronization

/// A ``SchemaRegistry`` held in memory, with the same rules as Floe's durable one (``SchemaRegistryState``): for the
/// engine's tests and benchmarks, which need a registry but no store.
public final class InMemorySchemaRegistry: SchemaRegistry {
    private let state: Mutex<SchemaRegistryState>

    public init(limits: SchemaRegistryLimits = SchemaRegistryLimits()) { state = Mutex(SchemaRegistryState(limits: limits)) }

    public func latestVersion(subject: String) async throws -> RegisteredSchema? { state.withLock { $0.latest(of: subject) } }

    public func schema(id: Int) async throws -> RegisteredSchema? {
        state.withLock { state in
            guard let schema = try? state.schema(id: id) else { return nil }
            let usage = state.usages(ofSchema: id, includeDeleted: true).min { ($0.subject, $0.version) < ($1.subject, $1.version) }
            return RegisteredSchema(
                id: id, subject: usage?.subject ?? "", version: usage?.version ?? 0, type: schema.type, text: schema.text,
                references: schema.references, deleted: usage?.deleted ?? false)
        }
    }

    public func register(subject: String, schema: SchemaDefinition, normalize: Bool) async throws -> SchemaRegistration {
        try state.withLock { (state: inout SchemaRegistryState) throws(SchemaRegistryError) in
            defer { _ = state.drainChanges() }
            return try state.register(subject: subject, definition: schema, normalize: normalize)
        }
    }

    public func deleteSubject(_ subject: String, permanent: Bool) async throws -> [Int] {
        try state.withLock { (state: inout SchemaRegistryState) throws(SchemaRegistryError) in
            defer { _ = state.drainChanges() }
            return try state.deleteSubject(subject, permanent: permanent)
        }
    }

    public func compatibility(subject: String) async throws -> CompatibilityLevel? { state.withLock { $0.subjectLevels[subject] } }

    public func setCompatibility(_ level: CompatibilityLevel, subject: String) async throws {
        try state.withLock { (state: inout SchemaRegistryState) throws(SchemaRegistryError) in
            defer { _ = state.drainChanges() }
            try state.setLevel(level, subject: subject)
        }
    }
}
