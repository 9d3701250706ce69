// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import GRDB
import Testing

@testable import FloeStore

/// The credentials of Kafka clusters live in `kafka_cluster_secret` (migration `v5-kafka-clusters`), never in the
/// resource rows, survive reopening, and go with their cluster.
@Suite struct KafkaClusterSecretStoreTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let password = "store-secret-pa55word"

    @Test func secretsAreKeptApartAndSurviveReopening() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("floe-kafka-secret-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let clusterID: String
        do {
            let store = try SQLiteControlPlaneStore(path: path)
            let boot = try #require(
                try await store.mutate {
                    $0.bootstrap(now: Self.now, adminKeyID: "ADMINKEY00000001", adminSecretDigest: SecretDigest(salt: "", digest: ""))
                })
            let request = ControlPlaneState.KafkaClusterRequest(
                displayName: "orders", availability: "SINGLE_ZONE", cloud: "AWS", region: "us-east-1", config: KafkaClusterConfig(kind: .basic),
                environmentID: boot.environmentID, bootstrapServers: "127.0.0.1:9092",
                sasl: KafkaConnection.SASL(mechanism: .plain, username: "floe", password: Self.password))
            clusterID = try await store.mutate { try $0.createKafkaCluster(organizationID: boot.organizationID, request: request, now: Self.now) }.id
        }
        let id = clusterID
        let database = try DatabaseQueue(path: path)
        try await database.read { db in
            #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").contains("v5-kafka-clusters"))
            let bodies = try Data.fetchAll(db, sql: "SELECT body FROM control_plane_resource")
            #expect(!bodies.contains { String(decoding: $0, as: UTF8.self).contains(Self.password) })
            #expect(try String.fetchAll(db, sql: "SELECT kind FROM control_plane_resource").contains("kafka_cluster"))
            #expect(!(try String.fetchAll(db, sql: "SELECT kind FROM control_plane_resource").contains("kafka_cluster_secret")))
            let secret = try #require(try Data.fetchOne(db, sql: "SELECT body FROM kafka_cluster_secret WHERE cluster_id = ?", arguments: [id]))
            #expect(String(decoding: secret, as: UTF8.self).contains(Self.password))
        }
        try database.close()
        let reopened = try SQLiteControlPlaneStore(path: path)
        #expect(reopened.snapshot().kafkaConnection(clusterID: clusterID)?.sasl?.password == Self.password)
        let environmentID = try #require(reopened.snapshot().kafkaClusters[clusterID]?.environmentIDValue)
        try await reopened.mutate { try $0.deleteKafkaCluster(id: clusterID, environmentID: environmentID) }
        let after = try DatabaseQueue(path: path)
        #expect(try await after.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM kafka_cluster_secret") } == 0)
    }
}
