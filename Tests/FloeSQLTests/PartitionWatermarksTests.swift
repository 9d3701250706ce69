// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Testing

@testable import FloeSQL

/// `SOURCE_WATERMARK()` of Kafka tables: per partition, the greatest timestamp less the p95 lateness (clamped), with
/// the warm-up margins and idle partitions of kafka-tables.md §3.
@Suite struct PartitionWatermarksTests {
    let start = ContinuousClock.now

    @Test func warmUpMarginsThenThePercentileClamped() {
        var marks = PartitionWatermarks(partitions: [0], idleTimeout: .disabled, now: start)
        #expect(marks.watermark(now: start) == nil, "no record, no watermark")
        let base: Int64 = 1_700_000_000_000
        func feed(_ count: Int, from first: Int) {
            for index in first..<(first + count) { marks.observe(partition: 0, millis: base + Int64(index) * 1_000, now: start) }
        }
        feed(250, from: 0)
        #expect(marks.watermark(now: start) == (base + 249_000 - 7 * 86_400_000) * 1000)
        feed(1, from: 250)
        #expect(marks.watermark(now: start) == (base + 250_000 - 30_000) * 1000)
        feed(250, from: 251)
        #expect(marks.watermark(now: start) == (base + 500_000 - 10_000) * 1000)
        feed(500, from: 501)
        // In order: the percentile is 0, clamped up to 50 ms.
        #expect(marks.watermark(now: start) == (base + 1_000_000 - 50) * 1000)
    }

    @Test func thePercentileFollowsOutOfOrderRecords() {
        var marks = PartitionWatermarks(partitions: [0], idleTimeout: .disabled, now: start)
        let base: Int64 = 1_700_000_000_000
        // Every 10th record (10%) arrives 2 s late, the others in order: p95 of the lateness is 2 s.
        for index in 0..<2_000 {
            let late = index % 10 == 9
            marks.observe(partition: 0, millis: base + Int64(index) * 100 - (late ? 2_000 : 0), now: start)
        }
        // The late records arrive 1.9 s behind the greatest timestamp before them.
        let greatest = base + 1_998 * 100
        #expect(marks.watermark(now: start) == (greatest - 1_900) * 1000)
    }

    @Test func theLeastActivePartitionHoldsTheWatermarkUntilItIsIdle() {
        var marks = PartitionWatermarks(partitions: [0, 1], idleTimeout: .fixed(.seconds(15)), now: start)
        let base: Int64 = 1_700_000_000_000
        for index in 0..<1_200 { marks.observe(partition: 0, millis: base + Int64(index) * 1_000, now: start + .seconds(10)) }
        // Partition 1 never produced: no watermark until it is idle.
        #expect(marks.watermark(now: start + .seconds(1)) == nil)
        #expect(marks.watermark(now: start + .seconds(16)) == (base + 1_199_000 - 50) * 1000)
        for index in 0..<1_100 { marks.observe(partition: 1, millis: base + Int64(index) * 500, now: start + .seconds(20)) }
        // Active again, behind partition 0: it holds the watermark back.
        #expect(marks.watermark(now: start + .seconds(21)) == (base + 1_099 * 500 - 50) * 1000)
        // Partition 0 went silent long ago; it is idle, partition 1 alone decides.
        #expect(marks.watermark(now: start + .seconds(34)) == (base + 1_099 * 500 - 50) * 1000)
    }

    @Test func aCheckpointKeepsEachPartitionsProgress() throws {
        var marks = PartitionWatermarks(partitions: [0], idleTimeout: .disabled, now: start)
        for index in 0..<1_500 { marks.observe(partition: 0, millis: Int64(index) * 1_000, now: start) }
        var writer = StateWriter()
        marks.save(into: &writer)
        var restored = PartitionWatermarks(partitions: [0], idleTimeout: .disabled, now: start)
        var reader = StateReader(writer.bytes)
        try restored.restore(from: &reader, now: start)
        #expect(restored.watermark(now: start) == marks.watermark(now: start))
    }
}
