// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Synchronization

/// Where a statement's run on a Flink cluster is, kept across restarts of the server so that it is re-attached, never
/// submitted twice: its gateway session and operation, how far its results were read, its job, and the savepoint a
/// stopped statement resumes from.
struct FlinkRunRecord: Codable, Sendable, Equatable {
    /// The gateway session the statement's declarations and operation live in.
    var session: FlinkGatewayClient.SessionHandle?
    /// The statement's operation, once submitted.
    var operation: FlinkGatewayClient.OperationHandle?
    /// The result page to fetch next.
    var nextResultURI: String?
    /// How many result rows of the operation come before ``nextResultURI``'s page.
    var rowsBefore: Int = 0
    /// The Flink job, once the gateway named it.
    var jobID: String?
    /// The savepoint a stopped INSERT resumes from (set by a stop, consumed by the next submission).
    var savepoint: String?
    /// `status.latest_offsets` as the job's Kafka sources last reported them, and when.
    var latestOffsets: [String: String]?
    var offsetsReadAt: Date?

    /// The record of a statement that runs nothing (stopped or ended), keeping what a resumption needs.
    var detached: FlinkRunRecord {
        var copy = FlinkRunRecord()
        copy.savepoint = savepoint
        copy.latestOffsets = latestOffsets
        copy.offsetsReadAt = offsetsReadAt
        return copy
    }
}

/// The run records of the Flink backend's statements, one file per statement uid in a directory private to the
/// server's user, written whole (rename) on every change and cached in memory.
final class FlinkRunRecords: Sendable {
    private let directory: URL
    private let cache = Mutex<[String: FlinkRunRecord]>([:])

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var loaded: [String: FlinkRunRecord] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".json") {
            let uid = String(file.dropLast(".json".count))
            if let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path),
                let record = try? JSONDecoder().decode(FlinkRunRecord.self, from: data)
            {
                loaded[uid] = record
            }
        }
        cache.withLock { $0 = loaded }
    }

    func record(_ uid: String) -> FlinkRunRecord? { cache.withLock { $0[uid] } }

    var uids: Set<String> { cache.withLock { Set($0.keys) } }

    /// Stores `record` for `uid`: on disk before returning when `durable`, else in memory until the next durable
    /// save or ``flush(_:)``.
    func save(_ record: FlinkRunRecord, for uid: String, durable: Bool = true) throws {
        guard Self.isValid(uid) else { return }
        guard durable else {
            cache.withLock { $0[uid] = record }
            return
        }
        let data = try JSONEncoder().encode(record)
        let file = directory.appendingPathComponent(uid + ".json")
        let temporary = directory.appendingPathComponent(uid + ".json.tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        guard rename(temporary.path, file.path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path]) }
        cache.withLock { $0[uid] = record }
    }

    /// Changes the record of `uid` (a fresh one when there is none) and stores it.
    @discardableResult
    func update(_ uid: String, durable: Bool = true, _ change: (inout FlinkRunRecord) -> Void) throws -> FlinkRunRecord {
        var record = self.record(uid) ?? FlinkRunRecord()
        change(&record)
        try save(record, for: uid, durable: durable)
        return record
    }

    /// Writes what is kept in memory for `uid` to disk.
    func flush(_ uid: String) throws {
        if let record = record(uid) { try save(record, for: uid) }
    }

    func remove(_ uid: String) {
        guard Self.isValid(uid) else { return }
        cache.withLock { _ = $0.removeValue(forKey: uid) }
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(uid + ".json"))
    }

    /// Statement uids are UUIDs: anything else never names a file.
    private static func isValid(_ uid: String) -> Bool {
        !uid.isEmpty && uid.count <= 64 && uid.allSatisfy { $0.isHexDigit || $0 == "-" }
    }
}
