// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Per-client-IP request accounting: requests in flight, and fixed one-second and one-minute windows.
final class RateLimiter: Sendable {
    struct Usage {
        var inFlight = 0
        var secondWindow: Int64 = 0
        var secondCount = 0
        var minuteWindow: Int64 = 0
        var minuteCount = 0
    }

    /// The limit a refused request hit (the `limit` label of `floe_rate_limit_refusals_total`).
    enum Limit: String, Sendable {
        case concurrent
        case perSecond = "per_second"
        case perMinute = "per_minute"
    }

    /// The verdict for one request.
    enum Decision {
        case allowed(remainingInMinute: Int, resetSeconds: Int)
        case refused(retryAfter: Int, reason: String, limit: Limit)
    }

    let limits: RateLimits
    private let usage = Mutex<[String: Usage]>([:])

    init(limits: RateLimits) { self.limits = limits }

    /// Counts a request from `client` at `now` (seconds), unless a limit is reached.
    func admit(_ client: String, now: TimeInterval) -> Decision {
        let second = Int64(now.rounded(.down))
        let minute = second / 60
        return usage.withLock { table in
            if table.count > 10_000 { table = table.filter { $0.value.inFlight > 0 || $0.value.minuteWindow == minute } }
            var entry = table[client] ?? Usage()
            if entry.secondWindow != second {
                entry.secondWindow = second
                entry.secondCount = 0
            }
            if entry.minuteWindow != minute {
                entry.minuteWindow = minute
                entry.minuteCount = 0
            }
            let secondsToMinuteEnd = Int((minute + 1) * 60 - second)
            if entry.inFlight >= limits.concurrentRequests {
                table[client] = entry
                return .refused(retryAfter: 1, reason: "more than \(limits.concurrentRequests) concurrent requests", limit: .concurrent)
            }
            if entry.secondCount >= limits.perSecond {
                table[client] = entry
                return .refused(retryAfter: 1, reason: "more than \(limits.perSecond) requests per second", limit: .perSecond)
            }
            if entry.minuteCount >= limits.perMinute {
                table[client] = entry
                return .refused(retryAfter: secondsToMinuteEnd, reason: "more than \(limits.perMinute) requests per minute", limit: .perMinute)
            }
            entry.inFlight += 1
            entry.secondCount += 1
            entry.minuteCount += 1
            table[client] = entry
            return .allowed(remainingInMinute: limits.perMinute - entry.minuteCount, resetSeconds: secondsToMinuteEnd)
        }
    }

    /// Ends an admitted request.
    func finish(_ client: String) {
        usage.withLock { table in table[client]?.inFlight -= 1 }
    }
}

/// Refuses requests over the per-IP limits with 429 and `Retry-After`, and reports the minute window in
/// `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the window resets).
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = FloeRequestContext
    let limiter: RateLimiter
    /// Where refusals are counted (`floe_rate_limit_refusals_total`).
    var metrics: ServerMetrics?

    static let limitHeader = HTTPField.Name("X-RateLimit-Limit")!
    static let remainingHeader = HTTPField.Name("X-RateLimit-Remaining")!
    static let resetHeader = HTTPField.Name("X-RateLimit-Reset")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch limiter.admit(context.clientIP, now: Date().timeIntervalSince1970) {
        case .refused(let retryAfter, let reason, let limit):
            metrics?.recordRateLimitRefusal(limit)
            var response = RequestEnvelopeMiddleware.response(
                for: APIError.tooManyRequests(retryAfter: retryAfter, detail: "Rate limit exceeded: \(reason) from one client address."),
                request: request, context: context)
            response.headers[Self.limitHeader] = String(limiter.limits.perMinute)
            response.headers[Self.remainingHeader] = "0"
            response.headers[Self.resetHeader] = String(retryAfter)
            return response
        case .allowed(let remaining, let reset):
            defer { limiter.finish(context.clientIP) }
            var response: Response
            do {
                response = try await next(request, context)
            } catch {
                response = RequestEnvelopeMiddleware.response(for: error, request: request, context: context)
            }
            response.headers[Self.limitHeader] = String(limiter.limits.perMinute)
            response.headers[Self.remainingHeader] = String(remaining)
            response.headers[Self.resetHeader] = String(reset)
            return response
        }
    }
}
