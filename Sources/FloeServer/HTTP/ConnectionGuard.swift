// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FloeCore
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization

/// What one connection may take from the server, and how many connections there may be.
public struct ConnectionLimits: Sendable, Equatable {
    /// Open connections at most; more are answered 503 and closed.
    public var maximumConnections = 1024
    /// A keep-alive connection with no request in progress is closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// A connection must deliver a complete request head this soon after connecting or after its previous response
    /// (a client that trickles its headers, as slowloris does, is answered 408 and closed).
    public var headerTimeout: Duration = .seconds(10)

    /// The longest request target (path and query) served; 8 KiB, as common proxies allow.
    public static let maximumTargetLength = 8 * 1024
    /// How many connections past ``maximumConnections`` are still accepted, to be answered 503 and closed at once,
    /// before the server stops accepting (further clients wait in the listen backlog): the file descriptors of the
    /// store and the engine stay free.
    public static let refusalMargin = 64
    /// File descriptors kept out of reach of connections: the SQLite store, table logs, checkpoints, engine files.
    public static let reservedDescriptors = 512
    /// The request line and headers together, at most (Hummingbird's and NIO's default).
    public static let maximumHeadSize = 80 * 1024
    /// Headers in one request, at most.
    public static let maximumHeaderCount = 1000

    public init() {}

    /// These limits, with ``maximumConnections`` lowered if the process's file descriptor limit could not hold them
    /// with ``reservedDescriptors`` to spare (after raising the soft limit to the hard one).
    public func fittingDescriptorLimit() -> (limits: ConnectionLimits, descriptors: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (self, 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let descriptors = Int(clamping: limit.rlim_cur)
        var fitted = self
        fitted.maximumConnections = max(1, min(maximumConnections, descriptors - Self.reservedDescriptors - Self.refusalMargin))
        return (fitted, descriptors)
    }
}

/// Counts one server's open connections, and gives the memory a flood of them took back to the system afterwards.
final class ConnectionCounter: Sendable {
    let limits: ConnectionLimits
    private let open = Atomic(0)
    /// The most connections open since the last trim.
    private let highWater = Atomic(0)

    init(limits: ConnectionLimits) { self.limits = limits }

    var count: Int { open.load(ordering: .relaxed) }

    /// Records a new connection; returns whether it is one too many.
    func opened() -> Bool {
        let now = open.wrappingAdd(1, ordering: .relaxed).newValue
        highWater.max(now, ordering: .relaxed)
        return now > limits.maximumConnections
    }

    /// Records a closed connection. When a burst of at least 256 connections has drained, the allocator returns the
    /// freed memory of their buffers to the system (glibc keeps it otherwise, and RSS would stay at the peak).
    func closed() {
        let now = open.wrappingSubtract(1, ordering: .relaxed).newValue
        guard now <= 8, highWater.load(ordering: .relaxed) >= 256 else { return }
        highWater.store(now, ordering: .relaxed)
        DispatchQueue.global(qos: .utility).async {
            #if canImport(Glibc)
            _ = glibcMallocTrim(0)
            #endif
        }
    }
}

#if canImport(Glibc)
/// glibc's `malloc_trim` (not exported by the Glibc module): returns free heap memory to the system.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// The connection lifecycle ``ConnectionGuardHandler`` enforces, as a value: events in, actions out.
struct ConnectionGuardState {
    enum Phase: Equatable {
        /// Waiting for a request head, within the header timeout.
        case awaitingHead
        /// A request is being read or answered.
        case inRequest
        /// Over the connection cap: the first head is answered 503.
        case overCapacity
        /// An error response was written; the connection closes.
        case closing
    }

    enum Action: Equatable {
        case forward
        case drop
        /// Answer `error` (with `Connection: close`) and close; drop the rest.
        case refuse(APIError)
        case armHeaderTimer
        case none
    }

    private(set) var phase: Phase = .awaitingHead
    /// Requests whose head was read and whose response has not ended (HTTP pipelining may make it more than one).
    private var unanswered = 0

    /// The connection became active; `overCapacity` when it is one too many (answered 503 at its first head, or when the
    /// timer fires first).
    mutating func connected(overCapacity: Bool) -> Action {
        phase = overCapacity ? .overCapacity : .awaitingHead
        return .armHeaderTimer
    }

    mutating func readHead(targetLength: Int) -> Action {
        switch phase {
        case .closing: return .drop
        case .overCapacity: return refuse(.tooManyConnections)
        case .awaitingHead, .inRequest:
            guard targetLength <= ConnectionLimits.maximumTargetLength else { return refuse(.targetTooLong) }
            phase = .inRequest
            unanswered += 1
            return .forward
        }
    }

    func readBodyOrEnd() -> Action { phase == .inRequest ? .forward : .drop }

    /// A response ended: with nothing left to answer, the next head must come within the header timeout.
    mutating func wroteResponseEnd() -> Action {
        guard phase == .inRequest else { return .none }
        unanswered = max(0, unanswered - 1)
        guard unanswered == 0 else { return .none }
        phase = .awaitingHead
        return .armHeaderTimer
    }

    mutating func headerTimerFired() -> Action {
        switch phase {
        case .awaitingHead, .overCapacity: return refuse(phase == .overCapacity ? .tooManyConnections : .headerTimeout)
        case .inRequest, .closing: return .none
        }
    }

    /// The HTTP parser failed. Between requests nothing else will answer, so the guard does; during a request the
    /// error goes on to the server, which answers it.
    mutating func parserFailed(_ error: HTTPParserError) -> Action {
        switch phase {
        case .awaitingHead, .overCapacity: return refuse(.malformedRequest(error))
        case .inRequest: return .forward
        case .closing: return .drop
        }
    }

    private mutating func refuse(_ error: APIError) -> Action {
        phase = .closing
        return .refuse(error)
    }
}

extension APIError {
    static var tooManyConnections: APIError {
        APIError(
            status: 503, code: "too_many_connections",
            detail: "The server holds as many connections as it accepts; retry in a moment, or reuse a connection.", retryAfter: 1)
    }

    static var headerTimeout: APIError {
        APIError(status: 408, code: "request_timeout", detail: "The request head did not arrive in time; the connection is closed.")
    }

    static var targetTooLong: APIError {
        APIError(
            status: 414, code: "uri_too_long",
            detail: "The request target (path and query) is longer than \(ConnectionLimits.maximumTargetLength) bytes.")
    }

    static func malformedRequest(_ error: HTTPParserError) -> APIError {
        switch error {
        case .headerOverflow:
            return APIError(
                status: 431, code: "request_header_fields_too_large",
                detail: "The request line and headers are larger than \(ConnectionLimits.maximumHeadSize / 1024) KiB, or there are more than \(ConnectionLimits.maximumHeaderCount) headers.")
        case .invalidURL:
            return APIError(status: 400, code: "bad_request", detail: "The request target is not a valid URI.")
        default:
            return APIError(status: 400, code: "bad_request", detail: "The request is not valid HTTP/1.1 (\(error)).")
        }
    }
}

/// Guards each connection, between the HTTP codec and the server: counts it against the cap and answers the one too
/// many with 503, gives its request head ``ConnectionLimits/headerTimeout`` to arrive (408 otherwise), and answers
/// what the HTTP parser refuses, and request targets too long to serve, with Confluent's error envelope instead of an
/// empty 400. Idle keep-alive connections are closed by Hummingbird's own idle timeout.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let counter: ConnectionCounter
    private var state = ConnectionGuardState()
    private var counted = false
    private var headerTimer: Scheduled<Void>?

    init(counter: ConnectionCounter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelHeaderTimer()
        stop()
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelHeaderTimer()
        stop()
        context.fireChannelInactive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        perform(state.connected(overCapacity: counter.opened()), context, data: nil)
    }

    private func stop() {
        guard counted else { return }
        counted = false
        counter.closed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            cancelHeaderTimer()
            perform(state.readHead(targetLength: head.path?.utf8.count ?? 0), context, data: data)
        case .body, .end:
            perform(state.readBodyOrEnd(), context, data: data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            context.write(data, promise: promise)
            perform(state.wroteResponseEnd(), context, data: nil)
        } else {
            context.write(data, promise: promise)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        cancelHeaderTimer()
        switch state.parserFailed(parserError) {
        case .forward: context.fireErrorCaught(error)
        case let action: perform(action, context, data: nil)
        }
    }

    private func perform(_ action: ConnectionGuardState.Action, _ context: ChannelHandlerContext, data: NIOAny?) {
        switch action {
        case .forward:
            if let data { context.fireChannelRead(data) }
        case .drop, .none:
            break
        case .armHeaderTimer:
            cancelHeaderTimer()
            // One too many is answered at its head, or within half a second without one: its descriptor is wanted back.
            let timeout = state.phase == .overCapacity ? min(counter.limits.headerTimeout, .milliseconds(500)) : counter.limits.headerTimeout
            let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            headerTimer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                let (handler, context) = loopBound.value
                handler.headerTimer = nil
                handler.perform(handler.state.headerTimerFired(), context, data: nil)
            }
        case .refuse(let error):
            cancelHeaderTimer()
            respond(error, context)
        }
    }

    private func cancelHeaderTimer() {
        headerTimer?.cancel()
        headerTimer = nil
    }

    /// Writes `error` in Confluent's envelope with `Connection: close`, then closes.
    private func respond(_ error: APIError, _ context: ChannelHandlerContext) {
        let requestID = IdentifierGenerator.requestID()
        let body = JSONResponse.envelope(for: error, requestID: requestID).serialized()
        var fields: HTTPFields = [
            .contentType: "application/json", .contentLength: String(body.count), .connection: "close", .init("X-Request-Id")!: requestID,
        ]
        if let retryAfter = error.retryAfter { fields[.retryAfter] = String(retryAfter) }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: error.status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
