// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A change to persist: the new JSON body of a resource, or its removal.
public struct ResourceChange: Sendable, Equatable {
    public var kind: ResourceKind
    public var id: String
    public var organizationID: String
    public var environmentID: String?
    public var sequence: Int64
    /// The resource's stored JSON, or `nil` when it was deleted.
    public var body: Data?
}

/// The whole control plane (organizations, environments, identities, keys, bindings, pools) as one value.
///
/// The store keeps the committed state in memory, so every read is served without touching the database, and applies
/// mutations to a copy: the operations in `ControlPlaneState+Operations.swift` validate, change the copy and record a
/// ``ResourceChange`` for each resource touched; the store writes those changes in one transaction and only then
/// publishes the copy. A failed operation therefore leaves both the database and the published state untouched.
public struct ControlPlaneState: Sendable {
    public internal(set) var organizations: [String: Organization] = [:]
    public internal(set) var environments: [String: Environment] = [:]
    public internal(set) var users: [String: User] = [:]
    public internal(set) var serviceAccounts: [String: ServiceAccount] = [:]
    public internal(set) var apiKeys: [String: APIKey] = [:]
    public internal(set) var roleBindings: [String: RoleBinding] = [:]
    public internal(set) var computePools: [String: ComputePool] = [:]
    public internal(set) var computePoolConfigs: [String: ComputePoolConfig] = [:]
    /// Statements by ``Statement/id`` (`<environment>/<name>`).
    public internal(set) var statements: [String: Statement] = [:]
    public internal(set) var kafkaClusters: [String: KafkaCluster] = [:]
    /// Credentials of Kafka clusters by cluster id; never rendered (see ``KafkaClusterSecret``).
    public internal(set) var kafkaClusterSecrets: [String: KafkaClusterSecret] = [:]
    /// The last creation sequence handed out.
    public internal(set) var lastSequence: Int64 = 0
    /// Changes recorded since the store last drained them.
    public internal(set) var pendingChanges: [ResourceChange] = []

    public init() {}

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()

    /// Loads one stored resource (used when the store reads the database at start).
    /// - Throws: a `DecodingError` if the stored body does not match the kind.
    public mutating func load(kind: ResourceKind, body: Data) throws {
        switch kind {
        case .organization: try insertLoaded(Organization.self, body, \.organizations)
        case .environment: try insertLoaded(Environment.self, body, \.environments)
        case .user: try insertLoaded(User.self, body, \.users)
        case .serviceAccount: try insertLoaded(ServiceAccount.self, body, \.serviceAccounts)
        case .apiKey: try insertLoaded(APIKey.self, body, \.apiKeys)
        case .roleBinding: try insertLoaded(RoleBinding.self, body, \.roleBindings)
        case .computePool: try insertLoaded(ComputePool.self, body, \.computePools)
        case .computePoolConfig: try insertLoaded(ComputePoolConfig.self, body, \.computePoolConfigs)
        case .statement: try insertLoaded(Statement.self, body, \.statements)
        case .kafkaCluster: try insertLoaded(KafkaCluster.self, body, \.kafkaClusters)
        case .kafkaClusterSecret: try insertLoaded(KafkaClusterSecret.self, body, \.kafkaClusterSecrets)
        }
    }

    private mutating func insertLoaded<R: ControlPlaneResource>(
        _ type: R.Type, _ body: Data, _ collection: WritableKeyPath<ControlPlaneState, [String: R]>
    ) throws {
        let resource = try Self.decoder.decode(R.self, from: body)
        self[keyPath: collection][resource.id] = resource
        lastSequence = max(lastSequence, resource.sequence)
    }

    /// Raises the sequence counter to at least `value` (the store persists the counter, so numbers of deleted
    /// resources are never handed out again and page tokens stay valid across restarts).
    public mutating func load(lastSequence value: Int64) {
        lastSequence = max(lastSequence, value)
    }

    /// Takes the recorded changes, leaving none pending.
    public mutating func drainChanges() -> [ResourceChange] {
        defer { pendingChanges = [] }
        return pendingChanges
    }

    /// The next creation sequence number.
    mutating func nextSequence() -> Int64 {
        lastSequence += 1
        return lastSequence
    }

    /// Stores `resource` in `collection` and records the change.
    mutating func put<R: ControlPlaneResource>(_ resource: R, in collection: WritableKeyPath<ControlPlaneState, [String: R]>) {
        self[keyPath: collection][resource.id] = resource
        // Encoding our own model types cannot fail; a failure would be a programming error.
        let body = try! Self.encoder.encode(resource)
        pendingChanges.append(
            ResourceChange(
                kind: R.kind, id: resource.id, organizationID: resource.organizationID, environmentID: resource.environmentID,
                sequence: resource.sequence, body: body))
    }

    /// Removes the resource with `id` from `collection` and records the change.
    mutating func remove<R: ControlPlaneResource>(_ id: String, from collection: WritableKeyPath<ControlPlaneState, [String: R]>) {
        guard let resource = self[keyPath: collection].removeValue(forKey: id) else { return }
        pendingChanges.append(
            ResourceChange(
                kind: R.kind, id: id, organizationID: resource.organizationID, environmentID: resource.environmentID,
                sequence: resource.sequence, body: nil))
    }

    /// The role bindings of one principal (`u-…`/`sa-…`).
    public func bindings(ofPrincipal principalID: String) -> [RoleBinding] {
        roleBindings.values.filter { RoleBinding.principalID($0.principal) == principalID }
    }

    /// Whether a principal id names an existing user or service account of the organization.
    public func principalExists(_ principalID: String, organizationID: String) -> Bool {
        if let user = users[principalID] { return user.organizationID == organizationID }
        if let account = serviceAccounts[principalID] { return account.organizationID == organizationID }
        return false
    }

    /// The default environment of an organization: the one named `default`, else the oldest.
    public func defaultEnvironment(organizationID: String) -> Environment? {
        let candidates = environments.values.filter { $0.organizationID == organizationID }.sorted { $0.sequence < $1.sequence }
        return candidates.first { $0.displayName == "default" } ?? candidates.first
    }

    /// The items of `collection` that satisfy `isIncluded`, in creation order.
    public func sorted<R: ControlPlaneResource>(_ collection: KeyPath<ControlPlaneState, [String: R]>, where isIncluded: (R) -> Bool) -> [R] {
        self[keyPath: collection].values.filter(isIncluded).sorted { $0.sequence < $1.sequence }
    }
}
