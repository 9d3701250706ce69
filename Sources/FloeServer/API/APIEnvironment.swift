// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import Hummingbird

/// What every API group's handlers share: the store, the public URL, the offered regions and the clock.
struct APIEnvironment: Sendable {
    let store: any ControlPlaneStore
    let links: ResourceLinks
    let regions: [FlinkRegion]
    /// The regions whose compute pools run statements on Apache Flink.
    var flinkRegions: Set<String> = []
    let now: @Sendable () -> Date
    /// Runs after a delete that cascades to statements (an environment or a compute pool): the statements runtime
    /// cancels their runs, drops a deleted environment's catalog and removes orphaned result logs.
    var afterCascadingDelete: @Sendable (_ deletedEnvironmentID: String?) async -> Void = { _ in }
    /// The environments' Schema Registries (absent in routers built without them).
    var registries: SchemaRegistryStore?
    /// The listener this router serves: statements created through it carry it in `status.network_kind`.
    var networkKind = NetworkKind.public

    /// Runs a store mutation, passing domain errors through unchanged.
    func mutate<Result: Sendable>(_ operation: @Sendable (inout ControlPlaneState) throws(APIError) -> Result) async throws -> Result {
        try await store.mutate { state in try operation(&state) }
    }
}

extension Request {
    /// A required query parameter.
    func requiredQuery(_ name: String) throws(APIError) -> String {
        guard let value = uri.queryParameters.get(name), !value.isEmpty else {
            throw APIError.invalidParameter(name, "The query parameter '\(name)' is required.")
        }
        return String(value)
    }
}

extension Parameters {
    /// A path parameter that the route guarantees.
    func path(_ name: String) -> String { get(name) ?? "" }
}
