// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The lifecycle phase of an attached Kafka cluster, as `cmk/v2` reports it.
///
/// Floe runs no brokers: PROVISIONING means "not yet checked" (just created, or its connection just changed),
/// PROVISIONED that a Metadata request reached it, FAILED that it did not (the reason is in ``KafkaCluster/statusDetail``).
public enum KafkaClusterPhase: String, Codable, Sendable {
    case provisioning = "PROVISIONING"
    case provisioned = "PROVISIONED"
    case failed = "FAILED"
}

/// The `spec.config` of a `cmk/v2` cluster. Floe sizes nothing, so the type and its units are accepted and echoed.
public struct KafkaClusterConfig: Codable, Sendable, Hashable {
    /// The cluster types of `cmk/v2` (the `kind` discriminator of `spec.config`).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case basic = "Basic"
        case standard = "Standard"
        case enterprise = "Enterprise"
        case dedicated = "Dedicated"
        case freight = "Freight"
    }

    public var kind: Kind
    /// Confluent Kafka Units of a Dedicated cluster (required there, refused elsewhere).
    public var cku: Int?
    /// The eCKU ceiling of the elastic types (Basic, Standard, Enterprise, Freight).
    public var maxECKU: Int?

    public init(kind: Kind, cku: Int? = nil, maxECKU: Int? = nil) {
        self.kind = kind
        self.cku = cku
        self.maxECKU = maxECKU
    }
}

/// What a probe of an attached cluster found (kept in the resource, so listings need no broker round trip).
public enum KafkaClusterProbeOutcome: Sendable, Equatable {
    /// The brokers answered a Metadata request.
    case reachable(kafkaClusterID: String, brokerCount: Int)
    /// They did not; the reason is shown to the user as it is.
    case unreachable(reason: String)
}

/// A Kafka cluster of an environment (`cmk/v2`, `lkc-…`): on Floe, an existing broker attached by its bootstrap servers.
///
/// The resource holds nothing secret: SASL credentials and a private TLS CA live in ``KafkaClusterSecret``, which the
/// store keeps in a table of its own and no API ever returns. ``connectionRevision`` counts connection changes, so
/// that a probe started before a change cannot record its outcome over the newer connection's.
public struct KafkaCluster: ControlPlaneResource, Equatable {
    public static let kind = ResourceKind.kafkaCluster
    public var id: String
    public var organizationID: String
    public var environmentIDValue: String
    /// Unique in the environment: statements name the cluster (a database) by it.
    public var displayName: String
    /// `SINGLE_ZONE`, `MULTI_ZONE`, `LOW` or `HIGH`.
    public var availability: String
    public var cloud: Cloud
    /// Immutable, as on Confluent Cloud.
    public var region: String
    public var config: KafkaClusterConfig
    /// `host:port[,host:port…]`; empty when the cluster was created without one (it is then FAILED until set).
    public var bootstrapServers: String
    /// Whether Floe speaks TLS to the brokers.
    public var useTLS: Bool
    /// Deletes are refused while set.
    public var deletionProtection: Bool
    public var phase: KafkaClusterPhase
    /// Why the cluster is FAILED (nil otherwise).
    public var statusDetail: String?
    /// The cluster id the brokers reported at the last successful probe.
    public var kafkaClusterID: String?
    /// The number of brokers seen at the last successful probe.
    public var brokerCount: Int?
    /// Incremented at every connection change.
    public var connectionRevision: Int64
    public var sequence: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var environmentID: String? { environmentIDValue }

    public init(
        id: String, organizationID: String, environmentID: String, displayName: String, availability: String, cloud: Cloud, region: String,
        config: KafkaClusterConfig, bootstrapServers: String, useTLS: Bool, deletionProtection: Bool, phase: KafkaClusterPhase,
        statusDetail: String? = nil, kafkaClusterID: String? = nil, brokerCount: Int? = nil, connectionRevision: Int64 = 1, sequence: Int64,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.environmentIDValue = environmentID
        self.displayName = displayName
        self.availability = availability
        self.cloud = cloud
        self.region = region
        self.config = config
        self.bootstrapServers = bootstrapServers
        self.useTLS = useTLS
        self.deletionProtection = deletionProtection
        self.phase = phase
        self.statusDetail = statusDetail
        self.kafkaClusterID = kafkaClusterID
        self.brokerCount = brokerCount
        self.connectionRevision = connectionRevision
        self.sequence = sequence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The availabilities `cmk/v2` names.
    public static let availabilities = ["SINGLE_ZONE", "MULTI_ZONE", "LOW", "HIGH"]
}

/// The secret half of an attached cluster's connection: SASL credentials and a private TLS CA.
///
/// Stored apart from the resource (the store's `kafka_cluster_secret` table), so that the resource body — which the
/// API renders and which listings copy around — can never carry a password. Its descriptions leave the secrets out.
public struct KafkaClusterSecret: ControlPlaneResource, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public static let kind = ResourceKind.kafkaClusterSecret
    /// The cluster's id (`lkc-…`).
    public var id: String
    public var organizationID: String
    public var environmentIDValue: String
    public var sasl: KafkaConnection.SASL?
    public var tlsCAPEM: String?
    public var sequence: Int64
    public var environmentID: String? { environmentIDValue }

    public init(
        id: String, organizationID: String, environmentID: String, sasl: KafkaConnection.SASL?, tlsCAPEM: String?, sequence: Int64
    ) {
        self.id = id
        self.organizationID = organizationID
        self.environmentIDValue = environmentID
        self.sasl = sasl
        self.tlsCAPEM = tlsCAPEM
        self.sequence = sequence
    }

    /// Whether there is anything to keep.
    var isEmpty: Bool { sasl == nil && tlsCAPEM == nil }

    public var description: String {
        "KafkaClusterSecret(\(id), sasl: \(sasl.map { "\($0.mechanism.rawValue) as \($0.username)" } ?? "none"), tls CA: \(tlsCAPEM == nil ? "system" : "private"))"
    }

    public var debugDescription: String { description }
}
