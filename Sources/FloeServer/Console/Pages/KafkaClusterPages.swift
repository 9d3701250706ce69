// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird

/// The Kafka clusters tab: the environment's attached clusters with their phase, and the topics of each reachable one
/// (read through `kafka/v3`, so the page shows what the principal's API calls would show).
extension Console {
    func registerKafkaClusters(on router: RouterGroup<FloeRequestContext>) {
        router.get("environments/:env/kafka/clusters") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let clusters = try await visit.api.list("/cmk/v2/clusters", query: [("environment", environment.id)])
            var rows: [[String: Any]] = []
            for cluster in clusters {
                let id = cluster["id"]?.stringValue ?? ""
                let phase = cluster.value(at: "status", "phase")?.stringValue ?? ""
                var row: [String: Any] = [
                    "id": id,
                    "name": cluster.value(at: "spec", "display_name")?.stringValue ?? "",
                    "bootstrap": cluster.value(at: "spec", "kafka_bootstrap_endpoint")?.stringValue ?? "",
                    "phase": phase,
                    "detail": cluster.value(at: "status", "detail")?.stringValue ?? "",
                    "created": ConsoleFormat.time(cluster.value(at: "metadata", "created_at")),
                    "provisioned": phase == "PROVISIONED",
                ]
                if phase == "PROVISIONED" {
                    let reply = await visit.api.send(.get, "/kafka/v3/clusters/\(FormBody.encode(id))/topics")
                    if reply.status == 200 {
                        row["topics"] = (reply.body?["data"]?.arrayValue ?? []).map { topic -> [String: Any] in
                            [
                                "name": topic["topic_name"]?.stringValue ?? "",
                                "partitions": topic["partitions_count"]?.intValue ?? 0,
                                "replication": topic["replication_factor"]?.intValue ?? 0,
                                "internal": topic["is_internal"]?.boolValue ?? false,
                            ]
                        }
                    } else {
                        row["topics_error"] = "The topics could not be read: \(reply.errorDetail)"
                    }
                }
                rows.append(row)
            }
            let provisioning = clusters.contains { $0.value(at: "status", "phase")?.stringValue == "PROVISIONING" }
            return page(
                .kafkaClusters, visit, title: "Kafka clusters", environment: environment, tab: "kafka_clusters",
                [
                    "clusters": rows, "any": !rows.isEmpty, "can_manage": visit.policy.canManageKafkaClusters(in: environment.id),
                    "refresh": provisioning,
                ])
        }
    }
}
