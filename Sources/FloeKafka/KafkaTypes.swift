// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A partition of a topic.
public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// Where a consumer starts reading a partition.
public enum KafkaStartOffset: Sendable, Hashable {
    /// The oldest record still in the partition (the low watermark).
    case beginning
    /// After the last record: only records produced from now on (for `read_committed`, the last stable offset).
    case end
    /// This offset exactly (the next record to read).
    case offset(Int64)

    /// librdkafka's encoding (`RD_KAFKA_OFFSET_BEGINNING` and `_END` are negative sentinels).
    var rawValue: Int64 {
        switch self {
        case .beginning: -2  // RD_KAFKA_OFFSET_BEGINNING
        case .end: -1  // RD_KAFKA_OFFSET_END
        case .offset(let offset): offset
        }
    }
}

/// A record header: a name and a value, which may be null.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// How a record's timestamp was set.
public enum KafkaTimestampType: String, Sendable, Hashable {
    /// The producer set it (Kafka's CreateTime).
    case createTime = "CreateTime"
    /// The broker set it on append (the topic's `message.timestamp.type=LogAppendTime`).
    case logAppendTime = "LogAppendTime"
    /// The record has none (old message formats).
    case notAvailable = "NoTimestampType"
}

/// A record read by a `KafkaConsumer`, its key and value copied out of librdkafka's buffers.
public struct KafkaRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the epoch, or nil when `timestampType` is `notAvailable`.
    public var timestamp: Int64?
    public var timestampType: KafkaTimestampType
    /// The key bytes, or nil for a null key.
    public var key: [UInt8]?
    /// The value bytes, or nil for a null value (a tombstone).
    public var value: [UInt8]?
    public var headers: [KafkaHeader]

    public init(
        topic: String, partition: Int32, offset: Int64, timestamp: Int64?, timestampType: KafkaTimestampType, key: [UInt8]?,
        value: [UInt8]?, headers: [KafkaHeader]
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A consumer group's committed position in one partition (or the position to commit in a transaction).
public struct KafkaGroupOffset: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    /// The next offset to read, or nil when the group has committed none for this partition.
    public var offset: Int64?
    /// The commit's metadata string (empty when none was given).
    public var metadata: String

    public init(topic: String, partition: Int32, offset: Int64?, metadata: String = "") {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.metadata = metadata
    }
}

/// A partition's low and high watermarks: the first offset still stored, and the offset the next record will
/// get. For a `read_committed` client the high watermark is the last stable offset (the first offset of the
/// oldest open transaction), so records past it are not yet readable.
public struct KafkaWatermarks: Sendable, Hashable {
    public var low: Int64
    public var high: Int64

    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }
}
