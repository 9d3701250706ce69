// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// String functions: case, trimming, padding, searching, slicing, regular expressions.
enum StringFunctions {
    static let definitions: [FunctionDefinition] = [
        // Calcite/Flink: UPPER, LOWER and INITCAP return their argument's type; REVERSE is VARCHAR(2147483647), always
        // nullable; LTRIM and RTRIM the VARCHAR form of their argument.
        FunctionDefinition(
            name: "UPPER", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try caseMapping(call, upper: true)
            }, isSpelledWhole: true, examples: [.init("UPPER('Flink sql')", "FLINK SQL"), .init("UPPER(CAST(NULL AS STRING))", "NULL")]),
        FunctionDefinition(
            name: "LOWER", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try caseMapping(call, upper: false)
            }, isSpelledWhole: true, examples: [.init("LOWER('Flink SQL')", "flink sql")]),
        FunctionDefinition(
            name: "INITCAP", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try sameTypeString(call) { .string(initcap($0)) }
            }, examples: [.init("INITCAP('hello wORLD-x')", "Hello World-X")]),
        FunctionDefinition(
            name: "REVERSE", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...1)
                try call.requireCharacter(0)
                return call.function(SQLType.string) { v throws(SQLError) in .string(String((v[0].string ?? "").reversed())) }
            }, examples: [.init("REVERSE('abc')", "cba")]),
        FunctionDefinition(
            name: "LTRIM", signature: "<CHARACTER>[, <CHARACTER>]",
            binding: .scalar { call throws(SQLError) in
                try sideTrim(call, leading: true)
            }, examples: [.init("LTRIM('  a ')", "a "), .init("LTRIM('xxa', 'x')", "a")]),
        FunctionDefinition(
            name: "RTRIM", signature: "<CHARACTER>[, <CHARACTER>]",
            binding: .scalar { call throws(SQLError) in
                try sideTrim(call, leading: false)
            }, examples: [.init("RTRIM(' a  ')", " a"), .init("RTRIM('axx', 'x')", "a")]),
        FunctionDefinition(
            name: "TRIM", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...2)
                for i in call.arguments.indices { try call.requireCharacter(i) }
                // TRIM(s) or, from `TRIM(BOTH chars FROM s)`, TRIM(chars, s).
                return call.function(SQLType(.varchar(call.arguments.last!.type.length ?? SQLType.maxLength), nullable: false)) {
                    v throws(SQLError) in
                    let s = v.last!.string ?? ""
                    let characters = Set(v.count == 2 ? (v[0].string ?? " ") : " ")
                    return .string(String(s.drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed()))
                }
            }, examples: [.init("TRIM('  a  ')", "a"), .init("TRIM(BOTH 'x' FROM 'xxaxx')", "a")]),
        FunctionDefinition(
            name: "CHAR_LENGTH", aliases: ["CHARACTER_LENGTH"], signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...1)
                try call.requireCharacter(0)
                return call.function(SQLType(.integer, nullable: false)) { v throws(SQLError) in .int(Int64(v[0].string?.count ?? 0)) }
            }, isSpelledWhole: true, examples: [.init("CHAR_LENGTH('héllo')", "5"), .init("CHARACTER_LENGTH('')", "0")]),
        FunctionDefinition(
            name: "CONCAT", signature: "<CHARACTER>, ...",
            binding: .scalar { call throws(SQLError) in
                guard !call.arguments.isEmpty, call.arguments.allSatisfy({ $0.type.isCharacter || $0.type.isNull }) else { throw call.mismatch() }
                // Flink: VARCHAR(2147483647), nullable when an argument is.
                return call.function(SQLType.string.notNull) { v throws(SQLError) in .string(v.map { $0.string ?? "" }.joined()) }
            }, isSpelledWhole: true, examples: [.init("CONCAT('a', 'b', 'c')", "abc"), .init("CONCAT('a', CAST(NULL AS STRING))", "NULL")]),
        FunctionDefinition(
            name: "CONCAT_WS", signature: "<CHARACTER>, <CHARACTER>, ...",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...64)
                for i in call.arguments.indices { try call.requireCharacter(i) }
                // Flink: VARCHAR(2147483647), nullable when an argument is; NULL values are skipped, a NULL separator gives NULL.
                return call.function(SQLType.string.withNullable(call.arguments.contains { $0.type.nullable }), strict: false) { v throws(SQLError) in
                    guard let separator = v[0].string else { return .null }
                    return .string(v.dropFirst().compactMap(\.string).joined(separator: separator))
                }
            }, examples: [.init("CONCAT_WS('-', 'a', CAST(NULL AS STRING), 'b')", "a-b")]),
        FunctionDefinition(
            name: "SUBSTRING", aliases: ["SUBSTR"], signature: "<CHARACTER>, <INTEGER>[, <INTEGER>]",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(2...3)
                try call.requireCharacter(0)
                return call.function(SQLType(.varchar(call.arguments[0].type.length ?? SQLType.maxLength))) { v throws(SQLError) in
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
            }, isSpelledWhole: true, examples: [.init("SUBSTRING('hello' FROM 2 FOR 3)", "ell"), .init("SUBSTR('hello', -3)", "llo")]),
        FunctionDefinition(
            name: "LEFT", signature: "<CHARACTER>, <INTEGER>",
            binding: .scalar { call throws(SQLError) in
                try affix(call) { s, n in String(s.prefix(n)) }
            }, examples: [.init("LEFT('hello', 2)", "he"), .init("LEFT('hello', -1)", "")]),
        FunctionDefinition(
            name: "RIGHT", signature: "<CHARACTER>, <INTEGER>",
            binding: .scalar { call throws(SQLError) in
                try affix(call) { s, n in String(s.suffix(n)) }
            }, examples: [.init("RIGHT('hello', 2)", "lo")]),
        FunctionDefinition(
            name: "REPLACE", signature: "<CHARACTER>, <CHARACTER>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(3...3)
                for i in 0..<3 { try call.requireCharacter(i) }
                return call.function(SQLType.string.notNull) { v throws(SQLError) in
                    let search = v[1].string ?? ""
                    guard !search.isEmpty else { return v[0] }
                    return .string((v[0].string ?? "").replacingOccurrences(of: search, with: v[2].string ?? ""))
                }
            }, examples: [.init("REPLACE('banana', 'an', 'o'), REPLACE('abc', '', 'x')", "booa, abc")]),
        // POSITION(needle IN haystack), LOCATE(needle, haystack[, from]), INSTR(haystack, needle).
        FunctionDefinition(
            name: "POSITION", signature: "<CHARACTER>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try position(call, needle: 0, haystack: 1)
            }, examples: [.init("POSITION('b' IN 'abcb')", "2"), .init("POSITION('z' IN 'abc')", "0")]),
        FunctionDefinition(
            name: "LOCATE", signature: "<CHARACTER>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try position(call, needle: 0, haystack: 1)
            }, examples: [.init("LOCATE('b', 'abcb', 3)", "4")]),
        FunctionDefinition(
            name: "INSTR", signature: "<CHARACTER>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try position(call, needle: 1, haystack: 0)
            }, examples: [.init("INSTR('abcb', 'cb')", "3")]),
        FunctionDefinition(
            name: "LPAD", signature: "<CHARACTER>, <INTEGER>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try pad(call, left: true)
            }, examples: [.init("LPAD('7', 3, '0')", "007"), .init("LPAD('hello', 2, 'x')", "he")]),
        FunctionDefinition(
            name: "RPAD", signature: "<CHARACTER>, <INTEGER>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try pad(call, left: false)
            }, examples: [.init("RPAD('ab', 5, 'xy')", "abxyx")]),
        FunctionDefinition(
            name: "REPEAT", signature: "<CHARACTER>, <INTEGER>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(2...2)
                try call.requireCharacter(0)
                try call.requireInteger(1)
                return call.function(SQLType.string.notNull) { v throws(SQLError) in
                    .string(String(repeating: v[0].string ?? "", count: max(0, Int(v[1].int ?? 0))))
                }
            }, examples: [.init("REPEAT('ab', 3)", "ababab"), .init("REPEAT('ab', -1)", "")]),
        FunctionDefinition(
            name: "OVERLAY", signature: "<CHARACTER> PLACING <CHARACTER> FROM <INTEGER>[ FOR <INTEGER>]",
            binding: .scalar { call throws(SQLError) in
                try overlay(call)
            },
            examples: [
                .init("OVERLAY('This is an old string' PLACING ' new' FROM 10 FOR 5)", "This is a new string"),
                .init("OVERLAY('12345' PLACING 'foo' FROM 2)", "1foo5"),
                .init("OVERLAY('12345' PLACING 'foo' FROM 2 FOR 0)", "1foo2345"),
                .init("OVERLAY('12345' PLACING 'foo' FROM 0)", "foo345"),
                .init("OVERLAY('12345' PLACING 'foo' FROM -2)", "foo12345"),
                .init("OVERLAY('12345' PLACING 'foo' FROM 17)", "12345foo"),
                .init("OVERLAY('12345' PLACING 'foo' FROM 2 FOR 9)", "1foo"),
                .init("OVERLAY('abc' PLACING CAST(NULL AS STRING) FROM 1)", "NULL"),
            ]),
        FunctionDefinition(
            name: "REGEXP", signature: "<CHARACTER>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try regex(call, arity: 2...2, type: SQLType(.boolean, nullable: false)) { pattern, text, _ in
                    pattern.matches(text).map(Value.bool) ?? .null
                }
            }, examples: [.init("REGEXP('abc123', '[0-9]+')", "TRUE"), .init("REGEXP('abc', '^b')", "FALSE")]),
        // Flink: `str.replaceAll(re, Matcher.quoteReplacement(rep))`, so `$1` and `\` in the replacement are literal.
        FunctionDefinition(
            name: "REGEXP_REPLACE", signature: "<CHARACTER>, <CHARACTER>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try regex(call, arity: 2...3, type: SQLType.string.notNull) { pattern, text, v in
                    pattern.replaceAll(text, with: v.count == 3 ? (v[2].string ?? "") : "").map(Value.string) ?? .null
                }
            },
            examples: [
                .init("REGEXP_REPLACE('a1b22c', '[0-9]+', '#')", "a#b#c"), .init("REGEXP_REPLACE('a-b', '(-)', '$1$1')", "a$1$1b"),
            ]),
        // Always nullable: a pattern that does not match gives NULL.
        FunctionDefinition(
            name: "REGEXP_EXTRACT", signature: "<CHARACTER>, <CHARACTER>[, <INTEGER>]",
            binding: .scalar { call throws(SQLError) in
                try regex(call, arity: 2...3, type: SQLType.string.withNullable(true)) { pattern, text, v in
                    // Flink passes the index as a Java int; out of range (negative included) is NULL.
                    let group = v.count == 3 ? Int(Int32(truncatingIfNeeded: v[2].int ?? 0)) : 0
                    return pattern.extract(text, group: group).map(Value.string) ?? .null
                }
            }, examples: [.init("REGEXP_EXTRACT('foo=12;bar=7', 'bar=([0-9]+)', 1)", "7"), .init("REGEXP_EXTRACT('abc', 'x')", "NULL")]),
        FunctionDefinition(
            name: "SPLIT_INDEX", signature: "<CHARACTER>, <CHARACTER>, <INTEGER>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(3...3)
                return call.function(SQLType.string.withNullable(true)) { v throws(SQLError) in
                    splitIndex(v[0].string ?? "", separator: v[1].string ?? "", Int(v[2].int ?? 0)).map(Value.string) ?? .null
                }
            }, isSpelledWhole: true, examples: [.init("SPLIT_INDEX('a,b,,c', ',', 3)", "c"), .init("SPLIT_INDEX('a,b', ',', 5)", "NULL")]),
        FunctionDefinition(
            name: "ASCII", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...1)
                try call.requireCharacter(0)
                return call.function(SQLType(.integer, nullable: false)) { v throws(SQLError) in
                    .int(Int64(v[0].string?.unicodeScalars.first.map { $0.value } ?? 0))
                }
            }, examples: [.init("ASCII('A')", "65"), .init("ASCII('')", "0")]),
        FunctionDefinition(
            name: "CHR", signature: "<INTEGER>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...1)
                try call.requireInteger(0)
                return call.function(SQLType.string) { v throws(SQLError) in
                    guard let code = v[0].int else { return .null }
                    guard code >= 0 else { return .string("") }
                    guard let scalar = Unicode.Scalar(UInt32(truncatingIfNeeded: code & 0xFF)) else { return .null }
                    return .string(String(Character(scalar)))
                }
            }, examples: [.init("CHR(97)", "a")]),
        FunctionDefinition(
            name: "IS_ALPHA", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try characterTest(call) { $0.allSatisfy(\.isLetter) }
            }, examples: [.init("IS_ALPHA('abc')", "TRUE"), .init("IS_ALPHA('a1')", "FALSE"), .init("IS_ALPHA(CAST(NULL AS STRING))", "FALSE")]),
        FunctionDefinition(
            name: "IS_DIGIT", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try characterTest(call) { $0.allSatisfy { $0.isASCII && $0.isNumber } }
            }, examples: [.init("IS_DIGIT('123')", "TRUE"), .init("IS_DIGIT('1.5')", "FALSE")]),
        FunctionDefinition(
            name: "IS_DECIMAL", signature: "<CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try characterTest(call) { Double($0) != nil }
            }, examples: [.init("IS_DECIMAL('1.5')", "TRUE"), .init("IS_DECIMAL('x')", "FALSE")]),
        FunctionDefinition(
            name: "UUID", signature: "",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(0...0)
                return call.function(SQLType(.char(36), nullable: false)) { _ throws(SQLError) in .string(UUID().uuidString.lowercased()) }
            }, isVolatile: true, examples: [.init("CHAR_LENGTH(UUID()), UUID() = UUID()", "36, FALSE")]),
    ]

    // MARK: Shared bindings

    /// UPPER, LOWER, INITCAP: a string of the argument's type.
    private static func sameTypeString(_ call: ScalarCall, _ transform: @escaping @Sendable (String) -> Value) throws(SQLError) -> BoundExpression {
        try call.expectCount(1...1)
        try call.requireCharacter(0)
        let type = call.arguments[0].type
        return call.function(type.isNull ? SQLType.string.notNull : type.notNull) { v throws(SQLError) in transform(v[0].string ?? "") }
    }

    /// UPPER and LOWER as a column kernel: the argument's UTF-8 bytes are case-mapped into the result column without a
    /// String per row (Nexmark q21 lower-cases every bid's channel up to five times).
    private static func caseMapping(_ call: ScalarCall, upper: Bool) throws(SQLError) -> BoundExpression {
        try call.expectCount(1...1)
        try call.requireCharacter(0)
        let type = call.arguments[0].type
        return call.kernel(type.isNull ? SQLType.string.notNull : type.notNull) { arguments, _ in
            let text = arguments[0]
            return { batch throws(SQLError) in
                let column = try text(batch)
                var builder = StringColumnBuilder(capacity: batch.count)
                if case .string(let strings) = column.data {
                    for row in 0..<batch.count { strings.withUTF8(at: row) { builder.appendCaseMapped($0, upper: upper) } }
                } else {
                    for row in 0..<batch.count {
                        var value = column.value(at: row).string ?? ""
                        value.withUTF8 { builder.appendCaseMapped($0, upper: upper) }
                    }
                }
                return Column(data: .string(builder.column()), nulls: column.nulls)
            }
        }
    }

    /// LTRIM and RTRIM: spaces, or the characters of a second argument, off one side.
    private static func sideTrim(_ call: ScalarCall, leading: Bool) throws(SQLError) -> BoundExpression {
        try call.expectCount(1...2)
        for i in call.arguments.indices { try call.requireCharacter(i) }
        let type = call.arguments[0].type
        let resultType = type.isNull ? SQLType.string.notNull : SQLType(.varchar(type.length ?? SQLType.maxLength), nullable: false)
        return call.function(resultType) { v throws(SQLError) in
            let s = v[0].string ?? ""
            let characters = Set(v.count == 2 ? (v[1].string ?? " ") : " ")
            return .string(leading ? String(s.drop { characters.contains($0) }) : String(s.reversed().drop { characters.contains($0) }.reversed()))
        }
    }

    /// LEFT and RIGHT: `take(s, n)` for n ≥ 0.
    private static func affix(_ call: ScalarCall, _ take: @escaping @Sendable (String, Int) -> String) throws(SQLError) -> BoundExpression {
        try call.expectCount(2...2)
        try call.requireCharacter(0)
        return call.function(SQLType(.varchar(call.arguments[0].type.length ?? SQLType.maxLength))) { v throws(SQLError) in
            .string(take(v[0].string ?? "", max(0, Int(v[1].int ?? 0))))
        }
    }

    /// The 1-based position of the argument `needle` in the argument `haystack` from an optional third argument, 0
    /// when it is not there.
    private static func position(_ call: ScalarCall, needle needleIndex: Int, haystack haystackIndex: Int) throws(SQLError) -> BoundExpression {
        try call.expectCount(2...3)
        return call.function(SQLType(.integer, nullable: false)) { v throws(SQLError) in
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
    }

    /// LPAD and RPAD: cut to `length`, or filled to it by repeating the pad; NULL for a negative length or an empty pad.
    private static func pad(_ call: ScalarCall, left: Bool) throws(SQLError) -> BoundExpression {
        try call.expectCount(3...3)
        try call.requireCharacter(0)
        try call.requireInteger(1)
        try call.requireCharacter(2)
        return call.function(SQLType.string.notNull) { v throws(SQLError) in
            let s = Array(v[0].string ?? "")
            let length = Int(v[1].int ?? 0)
            let pad = Array(v[2].string ?? "")
            guard length >= 0 else { return .null }
            if s.count >= length { return .string(String(s.prefix(length))) }
            guard !pad.isEmpty else { return .null }
            var filler: [Character] = []
            while filler.count < length - s.count { filler.append(pad[filler.count % pad.count]) }
            return .string(String(left ? filler + s : s + filler))
        }
    }

    /// `OVERLAY(s PLACING r FROM pos [FOR len])` (or `OVERLAY(s, r, pos[, len])`): `s` with the `len` characters
    /// from `pos` (by default as many as `r` has) replaced by `r`. As Flink, the parts of `s` before and after are
    /// substrings clamped to `s`: a position past the end appends `r`, a position before the start replaces from the
    /// start, a length past the end replaces the rest. The result is a VARCHAR as long as `s` and `r` together.
    private static func overlay(_ call: ScalarCall) throws(SQLError) -> BoundExpression {
        try call.expectCount(3...4)
        try call.requireCharacter(0)
        try call.requireCharacter(1)
        for i in 2..<call.arguments.count { try call.requireInteger(i) }
        let lengths = call.arguments.prefix(2).map { $0.type.length ?? SQLType.maxLength }
        let length = min(SQLType.maxLength, lengths[0] + lengths[1])
        return call.function(SQLType(.varchar(length), nullable: false)) { v throws(SQLError) in
            let s = Array(v[0].string ?? "")
            let replacement = v[1].string ?? ""
            let start = Int128(v[2].int ?? 1) - 1
            let replaced = Int128(v.count == 4 ? (v[3].int ?? 0) : Int64(replacement.count))
            func clamped(_ offset: Int128) -> Int { Int(min(max(offset, 0), Int128(s.count))) }
            let head = clamped(start)
            let tail = clamped(start + replaced)
            return .string(String(s[..<head]) + replacement + String(s[tail...]))
        }
    }

    /// REGEXP, REGEXP_REPLACE, REGEXP_EXTRACT: `match` over the text with the compiled pattern; NULL for a pattern
    /// that does not compile.
    private static func regex(
        _ call: ScalarCall, arity: ClosedRange<Int>, type: SQLType,
        _ match: @escaping @Sendable (SQLRegex, String, [Value]) -> Value
    ) throws(SQLError) -> BoundExpression {
        try call.expectCount(arity, "<CHARACTER>, <CHARACTER>, ...")
        for i in 0..<2 { try call.requireCharacter(i, "<CHARACTER>, <CHARACTER>, ...") }
        // A constant pattern (the usual case) is compiled once, not once per row.
        let constantPattern = call.arguments[1].constant?.string.map(SQLRegex.init)
        return call.function(type) { v throws(SQLError) in
            let pattern = constantPattern ?? SQLRegex(v[1].string ?? "")
            guard pattern.compiles else { return .null }
            return match(pattern, v[0].string ?? "", v)
        }
    }

    /// IS_ALPHA, IS_DIGIT, IS_DECIMAL: FALSE for NULL and the empty string.
    private static func characterTest(_ call: ScalarCall, _ test: @escaping @Sendable (String) -> Bool) throws(SQLError) -> BoundExpression {
        try call.expectCount(1...1)
        return call.function(SQLType(.boolean, nullable: false), strict: false) { v throws(SQLError) in
            guard let s = v[0].string, !s.isEmpty else { return .bool(false) }
            return .bool(test(s))
        }
    }

    // MARK: Implementations

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
