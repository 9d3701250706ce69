// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSQL
import Foundation

// Engine throughput on one core, against a hand-written baseline measured in the same run: the same generated
// columns, filtered and projected (or grouped) by a tight Swift loop with no engine around it — the ceiling.

let rows = Int(ProcessInfo.processInfo.environment["BENCH_ROWS"] ?? "") ?? 10_000_000

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// `WHERE id % 3 <> 0 AND price > 50.0` then `id * 2 + 1, price * 1.5, id`, generating the same batches.
func handWrittenFilterProjection() -> Double {
    var checksum: Int64 = 0
    let time = seconds {
        var next: Int64 = 0
        var outIDs = [Int64](), outPrices = [Double](), outRaw = [Int64]()
        while next < Int64(rows) {
            let count = min(4096, rows - Int(next))
            var ids = [Int64](repeating: 0, count: count)
            var prices = [Double](repeating: 0, count: count)
            for i in 0..<count {
                ids[i] = next + Int64(i)
                prices[i] = Double((next + Int64(i)) % 100)
            }
            next += Int64(count)
            outIDs.removeAll(keepingCapacity: true)
            outPrices.removeAll(keepingCapacity: true)
            outRaw.removeAll(keepingCapacity: true)
            for i in 0..<count where ids[i] % 3 != 0 && prices[i] > 50 {
                outIDs.append(ids[i] * 2 + 1)
                outPrices.append(prices[i] * 1.5)
                outRaw.append(ids[i])
            }
            checksum &+= Int64(outIDs.count)
        }
    }
    precondition(checksum > 0)
    return Double(rows) / time
}

/// `SELECT k, COUNT(*), SUM(v) … GROUP BY k` as running per-group counters, one update per row.
func handWrittenGroupBy() -> Double {
    var counts = [Int64](repeating: 0, count: 1_000)
    var sums = [Int64](repeating: 0, count: 1_000)
    let time = seconds {
        for row in 0..<Int64(rows) {
            let key = Int(row % 1_000)
            counts[key] += 1
            sums[key] &+= row
        }
    }
    precondition(counts.reduce(0, +) == Int64(rows))
    return Double(rows) / time
}

func report(_ name: String, engine: Double, baseline: Double, target: Double?) {
    let line = String(
        format: "%-22@ engine %6.2fM rows/s, hand-written %7.2fM rows/s, ratio %.2f", name as NSString, engine / 1e6, baseline / 1e6,
        engine / baseline)
    print(line)
    if let target { print("\(engine >= target ? "PASS" : "FAIL"): \(name) >= \(Int(target / 1e6))M rows/s on one core") }
}

print("engine throughput over \(rows) generated rows, one core")
let filterBaseline = handWrittenFilterProjection()
let filterEngine = try FloeBenchmark.filterProjection(rows: rows)
report("filter+projection", engine: filterEngine, baseline: filterBaseline, target: 10e6)
let groupBaseline = handWrittenGroupBy()
let groupEngine = try FloeBenchmark.groupBy(rows: rows)
report("GROUP BY (streaming)", engine: groupEngine, baseline: groupBaseline, target: nil)
let regexRows = min(rows, 1_000_000)
let regex = FloeBenchmark.regexExtract(rows: regexRows)
print(
    String(
        format: "REGEXP_EXTRACT (q21)   NSRegularExpression %5.2fM rows/s, JavaRegex %5.2fM rows/s, speed-up %.1fx over %d URLs%@",
        regex.foundation / 1e6, regex.javaRegex / 1e6, regex.javaRegex / regex.foundation, regexRows, regex.sameResults ? "" : " (RESULTS DIFFER)"))
