// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSchemas

/// The compiled decoders of one part of a table (its key or its value columns), one per writer schema id.
///
/// Records name their writer schema by id in the Confluent header; a topic usually holds a handful of ids (one per
/// schema version producers used). A source keeps one cache per part and asks it for each record's decoder: the
/// schema is fetched (through `lookup`, the registry) and compiled against the columns once per id, then every record
/// of that id decodes without touching the schema again.
///
/// ```swift
/// let (id, start) = try ConfluentWireFormat.header(of: record)
/// let decoder = try cache.decoder(forSchemaID: id) { id throws(RecordSchemaError) in try registry.avroSchema(id) }
/// try decoder.decode(UnsafeBufferPointer(rebasing: record[start...]), into: &appenders)
/// ```
public struct AvroDecoderCache: Sendable {
    public let columns: [SQLType.RowField]
    /// The table's own schema (defaults and aliases for older and newer writers), when it has one.
    public let readerSchema: AvroSchema?
    private var decoders: [Int32: AvroRowDecoder] = [:]
    /// The id of the last decoder handed out, and the decoder: consecutive records mostly share their schema.
    private var last: (id: Int32, decoder: AvroRowDecoder)?

    public init(columns: [SQLType.RowField], readerSchema: AvroSchema? = nil) {
        self.columns = columns
        self.readerSchema = readerSchema
    }

    /// The decoder for records written under schema `id`, compiled on first use from the schema `lookup` returns.
    /// - Throws: whatever `lookup` throws, or ``RecordSchemaError`` when the schema does not resolve to the columns
    ///   (then the next call for the id tries again: the registry may have been down, or the table altered).
    public mutating func decoder(
        forSchemaID id: Int32, lookup: (Int32) throws(RecordSchemaError) -> AvroSchema
    ) throws(RecordSchemaError) -> AvroRowDecoder {
        if let last, last.id == id { return last.decoder }
        let decoder: AvroRowDecoder
        if let known = decoders[id] {
            decoder = known
        } else {
            decoder = try AvroRowDecoder(writer: try lookup(id), columns: columns, readerSchema: readerSchema)
            decoders[id] = decoder
        }
        last = (id, decoder)
        return decoder
    }

    /// How many writer schemas have decoders.
    public var count: Int { decoders.count }
}
