// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Testing

@testable import FloeServer

/// The crash-loop breaker: a statement is failed only when the process died preparing it twice.
@Suite struct PreparationMarkerTests {
    @Test func aStatementIsFailedAfterTwoInterruptedPreparations() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("floe-preparing-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        // A preparation that ends leaves nothing behind.
        var marker = PreparationMarker(url: url)
        marker.begin("a")
        marker.end("a")
        #expect(!FileManager.default.fileExists(atPath: url.path))
        // The process dies while preparing a: once is forgiven…
        marker.begin("a")
        var restarted = PreparationMarker(url: url)
        #expect(restarted.statementsToFail.isEmpty)
        // …while other statements are prepared in between, and it dies preparing a again: a is failed.
        restarted.begin("b")
        restarted.end("b")
        restarted.begin("a")
        var again = PreparationMarker(url: url)
        #expect(again.statementsToFail == ["a"])
        again.end("a")
        #expect(PreparationMarker(url: url).statementsToFail.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func preparationsThatEndStartAfresh() {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("floe-preparing-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        var marker = PreparationMarker(url: url)
        marker.begin("a")
        var restarted = PreparationMarker(url: url)
        restarted.begin("a")
        restarted.end("a")
        restarted.begin("a")
        #expect(PreparationMarker(url: url).statementsToFail.isEmpty)
    }
}
