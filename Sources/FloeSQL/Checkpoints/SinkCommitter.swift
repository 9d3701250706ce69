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
                    let replaced =
                        i + 1 < batch.count && batch.kinds[i + 1] == .updateAfter
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

/// Commits a checkpointed INSERT's output to its sink — or a statement set's outputs to theirs — exactly once (see
/// ``Checkpoint``): output is held until the next checkpoint, which is saved with it and then appended; recovery
/// appends what each sink is missing.
final class SinkCommitter {
    /// One sink and what is held for it.
    struct Target {
        let sink: any RowSink
        let writer: String
        /// A blackhole keeps nothing: there is no output to hold.
        let keepsOutput: Bool
        var uncommitted: SinkOutput
        /// Rows this writer's output holds in the sink (read once, then counted here).
        var written: Int64
        /// How many of the held rows were staged in the sink already (``StagingRowSink``); nil once staging failed
        /// until the next checkpoint (the output is then appended whole).
        var staged: Int? = 0

        init(sink: any RowSink, writer: String, keepsOutput: Bool, mode: ChangelogMode = .append, keys: [Int] = []) {
            self.sink = sink
            self.writer = writer
            self.keepsOutput = keepsOutput
            uncommitted = SinkOutput(mode: mode, keys: keys)
            written = sink.rowsWritten(by: writer)
        }
    }

    let store: CheckpointStore
    let key: String
    private var epoch: Int64 = 0
    private var targets: [Target]

    init(targets: [Target], store: CheckpointStore, key: String) {
        precondition(!targets.isEmpty, "a committer commits to at least one sink")
        self.targets = targets
        self.store = store
        self.key = key
    }

    convenience init(
        sink: any RowSink, writer: String, store: CheckpointStore, key: String, keepsOutput: Bool, mode: ChangelogMode = .append,
        keys: [Int] = []
    ) {
        self.init(targets: [Target(sink: sink, writer: writer, keepsOutput: keepsOutput, mode: mode, keys: keys)], store: store, key: key)
    }

    /// Finishes the commit of a loaded checkpoint: appends the part of each output its sink does not hold yet. (A sink
    /// holding fewer rows than before the checkpoint was dropped and created again: it gets the whole output.)
    func complete(_ checkpoint: Checkpoint) throws(SQLError) {
        epoch = checkpoint.epoch
        let parts =
            [CheckpointOutput(sinkBase: checkpoint.sinkBase, rows: checkpoint.output, kinds: checkpoint.outputKinds)] + checkpoint.otherOutputs
        guard parts.count == targets.count else { throw StateReader.malformed() }
        for index in targets.indices {
            let part = parts[index]
            let committed = max(0, min(Int64(part.rows.count), targets[index].written - part.sinkBase))
            let output = SinkOutput(mode: targets[index].uncommitted.mode, keys: targets[index].uncommitted.keys, rows: part.rows, kinds: part.kinds)
            let missing = output.suffix(from: Int(committed))
            try targets[index].sink.append(missing.rows, kinds: missing.kinds, writer: targets[index].writer)
            targets[index].written += Int64(missing.rows.count)
        }
    }

    /// Holds the changes a batch makes that the sink keeps (``SinkOutput``) until the next checkpoint.
    func hold(_ batches: [Batch]) { hold(byTarget: [batches]) }

    /// ``hold(_:)`` for every sink: `batches[i]` goes to sink `i`.
    func hold(byTarget batches: [[Batch]]) {
        for (index, part) in batches.enumerated() where targets[index].keepsOutput {
            targets[index].uncommitted.add(part)
            guard let sink = targets[index].sink as? any StagingRowSink, let staged = targets[index].staged else { continue }
            let output = targets[index].uncommitted
            guard output.rows.count > staged else { continue }
            do {
                try sink.stage(output.rows[staged...], kinds: output.kinds?[staged...], writer: targets[index].writer)
                targets[index].staged = output.rows.count
            } catch {
                // Nothing is lost: the checkpoint appends the whole output.
                targets[index].staged = nil
            }
        }
    }

    /// Saves a checkpoint with the held output, then appends that output to the sinks.
    @discardableResult
    func commit(state: [UInt8], offsets: [SourceOffset], isFinal: Bool) throws(SQLError) -> Checkpoint {
        epoch += 1
        let parts = targets.map { CheckpointOutput(sinkBase: $0.written, rows: $0.uncommitted.rows, kinds: $0.uncommitted.kinds) }
        var checkpoint = Checkpoint(
            epoch: epoch, takenAt: Date(), isFinal: isFinal, sinkBase: parts[0].sinkBase, output: parts[0].rows,
            outputKinds: parts[0].kinds, offsets: offsets, state: state)
        checkpoint.otherOutputs = Array(parts.dropFirst())
        try store.save(checkpoint, key: key)
        for index in targets.indices {
            let output = targets[index].uncommitted
            let total = targets[index].written + Int64(output.rows.count)
            let staging = targets[index].sink as? any StagingRowSink
            if output.rows.isEmpty {
                // Nothing to write (and nothing staged).
            } else if let staging, targets[index].staged == output.rows.count,
                staging.commitStaged(count: output.rows.count, total: total, writer: targets[index].writer)
            {
                // The staged rows were the whole output, and are committed.
            } else {
                // Appending discards whatever was staged.
                try targets[index].sink.append(output.rows, kinds: output.kinds, writer: targets[index].writer)
            }
            targets[index].written = total
            targets[index].uncommitted = SinkOutput(mode: output.mode, keys: output.keys)
            targets[index].staged = 0
        }
        return checkpoint
    }
}
