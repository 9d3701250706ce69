// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

/// The statement phase table, event by event, for both kinds of backend.
@Suite struct StatementLifecycleTests {
    typealias L = StatementLifecycle
    static let traits = StatementTraitsRecord(sqlKind: "INSERT_INTO", isBounded: false, isAppendOnly: true, upsertColumns: nil, schemaJSON: nil)

    /// Handles `event` on a copy of `state`; returns the actions and the state after them.
    func step(_ state: L, _ event: L.Event) -> ([L.Action], L) {
        var copy = state
        let actions = copy.handle(event)
        return (actions, copy)
    }

    @Test func aStatementStartsRunsAndCompletes() {
        var lifecycle = L(phase: .pending, stopWanted: false)
        #expect(lifecycle.handle(.startAllowed) == [.prepare])
        #expect(lifecycle.run == .preparing)
        #expect(lifecycle.handle(.prepared(Self.traits)) == [.record(.running(Self.traits)), .launch, .wake])
        #expect(lifecycle.phase == .running && lifecycle.run == .live)
        #expect(lifecycle.handle(.runEnded(.finished)) == [.record(.completed), .wake])
        #expect(lifecycle.phase == .completed && lifecycle.run == .none)
    }

    @Test func aStatementThatDoesNotPrepareFails() {
        var lifecycle = L(phase: .pending, stopWanted: false)
        _ = lifecycle.handle(.startAllowed)
        #expect(lifecycle.handle(.preparationFailed(message: "no", exception: "X")) == [.record(.failed(message: "no", exception: "X")), .wake])
        #expect(lifecycle.phase == .failed && lifecycle.run == .none)
    }

    @Test func aFailingRunFailsTheStatementWhateverItWasDoing() {
        for state in [L(phase: .running, stopWanted: false, run: .live), L(phase: .stopping, stopWanted: true, run: .stopping)] {
            let (actions, after) = step(state, .runEnded(.failed(message: "boom", exception: nil)))
            #expect(actions == [.record(.failed(message: "boom", exception: nil)), .wake])
            #expect(after.phase == .failed)
        }
    }

    @Test func aStopGoesThroughStoppingWhileTheRunEnds() {
        var lifecycle = L(phase: .running, stopWanted: true, run: .live)
        #expect(lifecycle.handle(.reconcile) == [.record(.stopping), .stopRun])
        #expect(lifecycle.phase == .stopping && lifecycle.run == .stopping)
        // Looking again while the run winds down does nothing more.
        #expect(lifecycle.handle(.reconcile) == [])
        // The embedded engine's run ends cancelled; a Flink job stopped with a savepoint ends finished: both STOPPED.
        for outcome in [L.Outcome.cancelled, .finished] {
            let (actions, after) = step(lifecycle, .runEnded(outcome))
            #expect(actions == [.record(.stopped), .wake])
            #expect(after.phase == .stopped && after.run == .none)
        }
    }

    @Test func stopsOfWhatDoesNotRunAreImmediate() {
        for phase in [StatementPhase.pending, .completed, .running, .stopping] {
            let (actions, after) = step(L(phase: phase, stopWanted: true), .reconcile)
            #expect(actions == [.record(.stopped), .wake], "\(phase)")
            #expect(after.phase == .stopped)
        }
        // What ended otherwise stays as it is.
        for phase in [StatementPhase.failed, .stopped] {
            #expect(step(L(phase: phase, stopWanted: true), .reconcile).0 == [])
        }
    }

    @Test func aResumedStatementIsPendingAgainAndStartsLikeANewOne() {
        var lifecycle = L(phase: .stopped, stopWanted: false)
        #expect(lifecycle.handle(.reconcile) == [.record(.resumed), .wake])
        #expect(lifecycle.phase == .pending)
        #expect(lifecycle.handle(.startAllowed) == [.prepare])
    }

    @Test func aStatementStoppedWhilePreparedDoesNotStart() {
        let (actions, after) = step(L(phase: .pending, stopWanted: true, run: .preparing), .prepared(Self.traits))
        #expect(actions == [.record(.stopped), .wake, .wake])
        #expect(after.phase == .stopped && after.run == .none)
        #expect(!actions.contains(.launch))
    }

    @Test func onlyPendingStatementsStartAndOnlyOnce() {
        for phase in StatementPhase.allCases where phase != .pending {
            #expect(step(L(phase: phase, stopWanted: false), .startAllowed).0 == [], "\(phase)")
        }
        #expect(step(L(phase: .pending, stopWanted: true), .startAllowed).0 == [])
        #expect(step(L(phase: .pending, stopWanted: false, run: .preparing), .startAllowed).0 == [])
        // A late answer to a preparation nobody waits for changes nothing.
        #expect(step(L(phase: .running, stopWanted: false, run: .live), .prepared(Self.traits)).0 == [])
        #expect(step(L(phase: .completed, stopWanted: false), .preparationFailed(message: "x", exception: nil)).0 == [])
    }

    @Test func poolsThatAreFullOrGoneKeepOrFailWaitingStatements() {
        var lifecycle = L(phase: .pending, stopWanted: false)
        #expect(lifecycle.handle(.poolExhausted(poolID: "lfcp-1", maxCFU: 5)) == [.record(.waitsForCapacity(poolID: "lfcp-1", maxCFU: 5))])
        // The warning is recorded once.
        #expect(lifecycle.handle(.poolExhausted(poolID: "lfcp-1", maxCFU: 5)) == [])
        #expect(
            lifecycle.handle(.poolMissing(poolID: "lfcp-1")) == [
                .record(.failed(message: "The compute pool lfcp-1 no longer exists.", exception: nil)), .wake,
            ])
        #expect(lifecycle.phase == .failed)
    }

    @Test func aRestartRunsRunningStatementsAgainOnBothKindsOfBackend() {
        for outlives in [false, true] {
            var lifecycle = L(phase: .running, stopWanted: false)
            #expect(lifecycle.handle(.serverStarted(runsOutliveServer: outlives)) == [.prepare])
            // Prepared again: launched (re-attached where the run outlived the server), nothing recorded.
            #expect(lifecycle.handle(.prepared(Self.traits)) == [.launch])
            #expect(lifecycle.phase == .running && lifecycle.run == .live)
        }
        // If it no longer prepares, it fails.
        var lifecycle = L(phase: .running, stopWanted: false)
        _ = lifecycle.handle(.serverStarted(runsOutliveServer: false))
        #expect(lifecycle.handle(.preparationFailed(message: "gone", exception: nil)) == [.record(.failed(message: "gone", exception: nil)), .wake])
    }

    @Test func aRestartFinishesInterruptedStopsAndStopsRunsThatOutlivedTheServer() {
        for phase in [StatementPhase.stopping, .running] {
            #expect(step(L(phase: phase, stopWanted: true), .serverStarted(runsOutliveServer: false)).0 == [.record(.stopped)])
            let (actions, after) = step(L(phase: phase, stopWanted: true), .serverStarted(runsOutliveServer: true))
            #expect(actions == [.stopDetachedRun, .record(.stopped)])
            #expect(after.phase == .stopped)
        }
        for phase in [StatementPhase.pending, .completed, .failed, .stopped] {
            #expect(step(L(phase: phase, stopWanted: false), .serverStarted(runsOutliveServer: true)).0 == [], "\(phase)")
        }
    }

    @Test func aCrashDuringPreparationTwiceFailsTheStatement() {
        let (actions, after) = step(L(phase: .pending, stopWanted: false), .preparationCrashedTwice)
        #expect(after.phase == .failed)
        guard case .record(.failed(let message, _))? = actions.first else {
            Issue.record("expected a failure, got \(actions)")
            return
        }
        #expect(message.contains("twice"))
        #expect(step(L(phase: .completed, stopWanted: false), .preparationCrashedTwice).0 == [])
    }

    @Test func runEndsThatNobodyWaitsForAreIgnored() {
        #expect(step(L(phase: .running, stopWanted: false, run: .none), .runEnded(.finished)).0 == [])
        // A cancelled run of a statement nobody stopped (a shutdown) records nothing.
        #expect(step(L(phase: .running, stopWanted: false, run: .live), .runEnded(.cancelled)).0 == [.wake])
    }

    @Test func changesApplyToTheStoredStatement() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var statement = Statement(
            name: "s", organizationID: "o", environmentID: "env-1", uid: "u", sequence: 1, createdAt: now.addingTimeInterval(-60), labels: [:],
            sql: "SELECT 1", properties: [:], computePoolID: "lfcp-1", regionID: "aws.us-east-1", principal: "u-1", creatorID: "u-1")
        L.Change.waitsForCapacity(poolID: "lfcp-1", maxCFU: 2).apply(to: &statement, now: now)
        #expect(statement.scalingState == "POOL_EXHAUSTED" && statement.warnings.count == 1)
        L.Change.running(Self.traits).apply(to: &statement, now: now)
        #expect(statement.phase == .running && statement.traits == Self.traits && statement.warnings.isEmpty && statement.startedAt == now)
        #expect(statement.scalingState == "OK")
        L.Change.failed(message: "boom", exception: "E").apply(to: &statement, now: now)
        #expect(statement.phase == .failed && statement.detail == "boom" && statement.exceptions.first?.name == "E" && statement.endTime == now)
        L.Change.resumed.apply(to: &statement, now: now)
        #expect(statement.phase == .pending && statement.detail.isEmpty && statement.endTime == nil)
        L.Change.stopped.apply(to: &statement, now: now)
        #expect(statement.phase == .stopped && statement.endTime == now)
    }
}
