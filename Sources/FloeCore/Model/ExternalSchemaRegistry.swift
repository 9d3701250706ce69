// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A Schema Registry an environment uses instead of its own: its URL and HTTP Basic credentials.
///
/// Set through `PATCH /org/v2/environments/{id}` (`schema_registry_config`); the credentials are write-only: no
/// response carries them, and ``description`` leaves the secret out so that logging the value cannot leak it.
/// `srcm/v3` then shows the external URL as the environment's registry endpoint, and Floe is that registry's client.
public struct ExternalSchemaRegistry: Codable, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The registry's base URL (`http://host:port[/path]`).
    public var url: String
    /// The API key (Basic user name), if the registry wants credentials.
    public var apiKey: String?
    /// The API secret (Basic password).
    public var apiSecret: String?

    public init(url: String, apiKey: String? = nil, apiSecret: String? = nil) {
        self.url = url
        self.apiKey = apiKey
        self.apiSecret = apiSecret
    }

    /// The URL and key, never the secret.
    public var description: String { url + (apiKey.map { " as \($0)" } ?? "") }

    /// As ``description``: `String(reflecting:)` (and so a dump of an environment) must not print the secret either.
    public var debugDescription: String { "ExternalSchemaRegistry(\(description))" }

    /// Checks what Floe can use: an `http://` URL with a host (Floe's HTTP client speaks no TLS yet), and a key and
    /// secret given together.
    /// - Throws: ``APIError`` 400 naming the field of `schema_registry_config`.
    public func validate() throws(APIError) {
        let pointer = "/schema_registry_config"
        let lower = url.lowercased()
        if lower.hasPrefix("https://") {
            throw .badRequest(
                "schema_registry_config.url: https registries are not supported yet (Floe's HTTP client speaks no TLS); use http:// or a local TLS tunnel.",
                pointer: pointer + "/url")
        }
        guard lower.hasPrefix("http://"), url.count > "http://".count, url.count <= 2048,
            !url.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " })
        else {
            throw .badRequest("schema_registry_config.url must be an http:// URL.", pointer: pointer + "/url")
        }
        guard (apiKey == nil) == (apiSecret == nil) else {
            throw .badRequest("schema_registry_config.api_key and api_secret go together.", pointer: pointer)
        }
        if let apiKey, apiKey.isEmpty || apiKey.contains(":") || apiKey.count > 256 {
            throw .badRequest("schema_registry_config.api_key must be non-empty, without ':'.", pointer: pointer + "/api_key")
        }
        if let apiSecret, apiSecret.isEmpty || apiSecret.count > 1024 {
            throw .badRequest("schema_registry_config.api_secret must be non-empty.", pointer: pointer + "/api_secret")
        }
    }
}
