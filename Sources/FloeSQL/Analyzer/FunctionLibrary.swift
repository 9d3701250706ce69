// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The built-in functions as a statement's analysis sees them: the ``FunctionRegistry`` and the session's casts and
/// time zone, which bindings capture (a TIMESTAMP_LTZ is rendered, and NOW's date taken, in the session's zone).
struct FunctionLibrary: Sendable {
    var caster: Caster
    var registry = FunctionRegistry.builtIn
    var zone: TimeZone { caster.renderer.zone }

    init(caster: Caster) { self.caster = caster }

    // MARK: Resolution

    /// Binds a call of the scalar function `name` (upper case) written with `raw` arguments over `scope`.
    /// - Parameter bindArgument: binds an argument expression (over the same scope and aggregation as the call).
    func call(
        _ name: String, _ raw: [Expression], scope: Scope,
        bindArgument: (Expression) throws(SQLError) -> BoundExpression
    ) throws(SQLError) -> BoundExpression {
        func noMatch() throws(SQLError) -> SQLError {
            var bound: [BoundExpression] = []
            for argument in raw { bound.append(try bindArgument(argument)) }
            return Self.noMatch(name, bound)
        }
        guard let definition = registry[name] else { throw try noMatch() }
        switch definition.binding {
        case .scalar: break
        case .aggregate: throw SQLError("Aggregate function \(name) is not allowed here")
        case .rowNumber: throw SQLError("OVER clause is necessary for window functions")
        case .windowTable: throw SQLError("\(name) is a table function; call it in FROM as TABLE(\(name)(…)).")
        // Only its own grammar calls it (`CAST(x AS type)`).
        case .syntax: throw try noMatch()
        }
        var arguments: [BoundExpression] = []
        var fields: [PlanField?] = []
        var unit: String?
        for (position, argument) in raw.enumerated() {
            if position == definition.unitArgument, let written = Self.unit(argument) {
                unit = written
                continue
            }
            arguments.append(try bindArgument(argument))
            // The column itself, resolved as written (under an aggregation a bound column indexes the grouped row).
            if case .column(let column) = argument, let index = try? scope.resolve(column) {
                fields.append(scope.fields[index])
            } else {
                fields.append(nil)
            }
        }
        return try apply(definition, name: name, arguments, raw: raw, unit: unit, fields: fields)
    }

    /// Binds a call of a function with a grammar of its own (`EXTRACT(unit FROM x)`) on bound arguments.
    func call(_ name: String, _ arguments: [BoundExpression], unit: String?) throws(SQLError) -> BoundExpression {
        guard let definition = registry[name] else { throw Self.noMatch(name, arguments) }
        return try apply(definition, name: name, arguments, unit: unit)
    }

    /// Binds the scalar function `definition` called as `name` on bound arguments.
    func apply(
        _ definition: FunctionDefinition, name: String, _ arguments: [BoundExpression], raw: [Expression] = [], unit: String? = nil,
        fields: [PlanField?]? = nil
    ) throws(SQLError) -> BoundExpression {
        guard case .scalar(let bind) = definition.binding else { throw Self.noMatch(name, arguments) }
        return try bind(
            ScalarCall(
                name: name, arguments: arguments, raw: raw, unit: unit,
                argumentFields: fields ?? Array(repeating: nil, count: arguments.count),
                signature: definition.signature, library: self))
    }

    /// Whether `name` may be written without parentheses and, so written, calls that function.
    func isNiladic(_ name: String) -> Bool { registry[name]?.isNiladic ?? false }

    // MARK: Helpers for definitions

    /// Calcite's message for a function it does not know: the name with its arguments' type families.
    static func noMatch(_ name: String, _ arguments: [BoundExpression]) -> SQLError {
        SQLError("No match found for function signature \(name)(\(arguments.map { "<\($0.type.familyName)>" }.joined(separator: ", ")))")
    }

    static func mismatch(_ name: String, _ arguments: [BoundExpression], expected: String) -> SQLError {
        let given = arguments.map { "<\($0.type.errorSpelling)>" }.joined(separator: ", ")
        return SQLError("Cannot apply '\(name)' to arguments of type '\(name)(\(given))'. Supported form(s): '\(name)(\(expected))'")
    }

    /// A call evaluated a row at a time by `body`; when `strict`, NULL when an argument is (and nullable if one may be).
    static func function(
        _ name: String, _ arguments: [BoundExpression], _ type: SQLType, strict: Bool = true,
        _ body: @escaping RowFunction
    ) -> BoundExpression {
        let nullable = strict ? arguments.contains { $0.type.nullable } || type.nullable : type.nullable
        return BoundExpression(.function(name: name, arguments: arguments, strict: strict, implementation: .row(body)), type.withNullable(nullable))
    }

    /// A unit written as a bare word argument (`TIMESTAMPADD(HOUR, …)`, `FLOOR(ts TO DAY)`).
    static func unit(_ expression: Expression) -> String? {
        guard case .column(let name) = expression, name.parts.count == 1, Parser.intervalUnits.contains(name.name.uppercased()) else { return nil }
        return Parser.singularUnit(name.name)
    }
}

extension SQLType {
    /// The spelling Calcite uses in error messages (`INTEGER NOT NULL`, `CHAR(3) NOT NULL`, `VARCHAR(2147483647)`).
    var errorSpelling: String {
        let base: String =
            switch kind {
            case .integer: "INTEGER"
            case .varchar(let n): "VARCHAR(\(n))"
            case .varbinary(let n): "VARBINARY(\(n))"
            default: kindSQL
            }
        return base + (nullable || kind == .null ? "" : " NOT NULL")
    }
}

extension SQLType {
    /// The type family Calcite names in "No match found for function signature" messages (`<NUMERIC>`, `<CHARACTER>`).
    var familyName: String {
        switch kind {
        case .null: "NULL"
        case .boolean: "BOOLEAN"
        case .tinyint, .smallint, .integer, .bigint, .decimal, .float, .double: "NUMERIC"
        case .char, .varchar: "CHARACTER"
        case .binary, .varbinary: "BINARY"
        case .date: "DATE"
        case .time: "TIME"
        case .timestamp, .timestampLTZ: "TIMESTAMP"
        case .intervalDayTime: "INTERVAL_DAY_TIME"
        case .intervalYearMonth: "INTERVAL_YEAR_MONTH"
        case .array: "ARRAY"
        case .multiset: "MULTISET"
        case .map: "MAP"
        case .row: "ANY"
        }
    }
}
