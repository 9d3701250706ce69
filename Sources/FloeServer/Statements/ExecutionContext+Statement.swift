// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore

extension ExecutionContext {
    /// What `statement` is interpreted with: its environment as the default catalog, the environments it may use as
    /// catalogs (``ControlPlaneState/catalogGrants(for:)``), and its properties. `statementID` is the uid for runs, `nil`
    /// for dry runs.
    init(statement: Statement, in state: ControlPlaneState, statementID: String?) {
        let own = state.environments[statement.environmentIDValue]
        self.init(
            environment: (statement.environmentIDValue, own?.displayName ?? statement.environmentIDValue),
            catalogs: state.catalogGrants(for: statement).map { ($0.environment.id, $0.environment.displayName, $0.access) },
            properties: statement.properties, statementID: statementID)
    }
}
