// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// An error of the Schema Registry, as its REST API reports it: `{"error_code": N, "message": "…"}`.
///
/// Confluent's registry derives the HTTP status from the error code: a five-digit code is the status followed by two
/// digits (40401 → 404), a three-digit code is the status itself. Clients branch on the code (confluent-kafka's
/// serializers treat 40401/40403 as "not registered", 40901 as "incompatible"), so the codes and their triggers follow
/// Confluent's exactly; the messages follow its wording where clients or users are likely to look for it.
public struct SchemaRegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Confluent's `error_code`.
    public var errorCode: Int
    /// The human-readable `message`.
    public var message: String

    public init(errorCode: Int, message: String) {
        self.errorCode = errorCode
        self.message = message
    }

    /// The HTTP status the code stands for.
    public var httpStatus: Int { errorCode >= 10_000 ? errorCode / 100 : errorCode }

    public var description: String { "\(errorCode): \(message)" }

    // MARK: Not found (404)

    /// 40401: the subject has no (visible) versions.
    public static func subjectNotFound(_ subject: String) -> SchemaRegistryError {
        SchemaRegistryError(errorCode: 40401, message: "Subject '\(subject)' not found.")
    }

    /// 40402: the subject exists, the version does not (or is soft-deleted and deleted ones were not asked for).
    public static func versionNotFound(_ version: Int) -> SchemaRegistryError {
        SchemaRegistryError(errorCode: 40402, message: "Version \(version) not found.")
    }

    /// 40403: no schema with this id, or the schema is not registered under the subject looked up.
    public static func schemaNotFound(_ id: Int? = nil) -> SchemaRegistryError {
        SchemaRegistryError(errorCode: 40403, message: id.map { "Schema \($0) not found" } ?? "Schema not found")
    }

    /// 40404: a soft delete of a subject that is already soft-deleted.
    public static func subjectSoftDeleted(_ subject: String) -> SchemaRegistryError {
        SchemaRegistryError(
            errorCode: 40404, message: "Subject '\(subject)' was soft deleted.Set permanent=true to delete permanently")
    }

    /// 40405: a permanent delete of a subject that was not soft-deleted first.
    public static func subjectNotSoftDeleted(_ subject: String) -> SchemaRegistryError {
        SchemaRegistryError(
            errorCode: 40405, message: "Subject '\(subject)' was not deleted first before being permanently deleted")
    }

    /// 40406: a soft delete of a version that is already soft-deleted.
    public static func versionSoftDeleted(subject: String, version: Int) -> SchemaRegistryError {
        SchemaRegistryError(
            errorCode: 40406,
            message: "Subject '\(subject)' Version \(version) was soft deleted.Set permanent=true to delete permanently")
    }

    /// 40407: a permanent delete of a version that was not soft-deleted first.
    public static func versionNotSoftDeleted(subject: String, version: Int) -> SchemaRegistryError {
        SchemaRegistryError(
            errorCode: 40407, message: "Subject '\(subject)' Version \(version) was not deleted first before being permanently deleted")
    }

    /// 40408: `GET /config/{subject}` without `defaultToGlobal` for a subject with no level of its own.
    public static func subjectLevelCompatibilityNotConfigured(_ subject: String) -> SchemaRegistryError {
        SchemaRegistryError(
            errorCode: 40408, message: "Subject '\(subject)' does not have subject-level compatibility configured")
    }

    // MARK: Conflict and invalid input

    /// 40901: the schema is incompatible with earlier versions under the subject's level; `messages` say why.
    public static func incompatible(subject: String, messages: [String]) -> SchemaRegistryError {
        SchemaRegistryError(
            errorCode: 40901,
            message: "Schema being registered is incompatible with an earlier schema for subject \"\(subject)\", details: ["
                + messages.joined(separator: ", ") + "]")
    }

    /// 42201: the schema does not parse, or uses what Floe does not support (references, Protobuf).
    public static func invalidSchema(_ detail: String) -> SchemaRegistryError {
        SchemaRegistryError(errorCode: 42201, message: "Invalid schema: \(detail)")
    }

    /// 42202: a version that is neither a positive number, `-1` nor `latest`.
    public static func invalidVersion(_ text: String) -> SchemaRegistryError {
        SchemaRegistryError(
            errorCode: 42202,
            message:
                "The specified version '\(text)' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")
    }

    /// 42203: an unknown compatibility level.
    public static func invalidCompatibilityLevel(_ text: String) -> SchemaRegistryError {
        SchemaRegistryError(
            errorCode: 42203,
            message:
                "Invalid compatibility level '\(text)'. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"
        )
    }

    /// 42204: a mode other than READWRITE (the only one Floe's registry has).
    public static func invalidMode(_ text: String) -> SchemaRegistryError {
        SchemaRegistryError(errorCode: 42204, message: "Invalid mode '\(text)': this registry supports only READWRITE")
    }

    /// 42205 (Confluent: "operation not permitted"): a limit of the registry (subjects, versions) would be exceeded.
    public static func limitExceeded(_ detail: String) -> SchemaRegistryError {
        SchemaRegistryError(errorCode: 42205, message: detail)
    }

    /// 42209: a schema text longer than the registry stores.
    public static func schemaTooLarge(_ bytes: Int, limit: Int) -> SchemaRegistryError {
        SchemaRegistryError(errorCode: 42209, message: "Schema is too large: \(bytes) bytes, the limit is \(limit)")
    }

    /// 42208: an empty subject, one with control characters, or one longer than the registry accepts.
    public static func invalidSubject(_ subject: String) -> SchemaRegistryError {
        SchemaRegistryError(errorCode: 42208, message: "The specified subject '\(subject)' is not a valid subject name")
    }
}
