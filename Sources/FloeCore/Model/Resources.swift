// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The kinds of control-plane resources Floe stores.
public enum ResourceKind: String, Codable, Sendable, CaseIterable {
    case organization
    case environment
    case user
    case serviceAccount = "service_account"
    case apiKey = "api_key"
    case roleBinding = "role_binding"
    case computePool = "compute_pool"
    case computePoolConfig = "compute_pool_config"
    case statement
    case kafkaCluster = "kafka_cluster"
    /// The credentials of a Kafka cluster; the store keeps them in a table of their own.
    case kafkaClusterSecret = "kafka_cluster_secret"
}

/// Anything listed in creation order: the position pagination continues from.
public protocol Sequenced {
    /// Monotonic creation order.
    var sequence: Int64 { get }
}

/// What every stored control-plane resource has: an id, its organization, and a creation sequence number that
/// orders listings and pagination.
public protocol ControlPlaneResource: Codable, Sendable, Sequenced {
    /// The kind, which selects the store table and the in-memory collection.
    static var kind: ResourceKind { get }
    /// The natural id (`env-…`, `lfcp-…`, the key id, …).
    var id: String { get }
    /// The owning organization.
    var organizationID: String { get }
    /// The environment, for environment-scoped resources.
    var environmentID: String? { get }
    /// Monotonic creation order across all resources; listings sort by it.
    var sequence: Int64 { get }
}

/// An organization (the tenant); the id is a UUID.
public struct Organization: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.organization
    public var id: String
    public var displayName: String
    public var sequence: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var organizationID: String { id }
    public var environmentID: String? { nil }

    public init(id: String, displayName: String, sequence: Int64, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.displayName = displayName
        self.sequence = sequence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An environment: a namespace for compute pools, statements and Flink catalogs.
public struct Environment: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.environment
    public var id: String
    public var organizationID: String
    public var displayName: String
    /// Stream Governance package (`ESSENTIALS`, `ADVANCED`), kept as given.
    public var streamGovernancePackage: String?
    /// The id (`lsrc-…`) of the environment's Schema Registry, which lives and dies with it. `nil` only in environments
    /// stored before registries existed, until the server's next start gives them one.
    public var schemaRegistryID: String?
    /// A registry the environment uses instead of its own, when one was named.
    public var externalSchemaRegistry: ExternalSchemaRegistry?
    public var sequence: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var environmentID: String? { id }

    public init(
        id: String, organizationID: String, displayName: String, streamGovernancePackage: String?, schemaRegistryID: String? = nil,
        sequence: Int64, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.displayName = displayName
        self.streamGovernancePackage = streamGovernancePackage
        self.schemaRegistryID = schemaRegistryID
        self.sequence = sequence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A human user of the organization.
public struct User: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.user
    public var id: String
    public var organizationID: String
    public var email: String
    public var fullName: String
    /// `AUTH_TYPE_LOCAL` or `AUTH_TYPE_SSO`.
    public var authType: String
    public var sequence: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var environmentID: String? { nil }

    public init(
        id: String, organizationID: String, email: String, fullName: String, authType: String, sequence: Int64,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.email = email
        self.fullName = fullName
        self.authType = authType
        self.sequence = sequence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A service account: a non-human principal that owns API keys and runs statements.
public struct ServiceAccount: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.serviceAccount
    public var id: String
    public var organizationID: String
    public var displayName: String
    public var description: String
    public var sequence: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var environmentID: String? { nil }

    public init(
        id: String, organizationID: String, displayName: String, description: String, sequence: Int64, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.displayName = displayName
        self.description = description
        self.sequence = sequence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What an API key grants access to.
public enum APIKeyResource: Codable, Sendable, Equatable, Hashable {
    /// A Cloud API key: resource management on fcpm/iam/org.
    case cloud
    /// A Flink API key: the `sql/v1` API of one region, inside one environment.
    case flinkRegion(regionID: String, environmentID: String)
    /// A Schema Registry API key: the data plane of one environment's registry (`lsrc-…`), nothing else.
    case schemaRegistry(clusterID: String, environmentID: String)

    /// The resource id as the API shows it (`cloud`, `aws.us-east-1` or `lsrc-…`).
    public var id: String {
        switch self {
        case .cloud: return "cloud"
        case .flinkRegion(let regionID, _): return regionID
        case .schemaRegistry(let clusterID, _): return clusterID
        }
    }

    /// The environment of a Flink or Schema Registry key.
    public var environmentID: String? {
        switch self {
        case .cloud: return nil
        case .flinkRegion(_, let environmentID): return environmentID
        case .schemaRegistry(_, let environmentID): return environmentID
        }
    }
}

/// A salted SHA-256 digest of an API secret; the secret itself is never stored.
public struct SecretDigest: Codable, Sendable, Equatable, Hashable {
    /// Random salt, base64.
    public var salt: String
    /// SHA-256 of salt ‖ secret, base64.
    public var digest: String

    public init(salt: String, digest: String) {
        self.salt = salt
        self.digest = digest
    }
}

/// An API key: an id, a secret (stored only as a digest), an owner and a resource scope.
public struct APIKey: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.apiKey
    public var id: String
    public var organizationID: String
    public var displayName: String
    public var description: String
    /// `u-…` or `sa-…`.
    public var ownerID: String
    public var resource: APIKeyResource
    public var secretDigest: SecretDigest
    public var sequence: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var environmentID: String? { resource.environmentID }

    public init(
        id: String, organizationID: String, displayName: String, description: String, ownerID: String,
        resource: APIKeyResource, secretDigest: SecretDigest, sequence: Int64, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.displayName = displayName
        self.description = description
        self.ownerID = ownerID
        self.resource = resource
        self.secretDigest = secretDigest
        self.sequence = sequence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The roles Floe understands, named as Confluent Cloud names them.
public enum Role: String, Codable, Sendable, CaseIterable {
    case organizationAdmin = "OrganizationAdmin"
    case environmentAdmin = "EnvironmentAdmin"
    case flinkAdmin = "FlinkAdmin"
    case flinkDeveloper = "FlinkDeveloper"
    case assigner = "Assigner"
    /// Reads the server's metrics (`GET /metrics`), as Confluent Cloud's MetricsViewer reads its Metrics API.
    case metricsViewer = "MetricsViewer"

    /// Whether holding this role on a scope gives everything `other` gives on the same scope.
    public func includes(_ other: Role) -> Bool {
        switch self {
        case .organizationAdmin: return true
        case .environmentAdmin: return [.environmentAdmin, .flinkAdmin, .flinkDeveloper].contains(other)
        case .flinkAdmin: return [.flinkAdmin, .flinkDeveloper].contains(other)
        case .flinkDeveloper, .assigner, .metricsViewer: return other == self
        }
    }

    /// The scopes a binding of this role may name, as the element types of its CRN after the organization: a binding on
    /// any other scope could never apply (an Assigner binding on an environment, an EnvironmentAdmin on a pool).
    public var bindableScopes: [[String]] {
        switch self {
        case .organizationAdmin, .metricsViewer: return [[]]
        case .environmentAdmin: return [["environment"]]
        case .flinkAdmin, .flinkDeveloper:
            return [["environment"], ["environment", "flink-region"], ["environment", "flink-region", "compute-pool"]]
        case .assigner: return [["service-account"]]
        }
    }
}

/// A role granted to a principal on a CRN scope.
public struct RoleBinding: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.roleBinding
    public var id: String
    public var organizationID: String
    /// `User:u-…` or `User:sa-…` (Confluent spells service accounts as users here too).
    public var principal: String
    public var role: Role
    public var crnPattern: String
    public var sequence: Int64
    public var createdAt: Date
    public var environmentID: String? { CRN(parsing: crnPattern)?.value(of: "environment") }

    public init(
        id: String, organizationID: String, principal: String, role: Role, crnPattern: String, sequence: Int64,
        createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.principal = principal
        self.role = role
        self.crnPattern = crnPattern
        self.sequence = sequence
        self.createdAt = createdAt
    }

    /// The bare principal id (`u-…`, `sa-…`) of a `User:`/`Group:` principal string.
    public static func principalID(_ principal: String) -> String? {
        guard let colon = principal.firstIndex(of: ":") else { return nil }
        let id = principal[principal.index(after: colon)...]
        return id.isEmpty ? nil : String(id)
    }
}

/// The lifecycle phase of a compute pool.
public enum ComputePoolPhase: String, Codable, Sendable {
    case provisioning = "PROVISIONING"
    case provisioned = "PROVISIONED"
    case failed = "FAILED"
    case deprovisioning = "DEPROVISIONING"
}

/// A compute pool: the CFU budget statements run in.
public struct ComputePool: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.computePool
    public var id: String
    public var organizationID: String
    public var environmentIDValue: String
    public var displayName: String
    public var cloud: Cloud
    public var region: String
    public var maxCFU: Int
    public var enableAI: Bool
    public var defaultPool: Bool
    public var phase: ComputePoolPhase
    public var currentCFU: Int
    public var sequence: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var environmentID: String? { environmentIDValue }
    /// The Flink region id, e.g. `aws.us-east-1`.
    public var regionID: String { "\(cloud.lowercased).\(region)" }

    public init(
        id: String, organizationID: String, environmentID: String, displayName: String, cloud: Cloud, region: String,
        maxCFU: Int, enableAI: Bool, defaultPool: Bool, phase: ComputePoolPhase, currentCFU: Int, sequence: Int64,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.environmentIDValue = environmentID
        self.displayName = displayName
        self.cloud = cloud
        self.region = region
        self.maxCFU = maxCFU
        self.enableAI = enableAI
        self.defaultPool = defaultPool
        self.phase = phase
        self.currentCFU = currentCFU
        self.sequence = sequence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The CFU sizes Confluent Cloud offers.
    public static let allowedMaxCFU: [Int] = [5, 10, 20, 30, 40, 50]
}

/// Organization-wide compute-pool settings (`fcpm/v2/compute-pool-config`).
public struct ComputePoolConfig: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.computePoolConfig
    public var organizationID: String
    public var defaultPoolEnabled: Bool
    public var defaultPoolMaxCFU: Int
    public var sequence: Int64
    public var updatedAt: Date
    public var id: String { organizationID }
    public var environmentID: String? { nil }

    public init(organizationID: String, defaultPoolEnabled: Bool, defaultPoolMaxCFU: Int, sequence: Int64, updatedAt: Date) {
        self.organizationID = organizationID
        self.defaultPoolEnabled = defaultPoolEnabled
        self.defaultPoolMaxCFU = defaultPoolMaxCFU
        self.sequence = sequence
        self.updatedAt = updatedAt
    }
}
