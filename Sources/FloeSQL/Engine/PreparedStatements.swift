// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Synchronization

/// What statements need from the engine while they run.
struct EngineServices: Sendable {
    let catalog: CatalogStore
    let logs: LogRegistry
    let checkpoints: CheckpointStore
    /// The base spacing of running statements' checkpoints (see ``CheckpointPolicy``).
    let checkpointInterval: Duration
    /// Where filesystem tables may read and write.
    let fileSystem: FileSystemAccess

    /// The dataflow context for a session's settings.
    func dataflowContext(session: SessionContext, caster: Caster, isSnapshot: Bool) -> DataflowContext {
        let snapshot = catalog.snapshot
        let liveTables = Set(snapshot.catalogs.values.flatMap { $0.databases.values.flatMap { $0.tables.values.map(\.id) } })
        let logs = self.logs
        var context = DataflowContext(
            compiler: ExpressionCompiler(caster: caster), isSnapshot: isSnapshot, snapshot: snapshot, catalogs: session.grantedCatalogs,
            openLog: { id throws(SQLError) in
                guard liveTables.contains(id) else { throw SQLError.runtime("A table this statement reads was dropped.") }
                return try logs.open(id)
            })
        context.kafkaDatabases = session.kafkaDatabases
        context.statementID = session.statementID
        // Checked when the statement is planned.
        context.idleTimeout = (try? IdleTimeout.parse(session.properties[IdleTimeout.property])) ?? .progressive
        return context
    }
}

/// A SELECT (or anything that produces rows from a plan).
struct QueryStatement: PreparedStatement {
    let traits: StatementTraits
    let plan: QueryPlan
    let session: SessionContext
    let caster: Caster
    let isSnapshot: Bool
    let services: EngineServices

    func run(deliveringTo receiver: any ResultReceiver, skippingFirst: Int) async throws {
        let dataflow = try Dataflow(plan: plan.node, context: services.dataflowContext(session: session, caster: caster, isSnapshot: isSnapshot))
        var emitter = ResultEmitter(receiver: receiver, renderer: caster.renderer, types: plan.types, remainingSkip: skippingFirst)
        dataflow.onCaughtUp = { await receiver.caughtUp() }
        try await dataflow.run { batches in try await emitter.emit(batches) }
    }
}

/// A statement whose rows are computed from the catalog when it runs (SHOW, DESCRIBE, EXPLAIN, …).
struct MetadataStatement: PreparedStatement {
    let traits: StatementTraits
    let types: [SQLType]
    let renderer: ValueRenderer
    let services: EngineServices
    let rows: @Sendable (CatalogSnapshot) throws(SQLError) -> [Row]

    func run(deliveringTo receiver: any ResultReceiver, skippingFirst: Int) async throws {
        var emitter = ResultEmitter(receiver: receiver, renderer: renderer, types: types, remainingSkip: skippingFirst)
        try await emitter.emit(rows: try rows(services.catalog.snapshot))
    }
}

/// A DDL statement: its change to the catalog happens when it runs.
struct DDLStatement: PreparedStatement {
    let traits: StatementTraits
    let apply: @Sendable () throws(SQLError) -> Void

    func run(deliveringTo receiver: any ResultReceiver, skippingFirst: Int) async throws {
        try Task.checkCancellation()
        try apply()
    }
}

/// Where an INSERT writes.
enum SinkTarget: Sendable {
    /// A table's log, by table id, how it keeps changes and its primary key's positions among its physical columns.
    case log(String, ChangelogMode, keys: [Int])
    /// A filesystem table's directory.
    case files(FileSystemSpec)
    /// `'connector' = 'blackhole'`: rows are consumed and dropped (Flink's sink for benchmarks).
    case blackhole
    /// A topic of an attached Kafka cluster, and its primary key's positions among its physical columns.
    case kafka(KafkaTable, keys: [Int])

    /// The sink target of a table.
    static func of(_ table: TableEntry, fileSystem: FileSystemAccess, kafkaDatabases: [KafkaDatabase]) throws(SQLError) -> SinkTarget {
        switch try ConnectorRegistry.connector(of: table, fileSystem: fileSystem).1 {
        case .blackhole: return .blackhole
        case .kafka(let options):
            return .kafka(try KafkaTable.resolve(flink: options, entry: table, in: kafkaDatabases), keys: try keyPositions(table))
        case .files(let spec): return .files(spec)
        case .generated: throw SQLError("Table '\(table.name)' is generated and cannot be written to.")
        case .log: break
        }
        return .log(table.id, table.changelogMode, keys: try keyPositions(table))
    }

    /// The positions of a table's primary key columns among its physical columns.
    static func keyPositions(_ table: TableEntry) throws(SQLError) -> [Int] {
        let physical = table.physicalColumns
        var keys: [Int] = []
        for key in table.primaryKey {
            guard let index = physical.firstIndex(where: { $0.name == key }) else {
                throw SQLError.runtime("Table '\(table.name)' has primary key column '\(key)', which it no longer has.")
            }
            keys.append(index)
        }
        return keys
    }
}

/// INSERT INTO (also the insert half of CREATE TABLE AS and each INSERT of a statement set).
struct InsertStatement: PreparedStatement {
    let traits: StatementTraits
    /// The source, already converted to the sink's physical columns.
    let plan: QueryPlan
    let target: SinkTarget
    let session: SessionContext
    let caster: Caster
    let isSnapshot: Bool
    let services: EngineServices
    /// The writer the sink counts this statement's rows under (the statement's id, `#n` for a statement set's n-th
    /// INSERT); also the key of its checkpoints.
    let writerKey: String
    /// Runs before the rows flow (CREATE TABLE AS creates its table here).
    var before: (@Sendable () throws(SQLError) -> Void)?

    /// Keys the statement's checkpoints: only statements with an identity (the server's) checkpoint.
    var checkpointKey: String? { session.statementID == nil ? nil : writerKey }

    func run(deliveringTo receiver: any ResultReceiver, skippingFirst: Int) async throws {
        try before?()
        let dataflow = try Dataflow(plan: plan.node, context: services.dataflowContext(session: session, caster: caster, isSnapshot: isSnapshot))
        dataflow.onCaughtUp = { await receiver.caughtUp() }
        try await Self.drive(dataflow, into: [try sinkTarget()], checkpointKey: checkpointKey, services: services)
    }

    /// The sink this INSERT writes, how it keeps changes, and how much this writer already wrote to it.
    func sinkTarget() throws(SQLError) -> SinkCommitter.Target {
        switch target {
        case .log(let id, let mode, let keys):
            return SinkCommitter.Target(sink: try services.logs.open(id), writer: writerKey, keepsOutput: true, mode: mode, keys: keys)
        case .files(let spec): return SinkCommitter.Target(sink: try FileSink(spec: spec), writer: writerKey, keepsOutput: true)
        case .blackhole: return SinkCommitter.Target(sink: BlackholeSink(), writer: writerKey, keepsOutput: false)
        case .kafka(let table, let keys):
            return SinkCommitter.Target(
                sink: try KafkaSink(table), writer: writerKey, keepsOutput: true, mode: table.settings.changelogMode, keys: keys)
        }
    }

    /// Runs `dataflow` (one root per target) into its sinks: directly without a checkpoint key; otherwise exactly
    /// once, from the last checkpoint on (``CheckpointCoordinator``).
    static func drive(_ dataflow: Dataflow, into targets: [SinkCommitter.Target], checkpointKey: String?, services: EngineServices) async throws {
        guard let key = checkpointKey else {
            // Without an identity there is nothing to resume: rows go to the sinks as they come.
            try await dataflow.run { (batches: [[Batch]]) in
                for (target, part) in zip(targets, batches) where target.keepsOutput {
                    var output = SinkOutput(mode: target.uncommitted.mode, keys: target.uncommitted.keys)
                    output.add(part)
                    try target.sink.append(output.rows, kinds: output.kinds, writer: target.writer)
                }
            }
            return
        }
        try await CheckpointCoordinator.run(dataflow, into: targets, key: key, store: services.checkpoints, interval: services.checkpointInterval)
    }
}

/// EXECUTE STATEMENT SET: its INSERTs run as one dataflow that reads the sources they share once, and checkpoint
/// together (one checkpoint commits every sink's output).
struct StatementSetStatement: PreparedStatement {
    let traits: StatementTraits
    let inserts: [InsertStatement]

    func run(deliveringTo receiver: any ResultReceiver, skippingFirst: Int) async throws {
        guard let first = inserts.first else { return }
        for insert in inserts { try insert.before?() }
        let dataflow = try Dataflow(
            plans: inserts.map(\.plan.node),
            context: first.services.dataflowContext(session: first.session, caster: first.caster, isSnapshot: first.isSnapshot))
        dataflow.onCaughtUp = { await receiver.caughtUp() }
        var targets: [SinkCommitter.Target] = []
        for insert in inserts { targets.append(try insert.sinkTarget()) }
        let key = first.session.statementID.map { $0 + "#set" }
        try await InsertStatement.drive(dataflow, into: targets, checkpointKey: key, services: first.services)
    }
}

/// The open table logs, by table id.
final class LogRegistry: Sendable {
    let directory: URL
    private let logs = Mutex<[String: TableLog]>([:])

    init(directory: URL) { self.directory = directory }

    func url(_ id: String) -> URL { directory.appendingPathComponent("\(id).log") }

    func open(_ id: String) throws(SQLError) -> TableLog {
        try logs.withLock { logs throws(SQLError) in
            if let log = logs[id] { return log }
            let log = try TableLog(url: url(id))
            logs[id] = log
            return log
        }
    }

    func drop(_ id: String) {
        let log = logs.withLock { $0.removeValue(forKey: id) }
        if let log { log.drop() } else { try? FileManager.default.removeItem(at: url(id)) }
    }
}
