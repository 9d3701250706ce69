// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Synchronization

/// Wakes results readers that long-poll a statement when it gains rows or changes phase.
///
/// Each statement has a generation that every `notify` advances. A reader notes the generation *before* it reads, and
/// waits only if the generation is still the one it noted, so a notification that lands between its read and its wait
/// is never lost. Waiting is cancellation-safe: a cancelled or timed-out waiter is removed and resumed exactly once.
final class ResultSignals: Sendable {
    private struct State {
        var nextID = 0
        var generations: [String: UInt64] = [:]
        var waiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    /// The current generation of `statementUID` (note it before reading).
    func generation(of statementUID: String) -> UInt64 {
        state.withLock { $0.generations[statementUID] ?? 0 }
    }

    /// Advances the generation of `statementUID` and resumes everyone waiting on it.
    func notify(_ statementUID: String) {
        let continuations = state.withLock { state in
            state.generations[statementUID, default: 0] &+= 1
            return state.waiters.removeValue(forKey: statementUID)
        }
        continuations?.values.forEach { $0.resume() }
    }

    /// Forgets a deleted statement (after waking its readers).
    func forget(_ statementUID: String) {
        notify(statementUID)
        state.withLock { _ = $0.generations.removeValue(forKey: statementUID) }
    }

    /// Returns when the generation of `statementUID` moves past `generation` (at once if it already has), or after
    /// `timeout`, whichever comes first.
    func wait(for statementUID: String, after generation: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForNotification(statementUID, after: generation) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForNotification(_ statementUID: String, after generation: UInt64) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { state -> Bool in
                    if Task.isCancelled || (state.generations[statementUID] ?? 0) != generation { return false }
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
