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

extension RowSink {
    /// Appends inserts.
    func append(_ rows: [Row], writer: String) throws(SQLError) { try append(rows, kinds: nil, writer: writer) }
}
