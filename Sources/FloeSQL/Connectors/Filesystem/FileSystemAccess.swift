// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where filesystem tables may read and write.
///
/// A filesystem table reads and writes files as the server's user, so on a server it could otherwise read anything that
/// user can — the server's own data directory with its secrets and every environment's data, `/proc`, home
/// directories — whatever catalog grants the statement has. The server therefore confines the connector to the
/// directories its operator names (none by default, as Confluent Cloud offers no filesystem connector), and refuses
/// its own data directory even inside them. Paths are checked with symbolic links and `..` resolved, when a table is
/// created, when it is read or written, and for each file a directory holds.
public struct FileSystemAccess: Sendable, Equatable {
    /// The directories tables may live under (resolved); nil places no limit (the engine's tests and benchmarks).
    let roots: [String]?
    /// Directories refused even inside a root (resolved): the server's data directory.
    let refused: [String]

    /// No limit: for the engine's tests and benchmarks, which run no one's statements.
    public static let unrestricted = FileSystemAccess(roots: nil, refused: [])

    /// Tables may live under `roots` (none: the connector is off), never under `refused`.
    public init(roots: [String], refused: [String]) {
        self.init(roots: Optional(roots.map(Self.resolved)), refused: refused.map(Self.resolved))
    }

    private init(roots: [String]?, refused: [String]) {
        self.roots = roots
        self.refused = refused
    }

    /// `path`, resolved, if a table may use it.
    /// - Throws: when the connector is off, or the path lies outside the roots or inside a refused directory.
    func check(_ path: String) throws(SQLError) -> String {
        let resolved = Self.resolved(path)
        guard let roots else { return resolved }
        guard !roots.isEmpty else {
            throw SQLError(
                "The filesystem connector is not enabled on this server: its operator enables it for chosen directories with `floe serve --filesystem-root <directory>`."
            )
        }
        guard roots.contains(where: { Self.isInside(resolved, $0) }), !refused.contains(where: { Self.isInside(resolved, $0) }) else {
            throw SQLError(
                "The filesystem path '\(path)' is outside the directories this server allows filesystem tables in (\(roots.joined(separator: ", ")))."
            )
        }
        return resolved
    }

    static func isInside(_ path: String, _ directory: String) -> Bool {
        path == directory || path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
    }

    /// `path` made absolute and canonical: `.` and `..` removed, and symbolic links resolved as far as the path exists
    /// (a sink's directory may not exist yet).
    static func resolved(_ path: String) -> String {
        let standardized = (path as NSString).standardizingPath
        var existing = standardized
        var missing: [String] = []
        while !existing.isEmpty, existing != "/", access(existing, F_OK) != 0 {
            missing.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        guard let real = realpath(existing, nil) else { return standardized }
        defer { free(real) }
        return missing.reduce(String(cString: real)) { ($0 as NSString).appendingPathComponent($1) }
    }
}
