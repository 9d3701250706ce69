// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// How long to wait before asking for the next page of a statement's results.
///
/// A client that follows `metadata.next` at once asks about fifty times a second of a stream that trickles a row at a
/// time, and runs into the server's per-client limits (50 requests/s, 1,000/min) within half a minute — locking the
/// user out of every other command for the rest of the minute. The pacer keeps a follower well under those limits:
///
/// - A *busy* page (at least ``busyPage`` changes) means rows are waiting: ask again at once, and forget any backoff.
/// - A smaller or empty page doubles the interval between requests, from ``initialInterval`` up to
///   ``maximumInterval``. Time the server spent holding the request (a long poll) counts towards the interval, so a
///   server that already paces its answers adds no client-side delay.
/// - `429 Too Many Requests` waits its `Retry-After` (at least the current interval) and keeps going.
/// - A failure to reach the server backs off exponentially up to ``maximumFailureDelay``; after
///   ``failuresBeforeGivingUp`` in a row the caller should stop following (and say so, without blaming the statement).
///
/// It is a value: state plus the outcome of a request gives the next delay, which makes it easy to test.
struct ResultPollPacer: Sendable, Equatable {
    /// What one request for a results page came to.
    enum Outcome: Sendable, Equatable {
        /// A page with `changes` changes arrived, the request having taken `elapsed`.
        case page(changes: Int, elapsed: Duration)
        /// The server refused the request with 429; `retryAfter` is its `Retry-After`, if it gave one.
        case rateLimited(retryAfter: Duration?)
        /// The server could not be reached or answered with a server error.
        case unreachable
    }

    /// A page with at least this many changes counts as busy (rows were waiting; read on at once).
    var busyPage = 100
    /// The first interval after a small page.
    var initialInterval: Duration = .milliseconds(100)
    /// The longest interval between requests while following: a trickling stream is read about once a second.
    var maximumInterval: Duration = .seconds(1)
    /// The longest wait after a failure to reach the server.
    var maximumFailureDelay: Duration = .seconds(5)
    /// Consecutive failures to reach the server after which following should stop.
    var failuresBeforeGivingUp = 6

    /// The current interval between the starts of two requests.
    private(set) var interval: Duration = .zero
    /// Failures to reach the server since the last answer.
    private(set) var consecutiveFailures = 0

    /// Whether the caller should stop following: the server has been unreachable too many times in a row.
    var shouldGiveUp: Bool { consecutiveFailures >= failuresBeforeGivingUp }

    /// Records `outcome` and returns how long to wait before the next request.
    mutating func delay(after outcome: Outcome) -> Duration {
        switch outcome {
        case .page(let changes, let elapsed):
            consecutiveFailures = 0
            if changes >= busyPage {
                interval = .zero
                return .zero
            }
            interval = min(max(interval * 2, initialInterval), maximumInterval)
            return max(.zero, interval - elapsed)
        case .rateLimited(let retryAfter):
            consecutiveFailures = 0
            // The limit was reached (by this follower or by other commands from the same address): slow down for good.
            interval = maximumInterval
            return max(retryAfter ?? .seconds(1), interval)
        case .unreachable:
            consecutiveFailures += 1
            let exponent = min(consecutiveFailures - 1, 10)
            return min(.milliseconds(500) * (1 << exponent), maximumFailureDelay)
        }
    }
}
