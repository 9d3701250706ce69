// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The parts of a URL an HTTP/1.1 request needs.
struct HTTPTarget: Sendable, Equatable {
    var host: String
    var port: Int
    /// Path and query, starting with `/`.
    var requestTarget: String
    /// `https`: the exchange runs over TLS.
    var secure: Bool

    /// Parses `http[s]://host[:port]/path?query`; `nil` for anything else.
    init?(url: String) {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") {
            secure = true
        } else if lower.hasPrefix("http://") {
            secure = false
        } else {
            return nil
        }
        let rest = url.dropFirst(secure ? "https://".count : "http://".count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        var host = Substring(authority)
        var port = secure ? 443 : 80
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
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }
}

/// Why a request could not be sent or answered (HTTP error statuses are not errors: they are returned).
public enum FloeClientError: Error, CustomStringConvertible, Sendable {
    case invalidURL(String)
    /// The CA certificates given to trust (`--ca-cert`, `FLOE_CA_CERT`) could not be read.
    case unreadableCACertificates(path: String, reason: String)
    /// The TLS handshake failed: most often a certificate the client does not trust.
    case tlsHandshakeFailed(host: String, reason: String)
    case timedOut(Duration)
    case connectionClosed
    case responseTooLarge(Int)

    public var description: String {
        switch self {
        case .invalidURL(let url): return "'\(url)' is not an http:// or https:// URL"
        case .unreadableCACertificates(let path, let reason): return "cannot read CA certificates from '\(path)': \(reason)"
        case .tlsHandshakeFailed(let host, let reason):
            return
                "the TLS handshake with \(host) failed (\(reason)); if the server's certificate is signed by a private CA, trust it with --ca-cert or FLOE_CA_CERT"
        case .timedOut(let limit): return "no response within \(limit)"
        case .connectionClosed: return "the server closed the connection before answering"
        case .responseTooLarge(let limit): return "the response is larger than \(limit) bytes"
        }
    }
}

/// One HTTP/1.1 exchange on its own connection (`Connection: close`), on NIO's shared event loops, over TLS for
/// `https`.
///
/// The CLI sends a handful of requests per command, so a connection per request costs nothing that matters, and it
/// keeps the client free of pooling and HTTP/2 machinery (which would also weigh on the server binary it shares).
enum HTTP1Exchange {
    static let maximumBody = 64 * 1024 * 1024

    static func send(
        method: String, target: HTTPTarget, headers: [(String, String)], body: [UInt8]?, timeout: Duration, trust: ClientTLS
    ) async throws -> (status: Int, headers: [(String, String)], body: [UInt8]) {
        do {
            return try await exchange(method: method, target: target, headers: headers, body: body, timeout: timeout, trust: trust)
        } catch let error as NIOSSLError {
            throw FloeClientError.tlsHandshakeFailed(host: target.hostHeader, reason: ClientTLS.describe(error))
        }
    }

    private static func exchange(
        method: String, target: HTTPTarget, headers: [(String, String)], body: [UInt8]?, timeout: Duration, trust: ClientTLS
    ) async throws -> (status: Int, headers: [(String, String)], body: [UInt8]) {
        let tls = try target.secure ? trust.context() : nil
        let nanoseconds = timeout.nanoseconds
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = eventLoop.makePromise(of: CollectedResponse.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.nanoseconds(nanoseconds))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            // SNI and name checks take a host name; an IP address is checked against the certificate's
                            // IP entries instead.
                            let isAddress = (try? SocketAddress(ipAddress: target.host, port: 0)) != nil
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : target.host))
                        }
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

/// How the client verifies https servers: the system's trust store, plus the CA certificates of a PEM file when one is
/// given (`--ca-cert`, `FLOE_CA_CERT`: a server with a certificate from a private CA).
public final class ClientTLS: Sendable {
    /// The PEM file of extra CA certificates to trust; nil for the system's trust store alone.
    public let caCertificateFile: String?
    /// Made on first use: reading the system's trust store costs a few milliseconds, and plain-http clients never do.
    private let cached = Mutex<NIOSSLContext?>(nil)

    public init(caCertificateFile: String? = nil) {
        self.caCertificateFile = caCertificateFile
    }

    /// The system's trust store alone.
    public static let system = ClientTLS()

    /// The client context: TLS 1.2 and later, full verification (chain and host name or IP address).
    func context() throws(FloeClientError) -> NIOSSLContext {
        if let context = cached.withLock({ $0 }) { return context }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        if let caCertificateFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caCertificateFile)
            } catch {
                throw .unreadableCACertificates(path: caCertificateFile, reason: "\(error)")
            }
            guard !certificates.isEmpty else { throw .unreadableCACertificates(path: caCertificateFile, reason: "no PEM certificate in it") }
            configuration.additionalTrustRoots = [.certificates(certificates)]
        }
        do {
            let context = try NIOSSLContext(configuration: configuration)
            cached.withLock { $0 = context }
            return context
        } catch {
            throw .unreadableCACertificates(path: caCertificateFile ?? "the system trust store", reason: "\(error)")
        }
    }

    /// A handshake failure in a user's words (BoringSSL's error stack says `CERTIFICATE_VERIFY_FAILED` and the like).
    static func describe(_ error: NIOSSLError) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") { return "the server's certificate is not trusted" }
        if case .unableToValidateCertificate = error { return "the server's certificate does not name this host" }
        return text
    }
}
