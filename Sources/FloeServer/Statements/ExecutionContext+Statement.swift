// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore

extension ExecutionContext {
    /// What `statement` is interpreted with: its environment as the default catalog, the environments it may use as
    /// catalogs (``ControlPlaneState/catalogGrants(for:)``), and its properties. `statementID` is the uid for runs, `nil`
    /// for dry runs.
    init(statement: Statement, in state: ControlPlaneState, statementID: String?) {
        let own = state.environments[statement.environmentIDValue]
        let grants = state.catalogGrants(for: statement)
        // The clusters of the environments the statement may use (its catalogs) that answer: each is a database.
        let reachable = Set(grants.filter { !$0.access.isEmpty }.map(\.environment.id))
        let clusters = state.kafkaClusters.values.filter { reachable.contains($0.environmentIDValue) && $0.phase == .provisioned }
            .sorted { $0.sequence < $1.sequence }
            .compactMap { cluster in
                state.kafkaConnection(clusterID: cluster.id).map {
                    AttachedKafkaCluster(environmentID: cluster.environmentIDValue, id: cluster.id, displayName: cluster.displayName, connection: $0)
                }
            }
        self.init(
            environment: (statement.environmentIDValue, own?.displayName ?? statement.environmentIDValue),
            catalogs: grants.map { ($0.environment.id, $0.environment.displayName, $0.access) },
            properties: statement.properties, statementID: statementID, kafkaClusters: clusters, regionID: statement.regionID)
    }
}
