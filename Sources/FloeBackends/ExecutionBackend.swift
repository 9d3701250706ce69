// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
public import FloeSchemas
public import Foundation
import Synchronization

/// The environment a statement runs in, and the catalogs it can name: what a backend needs besides the SQL.
public struct ExecutionContext: Sendable {
    /// The statement's environment: its catalog (id and display name).
    public var environment: (id: String, name: String)
    /// The environments the statement may use, as catalogs, and what it may do in each (its principal's roles within
    /// its API key's reach). A catalog not listed does not exist for the statement: it can neither name nor list it.
    public var catalogs: [(id: String, name: String, access: CatalogAccess)]
    /// The statement's properties.
    public var properties: [String: String]
    /// Identifies the statement incarnation (its uid), so that a re-run after a restart does not append again to its
    /// sink tables what it appended before; `nil` for dry runs.
    public var statementID: String?
    /// The Kafka clusters attached to those environments that are PROVISIONED: each is a database of its catalog.
    public var kafkaClusters: [AttachedKafkaCluster]
    /// The region of the statement's compute pool (`aws.us-east-1`): where it runs (the embedded engine, or the Flink
    /// cluster the region maps to).
    public var regionID: String

    public init(
        environment: (id: String, name: String), catalogs: [(id: String, name: String, access: CatalogAccess)], properties: [String: String],
        statementID: String? = nil, kafkaClusters: [AttachedKafkaCluster] = [], regionID: String = ""
    ) {
        self.environment = environment
        self.catalogs = catalogs
        self.properties = properties
        self.statementID = statementID
        self.kafkaClusters = kafkaClusters
        self.regionID = regionID
    }
}

/// A Kafka cluster attached to an environment, with what it takes to reach it (credentials included: never log it
/// beyond `connection.description`).
public struct AttachedKafkaCluster: Sendable {
    public var environmentID: String
    /// `lkc-…`.
    public var id: String
    public var displayName: String
    public var connection: KafkaConnection

    public init(environmentID: String, id: String, displayName: String, connection: KafkaConnection) {
        self.environmentID = environmentID
        self.id = id
        self.displayName = displayName
        self.connection = connection
    }
}

/// The Schema Registry of an environment, as the engine uses it, and how a URL names it (a URL ending in one of
/// `addresses` is it: Floe's own registry's path whatever the host, an external registry's whole URL).
public struct EnvironmentSchemaRegistry: Sendable {
    public var registry: any SchemaRegistry
    public var addresses: [String]
    /// How Apache Flink's `avro-confluent` format reaches it (`url`, and `basic-auth.*` when it needs credentials),
    /// without the format's prefix; nil when a Flink cluster cannot (Floe's own registry, which takes API keys whose
    /// secrets Floe does not keep).
    public var flinkFormatOptions: [String: String]?

    public init(registry: any SchemaRegistry, addresses: [String], flinkFormatOptions: [String: String]? = nil) {
        self.registry = registry
        self.addresses = addresses
        self.flinkFormatOptions = flinkFormatOptions
    }
}

/// One change of a statement's result as the results API serves it: `op` (0 +I, 1 -U, 2 +U, 3 -D) and the row,
/// a JSON array whose scalars are strings.
public struct ResultRecord: Sendable, Equatable {
    public var op: Int
    public var row: JSONValue

    public init(op: Int, row: JSONValue) {
        self.op = op
        self.row = row
    }
}

/// Takes a running statement's result changes, in order. `deliver` returns once the batch is durable.
public protocol ResultSink: Sendable {
    func deliver(_ records: [ResultRecord]) async throws
}

/// Why a backend refused or failed a statement: the message a user reads in `status.detail`.
public struct ExecutionFailure: Error, Sendable, Equatable {
    /// What `status.detail` says: the whole message, position included.
    public var message: String
    /// The exception class the statement's exceptions list names (Flink's, e.g.
    /// `org.apache.flink.table.api.ValidationException`); nil when the backend cannot tell.
    public var exceptionName: String?
    /// Whether the statement asks more than the backend allows any statement (how deeply it nests, how much it
    /// expands), as opposed to being wrong: a dry run refuses such a statement with 400.
    public var exceedsLimit: Bool
    /// Whether a stop the scheduler asked for failed (a savepoint that could not be taken): the statement then failed,
    /// rather than stopped, although its run was cancelled.
    public var failedToStop: Bool

    public init(_ message: String, exceptionName: String? = nil, exceedsLimit: Bool = false, failedToStop: Bool = false) {
        self.message = message
        self.exceptionName = exceptionName
        self.exceedsLimit = exceedsLimit
        self.failedToStop = failedToStop
    }
}

/// A statement a backend has analyzed and is ready to run.
public protocol PreparedExecution: Sendable {
    /// `status.traits`.
    var traits: StatementTraitsRecord { get }

    /// Runs to the end (bounded) or until the task is cancelled (unbounded); ``RunControl/ending`` then says why the
    /// scheduler ended it. `skippingFirst` result changes are not delivered again (they were before a restart).
    ///
    /// A backend whose runs outlive the server (``ExecutionBackend/runsOutliveServer(regionID:)``) re-attaches here
    /// to the run it kept going for this statement (by ``ExecutionContext/statementID``) rather than start another.
    /// - Throws: ``ExecutionFailure`` when the statement fails, `CancellationError` when cancelled.
    func run(deliveringTo sink: any ResultSink, skippingFirst: Int, control: RunControl) async throws
}

/// Why the scheduler cancelled a run, for the backends to whom it matters: a Flink job is stopped with a savepoint,
/// cancelled, or left running according to it. The embedded engine's runs end alike in all three cases (their
/// checkpoints stay until the statement is deleted).
public enum RunEnding: Sendable, Equatable {
    /// `spec.stopped`: stop so that the statement can be resumed where it stopped.
    case stop
    /// The statement was deleted: end it for good.
    case cancel
    /// The server shuts down: a run that outlives the server goes on, to be re-attached after the restart.
    case detach
}

/// How the scheduler tells a run why it is cancelled: set before the run's task is cancelled.
public final class RunControl: Sendable {
    private let state = Mutex<RunEnding?>(nil)
    /// What the run has done so far (`GET /metrics`); the embedded engine counts into it.
    public let statistics = RunStatistics()

    public init() {}

    /// Why the run is being ended; nil while nobody asked.
    public var ending: RunEnding? { state.withLock { $0 } }

    /// Records why the run is ended; the first reason wins (a deletion during a stop is still a stop to the job).
    public func end(_ reason: RunEnding) { state.withLock { if $0 == nil { $0 = reason } } }
}

/// Where statements run: the embedded engine, or a Flink cluster through its SQL Gateway.
public protocol ExecutionBackend: Sendable {
    /// Parses and analyzes `sql`; nothing runs.
    /// - Throws: ``ExecutionFailure`` with the user-facing reason when the SQL is invalid.
    func prepare(_ sql: String, in context: ExecutionContext) async throws(ExecutionFailure) -> any PreparedExecution

    /// Forgets the catalog of a deleted environment, with its tables.
    func dropCatalog(environmentID: String) async throws

    /// The latest checkpoint of a resumable statement (by ``ExecutionContext/statementID``); nil before its first.
    func checkpoint(statementID: String) -> CheckpointRecord?

    /// Deletes what a deleted statement kept to resume (its checkpoints).
    func discardState(statementID: String)

    /// The statements the backend keeps state for (to prune the state of statements that no longer exist).
    func statementIDsWithState() -> Set<String>

    /// Whether the statements of `regionID` keep running while the server is down (a Flink cluster's jobs do), so
    /// that a restart re-attaches to them and a stop the server did not see through must still stop them.
    func runsOutliveServer(regionID: String) -> Bool

    /// Stops, so that it can be resumed, the run a backend kept going for a statement that nothing in this process
    /// drives any more (its stop was asked before the server restarted).
    func stopDetachedRun(statementID: String, regionID: String) async throws(ExecutionFailure)

    /// What runs the statements of `regionID`, as `describe` of a compute pool shows it: `embedded`, or `flink`.
    func engine(regionID: String) -> String
}

extension ExecutionBackend {
    public func runsOutliveServer(regionID: String) -> Bool { false }
    public func stopDetachedRun(statementID: String, regionID: String) async throws(ExecutionFailure) {}
    public func engine(regionID: String) -> String { "embedded" }
}

/// What a statement's latest checkpoint says, in the API's terms.
public struct CheckpointRecord: Sendable, Equatable {
    /// `status.latest_offsets`: topic (table) → `partition:0,offset:N`.
    public var latestOffsets: [String: String]
    /// `status.latest_offsets_timestamp`: when the checkpoint was taken.
    public var takenAt: Date
    /// The size of the checkpointed operator state, in bytes.
    public var stateBytes: Int

    public init(latestOffsets: [String: String], takenAt: Date, stateBytes: Int) {
        self.latestOffsets = latestOffsets
        self.takenAt = takenAt
        self.stateBytes = stateBytes
    }
}
