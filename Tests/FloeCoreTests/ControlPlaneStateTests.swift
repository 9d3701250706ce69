// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

/// Everything a ``ControlPlaneState`` holds, comparable as one value.
struct StateContents: Equatable {
    var organizations: [String: Organization]
    var environments: [String: Environment]
    var users: [String: User]
    var serviceAccounts: [String: ServiceAccount]
    var apiKeys: [String: APIKey]
    var roleBindings: [String: RoleBinding]
    var computePools: [String: ComputePool]
    var computePoolConfigs: [String: ComputePoolConfig]
    var lastSequence: Int64

    init(_ state: ControlPlaneState) {
        organizations = state.organizations
        environments = state.environments
        users = state.users
        serviceAccounts = state.serviceAccounts
        apiKeys = state.apiKeys
        roleBindings = state.roleBindings
        computePools = state.computePools
        computePoolConfigs = state.computePoolConfigs
        lastSequence = state.lastSequence
    }
}

/// The domain rules of the control plane: bootstrap, validation, uniqueness, cascades, and all-or-nothing failure.
@Suite struct ControlPlaneStateTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let later = Date(timeIntervalSince1970: 1_700_000_600)
    static let regions = FlinkRegion.defaults
    static let digest = SecretDigest(salt: "c2FsdA==", digest: "ZGlnZXN0")

    // MARK: Fixtures

    /// A bootstrapped state with no pending changes.
    static func bootstrapped() throws -> (state: ControlPlaneState, boot: BootstrapResult) {
        var state = ControlPlaneState()
        let result = state.bootstrap(now: now, adminKeyID: "ADMINKEY00000001", adminSecretDigest: digest)
        let boot = try #require(result)
        _ = state.drainChanges()
        return (state, boot)
    }

    static func poolRequest(
        _ name: String, env: String, cloud: String = "AWS", region: String = "us-east-1", maxCFU: Int = 10, defaultPool: Bool = false
    ) -> ControlPlaneState.ComputePoolRequest {
        .init(displayName: name, cloud: cloud, region: region, maxCFU: maxCFU, environmentID: env, enableAI: false, defaultPool: defaultPool)
    }

    /// A second organization's resources, loaded as the store would load them (the operations cannot make a second one).
    static func loadForeign<R: ControlPlaneResource>(_ resource: R, into state: inout ControlPlaneState) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        try state.load(kind: R.kind, body: encoder.encode(resource))
    }

    static let foreignOrg = "ffffffff-ffff-4fff-bfff-ffffffffffff"

    static func addForeignOrganization(to state: inout ControlPlaneState) throws -> (environmentID: String, serviceAccountID: String) {
        let base = state.lastSequence
        try loadForeign(Organization(id: foreignOrg, displayName: "other", sequence: base + 1, createdAt: now, updatedAt: now), into: &state)
        try loadForeign(
            Environment(
                id: "env-foreig", organizationID: foreignOrg, displayName: "default", streamGovernancePackage: "ESSENTIALS",
                sequence: base + 2, createdAt: now, updatedAt: now), into: &state)
        try loadForeign(
            ServiceAccount(
                id: "sa-foreig", organizationID: foreignOrg, displayName: "x", description: "", sequence: base + 3,
                createdAt: now, updatedAt: now), into: &state)
        return ("env-foreig", "sa-foreig")
    }

    /// Runs an operation that must fail, and checks it changed nothing and recorded nothing.
    @discardableResult
    func expectFailure(
        _ state: inout ControlPlaneState, status: Int, pointer: String? = nil, _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ operation: (inout ControlPlaneState) throws(APIError) -> Void
    ) -> APIError? {
        _ = state.drainChanges()
        let before = StateContents(state)
        var failure: APIError?
        do {
            try operation(&state)
        } catch {
            failure = error
        }
        #expect(failure != nil, "expected \(status), but the operation succeeded. \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
        #expect(failure?.status == status, "\(failure.map(String.init(describing:)) ?? "no error")", sourceLocation: sourceLocation)
        if let pointer {
            #expect(failure?.source.pointer == pointer, sourceLocation: sourceLocation)
        }
        #expect(state.pendingChanges.isEmpty, "a failed operation recorded changes", sourceLocation: sourceLocation)
        #expect(StateContents(state) == before, "a failed operation changed the state", sourceLocation: sourceLocation)
        return failure
    }

    // MARK: Bootstrap

    @Test func bootstrapCreatesOrganizationDefaultEnvironmentAdminKeyAndConfig() throws {
        var state = ControlPlaneState()
        let result = state.bootstrap(now: Self.now, adminKeyID: "ADMINKEY00000001", adminSecretDigest: Self.digest)
        let boot = try #require(result)

        #expect(boot.apiKeyID == "ADMINKEY00000001")
        let organization = try #require(state.organizations[boot.organizationID])
        #expect(state.organizations.count == 1)
        #expect(UUID(uuidString: organization.id) != nil)

        let environment = try #require(state.environments[boot.environmentID])
        #expect(state.environments.count == 1)
        #expect(environment.displayName == "default")
        #expect(environment.organizationID == boot.organizationID)
        #expect(environment.id.hasPrefix("env-"))

        let user = try #require(state.users[boot.userID])
        #expect(state.users.count == 1)
        #expect(user.organizationID == boot.organizationID)
        #expect(user.id.hasPrefix("u-"))

        let binding = try #require(state.roleBindings.values.first)
        #expect(state.roleBindings.count == 1)
        #expect(binding.role == .organizationAdmin)
        #expect(binding.principal == "User:\(boot.userID)")
        #expect(binding.crnPattern == CRN.organization(boot.organizationID).description)
        #expect(binding.organizationID == boot.organizationID)

        let key = try #require(state.apiKeys[boot.apiKeyID])
        #expect(state.apiKeys.count == 1)
        #expect(key.ownerID == boot.userID)
        #expect(key.resource == .cloud)
        #expect(key.secretDigest == Self.digest)

        let config = try #require(state.computePoolConfigs[boot.organizationID])
        #expect(config.defaultPoolEnabled)
        #expect(config.defaultPoolMaxCFU == 20)

        #expect(state.serviceAccounts.isEmpty && state.computePools.isEmpty)
        #expect(AccessPolicy(principalID: boot.userID, organizationID: boot.organizationID, state: state).isOrganizationAdmin)

        // Six resources, six distinct sequence numbers, six recorded changes.
        let sequences = [organization.sequence, environment.sequence, user.sequence, binding.sequence, key.sequence, config.sequence]
        #expect(Set(sequences).count == 6)
        #expect(state.lastSequence == sequences.max())
        let changes = state.drainChanges()
        #expect(changes.count == 6)
        #expect(Set(changes.map(\.kind)) == [.organization, .environment, .user, .roleBinding, .apiKey, .computePoolConfig])
        #expect(changes.allSatisfy { $0.body != nil && $0.organizationID == boot.organizationID })
        #expect(state.pendingChanges.isEmpty)
    }

    @Test func bootstrapIsANoOpTheSecondTime() throws {
        var (state, _) = try Self.bootstrapped()
        let before = StateContents(state)
        let again = state.bootstrap(now: Self.later, adminKeyID: "ADMINKEY00000002", adminSecretDigest: Self.digest)
        #expect(again == nil)
        #expect(state.pendingChanges.isEmpty)
        #expect(StateContents(state) == before)
        #expect(state.apiKeys["ADMINKEY00000002"] == nil)
    }

    // MARK: Environments

    @Test func createEnvironmentRecordsOneChange() throws {
        var (state, boot) = try Self.bootstrapped()
        let sequence = state.lastSequence
        let environment = try state.createEnvironment(
            organizationID: boot.organizationID, displayName: "prod", governancePackage: "ADVANCED", now: Self.now)
        #expect(state.environments[environment.id] == environment)
        #expect(environment.streamGovernancePackage == "ADVANCED")
        #expect(environment.sequence == sequence + 1)
        let changes = state.drainChanges()
        #expect(changes.count == 1)
        #expect(changes.first?.kind == .environment && changes.first?.id == environment.id && changes.first?.environmentID == environment.id)
        let defaulted = try state.createEnvironment(organizationID: boot.organizationID, displayName: "dev", governancePackage: nil, now: Self.now)
        #expect(defaulted.streamGovernancePackage == "ESSENTIALS")
    }

    @Test func createEnvironmentWithDuplicateNameConflictsAndChangesNothing() throws {
        var (state, boot) = try Self.bootstrapped()
        _ = try state.createEnvironment(organizationID: boot.organizationID, displayName: "prod", governancePackage: nil, now: Self.now)
        expectFailure(&state, status: 409) { state throws(APIError) in
            _ = try state.createEnvironment(organizationID: boot.organizationID, displayName: "prod", governancePackage: nil, now: Self.now)
        }
        expectFailure(&state, status: 409, "the bootstrap environment's name is taken too") { state throws(APIError) in
            _ = try state.createEnvironment(organizationID: boot.organizationID, displayName: "default", governancePackage: nil, now: Self.now)
        }
        #expect(state.environments.count == 2)
    }

    @Test func createEnvironmentValidatesNameAndGovernance() throws {
        var (state, boot) = try Self.bootstrapped()
        for name in ["", "   ", String(repeating: "x", count: 65), "tab\there", "nul\u{0}"] {
            expectFailure(&state, status: 400, pointer: "/display_name", "\(name.debugDescription)") { state throws(APIError) in
                _ = try state.createEnvironment(organizationID: boot.organizationID, displayName: name, governancePackage: nil, now: Self.now)
            }
        }
        expectFailure(&state, status: 400, pointer: "/stream_governance_config/package") { state throws(APIError) in
            _ = try state.createEnvironment(organizationID: boot.organizationID, displayName: "ok", governancePackage: "essentials", now: Self.now)
        }
        _ = try state.createEnvironment(
            organizationID: boot.organizationID, displayName: String(repeating: "x", count: 64), governancePackage: nil, now: Self.now)
    }

    @Test func updateEnvironmentRenamesButNotOntoAnotherName() throws {
        var (state, boot) = try Self.bootstrapped()
        let prod = try state.createEnvironment(organizationID: boot.organizationID, displayName: "prod", governancePackage: nil, now: Self.now)
        expectFailure(&state, status: 409) { state throws(APIError) in
            _ = try state.updateEnvironment(id: prod.id, displayName: "default", governancePackage: nil, now: Self.later)
        }
        expectFailure(&state, status: 400, "valid name, invalid package: neither applies") { state throws(APIError) in
            _ = try state.updateEnvironment(id: prod.id, displayName: "renamed", governancePackage: "GOLD", now: Self.later)
        }
        expectFailure(&state, status: 404) { state throws(APIError) in
            _ = try state.updateEnvironment(id: "env-nope00", displayName: "x", governancePackage: nil, now: Self.later)
        }
        let same = try state.updateEnvironment(id: prod.id, displayName: "prod", governancePackage: nil, now: Self.later)
        #expect(same.displayName == "prod", "renaming to its own name is fine")
        let renamed = try state.updateEnvironment(id: prod.id, displayName: "production", governancePackage: "ADVANCED", now: Self.later)
        #expect(renamed.displayName == "production" && renamed.streamGovernancePackage == "ADVANCED")
        #expect(renamed.updatedAt == Self.later && renamed.createdAt == Self.now && renamed.sequence == prod.sequence)
        #expect(state.environments[prod.id] == renamed)
    }

    /// Two environments, each with a pool, bindings and keys, to watch what a delete takes with it.
    struct Populated {
        var state: ControlPlaneState
        var boot: BootstrapResult
        var envA: String { boot.environmentID }
        var envB: String
        var developer: String
        var other: String
        var poolA: String
        var poolA2: String
        var poolB: String
        var bindingsInA: Set<String>
        var bindingsElsewhere: Set<String>
        var keysForA: Set<String>
        var keysElsewhere: Set<String>

        init() throws {
            var (state, boot) = try ControlPlaneStateTests.bootstrapped()
            let org = boot.organizationID
            let now = ControlPlaneStateTests.now
            let envA = boot.environmentID
            envB = try state.createEnvironment(organizationID: org, displayName: "b", governancePackage: nil, now: now).id
            developer = try state.createServiceAccount(organizationID: org, displayName: "developer", description: "", now: now).id
            other = try state.createServiceAccount(organizationID: org, displayName: "other", description: "", now: now).id
            poolA = try state.createComputePool(
                organizationID: org, request: ControlPlaneStateTests.poolRequest("a", env: envA), regions: ControlPlaneStateTests.regions, now: now
            ).id
            poolA2 = try state.createComputePool(
                organizationID: org, request: ControlPlaneStateTests.poolRequest("a2", env: envA, cloud: "GCP", region: "us-central1"),
                regions: ControlPlaneStateTests.regions, now: now
            ).id
            poolB = try state.createComputePool(
                organizationID: org, request: ControlPlaneStateTests.poolRequest("a", env: envB), regions: ControlPlaneStateTests.regions, now: now
            ).id

            func bind(_ principal: String, _ role: Role, _ pattern: String) throws -> String {
                try state.createRoleBinding(
                    organizationID: org, principal: "User:\(principal)", roleName: role.rawValue, crnPattern: pattern, now: now
                ).id
            }
            bindingsInA = [
                try bind(developer, .flinkDeveloper, CRN.environment(org, envA).description),
                try bind(developer, .flinkAdmin, CRN.computePool(org, envA, "aws.us-east-1", poolA).description),
                try bind(other, .environmentAdmin, "crn://api.confluent.cloud/organization=\(org)/environment=\(envA)"),
            ]
            bindingsElsewhere = Set([
                try bind(developer, .flinkDeveloper, CRN.environment(org, envB).description),
                try bind(other, .flinkDeveloper, "crn://confluent.cloud/organization=\(org)/environment=*"),
                try bind(other, .flinkDeveloper, "crn://confluent.cloud/organization=\(org)/environment=env-*"),
                try bind(boot.userID, .assigner, CRN.serviceAccount(org, developer).description),
            ]).union(state.roleBindings.values.filter { $0.role == .organizationAdmin }.map(\.id))

            func key(_ owner: String, _ resource: APIKeyResource) throws -> String {
                let id = IdentifierGenerator.apiKeyID()
                return try state.createAPIKey(
                    organizationID: org, ownerID: owner, resource: resource, displayName: "", description: "", keyID: id,
                    secretDigest: ControlPlaneStateTests.digest, now: now
                ).id
            }
            keysForA = [
                try key(developer, .flinkRegion(regionID: "aws.us-east-1", environmentID: envA)),
                try key(other, .flinkRegion(regionID: "gcp.us-central1", environmentID: envA)),
            ]
            keysElsewhere = [
                try key(developer, .flinkRegion(regionID: "aws.us-east-1", environmentID: envB)),
                try key(developer, .cloud),
                boot.apiKeyID,
            ]
            _ = state.drainChanges()
            self.state = state
            self.boot = boot
        }
    }

    @Test func populatedFixtureIsWhatItSays() throws {
        let fixture = try Populated()
        #expect(Set(fixture.state.roleBindings.keys) == fixture.bindingsInA.union(fixture.bindingsElsewhere))
        #expect(Set(fixture.state.apiKeys.keys) == fixture.keysForA.union(fixture.keysElsewhere))
        #expect(fixture.state.computePools.count == 3)
    }

    @Test func deleteEnvironmentCascadesInsideItOnly() throws {
        let fixture = try Populated()
        var state = fixture.state
        let deletedPools = try state.deleteEnvironment(id: fixture.envA)

        #expect(Set(deletedPools) == [fixture.poolA, fixture.poolA2])
        #expect(Set(state.environments.keys) == [fixture.envB])
        #expect(Set(state.computePools.keys) == [fixture.poolB])
        #expect(Set(state.roleBindings.keys) == fixture.bindingsElsewhere)
        #expect(Set(state.apiKeys.keys) == fixture.keysElsewhere)
        #expect(state.serviceAccounts.count == 2 && state.users.count == 1 && state.organizations.count == 1)

        let changes = state.drainChanges()
        #expect(changes.allSatisfy { $0.body == nil }, "a delete records only removals")
        #expect(Set(changes.map(\.id)) == Set([fixture.envA, fixture.poolA, fixture.poolA2]).union(fixture.bindingsInA).union(fixture.keysForA))
        #expect(changes.count == 3 + fixture.bindingsInA.count + fixture.keysForA.count)

        // The other environment is deleted the same way, and then nothing environment-scoped is left.
        try state.deleteEnvironment(id: fixture.envB)
        #expect(state.computePools.isEmpty)
        #expect(state.apiKeys.values.allSatisfy { $0.resource == .cloud })
    }

    @Test func deleteUnknownEnvironmentIsNotFound() throws {
        var fixture = try Populated()
        expectFailure(&fixture.state, status: 404) { state throws(APIError) in try state.deleteEnvironment(id: "env-nope00") }
    }

    // MARK: Service accounts

    @Test func deleteServiceAccountCascadesItsKeysAndBindings() throws {
        var fixture = try Populated()
        let developer = fixture.developer
        let bindingsBefore = fixture.state.roleBindings
        let keysBefore = fixture.state.apiKeys
        try fixture.state.deleteServiceAccount(id: developer)

        #expect(fixture.state.serviceAccounts[developer] == nil)
        #expect(fixture.state.serviceAccounts[fixture.other] != nil)
        #expect(!fixture.state.apiKeys.values.contains { $0.ownerID == developer })
        #expect(!fixture.state.roleBindings.values.contains { RoleBinding.principalID($0.principal) == developer })
        // Bindings others hold on the account (Assigner) go too.
        #expect(!fixture.state.roleBindings.values.contains { $0.crnPattern.hasSuffix("/service-account=\(developer)") })
        // Everyone else's keys and bindings stay.
        #expect(fixture.state.apiKeys == keysBefore.filter { $0.value.ownerID != developer })
        #expect(
            fixture.state.roleBindings
                == bindingsBefore.filter {
                    RoleBinding.principalID($0.value.principal) != developer && !$0.value.crnPattern.hasSuffix("/service-account=\(developer)")
                })
        let changes = fixture.state.drainChanges()
        #expect(changes.allSatisfy { $0.body == nil })
        #expect(changes.contains { $0.kind == .serviceAccount && $0.id == developer })
        #expect(changes.count == 1 + (keysBefore.count - fixture.state.apiKeys.count) + (bindingsBefore.count - fixture.state.roleBindings.count))
    }

    @Test func serviceAccountNamesAreUniqueAndValidated() throws {
        var fixture = try Populated()
        let org = fixture.boot.organizationID
        expectFailure(&fixture.state, status: 409) { state throws(APIError) in
            _ = try state.createServiceAccount(organizationID: org, displayName: "developer", description: "", now: Self.now)
        }
        expectFailure(&fixture.state, status: 400, pointer: "/description") { state throws(APIError) in
            _ = try state.createServiceAccount(
                organizationID: org, displayName: "fresh", description: String(repeating: "d", count: 1025), now: Self.now)
        }
        let other = fixture.other
        expectFailure(&fixture.state, status: 409) { state throws(APIError) in
            _ = try state.updateServiceAccount(id: other, displayName: "developer", description: "new", now: Self.later)
        }
        expectFailure(&fixture.state, status: 404) { state throws(APIError) in try state.deleteServiceAccount(id: "sa-nope00") }
        let error = expectFailure(&fixture.state, status: 404) { state throws(APIError) in
            _ = try state.updateServiceAccount(id: "sa-nope00", displayName: nil, description: nil, now: Self.later)
        }
        #expect(error?.code == "service_account_not_found")
    }

    // MARK: Compute pools

    @Test(arguments: [
        "a", "Z", "0", "-", "-pool", "pool", "pool_1", "my.pool-2", "A_b.C-d", "9lives", "a__", "a..", "a--",
        String(repeating: "p", count: 64), "-" + String(repeating: "_", count: 63),
    ])
    func acceptedPoolNames(name: String) throws {
        var (state, boot) = try Self.bootstrapped()
        let pool = try state.createComputePool(
            organizationID: boot.organizationID, request: Self.poolRequest(name, env: boot.environmentID), regions: Self.regions, now: Self.now)
        #expect(pool.displayName == name)
    }

    @Test(arguments: [
        "", "_pool", ".pool", " pool", "pool ", "pool name", "pool/1", "pool:1", "pool@x", "pool\n", "pöol", "ä", "池", "pool😀",
        String(repeating: "p", count: 65), "-" + String(repeating: "_", count: 64),
    ])
    func rejectedPoolNames(name: String) throws {
        var (state, boot) = try Self.bootstrapped()
        expectFailure(&state, status: 400, pointer: "/spec/display_name", "\(name.debugDescription)") { state throws(APIError) in
            _ = try state.createComputePool(
                organizationID: boot.organizationID, request: Self.poolRequest(name, env: boot.environmentID), regions: Self.regions, now: Self.now)
        }
    }

    @Test func createComputePoolStartsProvisioningAndRecordsIt() throws {
        var (state, boot) = try Self.bootstrapped()
        let pool = try state.createComputePool(
            organizationID: boot.organizationID, request: Self.poolRequest("p", env: boot.environmentID, maxCFU: 50), regions: Self.regions,
            now: Self.now)
        #expect(pool.id.hasPrefix("lfcp-"))
        #expect(pool.phase == .provisioning)
        #expect(pool.currentCFU == 0)
        #expect(pool.maxCFU == 50)
        #expect(pool.cloud == .aws && pool.region == "us-east-1" && pool.regionID == "aws.us-east-1")
        #expect(pool.environmentID == boot.environmentID)
        #expect(!pool.defaultPool)
        #expect(state.computePools[pool.id] == pool)
        let changes = state.drainChanges()
        #expect(changes.count == 1 && changes.first?.kind == .computePool && changes.first?.environmentID == boot.environmentID)
    }

    @Test(arguments: ["aws", "AWS", "Aws", "aWs"])
    func cloudIsCaseInsensitive(cloud: String) throws {
        var (state, boot) = try Self.bootstrapped()
        let pool = try state.createComputePool(
            organizationID: boot.organizationID, request: Self.poolRequest("p", env: boot.environmentID, cloud: cloud), regions: Self.regions,
            now: Self.now)
        #expect(pool.cloud == .aws)
    }

    @Test func unknownCloudIsRejected() throws {
        var (state, boot) = try Self.bootstrapped()
        for cloud in ["", "ibm", "amazon", "AWS "] {
            expectFailure(&state, status: 400, pointer: "/spec/cloud", "\(cloud.debugDescription)") { state throws(APIError) in
                _ = try state.createComputePool(
                    organizationID: boot.organizationID, request: Self.poolRequest("p", env: boot.environmentID, cloud: cloud), regions: Self.regions,
                    now: Self.now)
            }
        }
    }

    @Test func regionMustBeOfferedForThatCloud() throws {
        var (state, boot) = try Self.bootstrapped()
        let offered = [FlinkRegion(cloud: .aws, regionName: "us-east-1"), FlinkRegion(cloud: .gcp, regionName: "us-central1")]
        for (cloud, region) in [("AWS", "us-west-2"), ("AWS", "us-central1"), ("GCP", "us-east-1"), ("AZURE", "us-east-1"), ("AWS", "")] {
            expectFailure(&state, status: 400, pointer: "/spec/region", "\(cloud) \(region)") { state throws(APIError) in
                _ = try state.createComputePool(
                    organizationID: boot.organizationID, request: Self.poolRequest("p", env: boot.environmentID, cloud: cloud, region: region),
                    regions: offered, now: Self.now)
            }
        }
        let pool = try state.createComputePool(
            organizationID: boot.organizationID, request: Self.poolRequest("p", env: boot.environmentID, cloud: "gcp", region: "us-central1"),
            regions: offered, now: Self.now)
        #expect(pool.regionID == "gcp.us-central1")
    }

    @Test(arguments: [5, 10, 20, 30, 40, 50])
    func allowedMaxCFU(maxCFU: Int) throws {
        var (state, boot) = try Self.bootstrapped()
        let pool = try state.createComputePool(
            organizationID: boot.organizationID, request: Self.poolRequest("p", env: boot.environmentID, maxCFU: maxCFU), regions: Self.regions,
            now: Self.now)
        #expect(pool.maxCFU == maxCFU)
    }

    @Test(arguments: [-5, 0, 1, 4, 6, 15, 25, 45, 60, 100, Int.max])
    func disallowedMaxCFU(maxCFU: Int) throws {
        var (state, boot) = try Self.bootstrapped()
        expectFailure(&state, status: 400, pointer: "/spec/max_cfu") { state throws(APIError) in
            _ = try state.createComputePool(
                organizationID: boot.organizationID, request: Self.poolRequest("p", env: boot.environmentID, maxCFU: maxCFU), regions: Self.regions,
                now: Self.now)
        }
    }

    @Test func poolNamesAreUniquePerEnvironment() throws {
        var fixture = try Populated()
        let org = fixture.boot.organizationID
        let envA = fixture.envA
        expectFailure(&fixture.state, status: 409) { state throws(APIError) in
            _ = try state.createComputePool(
                organizationID: org, request: Self.poolRequest("a", env: envA, region: "us-west-2"), regions: Self.regions, now: Self.now)
        }
        // "a" exists in both environments already (the fixture made it); a fresh name works in either.
        let envC = try fixture.state.createEnvironment(organizationID: org, displayName: "c", governancePackage: nil, now: Self.now).id
        let inC = try fixture.state.createComputePool(
            organizationID: org, request: Self.poolRequest("a", env: envC), regions: Self.regions, now: Self.now)
        #expect(inC.displayName == "a")
        #expect(fixture.state.computePools.values.filter { $0.displayName == "a" }.count == 3)
        // Names compare exactly.
        let upper = try fixture.state.createComputePool(
            organizationID: org, request: Self.poolRequest("A", env: envA), regions: Self.regions, now: Self.now)
        #expect(upper.displayName == "A")
    }

    @Test func poolInUnknownOrForeignEnvironmentIsNotFound() throws {
        var (state, boot) = try Self.bootstrapped()
        let foreign = try Self.addForeignOrganization(to: &state)
        for env in ["env-nope00", foreign.environmentID] {
            expectFailure(&state, status: 404, "\(env)") { state throws(APIError) in
                _ = try state.createComputePool(
                    organizationID: boot.organizationID, request: Self.poolRequest("p", env: env), regions: Self.regions, now: Self.now)
            }
        }
    }

    /// At most one default pool per environment and region.
    func expectOneDefaultPerEnvironmentAndRegion(_ state: ControlPlaneState, sourceLocation: SourceLocation = #_sourceLocation) {
        let groups = Dictionary(grouping: state.computePools.values.filter(\.defaultPool)) { "\($0.environmentIDValue)/\($0.regionID)" }
        #expect(groups.values.allSatisfy { $0.count == 1 }, "\(groups.mapValues { $0.map(\.id) })", sourceLocation: sourceLocation)
    }

    @Test func defaultPoolIsUniquePerEnvironmentAndRegion() throws {
        var fixture = try Populated()
        let org = fixture.boot.organizationID
        let (envA, envB) = (fixture.envA, fixture.envB)
        func create(_ name: String, _ env: String, region: String = "us-east-1", isDefault: Bool) throws -> ComputePool {
            try fixture.state.createComputePool(
                organizationID: org, request: Self.poolRequest(name, env: env, region: region, defaultPool: isDefault), regions: Self.regions,
                now: Self.now)
        }
        func isDefault(_ id: String) -> Bool { fixture.state.computePools[id]?.defaultPool == true }

        let first = try create("d1", envA, isDefault: true)
        #expect(first.defaultPool)
        _ = fixture.state.drainChanges()
        let second = try create("d2", envA, isDefault: true)
        #expect(second.defaultPool && !isDefault(first.id), "the new default replaces the old one")
        #expect(fixture.state.computePools[first.id]?.updatedAt == Self.now)
        let recorded = fixture.state.drainChanges()
        #expect(Set(recorded.map(\.id)) == [first.id, second.id], "both pools' changes are recorded")

        let west = try create("d3", envA, region: "us-west-2", isDefault: true)
        let inB = try create("d4", envB, isDefault: true)
        let plain = try create("d5", envA, isDefault: false)
        #expect(isDefault(second.id) && isDefault(west.id) && isDefault(inB.id), "other regions and environments keep theirs")
        #expect(!plain.defaultPool)
        expectOneDefaultPerEnvironmentAndRegion(fixture.state)

        let promoted = try fixture.state.updateComputePool(
            id: plain.id, environmentID: envA, displayName: nil, maxCFU: nil, defaultPool: true, now: Self.later)
        #expect(promoted.defaultPool && !isDefault(second.id) && isDefault(west.id) && isDefault(inB.id))
        #expect(fixture.state.computePools[second.id]?.updatedAt == Self.later)
        expectOneDefaultPerEnvironmentAndRegion(fixture.state)

        let demoted = try fixture.state.updateComputePool(
            id: plain.id, environmentID: envA, displayName: nil, maxCFU: nil, defaultPool: false, now: Self.later)
        #expect(!demoted.defaultPool)
        #expect(!fixture.state.computePools.values.contains { $0.defaultPool && $0.environmentIDValue == envA && $0.regionID == "aws.us-east-1" })
        expectOneDefaultPerEnvironmentAndRegion(fixture.state)
    }

    @Test func updateComputePoolIsAllOrNothing() throws {
        var fixture = try Populated()
        let (poolA, envA, envB) = (fixture.poolA, fixture.envA, fixture.envB)
        let error = expectFailure(&fixture.state, status: 403, "a pool is addressed with its own environment") { state throws(APIError) in
            _ = try state.updateComputePool(id: poolA, environmentID: envB, displayName: "x", maxCFU: nil, defaultPool: nil, now: Self.later)
        }
        #expect(error?.code == "forbidden_access")
        expectFailure(&fixture.state, status: 409) { state throws(APIError) in
            _ = try state.updateComputePool(id: poolA, environmentID: envA, displayName: "a2", maxCFU: nil, defaultPool: nil, now: Self.later)
        }
        expectFailure(&fixture.state, status: 400, pointer: "/spec/max_cfu", "a valid rename with an invalid size applies neither") {
            state throws(APIError) in
            _ = try state.updateComputePool(id: poolA, environmentID: envA, displayName: "renamed", maxCFU: 7, defaultPool: true, now: Self.later)
        }
        expectFailure(&fixture.state, status: 400, pointer: "/spec/display_name") { state throws(APIError) in
            _ = try state.updateComputePool(id: poolA, environmentID: envA, displayName: "_bad", maxCFU: 20, defaultPool: nil, now: Self.later)
        }
        let updated = try fixture.state.updateComputePool(
            id: poolA, environmentID: envA, displayName: "a", maxCFU: 40, defaultPool: nil, now: Self.later)
        #expect(updated.displayName == "a" && updated.maxCFU == 40 && updated.updatedAt == Self.later)
    }

    @Test func deleteComputePoolNeedsItsEnvironment() throws {
        var fixture = try Populated()
        let (poolA, envA, envB) = (fixture.poolA, fixture.envA, fixture.envB)
        expectFailure(&fixture.state, status: 403) { state throws(APIError) in try state.deleteComputePool(id: poolA, environmentID: envB) }
        expectFailure(&fixture.state, status: 403) { state throws(APIError) in try state.deleteComputePool(id: "lfcp-nope00", environmentID: envA) }
        try fixture.state.deleteComputePool(id: poolA, environmentID: envA)
        #expect(fixture.state.computePools[poolA] == nil)
        let recorded = fixture.state.drainChanges()
        #expect(recorded.map(\.body) == [nil])
    }

    @Test func markProvisioned() throws {
        var (state, boot) = try Self.bootstrapped()
        let pool = try state.createComputePool(
            organizationID: boot.organizationID, request: Self.poolRequest("p", env: boot.environmentID), regions: Self.regions, now: Self.now)
        _ = state.drainChanges()

        let changed = state.markProvisioned(poolID: pool.id, now: Self.later)
        #expect(changed)
        let provisioned = try #require(state.computePools[pool.id])
        #expect(provisioned.phase == .provisioned)
        #expect(provisioned.updatedAt == Self.later)
        #expect(provisioned.createdAt == Self.now && provisioned.sequence == pool.sequence)
        let recorded = state.drainChanges()
        #expect(recorded.count == 1)

        let before = StateContents(state)
        let again = state.markProvisioned(poolID: pool.id, now: Self.later.addingTimeInterval(60))
        #expect(!again, "already provisioned")
        let unknown = state.markProvisioned(poolID: "lfcp-nope00", now: Self.later)
        #expect(!unknown)
        #expect(state.pendingChanges.isEmpty)
        #expect(StateContents(state) == before)
    }

    @Test func computePoolConfig() throws {
        var (state, boot) = try Self.bootstrapped()
        expectFailure(&state, status: 400, pointer: "/spec/default_pool_max_cfu") { state throws(APIError) in
            _ = try state.updateComputePoolConfig(
                organizationID: boot.organizationID, defaultPoolEnabled: false, defaultPoolMaxCFU: 15, now: Self.later)
        }
        let config = try state.updateComputePoolConfig(
            organizationID: boot.organizationID, defaultPoolEnabled: false, defaultPoolMaxCFU: 50, now: Self.later)
        #expect(!config.defaultPoolEnabled && config.defaultPoolMaxCFU == 50)
        #expect(state.computePoolConfig(organizationID: boot.organizationID) == config)
        let unknown = state.computePoolConfig(organizationID: "no-such-org")
        #expect(unknown.defaultPoolEnabled && unknown.defaultPoolMaxCFU == 20 && unknown.sequence == 0)
    }

    // MARK: API keys

    @Test func resolveAPIKeyResource() throws {
        var (state, boot) = try Self.bootstrapped()
        let org = boot.organizationID
        let envB = try state.createEnvironment(organizationID: org, displayName: "b", governancePackage: nil, now: Self.now).id

        for id in ["cloud", "CLOUD", "Cloud"] {
            #expect(try state.resolveAPIKeyResource(organizationID: org, resourceID: id, environmentID: nil, regions: Self.regions) == .cloud)
        }
        #expect(
            try state.resolveAPIKeyResource(organizationID: org, resourceID: "aws.us-east-1", environmentID: envB, regions: Self.regions)
                == .flinkRegion(regionID: "aws.us-east-1", environmentID: envB))
        #expect(
            try state.resolveAPIKeyResource(organizationID: org, resourceID: "GCP.us-central1", environmentID: envB, regions: Self.regions)
                == .flinkRegion(regionID: "gcp.us-central1", environmentID: envB), "the provider is normalised")
        #expect(
            try state.resolveAPIKeyResource(organizationID: org, resourceID: "aws.us-east-1", environmentID: nil, regions: Self.regions)
                == .flinkRegion(regionID: "aws.us-east-1", environmentID: boot.environmentID), "no environment → the default one")
    }

    @Test func resolveAPIKeyResourceDefaultEnvironmentIsTheOneNamedDefaultElseTheOldest() throws {
        var (state, boot) = try Self.bootstrapped()
        let org = boot.organizationID
        func resolved() throws -> String? {
            try state.resolveAPIKeyResource(organizationID: org, resourceID: "aws.us-east-1", environmentID: nil, regions: Self.regions).environmentID
        }
        _ = try state.updateEnvironment(id: boot.environmentID, displayName: "first", governancePackage: nil, now: Self.now)
        let second = try state.createEnvironment(organizationID: org, displayName: "second", governancePackage: nil, now: Self.now).id
        #expect(try resolved() == boot.environmentID, "no 'default': the oldest")
        _ = try state.updateEnvironment(id: second, displayName: "default", governancePackage: nil, now: Self.now)
        #expect(try resolved() == second, "the one named 'default', though younger")
    }

    @Test func resolveAPIKeyResourceRejectsUnknownRegionsAndEnvironments() throws {
        var (state, boot) = try Self.bootstrapped()
        let org = boot.organizationID
        let foreign = try Self.addForeignOrganization(to: &state)
        let offered = [FlinkRegion(cloud: .aws, regionName: "us-east-1")]
        for id in [
            "aws.mars-1", "aws.us-west-2", "gcp.us-east-1", "ibm.us-east-1", "nonsense", "", "aws.", ".us-east-1", "aws.us-east-1.x", "aws:us-east-1",
        ] {
            let error = #expect(throws: APIError.self, "\(id.debugDescription)") {
                try state.resolveAPIKeyResource(organizationID: org, resourceID: id, environmentID: boot.environmentID, regions: offered)
            }
            #expect(error?.status == 400)
            #expect(error?.source.pointer == "/spec/resource/id")
        }
        for env in ["env-nope00", foreign.environmentID] {
            let error = #expect(throws: APIError.self) {
                try state.resolveAPIKeyResource(organizationID: org, resourceID: "aws.us-east-1", environmentID: env, regions: offered)
            }
            #expect(error?.status == 400)
        }
    }

    @Test func resolveFlinkKeyWithoutAnyEnvironmentIsABadRequest() throws {
        let state = ControlPlaneState()
        let error = #expect(throws: APIError.self) {
            try state.resolveAPIKeyResource(organizationID: "org", resourceID: "aws.us-east-1", environmentID: nil, regions: Self.regions)
        }
        #expect(error?.status == 400)
        #expect(error?.source.pointer == "/spec/resource/environment")
    }

    @Test func createAPIKeyValidations() throws {
        var fixture = try Populated()
        let org = fixture.boot.organizationID
        let (developer, existing) = (fixture.developer, fixture.boot.apiKeyID)
        let foreign = try Self.addForeignOrganization(to: &fixture.state)
        func create(
            _ state: inout ControlPlaneState, owner: String, keyID: String = IdentifierGenerator.apiKeyID(), name: String = "k",
            description: String = ""
        ) throws(APIError) {
            _ = try state.createAPIKey(
                organizationID: org, ownerID: owner, resource: .cloud, displayName: name, description: description, keyID: keyID,
                secretDigest: Self.digest, now: Self.now)
        }
        expectFailure(&fixture.state, status: 400) { state throws(APIError) in try create(&state, owner: "sa-nope00") }
        expectFailure(&fixture.state, status: 400, "an owner of another organization") { state throws(APIError) in
            try create(&state, owner: foreign.serviceAccountID)
        }
        expectFailure(&fixture.state, status: 409) { state throws(APIError) in try create(&state, owner: developer, keyID: existing) }
        expectFailure(&fixture.state, status: 400, pointer: "/spec/display_name") { state throws(APIError) in
            try create(&state, owner: developer, name: String(repeating: "n", count: 65))
        }
        expectFailure(&fixture.state, status: 400, pointer: "/spec/description") { state throws(APIError) in
            try create(&state, owner: developer, description: String(repeating: "d", count: 1025))
        }
        expectFailure(&fixture.state, status: 404) { state throws(APIError) in try state.deleteAPIKey(id: "NOSUCHKEY0000000") }
        expectFailure(&fixture.state, status: 404) { state throws(APIError) in
            _ = try state.updateAPIKey(id: "NOSUCHKEY0000000", displayName: "x", description: nil, now: Self.later)
        }
        expectFailure(&fixture.state, status: 400, "valid name, too long description: neither applies") { state throws(APIError) in
            _ = try state.updateAPIKey(id: existing, displayName: "x", description: String(repeating: "d", count: 1025), now: Self.later)
        }
        try create(&fixture.state, owner: developer, keyID: "NEWKEY0000000001")
        #expect(fixture.state.apiKeys["NEWKEY0000000001"]?.ownerID == developer)
    }

    // MARK: Role bindings

    @Test func createRoleBindingRecordsTheBinding() throws {
        var fixture = try Populated()
        let org = fixture.boot.organizationID
        let pattern = CRN.flinkRegion(org, fixture.envB, "aws.us-east-1").description
        let binding = try fixture.state.createRoleBinding(
            organizationID: org, principal: "User:\(fixture.other)", roleName: "FlinkAdmin", crnPattern: pattern, now: Self.now)
        #expect(binding.id.hasPrefix("rb-"))
        #expect(binding.role == .flinkAdmin && binding.crnPattern == pattern && binding.principal == "User:\(fixture.other)")
        #expect(binding.environmentID == fixture.envB)
        #expect(fixture.state.roleBindings[binding.id] == binding)
        let changes = fixture.state.drainChanges()
        #expect(changes.count == 1 && changes.first?.environmentID == fixture.envB && changes.first?.kind == .roleBinding)

        // Users may be principals too, and the same role on another scope or another role on the same scope is no duplicate.
        _ = try fixture.state.createRoleBinding(
            organizationID: org, principal: "User:\(fixture.boot.userID)", roleName: "FlinkAdmin", crnPattern: pattern, now: Self.now)
        _ = try fixture.state.createRoleBinding(
            organizationID: org, principal: "User:\(fixture.other)", roleName: "FlinkDeveloper", crnPattern: pattern, now: Self.now)
        _ = try fixture.state.createRoleBinding(
            organizationID: org, principal: "User:\(fixture.other)", roleName: "FlinkAdmin",
            crnPattern: CRN.environment(org, fixture.envB).description, now: Self.now)
    }

    @Test func createRoleBindingValidations() throws {
        var fixture = try Populated()
        let org = fixture.boot.organizationID
        let foreign = try Self.addForeignOrganization(to: &fixture.state)
        let other = "User:\(fixture.other)"
        let envB = CRN.environment(org, fixture.envB).description
        func bind(_ state: inout ControlPlaneState, _ principal: String, _ role: String, _ pattern: String) throws(APIError) {
            _ = try state.createRoleBinding(organizationID: org, principal: principal, roleName: role, crnPattern: pattern, now: Self.now)
        }
        for role in ["Admin", "flinkdeveloper", "", "FLINKADMIN", "ResourceOwner"] {
            expectFailure(&fixture.state, status: 400, pointer: "/role_name", "\(role)") { state throws(APIError) in
                try bind(&state, other, role, envB)
            }
        }
        for principal in [fixture.other, "Group:\(fixture.other)", "User:", "user:\(fixture.other)", ""] {
            expectFailure(&fixture.state, status: 400, pointer: "/principal", "\(principal)") { state throws(APIError) in
                try bind(&state, principal, "FlinkDeveloper", envB)
            }
        }
        for principal in ["User:sa-nope00", "User:u-nope00", "User:\(foreign.serviceAccountID)"] {
            expectFailure(&fixture.state, status: 404, "\(principal)") { state throws(APIError) in try bind(&state, principal, "FlinkDeveloper", envB)
            }
        }
        for pattern in [
            "", "not a crn", "crn://confluent.cloud", "crn://confluent.cloud/environment=\(fixture.envB)",
            CRN.environment(Self.foreignOrg, foreign.environmentID).description, "crn://confluent.cloud/organization=\(org)/environment=",
            "crn://confluent.cloud/organization=*",
        ] {
            expectFailure(&fixture.state, status: 400, pointer: "/crn_pattern", "\(pattern)") { state throws(APIError) in
                try bind(&state, other, "FlinkDeveloper", pattern)
            }
        }
        for pattern in [CRN.environment(org, "env-nope00").description, CRN.environment(org, foreign.environmentID).description] {
            expectFailure(&fixture.state, status: 404, "\(pattern)") { state throws(APIError) in try bind(&state, other, "FlinkDeveloper", pattern) }
        }
        let existing = try #require(fixture.state.roleBindings.values.first { $0.principal == "User:\(fixture.developer)" && $0.crnPattern == envB })
        expectFailure(&fixture.state, status: 409) { state throws(APIError) in
            try bind(&state, existing.principal, existing.role.rawValue, existing.crnPattern)
        }
        expectFailure(&fixture.state, status: 404) { state throws(APIError) in _ = try state.deleteRoleBinding(id: "rb-nope0") }

        // Wildcards are accepted without an environment lookup.
        try bind(&fixture.state, other, "FlinkAdmin", "crn://confluent.cloud/organization=\(org)/environment=*")
        try bind(&fixture.state, other, "FlinkAdmin", "crn://confluent.cloud/organization=\(org)/environment=env-*/flink-region=*/compute-pool=*")

        // A binding that could never apply is refused: each role has the scopes it may be bound to.
        let pool = CRN.computePool(org, fixture.envB, "aws.us-east-1", "lfcp-abc123").description
        for (role, pattern) in [
            ("Assigner", "crn://confluent.cloud/organization=\(org)/environment=\(fixture.envB)/service-account=\(fixture.other)"),
            ("Assigner", envB), ("EnvironmentAdmin", pool), ("EnvironmentAdmin", "crn://confluent.cloud/organization=\(org)"),
            ("OrganizationAdmin", envB), ("FlinkDeveloper", "crn://confluent.cloud/organization=\(org)"),
            ("FlinkAdmin", "crn://confluent.cloud/organization=\(org)/environment=env-*/compute-pool=*"),
            ("FlinkDeveloper", "crn://confluent.cloud/organization=\(org)/environment=\(fixture.envB)/kafka=lkc-1"),
        ] {
            expectFailure(&fixture.state, status: 400, pointer: "/crn_pattern", "\(role) on \(pattern)") { state throws(APIError) in
                try bind(&state, other, role, pattern)
            }
        }
        try bind(&fixture.state, other, "Assigner", CRN.serviceAccount(org, fixture.other).description)
        try bind(&fixture.state, other, "FlinkDeveloper", pool)
    }

    // MARK: Other failures

    @Test func userAndOrganizationUpdatesAreAllOrNothing() throws {
        var fixture = try Populated()
        let (org, user) = (fixture.boot.organizationID, fixture.boot.userID)
        let error = expectFailure(&fixture.state, status: 404) { state throws(APIError) in
            _ = try state.updateUser(id: "u-nope00", fullName: "x", now: Self.later)
        }
        #expect(error?.code == "user_not_found")
        expectFailure(&fixture.state, status: 400, pointer: "/full_name") { state throws(APIError) in
            _ = try state.updateUser(id: user, fullName: String(repeating: "n", count: 129), now: Self.later)
        }
        expectFailure(&fixture.state, status: 400) { state throws(APIError) in
            _ = try state.updateOrganization(id: org, displayName: " ", now: Self.later)
        }
        expectFailure(&fixture.state, status: 404) { state throws(APIError) in
            _ = try state.updateOrganization(id: "nope", displayName: "x", now: Self.later)
        }
        let renamed = try fixture.state.updateUser(id: user, fullName: String(repeating: "n", count: 128), now: Self.later)
        #expect(renamed.fullName.count == 128)
    }

    // MARK: Persistence contract

    @Test func recordedChangesReplayIntoTheSameState() throws {
        var state = ControlPlaneState()
        let result = state.bootstrap(now: Self.now, adminKeyID: "ADMINKEY00000001", adminSecretDigest: Self.digest)
        let boot = try #require(result)
        _ = try state.createEnvironment(organizationID: boot.organizationID, displayName: "gone", governancePackage: nil, now: Self.now)
        let envB = try state.createEnvironment(organizationID: boot.organizationID, displayName: "b", governancePackage: nil, now: Self.now)
        let pool = try state.createComputePool(
            organizationID: boot.organizationID, request: Self.poolRequest("p", env: envB.id, defaultPool: true), regions: Self.regions, now: Self.now
        )
        state.markProvisioned(poolID: pool.id, now: Self.later)
        try state.deleteEnvironment(id: try #require(state.environments.values.first { $0.displayName == "gone" }).id)
        let everything = state.drainChanges()

        // Keep the last change of each resource, as the table's upsert and delete would.
        var rows: [String: ResourceChange] = [:]
        for change in everything { rows["\(change.kind.rawValue)/\(change.id)"] = change }
        var replayed = ControlPlaneState()
        for change in rows.values.sorted(by: { $0.sequence < $1.sequence }) {
            if let body = change.body { try replayed.load(kind: change.kind, body: body) }
        }
        #expect(StateContents(replayed) == StateContents(state))
        #expect(replayed.pendingChanges.isEmpty)
    }

    @Test func sequencesIncreaseAndListingsFollowThem() throws {
        var (state, boot) = try Self.bootstrapped()
        var last = state.lastSequence
        for index in 0..<5 {
            let account = try state.createServiceAccount(
                organizationID: boot.organizationID, displayName: "sa\(index)", description: "", now: Self.now)
            #expect(account.sequence == last + 1)
            last = account.sequence
        }
        let listed = state.sorted(\.serviceAccounts) { _ in true }
        #expect(listed.map(\.displayName) == (0..<5).map { "sa\($0)" })
    }
}
