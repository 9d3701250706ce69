// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeKafka
import FloeSQL
import Foundation

/// A Kafka cluster attached to a statement's environment, as the engine's ``KafkaClusterClient``: topic metadata and
/// DDL through the connection's admin client (``KafkaAdminPool``).
///
/// The engine calls it on its own threads and the admin's calls block there, each bounded by ``timeout``. Failures
/// become runtime `SQLError`s that name the cluster, with librdkafka's reason and no secret.
struct LibrdkafkaClusterClient: KafkaClusterClient {
    let pool: KafkaAdminPool
    let connection: KafkaConnection
    /// The cluster's display name and id, for messages.
    let name: String
    let id: String
    let timeout: Duration

    private func admin() throws(SQLError) -> KafkaAdmin {
        do { return try pool.admin(for: connection) } catch { throw failure(error, "reach") }
    }

    private func failure(_ error: KafkaError, _ what: String) -> SQLError {
        SQLError.runtime("Kafka cluster '\(name)' (\(id)): could not \(what): \(connection.redacting(error.message))")
    }

    private static func info(_ topic: KafkaTopicMetadata, configs: [String: String] = [:]) -> KafkaTopicInfo {
        KafkaTopicInfo(name: topic.name, partitions: topic.partitionCount, configs: configs, isInternal: topic.isInternal)
    }

    func listTopics() throws(SQLError) -> [KafkaTopicInfo] {
        let admin = try admin()
        do {
            return try admin.metadata(timeout: timeout).topics.filter { $0.error == nil }.map { Self.info($0) }
        } catch { throw failure(error, "list its topics") }
    }

    func describeTopic(_ name: String) throws(SQLError) -> KafkaTopicInfo? {
        let admin = try admin()
        do {
            guard let topic = try admin.topic(name, timeout: timeout) else { return nil }
            var configs: [String: String] = [:]
            for entry in try admin.describeTopicConfigs(name, timeout: timeout) where !entry.isSensitive {
                if let value = entry.value { configs[entry.name] = value }
            }
            return Self.info(topic, configs: configs)
        } catch { throw failure(error, "describe topic '\(name)'") }
    }

    func createTopic(_ name: String, partitions: Int, configs: [String: String]) throws(SQLError) {
        let admin = try admin()
        do {
            try admin.createTopic(name, partitions: partitions, replicationFactor: -1, configs: configs, timeout: timeout)
        } catch { throw failure(error, "create topic '\(name)'") }
    }

    func deleteTopic(_ name: String) throws(SQLError) {
        let admin = try admin()
        do { try admin.deleteTopic(name, timeout: timeout) } catch { throw failure(error, "delete topic '\(name)'") }
    }

    func openReader(topic: String, readCommitted: Bool) throws(SQLError) -> any KafkaTopicReader {
        try LibrdkafkaTopicReader(
            connection: connection, topic: topic, readCommitted: readCommitted, cluster: "'\(name)' (\(id))", timeout: timeout)
    }

    func openWriter(topic: String, transactionalID: String, compression: String) throws(SQLError) -> any KafkaTopicWriter {
        try LibrdkafkaTopicWriter(
            connection: connection, admin: try admin(), topic: topic, transactionalID: transactionalID, compression: compression,
            cluster: "'\(name)' (\(id))", timeout: timeout)
    }

    func committedOffsets(group: String, topic: String, partitions: [Int32]) throws(SQLError) -> [Int32: Int64] {
        let admin = try admin()
        do {
            let offsets = try admin.committedOffsets(
                group: group, partitions: partitions.map { KafkaTopicPartition(topic: topic, partition: $0) }, timeout: timeout)
            var result: [Int32: Int64] = [:]
            for entry in offsets { if let offset = entry.offset, offset >= 0 { result[entry.partition] = offset } }
            return result
        } catch { throw failure(error, "read the offsets group '\(group)' committed for topic '\(topic)'") }
    }

    func alterTopicConfigs(_ name: String, _ configs: [String: String]) throws(SQLError) {
        let admin = try admin()
        do {
            // Keys set before and absent now return to the broker's defaults.
            let current = try admin.describeTopicConfigs(name, timeout: timeout).filter { $0.source == .dynamicTopic }.map(\.name)
            try admin.alterTopicConfigs(name, set: configs, reset: Set(current).subtracting(configs.keys), timeout: timeout)
        } catch { throw failure(error, "change the configuration of topic '\(name)'") }
    }
}
