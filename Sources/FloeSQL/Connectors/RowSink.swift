// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Where an INSERT INTO (or CREATE TABLE AS) appends its rows, idempotently per writer.
///
/// This is what a connector implements to be written. `SinkCommitter` (`Checkpoints/`) holds a checkpointed
/// statement's output until its checkpoint is saved and only then appends it; after a restart it asks the sink how
/// many rows the writer already has (``rowsWritten(by:)``) and appends the rest, so every row lands exactly once.
/// Implementations: `TableLog/TableLogSink.swift`, `Filesystem/FileSink.swift`, `Blackhole/BlackholeSink.swift`.
protocol RowSink: Sendable {
    /// How many rows the writer `key` appended so far (a re-run after a restart skips that many).
    func rowsWritten(by key: String) -> Int64
    /// Appends `rows` durably before returning; `kinds` (nil for inserts only) marks the updates and deletes of an
    /// upsert sink's changelog.
    func append(_ rows: [Row], kinds: [RowKind]?, writer: String) throws(SQLError)
}

/// A sink that can take a checkpoint's output while it is produced, invisible until the checkpoint is saved: a Kafka
/// table, whose transaction stays open across the checkpoint interval, so records travel to the brokers while the
/// statement computes instead of all at once when it checkpoints.
///
/// Staging changes nothing about what is committed: ``SinkCommitter`` still saves the output in the checkpoint first,
/// and appends it in full whenever the staged rows cannot be committed (a failed transaction, a restart).
protocol StagingRowSink: RowSink {
    /// Adds rows to the writer's pending output (not visible to readers, dropped if never committed).
    func stage(_ rows: ArraySlice<Row>, kinds: ArraySlice<RowKind>?, writer: String) throws(SQLError)
    /// Makes the rows staged since the last commit visible with the writer's new row count `total`, when they are
    /// exactly `count` rows; otherwise (or when that fails) discards them and returns false.
    func commitStaged(count: Int, total: Int64, writer: String) -> Bool
}

extension RowSink {
    /// Appends inserts.
    func append(_ rows: [Row], writer: String) throws(SQLError) { try append(rows, kinds: nil, writer: writer) }
}
