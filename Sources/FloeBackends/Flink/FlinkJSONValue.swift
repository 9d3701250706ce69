// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore

/// A JSON value as Flink wrote it, numbers kept as their literal text.
///
/// The SQL Gateway writes DECIMAL values as JSON numbers (`1.5`, `1E+2`, 38 significant digits) and BIGINTs beyond
/// 2^53. ``JSONValue`` holds non-integers as `Double`, which would round them, so result pages are read into this type
/// and each number is converted exactly, by its column's type, when the row is decoded.
public indirect enum FlinkJSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number's literal text, e.g. `-12.50E+3`.
    case number(String)
    case string(String)
    case array([FlinkJSONValue])
    /// An object; members keep the order they were written in.
    case object([(String, FlinkJSONValue)])

    public static func == (lhs: FlinkJSONValue, rhs: FlinkJSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The member named `key` of an object (the last one, if repeated); `nil` otherwise.
    public subscript(key: String) -> FlinkJSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    var stringValue: String? { if case .string(let text) = self { text } else { nil } }
    var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    var arrayValue: [FlinkJSONValue]? { if case .array(let values) = self { values } else { nil } }
    var intValue: Int64? { if case .number(let text) = self { Int64(text) } else { nil } }
    var isNull: Bool { if case .null = self { true } else { false } }

    /// The name of the JSON type, for messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The same value as a ``JSONValue`` (numbers as `Int64` when they are integers that fit, else `Double`).
    public var json: JSONValue {
        switch self {
        case .null: .null
        case .bool(let value): .bool(value)
        case .number(let text): Int64(text).map(JSONValue.int) ?? .double(Double(text) ?? .nan)
        case .string(let text): .string(text)
        case .array(let values): .array(values.map(\.json))
        case .object(let members): .object(members.map { ($0.0, $0.1.json) })
        }
    }

    /// Parses a complete JSON text (RFC 8259), keeping number literals as text. Nesting deeper than 512 levels is
    /// refused.
    /// - Throws: ``FlinkResultError`` naming the byte offset, on malformed input or trailing content.
    public static func parse(_ bytes: some Collection<UInt8>) throws(FlinkResultError) -> FlinkJSONValue {
        var reader = Reader(bytes: Array(bytes))
        reader.skipWhitespace()
        let value = try reader.value()
        reader.skipWhitespace()
        guard reader.index == reader.bytes.count else { throw reader.fail("unexpected content after the JSON value") }
        return value
    }

    /// A recursive-descent reader. Strings are decoded by FloeCore's parser (escapes, surrogates, UTF-8 validation
    /// stay in one place); only numbers are read differently.
    struct Reader {
        let bytes: [UInt8]
        var index = 0
        var depth = 0

        func fail(_ reason: String) -> FlinkResultError { FlinkResultError("Malformed JSON: \(reason) at byte \(index)") }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func value() throws(FlinkResultError) -> FlinkJSONValue {
            guard index < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw fail("unexpected character")
            }
        }

        mutating func literal(_ text: String) throws(FlinkResultError) {
            for byte in text.utf8 {
                guard index < bytes.count, bytes[index] == byte else { throw fail("invalid literal, expected \(text)") }
                index += 1
            }
        }

        mutating func enter() throws(FlinkResultError) {
            depth += 1
            if depth > 512 { throw fail("nesting too deep") }
        }

        mutating func object() throws(FlinkResultError) -> FlinkJSONValue {
            try enter()
            defer { depth -= 1 }
            index += 1
            var members: [(String, FlinkJSONValue)] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                skipWhitespace()
                members.append((key, try value()))
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end of input in object") }
                index += 1
                switch bytes[index - 1] {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "}"): return .object(members)
                default:
                    index -= 1
                    throw fail("expected ',' or '}'")
                }
            }
        }

        mutating func array() throws(FlinkResultError) -> FlinkJSONValue {
            try enter()
            defer { depth -= 1 }
            index += 1
            var elements: [FlinkJSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value())
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end of input in array") }
                index += 1
                switch bytes[index - 1] {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "]"): return .array(elements)
                default:
                    index -= 1
                    throw fail("expected ',' or ']'")
                }
            }
        }

        /// A string token, decoded by handing its exact bytes to FloeCore's parser.
        mutating func string() throws(FlinkResultError) -> String {
            let start = index
            index += 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard index < bytes.count else { throw fail("unterminated string") }
            index += 1
            let parsed: JSONValue
            do {
                parsed = try JSONValue.parse(bytes[start..<index])
            } catch {
                throw FlinkResultError("Malformed JSON: \(error.reason) at byte \(start + error.offset)")
            }
            guard case .string(let text) = parsed else { throw fail("invalid string") }
            return text
        }

        /// A number token's text, checked against RFC 8259's grammar.
        mutating func number() throws(FlinkResultError) -> String {
            let start = index
            func digits() -> Int {
                let first = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - first
            }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integerStart = index
            guard digits() > 0 else { throw fail("invalid number") }
            if bytes[integerStart] == UInt8(ascii: "0"), index - integerStart > 1 { throw fail("invalid number (leading zero)") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw fail("invalid number") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw fail("invalid number") }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }
}
