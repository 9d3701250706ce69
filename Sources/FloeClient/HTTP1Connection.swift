// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import NIOCore
import NIOHTTP1
import NIOPosix

/// The parts of a URL an HTTP/1.1 request needs.
struct HTTPTarget: Sendable, Equatable {
    var host: String
    var port: Int
    /// Path and query, starting with `/`.
    var requestTarget: String

    /// Parses `http://host[:port]/path?query`; `nil` for anything else (including `https`, see ``FloeClientError``).
    init?(url: String) throws(FloeClientError) {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { throw .httpsUnsupported(url) }
        guard lower.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        var host = Substring(authority)
        var port = 80
        if authority.hasPrefix("[") {
            // [v6]:port
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let value = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = value
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
        self.requestTarget = target
    }

    /// The `Host` header value.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }
}

/// Why a request could not be sent or answered (HTTP error statuses are not errors: they are returned).
public enum FloeClientError: Error, CustomStringConvertible, Sendable {
    case invalidURL(String)
    case httpsUnsupported(String)
    case timedOut(Duration)
    case connectionClosed
    case responseTooLarge(Int)

    public var description: String {
        switch self {
        case .invalidURL(let url): return "'\(url)' is not an http:// URL"
        case .httpsUnsupported(let url):
            return "'\(url)' uses https, which this client does not speak yet; Floe serves plain HTTP (use http://, or a local TLS tunnel)"
        case .timedOut(let limit): return "no response within \(limit)"
        case .connectionClosed: return "the server closed the connection before answering"
        case .responseTooLarge(let limit): return "the response is larger than \(limit) bytes"
        }
    }
}

/// One HTTP/1.1 exchange on its own connection (`Connection: close`), on NIO's shared event loops.
///
/// The CLI sends a handful of requests per command, so a connection per request costs nothing that matters, and it
/// keeps the client free of pooling, TLS and HTTP/2 machinery (which would also weigh on the server binary it shares).
enum HTTP1Exchange {
    static let maximumBody = 64 * 1024 * 1024

    static func send(
        method: String, target: HTTPTarget, headers: [(String, String)], body: [UInt8]?, timeout: Duration
    ) async throws -> (status: Int, headers: [(String, String)], body: [UInt8]) {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = eventLoop.makePromise(of: CollectedResponse.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.nanoseconds(nanoseconds))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise, limit: maximumBody))
                    }
                }
                .connect(host: target.host, port: target.port)
                .get()
        } catch {
            // A promise must be completed before it is dropped.
            promise.fail(error)
            throw error
        }
        let deadline = eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            promise.fail(FloeClientError.timedOut(timeout))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target.requestTarget)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "User-Agent", value: "floe-cli")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        for (name, value) in headers { head.headers.replaceOrAdd(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let response = try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
            channel.close(promise: nil)
        }
        return (response.status, response.headers, response.body)
    }
}

/// A complete response.
struct CollectedResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
}

/// Collects one response and closes the connection.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<CollectedResponse>
    private let limit: Int
    private var response: CollectedResponse?

    init(promise: EventLoopPromise<CollectedResponse>, limit: Int) {
        self.promise = promise
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // A 100 Continue is not the answer.
            guard head.status.code >= 200 else { return }
            response = CollectedResponse(status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: [])
        case .body(var buffer):
            guard response != nil else { return }
            if (response?.body.count ?? 0) + buffer.readableBytes > limit {
                promise.fail(FloeClientError.responseTooLarge(limit))
                context.close(promise: nil)
                return
            }
            response?.body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            if let response {
                promise.succeed(response)
                self.response = nil
                context.close(promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(FloeClientError.connectionClosed)
        context.fireChannelInactive()
    }
}
