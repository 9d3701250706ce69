// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// One SQL value outside the columnar hot path (rows in table logs, group keys, join keys, results).
///
/// The value carries no type: the schema it belongs to says how to read it. Integers, dates (days since
/// 1970-01-01), times (microseconds of the day), timestamps (microseconds since the epoch) and intervals
/// (microseconds or months) are `.int`; DECIMAL is its unscaled value at the type's scale; ARRAY, MULTISET and ROW
/// are `.list`; MAP is a `.list` of two-element `.list` entries.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case decimal(Int128)
    case string(String)
    case bytes([UInt8])
    case list([Value])

    var isNull: Bool { if case .null = self { true } else { false } }

    var int: Int64? { if case .int(let v) = self { v } else { nil } }
    var string: String? { if case .string(let v) = self { v } else { nil } }
    var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    var double: Double? { if case .double(let v) = self { v } else { nil } }
    var decimal: Int128? { if case .decimal(let v) = self { v } else { nil } }
    var list: [Value]? { if case .list(let v) = self { v } else { nil } }
}

/// A row of values in schema order.
typealias Row = [Value]

// MARK: Ordering

extension Value {
    /// SQL ordering of two non-null values of the same type; NULL sorts first.
    static func compare(_ a: Value, _ b: Value) -> Int {
        switch (a, b) {
        case (.null, .null): return 0
        case (.null, _): return -1
        case (_, .null): return 1
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.int(let x), .int(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.double(let x), .double(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.decimal(let x), .decimal(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let x), .string(let y)): return compareStrings(x, y)
        case (.bytes(let x), .bytes(let y)): return x.lexicographicallyPrecedes(y) ? -1 : (x == y ? 0 : 1)
        case (.list(let x), .list(let y)):
            for (l, r) in zip(x, y) {
                let c = compare(l, r)
                if c != 0 { return c }
            }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        default: return 0
        }
    }

    /// Compares strings by their UTF-16 code units, as Java's `String.compareTo` does.
    static func compareStrings(_ x: String, _ y: String) -> Int {
        if x == y { return 0 }
        var left = x.utf16.makeIterator()
        var right = y.utf16.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let l?, let r?) where l != r: return l < r ? -1 : 1
            default: continue
            }
        }
    }
}

// MARK: Binary encoding

/// The compact, self-describing binary form of rows in table logs.
enum ValueCodec {
    static func encode(_ row: Row, into output: inout [UInt8]) {
        appendVarint(UInt64(row.count), to: &output)
        for value in row { encode(value, into: &output) }
    }

    static func encode(_ value: Value, into output: inout [UInt8]) {
        switch value {
        case .null: output.append(0)
        case .bool(let b): output.append(b ? 2 : 1)
        case .int(let v):
            output.append(3)
            appendVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), to: &output)
        case .double(let d):
            output.append(4)
            withUnsafeBytes(of: d.bitPattern.littleEndian) { output.append(contentsOf: $0) }
        case .decimal(let v):
            output.append(5)
            withUnsafeBytes(of: v.littleEndian) { output.append(contentsOf: $0) }
        case .string(let s):
            output.append(6)
            let bytes = Array(s.utf8)
            appendVarint(UInt64(bytes.count), to: &output)
            output.append(contentsOf: bytes)
        case .bytes(let bytes):
            output.append(7)
            appendVarint(UInt64(bytes.count), to: &output)
            output.append(contentsOf: bytes)
        case .list(let values):
            output.append(8)
            appendVarint(UInt64(values.count), to: &output)
            for element in values { encode(element, into: &output) }
        }
    }

    static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            output.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        output.append(UInt8(rest))
    }

    /// Reads values from a byte buffer; every read checks bounds.
    struct Reader {
        let bytes: [UInt8]
        var index: Int

        init(_ bytes: [UInt8], at index: Int = 0) {
            self.bytes = bytes
            self.index = index
        }

        struct Malformed: Error {}

        mutating func byte() throws(Malformed) -> UInt8 {
            guard index < bytes.count else { throw Malformed() }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func varint() throws(Malformed) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
                guard shift < 64 else { throw Malformed() }
            }
        }

        mutating func slice(_ count: Int) throws(Malformed) -> ArraySlice<UInt8> {
            guard count >= 0, index + count <= bytes.count else { throw Malformed() }
            defer { index += count }
            return bytes[index..<index + count]
        }

        mutating func row() throws(Malformed) -> Row {
            let count = Int(try varint())
            var row: Row = []
            row.reserveCapacity(count)
            for _ in 0..<count { row.append(try value()) }
            return row
        }

        mutating func value() throws(Malformed) -> Value {
            switch try byte() {
            case 0: return .null
            case 1: return .bool(false)
            case 2: return .bool(true)
            case 3:
                let raw = try varint()
                return .int(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
            case 4:
                var bits: UInt64 = 0
                for (offset, b) in try slice(8).enumerated() { bits |= UInt64(b) << (8 * UInt64(offset)) }
                return .double(Double(bitPattern: bits))
            case 5:
                var bits: UInt128 = 0
                for (offset, b) in try slice(16).enumerated() { bits |= UInt128(b) << (8 * UInt128(offset)) }
                return .decimal(Int128(bitPattern: bits))
            case 6: return .string(String(decoding: try slice(Int(try varint())), as: UTF8.self))
            case 7: return .bytes(Array(try slice(Int(try varint()))))
            case 8:
                let count = Int(try varint())
                var values: [Value] = []
                for _ in 0..<count { values.append(try value()) }
                return .list(values)
            default: throw Malformed()
            }
        }
    }
}
