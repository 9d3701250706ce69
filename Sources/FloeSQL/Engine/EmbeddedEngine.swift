// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Floe's own streaming SQL engine: a durable catalog (`catalog.json`) and one append-only log per table
/// (`tables/<id>.log`) under its directory. One instance serves every statement of a server; it is safe to call
/// from many tasks at once (the catalog and the logs guard their state with locks).
public final class EmbeddedEngine: SQLEngine {
    let services: EngineServices

    /// Opens (or creates) the engine's catalog, table logs and checkpoints under `directory`. Running INSERTs
    /// checkpoint every `checkpointInterval` (longer when their state is large; see ``CheckpointPolicy``): that is
    /// also how long their output takes to become visible in the sink.
    /// Filesystem tables may read and write where `fileSystem` allows.
    public init(directory: URL, checkpointInterval: Duration = .milliseconds(500), fileSystem: FileSystemAccess = .unrestricted) throws {
        let tables = directory.appendingPathComponent("tables")
        try FileManager.default.createDirectory(at: tables, withIntermediateDirectories: true)
        services = EngineServices(
            catalog: try CatalogStore(directory: directory), logs: LogRegistry(directory: tables),
            checkpoints: try CheckpointStore(directory: directory.appendingPathComponent("checkpoints")), checkpointInterval: checkpointInterval,
            fileSystem: fileSystem)
    }

    /// What the latest checkpoints of the statement `id` (all the INSERTs of a statement set) say; nil before its first.
    public func checkpointSummary(statementID id: String) -> CheckpointSummary? {
        services.checkpoints.summary(ofStatement: id)
    }

    /// Deletes the checkpoints of the statement `id` (it was deleted).
    public func discardCheckpoints(statementID id: String) { services.checkpoints.remove(statement: id) }

    /// The statements that have checkpoints.
    public func checkpointedStatementIDs() -> Set<String> { services.checkpoints.statementIDs() }

    /// Parses and analyzes `sql` against the catalog as it is now, on the engine's preparation threads
    /// (``EngineThreads``). Nothing is executed or changed. The statement runs on the engine's dataflow threads.
    public func prepare(_ sql: String, in context: SessionContext) async throws -> any PreparedStatement {
        let services = services
        return try await EngineThreads.prepare {
            OnEngineThreads(prepared: try Self.prepare(sql, in: context, services: services))
        }
    }

    private static func prepare(_ sql: String, in context: SessionContext, services: EngineServices) throws -> any PreparedStatement {
        let statement: Statement
        do {
            statement = try Parser.parseStatement(sql)
        } catch {
            throw SQLError(error)
        }
        return try StatementPlanner(session: context, services: services).plan(statement)
    }

    public func flinkDeclarations(_ sql: String, in context: SessionContext) async throws -> FlinkDeclarations {
        let services = services
        return try await EngineThreads.prepare { try Self.flinkDeclarations(sql, in: context, services: services) }
    }

    private static func flinkDeclarations(_ sql: String, in context: SessionContext, services: EngineServices) throws -> FlinkDeclarations {
        let statement: Statement
        do {
            statement = try Parser.parseStatement(sql)
        } catch {
            throw SQLError(error)
        }
        let recorder = ResolvedObjects()
        let planner = StatementPlanner(session: context, services: services, recorder: recorder)
        _ = try planner.plan(statement)
        return try FlinkDeclarations.make(for: recorder.all, sql: sql, session: context, resolver: planner.resolver)
    }

    /// A prepared statement that runs on the engine's threads, whoever runs it.
    struct OnEngineThreads: PreparedStatement {
        let prepared: any PreparedStatement

        var traits: StatementTraits { prepared.traits }

        func run(deliveringTo receiver: any ResultReceiver, skippingFirst: Int) async throws {
            try await EngineThreads.run { try await prepared.run(deliveringTo: receiver, skippingFirst: skippingFirst) }
        }
    }

    /// Forgets a catalog and deletes its tables' logs.
    public func dropCatalog(id: String) async throws {
        let tableIDs: [String] = try services.catalog.update { snapshot throws(SQLError) in
            let ids = snapshot.catalogs[id]?.databases.values.flatMap { $0.tables.values.map(\.id) } ?? []
            snapshot.catalogs[id] = nil
            return ids
        }
        for tableID in tableIDs { services.logs.drop(tableID) }
    }
}
