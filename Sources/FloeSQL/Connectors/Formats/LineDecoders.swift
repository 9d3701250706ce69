// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes one line of a file into one row appended to the columns (all or nothing is the caller's job: it truncates
/// the columns back when a line throws).
protocol LineDecoder {
    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into columns: inout [ColumnAppender]) throws(FieldParseError)
}

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

/// Reads a flat JSON object per line (Flink's `json` format): members match columns by exact name, in any order;
/// unknown members are skipped; a missing member is NULL (or an error with `json.fail-on-missing-field`). Nested
/// objects and arrays feed ROW, MAP and ARRAY columns.
struct JSONLineDecoder: LineDecoder {
    private let names: [[UInt8]]
    /// The column names' UTF-8 bytes back to back, and where each one lies in them (the fast path of `decode`).
    private let nameBytes: [UInt8]
    private let nameRanges: [Range<Int>]
    private let parsers: [TextFieldParser]
    private let shapes: [TextFieldParser.Shape]
    private let failOnMissingField: Bool
    /// Columns nobody reads: NULL, their values skipped without conversion.
    private let skipped: [Bool]
    private var seen: [Bool]
    private var scratch: [UInt8] = []

    init(spec: TextFormat, skipped: [Bool]? = nil) {
        self.skipped = skipped ?? Array(repeating: false, count: spec.fields.count)
        names = spec.fields.map { Array($0.name.utf8) }
        var bytes: [UInt8] = []
        nameRanges = names.map { name in
            bytes.append(contentsOf: name)
            return (bytes.count - name.count)..<bytes.count
        }
        nameBytes = bytes
        parsers = spec.fields.map { TextFieldParser(type: $0.type, isoTimestamps: spec.isoTimestamps) }
        shapes = parsers.map(\.shape)
        failOnMissingField = spec.failOnMissingField
        seen = Array(repeating: false, count: spec.fields.count)
    }

    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into columns: inout [ColumnAppender]) throws(FieldParseError) {
        for c in seen.indices { seen[c] = false }
        var i = 0
        let n = line.count
        func malformed(_ what: String) -> FieldParseError { FieldParseError(message: "Malformed JSON: \(what) at byte \(i + 1).") }
        func skipSpace() {
            while i < n, line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D { i += 1 }
        }
        skipSpace()
        guard i < n, line[i] == UInt8(ascii: "{") else { throw malformed("expected an object") }
        i += 1
        skipSpace()
        var expected = 0
        if i < n, line[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard i < n, line[i] == quote else { throw malformed("expected a member name") }
                let column: Int?
                if let end = nameFollows(expected, in: line, at: i + 1) {
                    column = expected
                    i = end
                } else {
                    let key = try stringRange(line, &i)
                    column = match(line, key, expected: expected)
                }
                skipSpace()
                guard i < n, line[i] == UInt8(ascii: ":") else { throw malformed("expected ':'") }
                i += 1
                skipSpace()
                guard i < n else { throw malformed("expected a value") }
                if let column, skipped[column] {
                    try value(line, &i, column: nil, into: &columns)
                    columns[column].appendNull()
                    seen[column] = true
                } else {
                    try value(line, &i, column: column, into: &columns)
                }
                if let column { expected = column + 1 }
                skipSpace()
                guard i < n else { throw malformed("unterminated object") }
                if line[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard line[i] == UInt8(ascii: "}") else { throw malformed("expected ',' or '}'") }
                i += 1
                break
            }
        }
        skipSpace()
        guard i == n else { throw malformed("unexpected text after the object") }
        for c in seen.indices where !seen[c] {
            if failOnMissingField { throw FieldParseError(message: "Could not find field with name '\(String(decoding: names[c], as: UTF8.self))'.") }
            columns[c].appendNull()
        }
    }

    /// When column `column` is not seen yet and its name, then a closing quote, start at `start`: the index past the
    /// quote. Members usually come in column order and without escapes, so this is how most names are matched.
    @inline(__always)
    private func nameFollows(_ column: Int, in line: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        guard column < nameRanges.count, !seen[column] else { return nil }
        let range = nameRanges[column]
        let end = start + range.count
        guard end < line.count, line[end] == quote, let base = line.baseAddress else { return nil }
        let equal = nameBytes.withUnsafeBufferPointer { names in memcmp(base + start, names.baseAddress! + range.lowerBound, range.count) == 0 }
        return equal ? end + 1 : nil
    }

    /// The column whose name is the bytes in `key` (checking the column after the last match first: members usually
    /// come in column order).
    private func match(_ line: UnsafeBufferPointer<UInt8>, _ key: KeyText, expected: Int) -> Int? {
        func equals(_ c: Int) -> Bool {
            switch key {
            case .range(let range):
                let name = names[c]
                guard name.count == range.count else { return false }
                var k = range.lowerBound
                for byte in name {
                    if line[k] != byte { return false }
                    k += 1
                }
                return true
            case .decoded(let bytes): return names[c] == bytes
            }
        }
        if expected < names.count, equals(expected) { return seen[expected] ? nil : expected }
        for c in names.indices where c != expected && equals(c) { return seen[c] ? nil : c }
        return nil
    }

    private enum KeyText {
        case range(Range<Int>)
        case decoded([UInt8])
    }

    /// A member name starting at the quote at `i`; `i` ends past the closing quote.
    private mutating func stringRange(_ line: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws(FieldParseError) -> KeyText {
        let start = i + 1
        var k = start
        while k < line.count, line[k] != quote {
            if line[k] == backslash {
                try unescape(line, &i)
                return .decoded(scratch)
            }
            k += 1
        }
        guard k < line.count else { throw FieldParseError(message: "Malformed JSON: unterminated string.") }
        i = k + 1
        return .range(start..<k)
    }

    /// Decodes the string starting at the quote at `i` into `scratch`; `i` ends past the closing quote.
    private mutating func unescape(_ line: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws(FieldParseError) {
        scratch.removeAll(keepingCapacity: true)
        var k = i + 1
        func fail() -> FieldParseError { FieldParseError(message: "Malformed JSON: bad string escape at byte \(k + 1).") }
        func hex4() throws(FieldParseError) -> UInt32 {
            guard k + 4 < line.count else { throw fail() }
            var value: UInt32 = 0
            for j in (k + 1)...(k + 4) {
                let b = line[j]
                let digit: UInt32
                switch b {
                case 0x30...0x39: digit = UInt32(b - 0x30)
                case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
                default: throw fail()
                }
                value = value << 4 | digit
            }
            k += 4
            return value
        }
        while k < line.count, line[k] != quote {
            guard line[k] == backslash else {
                scratch.append(line[k])
                k += 1
                continue
            }
            k += 1
            guard k < line.count else { throw fail() }
            switch line[k] {
            case quote, backslash, UInt8(ascii: "/"): scratch.append(line[k])
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), k + 2 < line.count, line[k + 1] == backslash, line[k + 2] == UInt8(ascii: "u") {
                    k += 2
                    let low = try hex4()
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
                }
                scratch.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: throw fail()
            }
            k += 1
        }
        guard k < line.count else { throw FieldParseError(message: "Malformed JSON: unterminated string.") }
        i = k + 1
    }

    /// The index of the first `"` or `\` at or after `start`, or `line.count`. Looks at eight bytes at a time: string
    /// values are most of a line's bytes.
    static func quoteOrBackslash(in line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var k = start
        let n = line.count
        if let base = line.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while k + 8 <= n {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self))
                let quotes = word ^ (ones &* 0x22)
                let backslashes = word ^ (ones &* 0x5C)
                // A zero byte in either: the classic "has zero byte" test, exact for the lowest match.
                let found = ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes) & highs
                if found != 0 { return k + found.trailingZeroBitCount / 8 }
                k += 8
            }
        }
        while k < n, line[k] != quote, line[k] != backslash { k += 1 }
        return k
    }

    /// Reads the value at `i` (moving past it) and, for a matched column, appends it.
    private mutating func value(
        _ line: UnsafeBufferPointer<UInt8>, _ i: inout Int, column: Int?, into columns: inout [ColumnAppender]
    ) throws(FieldParseError) {
        let first = line[i]
        switch first {
        case quote:
            let start = i + 1
            let k = Self.quoteOrBackslash(in: line, from: start)
            if k < line.count, line[k] == quote {
                i = k + 1
                if let column {
                    let text = UnsafeBufferPointer(rebasing: line[start..<k])
                    if !shapes[column].append(text, to: &columns[column]) { try parsers[column].append(text, to: &columns[column]) }
                    seen[column] = true
                }
            } else {
                try unescape(line, &i)
                if let column {
                    let parser = parsers[column]
                    try scratch.withUnsafeBufferPointer { text throws(FieldParseError) in try parser.append(text, to: &columns[column]) }
                    seen[column] = true
                }
            }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let start = i
            var depth = 0
            var inString = false
            while i < line.count {
                let b = line[i]
                if inString {
                    if b == backslash { i += 1 } else if b == quote { inString = false }
                } else if b == quote {
                    inString = true
                } else if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                    depth += 1
                } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 {
                        i += 1
                        break
                    }
                }
                i += 1
            }
            guard depth == 0 else {
                throw FieldParseError(message: "Malformed JSON: unterminated \(first == UInt8(ascii: "{") ? "object" : "array").")
            }
            if let column {
                columns[column].append(try parsers[column].value(String(decoding: UnsafeBufferPointer(rebasing: line[start..<i]), as: UTF8.self)))
                seen[column] = true
            }
        default:
            let start = i
            while i < line.count {
                let b = line[i]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == 0x20 || b == 0x09 || b == 0x0D { break }
                i += 1
            }
            let literal = UnsafeBufferPointer(rebasing: line[start..<i])
            guard !literal.isEmpty else { throw FieldParseError(message: "Malformed JSON: expected a value at byte \(start + 1).") }
            let isNumber = first == UInt8(ascii: "-") || (0x30...0x39).contains(first)
            if !isNumber, literal.elementsEqual("null".utf8) {
                if let column {
                    columns[column].appendNull()
                    seen[column] = true
                }
                return
            }
            guard isNumber || literal.elementsEqual("true".utf8) || literal.elementsEqual("false".utf8) else {
                throw FieldParseError(message: "Malformed JSON: unexpected '\(String(decoding: literal, as: UTF8.self))' at byte \(start + 1).")
            }
            if let column {
                if !shapes[column].append(literal, to: &columns[column]) { try parsers[column].append(literal, to: &columns[column]) }
                seen[column] = true
            }
        }
    }
}

/// Reads a CSV line (Flink's `csv` format): fields by position, quoted fields with doubled quotes inside, an
/// unquoted empty field NULL for non-character columns, `csv.null-literal` NULL everywhere; missing trailing fields
/// are NULL and extra fields ignored.
struct CSVLineDecoder: LineDecoder {
    private let parsers: [TextFieldParser]
    private let shapes: [TextFieldParser.Shape]
    private let isCharacter: [Bool]
    /// Columns nobody reads: NULL, their fields not converted.
    private let skipped: [Bool]
    private let delimiter: UInt8
    private let quoteCharacter: UInt8
    private let nullLiteral: [UInt8]?
    private var scratch: [UInt8] = []

    init(spec: TextFormat, skipped: [Bool]? = nil) {
        self.skipped = skipped ?? Array(repeating: false, count: spec.fields.count)
        parsers = spec.fields.map { TextFieldParser(type: $0.type, isoTimestamps: spec.isoTimestamps) }
        shapes = parsers.map(\.shape)
        isCharacter = spec.fields.map(\.type.isCharacter)
        delimiter = spec.fieldDelimiter
        quoteCharacter = spec.quoteCharacter
        nullLiteral = spec.nullLiteral.map { Array($0.utf8) }
    }

    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into columns: inout [ColumnAppender]) throws(FieldParseError) {
        var i = 0
        let n = line.count
        var column = 0
        while column < parsers.count {
            if i > n {
                columns[column].appendNull()
                column += 1
                continue
            }
            if i < n, line[i] == quoteCharacter {
                scratch.removeAll(keepingCapacity: true)
                i += 1
                while true {
                    guard i < n else { throw FieldParseError(message: "Unterminated quoted field \(column + 1).") }
                    if line[i] == quoteCharacter {
                        if i + 1 < n, line[i + 1] == quoteCharacter {
                            scratch.append(quoteCharacter)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    scratch.append(line[i])
                    i += 1
                }
                guard i == n || line[i] == delimiter else { throw FieldParseError(message: "Unexpected text after quoted field \(column + 1).") }
                let parser = parsers[column]
                if skipped[column] || nullLiteral.map({ scratch == $0 }) == true {
                    columns[column].appendNull()
                } else {
                    try scratch.withUnsafeBufferPointer { text throws(FieldParseError) in try parser.append(text, to: &columns[column]) }
                }
            } else {
                let start = i
                while i < n, line[i] != delimiter { i += 1 }
                let text = UnsafeBufferPointer(rebasing: line[start..<i])
                if skipped[column] {
                    columns[column].appendNull()
                } else if let nullLiteral, text.elementsEqual(nullLiteral) {
                    columns[column].appendNull()
                } else if text.isEmpty, !isCharacter[column] {
                    columns[column].appendNull()
                } else if !shapes[column].append(text, to: &columns[column]) {
                    try parsers[column].append(text, to: &columns[column])
                }
            }
            i += 1
            column += 1
        }
    }
}
