// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Hummingbird

/// `org/v2`: organizations and environments.
struct OrgAPI: Sendable {
    let api: APIEnvironment
    var render: Representations { Representations(links: api.links) }

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("organizations", use: listOrganizations)
        router.get("organizations/:id", use: getOrganization)
        router.patch("organizations/:id", use: updateOrganization)
        router.get("environments", use: listEnvironments)
        router.post("environments", use: createEnvironment)
        router.get("environments/:id", use: getEnvironment)
        router.patch("environments/:id", use: updateEnvironment)
        router.delete("environments/:id", use: deleteEnvironment)
    }

    @Sendable func listOrganizations(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = try ListingQuery(request, filterNames: [])
        let state = api.store.snapshot()
        let page = query.page(state.sorted(\.organizations) { $0.id == caller.organizationID })
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "org/v2", kind: "OrganizationList", path: "/org/v2/organizations", links: api.links, page: page,
                render: render.organization))
    }

    @Sendable func getOrganization(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        guard id == caller.organizationID, let organization = api.store.snapshot().organizations[id] else {
            throw APIError.notFound("Organization \(id) was not found.")
        }
        return JSONResponse.make(.ok, render.organization(organization))
    }

    @Sendable func updateOrganization(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        guard id == caller.organizationID else { throw APIError.notFound("Organization \(id) was not found.") }
        guard caller.policy.isOrganizationAdmin else { throw APIError.forbidden("Only an OrganizationAdmin may change the organization.") }
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let displayName = try body.string("/display_name")
        let now = api.now()
        let organization = try await api.mutate { state throws(APIError) in
            try state.updateOrganization(id: id, displayName: displayName, now: now)
        }
        return JSONResponse.make(.ok, render.organization(organization))
    }

    @Sendable func listEnvironments(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = try ListingQuery(request, filterNames: [])
        let state = api.store.snapshot()
        let visible = state.sorted(\.environments) { $0.organizationID == caller.organizationID && caller.policy.canSee(environment: $0.id) }
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "org/v2", kind: "EnvironmentList", path: "/org/v2/environments", links: api.links, page: query.page(visible),
                render: render.environment))
    }

    @Sendable func createEnvironment(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.policy.isOrganizationAdmin else { throw APIError.forbidden("Only an OrganizationAdmin may create environments.") }
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let displayName = try body.requiredString("/display_name")
        let package = try body.string("/stream_governance_config/package")
        let now = api.now()
        let organizationID = caller.organizationID
        let environment = try await api.mutate { state throws(APIError) in
            try state.createEnvironment(organizationID: organizationID, displayName: displayName, governancePackage: package, now: now)
        }
        return JSONResponse.make(.created, render.environment(environment))
    }

    /// The environment `id` if the caller may see it: 404 if it does not exist, 403 if it is not the caller's to see.
    func visibleEnvironment(_ id: String, caller: Caller) throws(APIError) -> FloeCore.Environment {
        guard let environment = api.store.snapshot().environments[id], environment.organizationID == caller.organizationID else {
            throw APIError.notFound("Environment \(id) was not found.")
        }
        guard caller.policy.canSee(environment: id) else { throw APIError.forbidden("You have no role in environment \(id).") }
        return environment
    }

    @Sendable func getEnvironment(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        return JSONResponse.make(.ok, render.environment(try visibleEnvironment(context.parameters.path("id"), caller: caller)))
    }

    @Sendable func updateEnvironment(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        _ = try visibleEnvironment(id, caller: caller)
        guard caller.policy.isEnvironmentAdmin(id) else { throw APIError.forbidden("Only an EnvironmentAdmin of \(id) may change it.") }
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let displayName = try body.string("/display_name")
        let package = try body.string("/stream_governance_config/package")
        let external = try Self.externalSchemaRegistry(body)
        let now = api.now()
        let environment = try await api.mutate { state throws(APIError) in
            let updated = try state.updateEnvironment(id: id, displayName: displayName, governancePackage: package, now: now)
            switch external {
            case nil: return updated
            case .own?: return try state.setExternalSchemaRegistry(environmentID: id, nil, now: now)
            case .external(let registry)?: return try state.setExternalSchemaRegistry(environmentID: id, registry, now: now)
            }
        }
        return JSONResponse.make(.ok, render.environment(environment))
    }

    /// Floe's extension of an environment update: `schema_registry_config {url, api_key, api_secret}` names a Schema
    /// Registry the environment uses instead of its own; an empty `url` goes back to its own. Absent: no change.
    /// The credentials are never returned; `srcm/v3` shows the URL.
    static func externalSchemaRegistry(_ body: RequestDocument) throws(APIError) -> RegistryChoice? {
        guard try body.value("/schema_registry_config") != nil else { return nil }
        let url = try body.requiredString("/schema_registry_config/url")
        guard !url.isEmpty else { return .own }
        return .external(
            ExternalSchemaRegistry(
                url: url, apiKey: try body.string("/schema_registry_config/api_key"),
                apiSecret: try body.string("/schema_registry_config/api_secret")))
    }

    /// Which registry an update asks an environment to use.
    enum RegistryChoice {
        /// Its own (Floe's).
        case own
        case external(ExternalSchemaRegistry)
    }

    @Sendable func deleteEnvironment(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        let registryID = try visibleEnvironment(id, caller: caller).schemaRegistryID
        guard caller.policy.isOrganizationAdmin else { throw APIError.forbidden("Only an OrganizationAdmin may delete environments.") }
        try await api.mutate { state throws(APIError) in _ = try state.deleteEnvironment(id: id) }
        // The registry goes with its environment; if this fails (or the server stops first), the next start drops it.
        if let registryID { try? await api.registries?.drop(registryID) }
        await api.afterCascadingDelete(id)
        return JSONResponse.empty(.noContent)
    }
}
