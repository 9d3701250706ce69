// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

extension ControlPlaneState {
    /// What a client asks for when it creates a statement (already read from the request body).
    public struct StatementRequest: Sendable {
        public var name: String
        public var sql: String
        public var properties: [String: String]
        public var labels: [String: String]
        public var computePoolID: String
        public var principal: String
        /// Which endpoint the statement was created through (`status.network_kind`).
        public var networkKind: NetworkKind

        public init(
            name: String, sql: String, properties: [String: String], labels: [String: String], computePoolID: String, principal: String,
            networkKind: NetworkKind = .public
        ) {
            self.networkKind = networkKind
            self.name = name
            self.sql = sql
            self.properties = properties
            self.labels = labels
            self.computePoolID = computePoolID
            self.principal = principal
        }
    }

    /// Longest statement name.
    public static let maxStatementNameLength = 100
    /// Longest SQL text, in characters.
    public static let maxStatementLength = 131_072
    /// Most properties on one statement.
    public static let maxStatementProperties = 8_192
    /// The properties' keys and values together, at most (bytes): a statement is listed a hundred to a page.
    public static let maxStatementPropertyBytes = 256 << 10
    /// Most labels on one statement, and their keys and values together (bytes).
    public static let maxStatementLabels = 256
    public static let maxStatementLabelBytes = 64 << 10

    /// Statement names are DNS-like: lower-case letters, digits, `-` and `.`, starting and ending with a letter or
    /// digit, at most 100 characters (no `_`).
    public static func validateStatementName(_ name: String) throws(APIError) {
        func isAlphanumeric(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        let bytes = Array(name.utf8)
        let valid =
            !bytes.isEmpty && bytes.count <= maxStatementNameLength && isAlphanumeric(bytes.first!) && isAlphanumeric(bytes.last!)
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2D || $0 == 0x2E }
        guard valid else {
            throw .badRequest(
                "Invalid statement name '\(name)': it must be at most \(maxStatementNameLength) characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.",
                pointer: "/name")
        }
    }

    /// Validates a statement's SQL and properties (the limits Confluent Cloud enforces).
    public static func validateStatementSpec(sql: String, properties: [String: String]) throws(APIError) {
        if sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw .badRequest("The statement must not be empty.", pointer: "/spec/statement")
        }
        if sql.count > maxStatementLength {
            throw .badRequest("The statement is longer than \(maxStatementLength) characters.", pointer: "/spec/statement")
        }
        if properties.count > maxStatementProperties {
            throw .badRequest("A statement may have at most \(maxStatementProperties) properties.", pointer: "/spec/properties")
        }
        if properties.reduce(0, { $0 + $1.key.utf8.count + $1.value.utf8.count }) > maxStatementPropertyBytes {
            throw .badRequest("A statement's properties may take at most \(maxStatementPropertyBytes >> 10) KiB.", pointer: "/spec/properties")
        }
    }

    /// Validates a statement's labels: at most ``maxStatementLabels``, of ``maxStatementLabelBytes`` in all.
    public static func validateStatementLabels(_ labels: [String: String]) throws(APIError) {
        guard labels.count <= maxStatementLabels, labels.reduce(0, { $0 + $1.key.utf8.count + $1.value.utf8.count }) <= maxStatementLabelBytes else {
            throw .badRequest(
                "A statement may have at most \(maxStatementLabels) labels, of \(maxStatementLabelBytes >> 10) KiB in all.",
                pointer: "/metadata/labels")
        }
    }

    /// The statements of an environment, in creation order.
    public func statements(inEnvironment environmentID: String) -> [Statement] {
        sorted(\.statements) { $0.environmentIDValue == environmentID }
    }

    /// The statement `name` of `environmentID`.
    public func statement(named name: String, environmentID: String) -> Statement? {
        statements[Statement.id(environmentID: environmentID, name: name)]
    }

    /// The compute pool a new statement without `compute_pool_id` goes to: the environment's default pool in
    /// `regionID` (or in any region when the caller is not bound to one). When there is none and the
    /// organization's compute-pool config enables default pools, one is created (in the first of `regions` when no
    /// region is implied).
    public mutating func defaultPool(
        organizationID: String, environmentID: String, regionID: String?, regions: [FlinkRegion], now: Date
    ) throws(APIError) -> ComputePool {
        let pools = sorted(\.computePools) { $0.environmentIDValue == environmentID && (regionID == nil || $0.regionID == regionID) }
        if let pool = pools.first(where: \.defaultPool) ?? (pools.count == 1 ? pools.first : nil) { return pool }
        let config = computePoolConfig(organizationID: organizationID)
        guard config.defaultPoolEnabled, pools.isEmpty else {
            throw .badRequest(
                pools.isEmpty
                    ? "There is no compute pool in environment \(environmentID)\(regionID.map { " and region \($0)" } ?? ""); create one or give spec.compute_pool_id."
                    : "Environment \(environmentID) has several compute pools and none is the default; give spec.compute_pool_id.",
                pointer: "/spec/compute_pool_id")
        }
        let target: (cloud: String, region: String)
        if let regionID, let dot = regionID.firstIndex(of: ".") {
            target = (String(regionID[..<dot]), String(regionID[regionID.index(after: dot)...]))
        } else if let fallbackRegion = regions.first {
            target = (fallbackRegion.cloud.rawValue, fallbackRegion.regionName)
        } else {
            throw .badRequest("No region is configured for a default compute pool.", pointer: "/spec/compute_pool_id")
        }
        var name = "default"
        var suffix = 1
        while computePools.values.contains(where: { $0.environmentIDValue == environmentID && $0.displayName == name }) {
            suffix += 1
            name = "default-\(suffix)"
        }
        let request = ComputePoolRequest(
            displayName: name, cloud: target.cloud, region: target.region, maxCFU: config.defaultPoolMaxCFU,
            environmentID: environmentID, enableAI: false, defaultPool: true)
        var pool = try createComputePool(organizationID: organizationID, request: request, regions: regions, now: now)
        pool.phase = .provisioned
        put(pool, in: \.computePools)
        return pool
    }

    /// Creates a statement in PENDING (or, when `failure` is given, directly in FAILED: its SQL did not analyze).
    public mutating func createStatement(
        organizationID: String, environmentID: String, request: StatementRequest, pool: ComputePool, creatorID: String,
        credentialReach: CredentialReach, uid: String, now: Date
    ) throws(APIError) -> Statement {
        try Self.validateStatementName(request.name)
        try Self.validateStatementSpec(sql: request.sql, properties: request.properties)
        try Self.validateStatementLabels(request.labels)
        guard environments[environmentID] != nil else { throw .notFound("Environment \(environmentID) was not found.") }
        if statement(named: request.name, environmentID: environmentID) != nil {
            throw .conflict("The Flink statement name already exists, please try with another statement name", code: "conflict")
        }
        var statement = Statement(
            name: request.name, organizationID: organizationID, environmentID: environmentID, uid: uid, sequence: nextSequence(),
            createdAt: now, labels: request.labels, sql: request.sql, properties: request.properties, computePoolID: pool.id,
            regionID: pool.regionID, principal: request.principal, creatorID: creatorID)
        statement.credentialReach = credentialReach
        statement.networkKind = request.networkKind
        put(statement, in: \.statements)
        return statement
    }

    /// The catalogs `statement` may use in its SQL, with what it may do in each: the environments of its organization
    /// where its principal's roles allow it (``AccessPolicy/catalogAccess(environmentID:)``), as far as the API key
    /// that submitted it reaches (``CredentialReach``). Computed from the current role bindings each time the
    /// statement is prepared, so a revoked role stops the next run.
    public func catalogGrants(for statement: Statement) -> [(environment: Environment, access: CatalogAccess)] {
        let policy = AccessPolicy(principalID: statement.principal, organizationID: statement.organizationID, state: self)
        let reach = statement.credentialReach ?? .environment(statement.environmentIDValue)
        return sorted(\.environments) { $0.organizationID == statement.organizationID && reach.includes($0.id) }.compactMap { environment in
            let access = policy.catalogAccess(environmentID: environment.id)
            return access.isEmpty ? nil : (environment, access)
        }
    }

    /// Records a client's update of a statement (PUT or PATCH), checking optimistic concurrency: `expectedVersion`
    /// must be the stored `resource_version` (409 otherwise).
    ///
    /// A client update only records the desired spec (`stopped`, compute pool, principal, labels); the scheduler then
    /// moves the phase, and each of its transitions bumps the version. As on Confluent Cloud, where an update is
    /// accepted asynchronously, the update itself leaves the version as it was: cc-clients' update loop requires the
    /// PUT response to carry the version it sent.
    public mutating func updateStatement(
        id: String, expectedVersion: Int64, now: Date, _ change: (inout Statement) throws(APIError) -> Void
    ) throws(APIError) -> Statement {
        guard var statement = statements[id] else {
            throw .notFound("Statement resource=\(id.split(separator: "/").last.map(String.init) ?? id) does not exist")
        }
        if expectedVersion != statement.resourceVersion {
            throw .conflict(
                "The statement \(statement.name) has been modified since it was read (resource_version \(expectedVersion), now \(statement.resourceVersion)); GET it, re-apply the change and retry.",
                code: "conflict")
        }
        let before = statement
        try change(&statement)
        guard statement != before else { return statement }
        statement.updatedAt = now
        put(statement, in: \.statements)
        return statement
    }

    /// Applies a scheduler transition to the statement incarnation `uid`, if it still exists. Returns the new value.
    @discardableResult
    public mutating func transitionStatement(id: String, uid: String, now: Date, _ change: (inout Statement) -> Void) -> Statement? {
        guard var statement = statements[id], statement.uid == uid else { return nil }
        let before = statement
        change(&statement)
        guard statement != before else { return statement }
        statement.resourceVersion += 1
        statement.updatedAt = now
        put(statement, in: \.statements)
        refreshPoolUsage(now: now)
        return statement
    }

    /// Sets each compute pool's `current_cfu` to what its statements hold: one CFU per RUNNING or STOPPING statement.
    public mutating func refreshPoolUsage(now: Date) {
        var held: [String: Int] = [:]
        for statement in statements.values where statement.phase == .running || statement.phase == .stopping {
            held[statement.computePoolID, default: 0] += 1
        }
        for var pool in computePools.values where pool.currentCFU != held[pool.id, default: 0] {
            pool.currentCFU = held[pool.id, default: 0]
            pool.updatedAt = now
            put(pool, in: \.computePools)
        }
    }

    /// The CFUs a pool's statements hold now.
    public func cfuInUse(poolID: String) -> Int {
        statements.values.reduce(0) { $0 + ($1.computePoolID == poolID && ($1.phase == .running || $1.phase == .stopping) ? 1 : 0) }
    }

    /// Deletes a statement.
    public mutating func deleteStatement(id: String, now: Date) throws(APIError) -> Statement {
        guard let statement = statements[id] else { throw .notFound("Statement resource=\(statement(nameOf: id)) does not exist") }
        remove(id, from: \.statements)
        refreshPoolUsage(now: now)
        return statement
    }

    func statement(nameOf id: String) -> String { id.split(separator: "/", maxSplits: 1).last.map(String.init) ?? id }

    /// Removes the statements matching `isIncluded` (their pool or environment is being deleted).
    mutating func removeStatements(where isIncluded: (Statement) -> Bool) {
        for statement in statements.values where isIncluded(statement) { remove(statement.id, from: \.statements) }
    }
}
