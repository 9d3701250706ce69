// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeSchemas

/// A topic of an attached Kafka cluster, as the catalog sees it.
public struct KafkaTopicInfo: Sendable, Equatable {
    public var name: String
    public var partitions: Int
    /// The topic's configs (`cleanup.policy`, `retention.ms`, …) as the broker reports them.
    public var configs: [String: String]
    /// Whether the broker marks it internal (`__consumer_offsets`, `__transaction_state`).
    public var isInternal: Bool

    public init(name: String, partitions: Int, configs: [String: String] = [:], isInternal: Bool = false) {
        self.name = name
        self.partitions = partitions
        self.configs = configs
        self.isInternal = isInternal
    }

    /// Whether the topic is a table: internal topics and those whose name starts with `_` are not (Confluent's rule).
    public var isTable: Bool { !isInternal && !name.hasPrefix("_") }
}

/// A Kafka cluster attached to an environment, as the engine uses it: the topics it holds and the DDL on them.
///
/// The engine knows nothing of librdkafka or of the control plane: the backend implements this over the Kafka
/// client for every PROVISIONED cluster of the statement's environment. Calls block, with timeouts, and fail with a
/// message that names the cluster; the engine makes them on its own threads (``EngineThreads``), never on the threads
/// that serve HTTP.
public protocol KafkaClusterClient: Sendable {
    /// Every topic, internal ones included (the caller filters).
    func listTopics() throws(SQLError) -> [KafkaTopicInfo]
    /// One topic, or nil when the cluster has none by that name.
    func describeTopic(_ name: String) throws(SQLError) -> KafkaTopicInfo?
    /// Creates a topic with `partitions` and `configs`; fails when it exists.
    func createTopic(_ name: String, partitions: Int, configs: [String: String]) throws(SQLError)
    /// Deletes a topic; fails when it does not exist.
    func deleteTopic(_ name: String) throws(SQLError)
    /// Sets the topic's configs to `configs` (the whole set: keys absent return to their defaults).
    func alterTopicConfigs(_ name: String, _ configs: [String: String]) throws(SQLError)
    /// The offsets `group` committed for `topic`'s `partitions` (partitions without one are absent).
    func committedOffsets(group: String, topic: String, partitions: [Int32]) throws(SQLError) -> [Int32: Int64]
    /// A reader of `topic`, of committed records only unless `readCommitted` is false.
    func openReader(topic: String, readCommitted: Bool) throws(SQLError) -> any KafkaTopicReader
    /// The writer of `topic` with `transactionalID` (also the name of its marker group), producing with `compression`
    /// (librdkafka's `compression.type`).
    func openWriter(topic: String, transactionalID: String, compression: String) throws(SQLError) -> any KafkaTopicWriter
}

/// A Kafka cluster attached to a statement's environment, which is a database of its catalog (Confluent's model:
/// an environment is a catalog, a Kafka cluster a database, a topic a table).
public struct KafkaDatabase: Sendable {
    /// The catalog (environment) it belongs to.
    public var catalogID: String
    /// The cluster's `lkc-…` id: a database name that always resolves to it.
    public var id: String
    /// The cluster's display name: the database name SHOW DATABASES prints.
    public var name: String
    public var cluster: any KafkaClusterClient
    /// The Schema Registry of its environment, where its tables' `<topic>-key` and `<topic>-value` schemas live; nil
    /// when the environment has none (its topics are then raw tables).
    public var registry: (any SchemaRegistry)?
    /// Its bootstrap servers (`host:port`, lowercased): an Apache Flink `kafka` table names the cluster by them.
    public var bootstrapServers: Set<String>
    /// How a URL names ``registry``: a URL ending in one of these (Floe's own registry's path, whatever host the
    /// client used; an external registry's whole URL) is it.
    public var registryAddresses: [String]
    /// How Apache Flink's `avro-confluent` format reaches ``registry`` (`url`, `basic-auth.*`), without the format's
    /// prefix; nil when a Flink cluster cannot.
    public var flinkRegistryOptions: [String: String]?
    /// The `properties.*` options with which Apache Flink's Kafka connectors reach the cluster (security protocol, SASL
    /// login, trusted certificates): what a Flink session's declaration of one of its topics adds.
    public var flinkProperties: [String: String]

    public init(
        catalogID: String, id: String, name: String, cluster: any KafkaClusterClient, registry: (any SchemaRegistry)?,
        bootstrap: String = "", registryAddresses: [String] = [], flinkRegistryOptions: [String: String]? = nil,
        flinkProperties: [String: String] = [:]
    ) {
        self.flinkRegistryOptions = flinkRegistryOptions
        self.flinkProperties = flinkProperties
        self.catalogID = catalogID
        self.id = id
        self.name = name
        self.cluster = cluster
        self.registry = registry
        self.bootstrapServers = Set(FlinkKafkaOptions.servers(bootstrap))
        self.registryAddresses = registryAddresses
    }

    /// Whether `url` (a format's `avro-confluent.url`) names this cluster's Schema Registry.
    func namesRegistry(_ url: String) -> Bool {
        var url = url.trimmingSpaces
        while url.hasSuffix("/") { url.removeLast() }
        return registry != nil && registryAddresses.contains { url.hasSuffix($0) }
    }
}

/// What a poll of a topic hands over, in order.
public enum KafkaReadItem {
    /// A record, borrowed: its bytes are valid only while the poll's visitor runs.
    case record(KafkaRecordView)
    /// Everything before `next` in the partition has been handed over.
    case endOfPartition(Int32, next: Int64)
}

/// One record as a poll hands it over, without copying its key, value or headers out of the client.
public struct KafkaRecordView {
    public enum TimestampType: String, Sendable {
        case none = "NoTimestampType"
        case createTime = "CreateTime"
        case logAppendTime = "LogAppendTime"
    }

    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the epoch (nil when the record has none).
    public var timestamp: Int64?
    public var timestampType: TimestampType
    /// nil: a null key or value (a tombstone has no value).
    public var key: UnsafeRawBufferPointer?
    public var value: UnsafeRawBufferPointer?
    /// The headers, in order: filled only when the poll asked for them.
    public var headers: [(name: String, value: [UInt8]?)]

    public init(
        partition: Int32, offset: Int64, timestamp: Int64?, timestampType: TimestampType, key: UnsafeRawBufferPointer?,
        value: UnsafeRawBufferPointer?, headers: [(name: String, value: [UInt8]?)]
    ) {
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Where reading a partition starts.
public enum KafkaReadPosition: Sendable, Equatable {
    case beginning
    case end
    case offset(Int64)
}

/// A reader of one topic's partitions at positions the caller chooses (no consumer group: the positions are the
/// statement's checkpointed state).
///
/// One owner (the source stage on an engine thread) calls it; ``dataArrival`` may be awaited from another task.
/// Reads see committed records only unless it was opened for uncommitted ones.
public protocol KafkaTopicReader: AnyObject, Sendable {
    /// Starts reading `positions`' partitions there (replacing an earlier assignment).
    func assign(_ positions: [Int32: KafkaReadPosition]) throws(SQLError)
    /// Hands what has arrived, up to `maxRecords` records, to `visit` in order without waiting; a record's bytes are
    /// valid only during its call, and its headers are read only when `withHeaders`. When `visit` throws, the rest
    /// of the poll is dropped and the error rethrown.
    func poll(maxRecords: Int, withHeaders: Bool, _ visit: (KafkaReadItem) throws(SQLError) -> Void) throws(SQLError)
    /// The offset after the last record each partition holds now (for committed reads, the last stable offset).
    func endOffsets(_ partitions: [Int32]) throws(SQLError) -> [Int32: Int64]
    /// The first offset whose record's timestamp is at or after `timestamp` (ms), per partition; the end offset
    /// when there is none.
    func offsets(atOrAfter timestamp: Int64, _ partitions: [Int32]) throws(SQLError) -> [Int32: Int64]
    /// Returns once records may have arrived since the last empty poll (possibly at once); captures no stage.
    var dataArrival: @Sendable () async -> Void { get }
    /// Stops reading and releases the connection.
    func close()
}

/// A record a Kafka table's sink writes.
public struct KafkaOutgoingRecord: Sendable {
    /// nil for no key (the producer picks a partition).
    public var key: [UInt8]?
    /// nil for a tombstone.
    public var value: [UInt8]?
    public var headers: [(name: String, value: [UInt8]?)]
    /// Milliseconds since the epoch (nil: the producer's clock).
    public var timestamp: Int64?

    public init(key: [UInt8]?, value: [UInt8]?, headers: [(name: String, value: [UInt8]?)] = [], timestamp: Int64? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// A transactional writer of one topic for one writer (a statement's INSERT), exactly once with Floe's checkpoints.
///
/// Each ``write(_:committedCount:)`` is one Kafka transaction: the records and, in the same transaction, the writer's
/// new row count as the committed offset of its marker group, so the count a restarted writer reads
/// (``committedCount()``) is exactly what its committed transactions wrote. Opening a writer fences any earlier
/// instance with the same id (the process before a `kill -9`) and aborts its open transaction.
public protocol KafkaTopicWriter: AnyObject, Sendable {
    /// Rows the writer's committed transactions hold (0 for a new writer).
    func committedCount() throws(SQLError) -> Int64
    /// Writes `records` in one transaction that also sets the writer's count to `committedCount` (aborting one that
    /// ``send(_:)`` opened).
    func write(_ records: [KafkaOutgoingRecord], committedCount: Int64) throws(SQLError)
    /// Sends `records` in the open transaction, beginning one when none is open: invisible until ``commit(committedCount:)``.
    func send(_ records: [KafkaOutgoingRecord]) throws(SQLError)
    /// Commits the open transaction with the writer's count set to `committedCount`; on failure it is aborted.
    func commit(committedCount: Int64) throws(SQLError)
    func close()
}
