// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Testing

@testable import FloeServer

/// The server's files are private to its user; other files in its directory are left alone.
@Suite struct DataDirectoryTests {
    func mode(_ url: URL) throws -> Int {
        try #require((FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue)
    }

    @Test func anEarlierDataDirectoryIsTightened() throws {
        let manager = FileManager.default
        let directory = manager.temporaryDirectory.appendingPathComponent("floe-data-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: directory) }
        let tables = directory.appendingPathComponent("engine/tables")
        try manager.createDirectory(at: tables, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        for file in [
            directory.appendingPathComponent("floe.sqlite"), tables.appendingPathComponent("t.log"), directory.appendingPathComponent("notes.txt"),
        ] {
            manager.createFile(atPath: file.path, contents: Data("x".utf8), attributes: [.posixPermissions: 0o644])
        }
        let tightened = try DataDirectory.secure(directory)
        #expect(tightened == 5)
        #expect(try mode(directory) == 0o700)
        #expect(try mode(directory.appendingPathComponent("floe.sqlite")) == 0o600)
        #expect(try mode(directory.appendingPathComponent("engine")) == 0o700)
        #expect(try mode(tables) == 0o700)
        #expect(try mode(tables.appendingPathComponent("t.log")) == 0o600)
        #expect(try mode(directory.appendingPathComponent("notes.txt")) == 0o644, "not the server's: left alone")
        #expect(try DataDirectory.secure(directory) == 0)
    }

    @Test func aSharedDirectoryIsNotTightened() throws {
        let manager = FileManager.default
        let directory = manager.temporaryDirectory.appendingPathComponent("floe-home-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: directory) }
        try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try DataDirectory.secure(directory)
        #expect(try mode(directory) == 0o755, "an existing directory without the server's database is not the server's")
    }
}
