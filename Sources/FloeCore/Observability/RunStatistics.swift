// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Synchronization

/// What one run of a statement has done so far, as `GET /metrics` reports it: rows its sources read, rows it handed
/// out (to its sinks or its results), and how long its last checkpoint took.
///
/// The engine's driver counts into the statistics of the task it runs in (``current``), so neither the engine's
/// interfaces nor its hot loop carry a metrics type: a counter update is one relaxed atomic add per batch.
public final class RunStatistics: Sendable {
    private let read = Atomic<Int64>(0)
    private let written = Atomic<Int64>(0)
    /// The last checkpoint's duration in nanoseconds; -1 before the first.
    private let checkpointNanoseconds = Atomic<Int64>(-1)

    public init() {}

    /// The statistics the engine counts into in this task (set by the backend around a run); nil outside runs.
    @TaskLocal public static var current: RunStatistics?

    /// Rows read from the run's sources.
    public var rowsRead: Int64 { read.load(ordering: .relaxed) }
    /// Rows the run handed out: appended to its sinks, or result changes of a query.
    public var rowsWritten: Int64 { written.load(ordering: .relaxed) }
    /// How long the run's last checkpoint took; nil before its first.
    public var lastCheckpointDuration: Duration? {
        let value = checkpointNanoseconds.load(ordering: .relaxed)
        return value < 0 ? nil : .nanoseconds(value)
    }

    public func recordRead(_ rows: Int) { read.wrappingAdd(Int64(rows), ordering: .relaxed) }
    public func recordWritten(_ rows: Int) { written.wrappingAdd(Int64(rows), ordering: .relaxed) }
    public func recordCheckpoint(_ duration: Duration) { checkpointNanoseconds.store(duration.nanoseconds, ordering: .relaxed) }
}
