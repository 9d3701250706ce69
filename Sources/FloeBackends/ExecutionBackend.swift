// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
public import FloeSchemas
public import Foundation

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

    public init(
        environment: (id: String, name: String), catalogs: [(id: String, name: String, access: CatalogAccess)], properties: [String: String],
        statementID: String? = nil, kafkaClusters: [AttachedKafkaCluster] = []
    ) {
        self.environment = environment
        self.catalogs = catalogs
        self.properties = properties
        self.statementID = statementID
        self.kafkaClusters = kafkaClusters
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

    public init(registry: any SchemaRegistry, addresses: [String]) {
        self.registry = registry
        self.addresses = addresses
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

    public init(_ message: String, exceptionName: String? = nil, exceedsLimit: Bool = false) {
        self.message = message
        self.exceptionName = exceptionName
        self.exceedsLimit = exceedsLimit
    }
}

/// A statement a backend has analyzed and is ready to run.
public protocol PreparedExecution: Sendable {
    /// `status.traits`.
    var traits: StatementTraitsRecord { get }

    /// Runs to the end (bounded) or until the task is cancelled (unbounded). `skippingFirst` result changes are
    /// recomputed but not delivered again (they were before a restart).
    /// - Throws: ``ExecutionFailure`` when the statement fails, `CancellationError` when cancelled.
    func run(deliveringTo sink: any ResultSink, skippingFirst: Int) async throws
}

/// Where statements run: the embedded engine, or (later) a Flink SQL Gateway.
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
