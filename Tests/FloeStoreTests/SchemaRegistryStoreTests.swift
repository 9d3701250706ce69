// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import FloeStore
import Foundation
import Testing

/// The Schema Registry store: durable across reopening, all-or-nothing, one registry per id.
@Suite struct SchemaRegistryStoreTests {
    static let v1 = SchemaDefinition(text: #"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#)
    static let v2 = SchemaDefinition(
        text: #"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""}]}"#)
    static let json = SchemaDefinition(type: .json, text: #"{"type":"object","properties":{"x":{"type":"number"}}}"#)

    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("floe-sr-\(UUID().uuidString).sqlite").path
    }

    @Test func everythingSurvivesReopening() async throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let before: SchemaRegistryState
        do {
            let store = try SQLiteControlPlaneStore(path: path)
            let registries = store.schemaRegistries
            _ = try await registries.mutate("lsrc-a") { try $0.register(subject: "t-value", definition: Self.v1) }
            _ = try await registries.mutate("lsrc-a") { try $0.register(subject: "t-value", definition: Self.v2) }
            _ = try await registries.mutate("lsrc-a") { try $0.register(subject: "j-value", definition: Self.json, normalize: true) }
            try await registries.mutate("lsrc-a") { try $0.setLevel(.fullTransitive, subject: "t-key") }
            try await registries.mutate("lsrc-a") { try $0.setLevel(.forward, subject: nil) }
            _ = try await registries.mutate("lsrc-a") { try $0.deleteVersion(.number(1), of: "t-value", permanent: false) }
            _ = try await registries.mutate("lsrc-b") { try $0.register(subject: "other", definition: Self.v1) }
            before = registries.snapshot("lsrc-a")
        }
        let reopened = try SQLiteControlPlaneStore(path: path).schemaRegistries
        let after = reopened.snapshot("lsrc-a")
        #expect(after.schemas == before.schemas)
        #expect(after.subjects == before.subjects)
        #expect(after.subjectLevels == before.subjectLevels && after.subjectLevels["t-key"] == .fullTransitive)
        #expect(after.globalLevel == .forward)
        #expect(reopened.storedRegistryIDs() == ["lsrc-a", "lsrc-b"])
        // Ids are per registry: the other registry started at the first id as well.
        #expect(reopened.snapshot("lsrc-b").subjects["other"]?.first?.schemaID == SchemaRegistryState.firstID)
        // Ids continue after the stored ones.
        let next = try await reopened.mutate("lsrc-a") {
            try $0.register(subject: "n", definition: SchemaDefinition(text: #""string""#))
        }
        #expect(next.id == SchemaRegistryState.firstID + 3)
    }

    @Test func permanentDeletesAndLevelRemovalsAreDurable() async throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let registries = try SQLiteControlPlaneStore(path: path).schemaRegistries
            _ = try await registries.mutate("r") { try $0.register(subject: "s", definition: Self.v1) }
            try await registries.mutate("r") { try $0.setLevel(.none, subject: "s") }
            try await registries.mutate("r") { try $0.setLevel(.full, subject: nil) }
            _ = try await registries.mutate("r") { try $0.deleteSubject("s", permanent: false) }
            _ = try await registries.mutate("r") { try $0.deleteSubject("s", permanent: true) }
            _ = try await registries.mutate("r") { try $0.removeLevel(subject: nil) }
        }
        let state = try SQLiteControlPlaneStore(path: path).schemaRegistries.snapshot("r")
        #expect(state.subjects.isEmpty && state.subjectLevels.isEmpty && state.globalLevel == nil)
        #expect(state.schemas.count == 1, "schemas keep their id after their versions are gone")
    }

    @Test func aFailedOperationChangesNothing() async throws {
        let registries = try SQLiteControlPlaneStore.inMemory().schemaRegistries
        _ = try await registries.mutate("r") { try $0.register(subject: "s", definition: Self.v1) }
        let incompatible = SchemaDefinition(text: #"{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}"#)
        await #expect(throws: SchemaRegistryError.self) {
            _ = try await registries.mutate("r") { try $0.register(subject: "s", definition: incompatible) }
        }
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            _ = try await registries.mutate("r") { state in
                _ = try state.register(subject: "t", definition: Self.v2)
                throw Boom()
            }
        }
        let state = registries.snapshot("r")
        #expect(state.subjectNames() == ["s"] && state.schemas.count == 1)
    }

    @Test func droppingARegistryRemovesItsRowsOnly() async throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let registries = try SQLiteControlPlaneStore(path: path).schemaRegistries
            for id in ["keep", "gone", "orphan"] {
                _ = try await registries.mutate(id) { try $0.register(subject: "s", definition: Self.v1) }
                try await registries.mutate(id) { try $0.setLevel(.full, subject: "s") }
            }
            try await registries.drop("gone")
            #expect(registries.snapshot("gone").subjects.isEmpty)
            #expect(try await registries.dropOrphans(keeping: ["keep"]) == ["orphan"])
        }
        let reopened = try SQLiteControlPlaneStore(path: path).schemaRegistries
        #expect(reopened.storedRegistryIDs() == ["keep"])
    }

    @Test func theProtocolView() async throws {
        let store = try SQLiteControlPlaneStore.inMemory()
        let now = Date()
        let boot = try #require(
            try await store.mutate { $0.bootstrap(now: now, adminKeyID: "KEY", adminSecretDigest: SecretDigest(salt: "s", digest: "d")) })
        let registry = try #require(store.schemaRegistry(environmentID: boot.environmentID))
        #expect(store.schemaRegistry(environmentID: "env-none") == nil)
        #expect(try await registry.latestVersion(subject: "t-value") == nil)
        let registered = try await registry.register(subject: "t-value", schema: Self.v1, normalize: false)
        #expect(registered.version == 1 && !registered.existed)
        #expect(try await registry.register(subject: "t-value", schema: Self.v1, normalize: false).existed)
        #expect(try await registry.latestVersion(subject: "t-value")?.id == registered.id)
        let byID = try await registry.schema(id: registered.id)
        #expect(byID?.subject == "t-value" && byID?.version == 1 && byID?.type == .avro)
        #expect(try await registry.schema(id: 42) == nil)
        #expect(try await registry.compatibility(subject: "t-key") == nil)
        try await registry.setCompatibility(.fullTransitive, subject: "t-key")
        #expect(try await registry.compatibility(subject: "t-key") == .fullTransitive)
        #expect(try await registry.deleteSubject("t-value", permanent: false) == [1])
        #expect(try await registry.latestVersion(subject: "t-value") == nil)
        #expect(try await registry.deleteSubject("t-value", permanent: true) == [1])
        // The environment's registry is the one srcm/v3 names.
        let registryID = try #require(store.snapshot().environments[boot.environmentID]?.schemaRegistryID)
        #expect(store.schemaRegistries.snapshot(registryID).subjectLevels["t-key"] == .fullTransitive)
    }
}
