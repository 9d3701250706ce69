// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import Logging
import ServiceLifecycle

/// Moves new compute pools from PROVISIONING to PROVISIONED once their provisioning delay has passed.
///
/// The embedded engine needs no machines, so provisioning is only a short, observable phase that clients polling for
/// PROVISIONED see happen, as on Confluent Cloud. Pools left PROVISIONING by a restart are provisioned at once.
struct PoolProvisioner: Service {
    let store: any ControlPlaneStore
    let delay: Duration
    let logger: Logger
    /// Called after a pool was provisioned, so that the statements waiting for it start without waiting for the
    /// scheduler's next periodic pass.
    let provisioned: @Sendable () -> Void

    func run() async throws {
        let delaySeconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = Date()
            let due = store.snapshot().computePools.values.filter {
                $0.phase == .provisioning && now.timeIntervalSince($0.createdAt) >= delaySeconds
            }
            for pool in due {
                do {
                    let changed = try await store.mutate { state in state.markProvisioned(poolID: pool.id, now: now) }
                    if changed {
                        logger.info("compute pool provisioned", metadata: ["pool": .string(pool.id)])
                        provisioned()
                    }
                } catch {
                    logger.error(
                        "could not provision compute pool", metadata: ["pool": .string(pool.id), "error": .string(String(reflecting: error))])
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
