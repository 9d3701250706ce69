// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The phase rules of a statement, as a value: a state and an event give the next state and the actions that carry it
/// out (in the style of async-http-client's state machines).
///
/// The scheduler owns the effects (the store, the backends, the tasks) and this type owns the decisions, so that the
/// embedded engine and a Flink cluster move statements through the same, separately tested table:
///
///     PENDING ──start──▶ (preparing) ──prepared──▶ RUNNING ──run ended──▶ COMPLETED
///        │ stopped          │ failed                 │ └──run failed──▶ FAILED
///        ▼                  ▼                        │ stopped
///     STOPPED            FAILED                      ▼
///        ▲                                        STOPPING ──run ended──▶ STOPPED ──resumed──▶ PENDING
///        └───────────────────────────────────────────┘
///
/// The state is what the store says (phase, `spec.stopped`, whether the pool-exhausted warning is shown) and what the
/// scheduler holds in this process (``Run``): the scheduler builds it afresh from both before each event, so that
/// nothing here can drift from the stored statement.
public struct StatementLifecycle: Sendable, Equatable {
    /// The stored phase.
    public private(set) var phase: StatementPhase
    /// `spec.stopped`: the client wants the statement stopped.
    public private(set) var stopWanted: Bool
    /// Whether the statement shows the pool-exhausted warning (`scaling_status.scaling_state` POOL_EXHAUSTED).
    public private(set) var waitsForCapacity: Bool
    /// What runs for the statement in this process.
    public private(set) var run: Run

    /// A statement's run, as the scheduler sees it.
    public enum Run: Sendable, Equatable {
        /// Nothing runs (or the run ended and its end was recorded).
        case none
        /// The backend is preparing the statement.
        case preparing
        /// The run is live.
        case live
        /// The run was asked to stop (stop with a savepoint, or a cancel) and has not ended yet.
        case stopping
    }

    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        /// The statement's input ended (a bounded statement), or a stop drained it.
        case finished
        /// The run failed: `detail` and the exceptions list get the message.
        case failed(message: String, exception: String?)
        /// The run was cancelled or stopped by the scheduler (a stop, a deletion, a shutdown).
        case cancelled
    }

    /// What happened to the statement.
    public enum Event: Sendable, Equatable {
        /// The scheduler looked at the statement again (after a client changed `spec.stopped`, or on its tick).
        case reconcile
        /// The start order lets the statement start now (its pool has a free CFU and the DDL before it ended).
        case startAllowed
        /// The statement's compute pool no longer exists.
        case poolMissing(poolID: String)
        /// The pool has no free CFU: the statement waits.
        case poolExhausted(poolID: String, maxCFU: Int)
        /// The backend prepared the statement.
        case prepared(StatementTraitsRecord)
        /// The backend refused the statement.
        case preparationFailed(message: String, exception: String?)
        /// The run ended.
        case runEnded(Outcome)
        /// The server started, and found the statement stored in this state. `runsOutliveServer` says whether the
        /// statement's backend keeps runs going while the server is down (a Flink cluster does; the embedded engine's
        /// runs end with the process and resume from their checkpoints).
        case serverStarted(runsOutliveServer: Bool)
        /// The server stopped twice while preparing this statement: it is not prepared a third time.
        case preparationCrashedTwice
    }

    /// A change to the stored statement.
    public enum Change: Sendable, Equatable {
        /// Now RUNNING, with the analysis of its SQL; detail, warnings and the end time are cleared.
        case running(StatementTraitsRecord)
        case completed
        case stopping
        case stopped
        case failed(message: String, exception: String?)
        /// Resumed: back to PENDING, detail and end time cleared.
        case resumed
        /// Waits for a CFU of its pool: POOL_EXHAUSTED with a warning that says so.
        case waitsForCapacity(poolID: String, maxCFU: Int)
    }

    /// What the scheduler does, in order.
    public enum Action: Sendable, Equatable {
        /// Store a change of the statement (bumps `resource_version`).
        case record(Change)
        /// Ask the backend to prepare the statement (then send ``Event/prepared(_:)`` or
        /// ``Event/preparationFailed(message:exception:)``).
        case prepare
        /// Start the prepared run: a new one, or, where the backend kept one going (a Flink job after a restart of the
        /// server), the same one again. Send ``Event/runEnded(_:)`` when it ends.
        case launch
        /// Stop the live run so that it can be resumed: a stop with a savepoint on Flink, a cancel that keeps the last
        /// checkpoint in the embedded engine.
        case stopRun
        /// Stop a run the backend kept going while the server was down and nothing in this process drives (a stop
        /// asked before the restart): its job is stopped with a savepoint, or there is nothing to do.
        case stopDetachedRun
        /// Look again soon: what this event settled may let other statements start.
        case wake
    }

    public init(phase: StatementPhase, stopWanted: Bool, waitsForCapacity: Bool = false, run: Run = .none) {
        self.phase = phase
        self.stopWanted = stopWanted
        self.waitsForCapacity = waitsForCapacity
        self.run = run
    }

    /// The state of a stored statement, with what runs for it in this process.
    public init(_ statement: Statement, run: Run) {
        self.init(phase: statement.phase, stopWanted: statement.stopped, waitsForCapacity: statement.scalingState == "POOL_EXHAUSTED", run: run)
    }

    /// Takes `event` and returns what to do; `self` becomes the state after those actions are carried out.
    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .reconcile: return reconcile()
        case .startAllowed:
            guard phase == .pending, !stopWanted, run == .none else { return [] }
            run = .preparing
            return [.prepare]
        case .poolMissing(let poolID):
            guard phase == .pending, run == .none else { return [] }
            return fail("The compute pool \(poolID) no longer exists.", exception: nil) + [.wake]
        case .poolExhausted(let poolID, let maxCFU):
            guard phase == .pending, !waitsForCapacity else { return [] }
            waitsForCapacity = true
            return [.record(.waitsForCapacity(poolID: poolID, maxCFU: maxCFU))]
        case .prepared(let traits):
            guard run == .preparing else { return [] }
            switch (phase, stopWanted) {
            case (.pending, false):
                phase = .running
                waitsForCapacity = false
                run = .live
                return [.record(.running(traits)), .launch, .wake]
            case (.running, false):
                // Prepared again after a restart: it runs on, with the traits it has.
                run = .live
                return [.launch]
            default:
                // Stopped while it was being prepared: it does not start.
                run = .none
                return reconcile() + [.wake]
            }
        case .preparationFailed(let message, let exception):
            guard run == .preparing else { return [] }
            run = .none
            guard phase == .pending || phase == .running else { return [.wake] }
            return fail(message, exception: exception) + [.wake]
        case .runEnded(let outcome):
            return runEnded(outcome)
        case .serverStarted(let runsOutliveServer):
            return serverStarted(runsOutliveServer: runsOutliveServer)
        case .preparationCrashedTwice:
            guard !phase.isTerminal else { return [] }
            return fail(
                "The server stopped while preparing this statement, twice, so it was not prepared again. Please report it, with the statement.",
                exception: nil)
        }
    }

    /// Settles what the client asked with `spec.stopped`: a stop of what is pending or runs, a resumption of what stopped.
    private mutating func reconcile() -> [Action] {
        switch (phase, stopWanted, run) {
        case (.pending, true, .none), (.completed, true, .none):
            phase = .stopped
            return [.record(.stopped), .wake]
        case (.running, true, .live):
            phase = .stopping
            run = .stopping
            return [.record(.stopping), .stopRun]
        case (.stopping, _, .live):
            // A stop interrupted by a restart, found running again: finish it.
            run = .stopping
            return [.stopRun]
        case (.running, true, .none), (.stopping, _, .none):
            phase = .stopped
            return [.record(.stopped), .wake]
        case (.stopped, false, .none):
            phase = .pending
            waitsForCapacity = false
            return [.record(.resumed), .wake]
        default:
            return []
        }
    }

    private mutating func runEnded(_ outcome: Outcome) -> [Action] {
        guard run == .live || run == .stopping else { return [] }
        run = .none
        switch outcome {
        case .failed(let message, let exception):
            return fail(message, exception: exception) + [.wake]
        case .finished where phase == .running && !stopWanted:
            phase = .completed
            return [.record(.completed), .wake]
        case .finished, .cancelled:
            guard stopWanted, phase == .running || phase == .stopping else { return [.wake] }
            phase = .stopped
            return [.record(.stopped), .wake]
        }
    }

    private mutating func serverStarted(runsOutliveServer: Bool) -> [Action] {
        switch (phase, stopWanted) {
        case (.running, false):
            // Runs again: from its checkpoints in the embedded engine, re-attached to its job on Flink.
            run = .preparing
            return [.prepare]
        case (.running, true), (.stopping, _):
            // A stop the server did not see through. On Flink the job may still run: stop it with a savepoint first.
            phase = .stopped
            return (runsOutliveServer ? [.stopDetachedRun] : []) + [.record(.stopped)]
        default:
            return []
        }
    }

    private mutating func fail(_ message: String, exception: String?) -> [Action] {
        phase = .failed
        waitsForCapacity = false
        return [.record(.failed(message: message, exception: exception))]
    }
}

extension StatementLifecycle.Change {
    /// Applies the change to the stored statement at `now`.
    public func apply(to statement: inout Statement, now: Date) {
        switch self {
        case .running(let traits):
            statement.phase = .running
            statement.traits = traits
            statement.detail = ""
            statement.startedAt = now
            statement.endTime = nil
            statement.warnings = []
            statement.scalingState = "OK"
            statement.scalingUpdatedAt = now
        case .completed:
            statement.phase = .completed
            statement.endTime = now
        case .stopping:
            statement.phase = .stopping
        case .stopped:
            statement.phase = .stopped
            statement.endTime = now
        case .failed(let message, let exception):
            statement.fail(message, exception: exception, now: now)
        case .resumed:
            statement.phase = .pending
            statement.detail = ""
            statement.endTime = nil
            statement.scalingUpdatedAt = now
        case .waitsForCapacity(let poolID, let maxCFU):
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
    }
}
