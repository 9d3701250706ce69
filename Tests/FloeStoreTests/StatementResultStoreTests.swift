// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import Testing

@Suite struct StatementResultStoreTests {
    func changes(_ range: Range<Int64>) -> [StoredResultChange] {
        range.map { StoredResultChange(position: $0, op: Int($0 % 4), row: Data("[\"\($0)\"]".utf8)) }
    }

    @Test func appendsAreOrderedIdempotentAndSurviveReopening() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floe-results-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("floe.sqlite").path
        do {
            let store = try SQLiteControlPlaneStore(path: path)
            try await store.appendResults(statementUID: "a", changes(0..<5))
            // A batch delivered again after a crash (positions 3…6) adds only what is new.
            try await store.appendResults(statementUID: "a", changes(3..<7))
            try await store.appendResults(statementUID: "b", changes(0..<2))
            #expect(try await store.resultCount(statementUID: "a") == 7)
        }
        let reopened = try SQLiteControlPlaneStore(path: path)
        #expect(try await reopened.resultCount(statementUID: "a") == 7)
        #expect(try await reopened.results(statementUID: "a", from: 2, limit: 3) == changes(2..<5))
        #expect(try await reopened.results(statementUID: "a", from: 7, limit: 3).isEmpty)
        try await reopened.deleteResults(statementUID: "a")
        #expect(try await reopened.resultCount(statementUID: "a") == 0)
        #expect(try await reopened.resultCount(statementUID: "b") == 2)
    }
}
