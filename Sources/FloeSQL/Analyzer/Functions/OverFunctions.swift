// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Window functions, called with OVER: ROW_NUMBER for Top-N and deduplication (the analyzer binds it into a rank
/// node). Aggregates with OVER are the aggregate functions.
enum OverFunctions {
    static let definitions: [FunctionDefinition] = [
        FunctionDefinition(
            name: "ROW_NUMBER", signature: "", binding: .rowNumber,
            examples: [
                .init(
                    query: "SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) FROM (VALUES ('a', 1), ('a', 3), ('b', 2)) AS t(k, v)",
                    "a, 3, 1; a, 1, 2; b, 2, 1")
            ])
    ]
}
