// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A reference from one schema to another registered schema (`references` in the registry's API).
///
/// Floe's registry accepts only empty reference lists for now (a non-empty one is a 42201); the type exists so that
/// stored schemas and the wire format already have their place.
public struct SchemaReference: Sendable, Hashable {
    /// The name the referring schema uses (an Avro fullname, a JSON Schema `$ref` URL).
    public var name: String
    public var subject: String
    public var version: Int

    public init(name: String, subject: String, version: Int) {
        self.name = name
        self.subject = subject
        self.version = version
    }
}

/// A schema as a client submits it: its type, text and references.
public struct SchemaDefinition: Sendable, Hashable {
    public var type: SchemaType
    /// The schema text (JSON for Avro and JSON Schema).
    public var text: String
    public var references: [SchemaReference]

    public init(type: SchemaType = .avro, text: String, references: [SchemaReference] = []) {
        self.type = type
        self.text = text
        self.references = references
    }
}

/// A schema registered under a subject: what `GET /subjects/{s}/versions/{v}` returns.
public struct RegisteredSchema: Sendable, Hashable {
    /// The registry-wide schema id (the 4 bytes after the magic byte in Kafka records).
    public var id: Int
    public var subject: String
    public var version: Int
    public var type: SchemaType
    /// The stored schema text.
    public var text: String
    public var references: [SchemaReference]
    /// Whether this version is soft-deleted (visible only when deleted versions are asked for).
    public var deleted: Bool

    public init(
        id: Int, subject: String, version: Int, type: SchemaType, text: String, references: [SchemaReference] = [], deleted: Bool = false
    ) {
        self.id = id
        self.subject = subject
        self.version = version
        self.type = type
        self.text = text
        self.references = references
        self.deleted = deleted
    }

    /// The definition part.
    public var definition: SchemaDefinition { SchemaDefinition(type: type, text: text, references: references) }
}

/// The outcome of registering a schema under a subject.
public struct SchemaRegistration: Sendable, Hashable {
    public var id: Int
    public var version: Int
    /// Whether the subject already had this schema (nothing was written).
    public var existed: Bool

    public init(id: Int, version: Int, existed: Bool) {
        self.id = id
        self.version = version
        self.existed = existed
    }
}

/// One Schema Registry, as the rest of Floe uses it (the SQL engine's Kafka formats and DDL): Floe's own registry of
/// an environment or an external one reached over HTTP, behind the same calls.
///
/// The calls are the few a table needs: the writer schema of a record by id, the latest schema of a subject (reading
/// a topic with a schema), registering under `<table>-key`/`-value` (CREATE TABLE, and a sink whose schema is new),
/// dropping subjects (DROP TABLE) and the subject's compatibility (a key subject is FULL_TRANSITIVE). Errors are
/// ``SchemaRegistryError`` with the registry's codes (an external registry's are passed through), or a transport or
/// storage error.
///
/// In `floe serve`, `SchemaRegistryDirectory` (FloeServer) hands out the registry of an environment: a
/// `RemoteSchemaRegistry` (FloeClient) when the environment names an external one, else Floe's own from the store.
public protocol SchemaRegistry: Sendable {
    /// The latest non-deleted version of `subject`; `nil` when the subject has none.
    func latestVersion(subject: String) async throws -> RegisteredSchema?

    /// The schema with `id`; `nil` when there is none. Subject and version are those of the oldest registration of
    /// the schema (an id may be registered under several subjects).
    func schema(id: Int) async throws -> RegisteredSchema?

    /// Registers `schema` under `subject`, checked against the subject's compatibility level; registering a schema the
    /// subject already has returns its id and version.
    /// - Throws: ``SchemaRegistryError`` 42201 (invalid), 40901 (incompatible), 42205 (a limit).
    func register(subject: String, schema: SchemaDefinition, normalize: Bool) async throws -> SchemaRegistration

    /// Soft-deletes every version of `subject`, or permanently deletes it (which must follow a soft delete).
    /// - Returns: the versions deleted.
    @discardableResult
    func deleteSubject(_ subject: String, permanent: Bool) async throws -> [Int]

    /// The compatibility level set on `subject` itself; `nil` when it follows the registry's global level.
    func compatibility(subject: String) async throws -> CompatibilityLevel?

    /// Sets the compatibility level of `subject` (the subject need not exist yet).
    func setCompatibility(_ level: CompatibilityLevel, subject: String) async throws
}
