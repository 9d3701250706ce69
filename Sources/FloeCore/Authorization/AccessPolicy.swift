// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// What one principal may do, derived from its role bindings.
///
/// Roles and their reach (each applies to everything inside the binding's CRN pattern):
/// - `OrganizationAdmin`: everything in the organization.
/// - `EnvironmentAdmin`: everything in its environment, including granting roles there (but not OrganizationAdmin).
/// - `FlinkAdmin`: manages compute pools and all statements in its environment.
/// - `FlinkDeveloper`: uses compute pools and manages its own statements; cannot create pools.
/// - Kafka clusters (`cmk/v2`) are managed by EnvironmentAdmin and above, and read and used by FlinkDeveloper and above.
/// - `Assigner` (on a service account): may create API keys for that account and run statements as it.
/// - `MetricsViewer` (on the organization): may read `GET /metrics`, and nothing else.
///
/// Every check is a pure function of the bindings, so the rules are tested without a server.
public struct AccessPolicy: Sendable {
    /// The principal the policy is for (`u-…`, `sa-…`).
    public let principalID: String
    /// The principal's organization.
    public let organizationID: String
    /// The roles that reach resources. MetricsViewer is kept apart: it reaches no resource, so no check but
    /// ``canViewMetrics`` may see it (an organization-wide binding would otherwise count as a role in every environment).
    private let grants: [(role: Role, scope: CRNPattern)]
    /// Whether the principal is a MetricsViewer of its organization.
    private let viewsMetrics: Bool

    /// Builds the policy of `principalID` from the bindings in `state`.
    public init(principalID: String, organizationID: String, state: ControlPlaneState) {
        self.init(principalID: principalID, organizationID: organizationID, bindings: state.bindings(ofPrincipal: principalID))
    }

    /// Builds the policy from an explicit list of bindings.
    public init(principalID: String, organizationID: String, bindings: [RoleBinding]) {
        self.principalID = principalID
        self.organizationID = organizationID
        let all: [(role: Role, scope: CRNPattern)] = bindings.compactMap { binding in
            guard binding.organizationID == organizationID, let scope = CRNPattern(binding.crnPattern) else { return nil }
            return (binding.role, scope)
        }
        self.grants = all.filter { $0.role != .metricsViewer }
        self.viewsMetrics = all.contains { $0.role == .metricsViewer && $0.scope.covers(.organization(organizationID)) }
    }

    /// Whether the principal holds one of `roles` on a scope that covers `resource`.
    public func holds(_ roles: Set<Role>, on resource: CRN) -> Bool {
        grants.contains { roles.contains($0.role) && $0.scope.covers(resource) }
    }

    /// Whether any binding of the principal lies inside `scope` or covers it.
    public func hasAnyRole(touching scope: CRN) -> Bool {
        let pattern = CRNPattern(scope)
        return grants.contains { $0.scope.covers(scope) || pattern.covers($0.scope.crn) }
    }

    /// OrganizationAdmin of the principal's organization.
    public var isOrganizationAdmin: Bool {
        holds([.organizationAdmin], on: .organization(organizationID))
    }

    /// Read the server's metrics: OrganizationAdmin or MetricsViewer of the organization.
    public var canViewMetrics: Bool { viewsMetrics || isOrganizationAdmin }

    /// Whether the principal has any role at all in the organization.
    public var isMember: Bool { !grants.isEmpty }

    /// OrganizationAdmin, or EnvironmentAdmin of `environmentID`.
    public func isEnvironmentAdmin(_ environmentID: String) -> Bool {
        holds([.organizationAdmin, .environmentAdmin], on: .environment(organizationID, environmentID))
    }

    /// Whether the principal may see an environment (it has some role in or above it).
    public func canSee(environment environmentID: String) -> Bool {
        hasAnyRole(touching: .environment(organizationID, environmentID))
    }

    /// Create, update and delete compute pools in an environment.
    public func canManageComputePools(in environmentID: String) -> Bool {
        holds([.organizationAdmin, .environmentAdmin, .flinkAdmin], on: .environment(organizationID, environmentID))
    }

    /// Read (and run statements on) a compute pool.
    public func canUse(pool: ComputePool) -> Bool {
        holds(
            [.organizationAdmin, .environmentAdmin, .flinkAdmin, .flinkDeveloper],
            on: .computePool(organizationID, pool.environmentIDValue, pool.regionID, pool.id))
    }

    /// See the compute pools of an environment in a listing (some Flink role in it).
    public func canListComputePools(in environmentID: String) -> Bool {
        canManageComputePools(in: environmentID) || hasAnyRole(touching: .environment(organizationID, environmentID))
    }

    /// Manage every statement of an environment (FlinkAdmin and above), not only the principal's own.
    public func canManageAllStatements(in environmentID: String) -> Bool {
        holds([.organizationAdmin, .environmentAdmin, .flinkAdmin], on: .environment(organizationID, environmentID))
    }

    /// Run statements in an environment and region (FlinkDeveloper and above).
    public func canRunStatements(in environmentID: String, regionID: String) -> Bool {
        holds(
            [.organizationAdmin, .environmentAdmin, .flinkAdmin, .flinkDeveloper],
            on: .flinkRegion(organizationID, environmentID, regionID))
            || grants.contains { grant in
                [.flinkDeveloper, .flinkAdmin].contains(grant.role)
                    && CRNPattern(.flinkRegion(organizationID, environmentID, regionID)).covers(grant.scope.crn)
            }
    }

    /// What the principal's statements may do with the catalog of `environmentID`: everything where it may run
    /// statements (a Flink role, EnvironmentAdmin or OrganizationAdmin on the environment, or a Flink role on a region or
    /// compute pool inside it), nothing elsewhere.
    public func catalogAccess(environmentID: String) -> CatalogAccess {
        let environment = CRN.environment(organizationID, environmentID)
        if holds([.organizationAdmin, .environmentAdmin, .flinkAdmin, .flinkDeveloper], on: environment) { return .all }
        // A Flink role on a region or pool: its pattern cut to the environment must cover this one (`environment=*`
        // and `env-*` included).
        let hasFlinkRoleInside = grants.contains { grant in
            guard [.flinkAdmin, .flinkDeveloper].contains(grant.role), grant.scope.crn.elements.count > 2 else { return false }
            let environmentPart = CRN(authority: grant.scope.crn.authority, elements: Array(grant.scope.crn.elements.prefix(2)))
            return CRNPattern(environmentPart).covers(environment)
        }
        return hasFlinkRoleInside ? .all : []
    }

    /// Read an environment's Schema Registry and register schemas in it: whoever may run statements there
    /// (FlinkDeveloper and above on the environment, or a Flink role on a region or pool inside it), since tables of
    /// that environment register their schemas through it.
    public func canUseSchemaRegistry(in environmentID: String) -> Bool {
        catalogAccess(environmentID: environmentID) == .all
    }

    /// Change an environment's Schema Registry configuration and delete subjects or versions: EnvironmentAdmin and
    /// above.
    public func canManageSchemaRegistry(in environmentID: String) -> Bool {
        isEnvironmentAdmin(environmentID)
    }

    /// Attach, change and detach the Kafka clusters of an environment (EnvironmentAdmin and above).
    public func canManageKafkaClusters(in environmentID: String) -> Bool {
        isEnvironmentAdmin(environmentID)
    }

    /// See a Kafka cluster and its topics, and use it in statements: FlinkDeveloper and above on the cluster, or any
    /// role that runs statements with the environment's catalog (a Flink role on a region or pool inside it).
    public func canUse(kafkaCluster cluster: KafkaCluster) -> Bool {
        holds(
            [.organizationAdmin, .environmentAdmin, .flinkAdmin, .flinkDeveloper],
            on: .kafkaCluster(organizationID, cluster.environmentIDValue, cluster.id))
            || catalogAccess(environmentID: cluster.environmentIDValue).contains(.read)
    }

    /// Act as a service account (run statements as it, create its keys): Assigner on it, or OrganizationAdmin.
    public func canAssign(serviceAccount serviceAccountID: String) -> Bool {
        holds([.organizationAdmin, .assigner], on: .serviceAccount(organizationID, serviceAccountID))
    }

    /// Grant or revoke `role` on `scope`.
    public func canManageRoleBinding(role: Role, scope: CRN) -> Bool {
        if isOrganizationAdmin { return true }
        guard role != .organizationAdmin, let environmentID = scope.value(of: "environment") else { return false }
        return isEnvironmentAdmin(environmentID)
    }

    /// See a role binding: the principal's own, or one it could manage.
    public func canSee(roleBinding: RoleBinding) -> Bool {
        if RoleBinding.principalID(roleBinding.principal) == principalID { return true }
        guard let scope = CRN(parsing: roleBinding.crnPattern) else { return isOrganizationAdmin }
        return canManageRoleBinding(role: roleBinding.role, scope: scope)
    }

    /// Whether the principal holds everything `other` holds: for each of `other`'s roles, a role that includes it on a
    /// scope at least as wide. Minting a key for `other` must not give the minter more than it has.
    public func holdsEverything(of other: AccessPolicy) -> Bool {
        (!other.viewsMetrics || canViewMetrics)
            && other.grants.allSatisfy { theirs in
                grants.contains { mine in mine.role.includes(theirs.role) && mine.scope.covers(theirs.scope.crn) }
            }
    }

    /// Why the principal may not create an API key owned by `owner` for `resource`, or nil if it may.
    ///
    /// A key acts as its owner, so creating one for another principal needs the right to act as it — OrganizationAdmin,
    /// or Assigner on that service account — and is refused when the owner holds a role the creator does not. A Flink
    /// API key works only where its owner may run statements, so it needs a Flink role (or EnvironmentAdmin or
    /// OrganizationAdmin) of its owner in its environment and region.
    public func refusalToCreateAPIKey(owner: AccessPolicy, resource: APIKeyResource) -> String? {
        if owner.principalID != principalID {
            guard isOrganizationAdmin || (owner.principalID.hasPrefix("sa-") && canAssign(serviceAccount: owner.principalID)) else {
                return
                    "The principal \(principalID) may not create API keys for \(owner.principalID): that needs OrganizationAdmin, or the Assigner role on \(owner.principalID)."
            }
            guard holdsEverything(of: owner) else {
                return
                    "The principal \(principalID) may not create API keys for \(owner.principalID): \(owner.principalID) holds roles that \(principalID) does not, and its key would act with them."
            }
        }
        if case .flinkRegion(let regionID, let environmentID) = resource, !owner.canRunStatements(in: environmentID, regionID: regionID) {
            return
                "A Flink API key for \(owner.principalID) in \(environmentID) and \(regionID) needs a role of \(owner.principalID) there that runs statements: FlinkDeveloper, FlinkAdmin, EnvironmentAdmin or OrganizationAdmin."
        }
        if case .schemaRegistry(let clusterID, let environmentID) = resource, !owner.canUseSchemaRegistry(in: environmentID) {
            return
                "A Schema Registry API key for \(owner.principalID) on \(clusterID) needs a role of \(owner.principalID) in \(environmentID) that uses the registry: FlinkDeveloper, FlinkAdmin, EnvironmentAdmin or OrganizationAdmin."
        }
        return nil
    }

    /// See, update or delete an API key owned by `ownerID` for `resource` (creating one is ``refusalToCreateAPIKey(owner:resource:)``).
    public func canManageAPIKey(ownerID: String, resource: APIKeyResource) -> Bool {
        if ownerID == principalID || isOrganizationAdmin { return true }
        guard ownerID.hasPrefix("sa-") else { return false }
        if canAssign(serviceAccount: ownerID) { return true }
        if let environmentID = resource.environmentID { return isEnvironmentAdmin(environmentID) }
        return false
    }
}
