// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

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
        guard let environment = store.snapshot().environments[environmentID] else { return nil }
        if let external = environment.externalSchemaRegistry {
            let credentials = external.apiKey.map { APICredentials(key: $0, secret: external.apiSecret ?? "") }
            return RemoteSchemaRegistry(url: external.url, credentials: credentials)
        }
        return store.schemaRegistry(environmentID: environmentID)
    }
}
