// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import NIOHTTP1
import Testing

@testable import FloeServer

/// The connection lifecycle the guard enforces, event by event.
@Suite struct ConnectionGuardStateTests {
    func refusal(_ action: ConnectionGuardState.Action) -> Int? {
        if case .refuse(let error) = action { return error.status }
        return nil
    }

    @Test func theFirstHeadHasTheHeaderTimeoutAndIdleConnectionsAreLeftToTheIdleTimeout() {
        var state = ConnectionGuardState()
        #expect(state.connected(overCapacity: false) == .arm(.header))
        #expect(state.readHead(targetLength: 10) == .arm(.body))
        #expect(state.timerFired(.header) == .none, "the head came")
        #expect(state.readEnd() == .cancelTimer)
        state.wroteResponseHead()
        #expect(state.wroteResponseEnd() == .none)
        #expect(state.phase == .idle)
        // Between requests nothing is written: a pooled client must never read an answer it did not ask for.
        #expect(state.timerFired(.header) == .none)
        #expect(state.timerFired(.body) == .none)
        #expect(refusal(state.parserFailed(.invalidVersion)) == 400)
    }

    @Test func aSlowHeadOrBodyIsAnswered408() {
        var slowHead = ConnectionGuardState()
        _ = slowHead.connected(overCapacity: false)
        #expect(refusal(slowHead.timerFired(.header)) == 408)
        #expect(slowHead.readHead(targetLength: 1) == .drop)

        var slowBody = ConnectionGuardState()
        _ = slowBody.connected(overCapacity: false)
        _ = slowBody.readHead(targetLength: 1)
        #expect(slowBody.readBody() == .forward)
        #expect(refusal(slowBody.timerFired(.body)) == 408)

        // Once the answer has begun, the connection is only closed.
        var answering = ConnectionGuardState()
        _ = answering.connected(overCapacity: false)
        _ = answering.readHead(targetLength: 1)
        answering.wroteResponseHead()
        #expect(answering.timerFired(.body) == .close)
    }

    @Test func overCapacityIsRefused503() {
        var state = ConnectionGuardState()
        #expect(state.connected(overCapacity: true) == .arm(.refusal))
        #expect(refusal(state.readHead(targetLength: 1)) == 503)
        var silent = ConnectionGuardState()
        _ = silent.connected(overCapacity: true)
        #expect(refusal(silent.timerFired(.refusal)) == 503)
    }

    @Test func longTargetsAre414UnlessAnAnswerIsGoingOut() {
        var state = ConnectionGuardState()
        _ = state.connected(overCapacity: false)
        #expect(refusal(state.readHead(targetLength: ConnectionLimits.maximumTargetLength + 1)) == 414)
        var pipelined = ConnectionGuardState()
        _ = pipelined.connected(overCapacity: false)
        _ = pipelined.readHead(targetLength: 1)
        _ = pipelined.readEnd()
        #expect(pipelined.readHead(targetLength: ConnectionLimits.maximumTargetLength + 1) == .arm(.body), "the server answers it in order")
        #expect(pipelined.parserFailed(.invalidVersion) == .forward)
    }

    /// Answered before its body arrived (a 413), a request's body is read and dropped, then the connection closes if
    /// it asked to, or goes on.
    @Test func aBodyAnsweredEarlyIsDrainedBeforeClosing() {
        var state = ConnectionGuardState()
        _ = state.connected(overCapacity: false)
        _ = state.readHead(targetLength: 1, closeRequested: true)
        #expect(state.readBody() == .forward)
        state.wroteResponseHead()
        #expect(state.wroteResponseEnd() == .arm(.linger))
        #expect(state.readBody() == .dropAndRead)
        #expect(state.readEnd() == .forwardAndClose)

        var keepAlive = ConnectionGuardState()
        _ = keepAlive.connected(overCapacity: false)
        _ = keepAlive.readHead(targetLength: 1)
        _ = keepAlive.wroteResponseEnd()
        #expect(keepAlive.readEnd() == .cancelTimer)
        #expect(keepAlive.phase == .idle)

        var never = ConnectionGuardState()
        _ = never.connected(overCapacity: false)
        _ = never.readHead(targetLength: 1)
        _ = never.wroteResponseEnd()
        #expect(never.timerFired(.linger) == .close)
    }
}
