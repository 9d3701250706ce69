// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Table-valued functions, called in FROM as `TABLE(f(…))`: the window TVFs, which the analyzer binds into a window
/// node adding `window_start`, `window_end` and `window_time`. Their parameters may be given by position or by name
/// (`SIZE => INTERVAL '1' MINUTE`); the last, OFFSET, is optional.
enum TableValuedFunctions {
    /// One row at 00:00:10 (a bounded input needs no watermark), for the examples.
    private static let sample = "WITH t AS (SELECT * FROM (VALUES (1, TIMESTAMP '2024-01-01 00:00:10')) AS v(id, ts))"

    static let definitions: [FunctionDefinition] = [
        FunctionDefinition(
            name: "TUMBLE", signature: "TABLE <TABLE>, DESCRIPTOR(<COLUMN>), <INTERVAL>[, <INTERVAL>]",
            binding: .windowTable(parameters: ["DATA", "TIMECOL", "SIZE", "OFFSET"]),
            examples: [
                .init(
                    query: "\(sample) SELECT id, window_start, window_end FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
                    "1, 2024-01-01 00:00:00.000, 2024-01-01 00:01:00.000")
            ]),
        FunctionDefinition(
            name: "HOP", signature: "TABLE <TABLE>, DESCRIPTOR(<COLUMN>), <INTERVAL>, <INTERVAL>[, <INTERVAL>]",
            binding: .windowTable(parameters: ["DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"]),
            examples: [
                .init(
                    query: "\(sample) SELECT window_start FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '1' MINUTE))",
                    "2023-12-31 23:59:30.000; 2024-01-01 00:00:00.000")
            ]),
        FunctionDefinition(
            name: "CUMULATE", signature: "TABLE <TABLE>, DESCRIPTOR(<COLUMN>), <INTERVAL>, <INTERVAL>[, <INTERVAL>]",
            binding: .windowTable(parameters: ["DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"]),
            examples: [
                .init(
                    query: "\(sample) SELECT window_end FROM TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '1' MINUTE))",
                    "2024-01-01 00:00:30.000; 2024-01-01 00:01:00.000")
            ]),
    ]
}
