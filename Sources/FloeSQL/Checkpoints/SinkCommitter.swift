// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

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
    private var uncommitted: [Row] = []
    /// Rows this writer's output holds in the sink (read once, then counted here).
    private var written: Int64

    init(sink: any RowSink, writer: String, store: CheckpointStore, key: String, keepsOutput: Bool) {
        self.sink = sink
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
        let missing = Array(checkpoint.output.dropFirst(Int(committed)))
        try sink.append(missing, writer: writer)
        written += Int64(missing.count)
    }

    /// Holds the rows a batch adds (+I, +U) until the next checkpoint.
    func hold(_ batches: [Batch]) {
        guard keepsOutput else { return }
        for batch in batches {
            for i in 0..<batch.count where batch.kinds[i].isAccumulate { uncommitted.append(batch.row(i)) }
        }
    }

    /// Saves a checkpoint with the held output, then appends that output to the sink.
    @discardableResult
    func commit(state: [UInt8], offsets: [(table: String, rows: Int64)], isFinal: Bool) throws(SQLError) -> Checkpoint {
        epoch += 1
        let checkpoint = Checkpoint(epoch: epoch, takenAt: Date(), isFinal: isFinal, sinkBase: written, output: uncommitted,
                                    offsets: offsets, state: state)
        try store.save(checkpoint, key: key)
        try sink.append(uncommitted, writer: writer)
        written += Int64(uncommitted.count)
        uncommitted = []
        return checkpoint
    }
}
