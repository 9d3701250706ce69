// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore

/// Durable storage of the control plane with an in-memory read path.
///
/// Readers get the last committed ``ControlPlaneState`` without I/O. Writers run an operation on a copy; the store
/// writes the operation's recorded changes in one transaction and publishes the copy only after the commit, so an
/// operation that throws, or a transaction that fails, leaves both the database and what readers see unchanged.
/// Writes are serialized: each operation sees every earlier committed write.
public protocol ControlPlaneStore: Sendable {
    /// The committed state.
    func snapshot() -> ControlPlaneState

    /// Applies `operation` to a copy of the committed state, persists its changes atomically and publishes the copy.
    /// - Returns: what `operation` returned.
    /// - Throws: what `operation` threw (typically ``APIError``), or a database error; in both cases nothing changed.
    func mutate<Result: Sendable>(_ operation: @Sendable (inout ControlPlaneState) throws -> Result) async throws -> Result
}
