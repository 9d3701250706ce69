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
    /// How `append` converts text, decided once from the type. A trivial value: decoders keep their columns' shapes
    /// in an array of their own and convert the common types without copying the parser (and retaining its type).
    let shape: Shape

    /// The conversions of the common types, and `other` for the rest.
    enum Shape {
        case integer
        case timestamp(precision: Int)
        case string
        case approximate(isFloat: Bool)
        case other

        /// Appends the value spelled by `text` when the shape is a common one; false when the text does not
        /// convert or the shape is `other` (then `TextFieldParser.append` converts it or says why not).
        @inline(__always)
        func append(_ text: UnsafeBufferPointer<UInt8>, to column: inout ColumnAppender) -> Bool {
            switch self {
            case .integer:
                guard let value = TextFieldParser.integer(text) else { return false }
                column.appendInteger(value)
            case .timestamp(let precision):
                guard let value = TextFieldParser.timestamp(text) else { return false }
                column.appendInteger(precision >= 6 ? value : Temporal.truncate(value, precision: precision))
            case .string:
                if TextFieldParser.isASCII(text) {
                    column.appendString(utf8: text)
                } else {
                    column.appendString(TextFieldParser.string(text))  // validated, invalid sequences replaced
                }
            case .approximate, .other:
                return false
            }
            return true
        }
    }

    init(type: SQLType, isoTimestamps: Bool) {
        self.type = type
        self.isoTimestamps = isoTimestamps
        switch type.kind {
        case .tinyint, .smallint, .integer, .bigint: shape = .integer
        case .timestamp(let precision): shape = .timestamp(precision: precision)
        case .char, .varchar: shape = .string
        case .double: shape = .approximate(isFloat: false)
        case .float: shape = .approximate(isFloat: true)
        default: shape = .other
        }
    }

    /// Appends the value spelled by `text` (a JSON string's content or a bare literal; a CSV field) to `column`.
    func append(_ text: UnsafeBufferPointer<UInt8>, to column: inout ColumnAppender) throws(FieldParseError) {
        switch shape {
        case .integer:
            guard let value = Self.integer(text) else { throw failure(text) }
            column.appendInteger(value)
        case .timestamp(let precision):
            guard let value = Self.timestamp(text) ?? Temporal.parseTimestamp(Self.string(text)) else { throw failure(text) }
            column.appendInteger(precision >= 6 ? value : Temporal.truncate(value, precision: precision))
        case .string:
            column.appendString(Self.string(text))
        case .approximate(let isFloat):
            guard let value = Double(Self.string(text).trimmingSpaces) else { throw failure(text) }
            column.appendDouble(isFloat ? Double(Float(value)) : value)
        case .other:
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

    /// Whether every byte is ASCII (so the bytes are valid UTF-8 as they are). Eight bytes at a time.
    static func isASCII(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress else { return true }
        var i = 0
        var high: UInt64 = 0
        while i + 8 <= text.count {
            high |= UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            i += 8
        }
        while i < text.count {
            high |= UInt64(text[i])
            i += 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }

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
        var bad = false
        @inline(__always) func digit(_ i: Int) -> Int64 {
            let value = text[i] &- 48
            if value > 9 { bad = true }
            return Int64(value)
        }
        @inline(__always) func digits(_ from: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for i in from..<(from + count) { value = value * 10 + digit(i) }
            return bad ? nil : value
        }
        let year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3)
        let month = digit(5) * 10 + digit(6)
        let day = digit(8) * 10 + digit(9)
        let hour = digit(11) * 10 + digit(12)
        let minute = digit(14) * 10 + digit(15)
        let second = digit(17) * 10 + digit(18)
        guard !bad, (1...12).contains(month), day >= 1, day <= Temporal.daysInMonth(year, month), hour < 24, minute < 60, second < 60
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
