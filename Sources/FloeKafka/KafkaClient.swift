// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import CRdKafka
import Logging
import Synchronization

/// What librdkafka's callbacks need from the Swift side of one client, reached through the handle's opaque
/// pointer. It outlives the `rd_kafka_t` (released only after `rd_kafka_destroy` returns, when no librdkafka thread
/// can call back any more), and everything in it is safe to touch from librdkafka's threads.
final class ClientContext: Sendable {
    let logger: Logger
    /// The latest error librdkafka reported through `error_cb` (a broker down, a connection refused): the reason
    /// behind a metadata call that only says "timed out".
    let lastError = Mutex<String?>(nil)
    /// The first delivery report that failed since the last `resetDeliveryFailure()` (producers only).
    let deliveryFailure = Mutex<KafkaError?>(nil)
    /// The consumer's "data arrived" signal and its waiter (consumers only).
    let wake = Mutex(WakeState())

    struct WakeState {
        /// Set when something arrived while nobody waited; the next wait consumes it and returns at once.
        var signaled = false
        /// Set for good when the consumer closes: every wait returns at once.
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    init(logger: Logger) {
        self.logger = logger
    }

    /// Something arrived: resume the waiter, or keep the signal for the next wait. Resumes outside the lock.
    func signal(closing: Bool = false) {
        let waiter = wake.withLock { state -> CheckedContinuation<Void, Never>? in
            if closing { state.closed = true }
            guard let waiter = state.waiter else {
                state.signaled = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits for `signal` (returns at once if one is pending or the consumer closed).
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (resumeNow, replaced) = wake.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                    if state.signaled || state.closed {
                        state.signaled = false
                        return (true, nil)
                    }
                    // One waiter at a time (the consumer's owner); a second one displaces the first, which
                    // returns as if woken.
                    defer { state.waiter = continuation }
                    return (false, state.waiter)
                }
                replaced?.resume()
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}

// librdkafka's callbacks: plain C functions (no captures) that find their `ClientContext` through the opaque.

private func context(of handle: OpaquePointer?) -> ClientContext? {
    guard let handle, let opaque = floe_rd_kafka_opaque(handle) else { return nil }
    return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
}

/// librdkafka's log lines go to swift-log at debug: they are diagnostics (reconnects, retries), and anything a
/// caller must act on also arrives as an error. librdkafka never prints secret property values.
private let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, line in
    guard let context = context(of: handle), let line else { return }
    context.logger.debug(
        "\(String(cString: line))",
        metadata: ["rdkafka.facility": "\(facility.map { String(cString: $0) } ?? "")", "rdkafka.level": "\(level)"])
}

private let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    handle, err, reason, _ in
    guard let context = context(of: handle) else { return }
    let text = reason.map { String(cString: $0) } ?? String(cString: floe_rd_kafka_err2str(rd_kafka_resp_err_t(err)))
    // "1/1 brokers are down" follows the error that says why (refused, unresolvable, TLS): keep the latter.
    let summaryOnly = err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue
    context.lastError.withLock { if !summaryOnly || $0 == nil { $0 = text } }
    context.logger.debug(
        "librdkafka error: \(text)", metadata: ["rdkafka.error": "\(String(cString: floe_rd_kafka_err2name(rd_kafka_resp_err_t(err))))"])
}

/// Keeps the first failed delivery so the producer can raise it: inside a transaction it means the transaction
/// cannot commit, and outside one the record is lost — either way the caller must hear of it.
private let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    handle, message, _ in
    guard let message, message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR, let context = context(of: handle) else { return }
    let topic = message.pointee.rkt.map { String(cString: floe_rd_kafka_topic_name($0)) } ?? "?"
    let error = KafkaError(
        code: KafkaError.Code(message.pointee.err),
        message: "delivery to \(topic)[\(message.pointee.partition)] failed: \(String(cString: floe_rd_kafka_err2str(message.pointee.err)))",
        transactionRequiresAbort: true)
    context.deliveryFailure.withLock { if $0 == nil { $0 = error } }
}

/// The consumer queue went from empty to non-empty: wake the waiter. Runs on a librdkafka thread with the queue
/// locked, so it only flips a flag and resumes a continuation.
let queueEventCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, opaque in
    guard let opaque else { return }
    Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue().signal()
}

/// One `rd_kafka_t` and its context. The public clients own one each; it is destroyed with them.
final class ClientHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let context: ClientContext
    private let retainedContext: Unmanaged<ClientContext>

    init(consumer: Bool, configuration: KafkaConfiguration, logger: Logger, deliveryReports: Bool = false) throws(KafkaError) {
        let conf = try configuration.makeConf()
        let context = ClientContext(logger: logger)
        let retained = Unmanaged.passRetained(context)
        floe_rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        floe_rd_kafka_conf_set_log_cb(conf, logCallback)
        floe_rd_kafka_conf_set_error_cb(conf, errorCallback)
        if deliveryReports {
            floe_rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        }
        let (handle, reason) = withErrorBuffer { floe_rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, $0, $1) }
        guard let handle else {
            // rd_kafka_new takes the configuration only when it succeeds.
            floe_rd_kafka_conf_destroy(conf)
            retained.release()
            throw KafkaError(code: .invalidArgument, message: "could not create a Kafka client: \(reason)")
        }
        self.pointer = handle
        self.context = context
        self.retainedContext = retained
        logger.debug("Kafka client created", metadata: ["kafka.config": "\(configuration)"])
    }

    deinit {
        floe_rd_kafka_destroy(pointer)
        retainedContext.release()
    }

    /// Serves librdkafka's main queue (error callbacks; it also grows if never served) and forgets the previous
    /// call's broker error, so a failure of the call that follows is explained by its own errors only.
    func beginCall() {
        _ = floe_rd_kafka_poll(pointer, 0)
        context.lastError.withLock { $0 = nil }
    }

    /// An error for a failed call, with the last broker-level error appended when librdkafka's own text is
    /// generic (a timeout or transport failure says nothing about *why*).
    func error(_ err: rd_kafka_resp_err_t, _ what: String) -> KafkaError {
        // librdkafka calls error_cb only from rd_kafka_poll: serve what is queued so `lastError` is current.
        _ = floe_rd_kafka_poll(pointer, 0)
        var error = KafkaError(err, context: what)
        if let detail = context.lastError.withLock({ $0 }) {
            error.message += " (\(detail))"
        }
        if err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT {
            error.isRetriable = true
        }
        return error
    }

    // MARK: Queries every client type can make

    func metadata(topic: String?, timeout: Duration) throws(KafkaError) -> KafkaClusterMetadata {
        beginCall()
        var topicHandle: OpaquePointer?
        if let topic {
            topicHandle = floe_rd_kafka_topic_new(pointer, topic, nil)
            if topicHandle == nil { throw KafkaError(code: .invalidArgument, message: "invalid topic name '\(topic)'") }
        }
        defer { if let topicHandle { floe_rd_kafka_topic_destroy(topicHandle) } }
        var raw: UnsafePointer<rd_kafka_metadata>?
        let err = floe_rd_kafka_metadata(pointer, topic == nil ? 1 : 0, topicHandle, &raw, milliseconds(timeout))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let raw else {
            throw error(err, "could not read the cluster's metadata")
        }
        defer { floe_rd_kafka_metadata_destroy(raw) }
        let md = raw.pointee
        let brokers = (0..<Int(md.broker_cnt)).map { index in
            let broker = md.brokers[index]
            return KafkaClusterMetadata.Broker(id: broker.id, host: String(cString: broker.host), port: Int(broker.port))
        }
        let topics = (0..<Int(md.topic_cnt)).map { index in
            let topic = md.topics[index]
            let name = String(cString: topic.topic)
            let partitions = (0..<Int(topic.partition_cnt)).map { index in
                let partition = topic.partitions[index]
                return KafkaTopicMetadata.Partition(
                    id: partition.id, leader: partition.leader,
                    replicas: Array(UnsafeBufferPointer(start: partition.replicas, count: Int(partition.replica_cnt))),
                    inSyncReplicas: Array(UnsafeBufferPointer(start: partition.isrs, count: Int(partition.isr_cnt))))
            }.sorted { $0.id < $1.id }
            return KafkaTopicMetadata(
                name: name, partitions: partitions,
                error: topic.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(topic.err, context: "topic \(name)"))
        }
        // The cluster id arrived with the metadata just read, so this does not wait on the network.
        var clusterID: String?
        if let id = floe_rd_kafka_clusterid(pointer, 0) {
            clusterID = String(cString: id)
            floe_rd_kafka_mem_free(pointer, id)
        }
        return KafkaClusterMetadata(clusterID: clusterID, brokers: brokers, topics: topics.sorted { $0.name < $1.name })
    }

    func watermarks(_ partition: KafkaTopicPartition, timeout: Duration) throws(KafkaError) -> KafkaWatermarks {
        beginCall()
        var low: Int64 = 0
        var high: Int64 = 0
        let err = floe_rd_kafka_query_watermark_offsets(pointer, partition.topic, partition.partition, &low, &high, milliseconds(timeout))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw error(err, "could not read the watermarks of \(partition)") }
        return KafkaWatermarks(low: low, high: high)
    }

    func offsetsForTimes(_ timestamps: [KafkaTopicPartition: Int64], timeout: Duration) throws(KafkaError) -> [KafkaTopicPartition: KafkaStartOffset]
    {
        beginCall()
        let list = TopicPartitionList(timestamps.keys.sorted(by: partitionOrder))
        defer { list.destroy() }
        for element in list.elements {
            let key = KafkaTopicPartition(topic: String(cString: element.pointee.topic), partition: element.pointee.partition)
            element.pointee.offset = timestamps[key]!
        }
        let err = floe_rd_kafka_offsets_for_times(pointer, list.pointer, milliseconds(timeout))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw error(err, "could not look up offsets by time") }
        var result: [KafkaTopicPartition: KafkaStartOffset] = [:]
        for element in list.elements {
            let key = KafkaTopicPartition(topic: String(cString: element.pointee.topic), partition: element.pointee.partition)
            if element.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(element.pointee.err, context: "could not look up the offset by time of \(key)")
            }
            // -1 (RD_KAFKA_OFFSET_END): no record at or after the time.
            result[key] = element.pointee.offset >= 0 ? .offset(element.pointee.offset) : .end
        }
        return result
    }

    /// The committed offsets of the handle's `group.id` (only a consumer handle with one can ask).
    func committed(_ partitions: [KafkaTopicPartition], timeout: Duration) throws(KafkaError) -> [KafkaGroupOffset] {
        beginCall()
        let list = TopicPartitionList(partitions)
        defer { list.destroy() }
        let err = floe_rd_kafka_committed(pointer, list.pointer, milliseconds(timeout))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw error(err, "could not read committed offsets") }
        var result: [KafkaGroupOffset] = []
        for element in list.elements {
            let e = element.pointee
            let topic = String(cString: e.topic)
            if e.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(e.err, context: "could not read the committed offset of \(topic)[\(e.partition)]")
            }
            var metadata = ""
            if let bytes = e.metadata, e.metadata_size > 0 {
                metadata = String(decoding: UnsafeRawBufferPointer(start: bytes, count: e.metadata_size), as: UTF8.self)
            }
            result.append(KafkaGroupOffset(topic: topic, partition: e.partition, offset: e.offset >= 0 ? e.offset : nil, metadata: metadata))
        }
        return result
    }
}

func partitionOrder(_ a: KafkaTopicPartition, _ b: KafkaTopicPartition) -> Bool {
    (a.topic, a.partition) < (b.topic, b.partition)
}

/// An `rd_kafka_topic_partition_list_t` built from Swift values; the caller destroys it (`destroy()`), which also
/// frees any metadata attached with `malloc` (librdkafka frees element metadata with `free`).
struct TopicPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(_ partitions: [KafkaTopicPartition]) {
        pointer = floe_rd_kafka_topic_partition_list_new(Int32(clamping: max(1, partitions.count)))
        for partition in partitions {
            _ = floe_rd_kafka_topic_partition_list_add(pointer, partition.topic, partition.partition)
        }
    }

    var elements: [UnsafeMutablePointer<rd_kafka_topic_partition_t>] {
        (0..<Int(pointer.pointee.cnt)).map { pointer.pointee.elems + $0 }
    }

    func destroy() { floe_rd_kafka_topic_partition_list_destroy(pointer) }
}

/// What a metadata request returned: the cluster, its brokers and (some or all of) its topics.
public struct KafkaClusterMetadata: Sendable, Hashable {
    public struct Broker: Sendable, Hashable {
        public var id: Int32
        public var host: String
        public var port: Int
    }

    /// The cluster's id (KIP-78), or nil from brokers too old to report one.
    public var clusterID: String?
    public var brokers: [Broker]
    /// Sorted by name.
    public var topics: [KafkaTopicMetadata]
}

/// One topic as metadata describes it.
public struct KafkaTopicMetadata: Sendable, Hashable {
    public struct Partition: Sendable, Hashable {
        public var id: Int32
        /// The leader broker's id, or -1 when the partition has none right now.
        public var leader: Int32
        public var replicas: [Int32]
        public var inSyncReplicas: [Int32]
    }

    public var name: String
    /// Sorted by id.
    public var partitions: [Partition]
    /// The broker's error for this topic (`UNKNOWN_TOPIC_OR_PART` when it does not exist), or nil.
    public var error: KafkaError?

    public var partitionCount: Int { partitions.count }
    /// The replica count of the first partition (Kafka gives every partition of a topic the same by default).
    public var replicationFactor: Int { partitions.first?.replicas.count ?? 0 }
    /// Whether Kafka manages the topic itself (`__consumer_offsets`, `__transaction_state`): Metadata v0, which
    /// librdkafka 2.0.2 exposes, carries no flag, and these two are the topics Kafka's own flag marks.
    public var isInternal: Bool { name == "__consumer_offsets" || name == "__transaction_state" }
}
