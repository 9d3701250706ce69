// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Synchronization

/// Wakes results readers that long-poll a statement when it gains rows or changes phase.
///
/// A reader registers, re-reads, and waits at most a short time; `notify` resumes every reader of the statement.
/// Waiting is cancellation-safe: a cancelled or timed-out waiter is removed and resumed exactly once.
final class ResultSignals: Sendable {
    private struct State {
        var nextID = 0
        var waiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    /// Resumes everyone waiting on `statementUID`.
    func notify(_ statementUID: String) {
        let continuations = state.withLock { $0.waiters.removeValue(forKey: statementUID) }
        continuations?.values.forEach { $0.resume() }
    }

    /// Returns when `statementUID` is notified or after `timeout`, whichever comes first.
    func wait(for statementUID: String, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForNotification(statementUID) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForNotification(_ statementUID: String) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { state -> Bool in
                    if Task.isCancelled { return false }
                    state.waiters[statementUID, default: [:]][id] = continuation
                    return true
                }
                if !registered { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                let removed = state.waiters[statementUID]?.removeValue(forKey: id)
                if state.waiters[statementUID]?.isEmpty == true { state.waiters[statementUID] = nil }
                return removed
            }
            continuation?.resume()
        }
    }
}
