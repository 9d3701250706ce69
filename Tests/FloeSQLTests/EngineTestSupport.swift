// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Synchronization

@testable import FloeSQL

/// Collects delivered result changes.
final class CollectingReceiver: ResultReceiver {
    private let changes = Mutex<[ResultChange]>([])

    private let caughtUps = Mutex(0)

    func deliver(_ batch: [ResultChange]) async throws { changes.withLock { $0.append(contentsOf: batch) } }
    func caughtUp() async { caughtUps.withLock { $0 += 1 } }

    var collected: [ResultChange] { changes.withLock { $0 } }
    /// How often the statement reported it had caught up with its tables.
    var caughtUpCount: Int { caughtUps.withLock { $0 } }
}

/// A flag one task sets and another polls.
final class CollectingFlag: Sendable {
    private let state = Mutex(false)

    func set() { state.withLock { $0 = true } }

    var isSet: Bool { state.withLock { $0 } }
}

/// A fresh engine on a temporary directory, with one environment `env-1` ("dev") and a second `env-2` ("prod").
struct EngineFixture {
    let directory: URL
    let engine: EmbeddedEngine
    static let dev = CatalogIdentity(id: "env-1", name: "dev")
    static let prod = CatalogIdentity(id: "env-2", name: "prod")
    /// Kafka clusters attached to the catalogs, as databases.
    var kafkaDatabases: [KafkaDatabase] = []

    init(directory: URL? = nil) throws {
        let directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("floe-engine-\(UUID().uuidString)")
        self.directory = directory
        engine = try EmbeddedEngine(directory: directory)
    }

    func context(_ properties: [String: String] = [:], statementID: String? = nil) -> SessionContext {
        var context = SessionContext.unrestricted(
            catalog: Self.dev, catalogs: [Self.dev, Self.prod], properties: properties, statementID: statementID)
        context.kafkaDatabases = kafkaDatabases
        return context
    }

    /// Runs a statement to its end (bounded) or until it has caught up with its tables (unbounded), returning the
    /// traits and the changes.
    func run(
        _ sql: String, _ properties: [String: String] = [:], statementID: String? = nil, skip: Int = 0
    ) async throws
        -> (StatementTraits, [ResultChange])
    {
        let prepared = try await engine.prepare(sql, in: context(properties, statementID: statementID))
        let receiver = CollectingReceiver()
        if prepared.traits.isBounded {
            try await prepared.run(deliveringTo: receiver, skippingFirst: skip)
        } else {
            // Run until the statement has caught up with its tables (however loaded the machine is), or ended.
            let ended = CollectingFlag()
            let task = Task {
                defer { ended.set() }
                try await prepared.run(deliveringTo: receiver, skippingFirst: skip)
            }
            let started = ContinuousClock.now
            while receiver.caughtUpCount == 0, !ended.isSet, ContinuousClock.now - started < .seconds(60) {
                try await Task.sleep(for: .milliseconds(10))
            }
            task.cancel()
            _ = await task.result
        }
        return (prepared.traits, receiver.collected)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Text forms used by golden files.
enum EngineText {
    static func type(_ type: SchemaType) -> String {
        switch type {
        case .scalar(let root, let nullable, let length, let precision, let scale):
            var text = root
            if let length { text += "(\(length))" }
            if let precision { text += scale.map { "(\(precision), \($0))" } ?? "(\(precision))" }
            return text + (nullable ? "" : " NOT NULL")
        case .array(let element, let nullable): return "ARRAY<\(self.type(element))>" + (nullable ? "" : " NOT NULL")
        case .multiset(let element, let nullable): return "MULTISET<\(self.type(element))>" + (nullable ? "" : " NOT NULL")
        case .map(let key, let value, let nullable): return "MAP<\(self.type(key)), \(self.type(value))>" + (nullable ? "" : " NOT NULL")
        case .row(let fields, let nullable):
            return "ROW<" + fields.map { "\($0.name) \(self.type($0.type))" }.joined(separator: ", ") + ">" + (nullable ? "" : " NOT NULL")
        }
    }

    static func value(_ value: JSONValue) -> String {
        switch value {
        case .null: return "NULL"
        case .string(let s): return s
        case .array(let items): return "[" + items.map(self.value).joined(separator: ", ") + "]"
        default: return value.serializedString
        }
    }

    static func change(_ change: ResultChange) -> String {
        let prefix = ["+I", "-U", "+U", "-D"][change.kind.rawValue]
        return prefix + "[" + change.row.map(value).joined(separator: ", ") + "]"
    }

    static func traits(_ traits: StatementTraits) -> String {
        var text = "kind: \(traits.sqlKind), bounded: \(traits.isBounded), append-only: \(traits.isAppendOnly)"
        if let upsert = traits.upsertColumns { text += ", upsert: \(upsert)" }
        return text
    }
}

extension PreparedStatement {
    /// The engine's own prepared statement behind the wrapper that runs it on the engine's threads.
    var unwrapped: any PreparedStatement { (self as? EmbeddedEngine.OnEngineThreads)?.prepared ?? self }
}
