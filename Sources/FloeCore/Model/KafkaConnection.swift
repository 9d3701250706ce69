// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// How Floe reaches a Kafka cluster it does not run: the bootstrap servers and the security to use.
///
/// One value travels from the control plane (an attached `cmk/v2` cluster, whose credentials are stored apart from
/// the resource and never returned) to the Kafka client (`FloeKafka`), which turns it into librdkafka settings. It
/// holds secrets, so its `description` leaves them out: logging a connection can never leak a password or key.
public struct KafkaConnection: Codable, Sendable, Hashable, CustomStringConvertible {
    /// `host:port[,host:port…]`, as Kafka clients' `bootstrap.servers`.
    public var bootstrapServers: String
    /// SASL credentials, or nil for none.
    public var sasl: SASL?
    /// Whether to speak TLS to the brokers.
    public var useTLS: Bool
    /// PEM-encoded certificates to trust for TLS instead of the system's (a private CA); nil for the system's.
    public var tlsCAPEM: String?

    /// A SASL mechanism with its credentials.
    public struct SASL: Codable, Sendable, Hashable {
        /// The mechanisms Floe speaks (librdkafka's `sasl.mechanisms` spellings as raw values).
        public enum Mechanism: String, Codable, Sendable, Hashable, CaseIterable {
            case plain = "PLAIN"
            case scramSHA256 = "SCRAM-SHA-256"
            case scramSHA512 = "SCRAM-SHA-512"
        }

        public var mechanism: Mechanism
        public var username: String
        public var password: String

        public init(mechanism: Mechanism, username: String, password: String) {
            self.mechanism = mechanism
            self.username = username
            self.password = password
        }
    }

    public init(bootstrapServers: String, sasl: SASL? = nil, useTLS: Bool = false, tlsCAPEM: String? = nil) {
        self.bootstrapServers = bootstrapServers
        self.sasl = sasl
        self.useTLS = useTLS
        self.tlsCAPEM = tlsCAPEM
    }

    /// Kafka's `security.protocol` for these settings.
    public var securityProtocol: String {
        switch (sasl != nil, useTLS) {
        case (false, false): "PLAINTEXT"
        case (false, true): "SSL"
        case (true, false): "SASL_PLAINTEXT"
        case (true, true): "SASL_SSL"
        }
    }

    /// The connection as Java Kafka clients are configured for it (Apache Flink's Kafka connectors take these as
    /// `properties.*`): the security protocol, the SASL login and the certificates to trust. Holds the password.
    public var javaClientProperties: [String: String] {
        var properties = ["security.protocol": securityProtocol]
        if let sasl {
            let module =
                sasl.mechanism == .plain
                ? "org.apache.kafka.common.security.plain.PlainLoginModule" : "org.apache.kafka.common.security.scram.ScramLoginModule"
            func quoted(_ text: String) -> String {
                "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            }
            properties["sasl.mechanism"] = sasl.mechanism.rawValue
            properties["sasl.jaas.config"] = "\(module) required username=\(quoted(sasl.username)) password=\(quoted(sasl.password));"
        }
        if useTLS, let ca = tlsCAPEM {
            properties["ssl.truststore.type"] = "PEM"
            properties["ssl.truststore.certificates"] = ca
        }
        return properties
    }

    /// `text` with this connection's password and CA replaced by `****`: a client's error message is shown to users and
    /// logged, and must not carry a secret even if a client put one there.
    public func redacting(_ text: String) -> String {
        var result = text
        for secret in [sasl?.password, tlsCAPEM] {
            if let secret, !secret.isEmpty { result = result.replacingOccurrences(of: secret, with: "****") }
        }
        return result
    }

    /// The bootstrap servers and security protocol, with no credential.
    public var description: String {
        "\(bootstrapServers) (\(securityProtocol)\(sasl.map { " \($0.mechanism.rawValue) as \($0.username)" } ?? ""))"
    }
}
