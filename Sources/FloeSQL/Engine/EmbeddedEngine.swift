// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Floe's own streaming SQL engine. (Placeholder: parses, but analysis and execution are being built.)
public final class EmbeddedEngine: SQLEngine {
    /// Opens (or creates) the engine's catalog and table logs under `directory`.
    public init(directory: URL) throws {}

    public func prepare(_ sql: String, in context: SessionContext) throws -> any PreparedStatement {
        _ = try Parser.parseStatement(sql)
        throw SQLError("The embedded engine cannot run this statement yet.")
    }

    public func dropCatalog(id: String) async throws {}
}
