// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A Java exception as Flink reports it over REST: a stack trace text (`ExceptionUtils.stringifyException`) read into
/// its chain of causes.
///
/// The gateway answers a failed statement with the whole trace of a `SqlGatewayException`, and the JobManager lists a
/// failed job's traces; what a user should read is the innermost cause (`Column 'nope' not found in any table`), not
/// the wrappers around it. The full text stays available for a statement's exceptions list.
public struct FlinkException: Sendable, Equatable, CustomStringConvertible {
    /// One exception of the chain: its class and its message (empty when it has none).
    public struct Cause: Sendable, Equatable {
        public var className: String
        public var message: String

        public init(className: String, message: String) {
            self.className = className
            self.message = message
        }
    }

    /// The exceptions from the outermost to the root cause (never empty).
    public var chain: [Cause]
    /// The whole text, stack frames included.
    public var text: String

    /// The innermost cause: the last `Caused by:` of the trace, or the exception itself when it has no cause.
    public var root: Cause { chain[chain.count - 1] }

    /// What to show a user: the root cause's message, or its class when it has none.
    public var summary: String { root.message.isEmpty ? root.className : root.message }

    public var description: String { root.message.isEmpty ? root.className : "\(root.className): \(root.message)" }

    public init(chain: [Cause], text: String) {
        precondition(!chain.isEmpty, "an exception chain has at least one exception")
        self.chain = chain
        self.text = text
    }

    /// Reads a stack trace. The first line that names an exception starts the chain; every `Caused by:` at the start
    /// of a line adds a cause (indented ones belong to suppressed exceptions and are skipped). A message runs over
    /// the following lines until the first stack frame, so multi-line messages (a parser's "Was expecting one of")
    /// stay whole. `nil` when the text names no exception.
    public init?(stackTrace: String) {
        // The gateway wraps the trace as `<Exception on server side:\n…\nEnd of exception on server side>`.
        var body = Substring(stackTrace)
        if let open = body.range(of: "<Exception on server side:") { body = body[open.upperBound...] }
        if let close = body.range(of: "End of exception on server side>", options: .backwards) { body = body[..<close.lowerBound] }

        var chain: [Cause] = []
        var current: (header: String, continuation: [Substring])?
        func finish() {
            guard let entry = current else { return }
            let message = ([Substring(entry.header)] + entry.continuation).joined(separator: "\n")
            chain.append(Self.cause(fromHeader: message))
            current = nil
        }
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("Caused by: ") {
                finish()
                current = (String(line.dropFirst("Caused by: ".count)), [])
            } else if trimmed.hasPrefix("at ") || trimmed.hasPrefix("... ") || trimmed.hasPrefix("Suppressed: ")
                || trimmed.hasPrefix("Caused by: ")
            {
                // A frame, an elided-frames marker or a suppressed exception ends the message.
                finish()
            } else if current != nil {
                current?.continuation.append(line)
            } else if chain.isEmpty, Self.namesException(line) {
                current = (String(line), [])
            }
        }
        finish()
        guard !chain.isEmpty else { return nil }
        self.init(chain: chain, text: stackTrace)
    }

    /// `pkg.Class: message` (the message may span lines) or a bare `pkg.Class`.
    static func cause(fromHeader header: String) -> Cause {
        let text = header.trimmingSuffix { $0 == "\n" || $0 == "\r" || $0 == " " }
        guard let colon = text.range(of: ": "), isClassName(text[..<colon.lowerBound]) else {
            return Cause(className: String(text), message: "")
        }
        return Cause(className: String(text[..<colon.lowerBound]), message: String(text[colon.upperBound...]))
    }

    /// Whether a line starts with a Java class name followed by `: ` or the end of the line.
    static func namesException(_ line: Substring) -> Bool {
        let head = line.range(of: ": ").map { line[..<$0.lowerBound] } ?? line
        return isClassName(head) && head.contains(".")
    }

    /// A fully qualified Java class name: identifiers joined by dots (nested classes with `$`).
    static func isClassName(_ text: Substring) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" || $0 == "." }
    }
}

extension StringProtocol {
    /// The text without the trailing characters that satisfy `predicate`.
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> SubSequence {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[..<end]
    }
}

/// Why a call to Flink's REST endpoints (the SQL Gateway's or the JobManager's) failed.
public enum FlinkRESTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer: the connection was refused or broke, or the address is not an `http://` URL.
    case unreachable(address: String, reason: String)
    /// No answer within the per-request timeout.
    case timedOut(address: String, after: Duration)
    /// An answer larger than the client accepts.
    case responseTooLarge(address: String, limit: Int)
    /// An error status. `message` is what to show: the root cause of the server's exception when the body carries a
    /// stack trace, else the body's `errors` joined. `exception` is the parsed trace, when there is one.
    case status(code: Int, address: String, message: String, exception: FlinkException?)
    /// A 2xx answer without the field a client needs, or with a value of the wrong form.
    case malformedResponse(address: String, field: String)
    /// A savepoint (or stop-with-savepoint) that Flink reported as failed, with its cause.
    case savepointFailed(job: String, cause: FlinkException?, message: String)
    /// A polled operation that did not end before its deadline.
    case deadlineExceeded(operation: String, after: Duration)

    public var description: String {
        switch self {
        case .unreachable(let address, let reason): "Flink at \(address) is unreachable: \(reason)"
        case .timedOut(let address, let after): "Flink at \(address) did not answer within \(after)"
        case .responseTooLarge(let address, let limit): "Flink's answer from \(address) is larger than \(limit) bytes"
        case .status(let code, let address, let message, _): "Flink answered \(code) to \(address): \(message)"
        case .malformedResponse(let address, let field): "Flink's answer from \(address) has no valid '\(field)'"
        case .savepointFailed(let job, _, let message): "The savepoint of Flink job \(job) failed: \(message)"
        case .deadlineExceeded(let operation, let after): "\(operation) did not finish within \(after)"
        }
    }
}
