// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Remembers, in a file of the data directory, which statements the process died while preparing, so that a statement
/// whose preparation brings the process down is failed at a later start instead of being prepared again and again.
///
/// The engine's limits keep every statement known to us from crashing its preparation; this breaks the crash loop for
/// whatever they miss. One interrupted preparation proves nothing (an operator's `kill -9` or a power cut may land
/// there), so a statement is failed only when the process died while preparing it ``attemptsBeforeFailing`` times
/// without a preparation of it ending in between. The file needs no fsync: what it guards against is the process
/// dying, after which the kernel still writes it out.
struct PreparationMarker: Sendable {
    /// `<data-dir>/preparing`, or nil to keep no marker (tests without a data directory).
    let url: URL?
    /// Interrupted preparations of one statement after which it is failed.
    static let attemptsBeforeFailing = 2

    /// Statement uid → preparations of it the process died in, none of them followed by one that ended.
    private var interrupted: [String: Int] = [:]

    init(url: URL?) {
        self.url = url
        guard let url, let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let attempts = Int(fields[1]) { interrupted[String(fields[0]), default: 0] = attempts }
        }
    }

    /// The statements to fail now: those whose preparations the process died in too often.
    var statementsToFail: [String] { interrupted.filter { $0.value >= Self.attemptsBeforeFailing }.map(\.key).sorted() }

    /// Forgets the statements that no longer exist.
    mutating func keep(only uids: Set<String>) {
        let gone = interrupted.keys.filter { !uids.contains($0) }
        guard !gone.isEmpty else { return }
        for uid in gone { interrupted[uid] = nil }
        write(interrupted)
    }

    /// Records that `uid` is being prepared: until ``end(_:)``, a death of the process counts against it. The scheduler
    /// prepares one statement at a time, so a death is counted against the one statement that was being prepared.
    mutating func begin(_ uid: String) {
        guard url != nil else { return }
        interrupted[uid, default: 0] += 1
        write(interrupted)
    }

    /// Records that the preparation of `uid` ended (either way), or that it was failed: it starts with a clean slate.
    mutating func end(_ uid: String) {
        guard interrupted.removeValue(forKey: uid) != nil else { return }
        write(interrupted)
    }

    private func write(_ entries: [String: Int]) {
        guard let url else { return }
        if entries.isEmpty {
            try? FileManager.default.removeItem(at: url)
        } else {
            try? Data(entries.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined().utf8).write(to: url)
        }
    }
}
