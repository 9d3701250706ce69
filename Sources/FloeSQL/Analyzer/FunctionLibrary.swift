// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The built-in scalar functions: their type inference and their row-at-a-time implementations.
struct FunctionLibrary: Sendable {
    var caster: Caster
    var zone: TimeZone { caster.renderer.zone }

    /// Every scalar function name the library resolves (SHOW FUNCTIONS lists these plus the aggregates and operators).
    static let scalarNames: [String] = [
        "ABS", "ACOS", "ASCII", "ASIN", "ATAN", "CARDINALITY", "CEIL", "CEILING", "CHARACTER_LENGTH", "CHAR_LENGTH", "CHR", "COALESCE",
        "CONCAT", "CONCAT_WS", "COS", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "DATE_FORMAT", "DAYOFMONTH", "DAYOFWEEK",
        "DAYOFYEAR", "DEGREES", "EXP", "FLOOR", "FROM_UNIXTIME", "GREATEST", "HOUR", "IF", "IFNULL", "INITCAP", "INSTR", "IS_ALPHA",
        "IS_DECIMAL", "IS_DIGIT", "LEAST", "LEFT", "LN", "LOCALTIME", "LOCALTIMESTAMP", "LOCATE", "LOG", "LOG10", "LOG2", "LOWER", "LPAD",
        "LTRIM", "MINUTE", "MOD", "MONTH", "NOW", "NULLIF", "OVERLAY", "PI", "POSITION", "POWER", "QUARTER", "RADIANS", "RAND",
        "REGEXP", "REGEXP_EXTRACT", "REGEXP_REPLACE", "REPEAT", "REPLACE", "REVERSE", "RIGHT", "ROUND", "RPAD", "RTRIM", "SECOND",
        "SIGN", "SIN", "SPLIT_INDEX", "SQRT", "SUBSTR", "SUBSTRING", "TAN", "TIMESTAMPADD", "TIMESTAMPDIFF", "TO_DATE", "TO_TIMESTAMP",
        "TO_TIMESTAMP_LTZ", "TRIM", "TRUNCATE", "UNIX_TIMESTAMP", "UPPER", "UUID", "WEEK", "YEAR",
    ]

    /// SPLIT_INDEX: the `index`-th (from 0) of the pieces of `text` between occurrences of `separator`, empty pieces
    /// included; nil when there are not that many. Finds the piece in the UTF-8 bytes without splitting the rest.
    static func splitIndex(_ text: String, separator: String, _ index: Int) -> String? {
        guard index >= 0 else { return nil }
        guard !separator.isEmpty else { return index == 0 ? text : nil }
        var text = text
        var separator = separator
        return text.withUTF8 { bytes in
            separator.withUTF8 { sep -> String? in
                var piece = 0
                var start = 0
                var i = 0
                let last = bytes.count - sep.count
                while i <= last {
                    if bytes[i] == sep[0], memcmp(bytes.baseAddress! + i, sep.baseAddress!, sep.count) == 0 {
                        if piece == index { return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self) }
                        piece += 1
                        i += sep.count
                        start = i
                    } else {
                        i += 1
                    }
                }
                return piece == index ? String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self) : nil
            }
        }
    }

    static func mismatch(_ name: String, _ arguments: [BoundExpression], expected: String) -> SQLError {
        let given = arguments.map { "<\($0.type.errorSpelling)>" }.joined(separator: ", ")
        return SQLError("Cannot apply '\(name)' to arguments of type '\(name)(\(given))'. Supported form(s): '\(name)(\(expected))'")
    }

    static func function(_ name: String, _ arguments: [BoundExpression], _ type: SQLType, strict: Bool = true,
                         _ body: @escaping RowFunction) -> BoundExpression {
        let nullable = strict ? arguments.contains { $0.type.nullable } || type.nullable : type.nullable
        return BoundExpression(.function(name: name, arguments: arguments, strict: strict, implementation: body), type.withNullable(nullable))
    }

    /// A unit written as a bare word argument (`TIMESTAMPADD(HOUR, …)`, `FLOOR(ts TO DAY)`).
    static func unit(_ expression: Expression) -> String? {
        if case .column(let name) = expression, name.parts.count == 1 { return Parser.singularUnit(name.name) }
        return nil
    }

    // MARK: Resolution

    /// Resolves a call of a scalar function on bound arguments.
    /// - Parameter raw: the arguments as written, for unit keywords.
    func bind(_ name: String, _ arguments: [BoundExpression], raw: [Expression],
              bindArgument: (Expression) throws(SQLError) -> BoundExpression) throws(SQLError) -> BoundExpression {
        let args = arguments
        func expectCount(_ range: ClosedRange<Int>, _ form: String) throws(SQLError) {
            guard range.contains(args.count) else { throw Self.mismatch(name, args, expected: form) }
        }
        func requireString(_ index: Int, _ form: String) throws(SQLError) {
            guard args[index].type.isCharacter || args[index].type.isNull else { throw Self.mismatch(name, args, expected: form) }
        }
        func requireNumeric(_ index: Int, _ form: String) throws(SQLError) {
            guard args[index].type.isNumeric || args[index].type.isNull else { throw Self.mismatch(name, args, expected: form) }
        }
        let caster = self.caster
        let zone = self.zone
        let string = SQLType.string
        switch name {
        // MARK: Strings
        case "LTRIM" where args.count == 2, "RTRIM" where args.count == 2:
            for i in 0..<2 { try requireString(i, "<CHARACTER>[, <CHARACTER>]") }
            return Self.function(name, args, SQLType(.varchar(args[0].type.length ?? SQLType.maxLength), nullable: false)) { v throws(SQLError) in
                let s = v[0].string ?? ""
                let characters = Set(v[1].string ?? " ")
                return .string(name == "LTRIM" ? String(s.drop { characters.contains($0) })
                                               : String(s.reversed().drop { characters.contains($0) }.reversed()))
            }
        case "UPPER", "LOWER", "INITCAP", "REVERSE", "LTRIM", "RTRIM":
            try expectCount(1...1, "<CHARACTER>")
            try requireString(0, "<CHARACTER>")
            // Calcite/Flink: UPPER, LOWER, INITCAP return their argument's type; LTRIM and RTRIM its VARCHAR form;
            // REVERSE is VARCHAR(2147483647), always nullable.
            let resultType: SQLType
            if args[0].type.isNull || name == "REVERSE" {
                resultType = name == "REVERSE" ? SQLType.string : SQLType.string.notNull
            } else if name == "LTRIM" || name == "RTRIM" {
                resultType = SQLType(.varchar(args[0].type.length ?? SQLType.maxLength), nullable: false)
            } else {
                resultType = args[0].type.notNull
            }
            return Self.function(name, args, resultType) { v throws(SQLError) in
                let s = v[0].string ?? ""
                switch name {
                case "UPPER": return .string(s.uppercased())
                case "LOWER": return .string(s.lowercased())
                case "REVERSE": return .string(String(s.reversed()))
                case "LTRIM": return .string(String(s.drop { $0 == " " }))
                case "RTRIM": return .string(String(s.reversed().drop { $0 == " " }.reversed()))
                default: return .string(Self.initcap(s))
                }
            }
        case "TRIM":
            try expectCount(1...2, "<CHARACTER>")
            for i in args.indices { try requireString(i, "<CHARACTER>") }
            return Self.function(name, args, SQLType(.varchar(args.last!.type.length ?? SQLType.maxLength), nullable: false)) { v throws(SQLError) in
                let s = v.last!.string ?? ""
                let characters = Set(v.count == 2 ? (v[0].string ?? " ") : " ")
                let trimmed = s.drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed()
                return .string(String(trimmed))
            }
        case "CHAR_LENGTH", "CHARACTER_LENGTH":
            try expectCount(1...1, "<CHARACTER>")
            try requireString(0, "<CHARACTER>")
            return Self.function(name, args, SQLType(.integer, nullable: false)) { v throws(SQLError) in .int(Int64(v[0].string?.count ?? 0)) }
        case "CONCAT":
            guard !args.isEmpty, args.allSatisfy({ $0.type.isCharacter || $0.type.isNull }) else {
                throw Self.mismatch(name, args, expected: "<CHARACTER>, ...")
            }
            // Flink: VARCHAR(2147483647), nullable when an argument is.
            return Self.function(name, args, string.notNull) { v throws(SQLError) in
                .string(v.map { $0.string ?? "" }.joined())
            }
        case "CONCAT_WS":
            try expectCount(1...64, "<CHARACTER>, <CHARACTER>, ...")
            for i in args.indices { try requireString(i, "<CHARACTER>, <CHARACTER>, ...") }
            // Flink: VARCHAR(2147483647), nullable when an argument is; NULL values are skipped, a NULL separator gives NULL.
            return Self.function(name, args, string.withNullable(args.contains { $0.type.nullable }), strict: false) { v throws(SQLError) in
                guard let separator = v[0].string else { return .null }
                return .string(v.dropFirst().compactMap(\.string).joined(separator: separator))
            }
        case "SUBSTRING", "SUBSTR":
            try expectCount(2...3, "<CHARACTER>, <INTEGER>[, <INTEGER>]")
            try requireString(0, "<CHARACTER>, <INTEGER>[, <INTEGER>]")
            return Self.function(name, args, SQLType(.varchar(args[0].type.length ?? SQLType.maxLength))) { v throws(SQLError) in
                let characters = Array(v[0].string ?? "")
                var start = Int(v[1].int ?? 1)
                if start < 0 { start = characters.count + start + 1 }
                if start == 0 { start = 1 }
                let length = v.count == 3 ? Int(v[2].int ?? 0) : characters.count
                guard length >= 0 else { throw SQLError("The length of SUBSTRING must not be negative: \(length).") }
                let from = max(start - 1, 0)
                let to = min(characters.count, start - 1 + length)
                return .string(from < to ? String(characters[from..<to]) : "")
            }
        case "LEFT", "RIGHT":
            try expectCount(2...2, "<CHARACTER>, <INTEGER>")
            try requireString(0, "<CHARACTER>, <INTEGER>")
            return Self.function(name, args, SQLType(.varchar(args[0].type.length ?? SQLType.maxLength))) { v throws(SQLError) in
                let s = v[0].string ?? ""
                let n = max(0, Int(v[1].int ?? 0))
                return .string(String(name == "LEFT" ? s.prefix(n) : s.suffix(n)))
            }
        case "REPLACE":
            try expectCount(3...3, "<CHARACTER>, <CHARACTER>, <CHARACTER>")
            for i in 0..<3 { try requireString(i, "<CHARACTER>, <CHARACTER>, <CHARACTER>") }
            return Self.function(name, args, string.notNull) { v throws(SQLError) in
                let search = v[1].string ?? ""
                guard !search.isEmpty else { return v[0] }
                return .string((v[0].string ?? "").replacingOccurrences(of: search, with: v[2].string ?? ""))
            }
        case "POSITION", "LOCATE", "INSTR":
            try expectCount(2...3, "<CHARACTER>, <CHARACTER>")
            // POSITION(needle IN haystack), LOCATE(needle, haystack), INSTR(haystack, needle).
            let (needleIndex, haystackIndex) = name == "INSTR" ? (1, 0) : (0, 1)
            return Self.function(name, args, SQLType(.integer, nullable: false)) { v throws(SQLError) in
                let needle = Array(v[needleIndex].string ?? "")
                let haystack = Array(v[haystackIndex].string ?? "")
                let from = v.count == 3 ? max(0, Int(v[2].int ?? 1) - 1) : 0
                guard !needle.isEmpty else { return .int(Int64(from + 1)) }
                guard haystack.count >= needle.count else { return .int(0) }
                for start in from...max(from, haystack.count - needle.count) where start + needle.count <= haystack.count {
                    if Array(haystack[start..<start + needle.count]) == needle { return .int(Int64(start + 1)) }
                }
                return .int(0)
            }
        case "LPAD", "RPAD":
            try expectCount(3...3, "<CHARACTER>, <INTEGER>, <CHARACTER>")
            guard args[0].type.isCharacter || args[0].type.isNull, args[1].type.isInteger || args[1].type.isNull,
                args[2].type.isCharacter || args[2].type.isNull
            else { throw Self.mismatch(name, args, expected: "<CHARACTER>, <INTEGER>, <CHARACTER>") }
            return Self.function(name, args, string.notNull) { v throws(SQLError) in
                let s = Array(v[0].string ?? "")
                let length = Int(v[1].int ?? 0)
                let pad = Array(v[2].string ?? "")
                guard length >= 0 else { return .null }
                if s.count >= length { return .string(String(s.prefix(length))) }
                guard !pad.isEmpty else { return .null }
                var filler: [Character] = []
                while filler.count < length - s.count { filler.append(pad[filler.count % pad.count]) }
                return .string(String(name == "LPAD" ? filler + s : s + filler))
            }
        case "REPEAT":
            try expectCount(2...2, "<CHARACTER>, <INTEGER>")
            guard args[0].type.isCharacter || args[0].type.isNull, args[1].type.isInteger || args[1].type.isNull else {
                throw Self.mismatch(name, args, expected: "<CHARACTER>, <INTEGER>")
            }
            return Self.function(name, args, string.notNull) { v throws(SQLError) in
                .string(String(repeating: v[0].string ?? "", count: max(0, Int(v[1].int ?? 0))))
            }
        case "REGEXP_REPLACE", "REGEXP_EXTRACT", "REGEXP":
            try expectCount(name == "REGEXP" ? 2...2 : 2...3, "<CHARACTER>, <CHARACTER>, ...")
            for i in 0..<2 { try requireString(i, "<CHARACTER>, <CHARACTER>, ...") }
            // REGEXP and REGEXP_REPLACE are nullable when an argument is; REGEXP_EXTRACT is always nullable.
            let resultType: SQLType = name == "REGEXP" ? SQLType(.boolean, nullable: false) : string.notNull
            // A constant pattern (the usual case) is compiled once, not once per row.
            let constantRegex = args[1].constant?.string.flatMap { try? NSRegularExpression(pattern: $0) }
            return Self.function(name, args, name == "REGEXP_EXTRACT" ? string.withNullable(true) : resultType) { v throws(SQLError) in
                let text = v[0].string ?? ""
                guard let regex = constantRegex ?? (try? NSRegularExpression(pattern: v[1].string ?? "")) else { return .null }
                let range = NSRange(text.startIndex..., in: text)
                switch name {
                case "REGEXP": return .bool(regex.firstMatch(in: text, range: range) != nil)
                case "REGEXP_REPLACE":
                    return .string(regex.stringByReplacingMatches(in: text, range: range, withTemplate: v.count == 3 ? (v[2].string ?? "") : ""))
                default:
                    let group = v.count == 3 ? Int(v[2].int ?? 0) : 0
                    guard let match = regex.firstMatch(in: text, range: range), group <= match.numberOfRanges - 1,
                        let matched = Range(match.range(at: group), in: text)
                    else { return .null }
                    return .string(String(text[matched]))
                }
            }
        case "SPLIT_INDEX":
            try expectCount(3...3, "<CHARACTER>, <CHARACTER>, <INTEGER>")
            return Self.function(name, args, string.withNullable(true)) { v throws(SQLError) in
                Self.splitIndex(v[0].string ?? "", separator: v[1].string ?? "", Int(v[2].int ?? 0)).map(Value.string) ?? .null
            }
        case "ASCII":
            try expectCount(1...1, "<CHARACTER>")
            try requireString(0, "<CHARACTER>")
            return Self.function(name, args, SQLType(.integer, nullable: false)) { v throws(SQLError) in
                .int(Int64(v[0].string?.unicodeScalars.first.map { $0.value } ?? 0))
            }
        case "CHR":
            try expectCount(1...1, "<INTEGER>")
            guard args[0].type.isInteger || args[0].type.isNull else { throw Self.mismatch(name, args, expected: "<INTEGER>") }
            return Self.function(name, args, string) { v throws(SQLError) in
                guard let code = v[0].int else { return .null }
                guard code >= 0 else { return .string("") }
                guard let scalar = Unicode.Scalar(UInt32(truncatingIfNeeded: code & 0xFF)) else { return .null }
                return .string(String(Character(scalar)))
            }
        case "IS_ALPHA", "IS_DIGIT", "IS_DECIMAL":
            try expectCount(1...1, "<CHARACTER>")
            return Self.function(name, args, SQLType(.boolean, nullable: false), strict: false) { v throws(SQLError) in
                guard let s = v[0].string, !s.isEmpty else { return .bool(false) }
                switch name {
                case "IS_ALPHA": return .bool(s.allSatisfy(\.isLetter))
                case "IS_DIGIT": return .bool(s.allSatisfy { $0.isASCII && $0.isNumber })
                default: return .bool(Double(s) != nil)
                }
            }
        case "UUID":
            try expectCount(0...0, "")
            return Self.function(name, args, SQLType(.char(36), nullable: false)) { _ throws(SQLError) in .string(UUID().uuidString.lowercased()) }

        // MARK: Conditionals
        case "COALESCE", "IFNULL":
            guard !args.isEmpty else { throw Self.mismatch(name, args, expected: "<ANY>, ...") }
            var common = args[0].type
            for arg in args.dropFirst() {
                guard let next = SQLType.common(common, arg.type) else { throw Self.mismatch(name, args, expected: "<COMPARABLE_TYPE>, ...") }
                common = next
            }
            let nullable = args.allSatisfy(\.type.nullable)
            let resultType = common.withNullable(nullable)
            return Self.function(name, args.map { $0.casted(to: common.withNullable($0.type.nullable)) }, resultType, strict: false) { v throws(SQLError) in
                v.first { !$0.isNull } ?? .null
            }
        case "IF":
            try expectCount(3...3, "<BOOLEAN>, <ANY>, <ANY>")
            guard args[0].type.kind == .boolean || args[0].type.isNull, let common = SQLType.common(args[1].type, args[2].type) else {
                throw Self.mismatch(name, args, expected: "<BOOLEAN>, <ANY>, <ANY>")
            }
            return BoundExpression(.caseWhen([(args[0], args[1].casted(to: common))], otherwise: args[2].casted(to: common)), common)
        case "NULLIF":
            try expectCount(2...2, "<ANY>, <ANY>")
            guard let common = SQLType.common(args[0].type, args[1].type) else { throw Self.mismatch(name, args, expected: "<ANY>, <ANY>") }
            let test = BoundExpression(.compare(.equal, args[0].casted(to: common), args[1].casted(to: common)), SQLType(.boolean))
            return BoundExpression(.caseWhen([(test, .literal(.null, args[0].type.withNullable(true)))], otherwise: args[0]),
                                   args[0].type.withNullable(true))
        case "GREATEST", "LEAST":
            guard !args.isEmpty else { throw Self.mismatch(name, args, expected: "<ANY>, ...") }
            var common = args[0].type
            for arg in args.dropFirst() {
                guard let next = SQLType.common(common, arg.type) else { throw Self.mismatch(name, args, expected: "<COMPARABLE_TYPE>, ...") }
                common = next
            }
            return Self.function(name, args.map { $0.casted(to: common) }, common) { v throws(SQLError) in
                let sorted = v.sorted { Value.compare($0, $1) < 0 }
                return name == "GREATEST" ? sorted.last! : sorted.first!
            }

        // MARK: Numbers
        case "ABS":
            try expectCount(1...1, "<NUMERIC>")
            try requireNumeric(0, "<NUMERIC>")
            return Self.function(name, args, args[0].type) { v throws(SQLError) in
                switch v[0] {
                case .int(let x): return .int(x == .min ? x : abs(x))
                case .double(let x): return .double(abs(x))
                case .decimal(let x): return .decimal(x < 0 ? -x : x)
                default: return v[0]
                }
            }
        case "MOD":
            try expectCount(2...2, "<EXACT_NUMERIC>, <EXACT_NUMERIC>")
            guard let type = SQLType.arithmetic("%", args[0].type, args[1].type) else { throw Self.mismatch(name, args, expected: "<EXACT_NUMERIC>, <EXACT_NUMERIC>") }
            return BoundExpression(.arithmetic(.modulo, args[0].casted(to: operandType(args[0].type, type)), args[1].casted(to: operandType(args[1].type, type))), type)
        case "SIGN":
            try expectCount(1...1, "<NUMERIC>")
            try requireNumeric(0, "<NUMERIC>")
            let shape = args[0].type.decimalShape
            return Self.function(name, args, args[0].type) { v throws(SQLError) in
                switch v[0] {
                case .int(let x): return .int(x.signum())
                case .double(let x): return .double(x > 0 ? 1 : (x < 0 ? -1 : 0))
                case .decimal(let x): return .decimal(Int128(x.signum()) * Caster.pow10(shape?.scale ?? 0))
                default: return v[0]
                }
            }
        case "ROUND", "TRUNCATE":
            try expectCount(1...2, "<NUMERIC>[, <INTEGER>]")
            try requireNumeric(0, "<NUMERIC>[, <INTEGER>]")
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
            let rounding: FloatingPointRoundingRule = name == "ROUND" ? .toNearestOrAwayFromZero : .towardZero
            return Self.function(name, args, resultType) { v throws(SQLError) in
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
                    if name == "ROUND", r.magnitude * 2 >= divisor.magnitude { q += x < 0 ? -1 : 1 }
                    return .decimal(Caster.rescale(q, from: n, to: resultScale))
                default: return v[0]
                }
            }
        case "FLOOR", "CEIL", "CEILING":
            if raw.count == 2, let unit = Self.unit(raw[1]) {
                return try temporalFloor(name == "FLOOR", args[0], unit: unit)
            }
            try expectCount(1...1, "<NUMERIC>")
            try requireNumeric(0, "<NUMERIC>")
            var resultType = args[0].type
            if case .decimal(let p, let s) = args[0].type.kind {
                // Calcite's DECIMAL_SCALE0: the precision stays, the scale becomes 0.
                resultType = SQLType(.decimal(precision: p, scale: 0), nullable: args[0].type.nullable)
            }
            let isFloor = name == "FLOOR"
            let scale = args[0].type.decimalShape?.scale ?? 0
            return Self.function(name, args, resultType) { v throws(SQLError) in
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
        case "POWER", "POW", "SQRT", "EXP", "LN", "LOG10", "LOG2", "LOG", "SIN", "COS", "TAN", "ASIN", "ACOS", "ATAN", "DEGREES", "RADIANS":
            let arity: ClosedRange<Int> = ["POWER", "POW"].contains(name) ? 2...2 : (name == "LOG" ? 1...2 : 1...1)
            try expectCount(arity, "<NUMERIC>")
            for i in args.indices { try requireNumeric(i, "<NUMERIC>") }
            let doubles = args.map { $0.casted(to: SQLType(.double, nullable: $0.type.nullable)) }
            return Self.function(name, doubles, SQLType(.double, nullable: false)) { v throws(SQLError) in
                let x = v[0].double ?? 0
                let result: Double = switch name {
                case "POWER", "POW": Foundation.pow(x, v[1].double ?? 0)
                case "SQRT": x.squareRoot()
                case "EXP": Foundation.exp(x)
                case "LN": Foundation.log(x)
                case "LOG10": Foundation.log10(x)
                case "LOG2": Foundation.log2(x)
                case "LOG": v.count == 2 ? Foundation.log(v[1].double ?? 0) / Foundation.log(x) : Foundation.log(x)
                case "SIN": Foundation.sin(x)
                case "COS": Foundation.cos(x)
                case "TAN": Foundation.tan(x)
                case "ASIN": Foundation.asin(x)
                case "ACOS": Foundation.acos(x)
                case "ATAN": Foundation.atan(x)
                case "DEGREES": x * 180 / .pi
                default: x * .pi / 180
                }
                return .double(result)
            }
        case "PI":
            try expectCount(0...0, "")
            return .literal(.double(.pi), SQLType(.double, nullable: false))
        case "RAND":
            try expectCount(0...1, "[<INTEGER>]")
            return Self.function(name, [], SQLType(.double, nullable: false)) { _ throws(SQLError) in .double(Double.random(in: 0..<1)) }

        // MARK: Time
        case "CURRENT_TIMESTAMP", "NOW":
            try expectCount(0...0, "")
            return Self.function(name, [], SQLType(.timestampLTZ(3), nullable: false)) { _ throws(SQLError) in
                .int(Temporal.truncate(Temporal.nowMicros(), precision: 3))
            }
        case "LOCALTIMESTAMP":
            try expectCount(0...0, "")
            return Self.function(name, [], SQLType(.timestamp(3), nullable: false)) { _ throws(SQLError) in
                .int(Temporal.truncate(Temporal.local(Temporal.nowMicros(), in: zone), precision: 3))
            }
        case "CURRENT_DATE":
            try expectCount(0...0, "")
            return Self.function(name, [], SQLType(.date, nullable: false)) { _ throws(SQLError) in
                .int(Temporal.floorDiv(Temporal.local(Temporal.nowMicros(), in: zone), Temporal.microsPerDay))
            }
        case "CURRENT_TIME", "LOCALTIME":
            try expectCount(0...0, "")
            return Self.function(name, [], SQLType(.time(0), nullable: false)) { _ throws(SQLError) in
                .int(Temporal.truncate(Temporal.floorMod(Temporal.local(Temporal.nowMicros(), in: zone), Temporal.microsPerDay), precision: 0))
            }
        case "UNIX_TIMESTAMP":
            try expectCount(0...2, "[<CHARACTER>[, <CHARACTER>]]")
            return Self.function(name, args, SQLType(.bigint, nullable: false)) { v throws(SQLError) in
                guard let text = v.first?.string else { return .int(Temporal.floorDiv(Temporal.nowMicros(), Temporal.microsPerSecond)) }
                let format = v.count == 2 ? (v[1].string ?? "") : "yyyy-MM-dd HH:mm:ss"
                guard let local = DateFormatting.parse(text, format: format) else { return .int(Int64.min) }
                return .int(Temporal.floorDiv(Temporal.instant(local, in: zone), Temporal.microsPerSecond))
            }
        case "FROM_UNIXTIME":
            try expectCount(1...2, "<NUMERIC>[, <CHARACTER>]")
            return Self.function(name, args, string) { v throws(SQLError) in
                let local = Temporal.local((v[0].int ?? 0) * Temporal.microsPerSecond, in: zone)
                return .string(DateFormatting.format(local, pattern: v.count == 2 ? (v[1].string ?? "") : "yyyy-MM-dd HH:mm:ss"))
            }
        case "DATE_FORMAT":
            try expectCount(2...2, "<TIMESTAMP>, <CHARACTER>")
            let sourceType = args[0].type
            guard sourceType.isTemporal || sourceType.isCharacter else { throw Self.mismatch(name, args, expected: "<TIMESTAMP>, <CHARACTER>") }
            // A constant pattern (the usual case) is split into its parts once, not once per row.
            let constantPattern = args[1].constant?.string.map(DateFormatting.Pattern.init)
            return Self.function(name, args, string) { v throws(SQLError) in
                let micros: Int64
                switch (sourceType.kind, v[0]) {
                case (.timestampLTZ, .int(let instant)): micros = Temporal.local(instant, in: zone)
                case (.date, .int(let days)): micros = days * Temporal.microsPerDay
                case (_, .int(let value)): micros = value
                case (_, .string(let text)):
                    guard let parsed = Temporal.parseTimestamp(text) else { return .null }
                    micros = parsed
                default: return .null
                }
                return .string(DateFormatting.format(micros, pattern: constantPattern ?? DateFormatting.Pattern(v[1].string ?? "")))
            }
        case "TO_TIMESTAMP", "TO_TIMESTAMP_LTZ", "TO_DATE":
            try expectCount(1...2, "<CHARACTER>[, <CHARACTER>]")
            if name == "TO_TIMESTAMP_LTZ", args[0].type.isNumeric {
                let precision = Int(args.count == 2 ? (args[1].constant?.int ?? 3) : 3)
                return Self.function(name, [args[0].casted(to: SQLType(.bigint, nullable: args[0].type.nullable))], SQLType(.timestampLTZ(3))) { v throws(SQLError) in
                    let raw = v[0].int ?? 0
                    return .int(precision == 0 ? raw * Temporal.microsPerSecond : raw * 1000)
                }
            }
            try requireString(0, "<CHARACTER>[, <CHARACTER>]")
            let resultType: SQLType = switch name {
            case "TO_DATE": SQLType(.date)
            case "TO_TIMESTAMP_LTZ": SQLType(.timestampLTZ(3))
            default: SQLType(.timestamp(3))
            }
            return Self.function(name, args, resultType.withNullable(true)) { v throws(SQLError) in
                let text = v[0].string ?? ""
                let parsed: Int64?
                if v.count == 2 { parsed = DateFormatting.parse(text, format: v[1].string ?? "") } else {
                    parsed = name == "TO_DATE" ? Temporal.parseDate(text).map { $0 * Temporal.microsPerDay } : Temporal.parseTimestamp(text)
                }
                guard let local = parsed else { return .null }
                switch name {
                case "TO_DATE": return .int(Temporal.floorDiv(local, Temporal.microsPerDay))
                case "TO_TIMESTAMP_LTZ": return .int(Temporal.instant(local, in: zone))
                default: return .int(Temporal.truncate(local, precision: 3))
                }
            }
        case "YEAR", "MONTH", "DAYOFMONTH", "HOUR", "MINUTE", "SECOND", "QUARTER", "WEEK", "DAYOFWEEK", "DAYOFYEAR":
            try expectCount(1...1, "<DATETIME>")
            let unit = switch name {
            case "DAYOFMONTH": "DAY"
            case "DAYOFWEEK": "DOW"
            case "DAYOFYEAR": "DOY"
            default: name
            }
            return try extract(unit: unit, from: args[0])
        case "TIMESTAMPADD":
            guard raw.count == 3, let unit = Self.unit(raw[0]) else { throw Self.mismatch(name, args, expected: "<TIME_UNIT>, <INTEGER>, <DATETIME>") }
            let amount = try bindArgument(raw[1])
            let target = try bindArgument(raw[2])
            guard amount.type.isInteger, target.type.isTemporal else { throw Self.mismatch(name, [amount, target], expected: "<TIME_UNIT>, <INTEGER>, <DATETIME>") }
            return Self.function(name, [amount, target], target.type) { v throws(SQLError) in
                .int(Self.add(unit: unit, amount: v[0].int ?? 0, to: v[1].int ?? 0, type: target.type))
            }
        case "TIMESTAMPDIFF":
            guard raw.count == 3, let unit = Self.unit(raw[0]) else { throw Self.mismatch(name, args, expected: "<TIME_UNIT>, <DATETIME>, <DATETIME>") }
            let start = try bindArgument(raw[1])
            let end = try bindArgument(raw[2])
            guard start.type.isTemporal, end.type.isTemporal else { throw Self.mismatch(name, [start, end], expected: "<TIME_UNIT>, <DATETIME>, <DATETIME>") }
            let (startType, endType) = (start.type, end.type)
            return Self.function(name, [start, end], SQLType(.integer, nullable: false)) { v throws(SQLError) in
                let a = Self.micros(v[0].int ?? 0, startType)
                let b = Self.micros(v[1].int ?? 0, endType)
                return .int(Self.difference(unit: unit, from: a, to: b))
            }
        case "CARDINALITY":
            try expectCount(1...1, "<ARRAY>|<MAP>|<MULTISET>")
            return Self.function(name, args, SQLType(.integer, nullable: false)) { v throws(SQLError) in .int(Int64(v[0].list?.count ?? 0)) }
        default:
            throw SQLError("No match found for function signature \(name)(\(args.map { "<\($0.type.familyName)>" }.joined(separator: ", ")))")
        }
    }

    /// The type an operand of `MOD`-like arithmetic converts to for result type `result`.
    private func operandType(_ operand: SQLType, _ result: SQLType) -> SQLType {
        if result.isDecimal, operand.isInteger { return SQLType(.decimal(precision: operand.decimalShape!.precision, scale: 0), nullable: operand.nullable) }
        if result.isDecimal { return operand }
        return result.withNullable(operand.nullable)
    }

    // MARK: Temporal helpers

    /// Microseconds on a common axis for DATE and TIMESTAMP values.
    static func micros(_ value: Int64, _ type: SQLType) -> Int64 { type.kind == .date ? value * Temporal.microsPerDay : value }

    static func add(unit: String, amount: Int64, to value: Int64, type: SQLType) -> Int64 {
        let isDate = type.kind == .date
        let micros = isDate ? value * Temporal.microsPerDay : value
        var result: Int64
        switch unit {
        case "YEAR", "QUARTER", "MONTH":
            let months = amount * (unit == "YEAR" ? 12 : unit == "QUARTER" ? 3 : 1)
            let day = Temporal.floorDiv(micros, Temporal.microsPerDay)
            let time = Temporal.floorMod(micros, Temporal.microsPerDay)
            let date = Temporal.civil(day)
            let total = date.year * 12 + (date.month - 1) + months
            let year = Temporal.floorDiv(total, 12)
            let month = Temporal.floorMod(total, 12) + 1
            let dayOfMonth = min(date.day, Temporal.daysInMonth(year, month))
            result = Temporal.days(Temporal.CivilDate(year: year, month: month, day: dayOfMonth)) * Temporal.microsPerDay + time
        case "WEEK": result = micros + amount * 7 * Temporal.microsPerDay
        case "DAY": result = micros + amount * Temporal.microsPerDay
        case "HOUR": result = micros + amount * 3_600_000_000
        case "MINUTE": result = micros + amount * 60_000_000
        case "SECOND": result = micros + amount * Temporal.microsPerSecond
        case "MILLISECOND": result = micros + amount * 1000
        default: result = micros + amount
        }
        return isDate ? Temporal.floorDiv(result, Temporal.microsPerDay) : result
    }

    static func difference(unit: String, from a: Int64, to b: Int64) -> Int64 {
        switch unit {
        case "YEAR", "QUARTER", "MONTH":
            let (start, end) = (Temporal.civil(Temporal.floorDiv(a, Temporal.microsPerDay)), Temporal.civil(Temporal.floorDiv(b, Temporal.microsPerDay)))
            var months = (end.year - start.year) * 12 + (end.month - start.month)
            let startRest = (start.day, Temporal.floorMod(a, Temporal.microsPerDay))
            let endRest = (end.day, Temporal.floorMod(b, Temporal.microsPerDay))
            if months > 0, endRest < startRest { months -= 1 }
            if months < 0, endRest > startRest { months += 1 }
            return unit == "YEAR" ? months / 12 : unit == "QUARTER" ? months / 3 : months
        case "WEEK": return (b - a) / (7 * Temporal.microsPerDay)
        case "DAY": return (b - a) / Temporal.microsPerDay
        case "HOUR": return (b - a) / 3_600_000_000
        case "MINUTE": return (b - a) / 60_000_000
        case "SECOND": return (b - a) / Temporal.microsPerSecond
        case "MILLISECOND": return (b - a) / 1000
        default: return b - a
        }
    }

    /// `FLOOR(ts TO unit)` / `CEIL(ts TO unit)`.
    func temporalFloor(_ isFloor: Bool, _ operand: BoundExpression, unit: String) throws(SQLError) -> BoundExpression {
        guard operand.type.isTemporal else { throw Self.mismatch(isFloor ? "FLOOR" : "CEIL", [operand], expected: "<DATETIME> TO <TIME_UNIT>") }
        let type = operand.type
        let zone = self.zone
        return Self.function(isFloor ? "FLOOR" : "CEIL", [operand], type) { v throws(SQLError) in
            let raw = v[0].int ?? 0
            var micros = Self.micros(raw, type)
            if case .timestampLTZ = type.kind { micros = Temporal.local(raw, in: zone) }
            let floored: Int64
            switch unit {
            case "YEAR", "QUARTER", "MONTH":
                let date = Temporal.civil(Temporal.floorDiv(micros, Temporal.microsPerDay))
                let month = unit == "YEAR" ? 1 : unit == "QUARTER" ? (date.month - 1) / 3 * 3 + 1 : date.month
                floored = Temporal.days(Temporal.CivilDate(year: date.year, month: month, day: 1)) * Temporal.microsPerDay
            case "WEEK":
                let day = Temporal.floorDiv(micros, Temporal.microsPerDay)
                floored = (day - Temporal.floorMod(day + 4, 7)) * Temporal.microsPerDay  // weeks start on Sunday
            default:
                let size: Int64 = switch unit {
                case "DAY": Temporal.microsPerDay
                case "HOUR": 3_600_000_000
                case "MINUTE": 60_000_000
                case "SECOND": Temporal.microsPerSecond
                default: 1000
                }
                floored = Temporal.floorDiv(micros, size) * size
            }
            var result = floored
            if !isFloor, floored != micros { result = Self.add(unit: unit, amount: 1, to: floored, type: SQLType(.timestamp(6))) }
            if case .timestampLTZ = type.kind { result = Temporal.instant(result, in: zone) }
            return .int(type.kind == .date ? Temporal.floorDiv(result, Temporal.microsPerDay) : result)
        }
    }

    /// `EXTRACT(unit FROM value)`.
    func extract(unit: String, from operand: BoundExpression) throws(SQLError) -> BoundExpression {
        let type = operand.type
        guard type.isTemporal || type.isNull else { throw Self.mismatch("EXTRACT", [operand], expected: "<DATETIME_INTERVAL_SYMBOL> FROM <DATETIME>") }
        let zone = self.zone
        return Self.function("EXTRACT", [operand], SQLType(.bigint, nullable: false)) { v throws(SQLError) in
            let raw = v[0].int ?? 0
            var micros: Int64
            switch type.kind {
            case .date: micros = raw * Temporal.microsPerDay
            case .timestampLTZ: micros = Temporal.local(raw, in: zone)
            default: micros = raw
            }
            let timeOfDay = Temporal.floorMod(micros, Temporal.microsPerDay)
            let day = Temporal.floorDiv(micros, Temporal.microsPerDay)
            let date = Temporal.civil(day)
            switch unit {
            case "YEAR": return .int(date.year)
            case "MONTH": return .int(date.month)
            case "DAY": return .int(date.day)
            case "QUARTER": return .int((date.month - 1) / 3 + 1)
            case "HOUR": return .int(timeOfDay / 3_600_000_000)
            case "MINUTE": return .int(timeOfDay / 60_000_000 % 60)
            case "SECOND": return .int(timeOfDay / Temporal.microsPerSecond % 60)
            case "MILLISECOND": return .int(timeOfDay / 1000 % 60_000)
            case "MICROSECOND": return .int(timeOfDay % 60_000_000)
            case "DOW": return .int(Temporal.floorMod(day + 4, 7) + 1)
            case "ISODOW": return .int(Temporal.floorMod(day + 3, 7) + 1)
            case "DOY": return .int(day - Temporal.days(Temporal.CivilDate(year: date.year, month: 1, day: 1)) + 1)
            case "WEEK": return .int(Self.isoWeek(day))
            case "EPOCH": return .int(Temporal.floorDiv(micros, Temporal.microsPerSecond))
            case "DECADE": return .int(Temporal.floorDiv(date.year, 10))
            case "CENTURY": return .int(date.year > 0 ? (date.year + 99) / 100 : -((-date.year + 99) / 100))
            case "MILLENNIUM": return .int(date.year > 0 ? (date.year + 999) / 1000 : -((-date.year + 999) / 1000))
            default: throw SQLError("EXTRACT does not support the unit \(unit).")
            }
        }
    }

    /// The ISO-8601 week number of a day.
    static func isoWeek(_ day: Int64) -> Int64 {
        let weekday = Temporal.floorMod(day + 3, 7)  // Monday = 0
        let thursday = day - weekday + 3
        let year = Temporal.civil(thursday).year
        let firstDay = Temporal.days(Temporal.CivilDate(year: year, month: 1, day: 1))
        return (thursday - firstDay) / 7 + 1
    }

    static func initcap(_ s: String) -> String {
        var result = ""
        var startOfWord = true
        for character in s {
            result += startOfWord ? character.uppercased() : character.lowercased()
            startOfWord = !(character.isLetter || character.isNumber)
        }
        return result
    }
}

extension SQLType {
    /// The spelling Calcite uses in error messages (`INTEGER NOT NULL`, `CHAR(3) NOT NULL`, `VARCHAR(2147483647)`).
    var errorSpelling: String {
        let base: String = switch kind {
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
