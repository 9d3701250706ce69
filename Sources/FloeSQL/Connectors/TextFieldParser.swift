// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// Why a field of a JSON or CSV line did not convert.
struct FieldParseError: Error {
    var message: String
}

/// Converts field text from JSON and CSV files into column values, as Flink's formats read them. Integers,
/// timestamps and strings, the bulk of real data, are appended to typed columns without boxing.
struct TextFieldParser {
    let type: SQLType
    /// `json.timestamp-format.standard = ISO-8601`: `T` between date and time (either is accepted on read).
    let isoTimestamps: Bool

    /// Appends the value spelled by `text` (a JSON string's content or a bare literal; a CSV field) to `column`.
    func append(_ text: UnsafeBufferPointer<UInt8>, to column: inout ColumnAppender) throws(FieldParseError) {
        switch type.kind {
        case .tinyint, .smallint, .integer, .bigint:
            guard let value = Self.integer(text) else { throw failure(text) }
            column.appendInteger(value)
        case .timestamp:
            guard let value = Self.timestamp(text) ?? Temporal.parseTimestamp(Self.string(text)) else { throw failure(text) }
            if case .timestamp(let precision) = type.kind { column.appendInteger(Temporal.truncate(value, precision: precision)) }
        case .char, .varchar:
            column.append(.string(Self.string(text)))
        case .double, .float:
            guard let value = Double(Self.string(text).trimmingSpaces) else { throw failure(text) }
            column.appendDouble(type.kind == .float ? Double(Float(value)) : value)
        default:
            column.append(try value(Self.string(text)))
        }
    }

    /// The value spelled by `text`, boxed (for the less common types and nested fields).
    func value(_ text: String) throws(FieldParseError) -> Value {
        func fail() -> FieldParseError { FieldParseError(message: "Cannot parse '\(text)' as \(type.sql).") }
        switch type.kind {
        case .boolean:
            switch text.trimmingSpaces.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw fail()
            }
        case .tinyint, .smallint, .integer, .bigint:
            guard let value = Int64(text.trimmingSpaces) else { throw fail() }
            return .int(value)
        case .decimal(_, let scale):
            guard let value = Caster.parseDecimal(text, scale: scale) else { throw fail() }
            return .decimal(value)
        case .float, .double:
            guard let value = Double(text.trimmingSpaces) else { throw fail() }
            return .double(value)
        case .char, .varchar: return .string(text)
        case .binary, .varbinary:
            guard let data = Data(base64Encoded: text) else { throw fail() }
            return .bytes([UInt8](data))
        case .date:
            guard let value = Temporal.parseDate(text) else { throw fail() }
            return .int(value)
        case .time:
            guard let value = Temporal.parseTime(text) else { throw fail() }
            return .int(value)
        case .timestamp:
            guard let value = Temporal.parseTimestamp(text) else { throw fail() }
            return .int(value)
        case .timestampLTZ:
            // Flink writes instants as `… HH:mm:ss.SSSZ`; the zone designator is UTC.
            var trimmed = text.trimmingSpaces
            if trimmed.hasSuffix("Z") { trimmed.removeLast() }
            guard let value = Temporal.parseTimestamp(trimmed) else { throw fail() }
            return .int(value)
        case .array, .multiset, .map, .row:
            let parsed: JSONValue
            do { parsed = try JSONValue.parse(text) } catch { throw fail() }
            return try value(parsed)
        case .null, .intervalDayTime, .intervalYearMonth:
            throw FieldParseError(message: "Type \(type.sql) cannot be read from a file.")
        }
    }

    /// The value of a parsed JSON value (nested ARRAY, MAP, ROW fields and their elements).
    func value(_ json: JSONValue) throws(FieldParseError) -> Value {
        func fail() -> FieldParseError { FieldParseError(message: "Cannot read \(json) as \(type.sql).") }
        switch (json, type.kind) {
        case (.null, _): return .null
        case (.array(let elements), .array(let element)), (.array(let elements), .multiset(let element)):
            let inner = TextFieldParser(type: element, isoTimestamps: isoTimestamps)
            var values: [Value] = []
            for item in elements { values.append(try inner.value(item)) }
            return .list(values)
        case (.object(let members), .map(let key, let valueType)):
            let keys = TextFieldParser(type: key, isoTimestamps: isoTimestamps)
            let values = TextFieldParser(type: valueType, isoTimestamps: isoTimestamps)
            var entries: [Value] = []
            for (name, member) in members { entries.append(.list([try keys.value(name), try values.value(member)])) }
            return .list(entries)
        case (.object(let members), .row(let fields)):
            var values: [Value] = []
            for field in fields {
                let member = members.last { $0.0 == field.name }?.1 ?? .null
                values.append(try TextFieldParser(type: field.type, isoTimestamps: isoTimestamps).value(member))
            }
            return .list(values)
        case (.bool(let b), .boolean): return .bool(b)
        case (.int(let i), _): return try value(String(i))
        case (.double(let d), _): return try value(String(d))
        case (.string(let s), _): return try value(s)
        case (.bool(let b), _): return try value(String(b))
        default: throw fail()
        }
    }

    private func failure(_ text: UnsafeBufferPointer<UInt8>) -> FieldParseError {
        FieldParseError(message: "Cannot parse '\(Self.string(text))' as \(type.sql).")
    }

    static func string(_ text: UnsafeBufferPointer<UInt8>) -> String { String(decoding: text, as: UTF8.self) }

    /// A decimal integer (optional sign, optional surrounding spaces), or nil.
    static func integer(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var end = text.count
        while i < end, text[i] == 0x20 { i += 1 }
        while end > i, text[end - 1] == 0x20 { end -= 1 }
        guard i < end else { return nil }
        var negative = false
        if text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
            negative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < end else { return nil }
        var value: Int64 = 0
        while i < end {
            let digit = Int64(text[i]) - 48
            guard digit >= 0, digit <= 9 else { return nil }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = next
            i += 1
        }
        return value
    }

    /// `yyyy-MM-dd[ |T]HH:mm:ss[.f…]` in microseconds since the epoch, or nil when the text has another shape.
    static func timestamp(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = text.count
        guard n >= 19, text[4] == 0x2D, text[7] == 0x2D, text[10] == 0x20 || text[10] == 0x54, text[13] == 0x3A, text[16] == 0x3A else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for i in from..<(from + count) {
                let digit = Int64(text[i]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2), let minute = digits(14, 2),
            let second = digits(17, 2), (1...12).contains(month), day >= 1, day <= Temporal.daysInMonth(year, month), hour < 24, minute < 60,
            second < 60
        else { return nil }
        var micros: Int64 = 0
        if n > 19 {
            guard text[19] == 0x2E, n > 20, n - 20 <= 9, let fraction = digits(20, n - 20) else { return nil }
            var scaled = fraction
            var places = n - 20
            while places < 6 {
                scaled *= 10
                places += 1
            }
            while places > 6 {
                scaled /= 10
                places -= 1
            }
            micros = scaled
        }
        let days = Temporal.days(Temporal.CivilDate(year: year, month: month, day: day))
        return days * 86_400_000_000 + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros
    }
}

extension String {
    /// The string without leading and trailing spaces.
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
