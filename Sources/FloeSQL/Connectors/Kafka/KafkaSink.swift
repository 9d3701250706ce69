// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Foundation
import Synchronization

/// Encodes one part (key or value) of a Kafka table's records from the columns of that part.
struct KafkaPartEncoder: Sendable {
    private enum Codec {
        case raw(RawCodec)
        case avro(AvroRowEncoder, schemaID: Int32)
        case json(JSONRowCodec, schemaID: Int32)
        case text(TextFormat)
    }

    private let codec: Codec
    private let renderer = ValueRenderer(zone: TimeZone(identifier: "UTC")!)

    /// The encoder of `format` for `columns`: the registry formats write with the latest schema registered under
    /// `subject`; `avro-confluent` registers the columns' own schema there first (as Flink's format does) and writes
    /// with it.
    init(format: KafkaPartFormat, columns: [SQLType.RowField], subject: String, registry: RegistryAccess?) throws(SQLError) {
        do throws(RecordSchemaError) {
            switch format {
            case .raw:
                guard columns.count == 1 else { throw RecordSchemaError("A 'raw' part is one column, not \(columns.count).") }
                codec = .raw(try RawCodec(type: columns[0].type))
            case .text(let text):
                codec = .text(text)
            case .avroConfluent(let subject):
                guard let registry else { throw RecordSchemaError("There is no Schema Registry to register subject '\(subject)' in.") }
                let schema = try AvroSchemaGenerator.recordSchema(name: "record", columns: columns)
                let registered: SchemaRegistration
                do throws(SQLError) {
                    registered = try registry.register(subject, SchemaDefinition(type: .avro, text: schema.serializedString))
                } catch { throw RecordSchemaError(error.message) }
                let parsed: AvroSchema
                do throws(AvroSchemaError) { parsed = try AvroSchema(parsing: schema.serializedString) } catch {
                    throw RecordSchemaError("The generated schema is not valid Avro: \(error.message)")
                }
                codec = .avro(try AvroRowEncoder(schema: parsed, columns: columns), schemaID: Int32(registered.id))
            case .avroRegistry, .jsonRegistry:
                guard let registry else { throw RecordSchemaError("There is no Schema Registry to find subject '\(subject)' in.") }
                let latest: RegisteredSchema?
                do throws(SQLError) { latest = try registry.latest(subject) } catch { throw RecordSchemaError(error.message) }
                guard let latest else {
                    throw RecordSchemaError("Subject '\(subject)' has no schema to write with; CREATE TABLE registers one.")
                }
                if format == .avroRegistry {
                    guard latest.type == .avro else { throw RecordSchemaError("Subject '\(subject)' holds a \(latest.type) schema, not Avro.") }
                    let schema: AvroSchema
                    do throws(AvroSchemaError) { schema = try AvroSchema(parsing: latest.text) } catch {
                        throw RecordSchemaError("Subject '\(subject)' holds an invalid Avro schema: \(error.message)")
                    }
                    codec = .avro(try AvroRowEncoder(schema: schema, columns: columns), schemaID: Int32(latest.id))
                } else {
                    codec = .json(try JSONRowCodec.registry(columns: columns), schemaID: Int32(latest.id))
                }
            }
        } catch {
            throw SQLError.runtime("Rows cannot be written to the table in its format: \(error.message)")
        }
    }

    func encode(_ values: [Value]) throws(RecordEncodeError) -> [UInt8]? {
        switch codec {
        case .raw(let raw): return try raw.encode(values[0])
        case .avro(let encoder, let id): return try encoder.encodeFramed(values, schemaID: id)
        case .json(let codec, let id): return try codec.encode(values, schemaID: id)
        case .text(let text):
            var bytes: [UInt8] = []
            text.encode(values, into: &bytes, renderer: renderer)
            return bytes
        }
    }
}

/// Writes a Kafka table: each checkpoint's output is one Kafka transaction (``KafkaTopicWriter``), so readers with
/// `read_committed` see a statement's rows exactly once, when its checkpoint commits.
///
/// It keeps the engine's commit protocol (`Checkpoints/SinkCommitter.swift`): the checkpoint holds the output, then
/// the sink appends it; after a restart the writer's committed count says how much of it is already in the topic. The
/// changelog is encoded as kafka-tables.md §4: append writes values (and the key when the table has one); upsert
/// writes key and value, a delete as a tombstone, no update-befores; retract writes every change with the `op` header
/// (one byte, Flink's RowKind) except inserts.
final class KafkaSink: StagingRowSink {
    private let table: KafkaTable
    private let keyEncoder: KafkaPartEncoder?
    private let valueEncoder: KafkaPartEncoder
    /// For the key and the value part: the physical column positions they take.
    private let keyColumns: [Int]
    private let valueColumns: [Int]
    /// Where the persisted metadata columns' values are in a row (after the physical ones): the record timestamp
    /// and headers a row sets.
    private let valueIsWholeRow: Bool
    private let timestampColumn: Int?
    private let headersColumn: Int?
    /// Open writers by writer key, with the count their committed transactions hold.
    private let writers = Mutex<[String: (writer: any KafkaTopicWriter, count: Int64)]>([:])

    init(_ table: KafkaTable) throws(SQLError) {
        self.table = table
        let registry = table.database.registry.map(RegistryAccess.init)
        let physical = table.entry.physicalColumns
        func positions(_ part: [InferredTable.Column]) -> [Int] {
            part.compactMap { column in physical.firstIndex { $0.name == column.name } }
        }
        func fields(_ part: [InferredTable.Column]) -> [SQLType.RowField] {
            part.map { column in
                SQLType.RowField(column.fieldName ?? column.name, physical.first { $0.name == column.name }?.type ?? column.type)
            }
        }
        keyColumns = positions(table.keyPart)
        valueColumns = positions(table.valuePart)
        let persistedMetadata = table.entry.columns.filter { $0.metadataKey != nil && !$0.isVirtual }.map(\.metadataKey)
        timestampColumn = persistedMetadata.firstIndex(of: "timestamp").map { physical.count + $0 }
        headersColumn = persistedMetadata.firstIndex(of: "headers").map { physical.count + $0 }
        valueIsWholeRow = persistedMetadata.isEmpty && valueColumns == Array(physical.indices)
        keyEncoder =
            keyColumns.isEmpty
            ? nil
            : try KafkaPartEncoder(
                format: table.settings.keyFormat, columns: fields(table.keyPart), subject: KafkaTable.keySubject(table.topic.name),
                registry: registry)
        valueEncoder = try KafkaPartEncoder(
            format: table.settings.valueFormat, columns: fields(table.valuePart), subject: KafkaTable.valueSubject(table.topic.name),
            registry: registry)
    }

    deinit {
        for (writer, _) in writers.withLock({ Array($0.values) }) { writer.close() }
    }

    /// The writer `key`, opened (fencing any earlier instance) with its committed count on first use.
    private func writer(_ key: String) throws(SQLError) -> (writer: any KafkaTopicWriter, count: Int64) {
        if let open = writers.withLock({ $0[key] }) { return open }
        let settings = table.settings
        let writer = try table.database.cluster.openWriter(
            topic: table.topic.name, transactionalID: "\(settings.transactionalIDPrefix)-\(key)", compression: settings.compression)
        let opened = (writer: writer as any KafkaTopicWriter, count: try writer.committedCount())
        writers.withLock { $0[key] = opened }
        return opened
    }

    func rowsWritten(by key: String) -> Int64 {
        // A writer that cannot be opened has written nothing it could prove; append then fails with the reason.
        (try? writer(key).count) ?? 0
    }

    /// Milliseconds of a TIMESTAMP_LTZ value's microseconds, rounded down.
    static func millis(micros: Int64) -> Int64 { micros >= 0 ? micros / 1000 : (micros - 999) / 1000 }

    /// A `headers` column's MAP as record headers, in its order (a NULL value is a header without a value).
    static func headers(_ map: Value) -> [(name: String, value: [UInt8]?)] {
        guard case .list(let entries) = map else { return [] }
        return entries.compactMap { entry in
            guard case .list(let pair) = entry, pair.count == 2, case .string(let name) = pair[0] else { return nil }
            switch pair[1] {
            case .bytes(let bytes): return (name, bytes)
            case .string(let text): return (name, Array(text.utf8))
            default: return (name, nil)
            }
        }
    }

    func append(_ rows: [Row], kinds: [RowKind]?, writer key: String) throws(SQLError) {
        let (writer, count) = try writer(key)
        let records = try encode(rows[...], kinds: kinds?[...])
        let total = count + Int64(rows.count)
        try writer.write(records, committedCount: total)
        writers.withLock { $0[key]?.count = total }
        staged.withLock { $0[key] = 0 }
    }

    /// Rows staged per writer since its last commit.
    private let staged = Mutex<[String: Int]>([:])

    func stage(_ rows: ArraySlice<Row>, kinds: ArraySlice<RowKind>?, writer key: String) throws(SQLError) {
        let (writer, _) = try writer(key)
        try writer.send(try encode(rows, kinds: kinds))
        staged.withLock { $0[key, default: 0] += rows.count }
    }

    func commitStaged(count: Int, total: Int64, writer key: String) -> Bool {
        guard let open = writers.withLock({ $0[key] }), staged.withLock({ $0.removeValue(forKey: key) ?? 0 }) == count else { return false }
        do throws(SQLError) { try open.writer.commit(committedCount: total) } catch { return false }
        writers.withLock { $0[key]?.count = total }
        return true
    }

    /// The value part of `row`: the row itself when the value holds every column in order (no copy per record).
    @inline(__always)
    private func values(_ row: Row) -> [Value] { valueIsWholeRow ? row : valueColumns.map { row[$0] } }

    /// The records of `rows` (kafka-tables.md §4).
    private func encode(_ rows: ArraySlice<Row>, kinds: ArraySlice<RowKind>?) throws(SQLError) -> [KafkaOutgoingRecord] {
        var records: [KafkaOutgoingRecord] = []
        records.reserveCapacity(rows.count)
        let mode = table.settings.changelogMode
        for (index, row) in zip(rows.indices, rows) {
            let kind = kinds?[index] ?? .insert
            do throws(RecordEncodeError) {
                let keyBytes = try keyEncoder?.encode(keyColumns.map { row[$0] })
                let timestamp = timestampColumn.flatMap { row[$0].int }.map { Self.millis(micros: $0) }
                var headers = headersColumn.map { Self.headers(row[$0]) } ?? []
                switch mode {
                case .upsert:
                    switch kind {
                    case .updateBefore: continue
                    case .delete: records.append(KafkaOutgoingRecord(key: keyBytes, value: nil, headers: headers, timestamp: timestamp))
                    case .insert, .updateAfter:
                        records.append(
                            KafkaOutgoingRecord(
                                key: keyBytes, value: try valueEncoder.encode(values(row)), headers: headers, timestamp: timestamp))
                    }
                case .retract, .append:
                    if kind != .insert { headers.append(("op", [UInt8(kind.rawValue)])) }
                    records.append(
                        KafkaOutgoingRecord(
                            key: keyBytes, value: try valueEncoder.encode(values(row)), headers: headers, timestamp: timestamp))
                }
            } catch {
                throw SQLError.runtime("A row cannot be written to topic '\(table.topic.name)': \(error.message)")
            }
        }
        return records
    }
}
