// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Aggregate functions. The analyzer binds a call into an ``AggregateCall`` (its argument a column of the aggregate's
/// input, its result type from the argument's); the aggregate stages keep its state (``AggregateCallState``,
/// ``Accumulator``). The same calls run over GROUP BY groups, window aggregations and OVER windows.
enum AggregateFunctions {
    /// Four rows, one of them NULL, for the examples.
    private static let sample = "FROM (VALUES (2), (2), (CAST(NULL AS INT)), (5)) AS t(x)"

    static let definitions: [FunctionDefinition] = [
        FunctionDefinition(
            name: "COUNT", signature: "[DISTINCT] <ANY>, ... | *", binding: .aggregate(.count),
            examples: [
                .init(query: "SELECT COUNT(*), COUNT(x), COUNT(DISTINCT x) \(sample)", "4, 3, 2")
            ]),
        FunctionDefinition(
            name: "SUM", signature: "<NUMERIC>", binding: .aggregate(.sum),
            examples: [
                .init(query: "SELECT SUM(x), SUM(DISTINCT x) \(sample)", "9, 7"),
                .init(query: "SELECT SUM(x) FROM (VALUES (CAST(NULL AS INT))) AS t(x)", "NULL"),
            ]),
        // SUM0: a sum that is 0, not NULL, over no values.
        FunctionDefinition(
            name: "SUM0", signature: "<NUMERIC>", binding: .aggregate(.sum0),
            examples: [
                .init(query: "SELECT SUM0(x) \(sample)", "9"),
                .init(query: "SELECT SUM0(x) FROM (VALUES (CAST(NULL AS INT))) AS t(x)", "0"),
            ]),
        FunctionDefinition(
            name: "AVG", signature: "<NUMERIC>", binding: .aggregate(.avg),
            examples: [
                .init(query: "SELECT AVG(x), AVG(CAST(x AS DOUBLE)) \(sample)", "3, 3.0")
            ]),
        FunctionDefinition(
            name: "MIN", signature: "<COMPARABLE_TYPE>", binding: .aggregate(.min),
            examples: [
                .init(query: "SELECT MIN(x), MIN(CAST(x AS STRING)) \(sample)", "2, 2")
            ]),
        FunctionDefinition(
            name: "MAX", signature: "<COMPARABLE_TYPE>", binding: .aggregate(.max),
            examples: [
                .init(query: "SELECT MAX(x) \(sample)", "5")
            ]),
    ]
}
