// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
public import FloeKafka
import FloeSQL
public import FloeSchemas
public import Foundation
public import Logging

/// Runs statements on Floe's own engine (FloeSQL), in this process.
public final class EmbeddedBackend: ExecutionBackend {
    private let engine: any SQLEngine
    /// The admin clients of attached Kafka clusters (shared with the control plane's prober).
    private let kafkaAdmins: KafkaAdminPool
    /// The Schema Registry of an environment (Floe's own, or the external one it names).
    private let schemaRegistries: @Sendable (String) -> EnvironmentSchemaRegistry?
    /// How long one Kafka metadata or DDL request may take while a statement is prepared or run.
    static let kafkaTimeout: Duration = .seconds(10)

    /// Opens the engine's catalogs and table logs under `directory`. Filesystem tables may live only under
    /// `fileSystemRoots` (none: the connector is off), and never under `privateDirectory` (the server's data).
    public init(
        directory: URL, checkpointInterval: Duration = .milliseconds(500), fileSystemRoots: [URL] = [], privateDirectory: URL? = nil,
        kafkaAdmins: KafkaAdminPool = KafkaAdminPool(logger: Logger(label: "floe.kafka")),
        schemaRegistries: @escaping @Sendable (_ environmentID: String) -> EnvironmentSchemaRegistry? = { _ in nil }
    ) throws {
        self.kafkaAdmins = kafkaAdmins
        self.schemaRegistries = schemaRegistries
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let access = FileSystemAccess(roots: fileSystemRoots.map(\.path), refused: [(privateDirectory ?? directory).path])
        self.engine = try EmbeddedEngine(directory: directory, checkpointInterval: checkpointInterval, fileSystem: access)
    }

    public func prepare(_ sql: String, in context: ExecutionContext) async throws(ExecutionFailure) -> any PreparedExecution {
        do {
            return EmbeddedExecution(prepared: try await engine.prepare(sql, in: session(for: context)))
        } catch let error as SQLError {
            throw ExecutionFailure(error.description, exceptionName: error.exceptionName, exceedsLimit: error.exceedsLimit)
        } catch {
            throw ExecutionFailure(String(describing: error))
        }
    }

    /// What a Flink SQL Gateway session must run before `sql` to know its names as Floe's catalog defines them
    /// (``FlinkDeclarations``).
    public func flinkDeclarations(_ sql: String, in context: ExecutionContext) async throws(ExecutionFailure) -> [String] {
        do {
            return try await engine.flinkDeclarations(sql, in: session(for: context)).statements
        } catch let error as SQLError {
            throw ExecutionFailure(error.description, exceptionName: error.exceptionName, exceedsLimit: error.exceedsLimit)
        } catch {
            throw ExecutionFailure(String(describing: error))
        }
    }

    /// The engine's view of a statement's context: its catalogs, grants, properties and Kafka databases.
    private func session(for context: ExecutionContext) -> SessionContext {
        SessionContext(
            catalog: CatalogIdentity(id: context.environment.id, name: context.environment.name),
            grants: context.catalogs.map { CatalogGrant(CatalogIdentity(id: $0.id, name: $0.name), $0.access) },
            properties: context.properties, statementID: context.statementID,
            kafkaDatabases: context.kafkaClusters.map {
                let registry = schemaRegistries($0.environmentID)
                return KafkaDatabase(
                    catalogID: $0.environmentID, id: $0.id, name: $0.displayName,
                    cluster: LibrdkafkaClusterClient(
                        pool: kafkaAdmins, connection: $0.connection, name: $0.displayName, id: $0.id, timeout: Self.kafkaTimeout),
                    registry: registry?.registry, bootstrap: $0.connection.bootstrapServers,
                    registryAddresses: registry?.addresses ?? [], flinkRegistryOptions: registry?.flinkFormatOptions,
                    flinkProperties: Dictionary(uniqueKeysWithValues: $0.connection.javaClientProperties.map { ("properties.\($0.key)", $0.value) }))
            })
    }

    public func dropCatalog(environmentID: String) async throws {
        try await engine.dropCatalog(id: environmentID)
    }

    public func checkpoint(statementID: String) -> CheckpointRecord? {
        guard let summary = engine.checkpointSummary(statementID: statementID) else { return nil }
        return CheckpointRecord(
            latestOffsets: summary.latestOffsets, takenAt: summary.takenAt, stateBytes: summary.stateBytes)
    }

    public func discardState(statementID: String) { engine.discardCheckpoints(statementID: statementID) }

    public func statementIDsWithState() -> Set<String> { engine.checkpointedStatementIDs() }
}

/// A statement prepared by the embedded engine.
struct EmbeddedExecution: PreparedExecution {
    let prepared: any PreparedStatement

    var traits: StatementTraitsRecord {
        let traits = prepared.traits
        return StatementTraitsRecord(
            sqlKind: traits.sqlKind, isBounded: traits.isBounded, isAppendOnly: traits.isAppendOnly,
            upsertColumns: traits.upsertColumns,
            schemaJSON: traits.schema.map { columns in
                String(
                    decoding: JSONValue.object([
                        ("columns", .array(columns.map { .object([("name", .string($0.name)), ("type", $0.type.json)]) }))
                    ]).serialized(), as: UTF8.self)
            })
    }

    func run(deliveringTo sink: any ResultSink, skippingFirst: Int, control: RunControl) async throws {
        do {
            try await RunStatistics.$current.withValue(control.statistics) {
                try await prepared.run(deliveringTo: Receiver(sink: sink), skippingFirst: skippingFirst)
            }
        } catch let error as SQLError {
            throw ExecutionFailure(error.description, exceptionName: error.exceptionName)
        }
    }

    /// Adapts the engine's receiver protocol to the backend's sink.
    struct Receiver: ResultReceiver {
        let sink: any ResultSink

        func deliver(_ changes: [ResultChange]) async throws {
            try await sink.deliver(changes.map { ResultRecord(op: $0.kind.rawValue, row: .array($0.row)) })
        }
    }
}
