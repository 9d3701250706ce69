// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

/// Each environment's Schema Registry as a control-plane resource: its id, its API keys, and who may use it.
@Suite struct SchemaRegistryResourceTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)

    static func bootstrapped() throws -> (ControlPlaneState, BootstrapResult) {
        var state = ControlPlaneState()
        let result = state.bootstrap(now: now, adminKeyID: "ADMIN", adminSecretDigest: SecretDigest(salt: "s", digest: "d"))
        let boot = try #require(result)
        return (state, boot)
    }

    @Test func everyEnvironmentGetsItsOwnRegistry() throws {
        var (state, boot) = try Self.bootstrapped()
        let defaultRegistry = try #require(state.environments[boot.environmentID]?.schemaRegistryID)
        #expect(defaultRegistry.hasPrefix("lsrc-") && defaultRegistry.count == 11)
        let other = try state.createEnvironment(organizationID: boot.organizationID, displayName: "b", governancePackage: nil, now: Self.now)
        #expect(other.schemaRegistryID != nil && other.schemaRegistryID != defaultRegistry)
        #expect(state.environment(ofSchemaRegistry: defaultRegistry)?.id == boot.environmentID)
        #expect(state.environment(ofSchemaRegistry: "lsrc-nothing") == nil)
    }

    @Test func environmentsStoredBeforeRegistriesGetOneOnce() throws {
        var (state, boot) = try Self.bootstrapped()
        var old = try #require(state.environments[boot.environmentID])
        old.schemaRegistryID = nil
        // An environment body written before the field existed decodes without it.
        let body = try JSONEncoder().encode(old)
        var loaded = ControlPlaneState()
        try loaded.load(kind: .environment, body: body)
        #expect(loaded.environments[boot.environmentID]?.schemaRegistryID == nil)
        #expect(loaded.ensureSchemaRegistries() == [boot.environmentID])
        let assigned = loaded.environments[boot.environmentID]?.schemaRegistryID
        #expect(assigned?.hasPrefix("lsrc-") == true)
        #expect(loaded.drainChanges().count == 1)
        #expect(loaded.ensureSchemaRegistries().isEmpty)
        #expect(loaded.environments[boot.environmentID]?.schemaRegistryID == assigned)
        _ = state
    }

    @Test func registryKeysResolveToTheirEnvironment() throws {
        var (state, boot) = try Self.bootstrapped()
        let registry = try #require(state.environments[boot.environmentID]?.schemaRegistryID)
        let resource = try state.resolveAPIKeyResource(organizationID: boot.organizationID, resourceID: registry, environmentID: nil, regions: [])
        #expect(resource == .schemaRegistry(clusterID: registry, environmentID: boot.environmentID))
        #expect(resource.id == registry && resource.environmentID == boot.environmentID)
        #expect(
            try state.resolveAPIKeyResource(
                organizationID: boot.organizationID, resourceID: registry, environmentID: boot.environmentID, regions: []) == resource)
        let other = try state.createEnvironment(organizationID: boot.organizationID, displayName: "b", governancePackage: nil, now: Self.now)
        #expect(throws: APIError.self) {
            try state.resolveAPIKeyResource(organizationID: boot.organizationID, resourceID: registry, environmentID: other.id, regions: [])
        }
        #expect(throws: APIError.self) {
            try state.resolveAPIKeyResource(organizationID: boot.organizationID, resourceID: "lsrc-nothing", environmentID: nil, regions: [])
        }
        #expect(throws: APIError.self) {
            try state.resolveAPIKeyResource(organizationID: "another-org", resourceID: registry, environmentID: nil, regions: [])
        }
        // Deleting the environment deletes the registry's keys with it.
        let key = try state.createAPIKey(
            organizationID: boot.organizationID, ownerID: boot.userID,
            resource: .schemaRegistry(clusterID: other.schemaRegistryID!, environmentID: other.id), displayName: "", description: "",
            keyID: "SRKEY", secretDigest: SecretDigest(salt: "s", digest: "d"), now: Self.now)
        try state.deleteEnvironment(id: other.id)
        #expect(state.apiKeys[key.id] == nil)
        #expect(CredentialReach(of: key) == .environment(other.id))
    }

    @Test func roleMatrix() throws {
        let org = "6a1f0c2e-0000-4000-8000-000000000001"
        let environment = CRN.environment(org, "env-a")
        func policy(_ role: Role?, on scope: CRN = environment) -> AccessPolicy {
            let bindings = role.map {
                [
                    RoleBinding(
                        id: "rb-1", organizationID: org, principal: "User:u-1", role: $0, crnPattern: scope.description, sequence: 1,
                        createdAt: Self.now)
                ]
            }
            return AccessPolicy(principalID: "u-1", organizationID: org, bindings: bindings ?? [])
        }
        let rows: [(Role?, CRN, use: Bool, manage: Bool)] = [
            (.organizationAdmin, .organization(org), true, true),
            (.environmentAdmin, environment, true, true),
            (.flinkAdmin, environment, true, false),
            (.flinkDeveloper, environment, true, false),
            (.flinkDeveloper, .flinkRegion(org, "env-a", "aws.us-east-1"), true, false),
            (.flinkDeveloper, .environment(org, "env-b"), false, false),
            (.environmentAdmin, .environment(org, "env-b"), false, false),
            (nil, environment, false, false),
        ]
        for (role, scope, use, manage) in rows {
            let policy = policy(role, on: scope)
            #expect(policy.canUseSchemaRegistry(in: "env-a") == use, "\(String(describing: role)) on \(scope)")
            #expect(policy.canManageSchemaRegistry(in: "env-a") == manage, "\(String(describing: role)) on \(scope)")
        }
        let key = APIKeyResource.schemaRegistry(clusterID: "lsrc-a", environmentID: "env-a")
        #expect(policy(.flinkDeveloper).refusalToCreateAPIKey(owner: policy(.flinkDeveloper), resource: key) == nil)
        #expect(policy(nil).refusalToCreateAPIKey(owner: policy(nil), resource: key) != nil)
        #expect(policy(.environmentAdmin).canManageAPIKey(ownerID: "sa-other", resource: key))
        #expect(!policy(.flinkDeveloper).canManageAPIKey(ownerID: "sa-other", resource: key))
    }

    @Test func externalRegistriesAreValidatedAndKeepTheirSecretOutOfDescriptions() throws {
        var (state, boot) = try Self.bootstrapped()
        let external = ExternalSchemaRegistry(url: "http://registry.local:8081", apiKey: "KEY", apiSecret: "s3cret")
        #expect(!external.description.contains("s3cret") && external.description.contains("KEY"))
        #expect(!String(reflecting: external).contains("s3cret"))
        let updated = try state.setExternalSchemaRegistry(environmentID: boot.environmentID, external, now: Self.now)
        #expect(updated.externalSchemaRegistry == external)
        #expect(try state.setExternalSchemaRegistry(environmentID: boot.environmentID, nil, now: Self.now).externalSchemaRegistry == nil)
        let refused = [
            ExternalSchemaRegistry(url: "https://psrc-1.confluent.cloud"), ExternalSchemaRegistry(url: "ftp://x"),
            ExternalSchemaRegistry(url: "http://"), ExternalSchemaRegistry(url: "http://a b"),
            ExternalSchemaRegistry(url: "http://x", apiKey: "K"), ExternalSchemaRegistry(url: "http://x", apiKey: "K:1", apiSecret: "s"),
        ]
        for registry in refused {
            #expect(throws: APIError.self, "\(registry)") {
                try state.setExternalSchemaRegistry(environmentID: boot.environmentID, registry, now: Self.now)
            }
        }
        #expect(throws: APIError.self) { try state.setExternalSchemaRegistry(environmentID: "env-none", external, now: Self.now) }
        #expect(state.environments[boot.environmentID]?.externalSchemaRegistry == nil)
    }
}
