// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Confluent Cloud's `SOURCE_WATERMARK()` for a Kafka table, the default watermark of `$rowtime` (kafka-tables.md §3):
/// computed per partition, as the greatest record timestamp seen less a tolerance, the 95th percentile of how far
/// records arrived behind that greatest timestamp over the partition's last 5,000 records, clamped to 50 ms … 7 days.
/// While a partition warms up the tolerance is at least 7 days (its first 250 records), then 30 s, 10 s and 1 s (each
/// next 250), so no usable watermark exists before about 250 records.
///
/// The table's watermark is the least of its partitions' that are not idle: a partition with no record for the
/// statement's idle timeout (``IdleTimeout``, progressive from 15 s by default) stops holding it back until it
/// produces again, and a partition that never produced holds it back until it is idle.
struct PartitionWatermarks {
    static let window = 5_000
    static let minimumTolerance: Int64 = 50
    static let maximumTolerance: Int64 = 7 * 86_400_000
    /// How often (in records) a partition's percentile is recomputed: the tolerance moves slowly, and the percentile
    /// is a selection over the whole window.
    static let recomputeEvery = 500

    struct Partition {
        var maxTimestamp = Int64.min
        var count: Int64 = 0
        /// How far behind `maxTimestamp` each of the last `window` records arrived (ms), a ring.
        var lateness: [Int64] = []
        var next = 0
        /// The percentile as last computed.
        var percentile: Int64 = 0
        var sinceRecompute = 0
        var lastActive: ContinuousClock.Instant

        /// The tolerance now: the clamped percentile, at least the warm-up margin.
        var tolerance: Int64 {
            let margin: Int64 =
                switch count {
                case ...250: PartitionWatermarks.maximumTolerance
                case ...500: 30_000
                case ...750: 10_000
                case ...1_000: 1_000
                default: 0
                }
            return max(margin, min(PartitionWatermarks.maximumTolerance, max(PartitionWatermarks.minimumTolerance, percentile)))
        }

        /// Takes a record; returns whether the percentile is due for recomputing.
        mutating func record(millis: Int64, now: ContinuousClock.Instant) -> Bool {
            lastActive = now
            count += 1
            let behind = maxTimestamp == .min ? 0 : max(0, maxTimestamp - millis)
            maxTimestamp = max(maxTimestamp, millis)
            if lateness.count < PartitionWatermarks.window {
                lateness.append(behind)
            } else {
                lateness[next] = behind
                next = (next + 1) % PartitionWatermarks.window
            }
            sinceRecompute += 1
            guard sinceRecompute >= PartitionWatermarks.recomputeEvery || count == 1_000 else { return false }
            sinceRecompute = 0
            return true
        }

        /// The partition's watermark (ms), nil before its first record.
        var watermark: Int64? { maxTimestamp == .min ? nil : maxTimestamp - tolerance }
    }

    /// By partition number (a topic's partitions are 0..<n).
    private(set) var partitions: [Partition] = []
    private let started: ContinuousClock.Instant
    private let idleTimeout: IdleTimeout
    private var scratch: [Int64] = []

    init(partitions ids: [Int32], idleTimeout: IdleTimeout, now: ContinuousClock.Instant) {
        started = now
        self.idleTimeout = idleTimeout
        partitions = Array(repeating: Partition(lastActive: now), count: Int(ids.max().map { $0 + 1 } ?? 0))
    }

    /// Takes a record of `partition` with timestamp `millis`. The partition is updated in place: its lateness window
    /// is never copied.
    mutating func observe(partition id: Int32, millis: Int64, now: ContinuousClock.Instant) {
        let index = Int(id)
        while partitions.count <= index { partitions.append(Partition(lastActive: now)) }
        let recompute = partitions[index].record(millis: millis, now: now)
        if recompute {
            let percentile = percentile95(partitions[index].lateness)
            partitions[index].percentile = percentile
        }
    }

    /// The 95th percentile (nearest rank) of `values`.
    private mutating func percentile95(_ values: [Int64]) -> Int64 {
        guard !values.isEmpty else { return 0 }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: values)
        let rank = min(scratch.count - 1, max(0, (scratch.count * 95 + 99) / 100 - 1))
        // Quickselect: the rank-th smallest without sorting the window.
        var low = 0
        var high = scratch.count - 1
        while low < high {
            let pivot = scratch[(low + high) / 2]
            var i = low
            var j = high
            while i <= j {
                while scratch[i] < pivot { i += 1 }
                while scratch[j] > pivot { j -= 1 }
                if i <= j {
                    scratch.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if rank <= j { high = j } else if rank >= i { low = i } else { break }
        }
        return scratch[rank]
    }

    /// The table's watermark now (event-time microseconds): the least of the partitions that are not idle; nil while
    /// one of them has none yet, or when every partition is idle.
    func watermark(now: ContinuousClock.Instant) -> Int64? {
        var least: Int64?
        for partition in partitions {
            let timeout = idleTimeout.timeout(age: partition.lastActive - started)
            if let timeout, now - partition.lastActive >= timeout { continue }
            guard let watermark = partition.watermark else { return nil }
            least = min(least ?? watermark, watermark)
        }
        return least.map { $0 &* 1000 }
    }

    // MARK: Checkpoints

    /// What a checkpoint keeps of each partition: its greatest timestamp, its record count and its tolerance (the
    /// lateness window itself starts afresh after a restore).
    func save(into writer: inout StateWriter) {
        writer.array(partitions) { writer, partition in
            writer.int(partition.maxTimestamp)
            writer.int(partition.count)
            writer.int(partition.percentile)
        }
    }

    mutating func restore(from reader: inout StateReader, now: ContinuousClock.Instant) throws(SQLError) {
        let entries = try reader.array { reader throws(SQLError) in (try reader.int(), try reader.int(), try reader.int()) }
        for (index, (maxTimestamp, count, percentile)) in entries.enumerated() {
            while partitions.count <= index { partitions.append(Partition(lastActive: now)) }
            partitions[index].maxTimestamp = maxTimestamp
            partitions[index].count = count
            partitions[index].percentile = percentile
        }
    }
}
