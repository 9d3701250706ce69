// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's data directory: metadata, SQL text, result rows, table logs, checkpoints and secret digests, all
/// private to the server's user.
///
/// The process creates everything with mode 0600 (directories 0700) by its umask, whatever the library creating the
/// file asks for (SQLite asks for 0644); a directory written by an earlier version is tightened once at start.
enum DataDirectory {
    /// Restricts what the process creates from now on to its own user.
    static func restrictNewFiles() {
        umask(0o077)
    }

    /// What the server keeps in its data directory: only these are tightened, so a data directory that also holds
    /// other files (a home directory, say) keeps those as they are.
    static let ownEntries = ["floe.sqlite", "floe.sqlite-wal", "floe.sqlite-shm", "bootstrap.json", "preparing", "engine", "flink"]

    /// Creates `directory` (0700) and takes every permission of group and others from the server's own entries in it
    /// (``ownEntries``, recursively) and from the directory itself when it is the server's (new, or holding its
    /// database). Returns how many entries were tightened.
    @discardableResult
    static func secure(_ directory: URL) throws -> Int {
        let manager = FileManager.default
        let isNew = !manager.fileExists(atPath: directory.path)
        try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var tightened = 0
        func tighten(_ path: String) {
            guard let attributes = try? manager.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType != .typeSymbolicLink,
                let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0
            else { return }
            if (try? manager.setAttributes([.posixPermissions: mode & 0o7700], ofItemAtPath: path)) != nil { tightened += 1 }
        }
        if isNew || manager.fileExists(atPath: directory.appendingPathComponent("floe.sqlite").path) { tighten(directory.path) }
        for entry in ownEntries {
            let path = directory.appendingPathComponent(entry).path
            guard manager.fileExists(atPath: path) else { continue }
            tighten(path)
            if let inside = manager.enumerator(atPath: path) {
                for case let relative as String in inside { tighten((path as NSString).appendingPathComponent(relative)) }
            }
        }
        return tightened
    }
}
