// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The ids and credentials created by ``ControlPlaneState/bootstrap(now:adminKeyID:adminSecretDigest:)``.
public struct BootstrapResult: Sendable, Equatable {
    public var organizationID: String
    public var environmentID: String
    public var userID: String
    public var apiKeyID: String
}

/// The domain rules of the control plane: validation, uniqueness and cascades. Each operation either throws an
/// ``APIError`` without changing anything, or applies all its changes (recorded for the store).
extension ControlPlaneState {
    // MARK: Validation helpers

    /// `^(?:[0-9A-Za-z\-])[\w\.-]{0,63}$`, the compute-pool display-name pattern of the fcpm/v2 spec.
    static func isValidPoolName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, scalars.count <= 64 else { return false }
        func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
        }
        guard isASCIIAlphanumeric(first) || first == "-" else { return false }
        return scalars.dropFirst().allSatisfy { isASCIIAlphanumeric($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }

    static func validateDisplayName(_ name: String, pointer: String, maxLength: Int = 64) throws(APIError) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw .badRequest("\(pointer.split(separator: "/").last ?? "display_name") must not be empty.", pointer: pointer)
        }
        guard name.count <= maxLength else {
            throw .badRequest("\(pointer.split(separator: "/").last ?? "display_name") must be at most \(maxLength) characters.", pointer: pointer)
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badRequest("\(pointer.split(separator: "/").last ?? "display_name") must not contain control characters.", pointer: pointer)
        }
    }

    static func validateDescription(_ text: String, pointer: String) throws(APIError) {
        guard text.count <= 1024 else { throw .badRequest("description must be at most 1024 characters.", pointer: pointer) }
    }

    static func validateMaxCFU(_ value: Int, pointer: String) throws(APIError) {
        guard ComputePool.allowedMaxCFU.contains(value) else {
            throw .badRequest("max_cfu must be one of [5, 10, 20, 30, 40, 50], got \(value).", pointer: pointer)
        }
    }

    public func uniqueID(_ make: () -> String, taken: (String) -> Bool) -> String {
        var id = make()
        while taken(id) { id = make() }
        return id
    }

    // MARK: Bootstrap

    /// Creates the organization, its `default` environment, an OrganizationAdmin user and that user's Cloud API key.
    /// Does nothing if an organization already exists.
    public mutating func bootstrap(now: Date, adminKeyID: String, adminSecretDigest: SecretDigest) -> BootstrapResult? {
        guard organizations.isEmpty else { return nil }
        let organization = Organization(id: IdentifierGenerator.uuid(), displayName: "floe", sequence: nextSequence(), createdAt: now, updatedAt: now)
        put(organization, in: \.organizations)
        let environment = Environment(
            id: IdentifierGenerator.environmentID(), organizationID: organization.id, displayName: "default",
            streamGovernancePackage: "ESSENTIALS", sequence: nextSequence(), createdAt: now, updatedAt: now)
        put(environment, in: \.environments)
        let user = User(
            id: IdentifierGenerator.userID(), organizationID: organization.id, email: "admin@floe.local", fullName: "Floe Admin",
            authType: "AUTH_TYPE_LOCAL", sequence: nextSequence(), createdAt: now, updatedAt: now)
        put(user, in: \.users)
        let binding = RoleBinding(
            id: IdentifierGenerator.roleBindingID(), organizationID: organization.id, principal: "User:\(user.id)",
            role: .organizationAdmin, crnPattern: CRN.organization(organization.id).description, sequence: nextSequence(),
            createdAt: now)
        put(binding, in: \.roleBindings)
        let key = APIKey(
            id: adminKeyID, organizationID: organization.id, displayName: "floe-admin",
            description: "Cloud API key of the bootstrap administrator", ownerID: user.id, resource: .cloud,
            secretDigest: adminSecretDigest, sequence: nextSequence(), createdAt: now, updatedAt: now)
        put(key, in: \.apiKeys)
        put(
            ComputePoolConfig(
                organizationID: organization.id, defaultPoolEnabled: true, defaultPoolMaxCFU: 20, sequence: nextSequence(), updatedAt: now),
            in: \.computePoolConfigs)
        return BootstrapResult(organizationID: organization.id, environmentID: environment.id, userID: user.id, apiKeyID: key.id)
    }

    // MARK: Environments

    /// Creates an environment; display names are unique in an organization (they name Flink catalogs).
    public mutating func createEnvironment(
        organizationID: String, displayName: String, governancePackage: String?, now: Date
    ) throws(APIError) -> Environment {
        try Self.validateDisplayName(displayName, pointer: "/display_name")
        try Self.validateGovernance(governancePackage)
        try requireUniqueEnvironmentName(displayName, organizationID: organizationID, except: nil)
        let id = uniqueID(IdentifierGenerator.environmentID) { environments[$0] != nil }
        let environment = Environment(
            id: id, organizationID: organizationID, displayName: displayName, streamGovernancePackage: governancePackage ?? "ESSENTIALS",
            sequence: nextSequence(), createdAt: now, updatedAt: now)
        put(environment, in: \.environments)
        return environment
    }

    static func validateGovernance(_ package: String?) throws(APIError) {
        guard let package else { return }
        guard ["ESSENTIALS", "ADVANCED"].contains(package) else {
            throw .badRequest("stream_governance_config.package must be ESSENTIALS or ADVANCED.", pointer: "/stream_governance_config/package")
        }
    }

    func requireUniqueEnvironmentName(_ name: String, organizationID: String, except id: String?) throws(APIError) {
        if environments.values.contains(where: { $0.organizationID == organizationID && $0.displayName == name && $0.id != id }) {
            throw .conflict("An environment named '\(name)' already exists.")
        }
    }

    /// Renames an environment or changes its governance package.
    public mutating func updateEnvironment(id: String, displayName: String?, governancePackage: String?, now: Date) throws(APIError) -> Environment {
        guard var environment = environments[id] else { throw .notFound("Environment \(id) was not found.") }
        if let displayName {
            try Self.validateDisplayName(displayName, pointer: "/display_name")
            try requireUniqueEnvironmentName(displayName, organizationID: environment.organizationID, except: id)
            environment.displayName = displayName
        }
        if let governancePackage {
            try Self.validateGovernance(governancePackage)
            environment.streamGovernancePackage = governancePackage
        }
        environment.updatedAt = now
        put(environment, in: \.environments)
        return environment
    }

    /// Deletes an environment with everything inside it: compute pools, Kafka clusters, role bindings scoped to it and
    /// Flink API keys for it. Returns the ids of the deleted compute pools (their statements go with them).
    @discardableResult
    public mutating func deleteEnvironment(id: String) throws(APIError) -> [String] {
        guard let environment = environments[id] else { throw .notFound("Environment \(id) was not found.") }
        let pools = computePools.values.filter { $0.environmentIDValue == id }.map(\.id)
        for pool in pools { remove(pool, from: \.computePools) }
        removeStatements { $0.environmentIDValue == id }
        removeKafkaClusters(environmentID: id)
        let scope = CRNPattern(.environment(environment.organizationID, id))
        for binding in roleBindings.values where CRN(parsing: binding.crnPattern).map(scope.covers) ?? false {
            remove(binding.id, from: \.roleBindings)
        }
        for key in apiKeys.values where key.resource.environmentID == id { remove(key.id, from: \.apiKeys) }
        remove(id, from: \.environments)
        return pools
    }

    // MARK: Users and service accounts

    /// Changes a user's full name.
    public mutating func updateUser(id: String, fullName: String, now: Date) throws(APIError) -> User {
        guard var user = users[id] else { throw .notFound("User \(id) was not found.", code: "user_not_found") }
        try Self.validateDisplayName(fullName, pointer: "/full_name", maxLength: 128)
        user.fullName = fullName
        user.updatedAt = now
        put(user, in: \.users)
        return user
    }

    /// Creates a service account; display names are unique in an organization.
    public mutating func createServiceAccount(
        organizationID: String, displayName: String, description: String, now: Date
    ) throws(APIError) -> ServiceAccount {
        try Self.validateDisplayName(displayName, pointer: "/display_name")
        try Self.validateDescription(description, pointer: "/description")
        try requireUniqueServiceAccountName(displayName, organizationID: organizationID, except: nil)
        let id = uniqueID(IdentifierGenerator.serviceAccountID) { serviceAccounts[$0] != nil }
        let account = ServiceAccount(
            id: id, organizationID: organizationID, displayName: displayName, description: description, sequence: nextSequence(),
            createdAt: now, updatedAt: now)
        put(account, in: \.serviceAccounts)
        return account
    }

    func requireUniqueServiceAccountName(_ name: String, organizationID: String, except id: String?) throws(APIError) {
        if serviceAccounts.values.contains(where: { $0.organizationID == organizationID && $0.displayName == name && $0.id != id }) {
            throw .conflict("A service account named '\(name)' already exists.")
        }
    }

    /// Changes a service account's display name or description.
    public mutating func updateServiceAccount(id: String, displayName: String?, description: String?, now: Date) throws(APIError) -> ServiceAccount {
        guard var account = serviceAccounts[id] else {
            throw .notFound("Service account \(id) was not found.", code: "service_account_not_found")
        }
        if let displayName {
            try Self.validateDisplayName(displayName, pointer: "/display_name")
            try requireUniqueServiceAccountName(displayName, organizationID: account.organizationID, except: id)
            account.displayName = displayName
        }
        if let description {
            try Self.validateDescription(description, pointer: "/description")
            account.description = description
        }
        account.updatedAt = now
        put(account, in: \.serviceAccounts)
        return account
    }

    /// Deletes a service account with its API keys and role bindings.
    public mutating func deleteServiceAccount(id: String) throws(APIError) {
        guard serviceAccounts[id] != nil else { throw .notFound("Service account \(id) was not found.", code: "service_account_not_found") }
        removeCredentials(ofPrincipal: id)
        remove(id, from: \.serviceAccounts)
    }

    /// Removes a principal's API keys, its role bindings, and the bindings others hold on it (Assigner on a
    /// service account).
    mutating func removeCredentials(ofPrincipal principalID: String) {
        for key in apiKeys.values where key.ownerID == principalID { remove(key.id, from: \.apiKeys) }
        for binding in roleBindings.values
        where RoleBinding.principalID(binding.principal) == principalID
            || CRN(parsing: binding.crnPattern)?.elements.contains(where: {
                ["service-account", "user"].contains($0.type) && $0.value == principalID
            }) == true
        {
            remove(binding.id, from: \.roleBindings)
        }
    }

    // MARK: API keys

    /// Resolves the resource an API key is requested for: `cloud`, or a Flink region id with an environment. A Flink key
    /// requested without an environment is scoped to the organization's default environment.
    public func resolveAPIKeyResource(
        organizationID: String, resourceID: String, environmentID: String?, regions: [FlinkRegion]
    ) throws(APIError) -> APIKeyResource {
        if resourceID.lowercased() == "cloud" { return .cloud }
        guard let (cloud, regionName) = FlinkRegion.parseID(resourceID),
            let region = regions.first(where: { $0.cloud == cloud && $0.regionName == regionName })
        else {
            throw .badRequest(
                "spec.resource.id must be 'cloud' or a Flink region id such as 'aws.us-east-1'; '\(resourceID)' is neither.",
                pointer: "/spec/resource/id")
        }
        let environment: Environment
        if let environmentID {
            guard let found = environments[environmentID], found.organizationID == organizationID else {
                throw .badRequest(
                    "spec.resource.environment \(environmentID) is not an environment of this organization.", pointer: "/spec/resource/environment")
            }
            environment = found
        } else {
            guard let fallback = defaultEnvironment(organizationID: organizationID) else {
                throw .badRequest("spec.resource.environment is required for a Flink API key.", pointer: "/spec/resource/environment")
            }
            environment = fallback
        }
        return .flinkRegion(regionID: region.id, environmentID: environment.id)
    }

    /// Creates an API key with an already generated id and secret digest.
    public mutating func createAPIKey(
        organizationID: String, ownerID: String, resource: APIKeyResource, displayName: String, description: String,
        keyID: String, secretDigest: SecretDigest, now: Date
    ) throws(APIError) -> APIKey {
        guard principalExists(ownerID, organizationID: organizationID) else {
            throw .badRequest("spec.owner.id \(ownerID) is not a user or service account of this organization.", pointer: "/spec/owner/id")
        }
        try Self.validateDescription(description, pointer: "/spec/description")
        guard displayName.count <= 64 else { throw .badRequest("display_name must be at most 64 characters.", pointer: "/spec/display_name") }
        guard apiKeys[keyID] == nil else { throw .conflict("An API key with id \(keyID) already exists.") }
        let key = APIKey(
            id: keyID, organizationID: organizationID, displayName: displayName, description: description, ownerID: ownerID,
            resource: resource, secretDigest: secretDigest, sequence: nextSequence(), createdAt: now, updatedAt: now)
        put(key, in: \.apiKeys)
        return key
    }

    /// Changes an API key's display name or description.
    public mutating func updateAPIKey(id: String, displayName: String?, description: String?, now: Date) throws(APIError) -> APIKey {
        guard var key = apiKeys[id] else { throw .notFound("API key \(id) was not found.") }
        if let displayName {
            guard displayName.count <= 64 else { throw .badRequest("display_name must be at most 64 characters.", pointer: "/spec/display_name") }
            key.displayName = displayName
        }
        if let description {
            try Self.validateDescription(description, pointer: "/spec/description")
            key.description = description
        }
        key.updatedAt = now
        put(key, in: \.apiKeys)
        return key
    }

    /// Deletes an API key.
    public mutating func deleteAPIKey(id: String) throws(APIError) {
        guard apiKeys[id] != nil else { throw .notFound("API key \(id) was not found.") }
        remove(id, from: \.apiKeys)
    }

    // MARK: Role bindings

    /// Grants `role` to `principal` (`User:u-…`/`User:sa-…`) on `crnPattern`.
    public mutating func createRoleBinding(
        organizationID: String, principal: String, roleName: String, crnPattern: String, now: Date
    ) throws(APIError) -> RoleBinding {
        guard let role = Role(rawValue: roleName) else {
            throw .badRequest(
                "role_name '\(roleName)' is not a known role (\(Role.allCases.map(\.rawValue).joined(separator: ", "))).",
                pointer: "/role_name")
        }
        guard principal.hasPrefix("User:"), let principalID = RoleBinding.principalID(principal) else {
            throw .badRequest("principal must look like 'User:u-…' or 'User:sa-…'.", pointer: "/principal")
        }
        guard principalExists(principalID, organizationID: organizationID) else {
            throw .notFound("The principal \(principal) does not exist in this organization.")
        }
        guard let pattern = CRNPattern(crnPattern), pattern.crn.value(of: "organization") == organizationID else {
            throw .badRequest(
                "crn_pattern must be a CRN inside this organization, such as crn://confluent.cloud/organization=\(organizationID)/environment=env-….",
                pointer: "/crn_pattern")
        }
        let scope = pattern.crn.elements.map(\.type)
        guard scope.first == "organization", role.bindableScopes.contains(Array(scope.dropFirst())) else {
            let shapes = role.bindableScopes.map { types in
                (["organization=\(organizationID)"] + types.map { "\($0)=…" }).joined(separator: "/")
            }
            throw .badRequest(
                "The role \(roleName) cannot be bound to \(crnPattern): it applies only to crn://confluent.cloud/\(shapes.joined(separator: " or crn://confluent.cloud/")).",
                pointer: "/crn_pattern")
        }
        if let environmentID = pattern.crn.value(of: "environment"), !environmentID.contains("*"),
            environments[environmentID]?.organizationID != organizationID
        {
            throw .notFound("Environment \(environmentID) named in crn_pattern was not found.")
        }
        if roleBindings.values.contains(where: { $0.principal == principal && $0.role == role && $0.crnPattern == crnPattern }) {
            throw .conflict("\(principal) already has the role \(roleName) on \(crnPattern).")
        }
        let id = uniqueID(IdentifierGenerator.roleBindingID) { roleBindings[$0] != nil }
        let binding = RoleBinding(
            id: id, organizationID: organizationID, principal: principal, role: role, crnPattern: crnPattern, sequence: nextSequence(),
            createdAt: now)
        put(binding, in: \.roleBindings)
        return binding
    }

    /// Revokes a role binding.
    public mutating func deleteRoleBinding(id: String) throws(APIError) -> RoleBinding {
        guard let binding = roleBindings[id] else { throw .notFound("Role binding \(id) was not found.") }
        remove(id, from: \.roleBindings)
        return binding
    }

    // MARK: Compute pools

    /// What a compute-pool create request asks for.
    public struct ComputePoolRequest: Sendable {
        public var displayName: String
        public var cloud: String
        public var region: String
        public var maxCFU: Int
        public var environmentID: String
        public var enableAI: Bool
        public var defaultPool: Bool

        public init(displayName: String, cloud: String, region: String, maxCFU: Int, environmentID: String, enableAI: Bool, defaultPool: Bool) {
            self.displayName = displayName
            self.cloud = cloud
            self.region = region
            self.maxCFU = maxCFU
            self.environmentID = environmentID
            self.enableAI = enableAI
            self.defaultPool = defaultPool
        }
    }

    static func validatePoolName(_ name: String) throws(APIError) {
        guard isValidPoolName(name) else {
            throw .badRequest(
                "display_name must start with a letter, digit or '-', and contain at most 64 letters, digits, '_', '.' or '-'.",
                pointer: "/spec/display_name")
        }
    }

    func requireUniquePoolName(_ name: String, environmentID: String, except id: String?) throws(APIError) {
        if computePools.values.contains(where: { $0.environmentIDValue == environmentID && $0.displayName == name && $0.id != id }) {
            throw .conflict("The compute pool name already exists, please try with another compute pool name")
        }
    }

    /// Creates a compute pool in PROVISIONING.
    public mutating func createComputePool(
        organizationID: String, request: ComputePoolRequest, regions: [FlinkRegion], now: Date
    ) throws(APIError) -> ComputePool {
        try Self.validatePoolName(request.displayName)
        guard let cloud = Cloud(caseInsensitive: request.cloud) else {
            throw .badRequest("spec.cloud must be one of AWS, GCP, AZURE; got '\(request.cloud)'.", pointer: "/spec/cloud")
        }
        guard regions.contains(where: { $0.cloud == cloud && $0.regionName == request.region }) else {
            let offered = regions.filter { $0.cloud == cloud }.map(\.regionName).joined(separator: ", ")
            throw .badRequest(
                "spec.region '\(request.region)' is not a Flink region of \(cloud.rawValue) on this server (offered: \(offered)).",
                pointer: "/spec/region")
        }
        try Self.validateMaxCFU(request.maxCFU, pointer: "/spec/max_cfu")
        guard let environment = environments[request.environmentID], environment.organizationID == organizationID else {
            throw .notFound("Environment \(request.environmentID) was not found.")
        }
        try requireUniquePoolName(request.displayName, environmentID: environment.id, except: nil)
        let id = uniqueID(IdentifierGenerator.computePoolID) { computePools[$0] != nil }
        let pool = ComputePool(
            id: id, organizationID: organizationID, environmentID: environment.id, displayName: request.displayName, cloud: cloud,
            region: request.region, maxCFU: request.maxCFU, enableAI: request.enableAI, defaultPool: false, phase: .provisioning,
            currentCFU: 0, sequence: nextSequence(), createdAt: now, updatedAt: now)
        put(pool, in: \.computePools)
        if request.defaultPool { makeDefault(poolID: id, now: now) }
        return computePools[id]!
    }

    /// Makes a pool the default of its environment and region, clearing the flag on the previous default.
    mutating func makeDefault(poolID: String, now: Date) {
        guard var pool = computePools[poolID] else { return }
        for var other in computePools.values
        where other.id != poolID && other.defaultPool && other.environmentIDValue == pool.environmentIDValue && other.regionID == pool.regionID {
            other.defaultPool = false
            other.updatedAt = now
            put(other, in: \.computePools)
        }
        pool.defaultPool = true
        pool.updatedAt = now
        put(pool, in: \.computePools)
    }

    /// Changes a pool's display name, CFU limit or default flag. `environmentID` must be the pool's environment.
    public mutating func updateComputePool(
        id: String, environmentID: String, displayName: String?, maxCFU: Int?, defaultPool: Bool?, now: Date
    ) throws(APIError) -> ComputePool {
        guard var pool = computePools[id], pool.environmentIDValue == environmentID else {
            throw APIError(status: 403, code: "forbidden_access", detail: "The compute pool \(id) was not found.")
        }
        if let displayName {
            try Self.validatePoolName(displayName)
            try requireUniquePoolName(displayName, environmentID: environmentID, except: id)
            pool.displayName = displayName
        }
        if let maxCFU {
            try Self.validateMaxCFU(maxCFU, pointer: "/spec/max_cfu")
            pool.maxCFU = maxCFU
        }
        if defaultPool == false { pool.defaultPool = false }
        pool.updatedAt = now
        put(pool, in: \.computePools)
        if defaultPool == true { makeDefault(poolID: id, now: now) }
        return computePools[id]!
    }

    /// Deletes a compute pool and the statements in it (running ones are cancelled by the scheduler).
    public mutating func deleteComputePool(id: String, environmentID: String) throws(APIError) {
        guard let pool = computePools[id], pool.environmentIDValue == environmentID else {
            throw APIError(status: 403, code: "forbidden_access", detail: "The compute pool \(id) was not found.")
        }
        removeStatements { $0.computePoolID == id }
        remove(pool.id, from: \.computePools)
    }

    /// Moves a PROVISIONING pool to PROVISIONED. Returns `false` if there was nothing to do.
    @discardableResult
    public mutating func markProvisioned(poolID: String, now: Date) -> Bool {
        guard var pool = computePools[poolID], pool.phase == .provisioning else { return false }
        pool.phase = .provisioned
        pool.updatedAt = now
        put(pool, in: \.computePools)
        return true
    }

    /// Changes the organization's compute-pool settings.
    public mutating func updateComputePoolConfig(
        organizationID: String, defaultPoolEnabled: Bool?, defaultPoolMaxCFU: Int?, now: Date
    ) throws(APIError) -> ComputePoolConfig {
        var config = computePoolConfig(organizationID: organizationID)
        if let defaultPoolMaxCFU {
            guard ComputePool.allowedMaxCFU.contains(defaultPoolMaxCFU) else {
                throw .badRequest("default_pool_max_cfu must be one of [5, 10, 20, 30, 40, 50]", pointer: "/spec/default_pool_max_cfu")
            }
            config.defaultPoolMaxCFU = defaultPoolMaxCFU
        }
        if let defaultPoolEnabled { config.defaultPoolEnabled = defaultPoolEnabled }
        if config.sequence == 0 { config.sequence = nextSequence() }
        config.updatedAt = now
        put(config, in: \.computePoolConfigs)
        return config
    }

    /// The organization's compute-pool settings (defaults if never changed).
    public func computePoolConfig(organizationID: String) -> ComputePoolConfig {
        computePoolConfigs[organizationID]
            ?? ComputePoolConfig(
                organizationID: organizationID, defaultPoolEnabled: true, defaultPoolMaxCFU: 20, sequence: 0,
                updatedAt: Date(timeIntervalSince1970: 0))
    }
}

extension ControlPlaneState {
    /// Renames the organization.
    public mutating func updateOrganization(id: String, displayName: String?, now: Date) throws(APIError) -> Organization {
        guard var organization = organizations[id] else { throw .notFound("Organization \(id) was not found.") }
        if let displayName {
            try Self.validateDisplayName(displayName, pointer: "/display_name")
            organization.displayName = displayName
        }
        organization.updatedAt = now
        put(organization, in: \.organizations)
        return organization
    }
}
