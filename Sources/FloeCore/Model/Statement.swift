// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The phases a statement moves through. Floe never emits `FAILING` or `DELETING`: real clients crash on them
/// (confluent-sql on FAILING, cc-clients on DELETING), so failures go straight to FAILED and deletions remove the
/// statement at once.
public enum StatementPhase: String, Codable, Sendable, CaseIterable {
    case pending = "PENDING"
    case running = "RUNNING"
    case completed = "COMPLETED"
    case stopping = "STOPPING"
    case stopped = "STOPPED"
    case failed = "FAILED"

    /// Phases from which the statement produces nothing more unless resumed.
    public var isTerminal: Bool { self == .completed || self == .stopped || self == .failed }
}

/// `status.network_kind`: whether a statement was created through the public endpoint or the private one (Confluent
/// Cloud's private networking; Floe's second listener).
public enum NetworkKind: String, Codable, Sendable, CaseIterable {
    case `public` = "PUBLIC"
    case `private` = "PRIVATE"
}

/// `status.traits` as stored: the analysis of the statement's SQL. The schema is kept in its wire form (the
/// engine's rendering of Flink's DataType JSON) so that the control plane never interprets SQL types.
public struct StatementTraitsRecord: Codable, Sendable, Equatable {
    public var sqlKind: String
    public var isBounded: Bool
    public var isAppendOnly: Bool
    public var upsertColumns: [Int]?
    /// `{"columns":[…]}` serialized, or `nil` for statements without a result.
    public var schemaJSON: String?

    public init(sqlKind: String, isBounded: Bool, isAppendOnly: Bool, upsertColumns: [Int]?, schemaJSON: String?) {
        self.sqlKind = sqlKind
        self.isBounded = isBounded
        self.isAppendOnly = isAppendOnly
        self.upsertColumns = upsertColumns
        self.schemaJSON = schemaJSON
    }

    /// Whether a stopped statement of this kind may be resumed (as on Confluent Cloud).
    public var isResumable: Bool { Self.resumableKinds.contains(sqlKind) }
    /// The SQL kinds a stopped statement of which may be resumed (they write somewhere; a query's results do not).
    public static let resumableKinds: Set<String> = ["CREATE_TABLE_AS", "INSERT_INTO", "EXECUTE_STATEMENT_SET"]
}

/// One entry of `GET …/exceptions` (newest first, at most ten kept).
public struct StatementException: Codable, Sendable, Equatable {
    public var name: String
    public var message: String
    public var timestamp: Date

    public init(name: String, message: String, timestamp: Date) {
        self.name = name
        self.message = message
        self.timestamp = timestamp
    }
}

/// One entry of `status.warnings`.
public struct StatementWarning: Codable, Sendable, Equatable {
    public var severity: String
    public var reason: String
    public var message: String
    public var createdAt: Date

    public init(severity: String, reason: String, message: String, createdAt: Date) {
        self.severity = severity
        self.reason = reason
        self.message = message
        self.createdAt = createdAt
    }
}

/// A Flink SQL statement of the `sql/v1` API.
///
/// Names are unique inside an environment, so the stored id is `<environment>/<name>`; `uid` is the per-incarnation
/// UUID (a statement deleted and created again under the same name gets a new one, and with it a new result log).
public struct Statement: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.statement

    public var name: String
    public var organizationID: String
    public var environmentIDValue: String
    public var uid: String
    public var sequence: Int64
    public var createdAt: Date
    public var updatedAt: Date
    /// Bumped on every stored change; PUT must carry the current value.
    public var resourceVersion: Int64
    public var labels: [String: String]

    // spec
    public var sql: String
    public var properties: [String: String]
    public var computePoolID: String
    /// The region of the compute pool (`aws.us-east-1`), where Flink API keys must be scoped.
    public var regionID: String
    public var principal: String
    /// The principal that created the statement (a FlinkDeveloper manages its own statements).
    public var creatorID: String
    /// How far the API key that created the statement (or last changed its principal) reaches; nil for statements
    /// stored before it was recorded, which reach their own environment only.
    public var credentialReach: CredentialReach?
    public var stopped: Bool
    /// The endpoint the statement was created through; nil for statements stored before it was recorded (all of which
    /// came through the public endpoint).
    public var networkKind: NetworkKind?

    // status
    public var phase: StatementPhase
    public var detail: String
    public var traits: StatementTraitsRecord?
    public var warnings: [StatementWarning]
    public var scalingState: String
    public var scalingUpdatedAt: Date
    /// When the statement last started running (for `duration`).
    public var startedAt: Date?
    public var endTime: Date?
    public var exceptions: [StatementException]

    public var id: String { Self.id(environmentID: environmentIDValue, name: name) }
    public var environmentID: String? { environmentIDValue }

    /// The stored id of the statement `name` in `environmentID`.
    public static func id(environmentID: String, name: String) -> String { "\(environmentID)/\(name)" }

    public init(
        name: String, organizationID: String, environmentID: String, uid: String, sequence: Int64, createdAt: Date,
        labels: [String: String], sql: String, properties: [String: String], computePoolID: String, regionID: String,
        principal: String, creatorID: String
    ) {
        self.name = name
        self.organizationID = organizationID
        self.environmentIDValue = environmentID
        self.uid = uid
        self.sequence = sequence
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.resourceVersion = 1
        self.labels = labels
        self.sql = sql
        self.properties = properties
        self.computePoolID = computePoolID
        self.regionID = regionID
        self.principal = principal
        self.creatorID = creatorID
        self.stopped = false
        self.phase = .pending
        self.detail = ""
        self.traits = nil
        self.warnings = []
        self.scalingState = "OK"
        self.scalingUpdatedAt = createdAt
        self.startedAt = nil
        self.endTime = nil
        self.exceptions = []
    }

    /// Records a failure: phase FAILED, the reason in `detail` and at the head of the exceptions list, under the name
    /// of the exception class that says what kind of failure it was (Flink's, e.g. `…ValidationException`).
    public mutating func fail(_ message: String, exception: String? = nil, now: Date) {
        phase = .failed
        detail = message
        endTime = now
        record(exception: StatementException(name: exception ?? "org.apache.flink.table.api.TableException", message: message, timestamp: now))
    }

    /// Keeps the ten most recent exceptions, newest first.
    public mutating func record(exception: StatementException) {
        exceptions.insert(exception, at: 0)
        if exceptions.count > 10 { exceptions.removeLast(exceptions.count - 10) }
    }
}
