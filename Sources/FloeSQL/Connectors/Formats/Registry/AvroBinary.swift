// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Reads Avro's binary encoding (Avro specification 1.12, "Binary Encoding") from a buffer, checking every bound:
/// record bytes come from other programs and may be anything.
struct AvroBinaryReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var isAtEnd: Bool { position >= bytes.count }

    static func truncated() -> RecordDecodeError { RecordDecodeError(.truncated, "The Avro record ends inside a value.") }

    /// A zig-zag varint `long` (at most 10 bytes).
    @inline(__always)
    mutating func long() throws(RecordDecodeError) -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw Self.truncated() }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            guard shift < 64 else { throw RecordDecodeError(.malformed, "An Avro varint is longer than 10 bytes.") }
        }
        return Int64(bitPattern: (result >> 1) ^ (0 &- (result & 1)))
    }

    /// A zig-zag varint `int`: a `long` that must fit 32 bits.
    @inline(__always)
    mutating func int() throws(RecordDecodeError) -> Int64 {
        let value = try long()
        guard value >= Int64(Int32.min), value <= Int64(Int32.max) else {
            throw RecordDecodeError(.malformed, "An Avro int is out of the 32-bit range: \(value).")
        }
        return value
    }

    mutating func boolean() throws(RecordDecodeError) -> Bool {
        guard position < bytes.count else { throw Self.truncated() }
        let byte = bytes[position]
        position += 1
        guard byte <= 1 else { throw RecordDecodeError(.malformed, "An Avro boolean is byte \(byte), not 0 or 1.") }
        return byte == 1
    }

    @inline(__always)
    mutating func fixedWidth(_ count: Int) throws(RecordDecodeError) -> UInt64 {
        guard bytes.count - position >= count else { throw Self.truncated() }
        var bits: UInt64 = 0
        for offset in 0..<count { bits |= UInt64(bytes[position + offset]) << (8 * UInt64(offset)) }
        position += count
        return bits
    }

    mutating func float() throws(RecordDecodeError) -> Float { Float(bitPattern: UInt32(try fixedWidth(4))) }

    mutating func double() throws(RecordDecodeError) -> Double { Double(bitPattern: try fixedWidth(8)) }

    /// The length prefix of `bytes`/`string`: non-negative and within the buffer.
    @inline(__always)
    mutating func length() throws(RecordDecodeError) -> Int {
        let length = try long()
        guard length >= 0 else { throw RecordDecodeError(.malformed, "An Avro length is negative: \(length).") }
        guard length <= Int64(bytes.count - position) else { throw Self.truncated() }
        return Int(length)
    }

    /// The next `count` bytes, not copied.
    @inline(__always)
    mutating func take(_ count: Int) throws(RecordDecodeError) -> UnsafeBufferPointer<UInt8> {
        guard count >= 0, bytes.count - position >= count else { throw Self.truncated() }
        defer { position += count }
        return UnsafeBufferPointer(rebasing: bytes[position..<position + count])
    }

    /// A length-prefixed `bytes` or `string`, not copied.
    @inline(__always)
    mutating func lengthPrefixed() throws(RecordDecodeError) -> UnsafeBufferPointer<UInt8> { try take(try length()) }

    /// The item count of the next array or map block; 0 ends the value. A negative count is followed by the
    /// block's size in bytes (which lets a reader skip it), as the specification allows writers to emit.
    mutating func blockCount() throws(RecordDecodeError) -> Int {
        let count = try long()
        if count >= 0 { return Int(count) }
        _ = try long()
        guard count != Int64.min else { throw RecordDecodeError(.malformed, "An Avro block count is out of range.") }
        return Int(-count)
    }
}

/// Writes Avro's binary encoding.
enum AvroBinaryWriter {
    @inline(__always)
    static func long(_ value: Int64, to output: inout [UInt8]) {
        var rest = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while rest >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        output.append(UInt8(truncatingIfNeeded: rest))
    }

    static func float(_ value: Float, to output: inout [UInt8]) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { output.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }

    static func double(_ value: Double, to output: inout [UInt8]) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { output.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    static func bytes(_ value: some Collection<UInt8>, to output: inout [UInt8]) {
        long(Int64(value.count), to: &output)
        output.append(contentsOf: value)
    }

    static func string(_ value: String, to output: inout [UInt8]) {
        var text = value
        text.withUTF8 { utf8 in
            long(Int64(utf8.count), to: &output)
            output.append(contentsOf: utf8)
        }
    }
}

/// The two's-complement big-endian form Avro's `decimal` logical type stores unscaled values in.
enum AvroDecimal {
    /// The unscaled value of `bytes` (sign-extended; at most 16 significant bytes).
    static func unscaled(_ bytes: UnsafeBufferPointer<UInt8>) throws(RecordDecodeError) -> Int128 {
        guard !bytes.isEmpty else { return 0 }
        let negative = bytes[0] & 0x80 != 0
        var start = 0
        // Leading sign bytes beyond 16 carry no value.
        while bytes.count - start > 16, bytes[start] == (negative ? 0xFF : 0x00) { start += 1 }
        guard bytes.count - start <= 16 else {
            throw RecordDecodeError(.unrepresentable, "An Avro decimal has more than 38 digits.")
        }
        var value: UInt128 = negative ? ~0 : 0
        for index in start..<bytes.count { value = value << 8 | UInt128(bytes[index]) }
        return Int128(bitPattern: value)
    }

    /// The shortest two's-complement big-endian bytes of `value` (Java's `BigInteger.toByteArray`).
    static func bytes(_ value: Int128) -> [UInt8] {
        var result: [UInt8] = []
        var rest = value
        repeat {
            result.append(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        } while !(rest == 0 && result.last! & 0x80 == 0) && !(rest == -1 && result.last! & 0x80 != 0)
        return result.reversed()
    }

    /// `value` as exactly `size` bytes (sign-extended), or nil when it does not fit.
    static func fixedBytes(_ value: Int128, size: Int) -> [UInt8]? {
        let minimal = bytes(value)
        guard minimal.count <= size else { return nil }
        return [UInt8](repeating: value < 0 ? 0xFF : 0x00, count: size - minimal.count) + minimal
    }

    static func powerOfTen(_ exponent: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }
}
