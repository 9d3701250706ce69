// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Testing

@testable import FloeCLI

/// The units `floe serve` accepts for durations and sizes.
@Suite struct ServeOptionTests {
    @Test func durations() {
        #expect(ServeCommand.duration("30d") == .seconds(30 * 86_400))
        #expect(ServeCommand.duration("12h") == .seconds(12 * 3_600))
        #expect(ServeCommand.duration("90m") == .seconds(90 * 60))
        #expect(ServeCommand.duration("45s") == .seconds(45))
        #expect(ServeCommand.duration("2.5") == .milliseconds(2_500))
        for bad in ["", "0", "-1d", "soon", "3w", "d", "99999d", "nan"] { #expect(ServeCommand.duration(bad) == nil, "\(bad)") }
    }

    @Test func sizes() {
        #expect(ServeCommand.byteCount("64MiB") == 64 << 20)
        #expect(ServeCommand.byteCount("1GiB") == 1 << 30)
        #expect(ServeCommand.byteCount("500KB") == 500_000)
        #expect(ServeCommand.byteCount("2 GB") == 2_000_000_000)
        #expect(ServeCommand.byteCount("65536") == 65_536)
        for bad in ["", "0", "-5MiB", "lots", "MiB", "1e20"] { #expect(ServeCommand.byteCount(bad) == nil, "\(bad)") }
    }
}
