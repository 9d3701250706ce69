// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import CoreMetrics
import FloeBuildInfo
import FloeCore
import Foundation
import HTTPTypes
import Metrics
import Prometheus

/// The server's own metrics, as `GET /metrics` exposes them in Prometheus' text format.
///
/// Two kinds of families:
/// - **events** (requests, their latency, rate-limit refusals) are counted as they happen through swift-metrics
///   handles on this server's own Prometheus registry (not the process-wide `MetricsSystem`, so that several servers in
///   one process — the tests — keep apart);
/// - **state** (statements by phase, what running statements did, the result store, open connections) is read when
///   scraped (``ScrapeState``) into a registry made for that scrape, so that a statement that ended leaves no series
///   behind and each caller sees only its own organization's statements.
final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    /// Latency buckets from 1 ms to 30 s: API calls take milliseconds, result long-polls up to a few seconds.
    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
    }

    /// Methods kept as labels; any other (a client can send any token) is counted as `other`, so that a client cannot
    /// grow the label set.
    private static let knownMethods: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options]

    /// Counts a finished request: its route pattern (`unmatched` when no route took it), method and status.
    func recordRequest(method: HTTPRequest.Method, route: String?, status: Int, duration: Duration) {
        let method = Self.knownMethods.contains(method) ? method.rawValue : "other"
        // Hummingbird names the path of a request no route took `NotFound`.
        let route = route.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        Counter(
            label: "floe_http_requests_total", dimensions: [("method", method), ("route", route), ("status", String(status))],
            factory: factory
        ).increment()
        Metrics.Timer(label: "floe_http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// Counts a request refused by the rate limiter, by the limit it hit.
    func recordRateLimitRefusal(_ limit: RateLimiter.Limit) {
        Counter(label: "floe_rate_limit_refusals_total", dimensions: [("limit", limit.rawValue)], factory: factory).increment()
    }

    /// The exposition: the event families, then the state read for this scrape.
    func exposition(state: ScrapeState) -> [UInt8] {
        var buffer = registry.emitToBuffer()
        state.registry().emit(into: &buffer)
        return buffer
    }
}

/// What a scrape reports of the server's state at that moment.
struct ScrapeState: Sendable {
    /// A statement running now, with what its run did.
    struct RunningStatement: Sendable {
        var environmentID: String
        var name: String
        var statistics: RunStatistics
    }

    /// The caller's organization's statements, by phase.
    var statementsByPhase: [StatementPhase: Int] = [:]
    /// The caller's organization's statements running on the embedded engine.
    var running: [RunningStatement] = []
    /// The bytes of stored results (rows and their keys), all statements; nil when the store could not say.
    var resultStoreBytes: Int?
    /// Open connections, by listener (`public`, `private`).
    var openConnections: [(listener: String, count: Int)] = []

    /// A registry holding this state.
    func registry() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        registry.makeGauge(
            name: "floe_build_info", labels: [("version", BuildInfo.version), ("commit", BuildInfo.commit)],
            help: "The build of the floe binary that answers (always 1)."
        ).set(to: 1.0)
        for phase in StatementPhase.allCases {
            registry.makeGauge(
                name: "floe_statements", labels: [("phase", phase.rawValue)], help: "Statements of the caller's organization, by phase."
            ).set(Int64(statementsByPhase[phase] ?? 0))
        }
        for statement in running.sorted(by: { ($0.environmentID, $0.name) < ($1.environmentID, $1.name) }) {
            let labels = [("environment", statement.environmentID), ("statement", statement.name)]
            registry.makeCounter(
                name: "floe_statement_rows_read_total", labels: labels, help: "Rows a running statement read from its sources, since it (re)started."
            ).increment(by: statement.statistics.rowsRead)
            registry.makeCounter(
                name: "floe_statement_rows_written_total", labels: labels,
                help: "Rows a running statement handed to its sinks or results, since it (re)started."
            ).increment(by: statement.statistics.rowsWritten)
            if let duration = statement.statistics.lastCheckpointDuration {
                registry.makeGauge(
                    name: "floe_statement_checkpoint_duration_seconds", labels: labels, help: "How long a running statement's last checkpoint took."
                ).set(Double(duration.nanoseconds) / 1e9)
            }
        }
        if let resultStoreBytes {
            registry.makeGauge(name: "floe_result_store_bytes", help: "Bytes of stored statement results (rows and their keys).").set(
                Int64(resultStoreBytes))
        }
        for (listener, count) in openConnections {
            registry.makeGauge(name: "floe_open_connections", labels: [("listener", listener)], help: "Open connections, by listener.").set(
                Int64(count))
        }
        return registry
    }
}
