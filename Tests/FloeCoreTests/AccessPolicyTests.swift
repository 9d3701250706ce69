// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

/// The role matrix: what each role, bound at each scope, lets a principal do.
@Suite struct AccessPolicyTests {
    static let org = "6a1f0c2e-0000-4000-8000-000000000001"
    static let otherOrg = "6a1f0c2e-0000-4000-8000-000000000002"
    static let envA = "env-aaaaaa"
    static let envB = "env-bbbbbb"
    static let region = "aws.us-east-1"
    static let otherRegion = "gcp.us-central1"
    static let me = "u-me0001"

    static func pool(_ id: String, env: String, cloud: Cloud = .aws, region: String = "us-east-1") -> ComputePool {
        ComputePool(
            id: id, organizationID: org, environmentID: env, displayName: id, cloud: cloud, region: region, maxCFU: 10,
            enableAI: false, defaultPool: false, phase: .provisioned, currentCFU: 0, sequence: 1,
            createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0))
    }

    static let poolA1 = pool("lfcp-a1", env: envA)
    static let poolA2 = pool("lfcp-a2", env: envA)
    static let poolAGCP = pool("lfcp-ag", env: envA, cloud: .gcp, region: "us-central1")
    static let poolB1 = pool("lfcp-b1", env: envB)

    static func binding(_ role: Role, _ scope: CRN, principal: String = me, organizationID: String = org) -> RoleBinding {
        RoleBinding(
            id: "rb-" + IdentifierGenerator.randomString(length: 5, alphabet: Array("abcdefghijklmnop")), organizationID: organizationID,
            principal: "User:\(principal)", role: role, crnPattern: scope.description, sequence: 1,
            createdAt: Date(timeIntervalSince1970: 0))
    }

    static func policy(_ bindings: RoleBinding..., principal: String = me) -> AccessPolicy {
        AccessPolicy(principalID: principal, organizationID: org, bindings: bindings)
    }

    static let organizationAdmin = policy(binding(.organizationAdmin, .organization(org)))
    static let environmentAdminA = policy(binding(.environmentAdmin, .environment(org, envA)))
    static let environmentAdminB = policy(binding(.environmentAdmin, .environment(org, envB)))
    static let flinkAdminA = policy(binding(.flinkAdmin, .environment(org, envA)))
    static let developerA = policy(binding(.flinkDeveloper, .environment(org, envA)))
    static let developerOnPoolA1 = policy(binding(.flinkDeveloper, .computePool(org, envA, region, poolA1.id)))
    static let assignerOfSA1 = policy(binding(.assigner, .serviceAccount(org, "sa-000001")))
    static let nobody = policy()

    // MARK: Organization and environment admin

    @Test func isOrganizationAdmin() {
        #expect(Self.organizationAdmin.isOrganizationAdmin)
        for policy in [Self.environmentAdminA, Self.flinkAdminA, Self.developerA, Self.developerOnPoolA1, Self.assignerOfSA1, Self.nobody] {
            #expect(!policy.isOrganizationAdmin)
        }
    }

    @Test func organizationAdminOfAnotherOrganizationIsNothingHere() {
        let foreign = Self.policy(Self.binding(.organizationAdmin, .organization(Self.otherOrg), organizationID: Self.otherOrg))
        #expect(!foreign.isOrganizationAdmin)
        #expect(!foreign.isMember)
        #expect(!foreign.canSee(environment: Self.envA))
        // A binding recorded in this organization but whose pattern names another one grants nothing here either.
        let mislabeled = Self.policy(Self.binding(.organizationAdmin, .organization(Self.otherOrg)))
        #expect(!mislabeled.isOrganizationAdmin)
        #expect(!mislabeled.canManageComputePools(in: Self.envA))
    }

    @Test func isEnvironmentAdmin() {
        #expect(Self.organizationAdmin.isEnvironmentAdmin(Self.envA))
        #expect(Self.organizationAdmin.isEnvironmentAdmin(Self.envB))
        #expect(Self.environmentAdminA.isEnvironmentAdmin(Self.envA))
        #expect(!Self.environmentAdminA.isEnvironmentAdmin(Self.envB))
        #expect(Self.environmentAdminB.isEnvironmentAdmin(Self.envB))
        #expect(!Self.environmentAdminB.isEnvironmentAdmin(Self.envA))
        for policy in [Self.flinkAdminA, Self.developerA, Self.developerOnPoolA1, Self.assignerOfSA1, Self.nobody] {
            #expect(!policy.isEnvironmentAdmin(Self.envA))
        }
    }

    @Test func wildcardEnvironmentAdmin() throws {
        let everywhere = Self.policy(
            Self.binding(.environmentAdmin, try #require(CRN(parsing: "crn://confluent.cloud/organization=\(Self.org)/environment=*"))))
        #expect(everywhere.isEnvironmentAdmin(Self.envA))
        #expect(everywhere.isEnvironmentAdmin(Self.envB))
        #expect(!everywhere.isOrganizationAdmin)
    }

    // MARK: Visibility

    @Test func canSeeEnvironment() {
        #expect(Self.organizationAdmin.canSee(environment: Self.envA))
        #expect(Self.organizationAdmin.canSee(environment: Self.envB))
        #expect(Self.environmentAdminA.canSee(environment: Self.envA))
        #expect(!Self.environmentAdminA.canSee(environment: Self.envB))
        #expect(Self.flinkAdminA.canSee(environment: Self.envA))
        #expect(!Self.flinkAdminA.canSee(environment: Self.envB))
        #expect(Self.developerA.canSee(environment: Self.envA))
        #expect(!Self.developerA.canSee(environment: Self.envB))
        #expect(Self.developerOnPoolA1.canSee(environment: Self.envA), "a binding inside the environment reveals it")
        #expect(!Self.developerOnPoolA1.canSee(environment: Self.envB))
        #expect(!Self.assignerOfSA1.canSee(environment: Self.envA))
        #expect(!Self.nobody.canSee(environment: Self.envA))
    }

    @Test func membership() {
        #expect(Self.assignerOfSA1.isMember)
        #expect(Self.developerOnPoolA1.isMember)
        #expect(!Self.nobody.isMember)
    }

    // MARK: Compute pools

    @Test func canManageComputePools() {
        #expect(Self.organizationAdmin.canManageComputePools(in: Self.envA))
        #expect(Self.environmentAdminA.canManageComputePools(in: Self.envA))
        #expect(!Self.environmentAdminA.canManageComputePools(in: Self.envB))
        #expect(Self.flinkAdminA.canManageComputePools(in: Self.envA))
        #expect(!Self.flinkAdminA.canManageComputePools(in: Self.envB))
        #expect(!Self.developerA.canManageComputePools(in: Self.envA), "FlinkDeveloper cannot create pools")
        #expect(!Self.developerOnPoolA1.canManageComputePools(in: Self.envA))
        #expect(!Self.assignerOfSA1.canManageComputePools(in: Self.envA))
        #expect(!Self.nobody.canManageComputePools(in: Self.envA))
    }

    @Test func canUsePool() {
        for policy in [Self.organizationAdmin] {
            #expect(policy.canUse(pool: Self.poolA1) && policy.canUse(pool: Self.poolB1))
        }
        for policy in [Self.environmentAdminA, Self.flinkAdminA, Self.developerA] {
            #expect(policy.canUse(pool: Self.poolA1))
            #expect(policy.canUse(pool: Self.poolA2))
            #expect(policy.canUse(pool: Self.poolAGCP))
            #expect(!policy.canUse(pool: Self.poolB1))
        }
        #expect(Self.developerOnPoolA1.canUse(pool: Self.poolA1))
        #expect(!Self.developerOnPoolA1.canUse(pool: Self.poolA2), "a pool-scoped binding covers that pool only")
        #expect(!Self.developerOnPoolA1.canUse(pool: Self.poolB1))
        #expect(!Self.assignerOfSA1.canUse(pool: Self.poolA1))
        #expect(!Self.nobody.canUse(pool: Self.poolA1))
    }

    @Test func canListComputePools() {
        #expect(Self.developerA.canListComputePools(in: Self.envA))
        #expect(Self.developerOnPoolA1.canListComputePools(in: Self.envA))
        #expect(!Self.developerOnPoolA1.canListComputePools(in: Self.envB))
        #expect(!Self.assignerOfSA1.canListComputePools(in: Self.envA))
        #expect(!Self.nobody.canListComputePools(in: Self.envA))
    }

    // MARK: Statements

    @Test func canRunStatements() {
        #expect(Self.organizationAdmin.canRunStatements(in: Self.envB, regionID: Self.otherRegion))
        for policy in [Self.environmentAdminA, Self.flinkAdminA, Self.developerA] {
            #expect(policy.canRunStatements(in: Self.envA, regionID: Self.region))
            #expect(policy.canRunStatements(in: Self.envA, regionID: Self.otherRegion))
            #expect(!policy.canRunStatements(in: Self.envB, regionID: Self.region))
        }
        #expect(Self.developerOnPoolA1.canRunStatements(in: Self.envA, regionID: Self.region), "a pool binding lets it run in the pool's region")
        #expect(!Self.developerOnPoolA1.canRunStatements(in: Self.envA, regionID: Self.otherRegion))
        #expect(!Self.developerOnPoolA1.canRunStatements(in: Self.envB, regionID: Self.region))
        #expect(!Self.assignerOfSA1.canRunStatements(in: Self.envA, regionID: Self.region))
        #expect(!Self.nobody.canRunStatements(in: Self.envA, regionID: Self.region))
    }

    @Test func canManageAllStatements() {
        #expect(Self.organizationAdmin.canManageAllStatements(in: Self.envA))
        #expect(Self.environmentAdminA.canManageAllStatements(in: Self.envA))
        #expect(Self.flinkAdminA.canManageAllStatements(in: Self.envA))
        #expect(!Self.flinkAdminA.canManageAllStatements(in: Self.envB))
        #expect(!Self.developerA.canManageAllStatements(in: Self.envA))
        #expect(!Self.developerOnPoolA1.canManageAllStatements(in: Self.envA))
    }

    // MARK: Role bindings

    @Test func organizationAdminManagesEveryBinding() {
        for role in Role.allCases {
            #expect(Self.organizationAdmin.canManageRoleBinding(role: role, scope: .organization(Self.org)))
            #expect(Self.organizationAdmin.canManageRoleBinding(role: role, scope: .environment(Self.org, Self.envB)))
        }
    }

    @Test func environmentAdminManagesBindingsInsideItsEnvironmentOnly() {
        let admin = Self.environmentAdminA
        for role in [Role.environmentAdmin, .flinkAdmin, .flinkDeveloper] {
            #expect(admin.canManageRoleBinding(role: role, scope: .environment(Self.org, Self.envA)))
            #expect(admin.canManageRoleBinding(role: role, scope: .computePool(Self.org, Self.envA, Self.region, "lfcp-a1")))
            #expect(!admin.canManageRoleBinding(role: role, scope: .environment(Self.org, Self.envB)))
            #expect(!admin.canManageRoleBinding(role: role, scope: .computePool(Self.org, Self.envB, Self.region, "lfcp-b1")))
            #expect(!admin.canManageRoleBinding(role: role, scope: .organization(Self.org)))
        }
        #expect(!admin.canManageRoleBinding(role: .organizationAdmin, scope: .environment(Self.org, Self.envA)), "never OrganizationAdmin")
        #expect(!admin.canManageRoleBinding(role: .organizationAdmin, scope: .organization(Self.org)))
        #expect(!admin.canManageRoleBinding(role: .assigner, scope: .serviceAccount(Self.org, "sa-000001")))
    }

    @Test func othersManageNoBindings() {
        for policy in [Self.flinkAdminA, Self.developerA, Self.developerOnPoolA1, Self.assignerOfSA1, Self.nobody] {
            #expect(!policy.canManageRoleBinding(role: .flinkDeveloper, scope: .environment(Self.org, Self.envA)))
            #expect(!policy.canManageRoleBinding(role: .assigner, scope: .serviceAccount(Self.org, "sa-000001")))
        }
    }

    @Test func canSeeRoleBinding() {
        let mine = Self.binding(.flinkDeveloper, .environment(Self.org, Self.envB))
        let someoneElsesInA = Self.binding(.flinkDeveloper, .environment(Self.org, Self.envA), principal: "u-other1")
        let someoneElsesInB = Self.binding(.flinkDeveloper, .environment(Self.org, Self.envB), principal: "u-other1")
        #expect(Self.nobody.canSee(roleBinding: mine))
        #expect(Self.environmentAdminA.canSee(roleBinding: someoneElsesInA))
        #expect(!Self.environmentAdminA.canSee(roleBinding: someoneElsesInB))
        #expect(!Self.developerA.canSee(roleBinding: someoneElsesInA))
        #expect(Self.organizationAdmin.canSee(roleBinding: someoneElsesInB))
    }

    // MARK: API keys

    @Test func everyoneManagesTheirOwnKeys() {
        for policy in [Self.organizationAdmin, Self.environmentAdminA, Self.flinkAdminA, Self.developerA, Self.assignerOfSA1, Self.nobody] {
            #expect(policy.canManageAPIKey(ownerID: Self.me, resource: .cloud))
            #expect(policy.canManageAPIKey(ownerID: Self.me, resource: .flinkRegion(regionID: Self.region, environmentID: Self.envB)))
        }
    }

    @Test func organizationAdminManagesAnyKey() {
        #expect(Self.organizationAdmin.canManageAPIKey(ownerID: "u-other1", resource: .cloud))
        #expect(Self.organizationAdmin.canManageAPIKey(ownerID: "sa-000009", resource: .cloud))
    }

    @Test func assignerManagesItsServiceAccountsKeys() {
        let policy = Self.assignerOfSA1
        #expect(policy.canAssign(serviceAccount: "sa-000001"))
        #expect(!policy.canAssign(serviceAccount: "sa-000002"))
        #expect(policy.canManageAPIKey(ownerID: "sa-000001", resource: .cloud))
        #expect(policy.canManageAPIKey(ownerID: "sa-000001", resource: .flinkRegion(regionID: Self.region, environmentID: Self.envB)))
        #expect(!policy.canManageAPIKey(ownerID: "sa-000002", resource: .cloud))
        #expect(!policy.canManageAPIKey(ownerID: "u-other1", resource: .cloud))
    }

    @Test func environmentAdminManagesFlinkKeysOfServiceAccountsInItsEnvironmentOnly() {
        let admin = Self.environmentAdminA
        #expect(admin.canManageAPIKey(ownerID: "sa-000009", resource: .flinkRegion(regionID: Self.region, environmentID: Self.envA)))
        #expect(!admin.canManageAPIKey(ownerID: "sa-000009", resource: .flinkRegion(regionID: Self.region, environmentID: Self.envB)))
        #expect(!admin.canManageAPIKey(ownerID: "sa-000009", resource: .cloud), "Cloud keys need Assigner")
        #expect(
            !admin.canManageAPIKey(ownerID: "u-other1", resource: .flinkRegion(regionID: Self.region, environmentID: Self.envA)), "not users' keys")
        #expect(!admin.canAssign(serviceAccount: "sa-000009"))
    }

    @Test func flinkRolesManageNoOneElsesKeys() {
        for policy in [Self.flinkAdminA, Self.developerA, Self.developerOnPoolA1, Self.nobody] {
            #expect(!policy.canManageAPIKey(ownerID: "sa-000009", resource: .flinkRegion(regionID: Self.region, environmentID: Self.envA)))
            #expect(!policy.canManageAPIKey(ownerID: "sa-000009", resource: .cloud))
            #expect(!policy.canManageAPIKey(ownerID: "u-other1", resource: .cloud))
        }
    }

    // MARK: Catalogs in SQL

    @Test func catalogAccessFollowsTheRolesThatRunStatements() {
        for policy in [Self.organizationAdmin, Self.environmentAdminA, Self.flinkAdminA, Self.developerA, Self.developerOnPoolA1] {
            #expect(policy.catalogAccess(environmentID: Self.envA) == .all)
        }
        #expect(Self.organizationAdmin.catalogAccess(environmentID: Self.envB) == .all)
        for policy in [Self.environmentAdminA, Self.flinkAdminA, Self.developerA, Self.developerOnPoolA1, Self.assignerOfSA1, Self.nobody] {
            #expect(policy.catalogAccess(environmentID: Self.envB).isEmpty)
        }
        #expect(Self.assignerOfSA1.catalogAccess(environmentID: Self.envA).isEmpty)
        // Wildcard bindings on a region of every environment reach every environment's catalog, as they run statements there.
        let everywhere = Self.policy(
            Self.binding(
                .flinkDeveloper,
                try! #require(CRN(parsing: "crn://confluent.cloud/organization=\(Self.org)/environment=*/flink-region=\(Self.region)"))))
        #expect(everywhere.canRunStatements(in: Self.envB, regionID: Self.region))
        #expect(everywhere.catalogAccess(environmentID: Self.envB) == .all)
        let prefixed = Self.policy(
            Self.binding(
                .flinkAdmin,
                try! #require(CRN(parsing: "crn://confluent.cloud/organization=\(Self.org)/environment=env-a*/flink-region=*/compute-pool=*"))))
        #expect(prefixed.catalogAccess(environmentID: Self.envA) == .all)
        #expect(prefixed.catalogAccess(environmentID: Self.envB).isEmpty)
    }

    @Test func credentialReach() {
        #expect(CredentialReach.organization.includes(Self.envB))
        #expect(CredentialReach.environment(Self.envA).includes(Self.envA))
        #expect(!CredentialReach.environment(Self.envA).includes(Self.envB))
    }

    // MARK: Minting keys

    @Test func aKeyForAnotherPrincipalNeedsTheRightToActAsIt() {
        let owner = Self.policy(Self.binding(.flinkDeveloper, .environment(Self.org, Self.envA), principal: "sa-000001"), principal: "sa-000001")
        let flinkKeyA = APIKeyResource.flinkRegion(regionID: Self.region, environmentID: Self.envA)
        #expect(Self.organizationAdmin.refusalToCreateAPIKey(owner: owner, resource: flinkKeyA) == nil)
        // EnvironmentAdmin of the environment no longer suffices: it needs Assigner on the account.
        #expect(
            Self.environmentAdminA.refusalToCreateAPIKey(owner: owner, resource: flinkKeyA)?.contains("needs OrganizationAdmin, or the Assigner role")
                == true)
        let adminAndAssigner = Self.policy(
            Self.binding(.environmentAdmin, .environment(Self.org, Self.envA)), Self.binding(.assigner, .serviceAccount(Self.org, "sa-000001")))
        #expect(adminAndAssigner.refusalToCreateAPIKey(owner: owner, resource: flinkKeyA) == nil)
        #expect(adminAndAssigner.refusalToCreateAPIKey(owner: owner, resource: .cloud) == nil)
        // Assigner alone holds less than the account: refused.
        #expect(Self.assignerOfSA1.refusalToCreateAPIKey(owner: owner, resource: flinkKeyA)?.contains("holds roles that") == true)
    }

    @Test func nobodyMintsAKeyForMorePrivilegeThanItHolds() {
        let powerful = Self.policy(Self.binding(.organizationAdmin, .organization(Self.org), principal: "sa-000001"), principal: "sa-000001")
        let adminAndAssigner = Self.policy(
            Self.binding(.environmentAdmin, .environment(Self.org, Self.envA)), Self.binding(.assigner, .serviceAccount(Self.org, "sa-000001")))
        #expect(adminAndAssigner.refusalToCreateAPIKey(owner: powerful, resource: .cloud)?.contains("holds roles that") == true)
        #expect(!adminAndAssigner.holdsEverything(of: powerful))
        #expect(Self.organizationAdmin.holdsEverything(of: powerful))
        let inB = Self.policy(Self.binding(.flinkDeveloper, .environment(Self.org, Self.envB), principal: "sa-000001"), principal: "sa-000001")
        #expect(!adminAndAssigner.holdsEverything(of: inB))
        let poolDeveloper = Self.policy(
            Self.binding(.flinkDeveloper, .computePool(Self.org, Self.envA, Self.region, "lfcp-a1"), principal: "sa-000001"), principal: "sa-000001")
        #expect(Self.environmentAdminA.holdsEverything(of: poolDeveloper))
        #expect(!Self.developerOnPoolA1.holdsEverything(of: Self.developerA))
    }

    @Test func aFlinkKeyNeedsAFlinkRoleOfItsOwnerInItsEnvironment() {
        let keyA = APIKeyResource.flinkRegion(regionID: Self.region, environmentID: Self.envA)
        let keyB = APIKeyResource.flinkRegion(regionID: Self.region, environmentID: Self.envB)
        #expect(Self.developerA.refusalToCreateAPIKey(owner: Self.developerA, resource: keyA) == nil)
        #expect(Self.developerA.refusalToCreateAPIKey(owner: Self.developerA, resource: keyB)?.contains("needs a role of") == true)
        #expect(Self.developerA.refusalToCreateAPIKey(owner: Self.developerA, resource: .cloud) == nil)
        #expect(Self.nobody.refusalToCreateAPIKey(owner: Self.nobody, resource: keyA) != nil)
        #expect(Self.organizationAdmin.refusalToCreateAPIKey(owner: Self.organizationAdmin, resource: keyB) == nil)
    }

    @Test func rolesIncludeTheWeakerOnes() {
        #expect(Role.organizationAdmin.includes(.assigner))
        #expect(Role.environmentAdmin.includes(.flinkDeveloper) && !Role.environmentAdmin.includes(.assigner))
        #expect(Role.flinkAdmin.includes(.flinkDeveloper) && !Role.flinkDeveloper.includes(.flinkAdmin))
    }

    // MARK: Built from state

    @Test func policyFromStateUsesOnlyThatPrincipalsBindings() throws {
        var state = ControlPlaneState()
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let result = state.bootstrap(now: now, adminKeyID: IdentifierGenerator.apiKeyID(), adminSecretDigest: SecretDigest(salt: "s", digest: "d"))
        let boot = try #require(result)
        let account = try state.createServiceAccount(organizationID: boot.organizationID, displayName: "dev", description: "", now: now)
        _ = try state.createRoleBinding(
            organizationID: boot.organizationID, principal: "User:\(account.id)", roleName: "FlinkDeveloper",
            crnPattern: CRN.environment(boot.organizationID, boot.environmentID).description, now: now)

        let admin = AccessPolicy(principalID: boot.userID, organizationID: boot.organizationID, state: state)
        #expect(admin.isOrganizationAdmin)
        let developer = AccessPolicy(principalID: account.id, organizationID: boot.organizationID, state: state)
        #expect(!developer.isOrganizationAdmin)
        #expect(developer.canRunStatements(in: boot.environmentID, regionID: Self.region))
        #expect(!developer.canManageComputePools(in: boot.environmentID))
        let stranger = AccessPolicy(principalID: "sa-nobody", organizationID: boot.organizationID, state: state)
        #expect(!stranger.isMember)
    }
}
