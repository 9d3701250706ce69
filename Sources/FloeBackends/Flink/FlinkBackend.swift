// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
public import Foundation
public import Logging

/// A Flink cluster a region's compute pools run their statements on: its SQL Gateway, its JobManager's REST API (for
/// stops with savepoints, job states, failures and offsets) and where savepoints go.
public struct FlinkCluster: Sendable, Equatable {
    /// The region (`aws.us-east-1`) whose compute pools run here.
    public var regionID: String
    public var gateway: FlinkGatewayClient
    public var jobManager: FlinkJobManagerClient
    /// The directory (a URI Flink's file systems know: `file:///…`, `s3://…`) savepoints are written to; nil for the
    /// cluster's `state.savepoints.dir`.
    public var savepointDirectory: String?

    public init(regionID: String, gatewayURL: String, jobManagerURL: String, savepointDirectory: String? = nil) {
        self.regionID = regionID
        self.gateway = FlinkGatewayClient(baseURL: gatewayURL)
        self.jobManager = FlinkJobManagerClient(baseURL: jobManagerURL)
        self.savepointDirectory = savepointDirectory
    }

    public static func == (lhs: FlinkCluster, rhs: FlinkCluster) -> Bool {
        lhs.regionID == rhs.regionID && lhs.gateway.baseURL == rhs.gateway.baseURL && lhs.jobManager.baseURL == rhs.jobManager.baseURL
            && lhs.savepointDirectory == rhs.savepointDirectory
    }

    /// How often a statement's job checkpoints (its exactly-once Kafka sinks commit at checkpoints), as Confluent
    /// Cloud's statements do.
    static let checkpointInterval = "2 s"
}

/// Runs the statements of compute pools in Flink-mapped regions on their Flink clusters.
///
/// Floe stays the catalog: a statement is analyzed by the embedded engine first (the same validation, errors and
/// `status.traits` as on any pool), and catalog statements (DDL, SHOW, DESCRIBE, …) run there. Queries, INSERTs and
/// statement sets run as Flink jobs (``FlinkExecution``) in a session that declares what they name.
public final class FlinkBackend: ExecutionBackend {
    private let embedded: EmbeddedBackend
    private let clusters: [String: FlinkCluster]
    private let records: FlinkRunRecords
    private let logger: Logger

    /// The statement kinds that run as Flink jobs.
    static let jobKinds: Set<String> = ["SELECT", "INSERT_INTO", "EXECUTE_STATEMENT_SET"]

    /// `directory` keeps the statements' run records (private to the server's user).
    public init(embedded: EmbeddedBackend, clusters: [FlinkCluster], directory: URL, logger: Logger) throws {
        self.embedded = embedded
        self.clusters = Dictionary(clusters.map { ($0.regionID, $0) }, uniquingKeysWith: { _, last in last })
        self.records = try FlinkRunRecords(directory: directory)
        self.logger = logger
    }

    /// The regions whose statements run on Flink.
    public var regionIDs: Set<String> { Set(clusters.keys) }

    public func prepare(_ sql: String, in context: ExecutionContext) async throws(ExecutionFailure) -> any PreparedExecution {
        do {
            return try await prepareChecked(sql, in: context)
        } catch {
            // A statement that no longer prepares after a restart (a table it names was dropped meanwhile) fails: its
            // job, left running across the restart, must not run on without it.
            if let statementID = context.statementID, let cluster = clusters[context.regionID] { await abandon(statementID, on: cluster) }
            throw error
        }
    }

    /// Ends what a statement left running on its cluster, keeping nothing to re-attach to.
    private func abandon(_ statementID: String, on cluster: FlinkCluster) async {
        guard let record = records.record(statementID), record.session != nil || record.jobID != nil else { return }
        if let operation = record.operation { _ = try? await cluster.gateway.closeOperation(operation) }
        if let job = record.jobID { try? await cluster.jobManager.cancel(job: job) }
        if let session = record.session { try? await cluster.gateway.closeSession(session) }
        try? records.save(record.detached, for: statementID)
        logger.notice("cancelled the Flink job of a statement that no longer prepares", metadata: ["statement": .string(statementID)])
    }

    private func prepareChecked(_ sql: String, in context: ExecutionContext) async throws(ExecutionFailure) -> any PreparedExecution {
        let prepared = try await embedded.prepare(sql, in: context)
        guard let cluster = clusters[context.regionID],
            Self.jobKinds.contains(prepared.traits.sqlKind) || prepared.traits.sqlKind == "CREATE_TABLE_AS"
        else { return prepared }
        if prepared.traits.sqlKind == "CREATE_TABLE_AS" {
            throw ExecutionFailure(
                "CREATE TABLE AS SELECT does not run on compute pools of Apache Flink clusters yet: CREATE TABLE the target, then INSERT INTO it.",
                exceptionName: "org.apache.flink.table.api.TableException")
        }
        let declarations = try await embedded.flinkDeclarations(sql, in: context)
        // A dry run analyzes: the declarations showed that Flink can reach what the statement names.
        guard let statementID = context.statementID else { return prepared }
        return FlinkExecution(
            traits: prepared.traits, sql: sql, declarations: declarations, statementID: statementID, properties: context.properties,
            cluster: cluster, records: records, logger: logger)
    }

    public func dropCatalog(environmentID: String) async throws {}

    public func checkpoint(statementID: String) -> CheckpointRecord? {
        guard let record = records.record(statementID), let offsets = record.latestOffsets, let at = record.offsetsReadAt else { return nil }
        return CheckpointRecord(latestOffsets: offsets, takenAt: at, stateBytes: 0)
    }

    public func discardState(statementID: String) { records.remove(statementID) }

    public func statementIDsWithState() -> Set<String> { records.uids }

    public func runsOutliveServer(regionID: String) -> Bool { clusters[regionID] != nil }

    public func stopDetachedRun(statementID: String, regionID: String) async throws(ExecutionFailure) {
        guard let cluster = clusters[regionID], let record = records.record(statementID) else { return }
        do {
            if let job = record.jobID {
                let execution = FlinkExecution(
                    traits: StatementTraitsRecord(sqlKind: "INSERT_INTO", isBounded: false, isAppendOnly: true, upsertColumns: nil, schemaJSON: nil),
                    sql: "", declarations: [], statementID: statementID, properties: [:], cluster: cluster, records: records, logger: logger)
                try await execution.stopWithSavepoint(job: job, record: record)
            } else {
                if let operation = record.operation { _ = try? await cluster.gateway.closeOperation(operation) }
                if let session = record.session { try? await cluster.gateway.closeSession(session) }
                try records.save(record.detached, for: statementID)
            }
        } catch {
            throw FlinkExecution.failure(error, cluster: cluster)
        }
    }

    public func engine(regionID: String) -> String { clusters[regionID] != nil ? "flink" : "embedded" }
}

/// The backend the server uses: each region's statements on the Flink cluster the region maps to
/// (``FlinkBackend``), every other region's on the embedded engine.
public struct RegionalBackend: ExecutionBackend {
    public let embedded: EmbeddedBackend
    public let flink: FlinkBackend?

    public init(embedded: EmbeddedBackend, flink: FlinkBackend?) {
        self.embedded = embedded
        self.flink = flink
    }

    private func backend(_ regionID: String) -> any ExecutionBackend {
        if let flink, flink.runsOutliveServer(regionID: regionID) { return flink }
        return embedded
    }

    public func prepare(_ sql: String, in context: ExecutionContext) async throws(ExecutionFailure) -> any PreparedExecution {
        try await backend(context.regionID).prepare(sql, in: context)
    }

    public func dropCatalog(environmentID: String) async throws { try await embedded.dropCatalog(environmentID: environmentID) }

    public func checkpoint(statementID: String) -> CheckpointRecord? {
        flink?.checkpoint(statementID: statementID) ?? embedded.checkpoint(statementID: statementID)
    }

    public func discardState(statementID: String) {
        embedded.discardState(statementID: statementID)
        flink?.discardState(statementID: statementID)
    }

    public func statementIDsWithState() -> Set<String> { embedded.statementIDsWithState().union(flink?.statementIDsWithState() ?? []) }

    public func runsOutliveServer(regionID: String) -> Bool { backend(regionID).runsOutliveServer(regionID: regionID) }

    public func stopDetachedRun(statementID: String, regionID: String) async throws(ExecutionFailure) {
        try await backend(regionID).stopDetachedRun(statementID: statementID, regionID: regionID)
    }

    public func engine(regionID: String) -> String { backend(regionID).engine(regionID: regionID) }
}
