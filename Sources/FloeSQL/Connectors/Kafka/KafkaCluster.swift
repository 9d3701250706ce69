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

    public init(catalogID: String, id: String, name: String, cluster: any KafkaClusterClient, registry: (any SchemaRegistry)?) {
        self.catalogID = catalogID
        self.id = id
        self.name = name
        self.cluster = cluster
        self.registry = registry
    }
}
