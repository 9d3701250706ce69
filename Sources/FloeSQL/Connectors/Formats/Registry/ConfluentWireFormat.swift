// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The framing Confluent's serializers put around every key and value they write under a registered schema: the
/// magic byte `0x00`, the schema id as a 4-byte big-endian integer, then the payload (Avro binary or JSON text).
///
/// Deserializers read the header first to find the writer schema, so a reader fetches and compiles a schema once per
/// id and then decodes every record of that id with the same program (see `AvroRowDecoder`).
public enum ConfluentWireFormat {
    /// The magic byte of the classic framing. (`0x01` followed by a 16-byte GUID is a newer variant plain clients
    /// never write; it is refused like any other wrong magic byte.)
    public static let magicByte: UInt8 = 0
    /// Magic byte plus schema id.
    public static let headerSize = 5

    /// The schema id and where the payload starts in `record`.
    /// - Throws: ``RecordDecodeError`` with `shortRecord` or `wrongMagicByte`.
    public static func header(of record: UnsafeBufferPointer<UInt8>) throws(RecordDecodeError) -> (schemaID: Int32, payloadStart: Int) {
        guard record.count >= headerSize else {
            throw RecordDecodeError(
                .shortRecord,
                "The record is \(record.count) byte\(record.count == 1 ? "" : "s") long, shorter than the 5-byte Schema Registry header (magic byte and schema id)."
            )
        }
        guard record[0] == magicByte else {
            throw RecordDecodeError(
                .wrongMagicByte,
                "Unknown magic byte \(record[0]) (expected 0): the record was not written by a Schema Registry serializer."
            )
        }
        let id = UInt32(record[1]) << 24 | UInt32(record[2]) << 16 | UInt32(record[3]) << 8 | UInt32(record[4])
        return (Int32(bitPattern: id), headerSize)
    }

    /// The schema id and where the payload starts in `record`.
    public static func header(of record: [UInt8]) throws(RecordDecodeError) -> (schemaID: Int32, payloadStart: Int) {
        try record.withUnsafeBufferPointer { bytes throws(RecordDecodeError) in try header(of: bytes) }
    }

    /// Appends the header for `schemaID` to `output` (the payload follows).
    public static func appendHeader(schemaID: Int32, to output: inout [UInt8]) {
        let id = UInt32(bitPattern: schemaID)
        output.append(magicByte)
        output.append(UInt8(truncatingIfNeeded: id >> 24))
        output.append(UInt8(truncatingIfNeeded: id >> 16))
        output.append(UInt8(truncatingIfNeeded: id >> 8))
        output.append(UInt8(truncatingIfNeeded: id))
    }
}
