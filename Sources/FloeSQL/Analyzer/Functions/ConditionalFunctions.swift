// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Conditional functions: the first non-NULL value, IF, NULLIF, the greatest and least of values.
enum ConditionalFunctions {
    static let definitions: [FunctionDefinition] = [
        FunctionDefinition(
            name: "COALESCE", signature: "<ANY>, ...",
            binding: .scalar { call throws(SQLError) in
                try firstNonNull(call)
            }, examples: [.init("COALESCE(CAST(NULL AS INT), 2, 3)", "2"), .init("COALESCE(CAST(NULL AS INT))", "NULL")]),
        FunctionDefinition(
            name: "IFNULL", signature: "<ANY>, ...",
            binding: .scalar { call throws(SQLError) in
                try firstNonNull(call)
            }, examples: [.init("IFNULL(CAST(NULL AS STRING), 'x')", "x")]),
        // IF and NULLIF compile to CASE, which evaluates each branch only on the rows that take it.
        FunctionDefinition(
            name: "IF", signature: "<BOOLEAN>, <ANY>, <ANY>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(3...3)
                let args = call.arguments
                guard args[0].type.kind == .boolean || args[0].type.isNull, let common = SQLType.common(args[1].type, args[2].type) else {
                    throw call.mismatch()
                }
                return BoundExpression(.caseWhen([(args[0], args[1].casted(to: common))], otherwise: args[2].casted(to: common)), common)
            }, examples: [.init("IF(1 < 2, 'yes', 'no'), IF(CAST(NULL AS BOOLEAN), 1, 0)", "yes, 0")]),
        FunctionDefinition(
            name: "NULLIF", signature: "<ANY>, <ANY>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(2...2)
                let args = call.arguments
                guard let common = SQLType.common(args[0].type, args[1].type) else { throw call.mismatch() }
                let test = BoundExpression(.compare(.equal, args[0].casted(to: common), args[1].casted(to: common)), SQLType(.boolean))
                return BoundExpression(
                    .caseWhen([(test, .literal(.null, args[0].type.withNullable(true)))], otherwise: args[0]),
                    args[0].type.withNullable(true))
            }, examples: [.init("NULLIF(1, 1), NULLIF(1, 2)", "NULL, 1")]),
        FunctionDefinition(
            name: "GREATEST", signature: "<ANY>, ...",
            binding: .scalar { call throws(SQLError) in
                try extreme(call) { $0.last! }
            }, examples: [.init("GREATEST(1, 3, 2), GREATEST(1, CAST(NULL AS INT))", "3, NULL")]),
        FunctionDefinition(
            name: "LEAST", signature: "<ANY>, ...",
            binding: .scalar { call throws(SQLError) in
                try extreme(call) { $0.first! }
            }, examples: [.init("LEAST('b', 'a', 'c')", "a")]),
    ]

    /// The common type of the arguments, or the mismatch naming `<COMPARABLE_TYPE>`.
    private static func commonType(_ call: ScalarCall) throws(SQLError) -> SQLType {
        guard var common = call.arguments.first?.type else { throw call.mismatch() }
        for argument in call.arguments.dropFirst() {
            guard let next = SQLType.common(common, argument.type) else { throw call.mismatch("<COMPARABLE_TYPE>, ...") }
            common = next
        }
        return common
    }

    /// COALESCE and IFNULL: NULL only when every argument may be.
    private static func firstNonNull(_ call: ScalarCall) throws(SQLError) -> BoundExpression {
        let common = try commonType(call)
        let resultType = common.withNullable(call.arguments.allSatisfy(\.type.nullable))
        return call.function(resultType, arguments: call.arguments.map { $0.casted(to: common.withNullable($0.type.nullable)) }, strict: false) {
            v throws(SQLError) in
            v.first { !$0.isNull } ?? .null
        }
    }

    /// GREATEST and LEAST: `pick` of the sorted values; NULL when one is.
    private static func extreme(_ call: ScalarCall, _ pick: @escaping @Sendable ([Value]) -> Value) throws(SQLError) -> BoundExpression {
        let common = try commonType(call)
        return call.function(common, arguments: call.arguments.map { $0.casted(to: common) }) { v throws(SQLError) in
            pick(v.sorted { Value.compare($0, $1) < 0 })
        }
    }
}
