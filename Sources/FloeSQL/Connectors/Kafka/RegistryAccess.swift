// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Dispatch
import FloeCore
import FloeSchemas
import Synchronization

/// A Schema Registry as the engine's threads use it: the registry's async calls, waited for in place, their failures
/// as `SQLError`s that say which registry and subject.
///
/// The engine prepares and runs statements on its own threads (``EngineThreads``), where blocking is allowed; the
/// registry's work runs on Swift's global executor (or NIO's threads for a remote registry), never on the engine's
/// threads, so a wait cannot hold up the work it waits for, however many statements wait at once.
struct RegistryAccess: Sendable {
    let registry: any SchemaRegistry
    /// How long one registry call may take.
    static let timeout: Duration = .seconds(30)

    /// Runs `body` and waits for it.
    private func wait<T: Sendable>(_ what: String, _ body: @escaping @Sendable (any SchemaRegistry) async throws -> T) throws(SQLError) -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let registry = registry
        // On the global executor, never on the engine's: the calling thread is one of the engine's and blocks below,
        // and a task that inherited the engine's executor preference could wait for that very thread.
        let task = Task(executorPreference: globalConcurrentExecutor) {
            let result: Result<T, any Error>
            do { result = .success(try await body(registry)) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + .nanoseconds(Int(Self.timeout.nanoseconds))) == .success else {
            task.cancel()
            throw SQLError.runtime("The Schema Registry did not answer within \(Self.timeout) (\(what)).")
        }
        switch outcome.withLock({ $0 })! {
        case .success(let value): return value
        case .failure(let error as SchemaRegistryError):
            throw SQLError.runtime("Schema Registry (\(what)): \(error.message) (error code \(error.errorCode))")
        case .failure(let error): throw SQLError.runtime("Schema Registry (\(what)): \(error)")
        }
    }

    /// The latest version of `subject`, or nil when it has none.
    func latest(_ subject: String) throws(SQLError) -> RegisteredSchema? {
        try wait("subject '\(subject)'") { try await $0.latestVersion(subject: subject) }
    }

    /// The schema with `id` (a record's writer schema).
    func schema(id: Int) throws(SQLError) -> RegisteredSchema {
        guard let schema = try wait("schema id \(id)", { try await $0.schema(id: id) }) else {
            throw SQLError.runtime("Schema Registry: no schema has id \(id).")
        }
        return schema
    }

    func register(_ subject: String, _ definition: SchemaDefinition) throws(SQLError) -> SchemaRegistration {
        try wait("registering under '\(subject)'") { try await $0.register(subject: subject, schema: definition, normalize: false) }
    }

    func deleteSubject(_ subject: String) throws(SQLError) {
        _ = try wait("deleting subject '\(subject)'") { try await $0.deleteSubject(subject, permanent: false) }
    }

    func compatibility(_ subject: String) throws(SQLError) -> CompatibilityLevel? {
        try wait("compatibility of '\(subject)'") { try await $0.compatibility(subject: subject) }
    }

    func setCompatibility(_ level: CompatibilityLevel, _ subject: String) throws(SQLError) {
        try wait("setting the compatibility of '\(subject)'") { try await $0.setCompatibility(level, subject: subject) }
    }
}
