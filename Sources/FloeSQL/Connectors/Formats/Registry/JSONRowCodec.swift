// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// Reads and writes rows as JSON objects: the `json-registry` format (the JSON text after the Confluent header) and
/// Flink's plain `json` format (the same text without a header).
///
/// Members match columns by exact name; unknown members are skipped and missing ones are NULL (an error for a
/// NOT NULL column). Both dialects read every spelling either writes: temporal values as numbers (Connect's epoch
/// days and milliseconds) or as SQL text (`2024-01-31`, `12:00:00`, `2024-01-31 12:00:00.123`, ISO `T`/`Z` forms),
/// BYTES as base64, DECIMAL as a number or a numeric string. They differ in what they write:
/// - `.connect` (json-registry): DATE as epoch days, TIME as milliseconds of the day, TIMESTAMP and TIMESTAMP_LTZ
///   as epoch milliseconds, the way Kafka Connect's JSON Schema converter writes its logical types;
/// - `.flink` (json): SQL text, as Flink's JSON format writes by default (`yyyy-MM-dd HH:mm:ss.SSS`; TIMESTAMP_LTZ
///   with a trailing `Z`).
///
/// Malformed JSON is a ``RecordDecodeError`` (`malformed`), and so is JSON nested deeper than 512 levels (the
/// parser's limit, which also bounds members no column reads); values convert into columns at most 64 levels deep.
public struct JSONRowCodec: Sendable {
    public enum Dialect: Sendable {
        case connect, flink
    }

    public static let maximumDepth = 64

    /// Flink's spelling of temporal values, in UTC (the `json` dialect).
    private static let utc = ValueRenderer(zone: TimeZone(identifier: "UTC")!)

    public let columns: [SQLType.RowField]
    public let dialect: Dialect
    /// Whether records carry the 5-byte Confluent header (json-registry).
    public let framed: Bool

    /// - Throws: ``RecordSchemaError`` for a column type JSON cannot hold (intervals, NULL).
    public init(columns: [SQLType.RowField], dialect: Dialect, framed: Bool) throws(RecordSchemaError) {
        for column in columns {
            switch column.type.kind {
            case .null, .intervalDayTime, .intervalYearMonth:
                throw RecordSchemaError("Column '\(column.name)' of type \(column.type.sql) cannot be read or written as JSON.")
            default: break
            }
        }
        self.columns = columns
        self.dialect = dialect
        self.framed = framed
    }

    /// The `json-registry` codec.
    public static func registry(columns: [SQLType.RowField]) throws(RecordSchemaError) -> JSONRowCodec {
        try JSONRowCodec(columns: columns, dialect: .connect, framed: true)
    }

    /// Flink's plain `json` format.
    public static func plain(columns: [SQLType.RowField]) throws(RecordSchemaError) -> JSONRowCodec {
        try JSONRowCodec(columns: columns, dialect: .flink, framed: false)
    }

    // MARK: Decoding

    /// Decodes one record (with its header when `framed`) into a row; the schema id is nil for unframed records.
    public func decode(_ record: [UInt8]) throws(RecordDecodeError) -> (schemaID: Int32?, row: [Value]) {
        var start = 0
        var id: Int32?
        if framed {
            let header = try ConfluentWireFormat.header(of: record)
            id = header.schemaID
            start = header.payloadStart
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(record[start...])
        } catch {
            throw RecordDecodeError(.malformed, "Malformed JSON: \(error.description).")
        }
        guard case .object = json else {
            throw RecordDecodeError(.malformed, "The JSON record is \(json.typeName == "object" ? "an" : "a") \(json.typeName), not an object.")
        }
        var row: [Value] = []
        row.reserveCapacity(columns.count)
        for column in columns {
            let member = json[column.name] ?? .null
            row.append(try Self.value(member, as: column.type, path: column.name, depth: 0))
        }
        return (id, row)
    }

    /// Decodes one record and appends one value per column to `appenders`.
    func decode(_ record: [UInt8], into appenders: inout [ColumnAppender]) throws(RecordDecodeError) {
        let (_, row) = try decode(record)
        for (index, value) in row.enumerated() { appenders[index].append(value) }
    }

    static func value(_ json: JSONValue, as type: SQLType, path: String, depth: Int) throws(RecordDecodeError) -> Value {
        guard depth < maximumDepth else { throw RecordDecodeError(.malformed, "The JSON record nests deeper than \(maximumDepth) levels.") }
        func fail() -> RecordDecodeError {
            RecordDecodeError(
                .unrepresentable, "Field '\(path)': the JSON \(json.typeName) \(json.serializedString.prefix(64)) cannot be read as \(type.sql).")
        }
        if case .null = json {
            guard type.nullable else {
                throw RecordDecodeError(.unrepresentable, "Field '\(path)' is NOT NULL, but the JSON record has no value for it.")
            }
            return .null
        }
        switch type.kind {
        case .boolean:
            // Text as Flink's JSON format accepts it (map keys are always text).
            switch json {
            case .bool(let b): return .bool(b)
            case .string("true"): return .bool(true)
            case .string("false"): return .bool(false)
            default: throw fail()
            }
        case .tinyint, .smallint, .integer, .bigint:
            let number: Int64? = if case .string(let s) = json { Int64(s) } else { json.intValue }
            guard let v = number else { throw fail() }
            let range: ClosedRange<Int64> =
                switch type.kind {
                case .tinyint: -128...127
                case .smallint: -32_768...32_767
                case .integer: Int64(Int32.min)...Int64(Int32.max)
                default: Int64.min...Int64.max
                }
            guard range.contains(v) else { throw fail() }
            return .int(v)
        case .float, .double:
            let d: Double
            switch json {
            case .int(let v): d = Double(v)
            case .double(let v): d = v
            case .string(let s):
                guard let v = Double(s) else { throw fail() }
                d = v
            default: throw fail()
            }
            return .double(type.kind == .float ? Double(Float(d)) : d)
        case .decimal(let precision, let scale):
            let text: String
            switch json {
            case .int(let v): text = String(v)
            case .double(let v): text = String(v)
            case .string(let s): text = s
            default: throw fail()
            }
            guard let unscaled = Caster.parseDecimal(text, scale: scale) else { throw fail() }
            let limit = AvroDecimal.powerOfTen(precision)
            guard unscaled < limit, unscaled > -limit else { throw fail() }
            return .decimal(unscaled)
        case .char, .varchar:
            switch json {
            case .string(let s): return .string(s)
            case .object, .array: return .string(json.serializedString)
            default: return .string(json.serializedString)
            }
        case .binary, .varbinary:
            guard case .string(let s) = json, let data = Data(base64Encoded: s) else { throw fail() }
            return .bytes([UInt8](data))
        case .date:
            if let v = json.intValue { return .int(v) }
            guard case .string(let s) = json, let days = Temporal.parseDate(s) else { throw fail() }
            return .int(days)
        case .time(let precision):
            if let v = json.intValue { return .int(v * 1_000) }
            guard case .string(let s) = json, let micros = Temporal.parseTime(s) else { throw fail() }
            return .int(Temporal.truncate(micros, precision: precision))
        case .timestamp(let precision), .timestampLTZ(let precision):
            if let v = json.intValue { return .int(Temporal.truncate(v * 1_000, precision: precision)) }
            guard case .string(var s) = json else { throw fail() }
            if s.hasSuffix("Z") { s.removeLast() }
            guard let micros = Temporal.parseTimestamp(s) else { throw fail() }
            return .int(Temporal.truncate(micros, precision: precision))
        case .array(let element), .multiset(let element):
            if case .multiset = type.kind, case .object(let members) = json {
                // Flink's JSON format: a MULTISET is an object of element → count.
                var values: [Value] = []
                for (name, count) in members {
                    let element = try value(.string(name), as: element, path: path, depth: depth + 1)
                    for _ in 0..<max(0, min(count.intValue ?? 0, 1 << 20)) { values.append(element) }
                }
                return .list(values)
            }
            guard case .array(let items) = json else { throw fail() }
            if case .multiset = type.kind, items.allSatisfy({ $0["key"] != nil && $0["value"]?.intValue != nil }) {
                var values: [Value] = []
                for item in items {
                    let key = try value(item["key"] ?? .null, as: element, path: path + "[]", depth: depth + 1)
                    for _ in 0..<max(0, min(item["value"]?.intValue ?? 0, 1 << 20)) { values.append(key) }
                }
                return .list(values)
            }
            var values: [Value] = []
            for (index, item) in items.enumerated() { values.append(try value(item, as: element, path: "\(path)[\(index)]", depth: depth + 1)) }
            return .list(values)
        case .map(let keyType, let valueType):
            switch json {
            case .object(let members):
                var entries: [Value] = []
                for (name, member) in members {
                    let key = try value(.string(name), as: keyType, path: path, depth: depth + 1)
                    entries.append(.list([key, try value(member, as: valueType, path: path + "." + name, depth: depth + 1)]))
                }
                return .list(entries)
            case .array(let items):
                var entries: [Value] = []
                for item in items {
                    guard case .object = item else { throw fail() }
                    let key = try value(item["key"] ?? .null, as: keyType, path: path + ".key", depth: depth + 1)
                    entries.append(.list([key, try value(item["value"] ?? .null, as: valueType, path: path + ".value", depth: depth + 1)]))
                }
                return .list(entries)
            default: throw fail()
            }
        case .row(let fields):
            guard case .object = json else { throw fail() }
            var values: [Value] = []
            for field in fields {
                values.append(try value(json[field.name] ?? .null, as: field.type, path: path + "." + field.name, depth: depth + 1))
            }
            return .list(values)
        case .null, .intervalDayTime, .intervalYearMonth:
            throw fail()
        }
    }

    // MARK: Encoding

    /// The record for `row`: the JSON object, after the header for `schemaID` when `framed`.
    public func encode(_ row: [Value], schemaID: Int32? = nil) throws(RecordEncodeError) -> [UInt8] {
        guard row.count == columns.count else { throw RecordEncodeError("The row has \(row.count) values for \(columns.count) columns.") }
        var output: [UInt8] = []
        if framed {
            guard let schemaID else { throw RecordEncodeError("A json-registry record needs the id of its registered schema.") }
            ConfluentWireFormat.appendHeader(schemaID: schemaID, to: &output)
        }
        try writeObject(fields: columns, values: row, path: "", to: &output)
        return output
    }

    /// A map key or multiset element as JSON object member text.
    private static func keyText(_ key: Value, _ type: SQLType, path: String) throws(RecordEncodeError) -> String {
        guard !key.isNull else { throw RecordEncodeError("Field '\(path)': a JSON object key cannot be NULL.") }
        if case .string(let text) = key { return text }
        return utc.string(key, type)
    }

    private func writeObject(fields: [SQLType.RowField], values: [Value], path: String, to output: inout [UInt8]) throws(RecordEncodeError) {
        output.append(UInt8(ascii: "{"))
        for (index, (field, value)) in zip(fields, values).enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONValue.string(field.name).write(to: &output)
            output.append(UInt8(ascii: ":"))
            try write(value, as: field.type, path: path.isEmpty ? field.name : path + "." + field.name, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Appends the JSON of `value` (written directly, so that DECIMAL keeps its exact digits).
    func write(_ value: Value, as type: SQLType, path: String, to output: inout [UInt8]) throws(RecordEncodeError) {
        func fail() -> RecordEncodeError { RecordEncodeError("Field '\(path)': \(value) cannot be written as JSON for \(type.sql).") }
        func text(_ string: String) { output.append(contentsOf: string.utf8) }
        if value.isNull { return text("null") }
        switch (type.kind, value) {
        case (.boolean, .bool(let b)): text(b ? "true" : "false")
        case (.tinyint, .int(let v)), (.smallint, .int(let v)), (.integer, .int(let v)), (.bigint, .int(let v)): text(String(v))
        case (.float, .double(let d)), (.double, .double(let d)):
            guard d.isFinite else { throw RecordEncodeError("Field '\(path)': \(d) has no JSON number.") }
            text(type.kind == .float ? String(Float(d)) : String(d))
        case (.decimal(_, let scale), .decimal(let unscaled)): text(ValueRenderer.decimal(unscaled, scale: scale))
        case (.char, .string(let s)), (.varchar, .string(let s)): JSONValue.string(s).write(to: &output)
        case (.binary, .bytes(let b)), (.varbinary, .bytes(let b)): JSONValue.string(Data(b).base64EncodedString()).write(to: &output)
        case (.date, .int(let days)):
            if dialect == .connect { text(String(days)) } else { JSONValue.string(Self.utc.string(value, type)).write(to: &output) }
        case (.time, .int(let micros)):
            if dialect == .connect {
                text(String(Temporal.floorDiv(micros, 1_000)))
            } else {
                JSONValue.string(Self.utc.string(value, type)).write(to: &output)
            }
        case (.timestamp, .int(let micros)), (.timestampLTZ, .int(let micros)):
            if dialect == .connect {
                text(String(Temporal.floorDiv(micros, 1_000)))
            } else {
                // As the filesystem connector's `json` writes them (`FileSink`): SQL text, instants in UTC with `Z`.
                let zone = if case .timestampLTZ = type.kind { "Z" } else { "" }
                JSONValue.string(Self.utc.string(value, type) + zone).write(to: &output)
            }
        case (.array(let element), .list(let items)):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try write(item, as: element, path: "\(path)[\(index)]", to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case (.multiset(let element), .list(let items)):
            var order: [Value] = []
            var counts: [Value: Int64] = [:]
            for item in items {
                if counts[item] == nil { order.append(item) }
                counts[item, default: 0] += 1
            }
            if dialect == .flink {
                // Flink's JSON format writes a MULTISET as the MAP<T, INT> it is: element text → count.
                output.append(UInt8(ascii: "{"))
                for (index, item) in order.enumerated() {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    JSONValue.string(try Self.keyText(item, element, path: path)).write(to: &output)
                    output.append(contentsOf: ":\(counts[item]!)".utf8)
                }
                output.append(UInt8(ascii: "}"))
                return
            }
            let entry = [SQLType.RowField("key", element), SQLType.RowField("value", SQLType(.bigint, nullable: false))]
            output.append(UInt8(ascii: "["))
            for (index, item) in order.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try writeObject(fields: entry, values: [item, .int(counts[item]!)], path: path, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case (.map(let keyType, let valueType), .list(let entries)):
            // An object: always in Flink's format (keys as text), for string keys in Connect's; Connect writes other
            // maps as arrays of {key, value}.
            let asObject = keyType.isCharacter || dialect == .flink
            output.append(UInt8(ascii: asObject ? "{" : "["))
            for (index, entry) in entries.enumerated() {
                guard case .list(let pair) = entry, pair.count == 2 else { throw fail() }
                if index > 0 { output.append(UInt8(ascii: ",")) }
                if asObject {
                    let name = try Self.keyText(pair[0], keyType, path: path)
                    JSONValue.string(name).write(to: &output)
                    output.append(UInt8(ascii: ":"))
                    try write(pair[1], as: valueType, path: path + "." + name, to: &output)
                } else {
                    try writeObject(
                        fields: [SQLType.RowField("key", keyType), SQLType.RowField("value", valueType)], values: pair, path: path, to: &output)
                }
            }
            output.append(UInt8(ascii: asObject ? "}" : "]"))
        case (.row(let fields), .list(let values)):
            guard values.count == fields.count else { throw fail() }
            try writeObject(fields: fields, values: values, path: path, to: &output)
        default:
            throw fail()
        }
    }
}
