// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The public HTTP API as the console reaches it: requests are answered in process by the same router, middleware
/// and handlers that serve every other client (authentication, authorization, rate limits, validation), signed with
/// the signed-in principal's API key. The console never reads or writes the store on its own.
struct APIDispatcher: Sendable {
    let respond: @Sendable (Request, FloeRequestContext) async throws -> Response

    init<Responder: HTTPResponder>(responder: Responder) where Responder.Context == FloeRequestContext {
        self.respond = { request, context in try await responder.respond(to: request, context: context) }
    }
}

/// A reply of the API: its status and JSON body.
struct APIReply: Sendable {
    var status: Int
    var body: JSONValue?
    /// `Retry-After` in seconds, when the API sent one (a 429 does).
    var retryAfter: Int? = nil

    /// `errors[0].detail` of an error envelope, or the status line.
    var errorDetail: String {
        if case .array(let errors)? = body?["errors"], let detail = errors.first?["detail"]?.stringValue { return detail }
        // Kafka REST v3 answers errors as `{"error_code", "message"}`.
        if body?["error_code"] != nil, let message = body?["message"]?.stringValue { return message }
        return "The API answered \(status) \(APIError.title(for: status))."
    }
}

/// The API bound to one signed-in principal and the browser request being served.
struct ConsoleAPIClient: Sendable {
    let dispatcher: APIDispatcher
    let credentials: ConsoleCredentials
    /// The browser request's context: the API sees the browser's address (rate limits) and request id (logs).
    let context: FloeRequestContext

    /// Sends one request; every status is returned.
    func send(_ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil) async -> APIReply {
        var target = path
        if !query.isEmpty {
            target += "?" + query.map { "\(FormBody.encode($0.0))=\(FormBody.encode($0.1))" }.joined(separator: "&")
        }
        var fields = HTTPFields()
        fields[.authorization] = credentials.authorizationHeader
        var body = ByteBuffer()
        if let json {
            fields[.contentType] = "application/json"
            body = ByteBuffer(bytes: json.serialized())
        }
        let head = HTTPRequest(method: method, scheme: "http", authority: "console", path: target, headerFields: fields)
        var inner = context
        inner.caller = nil
        do {
            let response = try await dispatcher.respond(Request(head: head, body: RequestBody(buffer: body)), inner)
            let sink = ByteSink()
            try await response.body.write(BodyCollector(sink: sink))
            let bytes = sink.bytes.withLock { $0 }
            return APIReply(
                status: response.status.code, body: bytes.isEmpty ? nil : try? JSONValue.parse(bytes),
                retryAfter: response.headers[.retryAfter].flatMap { Int($0) })
        } catch {
            context.logger.error("console API call failed", metadata: ["path": .string(path), "error": .string(String(describing: error))])
            return APIReply(status: 500, body: nil)
        }
    }

    /// Any reply but a 401, which means the session's key no longer works.
    /// - Throws: ``ConsoleError/signInRequired`` on 401.
    func reply(
        _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil
    ) async throws(ConsoleError)
        -> APIReply
    {
        let reply = await send(method, path, query: query, json: json)
        if reply.status == 401 { throw ConsoleError.signInRequired }
        return reply
    }

    /// A successful reply's body.
    /// - Throws: ``ConsoleError/signInRequired`` when the key no longer works, ``ConsoleError/rateLimited(retryAfter:detail:)``
    ///   on 429, ``ConsoleError/api(status:detail:)`` for any other error status.
    func call(
        _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil
    ) async throws(ConsoleError)
        -> JSONValue
    {
        let reply = try await self.reply(method, path, query: query, json: json)
        guard (200..<300).contains(reply.status) else {
            if reply.status == 429 { throw ConsoleError.rateLimited(retryAfter: max(1, reply.retryAfter ?? 1), detail: reply.errorDetail) }
            throw ConsoleError.api(status: reply.status, detail: reply.errorDetail)
        }
        return reply.body ?? .null
    }

    /// Every item of a paginated list, following `metadata.next` (pages of 100 until `limit` items or more).
    func list(_ path: String, query: [(String, String)] = [], limit: Int = 10_000) async throws(ConsoleError) -> [JSONValue] {
        var items: [JSONValue] = []
        var token: String?
        repeat {
            var parameters = query + [("page_size", "100")]
            if let token { parameters.append(("page_token", token)) }
            let page = try await call(.get, path, query: parameters)
            items += page["data"]?.arrayValue ?? []
            token = page.value(at: "metadata", "next")?.stringValue.flatMap(Self.pageToken(ofNext:))
        } while token != nil && items.count < limit
        return items
    }

    /// The `page_token` of a `metadata.next` URL.
    static func pageToken(ofNext next: String) -> String? {
        guard !next.isEmpty, let components = URLComponents(string: next) else { return nil }
        return components.queryItems?.first { $0.name == "page_token" }?.value.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Where ``BodyCollector`` puts the bytes (the body consumes its writer).
private final class ByteSink: Sendable {
    let bytes = Mutex<[UInt8]>([])
}

/// Collects a response body in memory.
private struct BodyCollector: ResponseBodyWriter {
    let sink: ByteSink

    mutating func write(_ buffer: ByteBuffer) async throws {
        sink.bytes.withLock { $0 += buffer.readableBytesView }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
