// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A local HTTP server that answers each request with the next scripted answer for its method, path and query, and
/// records what it was sent: a stand-in for a Flink SQL Gateway or JobManager replaying exchanges observed on a real
/// one. A request with nothing scripted gets a 404 in Flink's error form, so a client that asks for the wrong thing
/// fails the test.
final class ScriptedFlinkServer: Sendable {
    struct Answer: Sendable {
        var status: Int
        var body: String
    }

    struct Received: Sendable {
        var method: String
        /// Path and query, as sent.
        var target: String
        var body: JSONValue?
    }

    private struct State {
        var script: [String: [Answer]] = [:]
        var received: [Received] = []
    }

    private let state = Mutex(State())

    /// Scripts answers to `method target` (path plus `?query` when the request has one), given in order; the last is
    /// repeated once the others are used up.
    func on(_ method: String, _ target: String, _ answers: Answer...) {
        state.withLock { $0.script["\(method) \(target)", default: []].append(contentsOf: answers) }
    }

    var received: [Received] { state.withLock { $0.received } }

    /// Runs `body` with the server listening on a free local port; its argument is the base URL.
    func serve(_ body: @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .delete, .patch, .put] {
            router.on("**", method: method) { request, _ -> Response in
                let bytes = try await request.body.collect(upTo: 1 << 20)
                let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                let sent = bytes.readableBytes == 0 ? nil : try? JSONValue.parse(Array(buffer: bytes))
                let answer = self.state.withLock { state -> Answer in
                    state.received.append(Received(method: method.rawValue, target: target, body: sent))
                    let key = "\(method.rawValue) \(target)"
                    guard var answers = state.script[key], let first = answers.first else {
                        return Answer(status: 404, body: #"{"errors":["Not found: \#(key)"]}"#)
                    }
                    if answers.count > 1 {
                        answers.removeFirst()
                        state.script[key] = answers
                    }
                    return first
                }
                return Response(
                    status: HTTPResponse.Status(code: answer.status), headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
            }
        }
        let app = Application(router: router)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body("http://127.0.0.1:\(port)")
        }
    }
}

extension ScriptedFlinkServer.Answer {
    static func ok(_ body: String) -> Self { Self(status: 200, body: body) }
    static func status(_ code: Int, _ body: String) -> Self { Self(status: code, body: body) }
    /// A JSON document built in Swift (so that stack traces and quotes are escaped as Jackson escapes them).
    static func json(_ code: Int, _ value: JSONValue) -> Self { Self(status: code, body: value.serializedString) }
}

/// A gateway error body for a server-side exception, as Flink's REST handlers write it.
func serverSideError(_ trace: String) -> JSONValue {
    ["errors": ["Internal server error.", .string("<Exception on server side:\n\(trace)\nEnd of exception on server side>")]]
}

/// The trace of a statement that names an unknown column, shaped as the real gateway's (frames shortened).
let unknownColumnTrace = """
    org.apache.flink.table.gateway.api.utils.SqlGatewayException: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.
    \tat org.apache.flink.table.gateway.rest.handler.statement.FetchResultsHandler.handleRequest(FetchResultsHandler.java:91)
    \tat org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader(AbstractHandler.java:196)
    Caused by: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.
    \tat org.apache.flink.table.gateway.service.SqlGatewayServiceImpl.fetchResults(SqlGatewayServiceImpl.java:231)
    \t... 48 more
    Caused by: org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation 61a61ae7-4944-41c2-bf00-c0c36ecc005f.
    \tat org.apache.flink.table.gateway.service.operation.OperationManager$Operation.processThrowable(OperationManager.java:414)
    Caused by: org.apache.flink.table.api.ValidationException: SQL validation failed. From line 1, column 8 to line 1, column 11: Column 'nope' not found in any table
    \tat org.apache.flink.table.planner.calcite.FlinkPlannerImpl.org$apache$flink$table$planner$calcite$FlinkPlannerImpl$$validate(FlinkPlannerImpl.scala:200)
    \tSuppressed: java.lang.IllegalStateException: a suppressed failure
    \t\tat org.example.Cleanup.close(Cleanup.java:1)
    \tCaused by: java.lang.RuntimeException: the suppressed failure's cause
    \t\t... 3 more
    Caused by: org.apache.calcite.runtime.CalciteContextException: From line 1, column 8 to line 1, column 11: Column 'nope' not found in any table
    \tat java.base/jdk.internal.reflect.DirectConstructorHandleAccessor.newInstance(DirectConstructorHandleAccessor.java:62)
    Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Column 'nope' not found in any table
    \tat java.base/jdk.internal.reflect.DirectConstructorHandleAccessor.newInstance(DirectConstructorHandleAccessor.java:62)
    \t... 37 more
    """

/// A TCP port on 127.0.0.1 that accepts connections (in the kernel's backlog) and never answers: for timeouts.
struct SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        try #require(bound && listen(descriptor, 16) == 0, "a local listening socket")
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
