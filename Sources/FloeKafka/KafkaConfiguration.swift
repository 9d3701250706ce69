// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import CRdKafka
public import FloeCore

/// librdkafka settings for one client: the connection's (bootstrap servers, security, credentials) plus the
/// role's (producer, consumer, admin) and any the caller adds (a table's `properties.*`).
///
/// It holds credentials, so `description` prints every setting but masks the sensitive ones: a configuration can
/// be logged or put into an error message without leaking a password or a key.
public struct KafkaConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The settings by librdkafka property name.
    public private(set) var properties: [String: String]

    /// The settings that reach the cluster `connection` describes: `bootstrap.servers`, `security.protocol`,
    /// `sasl.mechanisms`/`sasl.username`/`sasl.password` and `ssl.ca.pem`, and a `client.id` naming Floe.
    public init(connection: KafkaConnection, clientID: String = "floe") {
        properties = [
            "bootstrap.servers": connection.bootstrapServers,
            "security.protocol": connection.securityProtocol.lowercased(),
            "client.id": clientID,
        ]
        if let sasl = connection.sasl {
            properties["sasl.mechanisms"] = sasl.mechanism.rawValue
            properties["sasl.username"] = sasl.username
            properties["sasl.password"] = sasl.password
        }
        if let pem = connection.tlsCAPEM {
            properties["ssl.ca.pem"] = pem
        }
    }

    /// Sets (or, with nil, removes) one librdkafka property.
    public subscript(property: String) -> String? {
        get { properties[property] }
        set { properties[property] = newValue }
    }

    /// A copy with `overrides` applied on top (later settings win).
    public func merging(_ overrides: [String: String]) -> KafkaConfiguration {
        var copy = self
        copy.properties.merge(overrides) { _, new in new }
        return copy
    }

    /// Whether a property's value must never be shown: passwords, secrets, private keys, and JAAS/OAuth
    /// configuration strings (which embed credentials). Decided by name so new librdkafka properties of those
    /// kinds are masked too.
    public static func isSensitive(_ property: String) -> Bool {
        let name = property.lowercased()
        return name.contains("password") || name.contains("secret") || name.hasSuffix(".key.pem") || name.hasSuffix("key.location")
            || name.contains("jaas") || name.contains("oauthbearer.config") || name == "ssl.key.pem" || name.hasSuffix("credentials")
    }

    /// Every setting as `name=value`, sorted, sensitive values shown as `[redacted]`, PEM blocks abbreviated.
    public var description: String {
        properties.keys.sorted().map { key in
            let value = properties[key]!
            if Self.isSensitive(key) { return "\(key)=[redacted]" }
            if value.contains("-----BEGIN") { return "\(key)=[PEM, \(value.utf8.count) bytes]" }
            return "\(key)=\(value)"
        }.joined(separator: " ")
    }

    /// A new `rd_kafka_conf_t` holding these settings (the caller owns it). An unknown property or an invalid
    /// value fails with librdkafka's reason, which names the property but never echoes a sensitive value.
    func makeConf() throws(KafkaError) -> OpaquePointer {
        try KafkaLibrary.load()
        let conf = floe_rd_kafka_conf_new()!
        for key in properties.keys.sorted() {
            let value = properties[key]!
            let (result, reason) = withErrorBuffer { floe_rd_kafka_conf_set(conf, key, value, $0, $1) }
            if result != RD_KAFKA_CONF_OK {
                floe_rd_kafka_conf_destroy(conf)
                throw KafkaError(code: .invalidArgument, message: "Kafka client setting \(key): \(reason)")
            }
        }
        return conf
    }
}
