// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

/// The rules of attached Kafka clusters: validation, unique names, connection changes, probes, cascades, secrets
/// kept apart, and who may do what.
@Suite struct KafkaClusterTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let password = "pa55-w0rd-that-must-not-leak"

    struct World {
        var state = ControlPlaneState()
        var organizationID: String
        var environmentID: String
        var otherEnvironmentID: String
    }

    func world() throws -> World {
        var state = ControlPlaneState()
        let booted = state.bootstrap(now: Self.now, adminKeyID: "ADMINKEY00000001", adminSecretDigest: SecretDigest(salt: "", digest: ""))
        let boot = try #require(booted)
        let other = try state.createEnvironment(organizationID: boot.organizationID, displayName: "other", governancePackage: nil, now: Self.now)
        _ = state.drainChanges()
        return World(state: state, organizationID: boot.organizationID, environmentID: boot.environmentID, otherEnvironmentID: other.id)
    }

    func request(
        _ name: String, environment: String, bootstrap: String = "127.0.0.1:9092", sasl: KafkaConnection.SASL? = nil, pem: String? = nil,
        config: KafkaClusterConfig = KafkaClusterConfig(kind: .basic)
    ) -> ControlPlaneState.KafkaClusterRequest {
        ControlPlaneState.KafkaClusterRequest(
            displayName: name, availability: "SINGLE_ZONE", cloud: "aws", region: "us-east-1", config: config, environmentID: environment,
            bootstrapServers: bootstrap, sasl: sasl, tlsCAPEM: pem)
    }

    static let sasl = KafkaConnection.SASL(mechanism: .scramSHA256, username: "floe", password: password)
    static let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    @Test func createAttachesInProvisioningWithAnLkcIDAndCRN() throws {
        var world = try world()
        let cluster = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("orders", environment: world.environmentID, sasl: Self.sasl), now: Self.now)
        #expect(cluster.id.hasPrefix("lkc-") && cluster.id.count == 10)
        #expect(cluster.phase == .provisioning)
        #expect(cluster.cloud == .aws)
        #expect(cluster.connectionRevision == 1)
        #expect(
            CRN.kafkaCluster(world.organizationID, world.environmentID, cluster.id).description
                == "crn://confluent.cloud/organization=\(world.organizationID)/environment=\(world.environmentID)/cloud-cluster=\(cluster.id)")
        let connection = try #require(world.state.kafkaConnection(clusterID: cluster.id))
        #expect(connection.bootstrapServers == "127.0.0.1:9092")
        #expect(connection.sasl == Self.sasl)
        #expect(connection.securityProtocol == "SASL_PLAINTEXT")
        let changes = world.state.drainChanges()
        #expect(changes.map(\.kind) == [.kafkaCluster, .kafkaClusterSecret])
    }

    @Test func withoutBootstrapServersTheClusterIsFailedSayingWhy() throws {
        var world = try world()
        let cluster = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("later", environment: world.environmentID, bootstrap: ""), now: Self.now)
        #expect(cluster.phase == .failed)
        #expect(cluster.statusDetail?.contains("kafka_bootstrap_endpoint") == true)
        #expect(world.state.kafkaConnection(clusterID: cluster.id) == nil)
        // Setting them later starts a probe.
        var update = ControlPlaneState.KafkaClusterUpdate()
        update.bootstrapServers = "broker:9092"
        let updated = try world.state.updateKafkaCluster(id: cluster.id, environmentID: world.environmentID, update: update, now: Self.now)
        #expect(updated.phase == .provisioning)
        #expect(updated.statusDetail == nil)
    }

    @Test func displayNamesAreUniquePerEnvironment() throws {
        var world = try world()
        _ = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("orders", environment: world.environmentID), now: Self.now)
        #expect(throws: APIError.self) {
            try world.state.createKafkaCluster(
                organizationID: world.organizationID, request: request("orders", environment: world.environmentID), now: Self.now)
        }
        do {
            _ = try world.state.createKafkaCluster(
                organizationID: world.organizationID, request: request("orders", environment: world.environmentID), now: Self.now)
        } catch { #expect(error.status == 409) }
        // Another environment may use the name; a rename onto a taken name is refused too.
        let other = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("orders", environment: world.otherEnvironmentID), now: Self.now)
        let second = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("payments", environment: world.environmentID), now: Self.now)
        var rename = ControlPlaneState.KafkaClusterUpdate()
        rename.displayName = "orders"
        do {
            _ = try world.state.updateKafkaCluster(id: second.id, environmentID: world.environmentID, update: rename, now: Self.now)
            Issue.record("a rename onto a taken name was accepted")
        } catch { #expect(error.status == 409) }
        let renamedOther = try world.state.updateKafkaCluster(id: other.id, environmentID: world.otherEnvironmentID, update: rename, now: Self.now)
        #expect(renamedOther.displayName == "orders")
    }

    @Test(arguments: [
        ("", "/spec/kafka_bootstrap_endpoint"), ("broker", "/spec/kafka_bootstrap_endpoint"), ("broker:0", "/spec/kafka_bootstrap_endpoint"),
        ("broker:9092,", "/spec/kafka_bootstrap_endpoint"), ("bro ker:9092", "/spec/kafka_bootstrap_endpoint"),
        ("broker:65536", "/spec/kafka_bootstrap_endpoint"),
    ])
    func badBootstrapServersAreRefused(_ servers: String, _ pointer: String) throws {
        var world = try world()
        let cluster = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("c", environment: world.environmentID), now: Self.now)
        var update = ControlPlaneState.KafkaClusterUpdate()
        update.bootstrapServers = servers
        if servers.isEmpty {
            // Empty detaches the brokers: allowed, and the cluster says why it is FAILED.
            let detached = try world.state.updateKafkaCluster(id: cluster.id, environmentID: world.environmentID, update: update, now: Self.now)
            #expect(detached.phase == .failed)
            return
        }
        do {
            _ = try world.state.updateKafkaCluster(id: cluster.id, environmentID: world.environmentID, update: update, now: Self.now)
            Issue.record("\(servers) was accepted")
        } catch {
            #expect(error.status == 400)
            #expect(error.source.pointer == pointer)
        }
    }

    @Test func goodBootstrapServersAreAccepted() throws {
        for servers in ["localhost:9092", "a.example.com:9092,b.example.com:9093", "[::1]:9092", "10.0.0.1:19092"] {
            #expect(throws: Never.self) { try ControlPlaneState.validateBootstrapServers(servers) }
        }
    }

    @Test func fieldsAreValidated() throws {
        var world = try world()
        var bad = request("c", environment: world.environmentID)
        bad.availability = "EVERYWHERE"
        #expect(throws: APIError.self) { try world.state.createKafkaCluster(organizationID: world.organizationID, request: bad, now: Self.now) }
        bad = request("c", environment: world.environmentID)
        bad.cloud = "moon"
        #expect(throws: APIError.self) { try world.state.createKafkaCluster(organizationID: world.organizationID, request: bad, now: Self.now) }
        bad = request("c", environment: world.environmentID, config: KafkaClusterConfig(kind: .dedicated))
        #expect(throws: APIError.self) { try world.state.createKafkaCluster(organizationID: world.organizationID, request: bad, now: Self.now) }
        bad = request("c", environment: world.environmentID, config: KafkaClusterConfig(kind: .basic, cku: 2))
        #expect(throws: APIError.self) { try world.state.createKafkaCluster(organizationID: world.organizationID, request: bad, now: Self.now) }
        bad = request("c", environment: world.environmentID, pem: "not a certificate")
        #expect(throws: APIError.self) { try world.state.createKafkaCluster(organizationID: world.organizationID, request: bad, now: Self.now) }
        bad = request("c", environment: "env-nope")
        do {
            _ = try world.state.createKafkaCluster(organizationID: world.organizationID, request: bad, now: Self.now)
        } catch { #expect(error.status == 404) }
        #expect(world.state.kafkaClusters.isEmpty)
        #expect(world.state.pendingChanges.isEmpty)
        let dedicated = try world.state.createKafkaCluster(
            organizationID: world.organizationID,
            request: request("d", environment: world.environmentID, config: KafkaClusterConfig(kind: .dedicated, cku: 2)), now: Self.now)
        #expect(dedicated.config == KafkaClusterConfig(kind: .dedicated, cku: 2))
    }

    @Test func aConnectionChangeStartsANewProbeAndStaleOutcomesAreIgnored() throws {
        var world = try world()
        let cluster = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("c", environment: world.environmentID), now: Self.now)
        let first = world.state.recordKafkaClusterProbe(
            id: cluster.id, revision: 1, outcome: .reachable(kafkaClusterID: "abc", brokerCount: 3), now: Self.now)
        #expect(first)
        #expect(world.state.kafkaClusters[cluster.id]?.phase == .provisioned)
        #expect(world.state.kafkaClusters[cluster.id]?.kafkaClusterID == "abc")
        // A rename is not a connection change.
        var rename = ControlPlaneState.KafkaClusterUpdate()
        rename.displayName = "renamed"
        let renamed = try world.state.updateKafkaCluster(id: cluster.id, environmentID: world.environmentID, update: rename, now: Self.now)
        #expect(renamed.phase == .provisioned)
        var credentials = ControlPlaneState.KafkaClusterUpdate()
        credentials.sasl = .set(Self.sasl)
        let changed = try world.state.updateKafkaCluster(id: cluster.id, environmentID: world.environmentID, update: credentials, now: Self.now)
        #expect(changed.phase == .provisioning)
        #expect(changed.connectionRevision == 2)
        #expect(changed.kafkaClusterID == nil)
        #expect(world.state.kafkaClusterSecrets[cluster.id]?.sasl == Self.sasl)
        // The outcome of a probe of the previous connection says nothing about this one.
        let stale = world.state.recordKafkaClusterProbe(id: cluster.id, revision: 1, outcome: .unreachable(reason: "old"), now: Self.now)
        #expect(!stale)
        #expect(world.state.kafkaClusters[cluster.id]?.phase == .provisioning)
        let current = world.state.recordKafkaClusterProbe(
            id: cluster.id, revision: 2, outcome: .unreachable(reason: "Connection refused"), now: Self.now)
        #expect(current)
        #expect(world.state.kafkaClusters[cluster.id]?.phase == .failed)
        #expect(world.state.kafkaClusters[cluster.id]?.statusDetail == "Connection refused")
        // Removing the credentials removes their stored row.
        var remove = ControlPlaneState.KafkaClusterUpdate()
        remove.sasl = .remove
        _ = world.state.drainChanges()
        _ = try world.state.updateKafkaCluster(id: cluster.id, environmentID: world.environmentID, update: remove, now: Self.now)
        #expect(world.state.kafkaClusterSecrets[cluster.id] == nil)
        #expect(world.state.pendingChanges.contains { $0.kind == .kafkaClusterSecret && $0.body == nil })
    }

    @Test func aCAImpliesTLS() throws {
        var world = try world()
        let cluster = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("c", environment: world.environmentID, pem: Self.pem), now: Self.now)
        #expect(cluster.useTLS)
        #expect(world.state.kafkaConnection(clusterID: cluster.id)?.tlsCAPEM == Self.pem)
        #expect(world.state.kafkaConnection(clusterID: cluster.id)?.securityProtocol == "SSL")
    }

    @Test func deletingRespectsProtectionAndRemovesTheSecret() throws {
        var world = try world()
        var protected = request("p", environment: world.environmentID, sasl: Self.sasl)
        protected.deletionProtection = true
        let cluster = try world.state.createKafkaCluster(organizationID: world.organizationID, request: protected, now: Self.now)
        #expect(throws: APIError.self) { try world.state.deleteKafkaCluster(id: cluster.id, environmentID: world.environmentID) }
        do {
            try world.state.deleteKafkaCluster(id: cluster.id, environmentID: world.otherEnvironmentID)
        } catch { #expect(error.status == 404) }
        var unprotect = ControlPlaneState.KafkaClusterUpdate()
        unprotect.deletionProtection = false
        _ = try world.state.updateKafkaCluster(id: cluster.id, environmentID: world.environmentID, update: unprotect, now: Self.now)
        _ = world.state.drainChanges()
        try world.state.deleteKafkaCluster(id: cluster.id, environmentID: world.environmentID)
        #expect(world.state.kafkaClusters.isEmpty && world.state.kafkaClusterSecrets.isEmpty)
        #expect(Set(world.state.drainChanges().map(\.kind)) == [.kafkaCluster, .kafkaClusterSecret])
    }

    @Test func deletingTheEnvironmentCascades() throws {
        var world = try world()
        let doomed = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("c", environment: world.otherEnvironmentID, sasl: Self.sasl), now: Self.now)
        let kept = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("c", environment: world.environmentID, sasl: Self.sasl), now: Self.now)
        _ = world.state.drainChanges()
        try world.state.deleteEnvironment(id: world.otherEnvironmentID)
        #expect(world.state.kafkaClusters.keys.sorted() == [kept.id])
        #expect(world.state.kafkaClusterSecrets.keys.sorted() == [kept.id])
        let removed = world.state.drainChanges().filter { $0.id == doomed.id }
        #expect(Set(removed.map(\.kind)) == [.kafkaCluster, .kafkaClusterSecret])
        #expect(removed.allSatisfy { $0.body == nil })
    }

    @Test func secretsAreNeverInTheClusterBodyOrDescriptions() throws {
        var world = try world()
        let cluster = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("c", environment: world.environmentID, sasl: Self.sasl, pem: Self.pem),
            now: Self.now)
        let changes = world.state.drainChanges()
        let clusterBody = try #require(changes.first { $0.kind == .kafkaCluster }?.body)
        #expect(!String(decoding: clusterBody, as: UTF8.self).contains(Self.password))
        #expect(!String(decoding: clusterBody, as: UTF8.self).contains("BEGIN CERTIFICATE"))
        let secretBody = try #require(changes.first { $0.kind == .kafkaClusterSecret }?.body)
        #expect(String(decoding: secretBody, as: UTF8.self).contains(Self.password))
        let secret = try #require(world.state.kafkaClusterSecrets[cluster.id])
        for text in [String(describing: secret), String(reflecting: secret), String(describing: world.state.kafkaConnection(clusterID: cluster.id)!)]
        {
            #expect(!text.contains(Self.password), "\(text)")
        }
    }

    @Test func loadingRestoresClustersAndSecrets() throws {
        var world = try world()
        let cluster = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("c", environment: world.environmentID, sasl: Self.sasl), now: Self.now)
        var loaded = ControlPlaneState()
        for change in world.state.drainChanges() {
            if let body = change.body { try loaded.load(kind: change.kind, body: body) }
        }
        #expect(loaded.kafkaClusters[cluster.id] == cluster)
        #expect(loaded.kafkaConnection(clusterID: cluster.id)?.sasl == Self.sasl)
    }

    @Test func whoMayManageAndUseClusters() throws {
        var world = try world()
        let cluster = try world.state.createKafkaCluster(
            organizationID: world.organizationID, request: request("c", environment: world.environmentID), now: Self.now)
        let organizationID = world.organizationID
        let environment = CRN.environment(organizationID, world.environmentID).description
        let region = CRN.flinkRegion(organizationID, world.environmentID, "aws.us-east-1").description
        let other = CRN.environment(organizationID, world.otherEnvironmentID).description
        // (role, scope, may manage, may use)
        let rows: [(Role, String, Bool, Bool)] = [
            (.organizationAdmin, CRN.organization(organizationID).description, true, true),
            (.environmentAdmin, environment, true, true),
            (.flinkAdmin, environment, false, true),
            (.flinkDeveloper, environment, false, true),
            (.flinkDeveloper, region, false, true),
            (.environmentAdmin, other, false, false),
            (.flinkDeveloper, other, false, false),
            (.assigner, CRN.serviceAccount(organizationID, "sa-x").description, false, false),
        ]
        for (role, scope, manage, use) in rows {
            let binding = RoleBinding(
                id: "rb-1", organizationID: organizationID, principal: "User:sa-1", role: role, crnPattern: scope, sequence: 1, createdAt: Self.now)
            let policy = AccessPolicy(principalID: "sa-1", organizationID: organizationID, bindings: [binding])
            #expect(policy.canManageKafkaClusters(in: world.environmentID) == manage, "\(role) on \(scope)")
            #expect(policy.canUse(kafkaCluster: cluster) == use, "\(role) on \(scope)")
        }
        #expect(!AccessPolicy(principalID: "sa-1", organizationID: organizationID, bindings: []).canUse(kafkaCluster: cluster))
    }
}
