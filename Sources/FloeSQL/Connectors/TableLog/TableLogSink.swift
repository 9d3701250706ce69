// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A table's log is the sink of INSERTs into the table: each append is one fsynced record that carries its writer's
/// key and cumulative row count (`Storage/TableLog.swift`), which is how ``RowSink/rowsWritten(by:)`` answers after a
/// restart. Readers see the rows when the record is written (``LogSource``).
extension TableLog: RowSink {}
