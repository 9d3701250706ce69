// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Reads a table's log (`Storage/TableLog.swift`) from the start: up to the end at start time (snapshot), or following
/// appends. (Its stage kind in checkpoints is its class name, `LogSource`.)
final class LogSource: SourceStage {
    let log: TableLog
    let types: [SQLType]
    let tableName: String
    /// Where a snapshot read stops; nil to follow the log forever.
    private(set) var stopAt: TableLog.Offset?
    /// Whether each batch is one log record (one appended batch), so that watermarks advance at the same points on
    /// every read of the log.
    let recordAtATime: Bool
    private var offset: TableLog.Offset = 0
    /// Rows read so far (the Kafka-style offset of the next row).
    private var rowsRead: Int64 = 0

    init(log: TableLog, types: [SQLType], tableName: String, snapshot: Bool, recordAtATime: Bool = false) {
        self.log = log
        self.types = types
        self.tableName = tableName
        self.stopAt = snapshot ? log.end : nil
        self.recordAtATime = recordAtATime
    }

    override func poll() throws(SQLError) -> Batch? {
        if log.isClosed { throw SQLError.runtime("Table '\(tableName)' was dropped.") }
        if let stopAt, offset >= stopAt { return nil }
        let (rows, kinds, appendedAt, next) = try log.read(from: offset, maxBytes: recordAtATime ? 1 : 1 << 20)
        guard next > offset else { return nil }
        offset = next
        rowsRead += Int64(rows.count)
        // Rows written before a column was added are padded with NULLs; `$rowtime` (the last column) is the append
        // time at millisecond precision.
        let width = types.count - 1
        var fitted: [Row] = []
        fitted.reserveCapacity(rows.count)
        for (row, appendedAt) in zip(rows, appendedAt) {
            var full = row.count == width ? row : Array((row + Array(repeating: Value.null, count: max(0, width - row.count))).prefix(width))
            full.append(.int(appendedAt - appendedAt % 1000))
            fitted.append(full)
        }
        return Batch(rows: fitted, kinds: kinds, types: types)
    }

    override var isExhausted: Bool { stopAt.map { offset >= $0 } ?? false }
    override var followsInput: Bool { true }
    override var inputArrival: (@Sendable () async throws -> Void)? {
        { [log, offset] in try await log.waitForAppend(beyond: offset) }
    }
    /// The table's topic is its own name (the last part of the qualified name), its log one partition.
    override var consumedOffsets: [SourceOffset] {
        [SourceOffset(table: tableName.split(separator: ".").last.map(String.init) ?? tableName, partition: 0, offset: rowsRead)]
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.string(log.url.lastPathComponent)
        writer.int(offset)
        writer.int(rowsRead)
        writer.bool(stopAt != nil)
        writer.int(stopAt ?? 0)
    }

    /// Continues after the rows read before. A table dropped and created again since is a new log (a new topic):
    /// it is read from its start.
    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        let file = try reader.string()
        let savedOffset = try reader.int()
        let savedRows = try reader.int()
        let bounded = try reader.bool()
        let end = try reader.int()
        guard bounded == (stopAt != nil) else { throw StateReader.malformed() }
        guard file == log.url.lastPathComponent else { return }
        guard savedOffset >= 0, savedOffset <= log.end, savedRows >= 0 else {
            throw SQLError.runtime("Table '\(tableName)' holds fewer rows than the statement had read when it was checkpointed.")
        }
        offset = savedOffset
        rowsRead = savedRows
        if bounded { stopAt = end }
    }
}
