// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation


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

    /// Creates `directory` (0700) and takes every permission of group and others from it and what it holds.
    /// Returns how many entries were tightened.
    @discardableResult
    static func secure(_ directory: URL) throws -> Int {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var tightened = 0
        func tighten(_ path: String) {
            let manager = FileManager.default
            guard let attributes = try? manager.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType != .typeSymbolicLink,
                let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0
            else { return }
            if (try? manager.setAttributes([.posixPermissions: mode & 0o7700], ofItemAtPath: path)) != nil { tightened += 1 }
        }
        tighten(directory.path)
        if let entries = FileManager.default.enumerator(atPath: directory.path) {
            for case let relative as String in entries { tighten(directory.appendingPathComponent(relative).path) }
        }
        return tightened
    }
}
