// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Hummingbird

/// `iam/v2/api-keys`: Cloud API keys and Flink API keys.
struct APIKeysAPI: Sendable {
    let api: APIEnvironment
    var render: Representations { Representations(links: api.links) }

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("api-keys", use: list)
        router.post("api-keys", use: create)
        router.get("api-keys/:id", use: get)
        router.patch("api-keys/:id", use: update)
        router.delete("api-keys/:id", use: delete)
    }

    @Sendable func list(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = try ListingQuery(request, filterNames: ["spec.owner", "spec.resource"])
        let owner = query.filter("spec.owner")
        let resource = query.filter("spec.resource")
        let keys = api.store.snapshot().sorted(\.apiKeys) { key in
            key.organizationID == caller.organizationID && caller.policy.canManageAPIKey(ownerID: key.ownerID, resource: key.resource)
                && (owner == nil || key.ownerID == owner) && (resource == nil || key.resource.id == resource)
        }
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "iam/v2", kind: "ApiKeyList", path: "/iam/v2/api-keys", links: api.links, page: query.page(keys),
                render: { render.apiKey($0) }))
    }

    @Sendable func create(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let ownerID = try body.requiredString("/spec/owner/id")
        let resourceID = try body.string("/spec/resource/id") ?? "cloud"
        let environmentID = try body.string("/spec/resource/environment")
        let displayName = try body.string("/spec/display_name") ?? ""
        let description = try body.string("/spec/description") ?? ""
        let snapshot = api.store.snapshot()
        let resource = try snapshot.resolveAPIKeyResource(
            organizationID: caller.organizationID, resourceID: resourceID, environmentID: environmentID, regions: api.regions)
        // An owner that does not exist is the store's to refuse (404) below.
        if snapshot.principalExists(ownerID, organizationID: caller.organizationID) {
            let owner = AccessPolicy(principalID: ownerID, organizationID: caller.organizationID, state: snapshot)
            if let refusal = caller.policy.refusalToCreateAPIKey(owner: owner, resource: resource) {
                throw APIError.forbidden(refusal)
            }
        } else if !caller.policy.isOrganizationAdmin, !caller.policy.canAssign(serviceAccount: ownerID) {
            throw APIError.forbidden("The principal \(caller.principalID) may not create API keys for \(ownerID).")
        }
        let secret = IdentifierGenerator.apiSecret()
        let digest = SecretHasher.digest(of: secret)
        let now = api.now()
        let organizationID = caller.organizationID
        let key = try await api.mutate { state throws(APIError) in
            let keyID = state.uniqueID(IdentifierGenerator.apiKeyID) { state.apiKeys[$0] != nil }
            return try state.createAPIKey(
                organizationID: organizationID, ownerID: ownerID, resource: resource, displayName: displayName, description: description,
                keyID: keyID, secretDigest: digest, now: now)
        }
        return JSONResponse.make(.accepted, render.apiKey(key, secret: secret))
    }

    /// The key `id` if the caller may manage it. Like Confluent Cloud, a key the caller may not see and a key that does
    /// not exist look alike to a non-admin (403); an OrganizationAdmin gets 404 for a missing key.
    func visibleKey(_ id: String, caller: Caller) throws(APIError) -> APIKey {
        let key = api.store.snapshot().apiKeys[id]
        if let key, key.organizationID == caller.organizationID, caller.policy.canManageAPIKey(ownerID: key.ownerID, resource: key.resource) {
            return key
        }
        if caller.policy.isOrganizationAdmin { throw APIError.notFound("API key \(id) was not found.") }
        throw APIError(status: 403, code: "forbidden_access", detail: "Forbidden Access")
    }

    @Sendable func get(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        return JSONResponse.make(.ok, render.apiKey(try visibleKey(context.parameters.path("id"), caller: caller)))
    }

    @Sendable func update(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        _ = try visibleKey(id, caller: caller)
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        // confluent-cloud-sdk sends {"description": …} at the top level instead of under spec: accept both.
        let displayName = try body.string("/spec/display_name") ?? body.string("/display_name")
        let description = try body.string("/spec/description") ?? body.string("/description")
        let now = api.now()
        let key = try await api.mutate { state throws(APIError) in
            try state.updateAPIKey(id: id, displayName: displayName, description: description, now: now)
        }
        return JSONResponse.make(.ok, render.apiKey(key))
    }

    @Sendable func delete(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        _ = try visibleKey(id, caller: caller)
        try await api.mutate { state throws(APIError) in try state.deleteAPIKey(id: id) }
        return JSONResponse.empty(.noContent)
    }
}
