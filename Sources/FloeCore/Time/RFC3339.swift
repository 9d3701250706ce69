// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// RFC 3339 timestamps in UTC with millisecond precision (`2026-11-23T09:48:00.123Z`), as the API writes them.
public enum RFC3339 {
    /// Formats a date. Written by hand: it runs on every response and `DateFormatter` is slow on Linux.
    public static func format(_ date: Date) -> String {
        let totalMilliseconds = Int64(((date.timeIntervalSince1970 * 1_000_000).rounded() / 1000).rounded(.down))
        var seconds = totalMilliseconds / 1000
        var milliseconds = totalMilliseconds % 1000
        if milliseconds < 0 {
            milliseconds += 1000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        return String(
            format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", year, month, day, secondOfDay / 3600,
            (secondOfDay % 3600) / 60, secondOfDay % 60, milliseconds)
    }

    /// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian; Howard Hinnant's algorithm).
    public static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
