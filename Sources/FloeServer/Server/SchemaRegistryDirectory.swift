// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeBackends
import FloeClient
import FloeCore
public import FloeSchemas
public import FloeStore

/// The Schema Registry of each environment, for the parts of Floe that use one (the SQL engine's Kafka formats and
/// DDL): the external registry the environment names, reached over HTTP, or else Floe's own, in process.
///
/// Resolved at each call from the committed control plane, so a changed setting applies to the next lookup.
public struct SchemaRegistryDirectory: Sendable {
    let store: SQLiteControlPlaneStore

    public init(store: SQLiteControlPlaneStore) {
        self.store = store
    }

    /// The registry of `environmentID`; `nil` for an unknown environment.
    public func registry(environmentID: String) -> (any SchemaRegistry)? {
        engineRegistry(environmentID: environmentID)?.registry
    }

    /// The registry of `environmentID` with the addresses that name it in a table's `avro-confluent.url`: an
    /// external registry's URL, or Floe's own registry's path (`/schema-registry/lsrc-…`, on whatever host).
    public func engineRegistry(environmentID: String) -> EnvironmentSchemaRegistry? {
        guard let environment = store.snapshot().environments[environmentID] else { return nil }
        if let external = environment.externalSchemaRegistry {
            let credentials = external.apiKey.map { APICredentials(key: $0, secret: external.apiSecret ?? "") }
            var url = external.url
            while url.hasSuffix("/") { url.removeLast() }
            var flink = ["url": url]
            if let credentials {
                flink["basic-auth.credentials-source"] = "USER_INFO"
                flink["basic-auth.user-info"] = "\(credentials.key):\(credentials.secret)"
            }
            return EnvironmentSchemaRegistry(
                registry: RemoteSchemaRegistry(url: external.url, credentials: credentials), addresses: [url], flinkFormatOptions: flink)
        }
        guard let registry = store.schemaRegistry(environmentID: environmentID) else { return nil }
        return EnvironmentSchemaRegistry(
            registry: registry, addresses: environment.schemaRegistryID.map { ["/schema-registry/\($0)"] } ?? [])
    }
}
