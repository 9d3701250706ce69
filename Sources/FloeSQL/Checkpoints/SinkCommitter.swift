// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The rows a sink keeps from a changelog: appending sinks the rows that add (+I, +U) as inserts; retract logs every
/// change. Upsert logs keep upserts (+I, +U) and deletes by key (-D); an update-before is implied by the update-after
/// of the same key that follows it, and is a delete when none does (an updating query filtered after an aggregate
/// retracts a row without replacing it), as Flink's upsert sinks write it.
struct SinkOutput {
    let mode: ChangelogMode
    /// The primary key's columns (upsert logs).
    let keys: [Int]
    private(set) var rows: [Row] = []
    /// The rows' kinds; nil while every row is an insert.
    private(set) var kinds: [RowKind]?

    init(mode: ChangelogMode, keys: [Int] = [], rows: [Row] = [], kinds: [RowKind]? = nil) {
        self.mode = mode
        self.keys = keys
        self.rows = rows
        self.kinds = kinds
    }

    private mutating func append(_ row: Row, _ kind: RowKind) {
        if kind != .insert || kinds != nil {
            if kinds == nil { kinds = Array(repeating: .insert, count: rows.count) }
            kinds!.append(kind)
        }
        rows.append(row)
    }

    mutating func add(_ batches: [Batch]) {
        for batch in batches {
            for i in 0..<batch.count {
                let kind = batch.kinds[i]
                switch mode {
                case .append:
                    if kind.isAccumulate { rows.append(batch.row(i)) }
                case .retract:
                    append(batch.row(i), kind)
                case .upsert:
                    guard kind == .updateBefore else {
                        append(batch.row(i), kind)
                        continue
                    }
                    let row = batch.row(i)
                    let replaced = i + 1 < batch.count && batch.kinds[i + 1] == .updateAfter
                        && keys.allSatisfy { batch.columns[$0].value(at: i + 1) == row[$0] }
                    if !replaced { append(row, .delete) }
                }
            }
        }
    }

    /// The rows from `start` on.
    func suffix(from start: Int) -> SinkOutput {
        SinkOutput(mode: mode, keys: keys, rows: Array(rows.dropFirst(start)), kinds: kinds.map { Array($0.dropFirst(start)) })
    }
}

/// Commits a checkpointed INSERT's output to its sink exactly once (see ``Checkpoint``): output is held until the
/// next checkpoint, which is saved with it and then appended; recovery appends what the sink is missing.
final class SinkCommitter {
    let sink: any RowSink
    let writer: String
    let store: CheckpointStore
    let key: String
    /// A blackhole keeps nothing: there is no output to hold.
    let keepsOutput: Bool
    private var epoch: Int64 = 0
    private var uncommitted: SinkOutput
    /// Rows this writer's output holds in the sink (read once, then counted here).
    private var written: Int64

    init(sink: any RowSink, writer: String, store: CheckpointStore, key: String, keepsOutput: Bool, mode: ChangelogMode = .append, keys: [Int] = []) {
        self.sink = sink
        uncommitted = SinkOutput(mode: mode, keys: keys)
        self.writer = writer
        self.store = store
        self.key = key
        self.keepsOutput = keepsOutput
        written = sink.rowsWritten(by: writer)
    }

    /// Finishes the commit of a loaded checkpoint: appends the part of its output the sink does not hold yet. (A sink
    /// holding fewer rows than before the checkpoint was dropped and created again: it gets the whole output.)
    func complete(_ checkpoint: Checkpoint) throws(SQLError) {
        epoch = checkpoint.epoch
        let committed = max(0, min(Int64(checkpoint.output.count), written - checkpoint.sinkBase))
        let output = SinkOutput(mode: uncommitted.mode, keys: uncommitted.keys, rows: checkpoint.output, kinds: checkpoint.outputKinds)
        let missing = output.suffix(from: Int(committed))
        try sink.append(missing.rows, kinds: missing.kinds, writer: writer)
        written += Int64(missing.rows.count)
    }

    /// Holds the changes a batch makes that the sink keeps (``SinkOutput``) until the next checkpoint.
    func hold(_ batches: [Batch]) {
        guard keepsOutput else { return }
        uncommitted.add(batches)
    }

    /// Saves a checkpoint with the held output, then appends that output to the sink.
    @discardableResult
    func commit(state: [UInt8], offsets: [(table: String, rows: Int64)], isFinal: Bool) throws(SQLError) -> Checkpoint {
        epoch += 1
        let checkpoint = Checkpoint(epoch: epoch, takenAt: Date(), isFinal: isFinal, sinkBase: written, output: uncommitted.rows,
                                    outputKinds: uncommitted.kinds, offsets: offsets, state: state)
        try store.save(checkpoint, key: key)
        try sink.append(uncommitted.rows, kinds: uncommitted.kinds, writer: writer)
        written += Int64(uncommitted.rows.count)
        uncommitted = SinkOutput(mode: uncommitted.mode, keys: uncommitted.keys)
        return checkpoint
    }
}
