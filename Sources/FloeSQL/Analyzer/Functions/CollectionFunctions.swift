// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Functions of arrays, maps and multisets. (The constructors `ARRAY[…]`, `MAP[…]`, `ROW(…)` and element access
/// `a[i]` are grammar, bound by the binder.)
enum CollectionFunctions {
    static let definitions: [FunctionDefinition] = [
        FunctionDefinition(
            name: "CARDINALITY", signature: "<ARRAY>|<MAP>|<MULTISET>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...1)
                return call.function(SQLType(.integer, nullable: false)) { v throws(SQLError) in .int(Int64(v[0].list?.count ?? 0)) }
            }, examples: [.init("CARDINALITY(ARRAY[1, 2, 3]), CARDINALITY(MAP['a', 1])", "3, 1")])
    ]
}
