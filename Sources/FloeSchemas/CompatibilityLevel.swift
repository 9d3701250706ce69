// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The compatibility levels of the Schema Registry (`/config` `compatibilityLevel`): which earlier versions a new
/// schema is checked against, and in which direction.
public enum CompatibilityLevel: String, Sendable, Hashable, CaseIterable {
    /// No check.
    case none = "NONE"
    /// The new schema reads data written with the latest version: consumers can upgrade first.
    case backward = "BACKWARD"
    /// As ``backward``, against every earlier version.
    case backwardTransitive = "BACKWARD_TRANSITIVE"
    /// The latest version reads data written with the new schema: producers can upgrade first.
    case forward = "FORWARD"
    case forwardTransitive = "FORWARD_TRANSITIVE"
    /// Both directions, against the latest version.
    case full = "FULL"
    case fullTransitive = "FULL_TRANSITIVE"

    /// Reads a level as clients send it; case is not significant.
    public init?(registryName: String) { self.init(rawValue: registryName.uppercased()) }

    /// Whether the new schema must read the old ones.
    public var checksBackward: Bool { [.backward, .backwardTransitive, .full, .fullTransitive].contains(self) }
    /// Whether the old schemas must read the new one.
    public var checksForward: Bool { [.forward, .forwardTransitive, .full, .fullTransitive].contains(self) }
    /// Whether every earlier version counts, not only the latest.
    public var isTransitive: Bool { [.backwardTransitive, .forwardTransitive, .fullTransitive].contains(self) }
}
