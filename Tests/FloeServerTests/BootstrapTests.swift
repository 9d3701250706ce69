// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Testing

@testable import FloeServer

/// `Bootstrap.writePrivately`: the credentials file is written whole with mode 0600, replacing what was
/// there and whatever a crashed earlier start left behind.
@Suite struct BootstrapWriteTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("floe-bootstrap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private func mode(of url: URL) throws -> Int? {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test func writesPrivatelyAndReplaces() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bootstrap.json")
        let first = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0) })
        try Bootstrap.writePrivately(first, to: file)
        #expect(try Data(contentsOf: file) == first)
        #expect(try mode(of: file) == 0o600)

        try Bootstrap.writePrivately(Data("{}\n".utf8), to: file)
        #expect(try Data(contentsOf: file) == Data("{}\n".utf8))
        #expect(try mode(of: file) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(".bootstrap.json.tmp").path))
    }

    @Test func staleTemporaryFileLendsNoMode() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bootstrap.json")
        let stale = directory.appendingPathComponent(".bootstrap.json.tmp")
        // A world-readable leftover must not lend its mode to the new file.
        #expect(
            FileManager.default.createFile(
                atPath: stale.path, contents: Data("stale, longer than the new content".utf8), attributes: [.posixPermissions: 0o644]))
        try Bootstrap.writePrivately(Data("new".utf8), to: file)
        #expect(try Data(contentsOf: file) == Data("new".utf8))
        #expect(try mode(of: file) == 0o600)
    }

    @Test func staleTemporaryDirectoryIsReplaced() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bootstrap.json")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent(".bootstrap.json.tmp/inner"), withIntermediateDirectories: true)
        try Bootstrap.writePrivately(Data("x".utf8), to: file)
        #expect(try Data(contentsOf: file) == Data("x".utf8))
    }

    @Test func unwritableDirectoryThrows() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: (any Error).self) {
            try Bootstrap.writePrivately(Data("x".utf8), to: directory.appendingPathComponent("missing/bootstrap.json"))
        }
    }
}
