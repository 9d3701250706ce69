// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Why one Kafka record's key or value bytes did not decode into a row.
///
/// This is the error `error-handling.mode` classifies: everything a codec throws while reading one record is a
/// ``RecordDecodeError`` (the statement fails, skips the record, or logs it), while a schema that cannot be read as
/// the table at all is a ``RecordSchemaError``, raised once when the decoder is built and never per record.
public struct RecordDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The first byte is not the Confluent magic byte 0.
        case wrongMagicByte
        /// Fewer bytes than the 5-byte Confluent header.
        case shortRecord
        /// The payload ends inside a value.
        case truncated
        /// Bytes that are not a value of the schema (a bad varint, a negative length, an unknown union branch or enum
        /// symbol, invalid UTF-8, malformed JSON).
        case malformed
        /// Bytes left over after the value.
        case trailingBytes
        /// A value that is valid for the schema but does not fit the column (a NULL for a NOT NULL column, a decimal
        /// too large for its precision, a JSON member of another type).
        case unrepresentable
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Why a writer schema cannot be read as a table's columns, or a table's columns cannot be written in a format.
/// Raised when a decoder or encoder is compiled (once per schema id), so a statement fails with it before reading.
public struct RecordSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Why a row could not be written in a record format: a value the target schema cannot hold (a NULL for a non-null
/// field, an enum symbol the schema does not list, a number out of the field's range).
public struct RecordEncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
