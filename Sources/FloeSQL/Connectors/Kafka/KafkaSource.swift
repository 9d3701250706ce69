// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSchemas

/// What a scan of a Kafka table reads: the table, the metadata columns it fills, and whether it stops at the
/// offsets the topic had when it started (a snapshot).
struct KafkaScanSpec: Sendable {
    var table: KafkaTable
    /// The metadata keys of the table's metadata columns, in column order (their values follow the physical ones).
    var metadataKeys: [String]
    var isSnapshot: Bool
    /// Whether the scan's watermark is `SOURCE_WATERMARK()` on `$rowtime`, which the source computes per partition
    /// (``PartitionWatermarks``).
    var sourceWatermark = false
    /// The dead-letter table of `error-handling.mode` = `log` (``DeadLetterTable``), and the table's qualified name
    /// its rows give.
    var deadLetters: KafkaTable?
    var qualifiedName = ""

    /// The metadata keys a Kafka table's columns may read (kafka-tables.md §3) with their types.
    static let metadataTypes: [String: SQLType] = [
        "timestamp": SQLType(.timestampLTZ(3), nullable: false),
        "offset": SQLType(.bigint, nullable: false),
        "partition": SQLType(.integer, nullable: false),
        "leader-epoch": SQLType(.integer),
        "topic": SQLType.string.notNull,
        "timestamp-type": SQLType.string.notNull,
        "raw-key": SQLType(.varbinary(SQLType.maxLength)),
        "raw-value": SQLType(.varbinary(SQLType.maxLength)),
        "headers": SQLType(.map(key: .string, value: SQLType(.varbinary(SQLType.maxLength))), nullable: false),
    ]

    /// The keys a write sets (the record's timestamp and headers); the others are read-only and their columns must be
    /// VIRTUAL.
    static let writableKeys: Set<String> = ["timestamp", "headers"]

    /// The headers of a record as a `headers` column's MAP (a name given twice keeps its last value, as Flink's map does).
    static func headerMap(_ headers: [(name: String, value: [UInt8]?)]) -> Value {
        var order: [String] = []
        var values: [String: Value] = [:]
        for header in headers {
            if values[header.name] == nil { order.append(header.name) }
            values[header.name] = header.value.map(Value.bytes) ?? .null
        }
        return .list(order.map { .list([.string($0), values[$0]!]) })
    }

    /// Refuses metadata columns of `table` whose key a Kafka table does not have, or that would persist a read-only key.
    static func checkMetadataColumns(_ columns: [ColumnEntry], table: String) throws(SQLError) {
        for column in columns {
            guard let key = column.metadataKey else { continue }
            guard metadataTypes[key] != nil else {
                throw SQLError(
                    "Invalid metadata key '\(key)' in column '\(column.name)' of table \(table). Supported keys are "
                        + metadataTypes.keys.sorted().map { "'\($0)'" }.joined(separator: ", ") + ".")
            }
            guard writableKeys.contains(key) || column.isVirtual else {
                throw SQLError("Metadata key '\(key)' of column '\(column.name)' is read-only: declare the column VIRTUAL.")
            }
        }
    }
}

/// Decodes one part (key or value) of a topic's records into the columns of that part.
struct KafkaPartDecoder {
    private enum Codec {
        case raw(RawCodec)
        case avro(AvroDecoderCache)
        case json(JSONRowCodec)
        case text(any LineDecoder, [SQLType])
    }

    private var codec: Codec
    private let registry: RegistryAccess?
    let columnCount: Int
    /// The Avro decoder of the last writer schema seen.
    private var current: (id: Int32, decoder: AvroRowDecoder)?
    private let isAvro: Bool

    init(format: KafkaPartFormat, columns: [SQLType.RowField], schema: RegisteredSchema?, registry: RegistryAccess?) throws(SQLError) {
        self.registry = registry
        columnCount = columns.count
        isAvro = format == .avroRegistry || { if case .avroConfluent = format { true } else { false } }()
        do throws(RecordSchemaError) {
            switch format {
            case .raw:
                guard columns.count == 1 else { throw RecordSchemaError("A 'raw' part is one column, not \(columns.count).") }
                codec = .raw(try RawCodec(type: columns[0].type))
            case .avroRegistry, .avroConfluent:
                var reader: AvroSchema?
                if let schema, schema.type == .avro { reader = try? AvroSchema(parsing: schema.text) }
                codec = .avro(AvroDecoderCache(columns: columns, readerSchema: reader))
            case .jsonRegistry:
                codec = .json(try JSONRowCodec.registry(columns: columns))
            case .text(let text):
                let decoder: any LineDecoder =
                    text.format == .json ? JSONLineDecoder(spec: text) as any LineDecoder : CSVLineDecoder(spec: text) as any LineDecoder
                codec = .text(decoder, text.fields.map(\.type))
            }
        } catch {
            throw SQLError.runtime("The table's columns cannot be read in its format: \(error.message)")
        }
    }

    /// Appends one record's part (`bytes` nil: a null key or value) to `appenders`, one value per column; returns why
    /// it does not decode, having appended nothing, or nil. Throws only for what fails the statement whatever the
    /// error handling (a writer schema that cannot be looked up or read as the table's columns).
    mutating func decode(_ record: UnsafeRawBufferPointer?, into appenders: inout [ColumnAppender]) throws(SQLError) -> RecordDecodeError? {
        let start = appenders.first?.count ?? 0
        func undo() { for index in appenders.indices { appenders[index].truncate(to: start) } }
        guard let record else {
            if case .raw(let raw) = codec {
                do { try raw.decode(nil, into: &appenders[0]) } catch { return error }
            } else {
                for index in appenders.indices { appenders[index].appendNull() }
            }
            return nil
        }
        let bytes = record.assumingMemoryBound(to: UInt8.self)
        if isAvro {
            // The hot path: the codec is not even looked at (no copy of it per record).
            let header: (schemaID: Int32, payloadStart: Int)
            do { header = try ConfluentWireFormat.header(of: bytes) } catch { return error }
            // Consecutive records mostly share a writer schema: its decoder is kept at hand, borrowed, not copied.
            if current?.id != header.schemaID { current = (header.schemaID, try avroDecoder(header.schemaID)) }
            do throws(RecordDecodeError) {
                try current!.decoder.decode(UnsafeBufferPointer(rebasing: bytes[header.payloadStart...]), into: &appenders)
            } catch { return error }
            return nil
        }
        switch codec {
        case .raw(let raw):
            do throws(RecordDecodeError) { try raw.decode(bytes, into: &appenders[0]) } catch {
                undo()
                return error
            }
        case .avro:
            preconditionFailure("decoded above")
        case .json(let json):
            do { try json.decode(Array(bytes), into: &appenders) } catch {
                undo()
                return error
            }
        case .text(var decoder, let types):
            codec = .raw(RawCodec.placeholder)  // the decoder's buffers are not copied while it is out
            var failure: RecordDecodeError?
            do throws(FieldParseError) {
                try decoder.decode(bytes, into: &appenders)
            } catch {
                undo()
                failure = RecordDecodeError(.malformed, error.message)
            }
            codec = .text(decoder, types)
            return failure
        }
        return nil
    }

    /// The decoder of records written under schema `id` (looked up once, then cached).
    private mutating func avroDecoder(_ id: Int32) throws(SQLError) -> AvroRowDecoder {
        guard case .avro(var cache) = codec else { preconditionFailure("not an Avro part") }
        // Released from the enum while it changes, so the cache's storage is not copied.
        codec = .raw(RawCodec.placeholder)
        defer { codec = .avro(cache) }
        let registry = registry
        do throws(RecordSchemaError) {
            return try cache.decoder(forSchemaID: id) { id throws(RecordSchemaError) in
                guard let registry else { throw RecordSchemaError("There is no Schema Registry to look up schema \(id) in.") }
                let found: RegisteredSchema
                do throws(SQLError) { found = try registry.schema(id: Int(id)) } catch { throw RecordSchemaError(error.message) }
                guard found.type == .avro else { throw RecordSchemaError("Schema \(id) is \(found.type), not Avro.") }
                do throws(AvroSchemaError) { return try AvroSchema(parsing: found.text) } catch {
                    throw RecordSchemaError("Schema \(id) is not valid Avro: \(error.message)")
                }
            }
        } catch {
            throw SQLError.runtime("A record written under schema \(id) cannot be read: \(error.message)")
        }
    }
}

/// Reads a Kafka table: every partition of its topic from the statement's own positions (no consumer group), which
/// are its checkpointed state, so a restored statement reads on exactly where its checkpoint was taken.
///
/// Committed records only, unless `kafka.consumer.isolation-level` says otherwise. Each record becomes a row of the
/// physical columns (key and value decoded by their formats), then the metadata columns, then `$rowtime` (the record
/// timestamp). Upsert tables read a null value as a delete of its key; retract tables take the kind from the `op`
/// header. A record that does not decode fails the statement, or is skipped under `error-handling.mode` ignore/log.
final class KafkaSource: SourceStage, WatermarkSource {
    let spec: KafkaScanSpec
    private let idleTimeout: IdleTimeout
    /// The per-partition `SOURCE_WATERMARK()` (nil when the scan has another watermark or none).
    private var watermarks: PartitionWatermarks?
    private var restoredWatermarks: StateReader?
    private let types: [SQLType]
    private var reader: (any KafkaTopicReader)?
    /// The next offset to read, per partition.
    private var positions: [Int32: Int64] = [:]
    /// Where a bounded read stops, per partition (nil: unbounded).
    private var stops: [Int32: Int64]?
    private var restored = false
    private var keyDecoder: KafkaPartDecoder?
    private var valueDecoder: KafkaPartDecoder
    /// The column types of the key part and of the value part.
    private let keyTypes: [SQLType]
    private let valueTypes: [SQLType]
    /// For each physical column: whether it comes from the key, and its index in that part.
    private let columnSources: [(fromKey: Bool, index: Int)]
    /// Records skipped because they did not decode (`error-handling.mode` ignore or log).
    private(set) var skipped = 0

    /// The statement reading (its id names the dead-letter writer).
    private let statementID: String?
    /// Rows for the dead-letter table, written at the end of each poll.
    private var deadLetterRows: [Row] = []
    private var deadLetterSink: KafkaSink?

    init(_ spec: KafkaScanSpec, types: [SQLType], idleTimeout: IdleTimeout = .progressive, statementID: String? = nil) throws(SQLError) {
        self.spec = spec
        self.types = types
        self.idleTimeout = idleTimeout
        self.statementID = statementID
        let table = spec.table
        let registry = table.database.registry.map(RegistryAccess.init)
        let keyPart = table.keyPart
        let valuePart = table.valuePart
        func fields(_ columns: [InferredTable.Column]) -> [SQLType.RowField] {
            columns.map { column in SQLType.RowField(column.fieldName ?? column.name, Self.tableType(column, in: table)) }
        }
        // The key is decoded only when a column is read from it alone (a key column that is also a value field is
        // read from the value).
        keyDecoder =
            keyPart.contains { $0.origin == .key }
            ? try KafkaPartDecoder(format: table.settings.keyFormat, columns: fields(keyPart), schema: table.keySchema, registry: registry)
            : nil
        valueDecoder = try KafkaPartDecoder(
            format: table.settings.valueFormat, columns: fields(valuePart), schema: table.valueSchema, registry: registry)
        keyTypes = keyPart.map { Self.tableType($0, in: table) }
        valueTypes = valuePart.map { Self.tableType($0, in: table) }
        columnSources = table.layout.columns.map { column in
            column.origin == .key
                ? (true, keyPart.firstIndex { $0.name == column.name }!)
                : (false, valuePart.firstIndex { $0.name == column.name }!)
        }
    }

    /// A column's type in the table (a primary key column is NOT NULL there).
    private static func tableType(_ column: InferredTable.Column, in table: KafkaTable) -> SQLType {
        table.entry.columns.first { $0.name == column.name }?.type ?? column.type
    }

    deinit { reader?.close() }

    private var topic: String { spec.table.topic.name }

    /// Opens the reader at the restored positions, else where `scan.startup.mode` says, and fixes the bound.
    private func start() throws(SQLError) {
        guard reader == nil else { return }
        let table = spec.table
        let reader = try table.database.cluster.openReader(topic: topic, readCommitted: table.settings.readCommitted)
        self.reader = reader
        let partitions = (0..<Int32(max(table.topic.partitions, 0))).map { $0 }
        var starts: [Int32: KafkaReadPosition] = [:]
        if restored {
            // Partitions added since the checkpoint start at their beginning.
            for partition in partitions { starts[partition] = positions[partition].map(KafkaReadPosition.offset) ?? .beginning }
        } else {
            switch table.settings.startup {
            case .latest:
                for (partition, end) in try reader.endOffsets(partitions) { starts[partition] = .offset(end) }
            case .timestamp(let millis):
                for (partition, offset) in try reader.offsets(atOrAfter: millis, partitions) { starts[partition] = .offset(offset) }
            case .specificOffsets(let offsets):
                for partition in partitions { starts[partition] = offsets[partition].map(KafkaReadPosition.offset) ?? .beginning }
            case .groupOffsets:
                starts = try groupStarts(reader, partitions)
            case .earliest, .unbounded:
                for partition in partitions { starts[partition] = .beginning }
            }
            for (partition, start) in starts { if case .offset(let offset) = start { positions[partition] = offset } }
        }
        if stops == nil {
            switch spec.isSnapshot ? .latest : table.settings.bounded {
            case .latest: stops = try reader.endOffsets(partitions)
            case .timestamp(let millis): stops = try reader.offsets(atOrAfter: millis, partitions)
            case .specificOffsets(let offsets): stops = offsets
            default: stops = nil
            }
        }
        try reader.assign(starts)
        if spec.sourceWatermark {
            var tracker = PartitionWatermarks(partitions: partitions, idleTimeout: idleTimeout, now: .now)
            if var saved = restoredWatermarks { try tracker.restore(from: &saved, now: .now) }
            watermarks = tracker
        }
    }

    /// The table's watermark now: the least of its active partitions' (``PartitionWatermarks``).
    var currentWatermark: Int64? { watermarks?.watermark(now: .now) }

    /// Where `group-offsets` starts each partition: the group's committed offset, else `properties.auto.offset.reset`.
    private func groupStarts(_ reader: any KafkaTopicReader, _ partitions: [Int32]) throws(SQLError) -> [Int32: KafkaReadPosition] {
        let settings = spec.table.settings
        guard let group = settings.groupID else {
            throw SQLError("'properties.group.id' is required in 'group-offsets' startup mode (the default of connector 'kafka').")
        }
        let committed = try spec.table.database.cluster.committedOffsets(group: group, topic: topic, partitions: partitions)
        var starts: [Int32: KafkaReadPosition] = [:]
        var missing: [Int32] = []
        for partition in partitions {
            if let offset = committed[partition] { starts[partition] = .offset(offset) } else { missing.append(partition) }
        }
        guard !missing.isEmpty else { return starts }
        switch settings.groupFallback {
        case .latest?:
            for (partition, end) in try reader.endOffsets(missing) { starts[partition] = .offset(end) }
        case .earliest?:
            for partition in missing { starts[partition] = .beginning }
        default:
            throw SQLError.runtime(
                "Undefined offset with no reset policy for partitions: [\(missing.map { "\(topic)-\($0)" }.joined(separator: ", "))] (group '\(group)' has committed "
                    + "no offset for them). Set 'properties.auto.offset.reset' to 'earliest' or 'latest'.")
        }
        return starts
    }

    /// The columns one poll fills: the key part's and the value part's (decoded straight into them, no boxed rows),
    /// then the metadata columns and `$rowtime`.
    private struct Output {
        var key: [ColumnAppender]
        var value: [ColumnAppender]
        var metadata: [ColumnAppender]
        var rowtime: ColumnAppender
        var kinds: [RowKind] = []
    }

    private func output(capacity: Int) -> Output {
        let physical = columnSources.count
        return Output(
            key: keyTypes.map { ColumnAppender($0.physical, capacity: keyDecoder == nil ? 0 : capacity) },
            value: valueTypes.map { ColumnAppender($0.physical, capacity: capacity) },
            metadata: types[physical..<(types.count - 1)].map { ColumnAppender($0.physical, capacity: capacity) },
            rowtime: ColumnAppender(PlanField.rowtimeType.physical, capacity: capacity))
    }

    override func poll() throws(SQLError) -> Batch? {
        try start()
        guard let reader, !isExhausted else { return nil }
        var out = output(capacity: Self.batchRecords)
        // Poll until there are rows or nothing is left: returning none while records wait would wait for an arrival
        // signal that never comes (it fires when the queue goes from empty to non-empty).
        let withHeaders = spec.metadataKeys.contains("headers") || spec.table.settings.changelogMode == .retract
        while out.kinds.isEmpty, !isExhausted {
            var handed = 0
            let now = ContinuousClock.now
            try reader.poll(maxRecords: Self.batchRecords, withHeaders: withHeaders) { item throws(SQLError) in
                handed += 1
                try take(item, into: &out, now: now)
            }
            guard handed > 0 else { break }
        }
        try writeDeadLetters()
        guard !out.kinds.isEmpty else { return nil }
        var columns = columnSources.map { $0.fromKey ? out.key[$0.index].column() : out.value[$0.index].column() }
        columns += out.metadata.map { $0.column() }
        columns.append(out.rowtime.column())
        return Batch(columns: columns, kinds: out.kinds)
    }

    static let batchRecords = 4096

    private func take(_ item: KafkaReadItem, into out: inout Output, now: ContinuousClock.Instant) throws(SQLError) {
        switch item {
        case .endOfPartition(let partition, let next):
            positions[partition] = max(positions[partition] ?? 0, next)
        case .record(let record):
            if let stop = stops?[record.partition], record.offset >= stop { return }
            positions[record.partition] = record.offset + 1
            if watermarks != nil, let millis = record.timestamp { watermarks!.observe(partition: record.partition, millis: millis, now: now) }
            try append(record, to: &out)
        }
    }

    /// Appends one record's row to the output; a record that does not decode appends nothing (and is skipped or
    /// fails the statement).
    private func append(_ record: KafkaRecordView, to out: inout Output) throws(SQLError) {
        let mode = spec.table.settings.changelogMode
        var kind = RowKind.insert
        switch mode {
        case .upsert where record.value == nil: kind = .delete
        case .append where record.value == nil, .retract where record.value == nil:
            return
        case .retract:
            if let op = record.headers.last(where: { $0.name == "op" })?.value, op.count == 1, let code = RowKind(rawValue: Int(op[0])) {
                kind = code
            }
        default: break
        }
        let keyStart = out.key.first?.count ?? 0
        if keyDecoder != nil, let error = try keyDecoder!.decode(record.key, into: &out.key) { return try skip(record, error) }
        if kind == .delete, mode == .upsert {
            for index in out.value.indices { out.value[index].appendNull() }
        } else if let error = try valueDecoder.decode(record.value, into: &out.value) {
            for index in out.key.indices { out.key[index].truncate(to: keyStart) }
            return try skip(record, error)
        }
        let micros = (record.timestamp ?? 0) * 1000
        for (index, metadata) in spec.metadataKeys.enumerated() {
            switch metadata {
            case "timestamp": out.metadata[index].appendInteger(micros)
            case "offset": out.metadata[index].appendInteger(record.offset)
            case "partition": out.metadata[index].appendInteger(Int64(record.partition))
            case "topic": out.metadata[index].appendString(topic)
            case "timestamp-type": out.metadata[index].appendString(record.timestampType.rawValue)
            case "raw-key": out.metadata[index].append(record.key.map { .bytes(Array($0)) } ?? .null)
            case "raw-value": out.metadata[index].append(record.value.map { .bytes(Array($0)) } ?? .null)
            case "headers": out.metadata[index].append(KafkaScanSpec.headerMap(record.headers))
            default: out.metadata[index].appendNull()  // leader-epoch: librdkafka 2.0.2 does not report it
            }
        }
        out.rowtime.appendInteger(micros)
        out.kinds.append(kind)
    }

    /// A record that does not decode: the statement fails, or under `error-handling.mode` ignore/log it is skipped
    /// (and, under log, becomes a row of the dead-letter table).
    private func skip(_ record: KafkaRecordView, _ error: RecordDecodeError) throws(SQLError) {
        let reason = error.message.hasSuffix(".") ? error.message : error.message + "."
        let message = "Record at partition \(record.partition), offset \(record.offset) of topic '\(topic)' does not decode: \(reason)"
        guard spec.table.settings.errorHandling != .fail else {
            throw SQLError.runtime(message + " Set 'error-handling.mode' = 'ignore' or 'log' to skip such records.")
        }
        skipped += 1
        if spec.deadLetters != nil {
            deadLetterRows.append(
                DeadLetterTable.row(
                    error: message, statementID: statementID, table: spec.qualifiedName, topic: topic, partition: record.partition,
                    offset: record.offset, timestamp: record.timestamp, key: record.key, value: record.value))
        }
    }

    /// Writes the dead-letter rows of this poll (in a transaction of the source's own writer).
    private func writeDeadLetters() throws(SQLError) {
        guard !deadLetterRows.isEmpty, let table = spec.deadLetters else { return }
        if deadLetterSink == nil { deadLetterSink = try KafkaSink(table) }
        try deadLetterSink!.append(deadLetterRows, kinds: nil, writer: "\(statementID ?? "anonymous")-dlq-\(topic)")
        deadLetterRows = []
    }

    override var isExhausted: Bool {
        guard let stops, reader != nil else { return false }
        return stops.allSatisfy { (positions[$0.key] ?? 0) >= $0.value }
    }
    override var followsInput: Bool { true }
    override var inputArrival: (@Sendable () async throws -> Void)? {
        guard let arrival = reader?.dataArrival else { return nil }
        return { await arrival() }
    }
    override var inputCount: Int { 0 }

    override var consumedOffsets: [SourceOffset] {
        positions.sorted { $0.key < $1.key }.map { SourceOffset(table: topic, partition: $0.key, offset: $0.value) }
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.string(topic)
        writer.array(positions.sorted { $0.key < $1.key }) { writer, entry in
            writer.int(Int64(entry.key))
            writer.int(entry.value)
        }
        writer.bool(stops != nil)
        writer.array((stops ?? [:]).sorted { $0.key < $1.key }) { writer, entry in
            writer.int(Int64(entry.key))
            writer.int(entry.value)
        }
        var partitionWatermarks = StateWriter()
        watermarks?.save(into: &partitionWatermarks)
        writer.blob(partitionWatermarks.bytes)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        guard try reader.string() == topic else {
            throw SQLError.runtime("The statement's checkpoint was taken reading another topic than '\(topic)' and cannot be restored.")
        }
        func offsets(_ reader: inout StateReader) throws(SQLError) -> [Int32: Int64] {
            var result: [Int32: Int64] = [:]
            for (partition, offset) in try reader.array({ reader throws(SQLError) in (try reader.int(), try reader.int()) }) {
                guard let partition = Int32(exactly: partition) else { throw StateReader.malformed() }
                result[partition] = offset
            }
            return result
        }
        positions = try offsets(&reader)
        let bounded = try reader.bool()
        let bounds = try offsets(&reader)
        stops = bounded ? bounds : nil
        let saved = try reader.blob()
        restoredWatermarks = saved.isEmpty ? nil : StateReader(saved)
        restored = true
    }
}
