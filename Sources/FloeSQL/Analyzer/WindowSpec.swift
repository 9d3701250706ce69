// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The shape of a windowing table function (`TUMBLE`, `HOP`, `CUMULATE`), lengths in microseconds.
enum WindowKind: Sendable, Equatable {
    case tumble(size: Int64)
    case hop(slide: Int64, size: Int64)
    case cumulate(step: Int64, size: Int64)

    var name: String {
        switch self {
        case .tumble: "TUMBLE"
        case .hop: "HOP"
        case .cumulate: "CUMULATE"
        }
    }
}

/// One window TVF application: which input column holds the time, how rows map to windows.
struct WindowSpec: Sendable, Equatable {
    var kind: WindowKind
    /// Shifts window alignment away from the epoch (`OFFSET`), in microseconds.
    var offset: Int64
    /// The input column holding each row's time.
    var timeColumn: Int
    /// For a TIMESTAMP_LTZ time column, the session time zone whose wall clock aligns the windows (Flink assigns
    /// LTZ windows in local time); nil for TIMESTAMP.
    var localZone: String?

    /// Flink's `window_time`: the window's last instant, one millisecond before its end.
    static let windowTimeGap: Int64 = 1_000

    /// The types of `window_start`, `window_end` and `window_time` (TIMESTAMP_LTZ for windows over TIMESTAMP_LTZ).
    static func addedTypes(isLocal: Bool) -> [SQLType] {
        let bound = SQLType(.timestamp(3), nullable: false)
        return [bound, bound, SQLType(isLocal ? .timestampLTZ(3) : .timestamp(3), nullable: false)]
    }

    /// Calls `body` with each window `[start, end)` a row at local time `t` belongs to, in ascending start order,
    /// without building an array (the per-row path of window assignment).
    @inline(__always)
    func forEachWindow(containing t: Int64, _ body: (_ start: Int64, _ end: Int64) -> Void) {
        switch kind {
        case .tumble(let size):
            let start = t - Temporal.floorMod(t - offset, size)
            body(start, start + size)
        case .hop(let slide, let size):
            let last = t - Temporal.floorMod(t - offset, slide)
            // The windows start at last, last - slide, … while the start is after t - size.
            let count = (last - t + size + slide - 1) / slide
            var start = last - (count - 1) * slide
            while start <= last {
                body(start, start + size)
                start += slide
            }
        case .cumulate(let step, let size):
            let start = t - Temporal.floorMod(t - offset, size)
            var end = start + step
            while end <= start + size {
                if end > t { body(start, end) }
                end += step
            }
        }
    }

    /// The windows `[start, end)` a row at local time `t` belongs to, in ascending start order.
    func windows(containing t: Int64) -> [(start: Int64, end: Int64)] {
        switch kind {
        case .tumble(let size):
            let start = t - Temporal.floorMod(t - offset, size)
            return [(start, start + size)]
        case .hop(let slide, let size):
            let last = t - Temporal.floorMod(t - offset, slide)
            var windows: [(Int64, Int64)] = []
            var start = last
            while start > t - size {
                windows.append((start, start + size))
                start -= slide
            }
            return windows.reversed()
        case .cumulate(let step, let size):
            let start = t - Temporal.floorMod(t - offset, size)
            var windows: [(Int64, Int64)] = []
            var end = start + step
            while end <= start + size {
                if end > t { windows.append((start, end)) }
                end += step
            }
            return windows
        }
    }

    /// The text EXPLAIN prints.
    var explanation: String {
        func span(_ micros: Int64) -> String {
            let ms = micros / 1_000
            if ms % 3_600_000 == 0 { return "\(ms / 3_600_000) h" }
            if ms % 60_000 == 0 { return "\(ms / 60_000) min" }
            if ms % 1_000 == 0 { return "\(ms / 1_000) s" }
            return "\(ms) ms"
        }
        let shape: String
        switch kind {
        case .tumble(let size): shape = "size=[\(span(size))]"
        case .hop(let slide, let size): shape = "slide=[\(span(slide))], size=[\(span(size))]"
        case .cumulate(let step, let size): shape = "max_size=[\(span(size))], step=[\(span(step))]"
        }
        return "\(kind.name)(time_col=[$\(timeColumn)], \(shape)\(offset != 0 ? ", offset=[\(span(offset))]" : ""))"
    }
}

/// What a column produced by a window TVF is, so that GROUP BY can recognize a window aggregation.
enum WindowRole: Sendable, Equatable {
    case start
    case end
    /// `window_time` (a time attribute of the output).
    case time
}
