// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import CRdKafka

/// librdkafka, loaded into the process on first use (see `CRdKafka.h` for why it is not linked).
///
/// Every FloeKafka entry point that creates a handle calls `load()` first, so callers never need to; call it
/// directly to check up front (at `floe serve` start when a Kafka cluster is attached, or in a health check) and
/// to report the reason when it is missing.
public enum KafkaLibrary {
    /// Loads librdkafka (`$FLOE_LIBRDKAFKA`, else `librdkafka.so.1`) once per process and checks that it is 2.0.2
    /// or newer. Later calls return the first call's outcome without touching the file system again.
    public static func load() throws(KafkaError) {
        var reason = [CChar](repeating: 0, count: 512)
        if floe_rdkafka_load(&reason, reason.count) != 0 {
            throw KafkaError(code: .libraryUnavailable, message: decodeCString(reason))
        }
    }

    /// The loaded library's version, as `major.minor.patch` (for logs and `floe --version`-style reports).
    public static func version() throws(KafkaError) -> String {
        try load()
        return String(cString: floe_rd_kafka_version_str())
    }

    /// The loaded library's version as librdkafka encodes it: `0xMMmmrrxx` (major, minor, revision, pre-release).
    public static func versionNumber() throws(KafkaError) -> Int {
        try load()
        return Int(floe_rd_kafka_version())
    }
}

/// The text of a NUL-terminated C string held in a `[CChar]` buffer (`String(cString:)` on arrays is deprecated).
func decodeCString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// Calls `body` with a zeroed buffer for a librdkafka `errstr` out-parameter and returns the result with the text.
func withErrorBuffer<T>(_ body: (UnsafeMutablePointer<CChar>, Int) -> T) -> (T, String) {
    var buffer = [CChar](repeating: 0, count: 512)
    let result = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    return (result, decodeCString(buffer))
}

/// A timeout as librdkafka's `int timeout_ms`, clamped to what fits (negative would mean "forever").
func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    return Int32(clamping: max(0, millis))
}
