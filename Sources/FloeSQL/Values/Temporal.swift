// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// Calendar arithmetic on the engine's temporal representations: days since 1970-01-01 for DATE, microseconds of
/// the day for TIME, microseconds since the epoch for TIMESTAMP (a wall-clock reading) and TIMESTAMP_LTZ (an
/// instant). Proleptic Gregorian calendar, as Flink uses.
enum Temporal {
    static let microsPerSecond: Int64 = 1_000_000
    static let microsPerDay: Int64 = 86_400_000_000

    /// A calendar date.
    struct CivilDate: Equatable {
        var year: Int64
        var month: Int64
        var day: Int64
    }

    /// The days since 1970-01-01 of a calendar date.
    static func days(_ date: CivilDate) -> Int64 {
        let y = date.month <= 2 ? date.year - 1 : date.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = (date.month + 9) % 12
        let dayOfYear = (153 * monthIndex + 2) / 5 + date.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The calendar date of a day number.
    static func civil(_ days: Int64) -> CivilDate {
        let date = RFC3339.civilDate(daysSinceEpoch: days)
        return CivilDate(year: date.year, month: date.month, day: date.day)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    static func isLeap(_ year: Int64) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // MARK: Formatting

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(abs(value))
        let padded = text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        return value < 0 ? "-" + padded : padded
    }

    static func formatDate(_ days: Int64) -> String {
        let date = civil(days)
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))"
    }

    /// `HH:MM:SS` plus `precision` fraction digits.
    static func formatTime(_ micros: Int64, precision: Int) -> String {
        let seconds = micros / microsPerSecond
        var text = "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
        if precision > 0 {
            let fraction = pad(micros % microsPerSecond, 6) + "000"
            text += "." + fraction.prefix(precision)
        }
        return text
    }

    static func formatTimestamp(_ micros: Int64, precision: Int) -> String {
        let day = floorDiv(micros, microsPerDay)
        return formatDate(day) + " " + formatTime(floorMod(micros, microsPerDay), precision: precision)
    }

    /// Truncates microseconds to `precision` fraction digits.
    static func truncate(_ micros: Int64, precision: Int) -> Int64 {
        guard precision < 6 else { return micros }
        var unit: Int64 = 1
        for _ in precision..<6 { unit *= 10 }
        return floorDiv(micros, unit) * unit
    }

    // MARK: Parsing

    /// `YYYY-MM-DD` (leading/trailing blanks allowed).
    static func parseDate(_ text: String) -> Int64? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]),
            (1...12).contains(m), d >= 1, d <= daysInMonth(y, m)
        else { return nil }
        return days(CivilDate(year: y, month: m, day: d))
    }

    /// `HH:MM[:SS[.fffffffff]]`.
    static func parseTime(_ text: String) -> Int64? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let h = Int64(parts[0]), let m = Int64(parts[1]), (0..<24).contains(h),
            (0..<60).contains(m)
        else { return nil }
        var micros = (h * 3600 + m * 60) * microsPerSecond
        if parts.count == 3 {
            let secondParts = parts[2].split(separator: ".", omittingEmptySubsequences: false)
            guard let s = Int64(secondParts[0]), (0..<60).contains(s), secondParts.count <= 2 else { return nil }
            micros += s * microsPerSecond
            if secondParts.count == 2 {
                let digits = secondParts[1]
                guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isNumber) else { return nil }
                let six = String((digits + "000000").prefix(6))
                micros += Int64(six) ?? 0
            }
        }
        return micros
    }

    /// `YYYY-MM-DD[( |T)HH:MM[:SS[.f]]]`, as microseconds since the epoch.
    static func parseTimestamp(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let separator = trimmed.firstIndex { $0 == " " || $0 == "T" }
        guard let separator else { return parseDate(trimmed).map { $0 * microsPerDay } }
        guard let day = parseDate(String(trimmed[..<separator])),
            let time = parseTime(String(trimmed[trimmed.index(after: separator)...]))
        else { return nil }
        return day * microsPerDay + time
    }

    // MARK: Time zones

    /// The time zone named by `sql.local-time-zone` (UTC when absent or unknown).
    static func zone(_ name: String?) -> TimeZone {
        guard let name, let zone = TimeZone(identifier: name) ?? TimeZone(abbreviation: name) else {
            return TimeZone(identifier: "UTC")!
        }
        return zone
    }

    /// The wall-clock reading in `zone` of an instant.
    static func local(_ instantMicros: Int64, in zone: TimeZone) -> Int64 {
        let date = Date(timeIntervalSince1970: Double(floorDiv(instantMicros, microsPerSecond)))
        return instantMicros + Int64(zone.secondsFromGMT(for: date)) * microsPerSecond
    }

    /// The instant at which `zone` reads the wall-clock time `localMicros`.
    static func instant(_ localMicros: Int64, in zone: TimeZone) -> Int64 {
        let guess = Date(timeIntervalSince1970: Double(floorDiv(localMicros, microsPerSecond)))
        let offset = Int64(zone.secondsFromGMT(for: guess)) * microsPerSecond
        return localMicros - offset
    }

    /// Now, as microseconds since the epoch.
    static func nowMicros() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)) }
}
