// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import GRDB
import Testing

/// Everything a ``ControlPlaneState`` holds, comparable as one value.
struct StoreContents: Equatable {
    var organizations: [String: Organization]
    var environments: [String: Environment]
    var users: [String: User]
    var serviceAccounts: [String: ServiceAccount]
    var apiKeys: [String: APIKey]
    var roleBindings: [String: RoleBinding]
    var computePools: [String: ComputePool]
    var computePoolConfigs: [String: ComputePoolConfig]

    init(_ state: ControlPlaneState) {
        organizations = state.organizations
        environments = state.environments
        users = state.users
        serviceAccounts = state.serviceAccounts
        apiKeys = state.apiKeys
        roleBindings = state.roleBindings
        computePools = state.computePools
        computePoolConfigs = state.computePoolConfigs
    }

    /// The creation sequence of every resource.
    var sequences: [Int64] {
        organizations.values.map(\.sequence) + environments.values.map(\.sequence) + users.values.map(\.sequence)
            + serviceAccounts.values.map(\.sequence) + apiKeys.values.map(\.sequence) + roleBindings.values.map(\.sequence)
            + computePools.values.map(\.sequence) + computePoolConfigs.values.map(\.sequence)
    }
}

struct Boom: Error {}

/// The SQLite store: durability across reopening, all-or-nothing mutations, serialized concurrent writers.
@Suite struct SQLiteControlPlaneStoreTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000.123)
    static let later = Date(timeIntervalSince1970: 1_700_000_060.456)
    static let digest = SecretDigest(salt: "c2FsdA==", digest: "ZGlnZXN0")

    /// Runs `body` with the path of a fresh database file, removing the file and its WAL companions afterwards.
    func withDatabasePath(_ body: (String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("floe-store-test-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        try await body(path)
    }

    @discardableResult
    func bootstrap(_ store: some ControlPlaneStore) async throws -> BootstrapResult {
        let result = try await store.mutate { state in
            state.bootstrap(now: Self.now, adminKeyID: "ADMINKEY00000001", adminSecretDigest: Self.digest)
        }
        return try #require(result)
    }

    // MARK: Durability

    /// A database a newer Floe migrated is refused, untouched, naming the migrations this binary does not know.
    @Test func aDatabaseOfANewerVersionIsRefused() async throws {
        try await withDatabasePath { path in
            _ = try SQLiteControlPlaneStore(path: path)
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            }
            do {
                _ = try SQLiteControlPlaneStore(path: path)
                Issue.record("a database with an unknown migration was opened")
            } catch let error as StoreNewerThanBinary {
                #expect(error.description.contains("v99-from-the-future"))
                #expect(!error.description.contains("v1-control-plane"))
            }
        }
    }

    @Test func mutationsPersistAcrossReopening() async throws {
        try await withDatabasePath { path in
            let expected: StoreContents
            let lastSequence: Int64
            do {
                let store = try SQLiteControlPlaneStore(path: path)
                #expect(store.snapshot().organizations.isEmpty, "a new database is empty")
                let boot = try await bootstrap(store)
                let org = boot.organizationID
                let prod = try await store.mutate { state in
                    try state.createEnvironment(organizationID: org, displayName: "prod", governancePackage: "ADVANCED", now: Self.now)
                }
                let account = try await store.mutate { state in
                    try state.createServiceAccount(organizationID: org, displayName: "robot", description: "does things", now: Self.now)
                }
                let pool = try await store.mutate { state in
                    let pool = try state.createComputePool(
                        organizationID: org,
                        request: .init(
                            displayName: "p", cloud: "aws", region: "us-east-1", maxCFU: 20, environmentID: prod.id, enableAI: true, defaultPool: true
                        ),
                        regions: FlinkRegion.defaults, now: Self.now)
                    _ = try state.createRoleBinding(
                        organizationID: org, principal: "User:\(account.id)", roleName: "FlinkDeveloper",
                        crnPattern: CRN.environment(org, prod.id).description, now: Self.now)
                    _ = try state.createAPIKey(
                        organizationID: org, ownerID: account.id, resource: .flinkRegion(regionID: "aws.us-east-1", environmentID: prod.id),
                        displayName: "k", description: "", keyID: "ROBOTKEY00000001", secretDigest: Self.digest, now: Self.now)
                    return pool
                }
                try await store.mutate { state in
                    state.markProvisioned(poolID: pool.id, now: Self.later)
                    _ = try state.updateEnvironment(id: boot.environmentID, displayName: "renamed", governancePackage: nil, now: Self.later)
                    _ = try state.updateComputePoolConfig(organizationID: org, defaultPoolEnabled: false, defaultPoolMaxCFU: 5, now: Self.later)
                }
                // A deletion persists too (a resource that is not the newest, so the sequence high-water mark is unaffected).
                let doomed = try await store.mutate { state in
                    try state.createEnvironment(organizationID: org, displayName: "doomed", governancePackage: nil, now: Self.now)
                }
                _ = try await store.mutate { state in
                    try state.createServiceAccount(organizationID: org, displayName: "newest", description: "", now: Self.now)
                }
                _ = try await store.mutate { state in try state.deleteEnvironment(id: doomed.id) }

                let snapshot = store.snapshot()
                #expect(snapshot.pendingChanges.isEmpty)
                #expect(snapshot.computePools[pool.id]?.phase == .provisioned)
                #expect(snapshot.environments[doomed.id] == nil)
                expected = StoreContents(snapshot)
                lastSequence = snapshot.lastSequence
            }

            let reopened = try SQLiteControlPlaneStore(path: path)
            let snapshot = reopened.snapshot()
            #expect(StoreContents(snapshot) == expected)
            #expect(snapshot.lastSequence == lastSequence)
            #expect(snapshot.pendingChanges.isEmpty)
            #expect(snapshot.environments.values.map(\.displayName).sorted() == ["prod", "renamed"])
            #expect(
                snapshot.apiKeys["ROBOTKEY00000001"]?.resource.environmentID == snapshot.environments.values.first { $0.displayName == "prod" }?.id)

            // The reopened store keeps handing out fresh sequence numbers, and bootstrap stays a no-op.
            let again = try await reopened.mutate { state in
                state.bootstrap(now: Self.later, adminKeyID: "ADMINKEY00000002", adminSecretDigest: Self.digest)
            }
            #expect(again == nil)
            let org = try #require(snapshot.organizations.keys.first)
            let fresh = try await reopened.mutate { state in
                try state.createServiceAccount(organizationID: org, displayName: "after-reopen", description: "", now: Self.later)
            }
            #expect(fresh.sequence == lastSequence + 1)
        }
    }

    @Test func datesSurviveTheRoundTripToTheMillisecond() async throws {
        try await withDatabasePath { path in
            let created: Date
            do {
                let store = try SQLiteControlPlaneStore(path: path)
                try await bootstrap(store)
                created = try #require(store.snapshot().organizations.values.first).createdAt
            }
            let reloaded = try #require(try SQLiteControlPlaneStore(path: path).snapshot().organizations.values.first).createdAt
            #expect(abs(reloaded.timeIntervalSince(created)) < 0.000_001)
            #expect(RFC3339.format(reloaded) == RFC3339.format(created))
            #expect(RFC3339.format(reloaded) == "2023-11-14T22:13:20.123Z")
        }
    }

    // MARK: Failure

    @Test func throwingMutationChangesNeitherSnapshotNorDatabase() async throws {
        try await withDatabasePath { path in
            let before: StoreContents
            let beforeSequence: Int64
            do {
                let store = try SQLiteControlPlaneStore(path: path)
                let boot = try await bootstrap(store)
                let org = boot.organizationID
                before = StoreContents(store.snapshot())
                beforeSequence = store.snapshot().lastSequence

                // A domain error after an operation that succeeded on the working copy.
                let error = await #expect(throws: APIError.self) {
                    try await store.mutate { state in
                        _ = try state.createEnvironment(organizationID: org, displayName: "half", governancePackage: nil, now: Self.now)
                        try state.deleteEnvironment(id: boot.environmentID)
                        _ = try state.createEnvironment(organizationID: org, displayName: "half", governancePackage: nil, now: Self.now)
                    }
                }
                #expect(error?.status == 409)
                // Any other error, after the same kind of partial work.
                await #expect(throws: Boom.self) {
                    try await store.mutate { state in
                        _ = try state.createServiceAccount(organizationID: org, displayName: "ghost", description: "", now: Self.now)
                        _ = state.drainChanges()  // even if the operation drains its own changes
                        throw Boom()
                    }
                }
                #expect(StoreContents(store.snapshot()) == before)
                #expect(store.snapshot().lastSequence == beforeSequence)
                #expect(store.snapshot().pendingChanges.isEmpty)

                // The store is still usable, and the next write sees none of the failed work.
                let env = try await store.mutate { state in
                    try state.createEnvironment(organizationID: org, displayName: "half", governancePackage: nil, now: Self.now)
                }
                #expect(env.sequence == beforeSequence + 1)
                _ = try await store.mutate { state in try state.deleteEnvironment(id: env.id) }
            }

            let reopened = try SQLiteControlPlaneStore(path: path).snapshot()
            #expect(StoreContents(reopened) == before)
            #expect(reopened.serviceAccounts.isEmpty)
        }
    }

    @Test func mutationWithoutChangesReturnsItsResult() async throws {
        let store = try SQLiteControlPlaneStore.inMemory()
        try await bootstrap(store)
        let before = StoreContents(store.snapshot())
        let answer = try await store.mutate { state in state.organizations.count + 41 }
        #expect(answer == 42)
        #expect(StoreContents(store.snapshot()) == before)
    }

    // MARK: Concurrency

    @Test func fiftyConcurrentMutationsAllLandWithUniqueSequences() async throws {
        try await withDatabasePath { path in
            let store = try SQLiteControlPlaneStore(path: path)
            let org = try await bootstrap(store).organizationID
            let ids = try await withThrowingTaskGroup(of: ServiceAccount.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await store.mutate { state in
                            try state.createServiceAccount(organizationID: org, displayName: "robot-\(index)", description: "", now: Self.now)
                        }
                    }
                }
                var accounts: [ServiceAccount] = []
                for try await account in group { accounts.append(account) }
                return accounts
            }

            #expect(ids.count == 50)
            #expect(Set(ids.map(\.id)).count == 50)
            #expect(Set(ids.map(\.sequence)).count == 50, "every writer saw the one before it")
            let snapshot = store.snapshot()
            #expect(snapshot.serviceAccounts.count == 50)
            #expect(Set(snapshot.serviceAccounts.values.map(\.displayName)) == Set((0..<50).map { "robot-\($0)" }))
            let contents = StoreContents(snapshot)
            #expect(Set(contents.sequences).count == contents.sequences.count, "sequence numbers are unique across all resources")
            #expect(contents.sequences.max() == snapshot.lastSequence)

            let reopened = try SQLiteControlPlaneStore(path: path).snapshot()
            #expect(StoreContents(reopened) == contents)
        }
    }

    @Test func concurrentConflictingMutationsAreSerialized() async throws {
        let store = try SQLiteControlPlaneStore.inMemory()
        let org = try await bootstrap(store).organizationID
        // 50 writers, two per name: exactly one of each pair wins, the other sees the winner and gets a 409.
        let outcomes = await withTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                group.addTask {
                    do {
                        _ = try await store.mutate { state in
                            try state.createEnvironment(organizationID: org, displayName: "env-\(index % 25)", governancePackage: nil, now: Self.now)
                        }
                        return 201
                    } catch let error as APIError {
                        return error.status
                    } catch {
                        return 500
                    }
                }
            }
            var statuses: [Int] = []
            for await status in group { statuses.append(status) }
            return statuses
        }
        #expect(outcomes.filter { $0 == 201 }.count == 25)
        #expect(outcomes.filter { $0 == 409 }.count == 25)
        #expect(store.snapshot().environments.count == 26)
    }

    // MARK: In memory

    @Test func inMemoryStoreWorksAndIsPrivate() async throws {
        let first = try SQLiteControlPlaneStore.inMemory()
        let second = try SQLiteControlPlaneStore.inMemory()
        #expect(first.snapshot().organizations.isEmpty)
        let boot = try await bootstrap(first)
        let snapshot = first.snapshot()
        #expect(snapshot.organizations[boot.organizationID] != nil)
        #expect(snapshot.environments[boot.environmentID]?.displayName == "default")
        #expect(snapshot.apiKeys[boot.apiKeyID]?.ownerID == boot.userID)
        #expect(second.snapshot().organizations.isEmpty, "each in-memory store has its own database")
        try await bootstrap(second)
        #expect(second.snapshot().organizations.keys.first != boot.organizationID)
    }

    @Test func snapshotsAreValues() async throws {
        let store = try SQLiteControlPlaneStore.inMemory()
        let boot = try await bootstrap(store)
        let old = store.snapshot()
        _ = try await store.mutate { state in
            try state.createEnvironment(organizationID: boot.organizationID, displayName: "new", governancePackage: nil, now: Self.now)
        }
        #expect(old.environments.count == 1, "a snapshot taken earlier does not change")
        #expect(store.snapshot().environments.count == 2)
    }
}
