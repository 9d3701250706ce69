// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Hummingbird

/// `iam/v2`: users and service accounts.
struct IdentityAPI: Sendable {
    let api: APIEnvironment
    var render: Representations { Representations(links: api.links) }

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("users", use: listUsers)
        router.get("users/:id", use: getUser)
        router.patch("users/:id", use: updateUser)
        router.get("service-accounts", use: listServiceAccounts)
        router.post("service-accounts", use: createServiceAccount)
        router.get("service-accounts/:id", use: getServiceAccount)
        router.patch("service-accounts/:id", use: updateServiceAccount)
        router.delete("service-accounts/:id", use: deleteServiceAccount)
    }

    func requireMember(_ caller: Caller) throws(APIError) {
        guard caller.policy.isMember else { throw APIError.forbidden("The principal \(caller.principalID) has no role in this organization.") }
    }

    @Sendable func listUsers(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try requireMember(caller)
        let query = try ListingQuery(request, filterNames: [])
        let users = api.store.snapshot().sorted(\.users) { $0.organizationID == caller.organizationID }
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "iam/v2", kind: "UserList", path: "/iam/v2/users", links: api.links, page: query.page(users), render: render.user))
    }

    func user(_ id: String, caller: Caller) throws(APIError) -> User {
        guard let user = api.store.snapshot().users[id], user.organizationID == caller.organizationID else {
            throw APIError.notFound("User \(id) was not found.", code: "user_not_found")
        }
        return user
    }

    @Sendable func getUser(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        if id != caller.principalID { try requireMember(caller) }
        return JSONResponse.make(.ok, render.user(try user(id, caller: caller)))
    }

    @Sendable func updateUser(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        _ = try user(id, caller: caller)
        guard id == caller.principalID || caller.policy.isOrganizationAdmin else {
            throw APIError.forbidden("Only the user or an OrganizationAdmin may change user \(id).")
        }
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let fullName = try body.string("/full_name")
        let now = api.now()
        let updated = try await api.mutate { state throws(APIError) in
            guard let fullName else { return state.users[id]! }
            return try state.updateUser(id: id, fullName: fullName, now: now)
        }
        return JSONResponse.make(.ok, render.user(updated))
    }

    @Sendable func listServiceAccounts(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try requireMember(caller)
        let query = try ListingQuery(request, filterNames: ["display_name"])
        let names = Set(query.filterValues("display_name"))
        let accounts = api.store.snapshot().sorted(\.serviceAccounts) {
            $0.organizationID == caller.organizationID && (names.isEmpty || names.contains($0.displayName))
        }
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "iam/v2", kind: "ServiceAccountList", path: "/iam/v2/service-accounts", links: api.links,
                page: query.page(accounts), render: render.serviceAccount))
    }

    @Sendable func createServiceAccount(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.policy.isOrganizationAdmin else { throw APIError.forbidden("Only an OrganizationAdmin may create service accounts.") }
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let displayName = try body.requiredString("/display_name")
        let description = try body.string("/description") ?? ""
        let now = api.now()
        let organizationID = caller.organizationID
        let account = try await api.mutate { state throws(APIError) in
            try state.createServiceAccount(organizationID: organizationID, displayName: displayName, description: description, now: now)
        }
        return JSONResponse.make(.created, render.serviceAccount(account))
    }

    func serviceAccount(_ id: String, caller: Caller) throws(APIError) -> ServiceAccount {
        guard let account = api.store.snapshot().serviceAccounts[id], account.organizationID == caller.organizationID else {
            throw APIError.notFound("Service account \(id) was not found.", code: "service_account_not_found")
        }
        return account
    }

    @Sendable func getServiceAccount(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try requireMember(caller)
        return JSONResponse.make(.ok, render.serviceAccount(try serviceAccount(context.parameters.path("id"), caller: caller)))
    }

    @Sendable func updateServiceAccount(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        guard caller.policy.isOrganizationAdmin else { throw APIError.forbidden("Only an OrganizationAdmin may change service accounts.") }
        _ = try serviceAccount(id, caller: caller)
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let displayName = try body.string("/display_name")
        let description = try body.string("/description")
        let now = api.now()
        let account = try await api.mutate { state throws(APIError) in
            try state.updateServiceAccount(id: id, displayName: displayName, description: description, now: now)
        }
        return JSONResponse.make(.ok, render.serviceAccount(account))
    }

    @Sendable func deleteServiceAccount(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        guard caller.policy.isOrganizationAdmin else { throw APIError.forbidden("Only an OrganizationAdmin may delete service accounts.") }
        _ = try serviceAccount(id, caller: caller)
        try await api.mutate { state throws(APIError) in try state.deleteServiceAccount(id: id) }
        return JSONResponse.empty(.noContent)
    }
}
