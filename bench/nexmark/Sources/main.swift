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
//    statement to its end; events/s = lines of the files the query reads / seconds;
// 2. results: the query itself, its changelog applied (+I/+U add a row, -U/-D remove one occurrence), the final rows
//    as Flink's CAST(… AS STRING) prints them, sorted, one per line, tab-separated, NULL as <NULL> — the same file
//    flink/run_query.py writes, so `cmp` tells whether the engines agree.
//
// Usage: floe-nexmark-bench --data DIR [--results DIR] [--mode timed|results|both] [--repeat N] QUERY...

struct Options {
    var data = ""
    var results: String?
    var mode = "both"
    var repeats = 1
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
        case "-h", "--help":
            print("usage: floe-nexmark-bench --data DIR [--results DIR] [--mode timed|results|both] [--repeat N] QUERY...")
            exit(0)
        default: options.queries.append(argument)
        }
    }
    guard !options.data.isEmpty, !options.queries.isEmpty else {
        FileHandle.standardError.write("usage: floe-nexmark-bench --data DIR [--results DIR] [--mode timed|results|both] [--repeat N] QUERY...\n".data(using: .utf8)!)
        exit(64)
    }
    return options
}

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let tables: [(name: String, columns: String)] = [
    ("person", "id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, city VARCHAR, state VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR"),
    ("auction", "id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT, reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, category BIGINT, extra VARCHAR"),
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
    while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { count += chunk.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } }
    return count
}

func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n")
        .replacingOccurrences(of: "\r", with: "\\r")
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
    let counts = Dictionary(uniqueKeysWithValues: tables.map { ($0.name, lineCount("\(data)/\($0.name).json")) })
    print("data: \(data) — " + tables.map { "\($0.name) \(counts[$0.name]!)" }.joined(separator: ", "))
    var summary: [(String, JSONValue)] = []

    for query in options.queries {
        let name = query.hasSuffix(".sql") ? URL(fileURLWithPath: query).deletingPathExtension().lastPathComponent : query
        let path = query.hasSuffix(".sql") ? query : here.appendingPathComponent("queries/\(query).sql").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let sql = text.components(separatedBy: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        let read = tables.map(\.name).filter { sql.range(of: "\\b(FROM|JOIN|TABLE|,)\\s*\($0)\\b", options: [.regularExpression, .caseInsensitive]) != nil }
        let events = read.reduce(0) { $0 + counts[$1]! }

        // A fresh engine per query, the tables over the files.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floe-nexmark-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try EmbeddedEngine(directory: directory)
        let catalog = CatalogIdentity(id: "env-bench", name: "nexmark")
        let session = SessionContext(catalog: catalog, catalogs: [catalog], properties: [:])
        func execute(_ statement: String, keep: Bool = false) async throws -> Receiver {
            let receiver = Receiver(keep: keep)
            try await engine.prepare(statement, in: session).run(deliveringTo: receiver, skippingFirst: 0)
            return receiver
        }
        for table in tables {
            _ = try await execute("""
                CREATE TABLE \(table.name) (\(table.columns), WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND)
                WITH ('connector' = 'filesystem', 'path' = '\(data)/\(table.name).json', 'format' = 'json')
                """)
        }
        var entry: [(String, JSONValue)] = [("events", .int(Int64(events)))]
        if options.mode != "results" {
            var timings: [Double] = []
            for round in 0..<options.repeats {
                let start = ContinuousClock.now
                _ = try await execute("CREATE TABLE nexmark_sink_\(round) WITH ('connector' = 'blackhole') AS \(sql)")
                timings.append(seconds(since: start))
            }
            let best = timings.min()!
            print("\(name): \(events) events in \(String(format: "%.3f", best)) s = \(Int(Double(events) / best)) events/s (runs: \(timings.map { String(format: "%.3f", $0) }.joined(separator: ", ")))")
            entry.append(("seconds", .double(best)))
            entry.append(("events_per_second", .double(Double(events) / best)))
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
            print("\(name): \(lines.count) result rows (\(receiver.count) changes) in \(String(format: "%.3f", seconds(since: start))) s -> \(output)")
            entry.append(("result_rows", .int(Int64(lines.count))))
        }
        summary.append((name, .object(entry)))
    }
    try String(decoding: JSONValue.object(summary).serialized(), as: UTF8.self).write(toFile: "\(resultsDirectory)/summary.json", atomically: true, encoding: .utf8)
}

do {
    try await run()
} catch {
    FileHandle.standardError.write("floe-nexmark-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
