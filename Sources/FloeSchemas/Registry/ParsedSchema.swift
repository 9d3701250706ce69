// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// A submitted schema parsed by its type, with what the registry derives from it: the identity that decides "same
/// schema, same id" and the compatibility problems against earlier versions.
enum ParsedSchema: Sendable {
    case avro(AvroSchema)
    case json(JSONSchemaDocument)

    /// Parses `definition`.
    /// - Throws: 42201 for text that is not a valid schema of its type, and for Protobuf (not supported yet).
    init(_ definition: SchemaDefinition) throws(SchemaRegistryError) {
        switch definition.type {
        case .avro:
            do {
                self = .avro(try AvroSchema(parsing: definition.text))
            } catch {
                throw .invalidSchema(error.message)
            }
        case .json:
            do {
                self = .json(try JSONSchemaDocument(parsing: definition.text))
            } catch {
                throw .invalidSchema(error.description)
            }
        case .protobuf:
            throw .invalidSchema("schemaType PROTOBUF is not supported by Floe's Schema Registry yet; use AVRO or JSON.")
        }
    }

    /// The identity of the schema: every attribute, one spelling (see ``StoredSchema/identity``).
    var identity: String {
        switch self {
        case .avro(let schema): return schema.normalizedForm
        case .json(let document): return document.canonicalString
        }
    }

    /// `text` without insignificant whitespace, keys in their submitted order (the form stored without `normalize`).
    static func compact(_ text: String) -> String {
        (try? JSONValue.parse(text))?.serializedString ?? text
    }

    /// The problems that keep this schema from following `existing` (oldest first) at `level`, with the index of the
    /// version they are against; no index when there are none.
    func problems(against existing: [ParsedSchema], level: CompatibilityLevel) -> (messages: [String], index: Int?) {
        guard level != .none, !existing.isEmpty else { return ([], nil) }
        switch self {
        case .avro(let new):
            let candidates = level.isTransitive ? Array(existing.indices) : [existing.count - 1]
            var older: [AvroSchema] = []
            for index in candidates {
                guard case .avro(let schema) = existing[index] else { return Self.typeChanged(from: existing[index], to: self, at: index) }
                older.append(schema)
            }
            let found = AvroSchema.compatibilityProblems(of: new, against: older, level: level)
            guard let first = found.first else { return ([], nil) }
            return (found.map(\.registryMessage), candidates[first.existingIndex])
        case .json(let new):
            let candidates = level.isTransitive ? Array(existing.indices) : [existing.count - 1]
            var older: [JSONSchemaDocument] = []
            for index in candidates {
                guard case .json(let document) = existing[index] else { return Self.typeChanged(from: existing[index], to: self, at: index) }
                older.append(document)
            }
            let found = JSONSchemaCompatibility.check(new, against: older, level: level)
            guard let first = found.first else { return ([], nil) }
            return (found.map(\.description), candidates[first.existingIndex])
        }
    }

    var typeName: String {
        switch self {
        case .avro: return "AVRO"
        case .json: return "JSON"
        }
    }

    private static func typeChanged(from old: ParsedSchema, to new: ParsedSchema, at index: Int) -> ([String], Int?) {
        (["Incompatible schema type: the subject's schemas are \(old.typeName), the new one is \(new.typeName)"], index)
    }
}
