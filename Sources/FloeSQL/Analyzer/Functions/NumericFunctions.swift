// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Synchronization

/// Numeric functions: signs, rounding, powers, logarithms, trigonometry, random numbers.
enum NumericFunctions {
    static let definitions: [FunctionDefinition] = [
        FunctionDefinition(
            name: "ABS", signature: "<NUMERIC>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...1)
                try call.requireNumeric(0)
                return call.function(call.arguments[0].type) { v throws(SQLError) in
                    switch v[0] {
                    case .int(let x): return .int(x == .min ? x : abs(x))
                    case .double(let x): return .double(abs(x))
                    case .decimal(let x): return .decimal(x < 0 ? -x : x)
                    default: return v[0]
                    }
                }
            }, isSpelledWhole: true, examples: [.init("ABS(-2)", "2"), .init("ABS(CAST(-1.5 AS DOUBLE))", "1.5"), .init("ABS(-1.25)", "1.25")]),
        // MOD compiles to the `%` column loop.
        FunctionDefinition(
            name: "MOD", signature: "<EXACT_NUMERIC>, <EXACT_NUMERIC>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(2...2)
                let args = call.arguments
                guard let type = SQLType.arithmetic("%", args[0].type, args[1].type) else { throw call.mismatch() }
                return BoundExpression(
                    .arithmetic(
                        .modulo, args[0].casted(to: operandType(args[0].type, type)),
                        args[1].casted(to: operandType(args[1].type, type))), type)
            }, isSpelledWhole: true, examples: [.init("MOD(7, 3)", "1"), .init("MOD(-7, 3)", "-1")]),
        FunctionDefinition(
            name: "SIGN", signature: "<NUMERIC>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...1)
                try call.requireNumeric(0)
                let scale = call.arguments[0].type.decimalShape?.scale ?? 0
                return call.function(call.arguments[0].type) { v throws(SQLError) in
                    switch v[0] {
                    case .int(let x): return .int(x.signum())
                    case .double(let x): return .double(x > 0 ? 1 : (x < 0 ? -1 : 0))
                    case .decimal(let x): return .decimal(Int128(x.signum()) * Caster.pow10(scale))
                    default: return v[0]
                    }
                }
            }, examples: [.init("SIGN(-5), SIGN(0), SIGN(2.50)", "-1, 0, 1.00")]),
        FunctionDefinition(
            name: "ROUND", signature: "<NUMERIC>[, <INTEGER>]",
            binding: .scalar { call throws(SQLError) in
                try round(call, .toNearestOrAwayFromZero)
            }, examples: [.init("ROUND(CAST(2.5 AS DOUBLE)), ROUND(1.25, 1), ROUND(15, -1)", "3.0, 1.3, 20")]),
        FunctionDefinition(
            name: "TRUNCATE", signature: "<NUMERIC>[, <INTEGER>]",
            binding: .scalar { call throws(SQLError) in
                try round(call, .towardZero)
            }, examples: [.init("TRUNCATE(CAST(2.7 AS DOUBLE)), TRUNCATE(1.29, 1), TRUNCATE(-19, -1)", "2.0, 1.2, -10")]),
        // FLOOR(x) and CEIL(x) on numbers; FLOOR(t TO unit) and CEIL(t TO unit) on dates and times.
        FunctionDefinition(
            name: "FLOOR", signature: "<NUMERIC>",
            binding: .scalar { call throws(SQLError) in
                try floorOrCeil(call, isFloor: true)
            }, unitArgument: 1,
            examples: [
                .init("FLOOR(CAST(-1.5 AS DOUBLE)), FLOOR(2.7)", "-2.0, 2"),
                .init("FLOOR(TIMESTAMP '2024-03-05 14:07:09' TO HOUR)", "2024-03-05 14:00:00"),
            ]),
        FunctionDefinition(
            name: "CEIL", aliases: ["CEILING"], signature: "<NUMERIC>",
            binding: .scalar { call throws(SQLError) in
                try floorOrCeil(call, isFloor: false)
            }, unitArgument: 1,
            examples: [
                .init("CEIL(CAST(-1.5 AS DOUBLE)), CEILING(2.1)", "-1.0, 3"),
                .init("CEIL(DATE '2024-03-05' TO MONTH)", "2024-04-01"),
            ]),
        FunctionDefinition(
            name: "POWER", aliases: ["POW"], signature: "<NUMERIC>",
            binding: .scalar { call throws(SQLError) in
                try doubleFunction(call, arity: 2...2) { x, y in Foundation.pow(x, y ?? 0) }
            }, examples: [.init("POWER(2, 10), POW(4, 0.5)", "1024.0, 2.0")]),
        unaryDouble("SQRT", "SQRT(16)", "4.0") { x in x.squareRoot() },
        unaryDouble("EXP", "EXP(0)", "1.0") { x in Foundation.exp(x) },
        unaryDouble("LN", "LN(1)", "0.0") { x in Foundation.log(x) },
        unaryDouble("LOG10", "LOG10(1000)", "3.0") { x in Foundation.log10(x) },
        unaryDouble("LOG2", "LOG2(8)", "3.0") { x in Foundation.log2(x) },
        // LOG(x) is the natural logarithm; LOG(base, x) the logarithm to a base.
        FunctionDefinition(
            name: "LOG", signature: "<NUMERIC>",
            binding: .scalar { call throws(SQLError) in
                try doubleFunction(call, arity: 1...2) { x, y in y.map { Foundation.log($0) / Foundation.log(x) } ?? Foundation.log(x) }
            }, examples: [.init("LOG(2, 8), LOG(1)", "3.0, 0.0")]),
        unaryDouble("SIN", "SIN(0)", "0.0") { x in Foundation.sin(x) },
        unaryDouble("COS", "COS(0)", "1.0") { x in Foundation.cos(x) },
        unaryDouble("TAN", "TAN(0)", "0.0") { x in Foundation.tan(x) },
        unaryDouble("ASIN", "ASIN(0)", "0.0") { x in Foundation.asin(x) },
        unaryDouble("ACOS", "ACOS(1)", "0.0") { x in Foundation.acos(x) },
        unaryDouble("ATAN", "ATAN(0)", "0.0") { x in Foundation.atan(x) },
        unaryDouble("DEGREES", "DEGREES(0)", "0.0") { x in x * 180 / .pi },
        unaryDouble("RADIANS", "RADIANS(180) = PI()", "TRUE") { x in x * .pi / 180 },
        FunctionDefinition(
            name: "PI", signature: "",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(0...0)
                return .literal(.double(.pi), SQLType(.double, nullable: false))
            }, examples: [.init("PI()", "3.141592653589793")]),
        // RAND([seed]): with a seed, as in Flink, a call returns the same sequence on every run (and two calls with the
        // same seed the same sequence); the seed must be a constant integer.
        FunctionDefinition(
            name: "RAND", signature: "[<INTEGER>]",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(0...1)
                guard let seedArgument = call.arguments.first else {
                    return call.function(SQLType(.double, nullable: false), arguments: []) { _ throws(SQLError) in .double(Double.random(in: 0..<1)) }
                }
                try call.requireNumeric(0)
                guard seedArgument.type.isInteger, case .int(let seed)? = seedArgument.constant else {
                    throw SQLError("The seed of RAND must be a constant integer.")
                }
                let generator = Mutex(SplitMix64(seed: UInt64(bitPattern: seed)))
                return call.function(SQLType(.double, nullable: false), arguments: []) { _ throws(SQLError) in
                    .double(generator.withLock { $0.unit() })
                }
            }, isVolatile: true,
            examples: [.init("RAND() >= 0 AND RAND() < 1", "TRUE"), .init("RAND(7) = RAND(7), RAND(7) < 1", "TRUE, TRUE")]),
    ]

    /// The type an operand of `MOD` converts to for result type `result`.
    private static func operandType(_ operand: SQLType, _ result: SQLType) -> SQLType {
        if result.isDecimal, operand.isInteger {
            return SQLType(.decimal(precision: operand.decimalShape!.precision, scale: 0), nullable: operand.nullable)
        }
        if result.isDecimal { return operand }
        return result.withNullable(operand.nullable)
    }

    /// A function of one number computed in DOUBLE (`SIN(x)`, `LN(x)`, …), with its one example call and result.
    private static func unaryDouble(
        _ name: String, _ example: String, _ result: String, _ body: @escaping @Sendable (Double) -> Double
    ) -> FunctionDefinition {
        FunctionDefinition(
            name: name, signature: "<NUMERIC>",
            binding: .scalar { call throws(SQLError) in try doubleFunction(call) { x, _ in body(x) } },
            examples: [.init(example, result)])
    }

    /// A DOUBLE function of one or two numeric arguments (`body(x, y)`, y nil for one), which are converted to DOUBLE.
    private static func doubleFunction(
        _ call: ScalarCall, arity: ClosedRange<Int> = 1...1,
        _ body: @escaping @Sendable (Double, Double?) -> Double
    ) throws(SQLError) -> BoundExpression {
        try call.expectCount(arity)
        for i in call.arguments.indices { try call.requireNumeric(i) }
        let doubles = call.arguments.map { $0.casted(to: SQLType(.double, nullable: $0.type.nullable)) }
        return call.function(SQLType(.double, nullable: false), arguments: doubles) { v throws(SQLError) in
            .double(body(v[0].double ?? 0, v.count == 2 ? (v[1].double ?? 0) : nil))
        }
    }

    /// ROUND and TRUNCATE to an optional number of fraction digits (negative: to tens, hundreds, …).
    private static func round(_ call: ScalarCall, _ rounding: FloatingPointRoundingRule) throws(SQLError) -> BoundExpression {
        try call.expectCount(1...2)
        try call.requireNumeric(0)
        let args = call.arguments
        let digits = args.count == 2 ? Int(args[1].constant?.int ?? 0) : 0
        var resultType = args[0].type
        if case .decimal(let p, let s) = args[0].type.kind {
            // LogicalTypeMerging.findRoundDecimalType, for ROUND and TRUNCATE alike.
            if digits >= s {
                resultType = args[0].type
            } else if digits < 0 {
                resultType = SQLType(.decimal(precision: min(38, 1 + p - s), scale: 0), nullable: args[0].type.nullable)
            } else {
                resultType = SQLType(.decimal(precision: min(38, 1 + p - s + digits), scale: digits), nullable: args[0].type.nullable)
            }
        }
        let fromScale = args[0].type.decimalShape?.scale ?? 0
        let resultScale = resultType.decimalShape?.scale ?? 0
        let isRound = rounding == .toNearestOrAwayFromZero
        return call.function(resultType) { v throws(SQLError) in
            let n = v.count == 2 ? Int(v[1].int ?? 0) : digits
            switch v[0] {
            case .double(let x):
                let factor = pow(10.0, Double(n))
                return .double((x * factor).rounded(rounding) / factor)
            case .int(let x):
                guard n < 0 else { return .int(x) }
                let factor = Int64(pow(10.0, Double(-n)))
                let quotient = Double(x) / Double(factor)
                return .int(Int64(quotient.rounded(rounding)) * factor)
            case .decimal(let x):
                // Round at n fraction digits, then express at the result scale.
                let cut = fromScale - n
                guard cut > 0 else { return .decimal(Caster.rescale(x, from: fromScale, to: resultScale)) }
                let divisor = Caster.pow10(cut)
                var q = x / divisor
                let r = x % divisor
                if isRound, r.magnitude * 2 >= divisor.magnitude { q += x < 0 ? -1 : 1 }
                return .decimal(Caster.rescale(q, from: n, to: resultScale))
            default: return v[0]
            }
        }
    }

    /// FLOOR and CEIL of a number, or of a date or time to a unit.
    private static func floorOrCeil(_ call: ScalarCall, isFloor: Bool) throws(SQLError) -> BoundExpression {
        if let unit = call.unit, call.arguments.count == 1 {
            return try TemporalFunctions.floor(isFloor, call.arguments[0], unit: unit, name: call.name, zone: call.zone)
        }
        try call.expectCount(1...1)
        try call.requireNumeric(0)
        var resultType = call.arguments[0].type
        if case .decimal(let p, _) = resultType.kind {
            // Calcite's DECIMAL_SCALE0: the precision stays, the scale becomes 0.
            resultType = SQLType(.decimal(precision: p, scale: 0), nullable: resultType.nullable)
        }
        let scale = call.arguments[0].type.decimalShape?.scale ?? 0
        return call.function(resultType) { v throws(SQLError) in
            switch v[0] {
            case .double(let x): return .double(isFloor ? x.rounded(.down) : x.rounded(.up))
            case .decimal(let x):
                let divisor = Caster.pow10(scale)
                var q = x / divisor
                let r = x % divisor
                if isFloor, r < 0 { q -= 1 }
                if !isFloor, r > 0 { q += 1 }
                return .decimal(q)
            default: return v[0]
            }
        }
    }
}
