// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The user's home directory: `$HOME` when set (as shells and the `confluent` CLI use it), else the password database's.
/// `floe serve` and `floe login` agree on it, so `~/.floe` is the same directory for both.
func userHomeDirectory() -> String {
    if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty { return home }
    return FileManager.default.homeDirectoryForCurrentUser.path
}

/// An API key and secret saved in the CLI configuration.
struct StoredAPIKey: Codable, Equatable, Sendable {
    var key: String
    var secret: String
    /// `cloud`, or the Flink region id (`aws.us-east-1`) the key is scoped to.
    var resource: String?
    /// The environment of a Flink key.
    var environment: String?
}

/// One server plus the defaults chosen for it, like a `confluent` CLI context.
struct CLIContext: Codable, Equatable, Sendable {
    var name: String
    var url: String
    var organizationID: String?
    /// The Cloud API key used for the control plane (and for statements when no Flink key is in use).
    var credentials: StoredAPIKey
    /// The principal that owns `credentials` (`u-…` or `sa-…`).
    var principal: String?
    var environmentID: String?
    var cloud: String?
    var region: String?
    var computePoolID: String?
    /// The key (one of `storedKeys`) used for `sql/v1` calls, set by `floe api-key use`.
    var flinkAPIKey: String?
    /// Keys saved by `floe api-key store` or `floe api-key create --use`.
    var storedKeys: [StoredAPIKey] = []
    /// The Kafka cluster chosen with `floe kafka cluster use`, per environment id (as the `confluent` CLI keeps one
    /// active cluster per environment).
    var kafkaClusters: [String: String]?
    /// A PEM file of CA certificates to trust besides the system's (`floe login --ca-cert`), for a server whose
    /// certificate a private CA signed.
    var caCertificate: String?

    enum CodingKeys: String, CodingKey {
        case name, url, credentials, principal, cloud, region
        case caCertificate = "ca_cert"
        case organizationID = "organization_id"
        case environmentID = "environment_id"
        case computePoolID = "compute_pool_id"
        case flinkAPIKey = "flink_api_key"
        case storedKeys = "stored_api_keys"
        case kafkaClusters = "kafka_clusters"
    }

    /// The Kafka cluster in use in `environment`.
    func kafkaClusterID(environment: String) -> String? { kafkaClusters?[environment] }

    /// Chooses (or, with nil, forgets) the Kafka cluster of `environment`.
    mutating func setKafkaClusterID(_ id: String?, environment: String) {
        var clusters = kafkaClusters ?? [:]
        clusters[environment] = id
        kafkaClusters = clusters.isEmpty ? nil : clusters
    }

    /// The credentials for statement calls: the Flink key in use, else the login key.
    var statementCredentials: StoredAPIKey {
        if let flinkAPIKey, let stored = storedKeys.first(where: { $0.key == flinkAPIKey }) { return stored }
        return credentials
    }
}

/// The CLI's saved state: `~/.floe/config.json` (or `$FLOE_CONFIG`), written with mode 0600 because it holds secrets.
struct CLIConfiguration: Codable, Equatable, Sendable {
    var currentContext: String?
    var contexts: [CLIContext] = []

    enum CodingKeys: String, CodingKey {
        case currentContext = "current_context"
        case contexts
    }

    /// Where the configuration lives.
    static var fileURL: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["FLOE_CONFIG"], !path.isEmpty { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: userHomeDirectory()).appendingPathComponent(".floe/config.json")
    }

    /// Reads the configuration; a missing file is an empty configuration.
    static func load() throws -> CLIConfiguration {
        let url = fileURL
        guard FileManager.default.fileExists(atPath: url.path) else { return CLIConfiguration() }
        do {
            return try JSONDecoder().decode(CLIConfiguration.self, from: Data(contentsOf: url))
        } catch {
            throw CLIError.usage("The configuration file \(url.path) is not valid: \(error). Fix or delete it, then run `floe login` again.")
        }
    }

    /// Writes the configuration atomically with mode 0600.
    func save() throws {
        let url = Self.fileURL
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        let temporary = directory.appendingPathComponent(".config.json.\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CLIError.usage("Cannot write \(temporary.path).")
        }
        guard rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw CLIError.usage("Cannot write \(url.path): \(String(cString: strerror(errno))).")
        }
    }

    /// The context named `name`, or the current one.
    func context(named name: String?) -> CLIContext? {
        guard let wanted = name ?? currentContext else { return nil }
        return contexts.first { $0.name == wanted }
    }

    /// Replaces (or adds) a context with the same name.
    mutating func upsert(_ context: CLIContext) {
        if let index = contexts.firstIndex(where: { $0.name == context.name }) {
            contexts[index] = context
        } else {
            contexts.append(context)
        }
    }
}
