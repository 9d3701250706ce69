// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// An OVER aggregation (``OverWindow``): every input row is emitted once, followed by the aggregates over its frame.
///
/// Streaming (event time), rows wait in their partition until the watermark passes their time; then the partitions'
/// due times are processed in time order. ROWS frames take a time's rows one at a time in arrival order; RANGE frames
/// take them together (peers share their results). Bounded frames retract the rows that fall out: beyond `preceding`
/// rows back, or more than `preceding` before the current time. As in Flink, a row is late and dropped when its time is
/// not after the watermark (unbounded frames) or not after the last time its partition processed (bounded frames).
///
/// Batch, each partition's rows are sorted by the ORDER BY key at the end of the input and processed in that order.
final class OverAggregateStage: Stage {
    let window: OverWindow
    let outputTypes: [SQLType]
    /// Per aggregate: whether it counts its values (MIN, MAX, DISTINCT) and which extreme it takes.
    private let keepsValues: [Bool]
    private let extremum: [Int]

    /// One partition's state.
    private final class Partition {
        let key: [Value]
        /// Streaming: rows waiting for the watermark, by time, each time's rows in arrival order.
        var pending: [Int64: [Row]] = [:]
        /// The rows of the frame with their ORDER BY values, oldest first from `frameStart` (bounded frames only).
        var frame: [(order: Int64, row: Row)] = []
        var frameStart = 0
        var accumulators: [Accumulator]
        /// The rows in the frame.
        var rowCount: Int64 = 0
        /// The last time processed (bounded frames' lateness).
        var lastProcessed = Int64.min
        /// Batch: the partition's rows in arrival order.
        var buffered: [Row] = []

        init(key: [Value], aggregates: Int) {
            self.key = key
            accumulators = Array(repeating: Accumulator(), count: aggregates)
        }
    }

    private var partitionIDs: [[Value]: Int] = [:]
    private var partitions: [Partition] = []
    /// Streaming: a (time, partition) entry per partition time with pending rows, least first.
    private var due = DueTimes()
    /// Rows dropped as late.
    private(set) var lateRows: Int64 = 0

    init(window: OverWindow, outputTypes: [SQLType]) {
        self.window = window
        self.outputTypes = outputTypes
        keepsValues = window.aggregates.map { $0.distinct || $0.function == .min || $0.function == .max }
        extremum = window.aggregates.map { $0.function == .min ? -1 : $0.function == .max ? 1 : 0 }
    }

    private func partition(for row: Row) -> Partition {
        let key = window.partitionKeys.map { row[$0] }
        if let id = partitionIDs[key] { return partitions[id] }
        let partition = Partition(key: key, aggregates: window.aggregates.count)
        partitionIDs[key] = partitions.count
        partitions.append(partition)
        return partition
    }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        guard window.isEventTime, let orderKey = window.orderKey else {
            for i in 0..<batch.count {
                let row = batch.row(i)
                let partition = partition(for: row)
                if batch.kinds[i].isAccumulate {
                    partition.buffered.append(row)
                } else if let index = partition.buffered.lastIndex(of: row) {
                    partition.buffered.remove(at: index)
                }
            }
            return []
        }
        let time = batch.columns[orderKey.column]
        guard case .int(let times) = time.data else { return [] }
        for i in 0..<batch.count {
            let t = times[i]
            guard !time.isNull(i) else {
                lateRows += 1
                continue
            }
            let row = batch.row(i)
            let partition = partition(for: row)
            let isLate = window.preceding == nil ? t <= outputWatermark : t <= partition.lastProcessed
            guard !isLate else {
                lateRows += 1
                continue
            }
            if partition.pending[t] == nil {
                partition.pending[t] = [row]
                due.push(time: t, partition: partitionIDs[partition.key]!)
            } else {
                partition.pending[t]!.append(row)
            }
        }
        return []
    }

    override func watermarkAdvanced(to watermark: Int64) throws(SQLError) -> [Batch] {
        var output: [Row] = []
        while let next = due.peek(), next.time <= watermark {
            due.pop()
            let partition = partitions[next.partition]
            guard let rows = partition.pending.removeValue(forKey: next.time) else { continue }
            partition.lastProcessed = next.time
            compute(partition, order: next.time, peers: rows, into: &output)
        }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: outputTypes)]
    }

    override func finish() throws(SQLError) -> [Batch] {
        guard !window.isEventTime else { return [] }
        var output: [Row] = []
        for partition in partitions {
            guard let orderKey = window.orderKey else {
                for row in partition.buffered { add(row, order: 0, to: partition) }
                let results = self.results(partition)
                for row in partition.buffered { output.append(row + results) }
                continue
            }
            let sorted = partition.buffered.enumerated().sorted { a, b in
                let c = Self.compare(a.element[orderKey.column], b.element[orderKey.column], orderKey)
                return c != 0 ? c < 0 : a.offset < b.offset
            }.map(\.element)
            var start = 0
            while start < sorted.count {
                var end = start + 1
                while end < sorted.count, Value.compare(sorted[end][orderKey.column], sorted[start][orderKey.column]) == 0 { end += 1 }
                let order: Int64
                if case .int(let value) = sorted[start][orderKey.column] { order = orderKey.ascending ? value : 0 &- value } else { order = .min }
                compute(partition, order: order, peers: Array(sorted[start..<end]), into: &output)
                start = end
            }
        }
        return output.isEmpty ? [] : [Batch(rows: output, kinds: Array(repeating: .insert, count: output.count), types: outputTypes)]
    }

    /// Processes rows sharing one ORDER BY value (`order`, increasing along the processing order) and appends them
    /// with their results.
    private func compute(_ partition: Partition, order: Int64, peers: [Row], into output: inout [Row]) {
        if window.isRows {
            for row in peers {
                add(row, order: order, to: partition)
                if let preceding = window.preceding {
                    while Int64(partition.frame.count - partition.frameStart - 1) > preceding { retractOldest(from: partition) }
                }
                output.append(row + results(partition))
            }
        } else {
            for row in peers { add(row, order: order, to: partition) }
            if let preceding = window.preceding {
                while partition.frameStart < partition.frame.count {
                    let (distance, overflow) = order.subtractingReportingOverflow(partition.frame[partition.frameStart].order)
                    guard overflow || distance > preceding else { break }
                    retractOldest(from: partition)
                }
            }
            let results = self.results(partition)
            for row in peers { output.append(row + results) }
        }
    }

    private func add(_ row: Row, order: Int64, to partition: Partition) {
        partition.rowCount += 1
        apply(row, sign: 1, to: partition)
        if window.preceding != nil { partition.frame.append((order, row)) }
    }

    private func retractOldest(from partition: Partition) {
        let oldest = partition.frame[partition.frameStart].row
        partition.frameStart += 1
        partition.rowCount -= 1
        apply(oldest, sign: -1, to: partition)
        // Drop the retracted prefix once it dominates the buffer.
        if partition.frameStart > 64, partition.frameStart * 2 > partition.frame.count {
            partition.frame.removeFirst(partition.frameStart)
            partition.frameStart = 0
        }
    }

    private func apply(_ row: Row, sign: Int64, to partition: Partition) {
        for (index, call) in window.aggregates.enumerated() {
            guard let argument = call.argument else { continue }
            partition.accumulators[index].apply(row[argument], sign: sign, keepValues: keepsValues[index], extremum: extremum[index])
        }
    }

    private func results(_ partition: Partition) -> [Value] {
        window.aggregates.indices.map { partition.accumulators[$0].result(window.aggregates[$0], rows: partition.rowCount) }
    }

    /// Sort order of ORDER BY values under `key` (NULLs placed as the key says).
    private static func compare(_ x: Value, _ y: Value, _ key: SortKey) -> Int {
        if x.isNull != y.isNull { return x.isNull == key.nullsFirst ? -1 : 1 }
        let c = Value.compare(x, y)
        return key.ascending ? c : -c
    }

    // MARK: Checkpoints

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(lateRows)
        writer.array(partitions) { writer, partition in
            writer.row(partition.key)
            writer.array(partition.pending.sorted { $0.key < $1.key }) { writer, entry in
                writer.int(entry.key)
                writer.rows(entry.value)
            }
            writer.array(partition.frame[partition.frameStart...]) { writer, entry in
                writer.int(entry.order)
                writer.row(entry.row)
            }
            writer.array(partition.accumulators) { writer, accumulator in accumulator.save(into: &writer) }
            writer.int(partition.rowCount)
            writer.int(partition.lastProcessed)
            writer.rows(partition.buffered)
        }
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        lateRows = try reader.int()
        partitionIDs = [:]
        partitions = []
        due = DueTimes()
        let count = try reader.count()
        for id in 0..<count {
            let partition = Partition(key: try reader.row(), aggregates: window.aggregates.count)
            let pending = try reader.array { reader throws(SQLError) in (try reader.int(), try reader.rows()) }
            for (time, rows) in pending {
                partition.pending[time] = rows
                due.push(time: time, partition: id)
            }
            partition.frame = try reader.array { reader throws(SQLError) in (try reader.int(), try reader.row()) }
            partition.accumulators = try reader.array { reader throws(SQLError) in try Accumulator(restoringFrom: &reader) }
            guard partition.accumulators.count == window.aggregates.count else { throw StateReader.malformed() }
            partition.rowCount = try reader.int()
            partition.lastProcessed = try reader.int()
            partition.buffered = try reader.rows()
            partitionIDs[partition.key] = id
            partitions.append(partition)
        }
    }
}

/// A binary min-heap of (time, partition) entries: the partitions' pending times, least time first (ties by
/// partition, in order of first appearance).
struct DueTimes {
    private var entries: [(time: Int64, partition: Int)] = []

    private static func less(_ a: (time: Int64, partition: Int), _ b: (time: Int64, partition: Int)) -> Bool {
        a.time != b.time ? a.time < b.time : a.partition < b.partition
    }

    func peek() -> (time: Int64, partition: Int)? { entries.first }

    mutating func push(time: Int64, partition: Int) {
        entries.append((time, partition))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var least = parent
            if left < entries.count, Self.less(entries[left], entries[least]) { least = left }
            if right < entries.count, Self.less(entries[right], entries[least]) { least = right }
            guard least != parent else { return }
            entries.swapAt(parent, least)
            parent = least
        }
    }
}
