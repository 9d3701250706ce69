// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Hummingbird

/// `iam/v2/role-bindings`.
struct RoleBindingsAPI: Sendable {
    let api: APIEnvironment
    var render: Representations { Representations(links: api.links) }

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("role-bindings", use: list)
        router.post("role-bindings", use: create)
        router.get("role-bindings/:id", use: get)
        router.delete("role-bindings/:id", use: delete)
    }

    /// Lists the bindings inside `crn_pattern` (required): a binding matches when its pattern is the given one or lies
    /// within it (a `*` value matches any id). Optional exact filters `principal` and `role_name`.
    @Sendable func list(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = try ListingQuery(request, filterNames: ["crn_pattern", "principal", "role_name"])
        guard let patternText = query.filter("crn_pattern") else {
            throw APIError.invalidParameter("crn_pattern", "The query parameter 'crn_pattern' is required.")
        }
        let trimmed = patternText.hasSuffix("/*") ? String(patternText.dropLast(2)) : patternText
        guard let scope = CRNPattern(trimmed) else {
            throw APIError.invalidParameter("crn_pattern", "crn_pattern must be a CRN such as crn://confluent.cloud/organization=….")
        }
        let principal = query.filter("principal")
        let role = query.filter("role_name")
        let bindings = api.store.snapshot().sorted(\.roleBindings) { binding in
            guard binding.organizationID == caller.organizationID, caller.policy.canSee(roleBinding: binding) else { return false }
            guard let bound = CRN(parsing: binding.crnPattern), scope.covers(bound) else { return false }
            return (principal == nil || binding.principal == principal) && (role == nil || binding.role.rawValue == role)
        }
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "iam/v2", kind: "RoleBindingList", path: "/iam/v2/role-bindings", links: api.links, page: query.page(bindings),
                render: render.roleBinding))
    }

    @Sendable func create(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let principal = try body.requiredString("/principal")
        let roleName = try body.requiredString("/role_name")
        let crnPattern = try body.requiredString("/crn_pattern")
        if let role = Role(rawValue: roleName), let scope = CRN(parsing: crnPattern) {
            guard caller.policy.canManageRoleBinding(role: role, scope: scope) else {
                throw APIError.forbidden("The principal \(caller.principalID) may not grant \(roleName) on \(crnPattern).")
            }
        } else if !caller.policy.isMember {
            throw APIError.forbidden("The principal \(caller.principalID) has no role in this organization.")
        }
        let now = api.now()
        let organizationID = caller.organizationID
        let binding = try await api.mutate { state throws(APIError) in
            try state.createRoleBinding(organizationID: organizationID, principal: principal, roleName: roleName, crnPattern: crnPattern, now: now)
        }
        return JSONResponse.make(.created, render.roleBinding(binding))
    }

    func visibleBinding(_ id: String, caller: Caller) throws(APIError) -> RoleBinding {
        guard let binding = api.store.snapshot().roleBindings[id], binding.organizationID == caller.organizationID,
            caller.policy.canSee(roleBinding: binding)
        else {
            if caller.policy.isOrganizationAdmin { throw APIError.notFound("Role binding \(id) was not found.") }
            throw APIError.forbidden("Either unauthorized to access role binding or role binding does not exist")
        }
        return binding
    }

    @Sendable func get(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        return JSONResponse.make(.ok, render.roleBinding(try visibleBinding(context.parameters.path("id"), caller: caller)))
    }

    @Sendable func delete(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        let binding = try visibleBinding(id, caller: caller)
        guard let scope = CRN(parsing: binding.crnPattern), caller.policy.canManageRoleBinding(role: binding.role, scope: scope) else {
            throw APIError.forbidden("The principal \(caller.principalID) may not revoke role binding \(id).")
        }
        let deleted = try await api.mutate { state throws(APIError) in try state.deleteRoleBinding(id: id) }
        return JSONResponse.make(.ok, render.roleBinding(deleted))
    }
}
