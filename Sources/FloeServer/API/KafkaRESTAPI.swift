// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import Hummingbird

/// The read-only subset of Kafka REST v3 that `floe kafka topic` and the console use: topics, their partitions and
/// configs, of an attached cluster (`/kafka/v3/clusters/{lkc}/…`).
///
/// The answers come from the brokers through the ``KafkaClusterInspector``. Errors have Kafka REST's shape,
/// `{"error_code", "message"}`: 404 for an unknown (or unseen) cluster, 40403 for an unknown topic as Confluent Cloud
/// answers it, 503 when the brokers cannot be reached.
struct KafkaRESTAPI: Sendable {
    let api: APIEnvironment
    let inspector: any KafkaClusterInspector

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("clusters/:cluster/topics") { _, context in try await answer(context) { try await listTopics(context) } }
        router.get("clusters/:cluster/topics/:topic") { _, context in try await answer(context) { try await getTopic(context) } }
        router.get("clusters/:cluster/topics/:topic/partitions") { _, context in
            try await answer(context) { try await listPartitions(context) }
        }
        router.get("clusters/:cluster/topics/:topic/configs") { _, context in
            try await answer(context) { try await listConfigs(context) }
        }
    }

    /// A Kafka REST failure: its HTTP status and `error_code`.
    struct Failure: Error {
        var status: Int
        var errorCode: Int
        var message: String
    }

    /// Runs a handler and turns its failures into Kafka REST error bodies.
    func answer(_ context: FloeRequestContext, _ handler: () async throws -> JSONValue) async throws -> Response {
        do {
            return JSONResponse.make(.ok, try await handler())
        } catch let failure as Failure {
            return JSONResponse.make(
                .init(code: failure.status), ["error_code": .int(Int64(failure.errorCode)), "message": .string(failure.message)])
        } catch let error as APIError {
            return JSONResponse.make(.init(code: error.status), ["error_code": .int(Int64(error.status)), "message": .string(error.detail)])
        }
    }

    /// The cluster of the path with its connection, if the caller may read it.
    func cluster(_ context: FloeRequestContext) throws -> (KafkaCluster, KafkaConnection) {
        let caller = try context.requireCaller()
        let id = context.parameters.path("cluster")
        let state = api.store.snapshot()
        guard let cluster = state.kafkaClusters[id], cluster.organizationID == caller.organizationID, caller.policy.canUse(kafkaCluster: cluster)
        else {
            throw Failure(status: 404, errorCode: 404, message: "Kafka cluster \(id) was not found.")
        }
        guard let connection = state.kafkaConnection(clusterID: id) else {
            throw Failure(status: 503, errorCode: 503, message: cluster.statusDetail ?? ControlPlaneState.missingBootstrapDetail)
        }
        return (cluster, connection)
    }

    /// Calls the inspector; a failure to reach the brokers is a 503 with the client's reason.
    func inspect<T>(_ connection: KafkaConnection, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw Failure(status: 503, errorCode: 503, message: connection.redacting(String(describing: error)))
        }
    }

    static func unknownTopic(_ name: String) -> Failure {
        Failure(status: 404, errorCode: 40403, message: "This server does not host this topic-partition.")
    }

    func base(_ cluster: KafkaCluster) -> String { "/kafka/v3/clusters/\(cluster.id)" }

    func topicPath(_ cluster: KafkaCluster, _ topic: String) -> String { base(cluster) + "/topics/" + topic.pathSegment }

    func topic(_ topic: KafkaTopicDescription, of cluster: KafkaCluster) -> JSONValue {
        let path = topicPath(cluster, topic.name)
        return [
            "kind": "KafkaTopic",
            "metadata": [
                "self": .string(api.links.url(path)), "resource_name": .string("crn:///kafka=\(cluster.id)/topic=\(topic.name)"),
            ],
            "cluster_id": .string(cluster.id), "topic_name": .string(topic.name), "is_internal": .bool(topic.isInternal),
            "replication_factor": .int(Int64(topic.replicationFactor)), "partitions_count": .int(Int64(topic.partitionCount)),
            "partitions": ["related": .string(api.links.url(path + "/partitions"))],
            "configs": ["related": .string(api.links.url(path + "/configs"))],
            "partition_reassignments": ["related": .string(api.links.url(path + "/partitions/-/reassignments"))],
        ]
    }

    func collection(kind: String, path: String, _ data: [JSONValue]) -> JSONValue {
        ["kind": .string(kind), "metadata": ["self": .string(api.links.url(path)), "next": .null], "data": .array(data)]
    }

    func listTopics(_ context: FloeRequestContext) async throws -> JSONValue {
        let (cluster, connection) = try cluster(context)
        let topics = try await inspect(connection) { try await inspector.listTopics(connection) }.sorted { $0.name < $1.name }
        return collection(kind: "KafkaTopicList", path: base(cluster) + "/topics", topics.map { topic($0, of: cluster) })
    }

    func getTopic(_ context: FloeRequestContext) async throws -> JSONValue {
        let (cluster, connection) = try cluster(context)
        let name = context.parameters.path("topic")
        guard let detail = try await inspect(connection, { try await inspector.describeTopic(connection, topic: name) }) else {
            throw Self.unknownTopic(name)
        }
        return topic(detail.topic, of: cluster)
    }

    func listPartitions(_ context: FloeRequestContext) async throws -> JSONValue {
        let (cluster, connection) = try cluster(context)
        let name = context.parameters.path("topic")
        guard let detail = try await inspect(connection, { try await inspector.describeTopic(connection, topic: name) }) else {
            throw Self.unknownTopic(name)
        }
        let path = topicPath(cluster, name)
        let partitions = detail.partitions.sorted { $0.id < $1.id }.map { partition -> JSONValue in
            let partitionPath = path + "/partitions/\(partition.id)"
            return .object(omittingNil: [
                ("kind", "KafkaPartition"),
                (
                    "metadata",
                    [
                        "self": .string(api.links.url(partitionPath)),
                        "resource_name": .string("crn:///kafka=\(cluster.id)/topic=\(name)/partition=\(partition.id)"),
                    ]
                ),
                ("cluster_id", .string(cluster.id)), ("topic_name", .string(name)), ("partition_id", .int(Int64(partition.id))),
                ("leader", partition.leader.map { ["related": .string(api.links.url(partitionPath + "/replicas/\($0)"))] }),
                ("replicas", ["related": .string(api.links.url(partitionPath + "/replicas"))]),
                ("reassignment", ["related": .string(api.links.url(partitionPath + "/reassignment"))]),
            ])
        }
        return collection(kind: "KafkaPartitionList", path: path + "/partitions", partitions)
    }

    func listConfigs(_ context: FloeRequestContext) async throws -> JSONValue {
        let (cluster, connection) = try cluster(context)
        let name = context.parameters.path("topic")
        guard let entries = try await inspect(connection, { try await inspector.topicConfigs(connection, topic: name) }) else {
            throw Self.unknownTopic(name)
        }
        let path = topicPath(cluster, name)
        let configs = entries.sorted { $0.name < $1.name }.map { entry -> JSONValue in
            [
                "kind": "KafkaTopicConfig",
                "metadata": [
                    "self": .string(api.links.url(path + "/configs/" + entry.name.pathSegment)),
                    "resource_name": .string("crn:///kafka=\(cluster.id)/topic=\(name)/config=\(entry.name)"),
                ],
                "cluster_id": .string(cluster.id), "topic_name": .string(name), "name": .string(entry.name),
                "value": .string(orNull: entry.isSensitive ? nil : entry.value), "is_default": .bool(entry.isDefault),
                "is_read_only": .bool(entry.isReadOnly), "is_sensitive": .bool(entry.isSensitive), "source": .string(entry.source.rawValue),
                "synonyms": [],
            ]
        }
        return collection(kind: "KafkaTopicConfigList", path: path + "/configs", configs)
    }
}

extension String {
    /// The text percent-encoded as one URL path segment (topic names may hold `.`, `_` and `-`, which stay).
    var pathSegment: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}
