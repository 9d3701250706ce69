// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import Testing

@Suite struct StatementResultStoreTests {
    /// Stores one statement per uid (in a bootstrapped organization with one pool) and returns their ids by uid.
    static func createStatements(uids: [String], in store: SQLiteControlPlaneStore) async throws -> [String: String] {
        try await store.mutate { state in
            let now = Date()
            let bootstrapped = state.bootstrap(
                now: now, adminKeyID: "ADMINKEY00000001", adminSecretDigest: SecretDigest(salt: "c2FsdA==", digest: "ZGlnZXN0"))
            guard let boot = bootstrapped else { throw APIError.internalError() }
            let pool = try state.createComputePool(
                organizationID: boot.organizationID,
                request: .init(
                    displayName: "p", cloud: "AWS", region: "us-east-1", maxCFU: 5, environmentID: boot.environmentID, enableAI: false,
                    defaultPool: false),
                regions: FlinkRegion.defaults, now: now)
            var ids: [String: String] = [:]
            for uid in uids {
                let statement = try state.createStatement(
                    organizationID: boot.organizationID, environmentID: boot.environmentID,
                    request: .init(name: "s-\(uid)", sql: "SELECT 1", properties: [:], labels: [:], computePoolID: pool.id, principal: boot.userID),
                    pool: pool, creatorID: boot.userID, credentialReach: .organization, uid: uid, now: now)
                ids[uid] = statement.id
            }
            return ids
        }
    }

    func changes(_ range: Range<Int64>) -> [StoredResultChange] {
        range.map { StoredResultChange(position: $0, op: Int($0 % 4), row: Data("[\"\($0)\"]".utf8)) }
    }

    @Test func appendsAreOrderedIdempotentAndSurviveReopening() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floe-results-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("floe.sqlite").path
        var ids: [String: String] = [:]
        do {
            let store = try SQLiteControlPlaneStore(path: path)
            ids = try await Self.createStatements(uids: ["a", "b"], in: store)
            try await store.appendResults(statementID: ids["a"]!, statementUID: "a", changes(0..<5))
            // A batch delivered again after a crash (positions 3…6) adds only what is new.
            try await store.appendResults(statementID: ids["a"]!, statementUID: "a", changes(3..<7))
            try await store.appendResults(statementID: ids["b"]!, statementUID: "b", changes(0..<2))
            // Changes of an incarnation that is not (or no longer) the stored one are discarded.
            try await store.appendResults(statementID: ids["b"]!, statementUID: "old-b", changes(0..<2))
            try await store.appendResults(statementID: "env-x/none", statementUID: "c", changes(0..<2))
            #expect(try await store.resultCount(statementUID: "a") == 7)
            #expect(try await store.resultLogUIDs() == ["a", "b"])
        }
        let reopened = try SQLiteControlPlaneStore(path: path)
        #expect(try await reopened.resultCount(statementUID: "a") == 7)
        #expect(try await reopened.results(statementUID: "a", from: 2, limit: 3) == changes(2..<5))
        #expect(try await reopened.results(statementUID: "a", from: 7, limit: 3).isEmpty)
        try await reopened.deleteResults(statementUID: "a")
        #expect(try await reopened.resultCount(statementUID: "a") == 0)
        #expect(try await reopened.resultCount(statementUID: "b") == 2)
    }

    /// Rows of about 1 KiB each.
    func wideChanges(_ range: Range<Int64>) -> [StoredResultChange] {
        range.map { StoredResultChange(position: $0, op: 0, row: Data("[\"\(String(repeating: "x", count: 1000))\",\"\($0)\"]".utf8)) }
    }

    /// A log past its size keeps its newest changes (positions unchanged), dropping the oldest; others are untouched.
    @Test func aLogKeepsItsNewestChangesWithinTheLimit() async throws {
        let store = try SQLiteControlPlaneStore.inMemory(resultsLimit: 100 << 10)
        let ids = try await Self.createStatements(uids: ["a", "b"], in: store)
        for start in stride(from: Int64(0), to: 1000, by: 50) {
            try await store.appendResults(statementID: ids["a"]!, statementUID: "a", wideChanges(start..<start + 50))
        }
        try await store.appendResults(statementID: ids["b"]!, statementUID: "b", wideChanges(0..<20))
        #expect(try await store.resultCount(statementUID: "a") == 1000)
        let kept = try await store.results(statementUID: "a", from: 0, limit: 10_000)
        #expect(kept.last?.position == 999)
        #expect(kept.map(\.position) == Array(kept.first!.position...999))
        // Between nine tenths of the limit and the limit: about 90 to 100 rows of ~1 KiB.
        #expect((80...100).contains(kept.count), "\(kept.count) kept")
        #expect(try await store.results(statementUID: "b", from: 0, limit: 100).count == 20)
        // Reopened (the sizes are learned again from the database), the limit still holds.
        #expect(try await store.results(statementUID: "a", from: 990, limit: 5) == wideChanges(990..<995))
    }

    /// Deleting results gives the space back: the database file shrinks (incremental auto-vacuum).
    @Test func theFileShrinksAfterDeletes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floe-vacuum-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("floe.sqlite").path
        func size() throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0 }
        let store = try SQLiteControlPlaneStore(path: path)
        let ids = try await Self.createStatements(uids: ["a", "b"], in: store)
        for start in stride(from: Int64(0), to: 20_000, by: 500) {
            try await store.appendResults(statementID: ids["a"]!, statementUID: "a", wideChanges(start..<start + 500))
        }
        try await store.appendResults(statementID: ids["b"]!, statementUID: "b", wideChanges(0..<10))
        _ = try await store.resultCount(statementUID: "a")
        let full = try size()
        #expect(full > 15 << 20, "\(full) bytes")
        try await store.deleteResults(statementUID: "a")
        let after = try size()
        #expect(after < full / 4, "\(full) -> \(after) bytes")
        #expect(try await store.results(statementUID: "b", from: 0, limit: 100).count == 10)
    }
}
