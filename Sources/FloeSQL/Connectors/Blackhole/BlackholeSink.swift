// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A `blackhole` table: what is written to it is dropped (Flink's sink for benchmarks). It keeps no output, so its
/// `SinkCommitter.Target` holds none either.
struct BlackholeSink: RowSink {
    func rowsWritten(by key: String) -> Int64 { 0 }
    func append(_ rows: [Row], kinds: [RowKind]?, writer: String) throws(SQLError) {}
}
