// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// What a statement may do with the tables of one catalog (an environment).
///
/// Every role that may run statements in an environment — OrganizationAdmin, EnvironmentAdmin, FlinkAdmin and
/// FlinkDeveloper, on the environment or on a region or compute pool inside it — grants all three today; the kinds
/// are kept apart so that the engine checks each use for what it is (and the data roles of Kafka topics can grant
/// them one by one).
public struct CatalogAccess: OptionSet, Sendable, Hashable {
    public let rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    /// SELECT from its tables and views; see them in SHOW, DESCRIBE and INFORMATION_SCHEMA.
    public static let read = CatalogAccess(rawValue: 1)
    /// INSERT INTO its tables.
    public static let write = CatalogAccess(rawValue: 2)
    /// CREATE, ALTER and DROP its databases, tables and views.
    public static let manage = CatalogAccess(rawValue: 4)

    public static let all: CatalogAccess = [.read, .write, .manage]
}

/// How far the API key that submitted a statement reaches: a Cloud API key as far as its owner's roles, a Flink API
/// key only into its own environment. A statement keeps the reach of the key that created it (or that last changed
/// its principal), so that a key scoped to one environment cannot reach another through SQL.
public enum CredentialReach: Codable, Sendable, Equatable {
    /// A Cloud API key: every environment of the organization (as far as the principal's roles allow).
    case organization
    /// A Flink API key: its own environment only.
    case environment(String)

    /// The reach of `key`.
    public init(of key: APIKey) {
        switch key.resource {
        case .cloud: self = .organization
        case .flinkRegion(_, let environmentID), .schemaRegistry(_, let environmentID): self = .environment(environmentID)
        }
    }

    /// Whether the reach includes `environmentID`.
    public func includes(_ environmentID: String) -> Bool {
        switch self {
        case .organization: return true
        case .environment(let own): return own == environmentID
        }
    }
}
