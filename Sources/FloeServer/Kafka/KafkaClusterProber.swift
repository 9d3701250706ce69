// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Moves attached Kafka clusters out of PROVISIONING: PROVISIONED once their brokers answer a Metadata request,
/// FAILED (with the client's reason in `status.detail`) when they do not.
///
/// A cluster is PROVISIONING after it is created and after every change of its connection, so one loop covers both
/// the first probe and the re-probe after a PATCH. Each probe runs in its own task, so that an unreachable host that
/// takes the whole timeout does not hold up the others, and records its outcome only if the cluster's connection is
/// still the one it probed (``ControlPlaneState/recordKafkaClusterProbe(id:revision:outcome:now:)``). Clusters left
/// PROVISIONING by a restart are probed at once. The loop reads only the in-memory state while nothing is due.
struct KafkaClusterProber: Service {
    let store: any ControlPlaneStore
    let inspector: any KafkaClusterInspector
    /// How long a Metadata request may take before the cluster is FAILED.
    var timeout: Duration = .seconds(10)
    /// How often the state is checked for clusters to probe.
    var interval: Duration = .milliseconds(100)
    let logger: Logger

    /// A cluster at one connection revision: what a probe is about.
    struct ProbeKey: Hashable {
        var clusterID: String
        var revision: Int64
    }

    /// The probes running now, shared by the loop and the probe tasks.
    final class InFlight: Sendable {
        private let keys = Mutex<Set<ProbeKey>>([])

        /// Claims `key`; false if a probe of it is already running.
        func claim(_ key: ProbeKey) -> Bool { keys.withLock { $0.insert(key).inserted } }

        func release(_ key: ProbeKey) { keys.withLock { _ = $0.remove(key) } }
    }

    func run() async throws {
        let inFlight = InFlight()
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                for (cluster, connection) in dueProbes() {
                    let key = ProbeKey(clusterID: cluster.id, revision: cluster.connectionRevision)
                    guard inFlight.claim(key) else { continue }
                    group.addTask {
                        await probe(cluster, connection)
                        inFlight.release(key)
                    }
                }
                try? await Task.sleep(for: interval)
            }
            group.cancelAll()
        }
    }

    /// Probes every PROVISIONING cluster once, concurrently, and returns when all outcomes are recorded (one pass of
    /// ``run()``, for tests).
    func probeDue() async {
        await withDiscardingTaskGroup { group in
            for (cluster, connection) in dueProbes() {
                group.addTask { await probe(cluster, connection) }
            }
        }
    }

    /// The PROVISIONING clusters with their connections.
    func dueProbes() -> [(KafkaCluster, KafkaConnection)] {
        let state = store.snapshot()
        return state.kafkaClusters.values.filter { $0.phase == .provisioning }.compactMap { cluster in
            state.kafkaConnection(clusterID: cluster.id).map { (cluster, $0) }
        }
    }

    /// Sends one Metadata request and records what it found.
    func probe(_ cluster: KafkaCluster, _ connection: KafkaConnection) async {
        let outcome: KafkaClusterProbeOutcome
        do {
            let description = try await inspector.describeCluster(connection, timeout: timeout)
            outcome = .reachable(kafkaClusterID: description.clusterID, brokerCount: description.brokerCount)
        } catch is CancellationError {
            return
        } catch {
            outcome = .unreachable(reason: connection.redacting(String(describing: error)))
        }
        // A probe cut short by shutdown says nothing about the brokers, whatever error the client gave for it.
        if Task.isCancelled { return }
        let revision = cluster.connectionRevision
        do {
            let recorded = try await store.mutate { state in
                state.recordKafkaClusterProbe(id: cluster.id, revision: revision, outcome: outcome, now: Date())
            }
            guard recorded else { return }
            // The connection's description names the servers and the SASL user, never a secret.
            switch outcome {
            case .reachable(let kafkaClusterID, let brokerCount):
                logger.info(
                    "kafka cluster provisioned",
                    metadata: [
                        "cluster": .string(cluster.id), "connection": .string(connection.description),
                        "kafka_cluster_id": .string(kafkaClusterID), "brokers": .stringConvertible(brokerCount),
                    ])
            case .unreachable(let reason):
                logger.warning(
                    "kafka cluster unreachable",
                    metadata: ["cluster": .string(cluster.id), "connection": .string(connection.description), "reason": .string(reason)])
            }
        } catch {
            logger.error(
                "could not record a kafka cluster probe", metadata: ["cluster": .string(cluster.id), "error": .string(String(reflecting: error))])
        }
    }
}
