// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A leaf of a dataflow: it produces batches until it is exhausted (bounded) or forever (following a log).
///
/// This is what a connector implements to be read. The driver (`Execution/DataflowDriver.swift`) polls every source
/// in turn and knows nothing of what is behind it: a source says whether it has a batch now (``poll()``), whether it
/// ended (``isExhausted``), and, when it has nothing, what to wait for — input others append
/// (``followsInput``, ``inputArrival``) or a time (``wakeDeadline``). Its position is its checkpointed state
/// (``Stage/saveState(into:)``), so a restored statement reads on from where the checkpoint was taken.
///
/// A source's class name is written into checkpoints as its stage kind (see `Checkpoints/CheckpointCoordinator.swift`):
/// renaming one makes existing checkpoints unrestorable.
class SourceStage: Stage {
    /// The next batch available now, or nil.
    func poll() throws(SQLError) -> Batch? { nil }
    /// Whether the source will produce nothing more.
    var isExhausted: Bool { true }
    /// Whether the source follows input that others append (a table's log): when it has nothing, the driver waits for
    /// ``inputArrival``, and one that stays silent for the idle timeout stops holding back the watermark. Read for
    /// every batch: a constant, not a computation.
    var followsInput: Bool { false }
    /// Returns once input beyond what the source has read may be there (nil for sources that never wait on input).
    /// The driver calls it in a child task when ``poll()`` has nothing, so it captures what it waits on, never the
    /// stage.
    var inputArrival: (@Sendable () async throws -> Void)? { nil }
    /// When a paced source has its next row due (nil for sources that do not wait on time).
    var wakeDeadline: ContinuousClock.Instant? { nil }
    override var inputCount: Int { 0 }
    /// Where this source is in the table (topic) it reads, per partition, for `status.latest_offsets`; empty for
    /// sources that read no table log or topic.
    var consumedOffsets: [SourceOffset] { [] }
}

/// Batches known up front (VALUES, INFORMATION_SCHEMA rows).
final class ConstantSource: SourceStage {
    private var batches: [Batch]

    init(_ batches: [Batch]) { self.batches = batches }

    override func poll() throws(SQLError) -> Batch? { batches.isEmpty ? nil : batches.removeFirst() }
    override var isExhausted: Bool { batches.isEmpty }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(batches.count)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        let remaining = try reader.count()
        guard remaining <= batches.count else { throw StateReader.malformed() }
        batches.removeFirst(batches.count - remaining)
    }
}
