// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore
import FloeStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Drives statements through their phases and runs them on the execution backend.
///
/// Clients only record what they want (a new statement, `spec.stopped`, a deletion); the scheduler reconciles the
/// stored statements with what runs. The phase rules are ``StatementLifecycle``'s (a value: state + event → actions);
/// the scheduler feeds it events (a look at a statement, a start allowed, a preparation's answer, a run's end, a
/// restart) and carries out the actions it returns: it persists every phase change (each bumps `resource_version`),
/// has the backend prepare, launches runs and stops them.
///
/// A running statement holds one CFU of its compute pool; when the pool's `max_cfu` is reached, new statements wait
/// in PENDING with `scaling_status.scaling_state = POOL_EXHAUSTED` and a warning, and start when capacity frees.
/// The statements of a pool start in creation order, each after the DDL before it ended (``StartOrder``), so that a
/// client may send a CREATE TABLE and an INSERT into the table back to back.
/// After a restart, RUNNING statements run again: on the embedded engine, INSERTs (and CREATE TABLE AS, statement
/// sets) from their last checkpoint, queries from the start of their inputs without re-delivering the result changes
/// already stored; on a Flink cluster, re-attached to the jobs that ran on without the server. A resumed statement
/// keeps its uid, and so its checkpoints (or savepoint): it continues where it stopped.
actor StatementScheduler: Service {
    nonisolated let store: any ControlPlaneStore
    nonisolated let results: any StatementResultStore
    nonisolated let backend: any ExecutionBackend
    nonisolated let signals: ResultSignals
    /// Which statement is being prepared, kept across a crash (see ``PreparationMarker``).
    private var marker: PreparationMarker
    /// Whether a statement is being prepared, and the preparations waiting for their turn: one at a time, so that a
    /// crash is charged to the statement that caused it.
    private var preparing = false
    private var waitingToPrepare: [CheckedContinuation<Void, Never>] = []
    /// The PENDING statements being started now (prepared, then recorded RUNNING): a reconciliation that overlaps
    /// another (after a cascading delete) must not start them twice.
    private var starting: Set<String> = []
    /// How long a statement stays after it ended (COMPLETED, FAILED or STOPPED) before it is deleted with its results.
    let retention: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    /// What runs now, by statement id.
    private var executions: [String: Execution] = [:]
    private var shuttingDown = false
    private nonisolated let wakeups: AsyncStream<Void>
    private nonisolated let wakeupContinuation: AsyncStream<Void>.Continuation

    private struct Execution {
        let uid: String
        let task: Task<Void, Never>
        /// Why the scheduler ends the run, for the backend (a stop, a deletion, a shutdown).
        let control: RunControl
    }

    init(
        store: any ControlPlaneStore, results: any StatementResultStore, backend: any ExecutionBackend, signals: ResultSignals,
        marker: PreparationMarker = PreparationMarker(url: nil), retention: Duration = StatementScheduler.defaultRetention, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.results = results
        self.backend = backend
        self.signals = signals
        self.marker = marker
        self.retention = retention
        self.logger = logger
        self.now = now
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a reconciliation soon (after a client changed a statement or a pool).
    nonisolated func wake() { wakeupContinuation.yield() }

    /// The statistics of the runs in progress, by statement id.
    func runStatistics() -> [String: RunStatistics] { executions.mapValues(\.control.statistics) }

    /// Whether the statement incarnation `uid` is running now.
    func isRunning(id: String, uid: String) -> Bool { executions[id]?.uid == uid }

    /// After an environment or compute pool was deleted with its statements: stops their runs, drops the
    /// environment's catalog and removes the result logs no statement owns any more.
    func afterCascadingDelete(environmentID: String?) async {
        await reconcile()
        if let environmentID {
            do { try await backend.dropCatalog(environmentID: environmentID) } catch {
                logger.error(
                    "could not drop the catalog of a deleted environment",
                    metadata: ["environment": .string(environmentID), "error": .string("\(error)")])
            }
        }
        await pruneOrphanedResults()
    }

    /// Deletes result logs whose statement no longer exists and does not run (runs delete their own when they end).
    private func pruneOrphanedResults() async {
        do {
            let owned = Set(store.snapshot().statements.values.map(\.uid)).union(executions.values.map(\.uid))
            for uid in try await results.resultLogUIDs().subtracting(owned) {
                try await results.deleteResults(statementUID: uid)
            }
            for uid in backend.statementIDsWithState().subtracting(owned) { backend.discardState(statementID: uid) }
        } catch {
            logger.error("could not prune result logs", metadata: ["error": .string("\(error)")])
        }
    }

    func run() async {
        await pruneOrphanedResults()
        await resumeAfterRestart()
        await reconcile()
        // Reconcile on every wake-up (from the API, the pool provisioner and ended runs), and at least every half second.
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                self?.wake()
            }
        }
        // Delete ended statements past their retention: at start, then a few times per retention period (at least
        // every minute, at most every second).
        let sweepInterval = min(.seconds(60), max(.seconds(1), retention / 4))
        let sweeper = Task { [weak self] in
            while !Task.isCancelled {
                await self?.deleteExpiredStatements()
                try? await Task.sleep(for: sweepInterval)
            }
        }
        for await _ in wakeups.cancelOnGracefulShutdown() {
            await reconcile()
        }
        ticker.cancel()
        sweeper.cancel()
        // Shutting down: stop the runs without touching their phases, so they continue after the restart.
        shuttingDown = true
        for execution in executions.values { execution.control.end(.detach) }
        let running = executions.values.map(\.task)
        running.forEach { $0.cancel() }
        for task in running { await task.value }
    }

    // MARK: Retention

    /// As on Confluent Cloud, statements that ended are deleted after 30 days.
    static let defaultRetention: Duration = .seconds(30 * 86_400)

    /// Whether `statement` ended before `cutoff` and stays ended (a STOPPED statement being resumed does not).
    static func isExpired(_ statement: Statement, before cutoff: Date) -> Bool {
        statement.phase.isTerminal && !(statement.phase == .stopped && !statement.stopped) && (statement.endTime ?? statement.updatedAt) < cutoff
    }

    /// Deletes the statements that ended more than ``retention`` ago, with their results and checkpoints.
    func deleteExpiredStatements() async {
        let now = now()
        let cutoff = now.addingTimeInterval(-Double(retention.components.seconds) - Double(retention.components.attoseconds) / 1e18)
        let expired = store.snapshot().statements.values.filter { statement in
            Self.isExpired(statement, before: cutoff) && executions[statement.id] == nil
        }
        for statement in expired {
            let id = statement.id
            let uid = statement.uid
            do {
                let deleted = try await store.mutate { state -> Bool in
                    guard let current = state.statements[id], current.uid == uid, Self.isExpired(current, before: cutoff) else { return false }
                    _ = try state.deleteStatement(id: id, now: now)
                    return true
                }
                guard deleted else { continue }
                try await results.deleteResults(statementUID: uid)
                backend.discardState(statementID: uid)
                signals.forget(uid)
                logger.info(
                    "statement deleted after its retention",
                    metadata: ["statement": .string(statement.name), "ended": .string(RFC3339.format(statement.endTime ?? statement.updatedAt))])
            } catch {
                logger.error("could not delete an expired statement", metadata: ["statement": .string(statement.name), "error": .string("\(error)")])
            }
        }
    }

    // MARK: Reconciliation

    /// Runs again the statements that were RUNNING when the server stopped (re-attached to their runs where the backend
    /// kept them going), and settles interrupted stops. A statement whose preparation the process did not survive is
    /// failed, not prepared again.
    private func resumeAfterRestart() async {
        let state = store.snapshot()
        marker.keep(only: Set(state.statements.values.map(\.uid)))
        for uid in marker.statementsToFail {
            if let statement = state.statements.values.first(where: { $0.uid == uid }) {
                logger.error("preparing a statement stopped the server twice; failing it", metadata: ["statement": .string(statement.name)])
                await drive(statement, .preparationCrashedTwice)
            }
            marker.end(uid)
        }
        for snapshotStatement in state.statements.values.sorted(by: { $0.sequence < $1.sequence }) {
            guard let statement = latest(snapshotStatement), statement.phase == .running || statement.phase == .stopping else { continue }
            var delivered: Int64 = 0
            if statement.phase == .running, !statement.stopped {
                do { delivered = try await results.resultCount(statementUID: statement.uid) } catch {
                    await transition(statement) {
                        StatementLifecycle.Change.failed(message: Self.message(of: error), exception: nil).apply(to: &$0, now: $1)
                    }
                    continue
                }
            }
            await drive(statement, .serverStarted(runsOutliveServer: backend.runsOutliveServer(regionID: statement.regionID)), skipping: delivered)
            if executions[statement.id]?.uid == statement.uid {
                logger.info(
                    "statement resumed after restart", metadata: ["statement": .string(statement.name), "delivered": .stringConvertible(delivered)])
            }
        }
    }

    /// Brings what runs in line with the stored statements: first settles stops, resumptions and ended runs, then
    /// starts what ``StartOrder`` lets start, judged on the state those left.
    private func reconcile() async {
        let state = store.snapshot()
        for (id, execution) in executions {
            guard let statement = state.statements[id], statement.uid == execution.uid else {
                // Deleted: end its run for good (`finished` removes its results).
                execution.control.end(.cancel)
                execution.task.cancel()
                continue
            }
        }
        // Only statements the lifecycle has something to do for: most are RUNNING or finished, and stay as they are.
        let actionable = state.statements.values.filter { statement in
            var lifecycle = StatementLifecycle(statement, run: runState(of: statement))
            return !lifecycle.handle(.reconcile).isEmpty
        }
        for snapshotStatement in actionable.sorted(by: { $0.sequence < $1.sequence }) {
            // Act on the latest stored value: a run may have finished while this loop awaited.
            guard let statement = latest(snapshotStatement) else { continue }
            await drive(statement, .reconcile)
        }
        await startWaitingStatements()
    }

    /// Starts the PENDING statements ``StartOrder`` lets start, fails those whose pool is gone and marks those waiting
    /// for a CFU POOL_EXHAUSTED. Once the head of a pool's queue started or failed, the next one may start: the
    /// lifecycle asks for another look (a DDL statement wakes the scheduler when it ends).
    private func startWaitingStatements() async {
        for (waiting, verdict) in StartOrder(store.snapshot()).queue where !starting.contains(waiting.id) {
            // Act on the latest stored value: a client may have stopped or deleted it while this loop awaited.
            guard let statement = latest(waiting), statement.phase == .pending, !statement.stopped else { continue }
            switch verdict {
            case .start:
                starting.insert(statement.id)
                await drive(statement, .startAllowed, run: StatementLifecycle.Run.none)
                starting.remove(statement.id)
            case .poolMissing:
                await drive(statement, .poolMissing(poolID: statement.computePoolID))
            case .poolExhausted(let maxCFU):
                await drive(statement, .poolExhausted(poolID: statement.computePoolID, maxCFU: maxCFU))
            case .poolProvisioning, .waiting:
                break
            }
        }
    }

    /// The stored statement incarnation `statement` names, as it is now; nil when it was deleted.
    private func latest(_ statement: Statement) -> Statement? {
        guard let current = store.snapshot().statements[statement.id], current.uid == statement.uid else { return nil }
        return current
    }

    /// What runs for `statement` in this process, as the lifecycle sees it.
    private func runState(of statement: Statement) -> StatementLifecycle.Run {
        guard let execution = executions[statement.id], execution.uid == statement.uid else {
            return starting.contains(statement.id) ? .preparing : .none
        }
        return execution.control.ending == .stop ? .stopping : .live
    }

    /// Hands `event` to the lifecycle of `statement` and carries out the actions it returns: stores the changes, has the
    /// backend prepare, launches, stops. `skipping` is how many result changes a run launched now must not deliver again.
    private func drive(_ statement: Statement, _ event: StatementLifecycle.Event, run: StatementLifecycle.Run? = nil, skipping: Int64 = 0) async {
        var lifecycle = StatementLifecycle(statement, run: run ?? runState(of: statement))
        var actions = lifecycle.handle(event)
        var current = statement
        var prepared: (any PreparedExecution)?
        while !actions.isEmpty {
            switch actions.removeFirst() {
            case .record(let change):
                // Deleted meanwhile: nothing more to record or run.
                guard let updated = await transition(current, { change.apply(to: &$0, now: $1) }) else { return }
                current = updated
            case .prepare:
                let event: StatementLifecycle.Event
                do {
                    let execution = try await prepare(current, in: store.snapshot())
                    prepared = execution
                    event = .prepared(execution.traits)
                } catch {
                    event = .preparationFailed(message: error.message, exception: error.exceptionName)
                }
                // Judge the outcome on the latest stored value: a client may have stopped or deleted it meanwhile.
                guard let now = latest(current) else { return }
                current = now
                lifecycle = StatementLifecycle(now, run: .preparing)
                actions += lifecycle.handle(event)
            case .launch:
                // Other work ran on this actor while the change was stored: launch only if the statement is still wanted
                // (a later stop reaches the run through the next reconciliation).
                guard let prepared, !current.stopped, executions[current.id] == nil else {
                    wake()
                    continue
                }
                launch(current, prepared: prepared, skipping: skipping)
            case .stopRun:
                if let execution = executions[current.id], execution.uid == current.uid {
                    execution.control.end(.stop)
                    execution.task.cancel()
                }
            case .stopDetachedRun:
                do {
                    try await backend.stopDetachedRun(statementID: current.uid, regionID: current.regionID)
                } catch {
                    logger.error(
                        "could not stop a statement's run left going across a restart",
                        metadata: ["statement": .string(current.name), "error": .string(error.message)])
                }
            case .wake:
                wake()
            }
        }
    }

    /// Prepares `statement` on the backend, marked as under preparation until the backend answers.
    private func prepare(_ statement: Statement, in state: ControlPlaneState) async throws(ExecutionFailure) -> any PreparedExecution {
        if preparing { await withCheckedContinuation { waitingToPrepare.append($0) } }
        preparing = true
        marker.begin(statement.uid)
        defer {
            marker.end(statement.uid)
            if waitingToPrepare.isEmpty { preparing = false } else { waitingToPrepare.removeFirst().resume() }
        }
        return try await backend.prepare(statement.sql, in: context(for: statement, in: state))
    }

    /// The catalogs and properties a statement runs with.
    private nonisolated func context(for statement: Statement, in state: ControlPlaneState) -> ExecutionContext {
        ExecutionContext(statement: statement, in: state, statementID: statement.uid)
    }

    // MARK: Runs

    private func launch(_ statement: Statement, prepared: any PreparedExecution, skipping delivered: Int64) {
        let sink = StatementResultSink(
            results: results, statementID: statement.id, statementUID: statement.uid, firstPosition: delivered, signals: signals)
        let id = statement.id
        let uid = statement.uid
        let control = RunControl()
        let task = Task {
            let outcome: StatementLifecycle.Outcome
            do {
                try await prepared.run(deliveringTo: sink, skippingFirst: Int(delivered), control: control)
                outcome = .finished
            } catch let failure as ExecutionFailure {
                outcome =
                    Task.isCancelled && !failure.failedToStop ? .cancelled : .failed(message: failure.message, exception: failure.exceptionName)
            } catch {
                outcome = Task.isCancelled || error is CancellationError ? .cancelled : .failed(message: Self.message(of: error), exception: nil)
            }
            // Settle the outcome outside this (possibly cancelled) task: a cancelled task's store writes would be
            // refused, and a stop or a deletion would never be recorded.
            await Task { await self.finished(id: id, uid: uid, outcome: outcome) }.value
        }
        executions[id] = Execution(uid: uid, task: task, control: control)
    }

    private func finished(id: String, uid: String, outcome: StatementLifecycle.Outcome) async {
        var run = StatementLifecycle.Run.live
        if let execution = executions[id], execution.uid == uid {
            if execution.control.ending == .stop { run = .stopping }
            executions[id] = nil
        }
        guard !shuttingDown else { return }
        if let statement = store.snapshot().statements[id], statement.uid == uid {
            await drive(statement, .runEnded(outcome), run: run)
        } else {
            // The statement was deleted while it ran: its result log and checkpoints go with it.
            backend.discardState(statementID: uid)
            do { try await results.deleteResults(statementUID: uid) } catch {
                logger.error("could not delete the results of a deleted statement", metadata: ["uid": .string(uid), "error": .string("\(error)")])
            }
        }
        signals.notify(uid)
        wake()
    }

    // MARK: Transitions

    @discardableResult
    private func transition(_ statement: Statement, _ change: @escaping @Sendable (inout Statement, Date) -> Void) async -> Statement? {
        await transition(id: statement.id, uid: statement.uid, change)
    }

    @discardableResult
    private func transition(id: String, uid: String, _ change: @escaping @Sendable (inout Statement, Date) -> Void) async -> Statement? {
        let now = now()
        do {
            let updated = try await store.mutate { state in
                state.transitionStatement(id: id, uid: uid, now: now) { change(&$0, now) }
            }
            if let updated {
                logger.debug("statement phase", metadata: ["statement": .string(updated.name), "phase": .string(updated.phase.rawValue)])
            }
            signals.notify(uid)
            return updated
        } catch {
            logger.error("could not persist a statement transition", metadata: ["statement": .string(id), "error": .string("\(error)")])
            return nil
        }
    }

    static func message(of error: any Error) -> String {
        if let failure = error as? ExecutionFailure { return failure.message }
        return String(describing: error)
    }

    static func exceptionName(of error: any Error) -> String? { (error as? ExecutionFailure)?.exceptionName }
}

/// Appends a running statement's result changes to its durable result log and wakes long-polling readers.
final class StatementResultSink: ResultSink {
    let results: any StatementResultStore
    let statementID: String
    let statementUID: String
    let signals: ResultSignals
    private let nextPosition: Mutex<Int64>

    init(results: any StatementResultStore, statementID: String, statementUID: String, firstPosition: Int64, signals: ResultSignals) {
        self.results = results
        self.statementID = statementID
        self.statementUID = statementUID
        self.signals = signals
        self.nextPosition = Mutex(firstPosition)
    }

    func deliver(_ records: [ResultRecord]) async throws {
        guard !records.isEmpty else { return }
        let first = nextPosition.withLock { position -> Int64 in
            defer { position += Int64(records.count) }
            return position
        }
        let stored = records.enumerated().map { offset, record in
            StoredResultChange(position: first + Int64(offset), op: record.op, row: Data(record.row.serialized()))
        }
        try await results.appendResults(statementID: statementID, statementUID: statementUID, stored)
        signals.notify(statementUID)
    }
}
