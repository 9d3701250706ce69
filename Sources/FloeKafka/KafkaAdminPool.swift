// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
public import Logging
import Synchronization

/// One ``KafkaAdmin`` per attached cluster connection, shared by the control plane (probes, topic listings) and the
/// engine (table lookups, DDL), created on first use and dropped after it has been idle for a while.
///
/// An admin holds a broker connection and a few librdkafka threads; keeping one per cluster spares every probe,
/// listing and statement preparation its connection setup, and dropping idle ones keeps a server that stopped using a
/// cluster from paying for it. Nothing is created until a caller asks, so a server with no cluster attached never
/// loads librdkafka.
public final class KafkaAdminPool: Sendable {
    private struct Entry {
        var admin: KafkaAdmin
        var lastUse: ContinuousClock.Instant
    }

    private let entries = Mutex<[KafkaConnection: Entry]>([:])
    private let idleTime: Duration
    private let logger: Logger

    /// A pool whose admins are dropped once unused for `idleTime`.
    public init(idleTime: Duration = .seconds(60), logger: Logger) {
        self.idleTime = idleTime
        self.logger = logger
    }

    /// The admin of `connection`, created when there is none. Connections that differ in anything (a new password)
    /// get their own admin; the old one is dropped when idle.
    public func admin(for connection: KafkaConnection) throws(KafkaError) -> KafkaAdmin {
        let now = ContinuousClock.now
        let (existing, expired) = entries.withLock { entries in
            let expired = entries.filter { now - $0.value.lastUse > idleTime }.map(\.value.admin)
            entries = entries.filter { now - $0.value.lastUse <= idleTime }
            entries[connection]?.lastUse = now
            return (entries[connection]?.admin, expired)
        }
        // Expired admins are released here, outside the lock: destroying one waits for its threads.
        _ = expired
        if let existing { return existing }
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(connection: connection, clientID: "floe-admin"), logger: logger)
        return entries.withLock { entries in
            if let raced = entries[connection] { return raced.admin }
            entries[connection] = Entry(admin: admin, lastUse: now)
            return admin
        }
    }

    /// Drops every admin (the server is stopping).
    public func removeAll() {
        let all = entries.withLock { entries in
            defer { entries = [:] }
            return Array(entries.values)
        }
        _ = all
    }
}
