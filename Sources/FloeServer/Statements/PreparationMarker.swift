// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Remembers, in a file of the data directory, which statement is being prepared, so that a statement whose
/// preparation brings the process down is failed at the next start instead of being prepared again, and again.
///
/// The engine's limits keep every statement known to us from crashing its preparation; this breaks the crash loop
/// for whatever they miss. The file needs no fsync: what it guards against is the process dying, after which the
/// kernel still writes it out.
struct PreparationMarker: Sendable {
    /// `<data-dir>/preparing`, or nil to keep no marker (tests without a data directory).
    let url: URL?

    /// The uid of the statement whose preparation was under way when the process last stopped, if any.
    func interrupted() -> String? {
        guard let url, let data = try? Data(contentsOf: url) else { return nil }
        let uid = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return uid.isEmpty ? nil : uid
    }

    /// Marks `uid` as being prepared for the duration of `body`.
    func preparing<T>(_ uid: String, _ body: () async throws -> T) async rethrows -> T {
        guard let url else { return try await body() }
        try? Data(uid.utf8).write(to: url)
        defer { clear() }
        return try await body()
    }

    func clear() {
        guard let url else { return }
        try? FileManager.default.removeItem(at: url)
    }
}
