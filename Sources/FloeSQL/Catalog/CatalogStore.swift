// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The durable catalog: every catalog's databases, tables and views, in one JSON file.
///
/// Reads take a consistent snapshot. Updates are serialized: each builds the next snapshot, writes it to a
/// temporary file, fsyncs it, renames it over `catalog.json` and fsyncs the directory, and only then publishes it.
final class CatalogStore: Sendable {
    let directory: URL
    private let state: Mutex<CatalogSnapshot>

    var fileURL: URL { directory.appendingPathComponent("catalog.json") }

    /// Opens the catalog under `directory`, creating an empty one when there is none.
    init(directory: URL) throws(SQLError) {
        self.directory = directory
        let url = directory.appendingPathComponent("catalog.json")
        if let data = try? Data(contentsOf: url) {
            do {
                state = Mutex(try JSONDecoder().decode(CatalogSnapshot.self, from: data))
            } catch {
                throw SQLError.runtime("The catalog file \(url.path) is unreadable: \(error)")
            }
        } else {
            state = Mutex(CatalogSnapshot())
        }
    }

    /// The current catalog contents.
    var snapshot: CatalogSnapshot { state.withLock { $0 } }

    /// Applies `change` to a copy of the catalog, persists the result and publishes it.
    @discardableResult
    func update<T>(_ change: (inout CatalogSnapshot) throws(SQLError) -> T) throws(SQLError) -> T {
        try state.withLock { current throws(SQLError) -> T in
            var next = current
            let result = try change(&next)
            guard next.catalogs[ExampleCatalog.identity.id] == nil else { throw ExampleCatalog.readOnly() }
            if next != current {
                try persist(next)
                current = next
            }
            return result
        }
    }

    private func persist(_ snapshot: CatalogSnapshot) throws(SQLError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let temporary = directory.appendingPathComponent("catalog.json.tmp")
        do {
            let data = try encoder.encode(snapshot)
            try data.write(to: temporary)
            try Self.syncToDisk(path: temporary.path)
            guard rename(temporary.path, fileURL.path) == 0 else { throw SQLError.runtime("rename failed: \(String(cString: strerror(errno)))") }
            try Self.syncToDisk(path: directory.path)
        } catch let error as SQLError {
            throw error
        } catch {
            throw SQLError.runtime("Saving the catalog failed: \(error)")
        }
    }

    static func syncToDisk(path: String) throws(SQLError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SQLError.runtime("Cannot open \(path) to sync it.") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SQLError.runtime("fsync of \(path) failed.") }
    }
}
