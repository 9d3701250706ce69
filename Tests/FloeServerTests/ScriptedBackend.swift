// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore
import Foundation
import Synchronization

/// A test backend whose "SQL" is a script, so the API and the scheduler are tested apart from the engine:
///
/// - `ROWS n`: a bounded SELECT of one INTEGER column producing `0…n-1`, delivered in batches of 100.
/// - `STREAM`: an unbounded SELECT producing a row every 10 ms until cancelled.
/// - `INSERT`: an unbounded INSERT INTO (resumable, no result schema) that runs until cancelled, "reading" a table
///   `ticks` at a row per 10 ms and checkpointing its offset (continuing from it when resumed).
/// - `DDL`: a CREATE TABLE that completes at once.
/// - `BAD`: refused at analysis; `BOOM`: fails while running.
struct ScriptedBackend: ExecutionBackend {
    /// The INSERT scripts' checkpoints, by statement id.
    final class CheckpointBook: Sendable {
        private let records = Mutex<[String: CheckpointRecord]>([:])

        subscript(id: String) -> CheckpointRecord? {
            get { records.withLock { $0[id] } }
        }

        func record(_ id: String, rows: Int) {
            records.withLock { $0[id] = CheckpointRecord(latestOffsets: ["ticks": "partition:0,offset:\(rows)"], takenAt: Date(), stateBytes: 8) }
        }

        func remove(_ id: String) { records.withLock { _ = $0.removeValue(forKey: id) } }

        var ids: Set<String> { records.withLock { Set($0.keys) } }
    }

    let book = CheckpointBook()

    func checkpoint(statementID: String) -> CheckpointRecord? { book[statementID] }

    func discardState(statementID: String) { book.remove(statementID) }

    func statementIDsWithState() -> Set<String> { book.ids }

    func prepare(_ sql: String, in context: ExecutionContext) async throws(ExecutionFailure) -> any PreparedExecution {
        let words = sql.split(separator: " ")
        switch words.first {
        case "ROWS": return Script.rows(Int(words.dropFirst().first ?? "0") ?? 0)
        case "STREAM": return Script.stream
        case "INSERT": return Script.insert(statementID: context.statementID, book: book)
        case "DDL": return Script.ddl
        case "BOOM": return Script.boom
        default: throw ExecutionFailure("SQL parse failed. Encountered \"\(words.first ?? "")\" at line 1, column 1.")
        }
    }

    func dropCatalog(environmentID: String) async throws {}

    enum Script: PreparedExecution {
        case rows(Int)
        case stream
        case insert(statementID: String?, book: CheckpointBook)
        case ddl
        case boom

        static let intSchema = #"{"columns":[{"name":"n","type":{"type":"INTEGER","nullable":false}}]}"#

        var traits: StatementTraitsRecord {
            switch self {
            case .rows: StatementTraitsRecord(sqlKind: "SELECT", isBounded: true, isAppendOnly: true, upsertColumns: nil, schemaJSON: Self.intSchema)
            case .stream, .boom:
                StatementTraitsRecord(sqlKind: "SELECT", isBounded: false, isAppendOnly: true, upsertColumns: nil, schemaJSON: Self.intSchema)
            case .insert: StatementTraitsRecord(sqlKind: "INSERT_INTO", isBounded: false, isAppendOnly: true, upsertColumns: nil, schemaJSON: nil)
            case .ddl: StatementTraitsRecord(sqlKind: "CREATE_TABLE", isBounded: true, isAppendOnly: true, upsertColumns: nil, schemaJSON: nil)
            }
        }

        func run(deliveringTo sink: any ResultSink, skippingFirst: Int, control: RunControl) async throws {
            switch self {
            case .rows(let count):
                var batch: [ResultRecord] = []
                for value in skippingFirst..<max(count, skippingFirst) {
                    batch.append(ResultRecord(op: 0, row: .array([.string(String(value))])))
                    if batch.count == 100 {
                        try await sink.deliver(batch)
                        batch = []
                    }
                }
                try await sink.deliver(batch)
            case .stream:
                var value = skippingFirst
                while true {
                    try await Task.sleep(for: .milliseconds(10))
                    try await sink.deliver([ResultRecord(op: 0, row: .array([.string(String(value))]))])
                    value += 1
                }
            case .insert(let id, let book):
                var rows = id.flatMap { book[$0]?.latestOffsets["ticks"] }.flatMap { Int($0.split(separator: ":").last ?? "") } ?? 0
                while true {
                    try await Task.sleep(for: .milliseconds(10))
                    rows += 1
                    if let id { book.record(id, rows: rows) }
                }
            case .ddl:
                return
            case .boom:
                try await Task.sleep(for: .milliseconds(20))
                throw ExecutionFailure("java.lang.ArithmeticException: Division by zero")
            }
        }
    }
}
