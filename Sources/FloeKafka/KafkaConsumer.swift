// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import CRdKafka
public import Logging

/// A Kafka consumer that reads partitions it is told to read, from offsets it is told, without a consumer group
/// protocol: no subscription, no rebalances, no offset commits. Floe's sources keep their positions in their own
/// checkpoints, so a group would only add coordination (and another owner of the positions).
///
/// It reads with `isolation.level=read_committed` by default (records of open or aborted transactions are never
/// returned) and, by default, reports the end of each partition (`Event.endOfPartition`) so bounded reads know
/// when they are done.
///
/// Reading: `poll` blocks up to its timeout (for the engine's dataflow threads). An async driver instead polls
/// with a zero timeout and, when nothing came, awaits `waitForData()`, which librdkafka's queue event callback
/// resumes as soon as something arrives — no polling loop, no thread parked per consumer.
///
/// Ownership: one owner at a time (the source's dataflow thread, or the task that drives it); `poll`, `assign`,
/// `seek` and `close` must not run concurrently. `wakeUp()` (from anywhere) is the exception. `@unchecked
/// Sendable` lets the owner move between threads. Every message librdkafka returns is destroyed before `poll`
/// returns; `close()` (or the last reference going away) leaves the partitions and releases the handle.
public final class KafkaConsumer: @unchecked Sendable {
    /// How to read.
    public struct Options: Sendable, Hashable {
        public var isolation: KafkaIsolationLevel
        /// Report reaching the end of a partition (`Event.endOfPartition`): needed by bounded reads.
        public var reportEndOfPartition: Bool
        /// Where to restart when an assigned offset is no longer (or not yet) in the partition: `earliest`,
        /// `latest`, or `error` (report `_AUTO_OFFSET_RESET` as an error event).
        public var offsetResetPolicy: String
        /// The group whose committed offsets `committedOffsets` reads (the consumer never joins it); nil for none.
        public var groupID: String?

        public init(
            isolation: KafkaIsolationLevel = .readCommitted, reportEndOfPartition: Bool = true, offsetResetPolicy: String = "earliest",
            groupID: String? = nil
        ) {
            self.isolation = isolation
            self.reportEndOfPartition = reportEndOfPartition
            self.offsetResetPolicy = offsetResetPolicy
            self.groupID = groupID
        }
    }

    /// What `poll` returns, in the order librdkafka delivered it.
    public enum Event: Sendable, Hashable {
        case record(KafkaRecord)
        /// Everything up to (not including) `offset` in the partition has been returned; more may come later.
        case endOfPartition(KafkaTopicPartition, offset: Int64)
        /// A consumer error for a partition (an unknown topic, an offset out of range with policy `error`) or the
        /// client; `isFatal` ones mean the consumer cannot continue.
        case error(KafkaError)
    }

    /// One message as `poll(maxMessages:timeout:_:)` hands it over: key and value point into librdkafka's buffer
    /// and are valid only until the closure returns (copy what must outlive it; `record()` copies everything).
    public struct MessageView {
        public let topic: String
        public let partition: Int32
        public let offset: Int64
        /// Milliseconds since the epoch, or nil when `timestampType` is `notAvailable`.
        public let timestamp: Int64?
        public let timestampType: KafkaTimestampType
        /// nil for a null key.
        public let key: UnsafeRawBufferPointer?
        /// nil for a null value (a tombstone).
        public let value: UnsafeRawBufferPointer?
        fileprivate let message: UnsafeMutablePointer<rd_kafka_message_t>

        /// The record's headers, copied (read only when needed: most records of most tables have none).
        public func headers() -> [KafkaHeader] {
            var list: OpaquePointer?
            guard floe_rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
            var headers: [KafkaHeader] = []
            var index = 0
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while floe_rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(
                    KafkaHeader(
                        name: name.map { String(cString: $0) } ?? "",
                        value: value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                index += 1
            }
            return headers
        }

        /// A copy that owns its bytes.
        public func record() -> KafkaRecord {
            KafkaRecord(
                topic: topic, partition: partition, offset: offset, timestamp: timestamp, timestampType: timestampType,
                key: key.map { Array($0) }, value: value.map { Array($0) }, headers: headers())
        }
    }

    /// What `poll(maxMessages:timeout:_:)` hands its closure.
    public enum Item {
        case message(MessageView)
        case endOfPartition(KafkaTopicPartition, offset: Int64)
        case error(KafkaError)
    }

    private let handle: ClientHandle
    private let groupID: String?
    private let queue: OpaquePointer
    private let batch: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private let batchCapacity: Int
    private var topicNames: [OpaquePointer: String] = [:]
    private var closed = false

    /// A consumer for the cluster `configuration` reaches; it reads nothing until `assign`. `maxBatch` bounds
    /// how many messages one `poll` takes from librdkafka.
    public init(configuration: KafkaConfiguration, options: Options = Options(), maxBatch: Int = 4096, logger: Logger) throws(KafkaError) {
        var configuration = configuration
        configuration["isolation.level"] = options.isolation.rawValue
        configuration["enable.partition.eof"] = options.reportEndOfPartition ? "true" : "false"
        configuration["auto.offset.reset"] = options.offsetResetPolicy
        configuration["enable.auto.commit"] = "false"
        configuration["enable.auto.offset.store"] = "false"
        configuration["allow.auto.create.topics"] = "false"
        // librdkafka routes assigned partitions' messages to the consumer queue only when the handle has a group;
        // the group is never joined (no subscribe) and never committed to.
        configuration["group.id"] = options.groupID ?? "floe-assign-only"
        if configuration["fetch.wait.max.ms"] == nil { configuration["fetch.wait.max.ms"] = "100" }
        handle = try ClientHandle(consumer: true, configuration: configuration, logger: logger)
        groupID = options.groupID
        queue = floe_rd_kafka_queue_get_consumer(handle.pointer)!
        batchCapacity = max(1, maxBatch)
        batch = .allocate(capacity: batchCapacity)
        floe_rd_kafka_queue_cb_event_enable(queue, queueEventCallback, Unmanaged.passUnretained(handle.context).toOpaque())
    }

    deinit {
        close()
        batch.deallocate()
    }

    /// Reads exactly these partitions from these offsets (replacing any earlier assignment).
    public func assign(_ partitions: [KafkaTopicPartition: KafkaStartOffset]) throws(KafkaError) {
        let list = TopicPartitionList(partitions.keys.sorted(by: partitionOrder))
        defer { list.destroy() }
        for element in list.elements {
            let key = KafkaTopicPartition(topic: String(cString: element.pointee.topic), partition: element.pointee.partition)
            element.pointee.offset = partitions[key]!.rawValue
        }
        let err = floe_rd_kafka_assign(handle.pointer, list.pointer)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw handle.error(err, "could not assign partitions") }
    }

    /// Moves an assigned partition's read position (records already fetched from the old position are dropped).
    public func seek(_ partition: KafkaTopicPartition, to offset: KafkaStartOffset, timeout: Duration = .seconds(10)) throws(KafkaError) {
        let list = TopicPartitionList([partition])
        defer { list.destroy() }
        list.elements[0].pointee.offset = offset.rawValue
        if let error = floe_rd_kafka_seek_partitions(handle.pointer, list.pointer, milliseconds(timeout)) {
            throw KafkaError(consuming: error, handle: handle.pointer)
        }
        let err = list.elements[0].pointee.err
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "could not seek \(partition)") }
    }

    /// Takes up to `maxMessages` (at most `maxBatch`) messages and events, waiting up to `timeout` for the first,
    /// and hands each to `body` in order. Returns how many were handed over. Every message is released before
    /// this returns, also when `body` throws (the ones after it are then dropped: seek back to re-read them).
    @discardableResult
    public func poll<Failure: Error>(
        maxMessages: Int, timeout: Duration, _ body: (Item) throws(Failure) -> Void
    ) throws(Failure) -> Int {
        guard !closed else { return 0 }
        // The main queue (error callbacks) is separate from the consumer queue; serve it so it cannot grow.
        _ = floe_rd_kafka_poll(handle.pointer, 0)
        let received = floe_rd_kafka_consume_batch_queue(queue, milliseconds(timeout), batch, min(max(1, maxMessages), batchCapacity))
        guard received > 0 else {
            if received < 0 { try body(.error(handle.error(RD_KAFKA_RESP_ERR__FAIL, "could not read from the consumer queue"))) }
            return 0
        }
        let count = Int(received)
        var next = 0
        defer {
            for index in next..<count { floe_rd_kafka_message_destroy(batch[index]!) }
        }
        while next < count {
            let message = batch[next]!
            defer {
                floe_rd_kafka_message_destroy(message)
                next += 1
            }
            try body(item(for: message))
        }
        return count
    }

    /// `poll` with every message copied out: simpler, for callers that keep records or are not hot.
    public func poll(maxRecords: Int, timeout: Duration) -> [Event] {
        var events: [Event] = []
        poll(maxMessages: maxRecords, timeout: timeout) { (item: Item) -> Void in
            switch item {
            case .message(let view): events.append(.record(view.record()))
            case .endOfPartition(let partition, let offset): events.append(.endOfPartition(partition, offset: offset))
            case .error(let error): events.append(.error(error))
            }
        }
        return events
    }

    /// Returns once the consumer has something to read (or was closed, woken with `wakeUp()`, or the task was
    /// cancelled) — possibly right away, if something arrived since the last wait. Call it after a poll that
    /// returned nothing: librdkafka signals when its queue goes from empty to non-empty, and the signal is kept
    /// until this consumes it, so an arrival between that poll and this call is not missed. A wake-up may be
    /// spurious (the data was already taken by a poll); poll again, then wait again.
    public func waitForData() async {
        await handle.context.wait()
    }

    /// Resumes a pending `waitForData()` (for a driver that is stopping); safe from any thread.
    public func wakeUp() {
        handle.context.signal()
    }

    /// The committed offsets of `options.groupID` (the group is only read, never joined); fails without one.
    public func committedOffsets(_ partitions: [KafkaTopicPartition], timeout: Duration) throws(KafkaError) -> [KafkaGroupOffset] {
        guard groupID != nil else {
            throw KafkaError(code: .invalidArgument, message: "committed offsets need a consumer group: set Options.groupID")
        }
        return try handle.committed(partitions, timeout: timeout)
    }

    /// A partition's watermarks, as this consumer's isolation level sees them.
    public func watermarks(_ partition: KafkaTopicPartition, timeout: Duration) throws(KafkaError) -> KafkaWatermarks {
        try handle.watermarks(partition, timeout: timeout)
    }

    /// See `KafkaAdmin.offsetsForTimes`.
    public func offsetsForTimes(
        _ timestamps: [KafkaTopicPartition: Int64], timeout: Duration
    ) throws(KafkaError) -> [KafkaTopicPartition: KafkaStartOffset] {
        try handle.offsetsForTimes(timestamps, timeout: timeout)
    }

    /// Stops reading, releases the consumer queue and wakes any waiter. Idempotent; the handle itself goes with
    /// the last reference.
    public func close() {
        guard !closed else { return }
        closed = true
        // No more callbacks into a queue that is going away.
        floe_rd_kafka_queue_cb_event_enable(queue, nil, nil)
        floe_rd_kafka_queue_destroy(queue)
        _ = floe_rd_kafka_consumer_close(handle.pointer)
        handle.context.signal(closing: true)
    }

    private func item(for message: UnsafeMutablePointer<rd_kafka_message_t>) -> Item {
        let m = message.pointee
        let topic = topicName(m.rkt)
        if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            return .endOfPartition(KafkaTopicPartition(topic: topic, partition: m.partition), offset: m.offset)
        }
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let detail = m.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: m.len), as: UTF8.self) }
            let place = m.rkt == nil ? "" : " \(topic)[\(m.partition)]"
            var error = KafkaError(m.err, context: "consumer\(place)")
            if let detail, !detail.isEmpty { error.message = "consumer\(place): \(detail)" }
            if m.err == RD_KAFKA_RESP_ERR__FATAL { error.isFatal = true }
            return .error(error)
        }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = floe_rd_kafka_message_timestamp(message, &type)
        let timestampType: KafkaTimestampType =
            switch type {
            case RD_KAFKA_TIMESTAMP_CREATE_TIME: .createTime
            case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: .logAppendTime
            default: .notAvailable
            }
        return .message(
            MessageView(
                topic: topic, partition: m.partition, offset: m.offset, timestamp: timestampType == .notAvailable ? nil : timestamp,
                timestampType: timestampType,
                key: m.key.map { UnsafeRawBufferPointer(start: $0, count: m.key_len) },
                value: m.payload.map { UnsafeRawBufferPointer(start: $0, count: m.len) },
                message: message))
    }

    /// Topic names by librdkafka topic handle: one string per topic, not one per message.
    private func topicName(_ topic: OpaquePointer?) -> String {
        guard let topic else { return "" }
        if let name = topicNames[topic] { return name }
        let name = String(cString: floe_rd_kafka_topic_name(topic))
        topicNames[topic] = name
        return name
    }
}
