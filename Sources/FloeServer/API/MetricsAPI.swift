// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Hummingbird
import NIOCore

/// `GET /metrics`: the server's metrics in Prometheus' text format, for a Cloud API key of an OrganizationAdmin or a
/// MetricsViewer (as Confluent Cloud's Metrics API asks). Statement families cover the caller's organization only.
struct MetricsAPI: Sendable {
    let metrics: ServerMetrics
    /// Reads the server's state for one scrape, for the caller's organization.
    let state: @Sendable (_ organizationID: String) async -> ScrapeState

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func register(on group: RouterGroup<FloeRequestContext>) {
        group.get("metrics") { _, context in try await scrape(context) }
    }

    func scrape(_ context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.policy.canViewMetrics else {
            throw APIError.forbidden("Reading metrics needs the MetricsViewer or OrganizationAdmin role; \(caller.principalID) has neither.")
        }
        let body = metrics.exposition(state: await state(caller.organizationID))
        return Response(
            status: .ok, headers: [.contentType: Self.contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
