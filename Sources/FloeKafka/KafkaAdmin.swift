// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import CRdKafka
import Dispatch
public import Logging

/// Cluster-level operations on one Kafka cluster: metadata (the `cmk/v2` prober, topic listings), topic DDL,
/// topic configuration, offsets and consumer groups.
///
/// Every method blocks its thread until the broker answers or the timeout passes. Engine threads and DDL call them
/// directly; async callers (the control plane) go through `run(_:)`, which moves the call onto the admin's own
/// serial dispatch queue instead of blocking a thread of Swift's cooperative pool.
///
/// Thread safety: librdkafka's admin and metadata calls are thread-safe and this class keeps no mutable state of
/// its own, so one admin may be shared by any number of threads and tasks (hence `@unchecked Sendable`: its only
/// stored non-Sendable value is the `rd_kafka_t` pointer). Keep one per attached cluster; it holds a few librdkafka
/// threads and a broker connection while it lives, and everything is released when the last reference goes.
public final class KafkaAdmin: @unchecked Sendable {
    private let handle: ClientHandle
    private let configuration: KafkaConfiguration
    private let logger: Logger
    private let queue = DispatchQueue(label: "floe.kafka.admin")

    /// An admin client for the cluster `configuration` reaches. Creating it does not contact the cluster (the
    /// first call does). Its watermark queries see what a consumer with `isolation` would.
    public init(configuration: KafkaConfiguration, isolation: KafkaIsolationLevel = .readCommitted, logger: Logger) throws(KafkaError) {
        // A consumer-type handle without a group.id: it can run admin requests and the offset queries, and its
        // isolation.level (a consumer setting, ignored by producer handles) applies to the watermark queries.
        var configuration = configuration
        configuration["isolation.level"] = isolation.rawValue
        configuration["enable.auto.commit"] = "false"
        configuration["allow.auto.create.topics"] = "false"
        self.configuration = configuration
        self.logger = logger
        self.handle = try ClientHandle(consumer: true, configuration: configuration, logger: logger)
    }

    /// Runs `body` (a sequence of this admin's blocking calls) on the admin's queue and returns its result, so an
    /// async caller never blocks the cooperative pool. Calls run one at a time per admin; cancellation is not
    /// observed — every call is bounded by its own timeout.
    public func run<T: Sendable>(_ body: @escaping @Sendable (KafkaAdmin) throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(KafkaError) -> T in try body(self) })
            }
        }
        return try result.get()
    }

    // MARK: Metadata

    /// The cluster's id, brokers and every topic. An unreachable cluster fails within `timeout` with the broker
    /// error behind it (for example `Connect to ipv4#127.0.0.1:1 failed: Connection refused`).
    public func metadata(timeout: Duration) throws(KafkaError) -> KafkaClusterMetadata {
        try handle.metadata(topic: nil, timeout: timeout)
    }

    /// One topic's metadata, or nil when the topic does not exist.
    public func topic(_ name: String, timeout: Duration) throws(KafkaError) -> KafkaTopicMetadata? {
        let metadata = try handle.metadata(topic: name, timeout: timeout)
        guard let topic = metadata.topics.first(where: { $0.name == name }) else { return nil }
        if let error = topic.error {
            if error.code == .unknownTopicOrPartition || error.code == .unknownTopic { return nil }
            throw error
        }
        return topic
    }

    // MARK: Topics

    /// Creates a topic. `replicationFactor` -1 asks for the broker's default (`default.replication.factor`);
    /// `configs` are topic configurations (`cleanup.policy`, `retention.ms`, …). Fails with `topicAlreadyExists`
    /// when it exists.
    public func createTopic(
        _ name: String, partitions: Int, replicationFactor: Int = 1, configs: [String: String] = [:], timeout: Duration
    ) throws(KafkaError) {
        let (newTopic, reason) = withErrorBuffer {
            floe_rd_kafka_NewTopic_new(name, Int32(clamping: partitions), Int32(clamping: replicationFactor), $0, $1)
        }
        guard let newTopic else { throw KafkaError(code: .invalidArgument, message: "cannot create topic \(name): \(reason)") }
        defer { floe_rd_kafka_NewTopic_destroy(newTopic) }
        for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
            let err = floe_rd_kafka_NewTopic_set_config(newTopic, key, value)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "topic config \(key)") }
        }
        try adminRequest(RD_KAFKA_ADMIN_OP_CREATETOPICS, "create topic \(name)", timeout: timeout) { options, queue in
            var topics: [OpaquePointer?] = [newTopic]
            floe_rd_kafka_CreateTopics(handle.pointer, &topics, 1, options, queue)
        } result: { event throws(KafkaError) in
            var count = 0
            let results = floe_rd_kafka_CreateTopics_result_topics(floe_rd_kafka_event_CreateTopics_result(event), &count)
            try Self.checkTopicResults(results, count: count, "create topic")
        }
    }

    /// Deletes a topic (and its records). Fails with `unknownTopicOrPartition` when it does not exist.
    public func deleteTopic(_ name: String, timeout: Duration) throws(KafkaError) {
        let deleteTopic = floe_rd_kafka_DeleteTopic_new(name)
        defer { floe_rd_kafka_DeleteTopic_destroy(deleteTopic) }
        try adminRequest(RD_KAFKA_ADMIN_OP_DELETETOPICS, "delete topic \(name)", timeout: timeout) { options, queue in
            var topics: [OpaquePointer?] = [deleteTopic]
            floe_rd_kafka_DeleteTopics(handle.pointer, &topics, 1, options, queue)
        } result: { event throws(KafkaError) in
            var count = 0
            let results = floe_rd_kafka_DeleteTopics_result_topics(floe_rd_kafka_event_DeleteTopics_result(event), &count)
            try Self.checkTopicResults(results, count: count, "delete topic")
        }
    }

    private static func checkTopicResults(_ results: UnsafeMutablePointer<OpaquePointer?>?, count: Int, _ what: String) throws(KafkaError) {
        for index in 0..<count {
            guard let result = results?[index] else { continue }
            let err = floe_rd_kafka_topic_result_error(result)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let name = String(cString: floe_rd_kafka_topic_result_name(result))
                let detail =
                    floe_rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? String(cString: floe_rd_kafka_err2str(err))
                throw KafkaError(code: KafkaError.Code(err), message: "could not \(what) \(name): \(detail)")
            }
        }
    }

    // MARK: Topic configuration

    /// Every configuration entry of a topic (defaults included), sorted by name.
    public func describeTopicConfigs(_ topic: String, timeout: Duration) throws(KafkaError) -> [KafkaConfigEntry] {
        let resource = floe_rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)
        defer { floe_rd_kafka_ConfigResource_destroy(resource) }
        return try adminRequest(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, "describe the configs of topic \(topic)", timeout: timeout) {
            options, queue in
            var resources: [OpaquePointer?] = [resource]
            floe_rd_kafka_DescribeConfigs(handle.pointer, &resources, 1, options, queue)
        } result: { event throws(KafkaError) -> [KafkaConfigEntry] in
            var count = 0
            let resources = floe_rd_kafka_DescribeConfigs_result_resources(floe_rd_kafka_event_DescribeConfigs_result(event), &count)
            guard count > 0, let described = resources?[0] else {
                throw KafkaError(code: .fail, message: "describe the configs of topic \(topic): the broker returned no resource")
            }
            try Self.checkResource(described, "describe the configs of topic \(topic)")
            var entryCount = 0
            let entries = floe_rd_kafka_ConfigResource_configs(described, &entryCount)
            return (0..<entryCount).compactMap { index -> KafkaConfigEntry? in
                guard let entry = entries?[index] else { return nil }
                return KafkaConfigEntry(
                    name: String(cString: floe_rd_kafka_ConfigEntry_name(entry)),
                    value: floe_rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) },
                    source: KafkaConfigEntry.Source(floe_rd_kafka_ConfigEntry_source(entry)),
                    isDefault: floe_rd_kafka_ConfigEntry_is_default(entry) != 0,
                    isReadOnly: floe_rd_kafka_ConfigEntry_is_read_only(entry) != 0,
                    isSensitive: floe_rd_kafka_ConfigEntry_is_sensitive(entry) != 0)
            }.sorted { $0.name < $1.name }
        }
    }

    /// Sets and resets topic configurations, keeping the others the topic has.
    ///
    /// librdkafka 2.0.2 has no incremental AlterConfigs (KIP-339, librdkafka 2.2), and the classic AlterConfigs
    /// *replaces* a topic's whole dynamic configuration. So this reads the topic's current dynamic settings, applies
    /// `set` and `reset`, and writes the full result back. A concurrent change by another client between the read
    /// and the write is lost (the classic API offers no compare-and-set). A dynamic setting whose value the broker
    /// hides (a sensitive one) cannot be carried over, so that case fails rather than dropping it.
    public func alterTopicConfigs(
        _ topic: String, set: [String: String], reset: Set<String> = [], timeout: Duration
    ) throws(KafkaError) {
        var desired: [String: String] = [:]
        for entry in try describeTopicConfigs(topic, timeout: timeout) where entry.source == .dynamicTopic {
            guard let value = entry.value else {
                if set[entry.name] != nil || reset.contains(entry.name) { continue }
                throw KafkaError(
                    code: .invalidConfig,
                    message: "cannot alter the configs of topic \(topic): its setting \(entry.name) is sensitive and cannot be carried over")
            }
            desired[entry.name] = value
        }
        for name in reset { desired[name] = nil }
        desired.merge(set) { _, new in new }

        let resource = floe_rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)
        defer { floe_rd_kafka_ConfigResource_destroy(resource) }
        for (key, value) in desired.sorted(by: { $0.key < $1.key }) {
            let err = floe_rd_kafka_ConfigResource_set_config(resource, key, value)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "topic config \(key)") }
        }
        try adminRequest(RD_KAFKA_ADMIN_OP_ALTERCONFIGS, "alter the configs of topic \(topic)", timeout: timeout) { options, queue in
            var resources: [OpaquePointer?] = [resource]
            floe_rd_kafka_AlterConfigs(handle.pointer, &resources, 1, options, queue)
        } result: { event throws(KafkaError) in
            var count = 0
            let resources = floe_rd_kafka_AlterConfigs_result_resources(floe_rd_kafka_event_AlterConfigs_result(event), &count)
            for index in 0..<count {
                if let altered = resources?[index] { try Self.checkResource(altered, "alter the configs of topic \(topic)") }
            }
        }
    }

    private static func checkResource(_ resource: OpaquePointer, _ what: String) throws(KafkaError) {
        let err = floe_rd_kafka_ConfigResource_error(resource)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let detail =
                floe_rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) } ?? String(cString: floe_rd_kafka_err2str(err))
            throw KafkaError(code: KafkaError.Code(err), message: "could not \(what): \(detail)")
        }
    }

    // MARK: Offsets

    /// A partition's low and high watermarks (for the admin's isolation level: read_committed by default, so the
    /// high one is the last stable offset).
    public func watermarks(_ partition: KafkaTopicPartition, timeout: Duration) throws(KafkaError) -> KafkaWatermarks {
        try handle.watermarks(partition, timeout: timeout)
    }

    /// For each partition, where a read from a time (milliseconds since the epoch) starts: the first offset whose
    /// record's timestamp is at or after it, or `.end` when there is none. The result can be passed to `assign`.
    public func offsetsForTimes(
        _ timestamps: [KafkaTopicPartition: Int64], timeout: Duration
    ) throws(KafkaError) -> [KafkaTopicPartition: KafkaStartOffset] {
        try handle.offsetsForTimes(timestamps, timeout: timeout)
    }

    /// The offsets (and metadata strings) `group` has committed for `partitions`; `offset` is nil where it has none.
    ///
    /// Offsets are a group's, and librdkafka reads them only for the `group.id` of the asking handle, so this
    /// uses a short-lived consumer handle of that group which never joins it (no subscribe, no commit).
    /// Offsets committed by a transaction that is still open are not returned until it ends (KIP-447's
    /// stable-offset read, on with read_committed).
    public func committedOffsets(group: String, partitions: [KafkaTopicPartition], timeout: Duration) throws(KafkaError) -> [KafkaGroupOffset] {
        let groupHandle = try ClientHandle(consumer: true, configuration: configuration.merging(["group.id": group]), logger: logger)
        return try groupHandle.committed(partitions, timeout: timeout)
    }

    /// Deletes a consumer group and its committed offsets. Returns false when the group did not exist.
    @discardableResult
    public func deleteConsumerGroup(_ group: String, timeout: Duration) throws(KafkaError) -> Bool {
        let deleteGroup = floe_rd_kafka_DeleteGroup_new(group)
        defer { floe_rd_kafka_DeleteGroup_destroy(deleteGroup) }
        return try adminRequest(RD_KAFKA_ADMIN_OP_DELETEGROUPS, "delete consumer group \(group)", timeout: timeout) { options, queue in
            var groups: [OpaquePointer?] = [deleteGroup]
            floe_rd_kafka_DeleteGroups(handle.pointer, &groups, 1, options, queue)
        } result: { event throws(KafkaError) -> Bool in
            var count = 0
            let results = floe_rd_kafka_DeleteGroups_result_groups(floe_rd_kafka_event_DeleteGroups_result(event), &count)
            for index in 0..<count {
                // The per-group error belongs to the result (freed with the event): read it, do not destroy it.
                guard let result = results?[index], let error = floe_rd_kafka_group_result_error(result) else { continue }
                let code = floe_rd_kafka_error_code(error)
                if code == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND { return false }
                throw KafkaError(
                    code: KafkaError.Code(code),
                    message: "could not delete consumer group \(group): \(String(cString: floe_rd_kafka_error_string(error)))",
                    isRetriable: floe_rd_kafka_error_is_retriable(error) != 0)
            }
            return true
        }
    }

    // MARK: Admin requests

    /// Sends one admin request (`start` gets the options and the reply queue) and reads its reply event.
    private func adminRequest<T>(
        _ operation: rd_kafka_admin_op_t, _ what: String, timeout: Duration,
        start: (OpaquePointer, OpaquePointer) -> Void,
        result: (OpaquePointer) throws(KafkaError) -> T
    ) throws(KafkaError) -> T {
        handle.beginCall()
        let queue = floe_rd_kafka_queue_new(handle.pointer)!
        defer { floe_rd_kafka_queue_destroy(queue) }
        let options = floe_rd_kafka_AdminOptions_new(handle.pointer, operation)!
        defer { floe_rd_kafka_AdminOptions_destroy(options) }
        let timeoutMillis = milliseconds(timeout)
        _ = withErrorBuffer { floe_rd_kafka_AdminOptions_set_request_timeout(options, timeoutMillis, $0, $1) }
        if operation == RD_KAFKA_ADMIN_OP_CREATETOPICS || operation == RD_KAFKA_ADMIN_OP_DELETETOPICS {
            // Wait (within the timeout) until the controller has applied the change, so a metadata read that
            // follows sees it.
            _ = withErrorBuffer { floe_rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMillis, $0, $1) }
        }
        start(options, queue)
        // librdkafka answers with an error event once its request timeout passes; the margin covers scheduling.
        guard let event = floe_rd_kafka_queue_poll(queue, timeoutMillis &+ 1000) else {
            throw handle.error(RD_KAFKA_RESP_ERR__TIMED_OUT, "could not \(what)")
        }
        defer { floe_rd_kafka_event_destroy(event) }
        let err = floe_rd_kafka_event_error(event)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            var error = handle.error(err, "could not \(what)")
            if let detail = floe_rd_kafka_event_error_string(event) {
                error.message = "could not \(what): \(String(cString: detail))"
            }
            throw error
        }
        return try result(event)
    }
}

/// Which records a consumer (or an admin's watermark query) sees of transactional producers' output.
public enum KafkaIsolationLevel: String, Sendable, Hashable {
    /// Only records of committed transactions (and non-transactional ones), up to the last stable offset.
    case readCommitted = "read_committed"
    /// Everything appended, including records of open and aborted transactions.
    case readUncommitted = "read_uncommitted"
}

/// One configuration entry of a topic, as DescribeConfigs reports it.
public struct KafkaConfigEntry: Sendable, Hashable {
    /// Where the value comes from (Kafka's `ConfigSource`).
    public enum Source: String, Sendable, Hashable {
        case unknown = "UNKNOWN"
        case dynamicTopic = "DYNAMIC_TOPIC_CONFIG"
        case dynamicBroker = "DYNAMIC_BROKER_CONFIG"
        case dynamicDefaultBroker = "DYNAMIC_DEFAULT_BROKER_CONFIG"
        case staticBroker = "STATIC_BROKER_CONFIG"
        case `default` = "DEFAULT_CONFIG"

        init(_ source: rd_kafka_ConfigSource_t) {
            switch source {
            case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG: self = .dynamicTopic
            case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG: self = .dynamicBroker
            case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG: self = .dynamicDefaultBroker
            case RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG: self = .staticBroker
            case RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG: self = .default
            default: self = .unknown
            }
        }
    }

    public var name: String
    /// The value, or nil when the broker hides it (sensitive) or it has none.
    public var value: String?
    public var source: Source
    public var isDefault: Bool
    public var isReadOnly: Bool
    public var isSensitive: Bool

    public init(name: String, value: String?, source: Source, isDefault: Bool, isReadOnly: Bool, isSensitive: Bool) {
        self.name = name
        self.value = value
        self.source = source
        self.isDefault = isDefault
        self.isReadOnly = isReadOnly
        self.isSensitive = isSensitive
    }
}
