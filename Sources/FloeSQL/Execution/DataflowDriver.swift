// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// Driving a dataflow: its sources are polled in turn and each batch is pushed up through the stages it feeds, with
/// the watermarks, idleness and ends of input that follow; output is handed out in time slices, the task yields so
/// that statements share the engine's threads, and a flow with nothing to read waits for appends, a paced source or
/// its next checkpoint. When to checkpoint is decided here (``CheckpointSchedule``); what a checkpoint holds and how
/// it is committed is `Checkpoints/CheckpointCoordinator.swift`.
extension Dataflow {
    /// Runs until the sources are exhausted (or a terminal LIMIT is met), handing output batches to `output` at
    /// least every `interval` while rows flow; unbounded flows run until the task is cancelled.
    ///
    /// With a `checkpoint` schedule, the flow checkpoints between batches once its spacing has passed since the last
    /// checkpoint and input was processed since, also while it waits for input; when the task is cancelled (a stop, a
    /// shutdown) it hands out its pending output and checkpoints a last time before the cancellation propagates.
    func run(interval: Duration = .milliseconds(50), checkpoint: CheckpointSchedule? = nil, output: ([Batch]) async throws -> Void) async throws {
        try await run(interval: interval, checkpoint: checkpoint, outputs: { try await output($0[0]) })
    }

    /// ``run(interval:checkpoint:output:)`` for several roots: `outputs` gets the batches of every root, by root.
    func run(interval: Duration = .milliseconds(50), checkpoint: CheckpointSchedule? = nil, outputs: ([[Batch]]) async throws -> Void) async throws {
        let clock = ContinuousClock()
        var lastFlush = clock.now
        var lastCheckpoint = clock.now
        // The run's statistics (`GET /metrics`), if the backend set them for this task.
        let statistics = RunStatistics.current
        func flush(force: Bool) async throws {
            let rows = pending.reduce(0) { total, batches in batches.reduce(total) { $0 + $1.count } }
            guard rows > 0, force || clock.now - lastFlush >= interval || rows >= 4096 else { return }
            let batches = pending
            pending = Array(repeating: [], count: roots.count)
            lastFlush = clock.now
            try await outputs(batches)
            statistics?.recordWritten(rows)
        }
        /// When the next checkpoint is due, if there is anything to checkpoint.
        func checkpointDue() -> ContinuousClock.Instant? {
            guard let checkpoint, changedSinceCheckpoint else { return nil }
            return lastCheckpoint + checkpoint.policy.spacing
        }
        func takeCheckpoint() async throws {
            guard let checkpoint else { return }
            try await flush(force: true)
            let started = clock.now
            try await checkpoint.take(self)
            lastCheckpoint = clock.now
            checkpoint.policy.record(cost: lastCheckpoint - started)
            statistics?.recordCheckpoint(lastCheckpoint - started)
            changedSinceCheckpoint = false
        }
        do {
            try await drive(
                clock: clock, statistics: statistics, flush: { try await flush(force: $0) }, checkpointDue: checkpointDue,
                takeCheckpoint: takeCheckpoint)
        } catch {
            // Stopped between batches: what was processed is checkpointed, so a resume continues right after it.
            if checkpoint != nil, error is CancellationError || Task.isCancelled, !(error is SQLError) { try await takeCheckpoint() }
            throw error
        }
    }

    /// How long a dataflow computes before it lets the other statements on the engine's threads run.
    static let timeSlice: Duration = .milliseconds(20)

    /// The driving loop of ``run(interval:checkpoint:outputs:)``.
    private func drive(
        clock: ContinuousClock, statistics: RunStatistics?, flush: (_ force: Bool) async throws -> Void,
        checkpointDue: () -> ContinuousClock.Instant?,
        takeCheckpoint: () async throws -> Void
    ) async throws {
        let started = clock.now
        /// When a table that has been silent since `last` goes idle (nil: never).
        func idleDeadline(_ last: ContinuousClock.Instant) -> ContinuousClock.Instant? {
            // The progressive timeout is that of the statement's age when the table went silent, so it does not recede.
            idleTimeout.timeout(age: last - started).map { last + $0 }
        }
        // Statements share the engine's threads: one that computes for long without waiting lets the others run
        // every time slice.
        var sliceStarted = clock.now
        while true {
            try Task.checkCancellation()
            var progressed = false
            for source in sources where !finishedSources.contains(ObjectIdentifier(source)) {
                let id = ObjectIdentifier(source)
                while let batch = try source.poll() {
                    if clock.now - sliceStarted > Self.timeSlice {
                        await Task.yield()
                        sliceStarted = clock.now
                    }
                    progressed = true
                    changedSinceCheckpoint = true
                    statistics?.recordRead(batch.count)
                    if source.followsInput {
                        lastActive[id] = clock.now
                        // A table that produces again is active: it holds the watermark back again.
                        if idleSources.remove(id) != nil { try pushIdleness(false, from: source) }
                    }
                    try push([batch], from: source)
                    if terminalLimit?.isSatisfied == true { break }
                    try await flush(false)
                    if let due = checkpointDue(), clock.now >= due { try await takeCheckpoint() }
                    try Task.checkCancellation()
                }
                if source.isExhausted {
                    changedSinceCheckpoint = true
                    finishedSources.insert(ObjectIdentifier(source))
                    // A bounded input's end is the end of time for it: every window it fed can fire.
                    try pushWatermark(.max, from: source)
                    try end(source)
                }
                if terminalLimit?.isSatisfied == true { break }
            }
            if ended || terminalLimit?.isSatisfied == true || sources.isEmpty {
                try await flush(true)
                return
            }
            if sources.count > 1 {
                // Tables silent for the idle timeout stop holding back the watermark of the joins and unions they
                // feed (which may fire windows); only a flow of several sources has such stages.
                for source in sources where source.followsInput && !finishedSources.contains(ObjectIdentifier(source)) {
                    let id = ObjectIdentifier(source)
                    let last = lastActive[id] ?? started
                    guard !idleSources.contains(id), let due = idleDeadline(last), clock.now >= due else { continue }
                    idleSources.insert(id)
                    try pushIdleness(true, from: source)
                }
            }
            try await flush(!progressed)
            if let due = checkpointDue(), clock.now >= due { try await takeCheckpoint() }
            if !progressed {
                let waiting = sources.filter { !finishedSources.contains(ObjectIdentifier($0)) }
                let arrivals = waiting.compactMap(\.inputArrival)
                // Idle with uncommitted work: wake when the checkpoint that commits it is due.
                let deadline = (waiting.compactMap(\.wakeDeadline) + [checkpointDue()].compactMap { $0 }).min()
                guard !arrivals.isEmpty || deadline != nil else { continue }
                // Everything the logs hold is processed and handed out, and nothing waits on a clock (the idle
                // timeouts of silent tables aside).
                if deadline == nil { await onCaughtUp?() }
                // Only a flow that can tell (a join or union of several sources) waits for its tables to go idle.
                let idleWake =
                    sources.count > 1
                    ? waiting.filter { $0.followsInput && !idleSources.contains(ObjectIdentifier($0)) }
                        .compactMap { idleDeadline(lastActive[ObjectIdentifier($0)] ?? started) }.min()
                    : nil
                let wake = [deadline, idleWake].compactMap { $0 }.min()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for arrival in arrivals { group.addTask { try await arrival() } }
                    if let wake { group.addTask { try await Task.sleep(until: wake, clock: .continuous) } }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    // MARK: Propagation

    /// Calls `body` with every stage `stage` feeds and the slot it feeds there (more than one for a shared source),
    /// without building a list on this hot path.
    private func forEachConsumer(of stage: Stage, _ body: (Stage, Int) throws(SQLError) -> Void) throws(SQLError) {
        guard let parent = stage.parent else { return }
        try body(parent, stage.slot)
        for consumer in stage.sharedWith {
            if let shared = consumer.stage { try body(shared, consumer.slot) }
        }
    }

    private func push(_ batches: [Batch], from stage: Stage) throws(SQLError) {
        if let index = stage.outputIndex { pending[index].append(contentsOf: batches.filter { $0.count > 0 }) }
        try forEachConsumer(of: stage) { parent, slot throws(SQLError) in
            for batch in batches where batch.count > 0 {
                try push(try parent.process(batch, from: slot), from: parent)
                if let watermark = parent.takeGeneratedWatermark() {
                    let (fired, forward) = try parent.advanceWatermark(to: watermark)
                    try push(fired, from: parent)
                    if let forward { try pushWatermark(forward, from: parent) }
                }
            }
        }
    }

    /// Hands `stage`'s new watermark to its parents, then whatever that completes, then their watermarks upward.
    private func pushWatermark(_ watermark: Int64, from stage: Stage) throws(SQLError) {
        try forEachConsumer(of: stage) { parent, slot throws(SQLError) in
            let (fired, forward) = try parent.receiveWatermark(watermark, from: slot)
            try push(fired, from: parent)
            if let forward { try pushWatermark(forward, from: parent) }
        }
    }

    /// Hands a change of `stage`'s idleness to its parents, then what that releases, up the flow.
    private func pushIdleness(_ idle: Bool, from stage: Stage) throws(SQLError) {
        try forEachConsumer(of: stage) { parent, slot throws(SQLError) in
            let (fired, forward, changed) = try parent.inputIdleness(idle, from: slot)
            try push(fired, from: parent)
            if let forward { try pushWatermark(forward, from: parent) }
            if let changed { try pushIdleness(changed, from: parent) }
        }
    }

    private func end(_ stage: Stage) throws(SQLError) {
        if let index = stage.outputIndex { endedRoots.insert(index) }
        try forEachConsumer(of: stage) { parent, slot throws(SQLError) in
            let wasFinished = parent.isFinished
            try push(try parent.inputFinished(slot), from: parent)
            if !wasFinished, parent.isFinished { try end(parent) }
        }
    }
}
