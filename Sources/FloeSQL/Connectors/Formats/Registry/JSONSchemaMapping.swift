// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas

/// Flink types ↔ JSON Schema for the `json-registry` format (kafka-tables.md §5, "Flink → JSON Schema").
///
/// Writing follows Kafka Connect's JSON Schema conventions, which Confluent Cloud's generated schemas use: every
/// number is `"type": "number"` with `connect.type` (int8…int64, float32, float64); DATE, TIME, TIMESTAMP and
/// DECIMAL carry the Connect logical type as `title` (`org.apache.kafka.connect.data.Date`, …), with
/// `flink.precision` where the type has one; BYTES is a string with `connect.type: bytes` (base64 in data);
/// nullable types are `oneOf: [{"type":"null"}, T]`; MAP<STRING, V> is an object with `additionalProperties`,
/// other maps arrays of `{key, value}` objects; ROW is an object with properties in column order
/// (`connect.index`).
///
/// Choice (not stated by Confluent's documentation): TIMESTAMP_LTZ is a Connect `Timestamp` (an instant);
/// TIMESTAMP without time zone is the same plus `"flink.type": "timestamp"`, so that reading the schema back gives
/// the column's type again. Values of both are epoch milliseconds, as Connect writes `Timestamp`.
///
/// Reading a foreign schema: `integer` is BIGINT and `number` DOUBLE unless `connect.type` or a Connect title says
/// otherwise; a property is NOT NULL when it is `required` and does not admit null.
public enum JSONSchemaMapping {
    static let dateTitle = "org.apache.kafka.connect.data.Date"
    static let timeTitle = "org.apache.kafka.connect.data.Time"
    static let timestampTitle = "org.apache.kafka.connect.data.Timestamp"
    static let decimalTitle = "org.apache.kafka.connect.data.Decimal"

    // MARK: Flink → JSON Schema

    /// The value schema of table `table` (title `<table>_value`).
    public static func valueSchema(table: String, columns: [SQLType.RowField]) throws(RecordSchemaError) -> JSONValue {
        try objectSchema(title: "\(table)_value", columns: columns)
    }

    /// The key schema of table `table` (title `<table>_key`).
    public static func keySchema(table: String, columns: [SQLType.RowField]) throws(RecordSchemaError) -> JSONValue {
        try objectSchema(title: "\(table)_key", columns: columns)
    }

    /// An object schema with one property per column.
    public static func objectSchema(title: String?, columns: [SQLType.RowField]) throws(RecordSchemaError) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", "object")]
        if let title { members.append(("title", .string(title))) }
        var properties: [(String, JSONValue)] = []
        for (index, column) in columns.enumerated() {
            var property = try schema(column.type)
            if case .object(var propertyMembers) = property {
                propertyMembers.append(("connect.index", .int(Int64(index))))
                property = .object(propertyMembers)
            }
            properties.append((column.name, property))
        }
        members.append(("properties", .object(properties)))
        let required = columns.filter { !$0.type.nullable }.map { JSONValue.string($0.name) }
        if !required.isEmpty { members.append(("required", .array(required))) }
        return .object(members)
    }

    static func schema(_ type: SQLType) throws(RecordSchemaError) -> JSONValue {
        let inner = try kind(type)
        guard type.nullable else { return inner }
        return ["oneOf": [["type": "null"], inner]]
    }

    private static func number(_ connectType: String) -> JSONValue { ["type": "number", "connect.type": .string(connectType)] }

    private static func kind(_ type: SQLType) throws(RecordSchemaError) -> JSONValue {
        switch type.kind {
        case .boolean: return ["type": "boolean"]
        case .tinyint: return number("int8")
        case .smallint: return number("int16")
        case .integer: return number("int32")
        case .bigint: return number("int64")
        case .float: return number("float32")
        case .double: return number("float64")
        case .char, .varchar: return ["type": "string"]
        case .binary, .varbinary: return ["type": "string", "connect.type": "bytes"]
        case .decimal(let p, let s):
            return [
                "type": "number", "title": .string(decimalTitle), "connect.type": "bytes", "flink.precision": .int(Int64(p)),
                "connect.parameters": ["scale": .string(String(s)), "connect.decimal.precision": .string(String(p))],
            ]
        case .date: return ["type": "number", "title": .string(dateTitle), "connect.type": "int32"]
        case .time(let p): return ["type": "number", "title": .string(timeTitle), "connect.type": "int32", "flink.precision": .int(Int64(p))]
        case .timestamp(let p):
            return [
                "type": "number", "title": .string(timestampTitle), "connect.type": "int64", "flink.precision": .int(Int64(p)),
                "flink.type": "timestamp",
            ]
        case .timestampLTZ(let p):
            return ["type": "number", "title": .string(timestampTitle), "connect.type": "int64", "flink.precision": .int(Int64(p))]
        case .array(let element): return ["type": "array", "items": try schema(element)]
        case .multiset(let element):
            return [
                "type": "array",
                "items": try objectSchema(title: nil, columns: [.init("key", element), .init("value", SQLType(.integer, nullable: false))]),
            ]
        case .map(let key, let value):
            if key.isCharacter { return ["type": "object", "additionalProperties": try schema(value)] }
            return ["type": "array", "items": try objectSchema(title: nil, columns: [.init("key", key), .init("value", value)])]
        case .row(let fields): return try objectSchema(title: nil, columns: fields)
        case .null, .intervalDayTime, .intervalYearMonth:
            throw RecordSchemaError("Type \(type.sql) cannot be written in JSON Schema.")
        }
    }

    // MARK: JSON Schema → Flink

    /// The Flink type a (sub)schema reads as; nullable when the schema admits null.
    static func sqlType(_ schema: JSONSchema, in document: JSONSchemaDocument, depth: Int = 0) throws(RecordSchemaError) -> SQLType {
        guard depth < AvroTypeMapping.maximumDepth else {
            throw RecordSchemaError("The JSON Schema nests deeper than \(AvroTypeMapping.maximumDepth) levels.")
        }
        guard case .node(let node) = schema else {
            throw RecordSchemaError("A boolean JSON Schema (true/false) has no Flink type.")
        }
        if let reference = node.ref {
            guard let target = document.resolve(reference) else {
                throw RecordSchemaError("The JSON Schema reference '\(reference)' does not resolve.")
            }
            return try sqlType(target, in: document, depth: depth + 1)
        }
        if let branches = node.oneOf ?? node.anyOf {
            let nonNull = branches.filter { !isNullSchema($0) }
            guard nonNull.count == 1 else {
                throw RecordSchemaError("A JSON Schema oneOf/anyOf other than a type with null has no Flink type.")
            }
            return try sqlType(nonNull[0], in: document, depth: depth + 1).withNullable(nonNull.count < branches.count)
        }
        var types = node.types ?? []
        let admitsNull = types.contains(.null)
        types.removeAll { $0 == .null }
        let connectType = node.extensionValue("connect.type")?.stringValue
        let precision = node.extensionValue("flink.precision")?.intValue.map { Int(clamping: $0) }
        let kind: SQLType.Kind
        switch node.title {
        case dateTitle?: kind = .date
        case timeTitle?: kind = .time(min(precision ?? 3, 3))
        case timestampTitle?:
            let p = min(precision ?? 3, 9)
            kind = node.extensionValue("flink.type")?.stringValue == "timestamp" ? .timestamp(p) : .timestampLTZ(p)
        case decimalTitle?:
            let parameters = node.extensionValue("connect.parameters")
            let scale = parameters?["scale"]?.stringValue.flatMap { Int($0) } ?? 0
            let p = precision ?? parameters?["connect.decimal.precision"]?.stringValue.flatMap { Int($0) } ?? 38
            kind = .decimal(precision: min(max(p, 1), 38), scale: min(scale, 38))
        default:
            switch types.first {
            case .boolean?: kind = .boolean
            case .integer?:
                kind = integerKind(connectType) ?? .bigint
            case .number?:
                switch connectType {
                case "float32": kind = .float
                case "float64": kind = .double
                default: kind = integerKind(connectType) ?? .double
                }
            case .string?: kind = connectType == "bytes" ? .varbinary(SQLType.maxLength) : .varchar(SQLType.maxLength)
            case .array?:
                if let items = node.items {
                    let element = try sqlType(items, in: document, depth: depth + 1)
                    if case .row(let fields) = element.kind, fields.count == 2, fields[0].name == "key", fields[1].name == "value",
                        node.extensionValue("connect.type")?.stringValue == "map"
                    {
                        kind = .map(key: fields[0].type, value: fields[1].type)
                    } else {
                        kind = .array(element)
                    }
                } else {
                    kind = .array(SQLType.string)
                }
            case .object?, nil:
                if node.properties.isEmpty, let additional = node.additionalProperties, !additional.admitsEverything {
                    kind = .map(key: SQLType.string.notNull, value: try sqlType(additional, in: document, depth: depth + 1))
                } else if node.properties.isEmpty, types.isEmpty {
                    throw RecordSchemaError("A JSON Schema without a type or properties has no Flink type.")
                } else {
                    var fields: [SQLType.RowField] = []
                    for property in node.properties {
                        var type = try sqlType(property.schema, in: document, depth: depth + 1)
                        if !node.required.contains(property.name) { type = type.withNullable(true) }
                        fields.append(SQLType.RowField(property.name, type))
                    }
                    kind = .row(fields)
                }
            case .null?:
                kind = .null
            }
        }
        return SQLType(kind, nullable: admitsNull)
    }

    private static func integerKind(_ connectType: String?) -> SQLType.Kind? {
        switch connectType {
        case "int8": .tinyint
        case "int16": .smallint
        case "int32": .integer
        case "int64": .bigint
        default: nil
        }
    }

    private static func isNullSchema(_ schema: JSONSchema) -> Bool {
        guard case .node(let node) = schema else { return false }
        return node.types == [.null]
    }
}
