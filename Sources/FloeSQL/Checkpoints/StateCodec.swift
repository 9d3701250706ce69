// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Writes operator state for a checkpoint: integers as zig-zag varints, values and rows as the table logs encode them.
/// Stages write their fields in a fixed order and read them back in the same order (``StateReader``).
struct StateWriter {
    private(set) var bytes: [UInt8] = []

    mutating func int(_ value: Int64) {
        ValueCodec.appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &bytes)
    }

    mutating func int(_ value: Int) { int(Int64(value)) }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func double(_ value: Double) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func int128(_ value: Int128) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) { self.value(.string(value)) }

    /// Raw bytes, length-prefixed.
    mutating func blob(_ value: [UInt8]) {
        int(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func value(_ value: Value) { ValueCodec.encode(value, into: &bytes) }

    mutating func row(_ row: Row) { ValueCodec.encode(row, into: &bytes) }

    mutating func rows(_ rows: [Row]) {
        int(rows.count)
        for row in rows { self.row(row) }
    }

    /// A length-prefixed array, each element written by `element`.
    mutating func array<T>(_ items: some Collection<T>, _ element: (inout StateWriter, T) -> Void) {
        int(items.count)
        for item in items { element(&self, item) }
    }

    /// Appends a nested section (length-prefixed, so a reader can check it consumed exactly what was written).
    mutating func section(_ write: (inout StateWriter) -> Void) {
        var inner = StateWriter()
        write(&inner)
        int(inner.bytes.count)
        bytes.append(contentsOf: inner.bytes)
    }
}

/// Reads what a ``StateWriter`` wrote; every read checks bounds and a malformed checkpoint is an `SQLError`.
struct StateReader {
    private var reader: ValueCodec.Reader

    init(_ bytes: [UInt8]) { reader = ValueCodec.Reader(bytes) }

    var isAtEnd: Bool { reader.index == reader.bytes.count }

    static func malformed() -> SQLError { SQLError.runtime("The statement's checkpoint is damaged and cannot be restored.") }

    mutating func int() throws(SQLError) -> Int64 {
        guard let raw = try? reader.varint() else { throw Self.malformed() }
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A non-negative count or index (bounded so that damaged input cannot ask for absurd allocations).
    mutating func count() throws(SQLError) -> Int {
        let value = try int()
        guard value >= 0, value <= Int64(reader.bytes.count) * 8 + 1_000_000 else { throw Self.malformed() }
        return Int(value)
    }

    mutating func bool() throws(SQLError) -> Bool {
        guard let byte = try? reader.byte(), byte <= 1 else { throw Self.malformed() }
        return byte == 1
    }

    mutating func double() throws(SQLError) -> Double {
        guard let slice = try? reader.slice(8) else { throw Self.malformed() }
        var bits: UInt64 = 0
        for (offset, b) in slice.enumerated() { bits |= UInt64(b) << (8 * UInt64(offset)) }
        return Double(bitPattern: bits)
    }

    mutating func int128() throws(SQLError) -> Int128 {
        guard let slice = try? reader.slice(16) else { throw Self.malformed() }
        var bits: UInt128 = 0
        for (offset, b) in slice.enumerated() { bits |= UInt128(b) << (8 * UInt128(offset)) }
        return Int128(bitPattern: bits)
    }

    mutating func string() throws(SQLError) -> String {
        guard case .string(let s) = try value() else { throw Self.malformed() }
        return s
    }

    mutating func blob() throws(SQLError) -> [UInt8] {
        let length = try count()
        guard let slice = try? reader.slice(length) else { throw Self.malformed() }
        return Array(slice)
    }

    mutating func value() throws(SQLError) -> Value {
        guard let value = try? reader.value() else { throw Self.malformed() }
        return value
    }

    mutating func row() throws(SQLError) -> Row {
        guard let row = try? reader.row() else { throw Self.malformed() }
        return row
    }

    mutating func rows() throws(SQLError) -> [Row] {
        let count = try count()
        var rows: [Row] = []
        rows.reserveCapacity(count)
        for _ in 0..<count { rows.append(try row()) }
        return rows
    }

    mutating func array<T>(_ element: (inout StateReader) throws(SQLError) -> T) throws(SQLError) -> [T] {
        let count = try count()
        var items: [T] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try element(&self)) }
        return items
    }

    /// Reads a section written by ``StateWriter/section(_:)``; `read` must consume it exactly.
    mutating func section<T>(_ read: (inout StateReader) throws(SQLError) -> T) throws(SQLError) -> T {
        let length = try count()
        guard let slice = try? reader.slice(length) else { throw Self.malformed() }
        var inner = StateReader(Array(slice))
        let result = try read(&inner)
        guard inner.isAtEnd else { throw Self.malformed() }
        return result
    }
}
