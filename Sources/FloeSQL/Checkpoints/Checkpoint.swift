// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One checkpoint of a running INSERT (CREATE TABLE AS, or one INSERT of a statement set): the state of every stage
/// with its sources' positions, and the output produced since the previous checkpoint, which the checkpoint commits.
///
/// **Exactly once.** Output is held back between checkpoints. A checkpoint is first made durable (with that output in
/// it), then its output is appended to the sink. Recovery loads the latest checkpoint, appends whatever part of its
/// output the sink does not hold yet (the sink counts rows per writer), restores the stages and continues from the
/// sources' saved positions. Rows are therefore neither lost nor duplicated, whatever the interleaving of sources was
/// before a crash, and sink readers see output when it is committed, as read-committed Kafka consumers do.
struct Checkpoint {
    /// Numbered from 1 per writer.
    var epoch: Int64
    var takenAt: Date
    /// The input ended and every row was produced: a re-run only finishes the commit.
    var isFinal: Bool
    /// Rows the sink held from this writer before the checkpoint's own output.
    var sinkBase: Int64
    /// The output this checkpoint commits.
    var output: [Row]
    /// The output rows' kinds, for an upsert or retract sink (nil while all are inserts).
    var outputKinds: [RowKind]?
    /// The outputs of further sinks (a statement set's other INSERTs), each with its own base.
    var otherOutputs: [CheckpointOutput] = []
    /// The next offset to read per source table (topic) and partition (`status.latest_offsets`).
    var offsets: [SourceOffset]
    /// ``Dataflow/snapshot()``.
    var state: [UInt8]

    /// The current format: offsets per partition. ``legacyMagic`` checkpoints (one offset per table, partition 0)
    /// still read.
    private static let magic = Array("FLOECKP2".utf8)
    private static let legacyMagic = Array("FLOECKP1".utf8)

    func encoded() -> [UInt8] {
        var writer = StateWriter()
        writer.int(epoch)
        writer.int(Int64((takenAt.timeIntervalSince1970 * 1000).rounded()))
        writer.bool(isFinal)
        writer.int(sinkBase)
        writer.rows(output)
        writer.array(offsets) { writer, offset in
            writer.string(offset.table)
            writer.int(Int64(offset.partition))
            writer.int(offset.offset)
        }
        writer.blob(state)
        // Kinds and further outputs come last, so that checkpoints written before they existed still read.
        if outputKinds != nil || !otherOutputs.isEmpty { writer.blob((outputKinds ?? []).map { UInt8($0.rawValue) }) }
        if !otherOutputs.isEmpty {
            writer.array(otherOutputs) { writer, part in
                writer.int(part.sinkBase)
                writer.rows(part.rows)
                writer.blob((part.kinds ?? []).map { UInt8($0.rawValue) })
            }
        }
        var bytes = Self.magic
        let body = writer.bytes
        withUnsafeBytes(of: CRC32.checksum(body).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: body)
        return bytes
    }

    init(
        epoch: Int64, takenAt: Date, isFinal: Bool, sinkBase: Int64, output: [Row], outputKinds: [RowKind]? = nil,
        offsets: [SourceOffset],
        state: [UInt8]
    ) {
        self.epoch = epoch
        self.takenAt = takenAt
        self.isFinal = isFinal
        self.sinkBase = sinkBase
        self.output = output
        self.outputKinds = outputKinds
        self.offsets = offsets
        self.state = state
    }

    init(decoding bytes: [UInt8]) throws(SQLError) {
        guard bytes.count >= Self.magic.count + 4 else { throw StateReader.malformed() }
        let magic = Array(bytes.prefix(Self.magic.count))
        guard magic == Self.magic || magic == Self.legacyMagic else { throw StateReader.malformed() }
        let checksum = bytes[Self.magic.count..<Self.magic.count + 4].enumerated().reduce(UInt32(0)) {
            $0 | UInt32($1.element) << (8 * UInt32($1.offset))
        }
        let body = Array(bytes[(Self.magic.count + 4)...])
        guard CRC32.checksum(body) == checksum else { throw StateReader.malformed() }
        var reader = StateReader(body)
        epoch = try reader.int()
        takenAt = Date(timeIntervalSince1970: Double(try reader.int()) / 1000)
        isFinal = try reader.bool()
        sinkBase = try reader.int()
        output = try reader.rows()
        if magic == Self.legacyMagic {
            offsets = try reader.array { reader throws(SQLError) in SourceOffset(table: try reader.string(), partition: 0, offset: try reader.int()) }
        } else {
            offsets = try reader.array { reader throws(SQLError) in
                let table = try reader.string()
                guard let partition = Int32(exactly: try reader.int()) else { throw StateReader.malformed() }
                return SourceOffset(table: table, partition: partition, offset: try reader.int())
            }
        }
        state = try reader.blob()
        func kinds(_ codes: [UInt8], rows: Int) throws(SQLError) -> [RowKind]? {
            guard !codes.isEmpty else { return nil }
            guard codes.count == rows else { throw StateReader.malformed() }
            return codes.map { RowKind(rawValue: Int($0)) ?? .insert }
        }
        if !reader.isAtEnd { outputKinds = try kinds(try reader.blob(), rows: output.count) }
        if !reader.isAtEnd {
            otherOutputs = try reader.array { reader throws(SQLError) in
                let base = try reader.int()
                let rows = try reader.rows()
                return CheckpointOutput(sinkBase: base, rows: rows, kinds: try kinds(try reader.blob(), rows: rows.count))
            }
        }
        guard reader.isAtEnd else { throw StateReader.malformed() }
    }
}

/// The output a checkpoint commits to one sink: the rows the sink held from the writer before, and the new rows.
struct CheckpointOutput: Sendable {
    var sinkBase: Int64
    var rows: [Row]
    /// Nil while every row is an insert.
    var kinds: [RowKind]?
}

/// Where a source is in one partition of a table (a topic): the offset it reads next.
///
/// A table's log is one partition, its offset the rows read; a Kafka topic has one per partition. Next-to-read (not
/// last-read) offsets are what `scan.startup.specific-offsets` takes, so a statement's `status.latest_offsets` can be
/// passed to the next statement verbatim and it starts with no row read twice.
struct SourceOffset: Sendable, Equatable {
    var table: String
    var partition: Int32
    var offset: Int64
}

/// What a statement's latest checkpoints say, for its status: the offsets reached per source table and when.
public struct CheckpointSummary: Sendable, Equatable {
    /// The next offset to read per table (topic) and partition.
    public var offsets: [String: [Int32: Int64]]
    public var takenAt: Date
    /// The size of the saved operator state, in bytes.
    public var stateBytes: Int

    public init(offsets: [String: [Int32: Int64]], takenAt: Date, stateBytes: Int) {
        self.offsets = offsets
        self.takenAt = takenAt
        self.stateBytes = stateBytes
    }

    /// `status.latest_offsets`: topic → `partition:0,offset:N;partition:1,offset:M`, partitions in order.
    public var latestOffsets: [String: String] { offsets.mapValues(PartitionOffsets.format) }
}

/// The checkpoints of the engine's statements, one file per writer under `<data>/checkpoints`, each replaced
/// atomically (written to a temporary file, synced, renamed, directory synced). What each says for the status (time,
/// offsets, state size) is also kept in memory, so reading a statement does not read its checkpoint.
final class CheckpointStore: Sendable {
    let directory: URL

    /// A checkpoint's status facts.
    private struct Facts {
        var takenAt: Date
        var offsets: [SourceOffset]
        var stateBytes: Int
    }

    /// Statement id → writer key → the facts of its latest checkpoint.
    private let facts: Mutex<[String: [String: Facts]]>

    init(directory: URL) throws(SQLError) {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SQLError.runtime("Cannot create the checkpoint directory \(directory.path): \(error.localizedDescription)")
        }
        var known: [String: [String: Facts]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasSuffix(".ckpt") {
            let stem = String(name.dropLast(".ckpt".count))
            guard let key = stem.removingPercentEncoding,
                let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path),
                let checkpoint = try? Checkpoint(decoding: [UInt8](data))
            else { continue }
            known[Self.statement(of: key), default: [:]][key] = Facts(
                takenAt: checkpoint.takenAt, offsets: checkpoint.offsets, stateBytes: checkpoint.state.count)
        }
        facts = Mutex(known)
    }

    /// The statement a writer key belongs to (`<id>` or `<id>#<n>`).
    private static func statement(of key: String) -> String {
        key.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? key
    }

    /// A file name for a writer key: letters, digits and `-_.#` kept, anything else percent-encoded.
    private func url(_ key: String) -> URL {
        var name = ""
        for byte in key.utf8 {
            let scalar = Unicode.Scalar(byte)
            if (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "-_.#".utf8.contains(byte) {
                name.unicodeScalars.append(scalar)
            } else {
                name += String(format: "%%%02X", byte)
            }
        }
        return directory.appendingPathComponent(name + ".ckpt")
    }

    func load(_ key: String) throws(SQLError) -> Checkpoint? {
        guard let data = FileManager.default.contents(atPath: url(key).path) else { return nil }
        return try Checkpoint(decoding: [UInt8](data))
    }

    func save(_ checkpoint: Checkpoint, key: String) throws(SQLError) {
        let url = url(key)
        let temporary = url.appendingPathExtension("tmp")
        let bytes = checkpoint.encoded()
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw SQLError.runtime("Cannot write a checkpoint: \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw SQLError.runtime("Cannot write a checkpoint: \(reason)")
        }
        let directoryFD = open(directory.path, O_RDONLY)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
        let entry = Facts(takenAt: checkpoint.takenAt, offsets: checkpoint.offsets, stateBytes: checkpoint.state.count)
        facts.withLock { $0[Self.statement(of: key), default: [:]][key] = entry }
    }

    /// What the latest checkpoints of a statement (all its writers) say; nil before the first.
    func summary(ofStatement id: String) -> CheckpointSummary? {
        guard let writers = facts.withLock({ $0[id] }), !writers.isEmpty else { return nil }
        // A table several writers read shows the furthest any of them got, per partition.
        var offsets: [String: [Int32: Int64]] = [:]
        for entry in writers.values {
            for offset in entry.offsets {
                offsets[offset.table, default: [:]][offset.partition] = max(offsets[offset.table]?[offset.partition] ?? 0, offset.offset)
            }
        }
        return CheckpointSummary(
            offsets: offsets, takenAt: writers.values.map(\.takenAt).max()!, stateBytes: writers.values.reduce(0) { $0 + $1.stateBytes })
    }

    /// Deletes a statement's checkpoints (it was deleted).
    func remove(statement id: String) {
        let keys = facts.withLock { $0.removeValue(forKey: id).map { Array($0.keys) } ?? [] }
        for key in keys { try? FileManager.default.removeItem(at: url(key)) }
    }

    /// The statement ids that have checkpoints.
    func statementIDs() -> Set<String> { facts.withLock { Set($0.keys) } }
}

/// When a running statement checkpoints: every `interval`, stretched so that checkpointing takes at most a tenth of
/// the time (a large state is saved less often).
final class CheckpointPolicy {
    let interval: Duration
    private(set) var lastCost: Duration = .zero

    init(interval: Duration) { self.interval = interval }

    /// The time between checkpoints now.
    var spacing: Duration { max(interval, lastCost * 10) }

    func record(cost: Duration) { lastCost = cost }
}
