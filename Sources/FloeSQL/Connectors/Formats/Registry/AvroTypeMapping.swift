// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas

extension SQLType.RowField {
    /// A column (or ROW field) named `name` of type `type`: how codecs are told the table's physical columns.
    public init(_ name: String, _ type: SQLType) {
        self.init(name: name, type: type)
    }
}

/// The Flink type an Avro type is read as (kafka-tables.md §5, "reading foreign Avro"), as the inference of a table
/// from a registered schema uses it. Non-union types are NOT NULL; `["null", T]` (either order) is a nullable T; any
/// other union is a ROW with one nullable field per branch, named by the branch's type (`int`, `string`, a record's
/// name), as Confluent Cloud reads it.
enum AvroTypeMapping {
    /// How deep a schema may nest before it is refused: deeper than any real table, shallow enough for the stack.
    static let maximumDepth = 64

    static func sqlType(_ type: AvroType, in schema: AvroSchema, depth: Int = 0, enclosing: [String] = []) throws(RecordSchemaError) -> SQLType {
        guard depth < maximumDepth else { throw RecordSchemaError("The Avro schema nests deeper than \(maximumDepth) levels.") }
        var enclosing = enclosing
        if case .record(let record) = type { enclosing.append(record.name.fullname) }
        func inner(_ type: AvroType) throws(RecordSchemaError) -> SQLType { try sqlType(type, in: schema, depth: depth + 1, enclosing: enclosing) }
        switch type {
        case .reference(let name):
            // A record used again inside its own definition is a recursive type: a table's columns cannot hold it.
            guard !enclosing.contains(name.fullname) else {
                throw RecordSchemaError("The Avro type '\(name.fullname)' is recursive; a table cannot have it as a column type.")
            }
            guard let definition = schema.namedTypes[name.fullname] else {
                throw RecordSchemaError("The Avro schema names an unknown type '\(name.fullname)'.")
            }
            return try inner(definition)
        case .primitive(let primitive):
            return SQLType(try primitiveKind(primitive), nullable: primitive.kind == .null)
        case .enumeration:
            return SQLType(.varchar(SQLType.maxLength), nullable: false)
        case .fixed(let fixed):
            if case .decimal(let precision, let scale) = fixed.logicalType {
                return SQLType(.decimal(precision: min(precision, 38), scale: min(scale, 38)), nullable: false)
            }
            return SQLType(.binary(max(1, fixed.size)), nullable: false)
        case .array(let array):
            if let entry = mapEntry(array.items, in: schema) {
                let key = try inner(entry.key)
                let value = try inner(entry.value)
                return SQLType(.map(key: key, value: value), nullable: false)
            }
            return SQLType(.array(try inner(array.items)), nullable: false)
        case .map(let map):
            let value = try inner(map.values)
            return SQLType(.map(key: SQLType.string.notNull, value: value), nullable: false)
        case .record(let record):
            var fields: [SQLType.RowField] = []
            for field in record.fields {
                fields.append(SQLType.RowField(field.name, try inner(field.type)))
            }
            return SQLType(.row(fields), nullable: false)
        case .union(let branches):
            if let (_, innerType) = nullablePair(branches) {
                return try inner(innerType).withNullable(true)
            }
            var fields: [SQLType.RowField] = []
            var nullable = false
            for branch in branches {
                if case .primitive(let p) = branch, p.kind == .null {
                    nullable = true
                    continue
                }
                let type = try inner(branch)
                fields.append(SQLType.RowField(branchName(branch, in: schema), type.withNullable(true)))
            }
            return SQLType(.row(fields), nullable: nullable)
        }
    }

    private static func primitiveKind(_ primitive: AvroPrimitiveType) throws(RecordSchemaError) -> SQLType.Kind {
        let connectType = primitive.properties["connect.type"]?.stringValue
        let maxLength = primitive.properties["flink.maxLength"]?.intValue.map { Int(clamping: $0) }
        let minLength = primitive.properties["flink.minLength"]?.intValue.map { Int(clamping: $0) }
        switch primitive.kind {
        case .null: return .null
        case .boolean: return .boolean
        case .int:
            switch primitive.logicalType {
            case .date: return .date
            case .timeMillis: return .time(3)
            default:
                switch connectType {
                case "int8": return .tinyint
                case "int16": return .smallint
                default: return .integer
                }
            }
        case .long:
            switch primitive.logicalType {
            case .timestampMillis: return .timestampLTZ(3)
            case .timestampMicros: return .timestampLTZ(6)
            case .timestampNanos: return .timestampLTZ(9)
            case .localTimestampMillis: return .timestamp(3)
            case .localTimestampMicros: return .timestamp(6)
            case .localTimestampNanos: return .timestamp(9)
            default: return .bigint  // time-micros is BIGINT (SER)
            }
        case .float: return .float
        case .double: return .double
        case .bytes:
            if case .decimal(let precision, let scale) = primitive.logicalType {
                return .decimal(precision: min(precision, 38), scale: min(scale, 38))
            }
            if let maxLength, (1..<SQLType.maxLength).contains(maxLength) { return .varbinary(maxLength) }
            return .varbinary(SQLType.maxLength)
        case .string:
            if let maxLength, (1..<SQLType.maxLength).contains(maxLength) {
                return minLength == maxLength ? .char(maxLength) : .varchar(maxLength)
            }
            return .varchar(SQLType.maxLength)
        }
    }

    /// The non-null branch of a two-branch union with `null`, and the null branch's index.
    static func nullablePair(_ branches: [AvroType]) -> (nullIndex: Int, inner: AvroType)? {
        guard branches.count == 2 else { return nil }
        for index in 0..<2 {
            if case .primitive(let p) = branches[index], p.kind == .null {
                let other = branches[1 - index]
                if case .primitive(let q) = other, q.kind == .null { return nil }
                return (index, other)
            }
        }
        return nil
    }

    /// The column or field name a union branch becomes: the type keyword of an unnamed type, the unqualified name
    /// of a named one.
    static func branchName(_ branch: AvroType, in schema: AvroSchema) -> String {
        if let name = branch.name { return name.name }
        return branch.typeName
    }

    /// The key and value types of Kafka Connect's map encoding, an array of `MapEntry` records with the two fields
    /// `key` and `value` (how maps with non-string keys travel in Avro).
    static func mapEntry(_ items: AvroType, in schema: AvroSchema) -> (key: AvroType, value: AvroType)? {
        guard case .record(let record) = schema.resolved(items), record.fields.count == 2,
            record.fields[0].name == "key", record.fields[1].name == "value",
            record.name.name == "MapEntry" || record.name.fullname.hasSuffix("MapEntry")
        else { return nil }
        return (record.fields[0].type, record.fields[1].type)
    }
}

/// The Avro schema CREATE TABLE registers for a table's key or value columns (kafka-tables.md §5 "Flink → Avro"):
/// a record `<table>_value` / `<table>_key` in namespace `org.apache.flink.avro.generated.record`, nested ROWs as
/// records named `record_<field>` (`record_<field>_<field>` deeper, so that names never collide), nullable types as
/// `["null", T]` with default null.
public enum AvroSchemaGenerator {
    public static let namespace = "org.apache.flink.avro.generated.record"

    /// The schema of a record named `recordName` with one field per column, as JSON (serialize it for the registry).
    /// - Throws: ``RecordSchemaError`` for a column name Avro does not allow or a type it cannot hold (NULL,
    ///   intervals).
    public static func recordSchema(name recordName: String, columns: [SQLType.RowField]) throws(RecordSchemaError) -> JSONValue {
        var generator = Generator()
        return try generator.record(name: recordName, namespace: namespace, path: "record", fields: columns)
    }

    /// The value schema of table `table`: record `<table>_value`.
    public static func valueSchema(table: String, columns: [SQLType.RowField]) throws(RecordSchemaError) -> JSONValue {
        try recordSchema(name: "\(table)_value", columns: columns)
    }

    /// The key schema of table `table`: record `<table>_key`.
    public static func keySchema(table: String, columns: [SQLType.RowField]) throws(RecordSchemaError) -> JSONValue {
        try recordSchema(name: "\(table)_key", columns: columns)
    }

    private struct Generator {
        /// Named types already defined (a second use must refer to the first by name, or take another name).
        var defined: [String: JSONValue] = [:]

        mutating func record(name: String, namespace: String?, path: String, fields: [SQLType.RowField]) throws(RecordSchemaError) -> JSONValue {
            guard AvroSchema.isValidName(name) else {
                throw RecordSchemaError("'\(name)' is not a valid Avro record name: Avro names start with [A-Za-z_] and contain only [A-Za-z0-9_].")
            }
            var members: [(String, JSONValue)] = [("type", "record"), ("name", .string(name))]
            if let namespace { members.append(("namespace", .string(namespace))) }
            var fieldJSON: [JSONValue] = []
            for field in fields {
                guard AvroSchema.isValidName(field.name) else {
                    throw RecordSchemaError(
                        "Column '\(field.name)' is not a valid Avro field name: Avro names start with [A-Za-z_] and contain only [A-Za-z0-9_].")
                }
                var member: [(String, JSONValue)] = [("name", .string(field.name))]
                member.append(("type", try type(field.type, path: "\(path)_\(field.name)")))
                if field.type.nullable { member.append(("default", .null)) }
                fieldJSON.append(.object(member))
            }
            members.append(("fields", .array(fieldJSON)))
            return .object(members)
        }

        mutating func type(_ type: SQLType, path: String) throws(RecordSchemaError) -> JSONValue {
            let inner = try kind(type, path: path)
            return type.nullable ? .array([.string("null"), inner]) : inner
        }

        /// Defines the named type `definition` (whose `name` member is `name`), or refers to an identical earlier
        /// definition by name; a different type under a name already taken gets a numbered name.
        mutating func register(_ definition: JSONValue, name: String) -> JSONValue {
            var candidate = name
            var suffix = 1
            var current = definition
            while let existing = defined[candidate] {
                if existing == current { return .string(candidate) }
                suffix += 1
                candidate = "\(name)\(suffix)"
                if case .object(var members) = current {
                    members.set("name", .string(candidate))
                    current = .object(members)
                }
            }
            defined[candidate] = current
            return current
        }

        mutating func kind(_ type: SQLType, path: String) throws(RecordSchemaError) -> JSONValue {
            switch type.kind {
            case .boolean: return "boolean"
            case .tinyint: return ["type": "int", "connect.type": "int8"]
            case .smallint: return ["type": "int", "connect.type": "int16"]
            case .integer: return "int"
            case .bigint: return "long"
            case .float: return "float"
            case .double: return "double"
            case .char(let n): return ["type": "string", "flink.maxLength": .int(Int64(n)), "flink.minLength": .int(Int64(n))]
            case .varchar(let n): return n == SQLType.maxLength ? "string" : ["type": "string", "flink.maxLength": .int(Int64(n))]
            case .varbinary(let n): return n == SQLType.maxLength ? "bytes" : ["type": "bytes", "flink.maxLength": .int(Int64(n))]
            case .binary(let n):
                let name = "fixed_" + path.dropFirst("record_".count)
                return register(["type": "fixed", "name": .string(name), "size": .int(Int64(n))], name: name)
            case .decimal(let p, let s):
                return ["type": "bytes", "logicalType": "decimal", "precision": .int(Int64(p)), "scale": .int(Int64(s))]
            case .date: return ["type": "int", "logicalType": "date"]
            case .time: return ["type": "int", "logicalType": "time-millis"]
            case .timestamp(let p): return ["type": "long", "logicalType": p <= 3 ? "local-timestamp-millis" : "local-timestamp-micros"]
            case .timestampLTZ(let p): return ["type": "long", "logicalType": p <= 3 ? "timestamp-millis" : "timestamp-micros"]
            case .array(let element): return ["type": "array", "items": try self.type(element, path: path)]
            case .map(let key, let value):
                if key.isCharacter { return ["type": "map", "values": try self.type(value, path: path)] }
                return try mapEntries(key: key, value: value, path: path)
            case .multiset(let element):
                return try mapEntries(key: element, value: SQLType(.integer, nullable: false), path: path)
            case .row(let fields):
                let definition = try record(name: path, namespace: nil, path: path, fields: fields)
                return register(definition, name: path)
            case .null, .intervalDayTime, .intervalYearMonth:
                throw RecordSchemaError("Type \(type.sql) cannot be written in Avro.")
            }
        }

        /// Kafka Connect's encoding of a map whose keys are not strings: an array of `io.confluent.connect.avro.MapEntry`.
        mutating func mapEntries(key: SQLType, value: SQLType, path: String) throws(RecordSchemaError) -> JSONValue {
            let keyJSON = try type(key, path: path + "_key")
            let valueJSON = try type(value, path: path + "_value")
            var keyField: [(String, JSONValue)] = [("name", "key"), ("type", keyJSON)]
            if key.nullable { keyField.append(("default", .null)) }
            var valueField: [(String, JSONValue)] = [("name", "value"), ("type", valueJSON)]
            if value.nullable { valueField.append(("default", .null)) }
            let definition: JSONValue = .object([
                ("type", "record"), ("name", "MapEntry"), ("namespace", "io.confluent.connect.avro"),
                ("fields", .array([.object(keyField), .object(valueField)])),
            ])
            let entry = register(definition, name: "MapEntry")
            return ["type": "array", "items": entry]
        }
    }
}
