// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import CRdKafka
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A transactional Kafka producer: records sent between `beginTransaction()` and `commitTransaction()` become
/// visible to `read_committed` consumers together, or (after `abortTransaction()`) never.
///
/// `initTransactions()` registers the `transactional.id` with the cluster's transaction coordinator and fences any
/// earlier producer with the same id (a previous run of the same statement, or a zombie still running
/// elsewhere): that one's open transaction is aborted and its next call fails with a fatal, fenced error.
///
/// Errors carry a `kind` (`KafkaError.Kind`): `.retriable` → repeat the call; `.abortRequired` → abort, then
/// redo the transaction's work; `.fatal` → drop this producer (when `isFenced`, another instance owns the output).
/// Failed deliveries are never lost: the first one is raised by the next `send`, `flush` or `commitTransaction`.
///
/// Ownership: one thread at a time (the dataflow thread that owns the sink) — the transaction calls are a state
/// machine and must not interleave. `@unchecked Sendable` lets the owner move between threads. Destroying it
/// (the last reference) closes the connection; a transaction left open is aborted by the broker after
/// `transaction.timeout.ms` or by the next `initTransactions()` with the same id.
public final class KafkaTransactionalProducer: @unchecked Sendable {
    private let handle: ClientHandle
    /// Sends since the last poll: delivery reports are served every `pollInterval` sends so they do not pile up.
    private var sendsSincePoll = 0
    private static let pollInterval = 1024

    /// A producer with `transactional.id` = `transactionalID`. On top of `configuration` it sets
    /// `partitioner=murmur2_random` — the Java client's partitioner, so a key lands on the same partition as when
    /// Flink or any Java producer writes it (librdkafka's default, `consistent_random`, hashes with CRC32) — and,
    /// unless `configuration` sets them, `linger.ms=5` and `transaction.timeout.ms=60000`.
    public init(configuration: KafkaConfiguration, transactionalID: String, logger: Logger) throws(KafkaError) {
        var configuration = configuration
        configuration["transactional.id"] = transactionalID
        configuration["partitioner"] = "murmur2_random"
        if configuration["linger.ms"] == nil { configuration["linger.ms"] = "5" }
        if configuration["transaction.timeout.ms"] == nil { configuration["transaction.timeout.ms"] = "60000" }
        handle = try ClientHandle(consumer: false, configuration: configuration, logger: logger, deliveryReports: true)
    }

    /// Registers the transactional id and fences earlier producers with it. Call once, before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) throws(KafkaError) {
        try check(floe_rd_kafka_init_transactions(handle.pointer, milliseconds(timeout)))
    }

    public func beginTransaction() throws(KafkaError) {
        clearDeliveryFailure()
        try check(floe_rd_kafka_begin_transaction(handle.pointer))
    }

    /// Sends one record in the current transaction. `partition` nil partitions by key (murmur2, as Java does;
    /// a nil key gets a random partition). A nil `value` is a tombstone; a nil `key` is a null key (an empty buffer
    /// is an empty, non-null key or value). `timestamp` is milliseconds since the epoch (nil: now). Key, value and
    /// headers are copied, so the buffers may be reused as soon as this returns.
    ///
    /// When librdkafka's send queue is full this waits for deliveries to make room instead of failing.
    public func send(
        topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) throws(KafkaError) {
        if let failure = takeDeliveryFailure() { throw failure }
        let headerList = try makeHeaders(headers)
        var error: OpaquePointer?
        topic.withCString { topicName in
            // The argument list lives on the stack: no allocation per record.
            withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { values in
                var count = 0
                func append(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t) -> Void) {
                    var value = rd_kafka_vu_t()
                    value.vtype = type
                    set(&value)
                    values.initializeElement(at: count, to: value)
                    count += 1
                }
                append(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topicName }
                append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition ?? FLOE_RD_KAFKA_PARTITION_UA }
                append(RD_KAFKA_VTYPE_KEY) {
                    $0.u.mem.ptr = Self.payloadPointer(key)
                    $0.u.mem.size = key?.count ?? 0
                }
                append(RD_KAFKA_VTYPE_VALUE) {
                    $0.u.mem.ptr = Self.payloadPointer(value)
                    $0.u.mem.size = value?.count ?? 0
                }
                append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                if let timestamp { append(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp } }
                if let headerList { append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headerList } }
                while true {
                    error = floe_rd_kafka_produceva(handle.pointer, values.baseAddress, count)
                    guard let queued = error, floe_rd_kafka_error_code(queued) == RD_KAFKA_RESP_ERR__QUEUE_FULL else { break }
                    floe_rd_kafka_error_destroy(queued)
                    error = nil
                    _ = floe_rd_kafka_poll(handle.pointer, 100)
                }
                values.baseAddress!.deinitialize(count: count)
            }
        }
        if let error {
            // On failure the headers are still ours; on success librdkafka owns (and frees) them.
            if let headerList { floe_rd_kafka_headers_destroy(headerList) }
            throw KafkaError(consuming: error, handle: handle.pointer)
        }
        sendsSincePoll += 1
        if sendsSincePoll >= Self.pollInterval {
            sendsSincePoll = 0
            _ = floe_rd_kafka_poll(handle.pointer, 0)
        }
    }

    /// `send` for a record held in arrays.
    public func send(_ record: KafkaProducerRecord) throws(KafkaError) {
        try withOptionalBytes(record.key) { key throws(KafkaError) in
            try withOptionalBytes(record.value) { value throws(KafkaError) in
                try send(
                    topic: record.topic, partition: record.partition, key: key, value: value, headers: record.headers,
                    timestamp: record.timestamp)
            }
        }
    }

    /// Adds consumer-group offsets to the current transaction: they are committed for `group` exactly when the
    /// transaction commits (and never if it aborts). `metadata` strings travel with them.
    public func sendOffsets(_ offsets: [KafkaGroupOffset], group: String, timeout: Duration = .seconds(30)) throws(KafkaError) {
        let list = TopicPartitionList(offsets.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
        defer { list.destroy() }
        for (element, offset) in zip(list.elements, offsets) {
            element.pointee.offset = offset.offset ?? -1001  // RD_KAFKA_OFFSET_INVALID
            if !offset.metadata.isEmpty {
                // Freed by the list's destroy (with free), so allocated with malloc.
                let bytes = Array(offset.metadata.utf8)
                let copy = malloc(bytes.count)!
                bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                element.pointee.metadata = copy
                element.pointee.metadata_size = bytes.count
            }
        }
        let groupMetadata = floe_rd_kafka_consumer_group_metadata_new(group)
        defer { floe_rd_kafka_consumer_group_metadata_destroy(groupMetadata) }
        try check(floe_rd_kafka_send_offsets_to_transaction(handle.pointer, list.pointer, groupMetadata, milliseconds(timeout)))
    }

    /// Flushes and commits the current transaction. A failed delivery in it surfaces here (kind `.abortRequired`).
    public func commitTransaction(timeout: Duration = .seconds(60)) throws(KafkaError) {
        try check(floe_rd_kafka_commit_transaction(handle.pointer, milliseconds(timeout)))
        if let failure = takeDeliveryFailure() { throw failure }
    }

    /// Aborts the current transaction: its records and offsets are discarded.
    public func abortTransaction(timeout: Duration = .seconds(60)) throws(KafkaError) {
        try check(floe_rd_kafka_abort_transaction(handle.pointer, milliseconds(timeout)))
        clearDeliveryFailure()
    }

    /// Waits until every record sent so far is delivered (or failed), and raises the first failure.
    public func flush(timeout: Duration = .seconds(60)) throws(KafkaError) {
        let err = floe_rd_kafka_flush(handle.pointer, milliseconds(timeout))
        if let failure = takeDeliveryFailure() { throw failure }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw handle.error(err, "could not flush the producer") }
    }

    // MARK: Helpers

    private func check(_ error: OpaquePointer?) throws(KafkaError) {
        if let error { throw KafkaError(consuming: error, handle: handle.pointer) }
    }

    private func takeDeliveryFailure() -> KafkaError? {
        handle.context.deliveryFailure.withLock { failure in
            defer { failure = nil }
            return failure
        }
    }

    private func clearDeliveryFailure() {
        handle.context.deliveryFailure.withLock { $0 = nil }
    }

    private func makeHeaders(_ headers: [KafkaHeader]) throws(KafkaError) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let list = floe_rd_kafka_headers_new(headers.count)!
        for header in headers {
            let err: rd_kafka_resp_err_t =
                if let value = header.value {
                    value.withUnsafeBytes { bytes in
                        floe_rd_kafka_header_add(list, header.name, -1, Self.payloadPointer(bytes), bytes.count)
                    }
                } else {
                    floe_rd_kafka_header_add(list, header.name, -1, nil, 0)
                }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                floe_rd_kafka_headers_destroy(list)
                throw KafkaError(err, context: "header \(header.name)")
            }
        }
        return list
    }

    /// A payload's address for librdkafka: nil means null, so an empty but present buffer (whose base address
    /// may be nil) gets a valid address with length 0.
    private static func payloadPointer(_ buffer: UnsafeRawBufferPointer?) -> UnsafeMutableRawPointer? {
        guard let buffer else { return nil }
        return UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafeRawPointer(emptyPayload))
    }
}

/// A valid address for empty payloads (never read: its length is 0).
nonisolated(unsafe) private let emptyPayload = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

private func withOptionalBytes<T>(
    _ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws(KafkaError) -> T
) throws(KafkaError) -> T {
    guard let bytes else { return try body(nil) }
    let result: Result<T, KafkaError> = bytes.withUnsafeBytes { buffer in Result { () throws(KafkaError) -> T in try body(buffer) } }
    return try result.get()
}

/// A record to produce, held in arrays (for callers that have them; the engine's sink can send from buffers).
public struct KafkaProducerRecord: Sendable, Hashable {
    public var topic: String
    /// nil: partition by key (murmur2).
    public var partition: Int32?
    public var key: [UInt8]?
    /// nil: a tombstone.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch; nil: now.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}
