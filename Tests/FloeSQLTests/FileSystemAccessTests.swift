// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@testable import FloeSQL

/// On a server, filesystem tables read and write only under the directories its operator allows, and never the
/// server's own data, whatever path, `..` or symbolic link a statement names.
@Suite struct FileSystemAccessTests {
    /// A temporary layout: `allowed/` (the root, with `data.json` and a link `escape` to `outside/`), `outside/secret.json`,
    /// and `allowed/private/` standing for the server's data directory.
    struct Layout {
        let base: URL
        var allowed: URL { base.appendingPathComponent("allowed") }
        var outside: URL { base.appendingPathComponent("outside") }
        var privateData: URL { allowed.appendingPathComponent("private") }

        init() throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("floe-fs-\(UUID().uuidString)")
            for directory in [allowed, outside, privateData] {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            try Data("{\"x\":1}\n".utf8).write(to: allowed.appendingPathComponent("data.json"))
            try Data("{\"x\":42}\n".utf8).write(to: outside.appendingPathComponent("secret.json"))
            try Data("{\"x\":7}\n".utf8).write(to: privateData.appendingPathComponent("bootstrap.json"))
            try FileManager.default.createSymbolicLink(at: allowed.appendingPathComponent("escape"), withDestinationURL: outside)
        }

        var access: FileSystemAccess { FileSystemAccess(roots: [allowed.path], refused: [privateData.path]) }

        func remove() { try? FileManager.default.removeItem(at: base) }
    }

    @Test func pathsAreCheckedWhereTheyLead() throws {
        let layout = try Layout()
        defer { layout.remove() }
        let access = layout.access
        #expect(try access.check(layout.allowed.appendingPathComponent("data.json").path).hasSuffix("/allowed/data.json"))
        #expect(try access.check(layout.allowed.appendingPathComponent("new/sink").path).hasSuffix("/allowed/new/sink"))
        for path in [
            layout.outside.appendingPathComponent("secret.json").path, layout.allowed.path + "/../outside/secret.json",
            layout.allowed.appendingPathComponent("escape/secret.json").path, layout.privateData.appendingPathComponent("bootstrap.json").path,
            "/proc/self/environ", "/etc/passwd", layout.allowed.path + "-other/x",
        ] {
            #expect(throws: SQLError.self, "\(path)") { try access.check(path) }
        }
        let off = FileSystemAccess(roots: [], refused: [])
        let error = #expect(throws: SQLError.self) { try off.check(layout.allowed.path) }
        #expect(error?.message.contains("not enabled on this server") == true)
    }

    @Test func tablesCannotReadOrWriteOutsideTheRoots() async throws {
        let layout = try Layout()
        defer { layout.remove() }
        let directory = layout.base.appendingPathComponent("engine")
        let engine = try EmbeddedEngine(directory: directory, fileSystem: layout.access)
        let session = SessionContext.unrestricted(catalog: EngineFixture.dev, catalogs: [EngineFixture.dev], properties: ["sql.snapshot.mode": "now"])
        func run(_ sql: String) async throws -> [ResultChange] {
            let receiver = CollectingReceiver()
            try await engine.prepare(sql, in: session).run(deliveringTo: receiver, skippingFirst: 0)
            return receiver.collected
        }
        func table(_ name: String, _ path: String) -> String {
            "CREATE TABLE \(name) (x BIGINT) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json')"
        }
        _ = try await run(table("ok", layout.allowed.appendingPathComponent("data.json").path))
        #expect(try await run("SELECT x FROM ok").map { $0.row } == [[.string("1")]])
        for (name, path) in [
            ("secret", layout.outside.appendingPathComponent("secret.json").path),
            ("dotdot", layout.allowed.path + "/../outside"), ("link", layout.allowed.appendingPathComponent("escape").path),
            ("mine", layout.privateData.path), ("environ", "/proc/self/environ"),
        ] {
            await #expect(throws: SQLError.self, "\(name)") { _ = try await run(table(name, path)) }
        }
        // A directory inside the root whose files link elsewhere: the linked file is refused when it is opened.
        let mixed = layout.allowed.appendingPathComponent("mixed")
        try FileManager.default.createDirectory(at: mixed, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: mixed.appendingPathComponent("a.json"), withDestinationURL: layout.outside.appendingPathComponent("secret.json"))
        _ = try await run(table("mixed", mixed.path))
        do {
            #expect(try await run("SELECT x FROM mixed").isEmpty, "a link out of the root is not read")
        } catch let error as SQLError {
            #expect(error.message.contains("outside the directories"))
        }
        // ALTER TABLE cannot move a table out either.
        await #expect(throws: SQLError.self) { _ = try await run("ALTER TABLE ok SET ('path' = '\(layout.outside.path)')") }
        // A sink writes inside the root only.
        _ = try await run(table("out", layout.allowed.appendingPathComponent("out").path))
        _ = try await run("INSERT INTO out VALUES (5)")
        #expect(try await run("SELECT x FROM out").map { $0.row } == [[.string("5")]])
    }
}
