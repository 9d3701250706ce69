// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// Flink's text formats, `json` and `csv`, with their options: one home for how a row is a line of a file
/// (`filesystem`) and how it is a Kafka record's key or value (`kafka`, `upsert-kafka`).
///
/// - JSON: `json.fail-on-missing-field` (default false: a missing field is NULL), `json.ignore-parse-errors`
///   (default false: a malformed row fails the statement; true skips it), `json.timestamp-format.standard`
///   (`SQL`, the default: `yyyy-MM-dd HH:mm:ss.s{precision}`, or `ISO-8601`: `yyyy-MM-ddTHH:mm:ss.s{precision}`).
/// - CSV: `csv.field-delimiter` (default `,`), `csv.quote-character` (default `"`), `csv.allow-comments` (lines
///   starting with `#`), `csv.ignore-parse-errors`, `csv.null-literal` (a field equal to it is NULL).
struct TextFormat: Sendable, Equatable {
    enum Kind: String, Sendable {
        case json, csv
    }

    struct Field: Sendable, Equatable {
        var name: String
        var type: SQLType
    }

    var format: Kind
    var fields: [Field]
    var failOnMissingField = false
    var ignoreParseErrors = false
    var isoTimestamps = false
    var fieldDelimiter: UInt8 = UInt8(ascii: ",")
    var quoteCharacter: UInt8 = UInt8(ascii: "\"")
    var allowComments = false
    var nullLiteral: String?

    /// The option keys of `format`, without the connector's prefix.
    static func optionKeys(_ format: Kind) -> Set<String> {
        switch format {
        case .json:
            [
                "json.fail-on-missing-field", "json.ignore-parse-errors", "json.timestamp-format.standard", "json.map-null-key.mode",
                "json.map-null-key.literal", "json.encode.decimal-as-plain-number",
            ]
        case .csv:
            [
                "csv.field-delimiter", "csv.quote-character", "csv.allow-comments", "csv.ignore-parse-errors", "csv.null-literal",
                "csv.disable-quote-character", "csv.array-element-delimiter", "csv.escape-character",
            ]
        }
    }

    /// The format `format` of `fields` with its options read from `options` under `prefix` (`value.` reads
    /// `value.json.ignore-parse-errors`); the caller checks that no other key is present.
    static func parse(_ format: Kind, fields: [Field], options: [String: String], prefix: String = "") throws(SQLError) -> TextFormat {
        func flag(_ key: String) throws(SQLError) -> Bool {
            guard let text = options[prefix + key] else { return false }
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: throw SQLError("Could not parse value '\(text)' for key '\(prefix + key)'.")
            }
        }
        func character(_ key: String, default value: UInt8) throws(SQLError) -> UInt8 {
            guard let text = options[prefix + key] else { return value }
            let unescaped = text == "\\t" ? "\t" : text
            guard unescaped.utf8.count == 1, let byte = unescaped.utf8.first else {
                throw SQLError("Option '\(prefix + key)' must be a single character, not '\(text)'.")
            }
            return byte
        }
        var spec = TextFormat(format: format, fields: fields)
        switch format {
        case .json:
            spec.failOnMissingField = try flag("json.fail-on-missing-field")
            spec.ignoreParseErrors = try flag("json.ignore-parse-errors")
            switch options[prefix + "json.timestamp-format.standard"]?.uppercased() ?? "SQL" {
            case "SQL": break
            case "ISO-8601": spec.isoTimestamps = true
            case let other:
                throw SQLError("Unsupported value '\(other)' for \(prefix)json.timestamp-format.standard. Supported values are [SQL, ISO-8601].")
            }
            if spec.failOnMissingField && spec.ignoreParseErrors {
                throw SQLError("\(prefix)json.fail-on-missing-field and \(prefix)json.ignore-parse-errors shouldn't both be true.")
            }
        case .csv:
            spec.fieldDelimiter = try character("csv.field-delimiter", default: UInt8(ascii: ","))
            spec.quoteCharacter = try character("csv.quote-character", default: UInt8(ascii: "\""))
            spec.allowComments = try flag("csv.allow-comments")
            spec.ignoreParseErrors = try flag("csv.ignore-parse-errors")
            spec.nullLiteral = options[prefix + "csv.null-literal"]
        }
        return spec
    }

    // MARK: Encoding

    /// Appends `row` in this format (no line end).
    func encode(_ row: Row, into bytes: inout [UInt8], renderer: ValueRenderer) {
        switch format {
        case .json: json(row, into: &bytes, renderer)
        case .csv: csv(row, into: &bytes, renderer)
        }
    }

    private func json(_ row: Row, into bytes: inout [UInt8], _ renderer: ValueRenderer) {
        bytes.append(UInt8(ascii: "{"))
        for (index, (field, value)) in zip(fields, row).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONValue.string(field.name).write(to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            if case .decimal = field.type.kind, !value.isNull {
                // DECIMAL is written as a plain JSON number, digits exactly as the scale gives them.
                bytes.append(contentsOf: renderer.string(value, field.type).utf8)
            } else {
                json(value, field.type, renderer).write(to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// A value as Flink's JSON format writes it: numbers and booleans bare, temporal values in the SQL (or ISO-8601)
    /// standard, nested types as arrays and objects.
    private func json(_ value: Value, _ type: SQLType, _ renderer: ValueRenderer) -> JSONValue {
        if value.isNull { return .null }
        switch (type.kind, value) {
        case (.boolean, .bool(let b)): return .bool(b)
        case (.tinyint, .int(let i)), (.smallint, .int(let i)), (.integer, .int(let i)), (.bigint, .int(let i)): return .int(i)
        case (.float, .double(let d)), (.double, .double(let d)): return d.isFinite ? .double(d) : .string(renderer.string(value, type))
        case (.array(let element), .list(let items)), (.multiset(let element), .list(let items)):
            return .array(items.map { json($0, element, renderer) })
        case (.row(let fields), .list(let items)): return .object(zip(fields, items).map { ($0.name, json($1, $0.type, renderer)) })
        case (.map(let key, let valueType), .list(let entries)):
            return .object(
                entries.map { entry in
                    let pair = entry.list ?? [.null, .null]
                    return (renderer.string(pair[0], key), json(pair[1], valueType, renderer))
                })
        case (.binary, .bytes(let b)), (.varbinary, .bytes(let b)): return .string(Data(b).base64EncodedString())
        case (.timestamp, _): return .string(timestamp(renderer.string(value, type)))
        case (.timestampLTZ, _): return .string(timestamp(renderer.string(value, type)) + "Z")
        default: return .string(renderer.string(value, type))
        }
    }

    private func timestamp(_ text: String) -> String { isoTimestamps ? text.replacingOccurrences(of: " ", with: "T") : text }

    private func csv(_ row: Row, into bytes: inout [UInt8], _ renderer: ValueRenderer) {
        for (index, (field, value)) in zip(fields, row).enumerated() {
            if index > 0 { bytes.append(fieldDelimiter) }
            if value.isNull {
                bytes.append(contentsOf: (nullLiteral ?? "").utf8)
                continue
            }
            let text: String
            switch (field.type.kind, value) {
            case (.boolean, .bool(let b)): text = b ? "true" : "false"
            case (.binary, .bytes(let b)), (.varbinary, .bytes(let b)): text = Data(b).base64EncodedString()
            case (.timestamp, _): text = timestamp(renderer.string(value, field.type))
            default: text = renderer.string(value, field.type)
            }
            let utf8 = Array(text.utf8)
            let needsQuotes = utf8.isEmpty || utf8.contains { $0 == fieldDelimiter || $0 == quoteCharacter || $0 == 0x0A || $0 == 0x0D }
            guard needsQuotes else {
                bytes.append(contentsOf: utf8)
                continue
            }
            bytes.append(quoteCharacter)
            for byte in utf8 {
                if byte == quoteCharacter { bytes.append(byte) }
                bytes.append(byte)
            }
            bytes.append(quoteCharacter)
        }
    }
}
