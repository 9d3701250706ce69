// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Logging
import Synchronization

@testable import FloeServer

/// A Kafka cluster in memory for the inspector protocol: which bootstrap servers answer (with which credentials),
/// and the topics they hold. It records the connections it was asked about.
final class FakeKafkaInspector: KafkaClusterInspector {
    struct Broker: Sendable {
        var clusterID: String
        var brokerCount: Int
        /// The credentials the broker requires, if any.
        var sasl: KafkaConnection.SASL?
        var topics: [KafkaTopicDetail]
        var configs: [String: [KafkaTopicConfigEntry]]
    }

    private let brokers: Mutex<[String: Broker]>
    private let seen = Mutex<[KafkaConnection]>([])

    init(_ brokers: [String: Broker] = [:]) { self.brokers = Mutex(brokers) }

    func set(_ bootstrap: String, _ broker: Broker?) { brokers.withLock { $0[bootstrap] = broker } }

    /// The connections probed or read, in order.
    var connections: [KafkaConnection] { seen.withLock { $0 } }

    private func reach(_ connection: KafkaConnection) throws -> Broker {
        seen.withLock { $0.append(connection) }
        guard let broker = brokers.withLock({ $0[connection.bootstrapServers] }) else {
            throw KafkaInspectionError.unreachable("Failed to connect to \(connection.bootstrapServers): Connection refused")
        }
        if let required = broker.sasl, required != connection.sasl {
            throw KafkaInspectionError.unreachable(
                "SASL authentication error: Authentication failed during authentication due to invalid credentials")
        }
        return broker
    }

    func describeCluster(_ connection: KafkaConnection, timeout: Duration) async throws -> KafkaClusterDescription {
        let broker = try reach(connection)
        return KafkaClusterDescription(clusterID: broker.clusterID, brokerCount: broker.brokerCount)
    }

    func listTopics(_ connection: KafkaConnection) async throws -> [KafkaTopicDescription] {
        try reach(connection).topics.map(\.topic)
    }

    func describeTopic(_ connection: KafkaConnection, topic: String) async throws -> KafkaTopicDetail? {
        try reach(connection).topics.first { $0.topic.name == topic }
    }

    func topicConfigs(_ connection: KafkaConnection, topic: String) async throws -> [KafkaTopicConfigEntry]? {
        let broker = try reach(connection)
        guard broker.topics.contains(where: { $0.topic.name == topic }) else { return nil }
        return broker.configs[topic] ?? []
    }

    /// A broker with two topics, `orders` (3 partitions) and `__consumer_offsets`.
    static func sampleBroker(sasl: KafkaConnection.SASL? = nil) -> Broker {
        let partitions = (0..<3).map { KafkaPartitionDescription(id: $0, leader: 1, replicas: [1], inSyncReplicas: [1]) }
        return Broker(
            clusterID: "MkU3OEVBNTcwNTJENDM2Qg", brokerCount: 1, sasl: sasl,
            topics: [
                KafkaTopicDetail(
                    topic: KafkaTopicDescription(name: "orders", partitionCount: 3, replicationFactor: 1, isInternal: false), partitions: partitions),
                KafkaTopicDetail(
                    topic: KafkaTopicDescription(name: "__consumer_offsets", partitionCount: 1, replicationFactor: 1, isInternal: true),
                    partitions: [KafkaPartitionDescription(id: 0, leader: 1, replicas: [1], inSyncReplicas: [1])]),
            ],
            configs: [
                "orders": [
                    KafkaTopicConfigEntry(
                        name: "retention.ms", value: "604800000", source: .defaultConfig, isDefault: true, isReadOnly: false, isSensitive: false),
                    KafkaTopicConfigEntry(
                        name: "cleanup.policy", value: "compact", source: .dynamicTopicConfig, isDefault: false, isReadOnly: false, isSensitive: false
                    ),
                ]
            ])
    }
}

/// Log lines kept in memory, so tests can check what was (and was not) logged.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var logger: Logger {
        var logger = Logger(label: "floe.test") { _ in CapturingLogHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        let all = self.metadata.merging(explicit ?? [:]) { $1 }
        sink.append("\(level) \(message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}
