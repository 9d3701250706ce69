// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The `raw` format: a record's key or value bytes as one column, BYTES/VARBINARY/BINARY as they are or
/// STRING/VARCHAR/CHAR as UTF-8 text. A record without a key or value (a null, as tombstones have) is NULL, and NULL
/// is written as no bytes at all. This is what a topic without registered schemas reads as (`key`/`val` columns).
public struct RawCodec: Sendable {
    public let type: SQLType
    private let isText: Bool

    /// A codec that is never used to code (a stand-in while another one is held elsewhere).
    static let placeholder = try! RawCodec(type: SQLType(.varbinary(SQLType.maxLength)))

    /// - Throws: ``RecordSchemaError`` for a column type other than a character or binary string.
    public init(type: SQLType) throws(RecordSchemaError) {
        guard type.isCharacter || type.isBinary else {
            throw RecordSchemaError("The 'raw' format reads one BYTES or STRING column, not \(type.sql).")
        }
        self.type = type
        isText = type.isCharacter
    }

    /// The value of a record's key or value bytes (nil: the record has none).
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>?) throws(RecordDecodeError) -> Value {
        guard let bytes else {
            guard type.nullable else { throw RecordDecodeError(.unrepresentable, "The record has no bytes for the NOT NULL raw column.") }
            return .null
        }
        guard isText else { return .bytes(Array(bytes)) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RecordDecodeError(.malformed, "The raw record is not valid UTF-8 text.")
        }
        return .string(text)
    }

    public func decode(_ bytes: [UInt8]?) throws(RecordDecodeError) -> Value {
        guard let bytes else { return try decode(nil as UnsafeBufferPointer<UInt8>?) }
        return try bytes.withUnsafeBufferPointer { buffer throws(RecordDecodeError) in try decode(buffer) }
    }

    /// Appends the value of a record's bytes to a column (without making a `String` for ASCII text).
    func decode(_ bytes: UnsafeBufferPointer<UInt8>?, into appender: inout ColumnAppender) throws(RecordDecodeError) {
        if let bytes, isText, TextFieldParser.isASCII(bytes) {
            appender.appendString(utf8: bytes)
        } else {
            appender.append(try decode(bytes))
        }
    }

    /// The record bytes for `value`; nil for NULL (a record without key or value).
    public func encode(_ value: Value) throws(RecordEncodeError) -> [UInt8]? {
        switch value {
        case .null: return nil
        case .bytes(let bytes): return bytes
        case .string(let text): return Array(text.utf8)
        default: throw RecordEncodeError("The 'raw' format writes BYTES or STRING values, not \(value).")
        }
    }
}
