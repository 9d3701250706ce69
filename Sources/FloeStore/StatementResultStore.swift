// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import Foundation

/// One stored result change: its position in the statement's result log, `op` and the row as serialized JSON.
public struct StoredResultChange: Sendable, Equatable {
    public var position: Int64
    public var op: Int
    /// The row, a serialized JSON array.
    public var row: Data

    public init(position: Int64, op: Int, row: Data) {
        self.position = position
        self.op = op
        self.row = row
    }
}

/// The durable result logs of statements, keyed by statement uid. Results survive restarts; a statement's log is
/// deleted with the statement. A log keeps its newest changes, up to a size per statement: the oldest are dropped
/// (their positions are not reused), so a statement that runs for ever does not fill the disk.
public protocol StatementResultStore: Sendable {
    /// Appends `changes` (whose positions continue the log) of the statement incarnation `statementUID`, stored under
    /// `statementID`. Re-appending a stored position is a no-op, so a batch may be delivered again after a crash
    /// without duplicating anything; changes of a statement that no longer exists are discarded in the same
    /// transaction, so a run that is still delivering when its statement is deleted leaves nothing behind.
    func appendResults(statementID: String, statementUID: String, _ changes: [StoredResultChange]) async throws

    /// Up to `limit` changes from `position` on, in order. When changes from `position` on were dropped to keep the
    /// log within its size, the first change returned has a later position.
    func results(statementUID: String, from position: Int64, limit: Int) async throws -> [StoredResultChange]

    /// How many changes the log holds.
    func resultCount(statementUID: String) async throws -> Int64

    /// Deletes the log.
    func deleteResults(statementUID: String) async throws

    /// The uids of every stored log (to find the logs of statements deleted with their pool or environment).
    func resultLogUIDs() async throws -> Set<String>
}
