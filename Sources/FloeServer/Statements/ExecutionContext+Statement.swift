// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore

extension ExecutionContext {
    /// What `statement` is interpreted with: its environment as the default catalog, every environment of its
    /// organization as a catalog, and its properties. `statementID` is the uid for runs, `nil` for dry runs.
    init(statement: Statement, in state: ControlPlaneState, statementID: String?) {
        let environments = state.sorted(\.environments) { $0.organizationID == statement.organizationID }
        let own = state.environments[statement.environmentIDValue]
        self.init(
            environment: (statement.environmentIDValue, own?.displayName ?? statement.environmentIDValue),
            catalogs: environments.map { ($0.id, $0.displayName) },
            properties: statement.properties, statementID: statementID)
    }
}
