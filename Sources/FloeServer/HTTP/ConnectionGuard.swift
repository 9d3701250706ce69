// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one connection may take from the server, and how many connections there may be.
public struct ConnectionLimits: Sendable, Equatable {
    /// Open connections at most; more are answered 503 and closed.
    public var maximumConnections = 1024
    /// A keep-alive connection with no request in progress is closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// A new connection must deliver its first complete request head this soon (a client that trickles its headers,
    /// as slowloris does, is answered 408 and closed).
    public var headerTimeout: Duration = .seconds(10)
    /// A request's body must arrive in full this soon after its head (else 408 and close): 4 MiB at 70 KB/s.
    public var bodyTimeout: Duration = .seconds(60)

    /// The longest request target (path and query) served; 8 KiB, as common proxies allow.
    public static let maximumTargetLength = 8 * 1024
    /// How many connections past ``maximumConnections`` are still accepted, to be answered 503 and closed at once,
    /// before the server stops accepting (further clients wait in the listen backlog): the file descriptors of the
    /// store and the engine stay free.
    public static let refusalMargin = 64
    /// File descriptors kept out of reach of connections: the SQLite store, table logs, checkpoints, engine files (at
    /// most half of them, where the limit is low).
    public static let reservedDescriptors = 512
    /// The request line and headers together, at most (Hummingbird's and NIO's default).
    public static let maximumHeadSize = 80 * 1024
    /// Headers in one request, at most.
    public static let maximumHeaderCount = 1000

    public init() {}

    /// These limits, with ``maximumConnections`` lowered if the process's file descriptor limit could not hold them
    /// with descriptors to spare for the store and the engine (after raising the soft limit to the hard one). Keeps at
    /// least 16 connections.
    public func fittingDescriptorLimit() -> (limits: ConnectionLimits, descriptors: Int) {
        #if canImport(Glibc)
        let resource = Int32(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return (self, 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            #if canImport(Darwin)
            raised.rlim_cur = min(limit.rlim_max, rlim_t(OPEN_MAX))
            #else
            raised.rlim_cur = limit.rlim_max
            #endif
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        let descriptors = Int(clamping: limit.rlim_cur)
        let spare = min(Self.reservedDescriptors, descriptors / 2) + min(Self.refusalMargin, descriptors / 8)
        var fitted = self
        fitted.maximumConnections = max(16, min(maximumConnections, descriptors - spare))
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

    /// Connections open now (`floe_open_connections`).
    var openConnections: Int { max(0, open.load(ordering: .relaxed)) }

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
///
/// A connection's first request head must arrive within the header timeout (slowloris), and every request body within
/// the body timeout after its head. Between requests of a kept-alive connection nothing is written: a pooled client
/// that reuses a connection must never read an answer it did not ask for, so an idle connection is closed silently
/// by Hummingbird's idle timeout instead.
struct ConnectionGuardState {
    enum Phase: Equatable {
        /// A new connection, waiting for its first request head.
        case awaitingFirstHead
        /// Reading or answering requests.
        case serving
        /// Between requests of a kept-alive connection.
        case idle
        /// Over the connection cap: answered 503 at its first head, or when the timer fires first.
        case overCapacity
        /// An error response was written, or the connection is being closed.
        case closing
    }

    enum Timer: Equatable {
        case header, refusal, body, linger
    }

    enum Action: Equatable {
        case forward
        case drop
        /// Drop the part and ask the socket for more (the server no longer reads this request: the guard does).
        case dropAndRead
        /// Answer `error` (with `Connection: close`) and close; drop the rest.
        case refuse(APIError)
        /// Close without writing anything (a response may be under way).
        case close
        /// Pass the part on, then close.
        case forwardAndClose
        case arm(Timer)
        case cancelTimer
        case none
    }

    private(set) var phase: Phase = .awaitingFirstHead
    /// Requests whose head was read and whose response has not ended (HTTP pipelining may make it more than one).
    private var unanswered = 0
    /// Whether a request's body is being read (its head came, its end did not).
    private var readingBody = false
    /// Whether a response has begun and not ended.
    private var responding = false
    /// Whether the request being read asked for `Connection: close`.
    private var closeRequested = false
    /// Whether the rest of a body that was answered early is being read and dropped (a "lingering close": closing at
    /// once would reset the connection under a client still sending, which then loses the answer).
    private var lingering = false

    /// How long the rest of a body answered early is read before the connection is closed anyway.
    static let lingerTimeout: Duration = .seconds(5)

    /// The connection became active; `overCapacity` when it is one too many.
    mutating func connected(overCapacity: Bool) -> Action {
        phase = overCapacity ? .overCapacity : .awaitingFirstHead
        return .arm(overCapacity ? .refusal : .header)
    }

    mutating func readHead(targetLength: Int, closeRequested: Bool = false) -> Action {
        switch phase {
        case .closing: return .drop
        case .overCapacity: return refuse(.tooManyConnections)
        case .awaitingFirstHead, .serving, .idle:
            // With an answer still going out, a pipelined request is the server's to answer, in order.
            if targetLength > ConnectionLimits.maximumTargetLength, unanswered == 0 { return refuse(.targetTooLong) }
            phase = .serving
            unanswered += 1
            readingBody = true
            self.closeRequested = closeRequested
            return .arm(.body)
        }
    }

    func readBody() -> Action {
        guard phase == .serving else { return .drop }
        return lingering ? .dropAndRead : .forward
    }

    mutating func readEnd() -> Action {
        guard phase == .serving else { return .drop }
        readingBody = false
        if lingering {
            lingering = false
            if closeRequested {
                phase = .closing
                return .forwardAndClose
            }
            if unanswered == 0 { phase = .idle }
        }
        return .cancelTimer
    }

    mutating func wroteResponseHead() { responding = true }

    /// A response ended; with nothing left to answer the connection is idle. Answered before its body was read (a 413,
    /// a 401), the request's body is read to its end and dropped, for a while, before the connection goes on or closes.
    mutating func wroteResponseEnd() -> Action {
        responding = false
        guard phase == .serving else { return .none }
        unanswered = max(0, unanswered - 1)
        if readingBody {
            lingering = true
            return .arm(.linger)
        }
        if unanswered == 0 { phase = .idle }
        return .none
    }

    mutating func timerFired(_ timer: Timer) -> Action {
        switch (timer, phase) {
        case (.refusal, .overCapacity): return refuse(.tooManyConnections)
        case (.header, .awaitingFirstHead): return refuse(.headerTimeout)
        case (.linger, .serving) where lingering:
            phase = .closing
            return .close
        case (.body, .serving) where readingBody && !lingering:
            if responding {
                phase = .closing
                return .close
            }
            return refuse(.bodyTimeout)
        default: return .none
        }
    }

    /// The HTTP parser failed. With no request under way nothing else will answer, so the guard does; during a request
    /// the error goes on to the server, which answers it.
    mutating func parserFailed(_ error: HTTPParserError) -> Action {
        switch phase {
        case .awaitingFirstHead, .idle, .overCapacity: return refuse(.malformedRequest(error))
        case .serving: return unanswered == 0 ? refuse(.malformedRequest(error)) : .forward
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

    static var bodyTimeout: APIError {
        APIError(status: 408, code: "request_timeout", detail: "The request body did not arrive in time; the connection is closed.")
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
                detail:
                    "The request line and headers are larger than \(ConnectionLimits.maximumHeadSize / 1024) KiB, or there are more than \(ConnectionLimits.maximumHeaderCount) headers."
            )
        case .invalidURL:
            return APIError(status: 400, code: "bad_request", detail: "The request target is not a valid URI.")
        default:
            return APIError(status: 400, code: "bad_request", detail: "The request is not valid HTTP/1.1 (\(error)).")
        }
    }
}

/// Guards each connection, between the HTTP codec and the server: counts it against the cap and answers the one too
/// many with 503, gives its first request head ``ConnectionLimits/headerTimeout`` and each body
/// ``ConnectionLimits/bodyTimeout`` to arrive (408 otherwise), and answers what the HTTP parser refuses, and request
/// targets too long to serve, with Confluent's error envelope instead of an empty 400. Idle keep-alive connections
/// are closed silently by Hummingbird's own idle timeout.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let counter: ConnectionCounter
    private var state = ConnectionGuardState()
    private var counted = false
    private var timer: Scheduled<Void>?

    init(counter: ConnectionCounter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        stop()
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
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
            let close = head.headerFields[.connection]?.lowercased().contains("close") == true
            perform(state.readHead(targetLength: head.path?.utf8.count ?? 0, closeRequested: close), context, data: data)
        case .body: perform(state.readBody(), context, data: data)
        case .end: perform(state.readEnd(), context, data: data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            state.wroteResponseHead()
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            perform(state.wroteResponseEnd(), context, data: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
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
        case .dropAndRead:
            context.read()
        case .arm(let timer):
            cancelTimer()
            if let data { context.fireChannelRead(data) }
            let limits = counter.limits
            let timeout: Duration =
                switch timer {
                case .header: limits.headerTimeout
                // One too many is answered at its head, or within half a second without one: its descriptor is wanted back.
                case .refusal: min(limits.headerTimeout, .milliseconds(500))
                case .body: limits.bodyTimeout
                case .linger: ConnectionGuardState.lingerTimeout
                }
            let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            self.timer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                let (handler, context) = loopBound.value
                handler.timer = nil
                handler.perform(handler.state.timerFired(timer), context, data: nil)
            }
            if timer == .linger { context.read() }
        case .cancelTimer:
            cancelTimer()
            if let data { context.fireChannelRead(data) }
        case .close:
            cancelTimer()
            context.close(promise: nil)
        case .forwardAndClose:
            cancelTimer()
            if let data { context.fireChannelRead(data) }
            context.close(promise: nil)
        case .refuse(let error):
            cancelTimer()
            respond(error, context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
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
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}
