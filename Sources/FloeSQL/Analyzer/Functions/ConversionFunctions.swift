// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Conversions between types. `CAST(x AS type)` and `TRY_CAST(x AS type)` have a grammar of their own: the parser
/// gives a cast node, which the binder checks against ``SQLType/canCast(_:to:)`` and the compiler runs through the
/// ``Caster``. They are defined here so that they are listed and their examples run.
enum ConversionFunctions {
    static let definitions: [FunctionDefinition] = [
        FunctionDefinition(
            name: "CAST", signature: "<ANY> AS <TYPE>", binding: .syntax,
            examples: [
                .init("CAST('42' AS INT) + 1, CAST(1.5 AS INT)", "43, 1"),
                .init("CAST(DATE '2024-03-05' AS STRING)", "2024-03-05"),
            ]),
        FunctionDefinition(
            name: "TRY_CAST", signature: "<ANY> AS <TYPE>", binding: .syntax,
            examples: [
                .init("TRY_CAST('x' AS INT), TRY_CAST('7' AS INT)", "NULL, 7")
            ]),
    ]
}
