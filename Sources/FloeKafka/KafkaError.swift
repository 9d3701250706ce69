// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import CRdKafka

/// An error from librdkafka (or from loading it), with what the caller needs to decide what to do next.
///
/// librdkafka reports errors in three shapes (a bare `rd_kafka_resp_err_t`, an `rd_kafka_error_t` object carrying
/// flags, and per-item results of admin calls); they all become this one type. `kind` is the decision:
/// retry the same call, abort the transaction and redo its work, or give up on the handle.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A librdkafka error code (`rd_kafka_resp_err_t`): negative for client-side errors, positive for the broker's
    /// Kafka protocol error codes. `libraryUnavailable` is Floe's own, outside librdkafka's range.
    public struct Code: RawRepresentable, Sendable, Hashable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ err: rd_kafka_resp_err_t) { self.rawValue = err.rawValue }

        /// librdkafka could not be loaded or is too old (Floe's own code; never returned by librdkafka).
        public static let libraryUnavailable = Code(rawValue: -10_000)
        public static let noError = Code(RD_KAFKA_RESP_ERR_NO_ERROR)
        public static let fail = Code(RD_KAFKA_RESP_ERR__FAIL)
        public static let transport = Code(RD_KAFKA_RESP_ERR__TRANSPORT)
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        public static let timedOut = Code(RD_KAFKA_RESP_ERR__TIMED_OUT)
        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        public static let invalidArgument = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
        public static let state = Code(RD_KAFKA_RESP_ERR__STATE)
        public static let fatal = Code(RD_KAFKA_RESP_ERR__FATAL)
        public static let fenced = Code(RD_KAFKA_RESP_ERR__FENCED)
        public static let partitionEOF = Code(RD_KAFKA_RESP_ERR__PARTITION_EOF)
        public static let unknownPartition = Code(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
        public static let unknownTopic = Code(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        public static let unknownTopicOrPartition = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        public static let topicAlreadyExists = Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        public static let invalidConfig = Code(RD_KAFKA_RESP_ERR_INVALID_CONFIG)
        public static let groupIDNotFound = Code(RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
        public static let invalidProducerEpoch = Code(RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
        public static let producerFenced = Code(RD_KAFKA_RESP_ERR_PRODUCER_FENCED)
        public static let offsetOutOfRange = Code(RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
    }

    /// What the caller should do about the error.
    public enum Kind: String, Sendable, Hashable {
        /// The same call may succeed if repeated (a commit that timed out, a coordinator that moved).
        case retriable
        /// The current transaction cannot commit: abort it, then redo its work in a new one.
        case abortRequired
        /// The handle is unusable (fenced by a newer instance with the same `transactional.id`, or an
        /// unrecoverable producer state): destroy it; a fenced writer must stop, another instance owns its output.
        case fatal
        /// Neither: the call failed for a reason retrying will not change (unknown topic, invalid argument).
        case permanent
    }

    public var code: Code
    /// librdkafka's name of the code (`_TRANSPORT`, `PRODUCER_FENCED`, …), or `LIBRARY_UNAVAILABLE`.
    public var name: String
    /// The human-readable reason: librdkafka's error string, with Floe's context where it adds some.
    public var message: String
    public var isRetriable: Bool
    public var isFatal: Bool
    public var transactionRequiresAbort: Bool

    public init(
        code: Code, message: String, isRetriable: Bool = false, isFatal: Bool = false, transactionRequiresAbort: Bool = false
    ) {
        self.code = code
        self.name = Self.name(of: code)
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.transactionRequiresAbort = transactionRequiresAbort
    }

    /// librdkafka's name for `code`, when the library is loaded (a code can only come from it then, except ours).
    private static func name(of code: Code) -> String {
        if code == .libraryUnavailable { return "LIBRARY_UNAVAILABLE" }
        guard floe_rdkafka_load(nil, 0) == 0 else { return "ERR_\(code.rawValue)" }
        return String(cString: floe_rd_kafka_err2name(rd_kafka_resp_err_t(code.rawValue)))
    }

    /// An error from a bare code, with librdkafka's text for it (and `context` before it, when given).
    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: floe_rd_kafka_err2str(err))
        self.init(code: Code(err), message: context.map { "\($0): \(text)" } ?? text)
    }

    /// Takes ownership of an `rd_kafka_error_t` (and destroys it). A `_FATAL` error is replaced by the handle's
    /// underlying fatal error (`rd_kafka_fatal_error`), so a fenced producer reports `_FENCED`/`PRODUCER_FENCED`.
    init(consuming error: OpaquePointer, handle: OpaquePointer?) {
        defer { floe_rd_kafka_error_destroy(error) }
        var code = floe_rd_kafka_error_code(error)
        var message = String(cString: floe_rd_kafka_error_string(error))
        var fatal = floe_rd_kafka_error_is_fatal(error) != 0
        if code == RD_KAFKA_RESP_ERR__FATAL, let handle {
            let (underlying, text) = withErrorBuffer { floe_rd_kafka_fatal_error(handle, $0, $1) }
            if underlying != RD_KAFKA_RESP_ERR_NO_ERROR {
                code = underlying
                message = text
            }
            fatal = true
        }
        self.init(
            code: Code(code), message: message, isRetriable: floe_rd_kafka_error_is_retriable(error) != 0, isFatal: fatal,
            transactionRequiresAbort: floe_rd_kafka_error_txn_requires_abort(error) != 0)
    }

    /// The decision for this error; fatal wins over abort, abort over retry.
    public var kind: Kind {
        if isFatal || isFenced { return .fatal }
        if transactionRequiresAbort { return .abortRequired }
        if isRetriable { return .retriable }
        return .permanent
    }

    /// Whether a newer producer with the same `transactional.id` has taken over (this one must stop writing).
    public var isFenced: Bool {
        code == .fenced || code == .producerFenced || code == .invalidProducerEpoch
    }

    public var description: String { "\(name): \(message)" }
}
