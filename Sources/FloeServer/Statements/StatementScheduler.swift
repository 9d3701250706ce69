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
/// stored statements with what runs, and persists every phase transition (each bumps `resource_version`):
///
///     PENDING ──start──▶ RUNNING ──end of input──▶ COMPLETED
///        │                  │ └──error──▶ FAILED
///        │ stopped          │ stopped
///        ▼                  ▼
///     STOPPED ◀──────── STOPPING          STOPPED ──resumed──▶ PENDING
///
/// A running statement holds one CFU of its compute pool; when the pool's `max_cfu` is reached, new statements wait
/// in PENDING with `scaling_status.scaling_state = POOL_EXHAUSTED` and a warning, and start when capacity frees.
/// The statements of a pool start in creation order, each after the DDL before it ended (``StartOrder``), so that a
/// client may send a CREATE TABLE and an INSERT into the table back to back.
/// After a restart, RUNNING statements run again: INSERTs (and CREATE TABLE AS, statement sets) from their last
/// checkpoint, queries from the start of their inputs without re-delivering the result changes already stored. A
/// resumed statement keeps its uid, and so its checkpoints: it continues where it stopped.
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
    }

    /// How a run ended.
    enum Outcome: Sendable {
        case completed
        case failed(String, exception: String?)
        case cancelled
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

    /// Restarts the statements that were RUNNING when the server stopped, and settles interrupted stops. A statement
    /// whose preparation the process did not survive is failed, not prepared again.
    private func resumeAfterRestart() async {
        let state = store.snapshot()
        marker.keep(only: Set(state.statements.values.map(\.uid)))
        for uid in marker.statementsToFail {
            if let statement = state.statements.values.first(where: { $0.uid == uid }) {
                logger.error("preparing a statement stopped the server twice; failing it", metadata: ["statement": .string(statement.name)])
                await transition(statement) {
                    $0.fail(
                        "The server stopped while preparing this statement, twice, so it was not prepared again. Please report it, with the statement.",
                        now: $1)
                }
            }
            marker.end(uid)
        }
        for statement in store.snapshot().statements.values.sorted(by: { $0.sequence < $1.sequence }) {
            switch statement.phase {
            case .running where !statement.stopped:
                do {
                    let delivered = try await results.resultCount(statementUID: statement.uid)
                    let prepared = try await prepare(statement, in: state)
                    launch(statement, prepared: prepared, skipping: delivered)
                    logger.info(
                        "statement resumed after restart",
                        metadata: ["statement": .string(statement.name), "delivered": .stringConvertible(delivered)])
                } catch {
                    await transition(statement) { $0.fail(Self.message(of: error), exception: Self.exceptionName(of: error), now: $1) }
                }
            case .running, .stopping:
                await transition(statement) { statement, now in
                    statement.phase = .stopped
                    statement.endTime = now
                }
            default:
                break
            }
        }
    }

    /// Brings what runs in line with the stored statements: first settles stops, resumptions and ended runs, then
    /// starts what ``StartOrder`` lets start, judged on the state those left.
    private func reconcile() async {
        let state = store.snapshot()
        for (id, execution) in executions {
            guard let statement = state.statements[id], statement.uid == execution.uid else {
                execution.task.cancel()  // deleted: `finished` removes its results
                continue
            }
            if statement.stopped { execution.task.cancel() }
        }
        // Only statements with something to do: most are RUNNING or finished, and stay as they are.
        let actionable = state.statements.values.filter { statement in
            switch (statement.phase, statement.stopped) {
            case (.pending, true), (.stopping, _), (.running, true), (.completed, true), (.stopped, false): return true
            default: return false
            }
        }
        for snapshotStatement in actionable.sorted(by: { $0.sequence < $1.sequence }) {
            // Act on the latest stored value: a run may have finished while this loop awaited.
            guard let statement = store.snapshot().statements[snapshotStatement.id], statement.uid == snapshotStatement.uid else { continue }
            switch (statement.phase, statement.stopped) {
            case (.pending, true), (.completed, true):
                await transition(statement) { statement, now in
                    statement.phase = .stopped
                    statement.endTime = now
                }
            case (.running, true):
                await transition(statement) { statement, _ in statement.phase = .stopping }
            case (.stopping, _) where executions[statement.id] == nil:
                await transition(statement) { statement, now in
                    statement.phase = .stopped
                    statement.endTime = now
                }
            case (.stopped, false):
                await transition(statement) { statement, now in
                    statement.phase = .pending
                    statement.detail = ""
                    statement.endTime = nil
                    statement.scalingUpdatedAt = now
                }
            default:
                break
            }
        }
        await startWaitingStatements()
    }

    /// Starts the PENDING statements ``StartOrder`` lets start, fails those whose pool is gone and marks those waiting
    /// for a CFU POOL_EXHAUSTED. Once the head of a pool's queue started or failed, the next one may start: the
    /// scheduler wakes itself to judge it again (a DDL statement wakes it when it ends).
    private func startWaitingStatements() async {
        var advanced = false
        for (waiting, verdict) in StartOrder(store.snapshot()).queue where !starting.contains(waiting.id) {
            // Act on the latest stored value: a client may have stopped or deleted it while this loop awaited.
            guard let statement = store.snapshot().statements[waiting.id], statement.uid == waiting.uid, statement.phase == .pending,
                !statement.stopped
            else { continue }
            switch verdict {
            case .start:
                await start(statement)
                advanced = true
            case .poolMissing:
                await transition(statement) { $0.fail("The compute pool \(statement.computePoolID) no longer exists.", now: $1) }
                advanced = true
            case .poolExhausted(let maxCFU) where statement.scalingState != "POOL_EXHAUSTED":
                let poolID = statement.computePoolID
                await transition(statement) { statement, now in
                    statement.scalingState = "POOL_EXHAUSTED"
                    statement.scalingUpdatedAt = now
                    statement.warnings = [
                        StatementWarning(
                            severity: "MODERATE", reason: "POOL_EXHAUSTED",
                            message:
                                "Compute pool \(poolID) has reached its maximum of \(maxCFU) CFUs; the statement starts when a running statement of the pool ends or is stopped.",
                            createdAt: now)
                    ]
                }
            case .poolExhausted, .poolProvisioning, .waiting:
                break
            }
        }
        if advanced { wake() }
    }

    /// Prepares a PENDING statement ``StartOrder`` let start, records it RUNNING and launches its run (or records it
    /// FAILED when it does not prepare).
    private func start(_ statement: Statement) async {
        starting.insert(statement.id)
        defer { starting.remove(statement.id) }
        let prepared: any PreparedExecution
        do {
            prepared = try await prepare(statement, in: store.snapshot())
        } catch {
            await transition(statement) { $0.fail(Self.message(of: error), exception: Self.exceptionName(of: error), now: $1) }
            return
        }
        let traits = prepared.traits
        guard
            let running = await transition(
                statement,
                { statement, now in
                    statement.phase = .running
                    statement.traits = traits
                    statement.detail = ""
                    statement.startedAt = now
                    statement.endTime = nil
                    statement.warnings = []
                    statement.scalingState = "OK"
                    statement.scalingUpdatedAt = now
                }), running.phase == .running
        else { return }
        // Other work ran on this actor while the transition was stored: launch only if the statement is still there
        // and still wanted (a later deletion or stop reaches the run through the next reconciliation).
        guard let current = store.snapshot().statements[running.id], current.uid == running.uid, !current.stopped, executions[running.id] == nil
        else {
            wake()
            return
        }
        launch(running, prepared: prepared, skipping: 0)
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
        let task = Task {
            let outcome: Outcome
            do {
                try await prepared.run(deliveringTo: sink, skippingFirst: Int(delivered))
                outcome = .completed
            } catch let failure as ExecutionFailure {
                outcome = Task.isCancelled ? .cancelled : .failed(failure.message, exception: failure.exceptionName)
            } catch {
                outcome = Task.isCancelled || error is CancellationError ? .cancelled : .failed(Self.message(of: error), exception: nil)
            }
            // Settle the outcome outside this (possibly cancelled) task: a cancelled task's store writes would be
            // refused, and a stop or a deletion would never be recorded.
            await Task { await self.finished(id: id, uid: uid, outcome: outcome) }.value
        }
        executions[id] = Execution(uid: uid, task: task)
    }

    private func finished(id: String, uid: String, outcome: Outcome) async {
        if executions[id]?.uid == uid { executions[id] = nil }
        guard !shuttingDown else { return }
        let stillThere = await transition(id: id, uid: uid) { statement, now in
            switch outcome {
            case .completed where statement.phase == .running:
                statement.phase = .completed
                statement.endTime = now
            case .failed(let message, let exception):
                statement.fail(message, exception: exception, now: now)
            case .completed, .cancelled:
                if statement.stopped {
                    statement.phase = .stopped
                    statement.endTime = now
                }
            }
        }
        if stillThere == nil {
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
