// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
public import FloeKafka

/// The ``KafkaClusterInspector`` of `floe serve`: Metadata and DescribeConfigs requests through librdkafka
/// (``FloeKafka``), on the admin of each connection that ``KafkaAdminPool`` keeps.
///
/// The admin's calls block, so they run on its own queue (`KafkaAdmin.run`), never on the cooperative pool. Errors
/// are librdkafka's own text with the connection's secrets redacted (``KafkaConnection/redacting(_:)``): what a user
/// reads in a FAILED cluster's `status.detail`.
public struct LibrdkafkaInspector: KafkaClusterInspector {
    let pool: KafkaAdminPool
    /// The timeout of the reads that take none from the caller (topic listings and configs).
    let requestTimeout: Duration

    public init(pool: KafkaAdminPool, requestTimeout: Duration = .seconds(10)) {
        self.pool = pool
        self.requestTimeout = requestTimeout
    }

    private func run<T: Sendable>(
        _ connection: KafkaConnection, _ body: @escaping @Sendable (KafkaAdmin) throws(KafkaError) -> T
    ) async throws(KafkaInspectionError) -> T {
        do {
            return try await pool.admin(for: connection).run(body)
        } catch {
            if error.code == .timedOut { throw .timedOut(requestTimeout) }
            throw .unreachable(connection.redacting(error.message))
        }
    }

    public func describeCluster(_ connection: KafkaConnection, timeout: Duration) async throws -> KafkaClusterDescription {
        let metadata = try await run(connection) { admin throws(KafkaError) in try admin.metadata(timeout: timeout) }
        return KafkaClusterDescription(clusterID: metadata.clusterID ?? "", brokerCount: metadata.brokers.count)
    }

    public func listTopics(_ connection: KafkaConnection) async throws -> [KafkaTopicDescription] {
        let timeout = requestTimeout
        let metadata = try await run(connection) { admin throws(KafkaError) in try admin.metadata(timeout: timeout) }
        return metadata.topics.filter { $0.error == nil }.map(Self.description).sorted { $0.name < $1.name }
    }

    public func describeTopic(_ connection: KafkaConnection, topic: String) async throws -> KafkaTopicDetail? {
        let timeout = requestTimeout
        guard let metadata = try await run(connection, { admin throws(KafkaError) in try admin.topic(topic, timeout: timeout) }) else {
            return nil
        }
        return KafkaTopicDetail(
            topic: Self.description(metadata),
            partitions: metadata.partitions.map {
                KafkaPartitionDescription(
                    id: Int($0.id), leader: $0.leader < 0 ? nil : Int($0.leader), replicas: $0.replicas.map(Int.init),
                    inSyncReplicas: $0.inSyncReplicas.map(Int.init))
            })
    }

    public func topicConfigs(_ connection: KafkaConnection, topic: String) async throws -> [KafkaTopicConfigEntry]? {
        let timeout = requestTimeout
        let entries: [KafkaConfigEntry]? = try await run(connection) { admin throws(KafkaError) in
            guard try admin.topic(topic, timeout: timeout) != nil else { return nil }
            return try admin.describeTopicConfigs(topic, timeout: timeout)
        }
        return entries?.map {
            KafkaTopicConfigEntry(
                name: $0.name, value: $0.isSensitive ? nil : $0.value, source: KafkaTopicConfigEntry.Source(rawValue: $0.source.rawValue) ?? .unknown,
                isDefault: $0.isDefault, isReadOnly: $0.isReadOnly, isSensitive: $0.isSensitive)
        }
    }

    private static func description(_ topic: KafkaTopicMetadata) -> KafkaTopicDescription {
        KafkaTopicDescription(
            name: topic.name, partitionCount: topic.partitionCount, replicationFactor: topic.replicationFactor, isInternal: topic.isInternal)
    }
}
