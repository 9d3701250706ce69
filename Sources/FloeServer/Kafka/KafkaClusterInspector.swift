// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
import Foundation

/// What Floe asks of an attached Kafka cluster's brokers for the control plane: whether they answer, and which
/// topics they hold (for the `kafka/v3` topic reads, the CLI and the console).
///
/// The server depends on this protocol only; the implementation on librdkafka (`FloeKafka`) is injected through
/// ``ServerConfiguration/kafkaInspector``, and tests use a fake. Every call takes the connection (credentials
/// included) and must not log it beyond ``KafkaConnection/description``. Errors are shown to users as they are
/// (their `description`), so they should read like Kafka's own messages
/// (`Failed to connect to 127.0.0.1:1: Connection refused`).
public protocol KafkaClusterInspector: Sendable {
    /// Sends a Metadata request and reports the cluster, within `timeout`.
    func describeCluster(_ connection: KafkaConnection, timeout: Duration) async throws -> KafkaClusterDescription
    /// The cluster's topics, internal ones included.
    func listTopics(_ connection: KafkaConnection) async throws -> [KafkaTopicDescription]
    /// One topic with its partitions, or `nil` when the cluster has no such topic.
    func describeTopic(_ connection: KafkaConnection, topic: String) async throws -> KafkaTopicDetail?
    /// The configuration of one topic (DescribeConfigs), or `nil` when the cluster has no such topic.
    func topicConfigs(_ connection: KafkaConnection, topic: String) async throws -> [KafkaTopicConfigEntry]?
}

/// A cluster as its Metadata response describes it.
public struct KafkaClusterDescription: Sendable, Hashable {
    /// The id the brokers report (`MetadataResponse.cluster_id`).
    public var clusterID: String
    /// The brokers in the response.
    public var brokerCount: Int
    /// The controller's broker id, when reported.
    public var controllerID: Int?

    public init(clusterID: String, brokerCount: Int, controllerID: Int? = nil) {
        self.clusterID = clusterID
        self.brokerCount = brokerCount
        self.controllerID = controllerID
    }
}

/// A topic as a listing shows it.
public struct KafkaTopicDescription: Sendable, Hashable {
    public var name: String
    public var partitionCount: Int
    /// The replica count of its first partition (Kafka's notion of a topic's replication factor).
    public var replicationFactor: Int
    /// Whether it is one of Kafka's own topics (`__consumer_offsets`, `__transaction_state`).
    public var isInternal: Bool

    public init(name: String, partitionCount: Int, replicationFactor: Int, isInternal: Bool) {
        self.name = name
        self.partitionCount = partitionCount
        self.replicationFactor = replicationFactor
        self.isInternal = isInternal
    }
}

/// One partition of a topic.
public struct KafkaPartitionDescription: Sendable, Hashable {
    public var id: Int
    /// The leader's broker id; nil while the partition has none.
    public var leader: Int?
    public var replicas: [Int]
    public var inSyncReplicas: [Int]

    public init(id: Int, leader: Int?, replicas: [Int], inSyncReplicas: [Int]) {
        self.id = id
        self.leader = leader
        self.replicas = replicas
        self.inSyncReplicas = inSyncReplicas
    }
}

/// A topic with its partitions.
public struct KafkaTopicDetail: Sendable, Hashable {
    public var topic: KafkaTopicDescription
    public var partitions: [KafkaPartitionDescription]

    public init(topic: KafkaTopicDescription, partitions: [KafkaPartitionDescription]) {
        self.topic = topic
        self.partitions = partitions
    }
}

/// One entry of a topic's configuration, as DescribeConfigs reports it.
public struct KafkaTopicConfigEntry: Sendable, Hashable {
    /// Where a value comes from, in `kafka/v3`'s spelling.
    public enum Source: String, Sendable, Hashable {
        case dynamicTopicConfig = "DYNAMIC_TOPIC_CONFIG"
        case dynamicBrokerConfig = "DYNAMIC_BROKER_CONFIG"
        case dynamicDefaultBrokerConfig = "DYNAMIC_DEFAULT_BROKER_CONFIG"
        case staticBrokerConfig = "STATIC_BROKER_CONFIG"
        case defaultConfig = "DEFAULT_CONFIG"
        case unknown = "UNKNOWN"
    }

    public var name: String
    /// Nil for a sensitive entry (the broker does not tell it).
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

/// Why an inspector could not answer.
public enum KafkaInspectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This build of Floe has no Kafka client.
    case clientUnavailable
    /// The brokers could not be reached or refused the request; the text is the client's.
    case unreachable(String)
    /// No answer within the timeout.
    case timedOut(Duration)

    public var description: String {
        switch self {
        case .clientUnavailable: "No Kafka client is available in this Floe server, so it cannot reach the cluster."
        case .unreachable(let reason): reason
        case .timedOut(let timeout): "The Kafka cluster did not answer a Metadata request within \(timeout)."
        }
    }
}

/// The inspector of a server without a Kafka client: every call fails with ``KafkaInspectionError/clientUnavailable``,
/// so clusters can be attached (and end FAILED, saying why) and everything else runs.
public struct UnavailableKafkaInspector: KafkaClusterInspector {
    public init() {}

    public func describeCluster(_ connection: KafkaConnection, timeout: Duration) async throws -> KafkaClusterDescription {
        throw KafkaInspectionError.clientUnavailable
    }

    public func listTopics(_ connection: KafkaConnection) async throws -> [KafkaTopicDescription] {
        throw KafkaInspectionError.clientUnavailable
    }

    public func describeTopic(_ connection: KafkaConnection, topic: String) async throws -> KafkaTopicDetail? {
        throw KafkaInspectionError.clientUnavailable
    }

    public func topicConfigs(_ connection: KafkaConnection, topic: String) async throws -> [KafkaTopicConfigEntry]? {
        throw KafkaInspectionError.clientUnavailable
    }
}
