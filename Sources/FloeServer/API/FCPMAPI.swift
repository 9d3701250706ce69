// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Hummingbird

/// `fcpm/v2`: regions, compute pools and the organization's compute-pool config.
struct FCPMAPI: Sendable {
    let api: APIEnvironment
    var render: Representations { Representations(links: api.links, flinkRegions: api.flinkRegions) }

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("regions", use: listRegions)
        router.get("compute-pools", use: listPools)
        router.post("compute-pools", use: createPool)
        router.get("compute-pools/:id", use: getPool)
        router.patch("compute-pools/:id", use: updatePool)
        router.delete("compute-pools/:id", use: deletePool)
        router.get("compute-pool-config", use: getConfig)
        router.patch("compute-pool-config", use: updateConfig)
    }

    @Sendable func listRegions(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = try ListingQuery(request, filterNames: ["cloud", "region_name"])
        let cloudFilter = query.filter("cloud")
        let nameFilter = query.filter("region_name")
        if let cloudFilter, Cloud(caseInsensitive: cloudFilter) == nil {
            throw APIError.invalidParameter("cloud", "cloud must be one of AWS, GCP, AZURE.")
        }
        let regions = api.regions.filter { region in
            (cloudFilter == nil || region.cloud == Cloud(caseInsensitive: cloudFilter!)) && (nameFilter == nil || region.regionName == nameFilter)
        }
        // Regions are configuration, not stored resources: page them by position.
        let indexed = regions.enumerated().map {
            IndexedRegion(region: $0.element, sequence: Int64($0.offset + 1), organizationID: caller.organizationID)
        }
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "fcpm/v2", kind: "RegionList", path: "/fcpm/v2/regions", links: api.links, page: query.page(indexed),
                render: { render.region($0.region, organizationID: $0.organizationID) }))
    }

    /// The environment named by the `environment` query parameter (required on pool reads and deletes).
    func environmentParameter(_ request: Request, caller: Caller) throws(APIError) -> String {
        let environmentID = try request.requiredQuery("environment")
        guard let environment = api.store.snapshot().environments[environmentID], environment.organizationID == caller.organizationID else {
            throw APIError.forbidden("The environment \(environmentID) was not found.")
        }
        return environmentID
    }

    @Sendable func listPools(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = try ListingQuery(request, filterNames: ["environment", "spec.region", "spec.network"])
        guard let environmentID = query.filter("environment") else {
            throw APIError.invalidParameter("environment", "The query parameter 'environment' is required.")
        }
        let state = api.store.snapshot()
        guard state.environments[environmentID]?.organizationID == caller.organizationID else {
            throw APIError.forbidden("The environment \(environmentID) was not found.")
        }
        guard caller.policy.canListComputePools(in: environmentID) else {
            throw APIError.forbidden("You have no Flink role in environment \(environmentID).")
        }
        let region = query.filter("spec.region")
        let network = query.filter("spec.network")
        let pools = state.sorted(\.computePools) { pool in
            // Floe's pools are all on the public network, so a network filter matches none of them.
            pool.environmentIDValue == environmentID && caller.policy.canUse(pool: pool) && (region == nil || pool.region == region)
                && network == nil
        }
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "fcpm/v2", kind: "ComputePoolList", path: "/fcpm/v2/compute-pools", links: api.links, page: query.page(pools),
                next: .tokenLast,
                render: render.computePool))
    }

    @Sendable func createPool(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let poolRequest = ControlPlaneState.ComputePoolRequest(
            displayName: try body.requiredString("/spec/display_name"),
            cloud: try body.requiredString("/spec/cloud"),
            region: try body.requiredString("/spec/region"),
            maxCFU: try body.int("/spec/max_cfu") ?? { () throws(APIError) -> Int in throw body.missing("/spec/max_cfu") }(),
            environmentID: try body.requiredString("/spec/environment/id"),
            enableAI: try body.bool("/spec/enable_ai") ?? false,
            defaultPool: try body.bool("/spec/default_pool") ?? false)
        guard api.store.snapshot().environments[poolRequest.environmentID]?.organizationID == caller.organizationID else {
            throw APIError.forbidden("The environment \(poolRequest.environmentID) was not found.")
        }
        guard caller.policy.canManageComputePools(in: poolRequest.environmentID) else {
            throw APIError.forbidden(
                "Creating compute pools needs FlinkAdmin, EnvironmentAdmin or OrganizationAdmin in \(poolRequest.environmentID).")
        }
        let now = api.now()
        let organizationID = caller.organizationID
        let regions = api.regions
        let pool = try await api.mutate { state throws(APIError) in
            try state.createComputePool(organizationID: organizationID, request: poolRequest, regions: regions, now: now)
        }
        return JSONResponse.make(.accepted, render.computePool(pool))
    }

    /// The pool `id` in `environmentID` if the caller may use it. A missing pool is a 403, as on Confluent Cloud.
    func usablePool(_ id: String, environmentID: String, caller: Caller) throws(APIError) -> ComputePool {
        guard let pool = api.store.snapshot().computePools[id], pool.environmentIDValue == environmentID, caller.policy.canUse(pool: pool) else {
            throw APIError(status: 403, code: "forbidden_access", detail: "The compute pool \(id) was not found.")
        }
        return pool
    }

    @Sendable func getPool(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let environmentID = try environmentParameter(request, caller: caller)
        return JSONResponse.make(.ok, render.computePool(try usablePool(context.parameters.path("id"), environmentID: environmentID, caller: caller)))
    }

    @Sendable func updatePool(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let environmentID = try body.requiredString("/spec/environment/id")
        let displayName = try body.string("/spec/display_name")
        let maxCFU = try body.int("/spec/max_cfu")
        let defaultPool = try body.bool("/spec/default_pool")
        _ = try usablePool(id, environmentID: environmentID, caller: caller)
        guard caller.policy.canManageComputePools(in: environmentID) else {
            throw APIError.forbidden("Changing compute pools needs FlinkAdmin, EnvironmentAdmin or OrganizationAdmin in \(environmentID).")
        }
        let now = api.now()
        let pool = try await api.mutate { state throws(APIError) in
            try state.updateComputePool(
                id: id, environmentID: environmentID, displayName: displayName, maxCFU: maxCFU, defaultPool: defaultPool, now: now)
        }
        return JSONResponse.make(.ok, render.computePool(pool))
    }

    @Sendable func deletePool(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        let environmentID = try environmentParameter(request, caller: caller)
        _ = try usablePool(id, environmentID: environmentID, caller: caller)
        guard caller.policy.canManageComputePools(in: environmentID) else {
            throw APIError.forbidden("Deleting compute pools needs FlinkAdmin, EnvironmentAdmin or OrganizationAdmin in \(environmentID).")
        }
        try await api.mutate { state throws(APIError) in try state.deleteComputePool(id: id, environmentID: environmentID) }
        await api.afterCascadingDelete(nil)
        return JSONResponse.empty(.noContent)
    }

    @Sendable func getConfig(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.policy.isMember else { throw APIError.forbidden("The principal \(caller.principalID) has no role in this organization.") }
        return JSONResponse.make(.ok, render.computePoolConfig(api.store.snapshot().computePoolConfig(organizationID: caller.organizationID)))
    }

    @Sendable func updateConfig(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.policy.isOrganizationAdmin else { throw APIError.forbidden("Only an OrganizationAdmin may change the compute-pool config.") }
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let enabled = try body.bool("/spec/default_pool_enabled")
        let maxCFU = try body.int("/spec/default_pool_max_cfu")
        let now = api.now()
        let organizationID = caller.organizationID
        let config = try await api.mutate { state throws(APIError) in
            try state.updateComputePoolConfig(organizationID: organizationID, defaultPoolEnabled: enabled, defaultPoolMaxCFU: maxCFU, now: now)
        }
        return JSONResponse.make(.ok, render.computePoolConfig(config))
    }
}

/// A configured region given a position, so the generic pager can page regions like stored resources.
struct IndexedRegion: Sequenced {
    let region: FlinkRegion
    let sequence: Int64
    let organizationID: String
}
