// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C for work that does not own a raw-mode terminal (the shell reading a pipe or a file).
///
/// By default SIGINT ends the process at once, which would leave a statement the shell started running on the server
/// unseen. While the work runs, SIGINT is caught instead: the work is cancelled and the caller learns it was
/// interrupted, so it can stop what it started.
enum SignalInterruption {
    /// Runs `body` with SIGINT caught; returns `true` if SIGINT cancelled it, `false` if it finished by itself.
    static func run(_ body: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        let previous = signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let (interrupts, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        source.setEventHandler { continuation.yield() }
        source.resume()
        defer {
            source.cancel()
            continuation.finish()
            signal(SIGINT, previous)
        }
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return false
            }
            group.addTask {
                for await _ in interrupts { return true }
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            continuation.finish()
            return first
        }
    }
}
