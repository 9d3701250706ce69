// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A Confluent Resource Name, such as
/// `crn://confluent.cloud/organization=<org>/environment=env-x/flink-region=aws.us-east-1/compute-pool=lfcp-1`.
///
/// A CRN is an authority followed by a path of `type=value` elements, from the widest scope to the narrowest.
/// Role bindings name the scope they grant with a CRN pattern (see ``CRNPattern``).
public struct CRN: Hashable, Sendable, CustomStringConvertible {
    /// One `type=value` step of a CRN path.
    public struct Element: Hashable, Sendable {
        /// The kind of scope, e.g. `organization`, `environment`, `compute-pool`.
        public var type: String
        /// The id within that scope.
        public var value: String

        /// Creates an element.
        public init(_ type: String, _ value: String) {
            self.type = type
            self.value = value
        }
    }

    /// `confluent.cloud` for most resources; `api.confluent.cloud` for Flink regions as API-key resources.
    public var authority: String
    /// The path, widest scope first.
    public var elements: [Element]

    /// Creates a CRN from its parts.
    public init(authority: String = "confluent.cloud", elements: [Element]) {
        self.authority = authority
        self.elements = elements
    }

    /// Parses `crn://authority/type=value/...`; returns `nil` for anything else.
    public init?(parsing text: String) {
        guard text.hasPrefix("crn://") else { return nil }
        let parts = text.dropFirst("crn://".count).split(separator: "/", omittingEmptySubsequences: false)
        guard let authority = parts.first, !authority.isEmpty else { return nil }
        var elements: [Element] = []
        for part in parts.dropFirst() {
            guard let equals = part.firstIndex(of: "=") else { return nil }
            let type = part[..<equals]
            let value = part[part.index(after: equals)...]
            guard !type.isEmpty, !value.isEmpty else { return nil }
            elements.append(Element(String(type), String(value)))
        }
        self.init(authority: String(authority), elements: elements)
    }

    /// The value of the first element of the given type, if any.
    public func value(of type: String) -> String? {
        elements.first { $0.type == type }?.value
    }

    /// The text form.
    public var description: String {
        "crn://\(authority)" + elements.map { "/\($0.type)=\($0.value)" }.joined()
    }

    /// A CRN one step narrower.
    public func appending(_ type: String, _ value: String) -> CRN {
        CRN(authority: authority, elements: elements + [Element(type, value)])
    }

    /// The organization scope.
    public static func organization(_ organizationID: String) -> CRN {
        CRN(elements: [Element("organization", organizationID)])
    }

    /// An environment.
    public static func environment(_ organizationID: String, _ environmentID: String) -> CRN {
        organization(organizationID).appending("environment", environmentID)
    }

    /// A Flink region inside an environment (the scope of Flink API keys and of FlinkDeveloper bindings).
    public static func flinkRegion(_ organizationID: String, _ environmentID: String, _ regionID: String) -> CRN {
        environment(organizationID, environmentID).appending("flink-region", regionID)
    }

    /// A compute pool.
    public static func computePool(_ organizationID: String, _ environmentID: String, _ regionID: String, _ poolID: String) -> CRN {
        flinkRegion(organizationID, environmentID, regionID).appending("compute-pool", poolID)
    }

    /// A statement (its scope for authorization).
    public static func statement(_ organizationID: String, _ environmentID: String, _ regionID: String, _ name: String) -> CRN {
        flinkRegion(organizationID, environmentID, regionID).appending("statement", name)
    }

    /// A Kafka cluster of an environment (`cmk/v2`).
    public static func kafkaCluster(_ organizationID: String, _ environmentID: String, _ clusterID: String) -> CRN {
        environment(organizationID, environmentID).appending("cloud-cluster", clusterID)
    }

    /// A service account, as a resource of the organization (the scope of Assigner bindings).
    public static func serviceAccount(_ organizationID: String, _ serviceAccountID: String) -> CRN {
        organization(organizationID).appending("service-account", serviceAccountID)
    }

    /// A user, as a resource of the organization.
    public static func user(_ organizationID: String, _ userID: String) -> CRN {
        organization(organizationID).appending("user", userID)
    }
}

/// A CRN pattern as role bindings use it: a CRN whose scope covers itself and everything narrower.
///
/// A value of `*` matches any id, and a value ending in `*` matches ids with that prefix
/// (`compute-pool=*`, `topic=orders-*`). The authority is not compared: `api.confluent.cloud` and
/// `confluent.cloud` name the same resources.
public struct CRNPattern: Hashable, Sendable, CustomStringConvertible {
    /// The parsed pattern.
    public let crn: CRN

    /// Parses a pattern; returns `nil` unless it is a well-formed `crn://…` text.
    public init?(_ text: String) {
        guard let crn = CRN(parsing: text) else { return nil }
        self.crn = crn
    }

    /// Wraps a CRN as the pattern of its own scope.
    public init(_ crn: CRN) { self.crn = crn }

    /// Whether `resource` is this scope or lies inside it.
    public func covers(_ resource: CRN) -> Bool {
        guard crn.elements.count <= resource.elements.count else { return false }
        for (pattern, element) in zip(crn.elements, resource.elements) {
            guard pattern.type == element.type, Self.matches(pattern.value, element.value) else { return false }
        }
        return true
    }

    /// The text form.
    public var description: String { crn.description }

    static func matches(_ pattern: String, _ value: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix("*") { return value.hasPrefix(pattern.dropLast()) }
        return pattern == value
    }
}
