// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import FloeCLI

/// The GET → modify → PUT loop of `stop`/`resume`/`update`, against a fake server that makes the first PUT lose a race.
struct StatementUpdateTests {
    final class FakeStatementServer: Sendable {
        struct State {
            var version = 1
            var puts: [JSONValue] = []
            var conflictsLeft: Int
        }
        let state: Mutex<State>

        init(conflicts: Int) { state = Mutex(State(conflictsLeft: conflicts)) }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            let path = "/sql/v1/organizations/org-1/environments/env-1/statements/job"
            router.get(RouterPath(path)) { _, _ -> Response in
                let version = self.state.withLock { $0.version }
                return Self.json(
                    .ok,
                    [
                        "name": "job", "metadata": ["resource_version": .string(String(version))],
                        "spec": ["stopped": false, "statement": "INSERT INTO t SELECT 1"],
                    ])
            }
            router.put(RouterPath(path)) { request, _ -> Response in
                let body = try JSONValue.parse(Array(buffer: try await request.body.collect(upTo: 1 << 20)))
                return self.state.withLock { state -> Response in
                    state.puts.append(body)
                    let sent = body.value(at: "metadata", "resource_version")?.stringValue
                    if state.conflictsLeft > 0 {
                        // Another writer got in between: the version moves on and this PUT is stale.
                        state.conflictsLeft -= 1
                        state.version += 1
                    }
                    guard sent == String(state.version) else {
                        return Self.json(.conflict, ["errors": [["status": "409", "detail": "The statement was modified concurrently."]]])
                    }
                    return Self.json(.accepted, body)
                }
            }
            return router
        }

        static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.serialized())))
        }
    }

    func withAPI(_ server: FakeStatementServer, _ body: @Sendable (StatementAPI) async throws -> Void) async throws {
        let app = Application(router: server.router())
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var context = CLIContext(name: "test", url: "http://127.0.0.1:\(port)", credentials: StoredAPIKey(key: "KEY", secret: "secret"))
            context.organizationID = "org-1"
            let session = CLISession(configuration: CLIConfiguration(), context: context, isSaved: false)
            try await body(try await StatementAPI(session: session, environmentID: "env-1"))
        }
    }

    @Test func stopRereadsAndRetriesAfterAConflict() async throws {
        let server = FakeStatementServer(conflicts: 2)
        try await withAPI(server) { api in try await api.setStopped("job", true) }
        let puts = server.state.withLock { $0.puts }
        #expect(puts.count == 3, "two conflicts, then success")
        #expect(puts.map { $0.value(at: "metadata", "resource_version")?.stringValue } == ["1", "2", "3"], "each retry sends the version it re-read")
        #expect(
            puts.allSatisfy { $0.value(at: "spec", "stopped") == true && $0.value(at: "spec", "statement")?.stringValue == "INSERT INTO t SELECT 1" })
    }

    @Test func resumeCanMoveThePrincipalAndPool() async throws {
        let server = FakeStatementServer(conflicts: 0)
        try await withAPI(server) { api in try await api.setStopped("job", false, principal: "sa-abc123", computePool: "lfcp-xyz789") }
        let put = try #require(server.state.withLock { $0.puts.first })
        #expect(put.value(at: "spec", "stopped") == false)
        #expect(
            put.value(at: "spec", "principal")?.stringValue == "sa-abc123" && put.value(at: "spec", "compute_pool_id")?.stringValue == "lfcp-xyz789")
    }

    @Test func theLoopGivesUpOnEndlessConflicts() async throws {
        let server = FakeStatementServer(conflicts: 1000)
        await #expect(throws: CLIError.self) {
            try await withAPI(server) { api in try await api.setStopped("job", true) }
        }
        #expect(server.state.withLock { $0.puts.count } == 10)
    }
}
