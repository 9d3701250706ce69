// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

// Checkpoint coordination: when a running statement checkpoints (``CheckpointSchedule``, acted on by the driver
// between batches), what a checkpoint holds of its dataflow (``Dataflow/snapshot()``: every stage's state, the sources'
// positions among them) and how it restores, and how an INSERT's run goes from its last checkpoint to exactly-once
// output (``CheckpointCoordinator``). The checkpoint's file format is `Checkpoint.swift`; holding and committing the
// output is `SinkCommitter.swift`.

/// How a running dataflow checkpoints: when (``CheckpointPolicy``) and what to do with its snapshot.
struct CheckpointSchedule {
    let policy: CheckpointPolicy
    /// Takes the checkpoint: called between batches with the output handed out; the dataflow is there to snapshot.
    let take: (Dataflow) async throws -> Void
}

/// Runs a checkpointed INSERT (or statement set) exactly once: a re-run first finishes the commit of the last
/// checkpoint and restores the dataflow from it; then every checkpoint saves the dataflow's state with the output
/// held since the last one before that output reaches the sinks, and the end of a bounded run is a final checkpoint.
enum CheckpointCoordinator {
    /// Runs `dataflow` (one root per target) into its sinks from the checkpoint saved under `key`, if any.
    static func run(
        _ dataflow: Dataflow, into targets: [SinkCommitter.Target], key: String, store: CheckpointStore,
        interval: Duration
    ) async throws {
        let committer = SinkCommitter(targets: targets, store: store, key: key)
        if let checkpoint = try store.load(key) {
            // A restart or a resume: finish the last commit, then continue from the checkpointed state.
            try committer.complete(checkpoint)
            if checkpoint.isFinal { return }
            try dataflow.restore(checkpoint.state)
        }
        let schedule = CheckpointSchedule(policy: CheckpointPolicy(interval: interval)) { dataflow in
            try committer.commit(state: dataflow.snapshot(), offsets: dataflow.consumedOffsets, isFinal: false)
        }
        try await dataflow.run(checkpoint: schedule) { (batches: [[Batch]]) in committer.hold(byTarget: batches) }
        try committer.commit(state: [], offsets: dataflow.consumedOffsets, isFinal: true)
    }
}

extension Dataflow {
    /// Every stage once, each before its inputs: a fixed order for given plans.
    var stagesInOrder: [Stage] {
        var stages: [Stage] = []
        var seen = Set<ObjectIdentifier>()
        func visit(_ stage: Stage) {
            guard seen.insert(ObjectIdentifier(stage)).inserted else { return }
            stages.append(stage)
            if let first = stage.firstInput { visit(first) }
            stage.otherInputs.forEach(visit)
        }
        roots.forEach(visit)
        return stages
    }

    /// The state of every stage (sources' positions included), tagged with the stage kinds so that it restores only
    /// into a dataflow of the same plan. Taken between batches, with no output pending.
    func snapshot() -> [UInt8] {
        precondition(pending.allSatisfy(\.isEmpty), "a snapshot is taken after the output was handed out")
        var writer = StateWriter()
        writer.bool(ended)
        writer.array(sources.indices.filter { finishedSources.contains(ObjectIdentifier(sources[$0])) }) { $0.int($1) }
        writer.array(stagesInOrder) { writer, stage in
            writer.string(String(describing: type(of: stage)))
            writer.section { stage.saveState(into: &$0) }
        }
        if roots.count > 1 { writer.array(endedRoots.sorted()) { $0.int($1) } }
        return writer.bytes
    }

    /// Restores a ``snapshot()`` into this freshly built dataflow.
    func restore(_ bytes: [UInt8]) throws(SQLError) {
        var reader = StateReader(bytes)
        if try reader.bool() { endedRoots = Set(roots.indices) }
        let finished = try reader.array { reader throws(SQLError) in try reader.count() }
        guard finished.allSatisfy({ $0 < sources.count }) else { throw StateReader.malformed() }
        finishedSources = Set(finished.map { ObjectIdentifier(sources[$0]) })
        let stages = stagesInOrder
        guard try reader.count() == stages.count else { throw Self.planChanged() }
        for stage in stages {
            guard try reader.string() == String(describing: type(of: stage)) else { throw Self.planChanged() }
            try reader.section { reader throws(SQLError) in try stage.restoreState(from: &reader) }
        }
        if roots.count > 1 {
            let ended = try reader.array { reader throws(SQLError) in try reader.count() }
            guard ended.allSatisfy({ $0 < roots.count }) else { throw StateReader.malformed() }
            endedRoots = Set(ended)
        }
        guard reader.isAtEnd else { throw StateReader.malformed() }
    }

    private static func planChanged() -> SQLError {
        SQLError.runtime("The statement's checkpoint was taken for a different plan (the tables it reads changed since) and cannot be restored.")
    }

    /// The next offset per source table and partition (the furthest when a table is read twice).
    var consumedOffsets: [SourceOffset] {
        var offsets: [String: [Int32: Int64]] = [:]
        for source in sources {
            for position in source.consumedOffsets {
                offsets[position.table, default: [:]][position.partition] = max(offsets[position.table]?[position.partition] ?? 0, position.offset)
            }
        }
        return offsets.sorted { $0.key < $1.key }.flatMap { table, partitions in
            partitions.sorted { $0.key < $1.key }.map { SourceOffset(table: table, partition: $0.key, offset: $0.value) }
        }
    }
}
