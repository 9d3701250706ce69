// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSQL
import Foundation
import Synchronization

// Runs Nexmark queries (bench/nexmark/queries/*.sql: one SELECT over person, auction and bid) on Floe's embedded
// engine, on one core, over the JSON-lines files of bench/nexmark/generate.py, the way flink/run_query.py runs them
// on Flink:
//
// 1. timed: `CREATE TABLE nexmark_sink WITH ('connector' = 'blackhole') AS <query>`, wall time from preparing the
//    statement to its end; events/s = lines of the files the query reads / seconds, and events per CPU second (the
//    process's CPU time over the same span). With Flink's timed figures for the same data set (`--flink`, by default
//    results/<data set>/summary.json), a table of both engines' figures and the ratios follows;
// 2. results: the query itself, its changelog applied (+I/+U add a row, -U/-D remove one occurrence), the final rows
//    as Flink's CAST(… AS STRING) prints them, sorted, one per line, tab-separated, NULL as <NULL> — the same file
//    flink/run_query.py writes, so `cmp` tells whether the engines agree.
//
// Usage: floe-nexmark-bench --data DIR [--results DIR] [--mode timed|results|both] [--repeat N] [--flink SUMMARY.json] QUERY...

struct Options {
    var data = ""
    var results: String?
    var mode = "both"
    var repeats = 1
    var flink: String?
    var queries: [String] = []
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--data": options.data = arguments.next() ?? ""
        case "--results": options.results = arguments.next()
        case "--mode": options.mode = arguments.next() ?? "both"
        case "--repeat": options.repeats = Int(arguments.next() ?? "") ?? 1
        case "--flink": options.flink = arguments.next()
        case "-h", "--help":
            print("usage: floe-nexmark-bench --data DIR [--results DIR] [--mode timed|results|both] [--repeat N] [--flink SUMMARY.json] QUERY...")
            exit(0)
        default: options.queries.append(argument)
        }
    }
    guard !options.data.isEmpty, !options.queries.isEmpty else {
        FileHandle.standardError.write(
            "usage: floe-nexmark-bench --data DIR [--results DIR] [--mode timed|results|both] [--repeat N] [--flink SUMMARY.json] QUERY...\n".data(
                using: .utf8)!)
        exit(64)
    }
    return options
}

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let tables: [(name: String, columns: String)] = [
    (
        "person",
        "id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, city VARCHAR, state VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR"
    ),
    (
        "auction",
        "id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT, reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, category BIGINT, extra VARCHAR"
    ),
    ("bid", "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR"),
]

/// Counts changes, or keeps them (results mode).
final class Receiver: ResultReceiver {
    let keep: Bool
    private let state = Mutex<(count: Int, changes: [ResultChange])>((0, []))

    init(keep: Bool) { self.keep = keep }

    func deliver(_ changes: [ResultChange]) async throws {
        let keep = self.keep
        state.withLock {
            $0.count += changes.count
            if keep { $0.changes.append(contentsOf: changes) }
        }
    }

    var count: Int { state.withLock { $0.count } }
    var changes: [ResultChange] { state.withLock { $0.changes } }
}

func lineCount(_ path: String) -> Int {
    guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
    defer { try? handle.close() }
    var count = 0
    while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
        count += chunk.withUnsafeBytes { bytes in
            var lines = 0
            var rest = bytes[...]
            while let newline = rest.firstIndex(of: 0x0A) {
                lines += 1
                rest = rest[(newline + 1)...]
            }
            return lines
        }
    }
    return count
}

func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n")
        .replacingOccurrences(of: "\r", with: "\\r")
}

/// CPU seconds this process has used (all threads), the "per core" measure: events per CPU second do not depend on
/// how many cores an engine spreads its work over.
func processCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Flink's figures for the same data set, from `flink/run_query.py`'s summary (`results/<data set>/summary.json`).
struct FlinkFigures {
    var eventsPerSecond: Double
    var eventsPerCPUSecond: Double?

    static func load(_ path: String) -> [String: FlinkFigures] {
        guard let data = FileManager.default.contents(atPath: path), let summary = try? JSONValue.parse(data),
            case .object(let queries) = summary
        else { return [:] }
        var figures: [String: FlinkFigures] = [:]
        for (name, entry) in queries {
            guard let timed = entry["timed"], let rate = timed["events_per_s_job"]?.number else { continue }
            figures[name] = FlinkFigures(eventsPerSecond: rate, eventsPerCPUSecond: timed["events_per_cpu_s"]?.number)
        }
        return figures
    }
}

extension JSONValue {
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

func grouped(_ value: Double) -> String {
    let digits = String(Int(value.rounded()))
    var out = ""
    for (index, character) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return out
}

/// The median (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func run() async throws {
    let options = parseOptions()
    let data = URL(fileURLWithPath: options.data).standardizedFileURL.path
    let resultsDirectory = options.results ?? here.appendingPathComponent("results/floe-\(URL(fileURLWithPath: data).lastPathComponent)").path
    try FileManager.default.createDirectory(atPath: resultsDirectory, withIntermediateDirectories: true)
    // generate.py's manifest has the counts; counting lines costs as many instructions as a simple query, which
    // profile.sh would otherwise charge to every query.
    let manifest = FileManager.default.contents(atPath: "\(data)/manifest.json").flatMap { try? JSONValue.parse($0) }
    let counts = Dictionary(
        uniqueKeysWithValues: tables.map { table in
            (table.name, manifest?["counts"]?[table.name]?.number.map { Int($0) } ?? lineCount("\(data)/\(table.name).json"))
        })
    print("data: \(data) — " + tables.map { "\($0.name) \(counts[$0.name]!)" }.joined(separator: ", "))
    var summary: [(String, JSONValue)] = []
    let flinkSummary = options.flink ?? here.appendingPathComponent("results/\(URL(fileURLWithPath: data).lastPathComponent)/summary.json").path
    let flink = FlinkFigures.load(flinkSummary)
    var comparisons: [String] = []

    for query in options.queries {
        let name = query.hasSuffix(".sql") ? URL(fileURLWithPath: query).deletingPathExtension().lastPathComponent : query
        let path = query.hasSuffix(".sql") ? query : here.appendingPathComponent("queries/\(query).sql").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let sql = text.components(separatedBy: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        let read = tables.map(\.name).filter {
            sql.range(of: "\\b(FROM|JOIN|TABLE|,)\\s*\($0)\\b", options: [.regularExpression, .caseInsensitive]) != nil
        }
        let events = read.reduce(0) { $0 + counts[$1]! }

        // A fresh engine per query, the tables over the files.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floe-nexmark-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try EmbeddedEngine(directory: directory)
        let catalog = CatalogIdentity(id: "env-bench", name: "nexmark")
        let session = SessionContext.unrestricted(catalog: catalog, catalogs: [catalog], properties: [:])
        func execute(_ statement: String, keep: Bool = false) async throws -> Receiver {
            let receiver = Receiver(keep: keep)
            try await engine.prepare(statement, in: session).run(deliveringTo: receiver, skippingFirst: 0)
            return receiver
        }
        for table in tables {
            _ = try await execute(
                """
                CREATE TABLE \(table.name) (\(table.columns), WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND)
                WITH ('connector' = 'filesystem', 'path' = '\(data)/\(table.name).json', 'format' = 'json')
                """)
        }
        var entry: [(String, JSONValue)] = [("events", .int(Int64(events)))]
        if options.mode != "results" {
            var timings: [(wall: Double, cpu: Double)] = []
            for round in 0..<options.repeats {
                let start = ContinuousClock.now
                let cpuStart = processCPUSeconds()
                _ = try await execute("CREATE TABLE nexmark_sink_\(round) WITH ('connector' = 'blackhole') AS \(sql)")
                timings.append((seconds(since: start), processCPUSeconds() - cpuStart))
            }
            // Medians of the runs, wall and CPU time each, as flink/run_query.py reports Flink's: both sides by the
            // same method (the best run would flatter whichever side has the wider spread).
            let wall = median(timings.map(\.wall))
            let cpu = median(timings.map(\.cpu))
            let perSecond = Double(events) / wall
            let perCPUSecond = Double(events) / cpu
            print(
                "\(name): \(events) events in \(String(format: "%.3f", wall)) s = \(grouped(perSecond)) events/s, "
                    + "\(grouped(perCPUSecond)) events per CPU second (median of \(timings.count); runs: "
                    + "\(timings.map { String(format: "%.3f", $0.wall) }.joined(separator: ", ")))"
            )
            entry.append(("seconds", .double(wall)))
            entry.append(("cpu_seconds", .double(cpu)))
            entry.append(("events_per_second", .double(perSecond)))
            entry.append(("events_per_cpu_second", .double(perCPUSecond)))
            if let figures = flink[name] {
                var line = "\(name)\t\(grouped(perSecond))\t\(grouped(perCPUSecond))\t\(grouped(figures.eventsPerSecond))"
                if let flinkPerCPU = figures.eventsPerCPUSecond {
                    line += "\t\(grouped(flinkPerCPU))\t\(String(format: "%.2f", perCPUSecond / flinkPerCPU))"
                } else {
                    line += "\t-\t-"
                }
                line += "\t\(String(format: "%.2f", perSecond / figures.eventsPerSecond))"
                comparisons.append(line)
            }
        }
        if options.mode != "timed" {
            let start = ContinuousClock.now
            let receiver = try await execute(sql, keep: true)
            var rows: [String: Int] = [:]
            for change in receiver.changes {
                let line = change.row.map { value -> String in
                    if case .string(let text) = value { return escape(text) }
                    if case .null = value { return "<NULL>" }
                    return escape("\(value)")
                }.joined(separator: "\t")
                switch change.kind {
                case .insert, .updateAfter: rows[line, default: 0] += 1
                case .updateBefore, .delete:
                    rows[line, default: 0] -= 1
                    if rows[line] == 0 { rows[line] = nil }
                }
            }
            let lines = rows.flatMap { line, count in Array(repeating: line + "\n", count: max(count, 0)) }
                // UTF-8 byte order is code point order, which is how Python sorts str.
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let output = "\(resultsDirectory)/\(name).tsv"
            try lines.joined().write(toFile: output, atomically: true, encoding: .utf8)
            print(
                "\(name): \(lines.count) result rows (\(receiver.count) changes) in \(String(format: "%.3f", seconds(since: start))) s -> \(output)")
            entry.append(("result_rows", .int(Int64(lines.count))))
        }
        summary.append((name, .object(entry)))
    }
    if !comparisons.isEmpty {
        print("\nagainst Flink (\(flinkSummary)): events/s and events per CPU second (\"per core\"), Floe then Flink, and the ratios")
        print("query\tFloe ev/s\tFloe ev/CPU-s\tFlink ev/s (job)\tFlink ev/CPU-s (job)\tratio per core\tratio ev/s")
        for line in comparisons { print(line) }
    } else if options.mode != "results" {
        print("(no Flink figures in \(flinkSummary): run flink/run_query.py --mode timed on the same data to compare)")
    }
    try String(decoding: JSONValue.object(summary).serialized(), as: UTF8.self).write(
        toFile: "\(resultsDirectory)/summary.json", atomically: true, encoding: .utf8)
}

// The main thread waits for the run rather than `await` it: an async top level hands the main thread to
// `dispatch_main`, which valgrind 3.19 (profile.sh's callgrind) cannot run. Detached: a task made at the top level
// would be the main actor's, whose thread is the one waiting.
let finished = DispatchSemaphore(value: 0)
Task.detached {
    do {
        try await run()
    } catch {
        FileHandle.standardError.write("floe-nexmark-bench: \(error)\n".data(using: .utf8)!)
        exit(1)
    }
    finished.signal()
}
finished.wait()
