// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Hummingbird

/// `srcm/v3/clusters`: the Schema Registry of each environment (list and get, as on Confluent Cloud, where a registry
/// is enabled per environment rather than created through this API). Each environment has exactly one.
struct SRCMAPI: Sendable {
    let api: APIEnvironment
    var render: Representations { Representations(links: api.links) }

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("clusters", use: list)
        router.get("clusters/:id", use: get)
    }

    /// The environment of `?environment=` if the caller may see it.
    func visibleEnvironment(_ request: Request, caller: Caller) throws(APIError) -> FloeCore.Environment {
        let environmentID = try request.requiredQuery("environment")
        guard let environment = api.store.snapshot().environments[environmentID], environment.organizationID == caller.organizationID else {
            throw APIError.forbidden("Environment \(environmentID) was not found or is not visible to \(caller.principalID).")
        }
        guard caller.policy.canSee(environment: environmentID) else {
            throw APIError.forbidden("The principal \(caller.principalID) has no role in environment \(environmentID).")
        }
        return environment
    }

    @Sendable func list(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let environment = try visibleEnvironment(request, caller: caller)
        let query = try ListingQuery(request, filterNames: ["environment"])
        let clusters = [environment].filter { $0.schemaRegistryID != nil }
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "srcm/v3", kind: "ClusterList", path: "/srcm/v3/clusters", links: api.links, page: query.page(clusters),
                render: { render.schemaRegistryCluster($0, clusterID: $0.schemaRegistryID!, region: api.regions.first) }))
    }

    @Sendable func get(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let environment = try visibleEnvironment(request, caller: caller)
        let id = context.parameters.path("id")
        guard environment.schemaRegistryID == id else {
            throw APIError.notFound("Schema Registry cluster \(id) was not found in environment \(environment.id).")
        }
        return JSONResponse.make(.ok, render.schemaRegistryCluster(environment, clusterID: id, region: api.regions.first))
    }
}
