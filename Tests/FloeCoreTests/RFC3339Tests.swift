// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

/// Formatting timestamps as the API writes them: UTC, millisecond precision, `Z`.
@Suite struct RFC3339Tests {
    /// A date `milliseconds` after the epoch, built without binary-fraction rounding surprises in the test itself.
    func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (86_399_000, "1970-01-01T23:59:59.000Z"),
        (86_400_000, "1970-01-02T00:00:00.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (951_827_696_000, "2000-02-29T12:34:56.000Z"),
        (951_868_800_000, "2000-03-01T00:00:00.000Z"),
        (1_709_251_199_000, "2024-02-29T23:59:59.000Z"),
        (1_709_251_200_000, "2024-03-01T00:00:00.000Z"),
        (4_107_456_000_000, "2100-02-28T00:00:00.000Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),  // 2100 is not a leap year
        (1_795_427_280_000, "2026-11-23T09:48:00.000Z"),
        (1_000_000_000_000, "2001-09-09T01:46:40.000Z"),
        (2_147_483_647_000, "2038-01-19T03:14:07.000Z"),
        (2_147_483_648_000, "2038-01-19T03:14:08.000Z"),
        (253_402_300_799_000, "9999-12-31T23:59:59.000Z"),
    ])
    func knownInstants(milliseconds: Int64, expected: String) {
        #expect(RFC3339.format(date(milliseconds: milliseconds)) == expected)
    }

    @Test(arguments: [
        (Int64(-1_000), "1969-12-31T23:59:59.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-86_400_000, "1969-12-31T00:00:00.000Z"),
        (-86_400_001, "1969-12-30T23:59:59.999Z"),
        (-2_203_891_200_000, "1900-03-01T00:00:00.000Z"),  // 1900 is not a leap year
        (-2_203_977_600_000, "1900-02-28T00:00:00.000Z"),
        (-11_670_998_400_000, "1600-02-29T00:00:00.000Z"),  // 1600 is
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
    ])
    func datesBefore1970(milliseconds: Int64, expected: String) {
        #expect(RFC3339.format(date(milliseconds: milliseconds)) == expected)
    }

    @Test(arguments: [
        (Int64(1), "1970-01-01T00:00:00.001Z"),
        (10, "1970-01-01T00:00:00.010Z"),
        (123, "1970-01-01T00:00:00.123Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (1_001, "1970-01-01T00:00:01.001Z"),
        (951_827_696_789, "2000-02-29T12:34:56.789Z"),
        (1_795_427_280_123, "2026-11-23T09:48:00.123Z"),
    ])
    func millisecondsAreAlwaysThreeDigits(milliseconds: Int64, expected: String) {
        #expect(RFC3339.format(date(milliseconds: milliseconds)) == expected)
    }

    @Test func subMillisecondsAreTruncatedNotRounded() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0.0009)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 59.9999)) == "1970-01-01T00:00:59.999Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -0.0001)) == "1969-12-31T23:59:59.999Z")
    }

    @Test func everyRecentMillisecondFormatsItself() throws {
        // Whole milliseconds of a recent instant must not lose a millisecond to binary rounding.
        let base: Int64 = 1_795_427_280_000
        var wrong: [String] = []
        for offset in 0..<1000 {
            let milliseconds = base + Int64(offset)
            let text = RFC3339.format(date(milliseconds: milliseconds))
            if !text.hasSuffix(String(format: ".%03dZ", offset)) { wrong.append("\(milliseconds) → \(text)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) of 1000 wrong, e.g. \(wrong.prefix(3))")
    }

    @Test func agreesWithISO8601DateFormatterEveryDayFor1960Through2040() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let start = try #require(formatter.date(from: "1960-01-01T00:00:00.000Z"))
        let end = try #require(formatter.date(from: "2040-12-31T00:00:00.000Z"))
        var day = start
        var mismatches: [String] = []
        // Noon plus a few seconds so that every component is exercised.
        while day <= end {
            let instant = day.addingTimeInterval(12 * 3600 + 34 * 60 + 56)
            let ours = RFC3339.format(instant)
            let theirs = formatter.string(from: instant)
            if ours != theirs { mismatches.append("\(theirs) vs \(ours)") }
            day = day.addingTimeInterval(86_400)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
