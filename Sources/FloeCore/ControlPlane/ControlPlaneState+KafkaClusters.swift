// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The rules of `cmk/v2` clusters: Kafka clusters Floe does not run but attaches by their bootstrap servers.
extension ControlPlaneState {
    /// What a cluster create request asks for (already parsed from the API's JSON).
    public struct KafkaClusterRequest: Sendable {
        public var displayName: String
        public var availability: String
        public var cloud: String
        public var region: String
        public var config: KafkaClusterConfig
        public var environmentID: String
        /// Empty when the request named none: the cluster is created FAILED, waiting for one.
        public var bootstrapServers: String
        public var sasl: KafkaConnection.SASL?
        public var useTLS: Bool
        public var tlsCAPEM: String?
        public var deletionProtection: Bool

        public init(
            displayName: String, availability: String, cloud: String, region: String, config: KafkaClusterConfig, environmentID: String,
            bootstrapServers: String, sasl: KafkaConnection.SASL? = nil, useTLS: Bool = false, tlsCAPEM: String? = nil,
            deletionProtection: Bool = false
        ) {
            self.displayName = displayName
            self.availability = availability
            self.cloud = cloud
            self.region = region
            self.config = config
            self.environmentID = environmentID
            self.bootstrapServers = bootstrapServers
            self.sasl = sasl
            self.useTLS = useTLS
            self.tlsCAPEM = tlsCAPEM
            self.deletionProtection = deletionProtection
        }
    }

    /// What a cluster update changes; `nil` and ``Change/keep`` leave a field as it is.
    public struct KafkaClusterUpdate: Sendable {
        /// A change to an optional setting: keep it, remove it, or set it.
        public enum Change<Value: Sendable>: Sendable {
            case keep
            case remove
            case set(Value)
        }

        public var displayName: String?
        public var availability: String?
        public var config: KafkaClusterConfig?
        public var deletionProtection: Bool?
        public var bootstrapServers: String?
        public var sasl: Change<KafkaConnection.SASL> = .keep
        public var useTLS: Bool?
        public var tlsCAPEM: Change<String> = .keep

        public init() {}

        /// Whether the update touches how Floe reaches the brokers (which calls for a new probe).
        var changesConnection: Bool {
            if bootstrapServers != nil || useTLS != nil { return true }
            if case .keep = sasl, case .keep = tlsCAPEM { return false }
            return true
        }
    }

    /// The reason shown for a cluster that has no bootstrap servers yet.
    public static let missingBootstrapDetail =
        "spec.kafka_bootstrap_endpoint is not set: Floe attaches an existing Kafka cluster, so give the bootstrap servers (host:port) to reach it."

    // MARK: Validation

    static func validateAvailability(_ value: String) throws(APIError) {
        guard KafkaCluster.availabilities.contains(value) else {
            throw .badRequest(
                "spec.availability must be one of \(KafkaCluster.availabilities.joined(separator: ", ")); got '\(value)'.",
                pointer: "/spec/availability")
        }
    }

    static func validateKafkaConfig(_ config: KafkaClusterConfig) throws(APIError) {
        if config.kind == .dedicated {
            guard let cku = config.cku, cku >= 1 else {
                throw .badRequest("spec.config.cku must be at least 1 for a Dedicated cluster.", pointer: "/spec/config/cku")
            }
            if config.maxECKU != nil {
                throw .badRequest("spec.config.max_ecku does not apply to a Dedicated cluster.", pointer: "/spec/config/max_ecku")
            }
        } else {
            if config.cku != nil {
                throw .badRequest("spec.config.cku applies only to a Dedicated cluster.", pointer: "/spec/config/cku")
            }
            if let maxECKU = config.maxECKU, maxECKU < 1 {
                throw .badRequest("spec.config.max_ecku must be at least 1.", pointer: "/spec/config/max_ecku")
            }
        }
    }

    /// Checks `host:port[,host:port…]` (hosts may be `[v6]` literals), the form of Kafka's `bootstrap.servers`.
    public static func validateBootstrapServers(_ text: String) throws(APIError) {
        let pointer = "/spec/kafka_bootstrap_endpoint"
        guard text.count <= 2048 else { throw .badRequest("spec.kafka_bootstrap_endpoint is too long.", pointer: pointer) }
        let servers = text.split(separator: ",", omittingEmptySubsequences: false)
        for server in servers {
            guard let colon = server.lastIndex(of: ":") else {
                throw .badRequest("spec.kafka_bootstrap_endpoint must be host:port[,host:port…]; '\(server)' has no port.", pointer: pointer)
            }
            let host = server[..<colon]
            let port = server[server.index(after: colon)...]
            let hostIsValid =
                !host.isEmpty
                && (host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2
                    || host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") })
            guard hostIsValid else {
                throw .badRequest("spec.kafka_bootstrap_endpoint has an invalid host in '\(server)'.", pointer: pointer)
            }
            guard port.allSatisfy(\.isASCII), let number = Int(port), (1...65535).contains(number) else {
                throw .badRequest("spec.kafka_bootstrap_endpoint has an invalid port in '\(server)'.", pointer: pointer)
            }
        }
    }

    static func validateSASL(_ sasl: KafkaConnection.SASL) throws(APIError) {
        guard !sasl.username.isEmpty else {
            throw .badRequest("spec.credentials.username must not be empty.", pointer: "/spec/credentials/username")
        }
        guard !sasl.password.isEmpty else {
            throw .badRequest("spec.credentials.password must not be empty.", pointer: "/spec/credentials/password")
        }
    }

    static func validateCAPEM(_ pem: String) throws(APIError) {
        guard pem.contains("-----BEGIN CERTIFICATE-----"), pem.contains("-----END CERTIFICATE-----") else {
            throw .badRequest("spec.tls.ca_pem must hold PEM certificates (-----BEGIN CERTIFICATE-----).", pointer: "/spec/tls/ca_pem")
        }
        guard pem.utf8.count <= 1 << 20 else { throw .badRequest("spec.tls.ca_pem must be at most 1 MiB.", pointer: "/spec/tls/ca_pem") }
    }

    func requireUniqueKafkaClusterName(_ name: String, environmentID: String, except id: String?) throws(APIError) {
        if kafkaClusters.values.contains(where: { $0.environmentIDValue == environmentID && $0.displayName == name && $0.id != id }) {
            throw .conflict("A Kafka cluster named '\(name)' already exists in environment \(environmentID).")
        }
    }

    // MARK: Operations

    /// Attaches a Kafka cluster to an environment, PROVISIONING until the prober has reached it (FAILED at once when
    /// no bootstrap servers were given).
    public mutating func createKafkaCluster(organizationID: String, request: KafkaClusterRequest, now: Date) throws(APIError) -> KafkaCluster {
        try Self.validateDisplayName(request.displayName, pointer: "/spec/display_name")
        try Self.validateAvailability(request.availability)
        guard let cloud = Cloud(caseInsensitive: request.cloud) else {
            throw .badRequest("spec.cloud must be one of AWS, GCP, AZURE; got '\(request.cloud)'.", pointer: "/spec/cloud")
        }
        guard !request.region.isEmpty, request.region.count <= 64 else {
            throw .badRequest("spec.region must be a region name such as us-east-1.", pointer: "/spec/region")
        }
        try Self.validateKafkaConfig(request.config)
        if !request.bootstrapServers.isEmpty { try Self.validateBootstrapServers(request.bootstrapServers) }
        if let sasl = request.sasl { try Self.validateSASL(sasl) }
        if let pem = request.tlsCAPEM { try Self.validateCAPEM(pem) }
        guard let environment = environments[request.environmentID], environment.organizationID == organizationID else {
            throw .notFound("Environment \(request.environmentID) was not found.")
        }
        try requireUniqueKafkaClusterName(request.displayName, environmentID: environment.id, except: nil)
        let id = uniqueID(IdentifierGenerator.kafkaClusterID) { kafkaClusters[$0] != nil }
        let attached = !request.bootstrapServers.isEmpty
        let cluster = KafkaCluster(
            id: id, organizationID: organizationID, environmentID: environment.id, displayName: request.displayName,
            availability: request.availability, cloud: cloud, region: request.region, config: request.config,
            bootstrapServers: request.bootstrapServers, useTLS: request.useTLS || request.tlsCAPEM != nil,
            deletionProtection: request.deletionProtection, phase: attached ? .provisioning : .failed,
            statusDetail: attached ? nil : Self.missingBootstrapDetail, sequence: nextSequence(), createdAt: now, updatedAt: now)
        put(cluster, in: \.kafkaClusters)
        let secret = KafkaClusterSecret(
            id: id, organizationID: organizationID, environmentID: environment.id, sasl: request.sasl, tlsCAPEM: request.tlsCAPEM,
            sequence: cluster.sequence)
        if !secret.isEmpty { put(secret, in: \.kafkaClusterSecrets) }
        return cluster
    }

    /// The cluster `id` of `environmentID`, or a 404 in `cmk/v2`'s words.
    public func kafkaCluster(_ id: String, environmentID: String) throws(APIError) -> KafkaCluster {
        guard let cluster = kafkaClusters[id], cluster.environmentIDValue == environmentID else {
            throw .notFound("Kafka cluster \(id) was not found in environment \(environmentID).")
        }
        return cluster
    }

    /// Changes a cluster. A change of its connection (bootstrap servers, credentials, TLS) puts it back to
    /// PROVISIONING, so that the prober checks the new connection.
    public mutating func updateKafkaCluster(
        id: String, environmentID: String, update: KafkaClusterUpdate, now: Date
    ) throws(APIError) -> KafkaCluster {
        var cluster = try kafkaCluster(id, environmentID: environmentID)
        if let displayName = update.displayName {
            try Self.validateDisplayName(displayName, pointer: "/spec/display_name")
            try requireUniqueKafkaClusterName(displayName, environmentID: environmentID, except: id)
            cluster.displayName = displayName
        }
        if let availability = update.availability {
            try Self.validateAvailability(availability)
            cluster.availability = availability
        }
        if let config = update.config {
            try Self.validateKafkaConfig(config)
            cluster.config = config
        }
        if let deletionProtection = update.deletionProtection { cluster.deletionProtection = deletionProtection }
        var secret =
            kafkaClusterSecrets[id]
            ?? KafkaClusterSecret(
                id: id, organizationID: cluster.organizationID, environmentID: environmentID, sasl: nil, tlsCAPEM: nil, sequence: cluster.sequence)
        if update.changesConnection {
            if let servers = update.bootstrapServers {
                if !servers.isEmpty { try Self.validateBootstrapServers(servers) }
                cluster.bootstrapServers = servers
            }
            switch update.sasl {
            case .keep: break
            case .remove: secret.sasl = nil
            case .set(let sasl):
                try Self.validateSASL(sasl)
                secret.sasl = sasl
            }
            switch update.tlsCAPEM {
            case .keep: break
            case .remove: secret.tlsCAPEM = nil
            case .set(let pem):
                try Self.validateCAPEM(pem)
                secret.tlsCAPEM = pem
                cluster.useTLS = true
            }
            if let useTLS = update.useTLS { cluster.useTLS = useTLS }
            cluster.connectionRevision += 1
            cluster.kafkaClusterID = nil
            cluster.brokerCount = nil
            cluster.phase = cluster.bootstrapServers.isEmpty ? .failed : .provisioning
            cluster.statusDetail = cluster.bootstrapServers.isEmpty ? Self.missingBootstrapDetail : nil
            if secret.isEmpty {
                remove(id, from: \.kafkaClusterSecrets)
            } else if secret != kafkaClusterSecrets[id] {
                put(secret, in: \.kafkaClusterSecrets)
            }
        }
        cluster.updatedAt = now
        put(cluster, in: \.kafkaClusters)
        return cluster
    }

    /// Detaches a cluster (the brokers and their topics are untouched). Refused while deletion protection is on.
    public mutating func deleteKafkaCluster(id: String, environmentID: String) throws(APIError) {
        let cluster = try kafkaCluster(id, environmentID: environmentID)
        if cluster.deletionProtection {
            throw .badRequest(
                "Kafka cluster \(id) has deletion protection enabled; set spec.deletion_protection to false first.",
                pointer: "/spec/deletion_protection")
        }
        remove(id, from: \.kafkaClusterSecrets)
        remove(id, from: \.kafkaClusters)
    }

    /// Removes the Kafka clusters of an environment that is being deleted.
    mutating func removeKafkaClusters(environmentID: String) {
        for cluster in kafkaClusters.values where cluster.environmentIDValue == environmentID {
            remove(cluster.id, from: \.kafkaClusterSecrets)
            remove(cluster.id, from: \.kafkaClusters)
        }
    }

    /// Records what a probe of connection `revision` found. Returns `false` (and changes nothing) when the cluster is
    /// gone or its connection changed since the probe started: that probe's outcome no longer says anything.
    @discardableResult
    public mutating func recordKafkaClusterProbe(
        id: String, revision: Int64, outcome: KafkaClusterProbeOutcome, now: Date
    ) -> Bool {
        guard var cluster = kafkaClusters[id], cluster.connectionRevision == revision else { return false }
        switch outcome {
        case .reachable(let kafkaClusterID, let brokerCount):
            cluster.phase = .provisioned
            cluster.statusDetail = nil
            cluster.kafkaClusterID = kafkaClusterID
            cluster.brokerCount = brokerCount
        case .unreachable(let reason):
            cluster.phase = .failed
            cluster.statusDetail = reason
            cluster.kafkaClusterID = nil
            cluster.brokerCount = nil
        }
        cluster.updatedAt = now
        put(cluster, in: \.kafkaClusters)
        return true
    }

    /// How Floe reaches a cluster: its bootstrap servers and TLS setting with its stored credentials. Nil when the
    /// cluster does not exist or has no bootstrap servers.
    public func kafkaConnection(clusterID: String) -> KafkaConnection? {
        guard let cluster = kafkaClusters[clusterID], !cluster.bootstrapServers.isEmpty else { return nil }
        let secret = kafkaClusterSecrets[clusterID]
        return KafkaConnection(
            bootstrapServers: cluster.bootstrapServers, sasl: secret?.sasl, useTLS: cluster.useTLS, tlsCAPEM: secret?.tlsCAPEM)
    }
}
