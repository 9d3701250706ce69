// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas

/// A schema registered under a topic's `-key` or `-value` subject, parsed.
public enum TopicSchema: Sendable {
    case avro(AvroSchema)
    case json(JSONSchemaDocument)

    /// The format name a table reading this schema uses (`key.format`, `value.format`).
    public var formatName: String {
        switch self {
        case .avro: "avro-registry"
        case .json: "json-registry"
        }
    }
}

/// The table a topic is without DDL: its physical columns and the format options that follow from its registered
/// schemas (kafka-tables.md §1, "Inferred tables").
public struct InferredTable: Sendable, Equatable {
    /// Where a column's values come from.
    public enum Origin: Sendable, Equatable {
        /// The record key (raw bytes, an atomic key schema, or a field of a key record).
        case key
        case value
        /// A key field that is also a value field (`value.fields-include = all`): written in both, read from the value.
        case keyAndValue
    }

    public struct Column: Sendable, Equatable {
        /// The column name (with `key.fields-prefix` for key columns).
        public var name: String
        public var type: SQLType
        public var origin: Origin
        /// The name of the field in the key or value schema (without the prefix); for the raw key, nil.
        public var fieldName: String?
    }

    public var columns: [Column]
    /// `key.format`, `value.format`, and `value.fields-include` / `key.fields-prefix` when they differ from the
    /// defaults (`except-key`, `""`).
    public var options: [String: String]
    /// The key columns: `DISTRIBUTED BY HASH(…)`.
    public var distributionKey: [String]
}

/// Infers a topic's table from the latest schemas of its `<topic>-key` and `<topic>-value` subjects.
public enum RegistryTableInference {
    /// - Throws: ``RecordSchemaError`` for a schema whose types have no Flink counterpart (recursive records, a
    ///   JSON Schema union other than with null).
    public static func infer(key: TopicSchema?, value: TopicSchema?) throws(RecordSchemaError) -> InferredTable {
        let bytes = SQLType(.varbinary(SQLType.maxLength))
        var options: [String: String] = [
            "key.format": key?.formatName ?? "raw",
            "value.format": value?.formatName ?? "raw",
        ]
        // Value columns.
        var valueColumns: [InferredTable.Column] = []
        if let value {
            let (fields, isRecord) = try columns(of: value)
            if isRecord {
                valueColumns = fields.map { InferredTable.Column(name: $0.name, type: $0.type, origin: .value, fieldName: $0.name) }
            } else if fields.count == 1 {
                valueColumns = [InferredTable.Column(name: "val", type: fields[0].type, origin: .value, fieldName: nil)]
            } else {
                // A top-level union: one nullable column per branch.
                valueColumns = fields.map {
                    InferredTable.Column(name: $0.name, type: $0.type.withNullable(true), origin: .value, fieldName: $0.name)
                }
            }
        } else {
            valueColumns = [InferredTable.Column(name: "val", type: bytes, origin: .value, fieldName: nil)]
        }
        // Key columns.
        var keyColumns: [InferredTable.Column] = []
        if let key {
            let (fields, isRecord) = try columns(of: key)
            if isRecord {
                let valueFields = valueColumns.filter { $0.fieldName != nil }
                let inside = !fields.isEmpty && fields.allSatisfy { field in valueFields.contains { $0.name == field.name && $0.type == field.type } }
                if inside {
                    options["value.fields-include"] = "all"
                    for index in valueColumns.indices where fields.contains(where: { $0.name == valueColumns[index].name }) {
                        valueColumns[index].origin = .keyAndValue
                    }
                    return InferredTable(columns: valueColumns, options: options, distributionKey: fields.map(\.name))
                }
                keyColumns = fields.map { InferredTable.Column(name: $0.name, type: $0.type, origin: .key, fieldName: $0.name) }
            } else {
                let type = fields.count == 1 ? fields[0].type : SQLType(.row(fields), nullable: false)
                keyColumns = [InferredTable.Column(name: "key", type: type, origin: .key, fieldName: nil)]
            }
        } else {
            keyColumns = [InferredTable.Column(name: "key", type: bytes, origin: .key, fieldName: nil)]
        }
        // Key columns whose names a value column has take the prefix `key_` (all of them, as the option applies to
        // every key field), repeated until no name collides.
        let valueNames = Set(valueColumns.map(\.name))
        var prefix = ""
        while keyColumns.contains(where: { valueNames.contains(prefix + $0.name) }) { prefix += "key_" }
        if !prefix.isEmpty {
            options["key.fields-prefix"] = prefix
            for index in keyColumns.indices { keyColumns[index].name = prefix + keyColumns[index].name }
        }
        return InferredTable(columns: keyColumns + valueColumns, options: options, distributionKey: keyColumns.map(\.name))
    }

    /// The fields of a schema's root record, or its one atomic type (`isRecord` false; several for a top-level
    /// union, one per branch).
    static func columns(of schema: TopicSchema) throws(RecordSchemaError) -> (fields: [SQLType.RowField], isRecord: Bool) {
        switch schema {
        case .avro(let avro):
            let root = avro.resolved(avro.root)
            let type = try AvroTypeMapping.sqlType(avro.root, in: avro)
            if case .record = root, case .row(let fields) = type.kind { return (fields, true) }
            if case .union(let branches) = root, AvroTypeMapping.nullablePair(branches) == nil, case .row(let fields) = type.kind {
                return (fields, false)
            }
            return ([SQLType.RowField("val", type)], false)
        case .json(let document):
            let type = try JSONSchemaMapping.sqlType(document.root, in: document)
            if case .row(let fields) = type.kind { return (fields, true) }
            return ([SQLType.RowField("val", type)], false)
        }
    }
}
