// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A table's durable, append-only log of rows: the embedded stand-in for a Kafka topic.
///
/// **Format.** A sequence of records `[payload length: u32 LE][CRC-32 of payload: u32 LE][payload]`. A payload is one
/// appended batch: the writer (its key and the append time, microseconds since the epoch, as a two-element list; logs
/// written before append times were recorded have the bare key and read as appended at the epoch; a record of an
/// upsert table's changelog adds a third element, the row kinds as bytes, when any row is not an insert), the writer's
/// cumulative row count after this batch, the row count and the rows (``ValueCodec``). Offsets handed to readers are
/// byte positions of record boundaries. The append time is the rows' `$rowtime`, as a Kafka record's timestamp is.
///
/// **Durability policy.** Every ``append(_:writer:)`` writes one record and `fsync`s the file before it returns and
/// before readers can see it; a batch is therefore all-or-nothing. On open, the log is scanned and anything after the
/// last record whose length and checksum verify (a torn tail after a crash) is truncated away.
///
/// **Idempotent writers.** The cumulative count per writer key lets a statement re-run after a restart learn how many
/// rows it had already appended (``rowsWritten(by:)``) and skip them.
final class TableLog: Sendable {
    /// Where a reader is: the byte offset of the next record.
    typealias Offset = Int64

    private struct State {
        var end: Offset = 0
        var rowCount: Int64 = 0
        var writerCounts: [String: Int64] = [:]
        /// The latest append time (append times never go back, even if the clock does).
        var lastAppend: Int64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    let url: URL
    private let descriptor: Int32
    private let state: Mutex<State>

    /// Opens (or creates) the log at `url`, truncating a torn tail.
    init(url: URL) throws(SQLError) {
        self.url = url
        let fd = open(url.path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw SQLError.runtime("Cannot open the table log \(url.lastPathComponent): \(String(cString: strerror(errno)))") }
        descriptor = fd
        var recovered = State()
        let size = Int64(lseek(fd, 0, SEEK_END))
        var offset: Offset = 0
        while offset < size, let record = Self.readRecord(fd, at: offset, limit: size) {
            recovered.rowCount += Int64(record.rows.count)
            recovered.writerCounts[record.writer] = record.writerTotal
            recovered.lastAppend = max(recovered.lastAppend, record.appendedAt)
            offset = record.next
        }
        if offset < size {
            _ = ftruncate(fd, off_t(offset))
            _ = fsync(fd)
        }
        recovered.end = offset
        state = Mutex(recovered)
    }

    deinit { close(descriptor) }

    /// The offset just past the last committed record.
    var end: Offset { state.withLock { $0.end } }

    /// How many rows the log holds.
    var rowCount: Int64 { state.withLock { $0.rowCount } }

    /// How many rows the writer `key` appended so far.
    func rowsWritten(by key: String) -> Int64 { state.withLock { $0.writerCounts[key] ?? 0 } }

    /// Appends `rows` as one durable record (fsync before returning) and wakes readers. `kinds` (nil for inserts only)
    /// marks rows of an upsert table's changelog as updates or deletes.
    func append(_ rows: [Row], kinds: [RowKind]?, writer: String) throws(SQLError) {
        guard !rows.isEmpty else { return }
        let changeKinds = kinds.flatMap { kinds in kinds.allSatisfy { $0 == .insert } ? nil : kinds.map { UInt8($0.rawValue) } }
        let waiters: [CheckedContinuation<Void, any Error>] = try state.withLock { state throws(SQLError) in
            guard !state.closed else { throw SQLError.runtime("The table was dropped while the statement was writing to it.") }
            let total = (state.writerCounts[writer] ?? 0) + Int64(rows.count)
            var payload: [UInt8] = []
            let appendedAt = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
            var header: [Value] = [.string(writer), .int(max(appendedAt, state.lastAppend))]
            if let changeKinds { header.append(.bytes(changeKinds)) }
            ValueCodec.encode(.list(header), into: &payload)
            ValueCodec.appendVarint(UInt64(total), to: &payload)
            ValueCodec.appendVarint(UInt64(rows.count), to: &payload)
            for row in rows { ValueCodec.encode(row, into: &payload) }
            var record: [UInt8] = []
            record.reserveCapacity(payload.count + 8)
            withUnsafeBytes(of: UInt32(payload.count).littleEndian) { record.append(contentsOf: $0) }
            withUnsafeBytes(of: CRC32.checksum(payload).littleEndian) { record.append(contentsOf: $0) }
            record.append(contentsOf: payload)
            let written = record.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(state.end)) }
            guard written == record.count, fsync(descriptor) == 0 else {
                _ = ftruncate(descriptor, off_t(state.end))
                throw SQLError.runtime("Writing to the table log failed: \(String(cString: strerror(errno)))")
            }
            state.end += Int64(record.count)
            state.lastAppend = max(appendedAt, state.lastAppend)
            state.rowCount += Int64(rows.count)
            state.writerCounts[writer] = total
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Reads committed records from `offset` (at most about `maxBytes`), returning their rows, their kinds, each row's append time
    /// (microseconds since the epoch) and the next offset.
    func read(from offset: Offset, maxBytes: Int64 = 4 << 20) throws(SQLError) -> (rows: [Row], kinds: [RowKind], appendedAt: [Int64], next: Offset) {
        let limit = state.withLock { $0.end }
        var rows: [Row] = []
        var kinds: [RowKind] = []
        var times: [Int64] = []
        var position = offset
        while position < limit, position - offset < maxBytes {
            guard let record = Self.readRecord(descriptor, at: position, limit: limit) else {
                throw SQLError.runtime("The table log \(url.lastPathComponent) is corrupt at offset \(position).")
            }
            rows.append(contentsOf: record.rows)
            if let recordKinds = record.kinds {
                kinds.append(contentsOf: recordKinds)
            } else {
                kinds.append(contentsOf: repeatElement(.insert, count: record.rows.count))
            }
            times.append(contentsOf: repeatElement(record.appendedAt, count: record.rows.count))
            position = record.next
        }
        return (rows, kinds, times, position)
    }

    /// Suspends until the log ends beyond `offset`, the log is closed, or the task is cancelled.
    func waitForAppend(beyond offset: Offset) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: (any Error)?? = state.withLock { state in
                    if Task.isCancelled { return .some(CancellationError()) }
                    if state.end > offset || state.closed { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let outcome = resumeNow {
                    if let error = outcome { continuation.resume(throwing: error) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Whether the table was dropped.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Marks the log dropped, wakes readers and deletes the file.
    func drop() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
        try? FileManager.default.removeItem(at: url)
    }

    // MARK: Records

    private struct Record {
        var writer: String
        var appendedAt: Int64
        var writerTotal: Int64
        var rows: [Row]
        /// Nil when every row is an insert.
        var kinds: [RowKind]?
        var next: Offset
    }

    /// The record at `offset`, or nil when it is incomplete or fails its checksum.
    private static func readRecord(_ fd: Int32, at offset: Offset, limit: Offset) -> Record? {
        guard offset + 8 <= limit else { return nil }
        var header = [UInt8](repeating: 0, count: 8)
        guard header.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 8, off_t(offset)) }) == 8 else { return nil }
        let length = header[0..<4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        let checksum = header[4..<8].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        guard offset + 8 + Int64(length) <= limit else { return nil }
        var payload = [UInt8](repeating: 0, count: Int(length))
        guard payload.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, Int(length), off_t(offset + 8)) }) == Int(length),
            CRC32.checksum(payload) == checksum
        else { return nil }
        var reader = ValueCodec.Reader(payload)
        let writer: String
        let appendedAt: Int64
        var kinds: [RowKind]?
        switch try? reader.value() {
        case .string(let key):
            (writer, appendedAt) = (key, 0)
        case .list(let parts) where parts.count == 2 || parts.count == 3:
            guard let key = parts[0].string, let time = parts[1].int else { return nil }
            (writer, appendedAt) = (key, time)
            if parts.count == 3 {
                guard case .bytes(let codes) = parts[2] else { return nil }
                kinds = codes.map { RowKind(rawValue: Int($0)) ?? .insert }
            }
        default: return nil
        }
        guard let total = try? reader.varint(), let count = try? reader.varint() else { return nil }
        var rows: [Row] = []
        rows.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let row = try? reader.row() else { return nil }
            rows.append(row)
        }
        guard kinds == nil || kinds!.count == rows.count else { return nil }
        return Record(writer: writer, appendedAt: appendedAt, writerTotal: Int64(total), rows: rows, kinds: kinds, next: offset + 8 + Int64(length))
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320).
enum CRC32 {
    /// Eight tables for slicing-by-8 (table 0 is the classic byte table): eight bytes per step instead of one, the
    /// same checksum (IEEE 802.3, as zlib's `crc32`).
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
            tables[index] = value
        }
        for index in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = tables[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return tables
    }()

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        tables.withUnsafeBufferPointer { t in
            bytes.withUnsafeBufferPointer { data in
                var i = 0
                let n = data.count
                while i + 8 <= n {
                    let low = crc ^ (UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
                    let high = UInt32(data[i + 4]) | UInt32(data[i + 5]) << 8 | UInt32(data[i + 6]) << 16 | UInt32(data[i + 7]) << 24
                    crc =
                        t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)] ^ t[5 * 256 + Int((low >> 16) & 0xFF)]
                        ^ t[4 * 256 + Int(low >> 24)] ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                        ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                    i += 8
                }
                while i < n {
                    crc = t[Int((crc ^ UInt32(data[i])) & 0xFF)] ^ (crc >> 8)
                    i += 1
                }
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
