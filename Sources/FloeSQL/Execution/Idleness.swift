// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// When a table that stops receiving rows is marked idle, so that it no longer holds back the watermark of the joins
/// and unions it feeds (`sql.tables.scan.idle-timeout`). As on Confluent Cloud, the default is progressive: the
/// timeout starts at 15 seconds and grows with the statement's age up to 5 minutes; `0` disables idleness.
enum IdleTimeout: Sendable, Equatable {
    case progressive
    case fixed(Duration)
    case disabled

    static let property = "sql.tables.scan.idle-timeout"

    /// The timeout for a statement running for `age`, or nil when sources never go idle.
    func timeout(age: Duration) -> Duration? {
        switch self {
        case .progressive: min(.seconds(300), max(.seconds(15), age))
        case .fixed(let duration): duration
        case .disabled: nil
        }
    }

    /// Parses the property: a duration such as `10 s`, `500 ms`, `2 min`, `1 h` (a bare number is milliseconds).
    static func parse(_ text: String?) throws(SQLError) -> IdleTimeout {
        guard let text, !text.trimmingSpaces.isEmpty else { return .progressive }
        let trimmed = text.trimmingSpaces.lowercased()
        let digits = trimmed.prefix { $0.isNumber }
        let unit = String(trimmed.dropFirst(digits.count)).trimmingSpaces
        guard let amount = Int64(digits) else { throw invalid(text) }
        let scale: Int64
        switch unit {
        case "", "ms", "milli", "millis", "millisecond", "milliseconds": scale = 1
        case "s", "sec", "secs", "second", "seconds": scale = 1_000
        case "min", "mins", "minute", "minutes": scale = 60_000
        case "h", "hour", "hours": scale = 3_600_000
        case "d", "day", "days": scale = 86_400_000
        default: throw invalid(text)
        }
        let (millis, overflow) = amount.multipliedReportingOverflow(by: scale)
        guard !overflow else { throw invalid(text) }
        return millis == 0 ? .disabled : .fixed(.milliseconds(millis))
    }

    private static func invalid(_ text: String) -> SQLError {
        SQLError("Invalid value '\(text)' for '\(property)': expected a duration such as '10 s', '500 ms' or '2 min' ('0' disables idleness).")
    }
}
