// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The parsed form of a `java.util.regex.Pattern` and the parser that makes it.
///
/// Flink evaluates REGEXP, REGEXP_EXTRACT and REGEXP_REPLACE with `java.util.regex`, so what a pattern means, and
/// which patterns are errors, follow `Pattern.compile` with default flags: ASCII-only case folding, ASCII `\d \w \s`,
/// `.` excluding the five line terminators, `$` also before a final line terminator. Constructs this engine does not
/// run (back-references, look-around, possessive and atomic groups, the flags that change the character model) are
/// reported as `.unsupported`, never guessed at: callers then use another engine rather than a wrong answer.
enum JavaRegexSyntax {
    /// Why a pattern has no compiled form here.
    enum Failure: Error, Equatable {
        /// `Pattern.compile` throws `PatternSyntaxException` for this pattern.
        case invalid(String)
        /// Valid Java, but uses a construct this engine does not implement.
        case unsupported(String)
    }

    /// One node of the pattern's tree.
    indirect enum Node: Equatable {
        case empty
        /// One code point, compared exactly.
        case literal(UInt32)
        /// A set of code points (a class, a case-folded letter, `.`).
        case set(CodePointSet)
        case concat([Node])
        /// Alternatives in priority order.
        case alternation([Node])
        /// A capturing group (`index` from 1) or a non-capturing one (nil).
        case group(Node, index: Int?)
        /// `max` nil for unbounded.
        case repetition(Node, min: Int, max: Int?, greedy: Bool)
        case assertion(Assertion)
    }

    /// Zero-width tests.
    enum Assertion: Equatable {
        /// `^` without MULTILINE, `\A`.
        case textStart
        /// `^` with MULTILINE.
        case lineStart
        /// `$` without MULTILINE, `\Z`: the end, or before a line terminator that ends the input.
        case textEndOrFinalTerminator
        /// `$` with MULTILINE.
        case lineEnd
        /// `\z`.
        case textEnd
        case wordBoundary
        case notWordBoundary
    }

    struct Flags: Equatable {
        var caseInsensitive = false
        var multiline = false
        var dotAll = false
    }

    /// The parsed pattern.
    struct Pattern: Equatable {
        var root: Node
        var groupCount: Int
        var groupNames: [String: Int]
    }

    /// The largest `{n,m}` bound expanded into a program; a larger one is left to the other engine.
    static let maxCountedRepetition = 1000

    /// How deeply groups and character classes may nest here: the parser and the compiler recurse once per level, and
    /// a pattern is user input (a 128 KiB statement could nest 60,000 levels and overflow the stack). Deeper patterns
    /// are left to the other engine, which refuses nesting past its own limit (ICU's is below 1,000).
    static let maxNesting = 200

    static func parse(_ pattern: String) throws(Failure) -> Pattern {
        var parser = Parser(Array(pattern.unicodeScalars.map(\.value)))
        return try parser.parsePattern()
    }

    private struct Parser {
        var input: [UInt32]
        var cursor = 0
        var flags = Flags()
        var groupCount = 0
        var groupNames: [String: Int] = [:]
        /// Groups and classes open at the cursor (``JavaRegexSyntax/maxNesting``).
        var depth = 0

        init(_ scalars: [UInt32]) { input = Parser.removingQuoting(scalars) }

        /// `\Q…\E` made into escaped characters before parsing, as `Pattern` does (`RemoveQEQuoting`): a quoted
        /// letter or digit stays itself, anything else becomes `\`-escaped, which is a literal.
        static func removingQuoting(_ scalars: [UInt32]) -> [UInt32] {
            guard scalars.count >= 2, zip(scalars, scalars.dropFirst()).contains(where: { $0 == 92 && $1 == 81 }) else { return scalars }
            var out: [UInt32] = []
            var i = 0
            while i < scalars.count {
                let c = scalars[i]
                if c == 92, i + 1 < scalars.count {
                    if scalars[i + 1] == 81 {  // \Q
                        i += 2
                        while i < scalars.count {
                            if scalars[i] == 92, i + 1 < scalars.count, scalars[i + 1] == 69 {  // \E
                                i += 2
                                break
                            }
                            let q = scalars[i]
                            if !Parser.isASCIIAlphanumeric(q) { out.append(92) }
                            out.append(q)
                            i += 1
                        }
                        continue
                    }
                    out.append(c)
                    out.append(scalars[i + 1])
                    i += 2
                    continue
                }
                out.append(c)
                i += 1
            }
            return out
        }

        static func isASCIIAlphanumeric(_ c: UInt32) -> Bool { (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) }
        static func isASCIIDigit(_ c: UInt32?) -> Bool { c.map { (48...57).contains($0) } ?? false }
        static func hexValue(_ c: UInt32?) -> UInt32? {
            guard let c else { return nil }
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }

        var peek: UInt32? { cursor < input.count ? input[cursor] : nil }
        func peek(_ ahead: Int) -> UInt32? { cursor + ahead < input.count ? input[cursor + ahead] : nil }
        mutating func next() -> UInt32? {
            guard cursor < input.count else { return nil }
            defer { cursor += 1 }
            return input[cursor]
        }
        func invalid(_ message: String) -> Failure { .invalid("\(message) near index \(cursor)") }

        mutating func parsePattern() throws(Failure) -> Pattern {
            let root = try parseAlternation()
            if cursor < input.count {
                // Only an unmatched `)` stops the top level early.
                throw invalid("Unmatched closing ')'")
            }
            return Pattern(root: root, groupCount: groupCount, groupNames: groupNames)
        }

        mutating func parseAlternation() throws(Failure) -> Node {
            var branches = [try parseSequence()]
            while peek == 124 {  // |
                cursor += 1
                branches.append(try parseSequence())
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func parseSequence() throws(Failure) -> Node {
            var items: [Node] = []
            while let c = peek, c != 124, c != 41 {  // | )
                var atom: Node
                switch c {
                case 40:  // (
                    guard let group = try parseGroup() else { continue }
                    atom = group
                case 91:  // [
                    cursor += 1
                    atom = .set(try parseClass(consume: true))
                case 92:  // \
                    atom = try parseEscapeAtom()
                case 94:  // ^
                    cursor += 1
                    atom = .assertion(flags.multiline ? .lineStart : .textStart)
                case 36:  // $
                    cursor += 1
                    atom = .assertion(flags.multiline ? .lineEnd : .textEndOrFinalTerminator)
                case 46:  // .
                    cursor += 1
                    atom = .set(flags.dotAll ? .all : .dot)
                case 42, 43, 63:  // * + ?
                    cursor += 1
                    throw invalid("Dangling meta character '\(Character(Unicode.Scalar(c)!))'")
                case 123:  // {: Java quantifies an empty atom here (`{2}a` compiles), or rejects the brace.
                    atom = .empty
                default:
                    cursor += 1
                    atom = literal(c)
                }
                items.append(try parseQuantifiers(atom))
            }
            return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .concat(items))
        }

        /// A literal code point under the current flags: ASCII letters fold without UNICODE_CASE, nothing else does.
        func literal(_ c: UInt32) -> Node {
            if flags.caseInsensitive, let folded = CodePointSet.asciiCaseVariants(c) { return .set(folded) }
            return .literal(c)
        }

        mutating func parseQuantifiers(_ atom: Node) throws(Failure) -> Node {
            guard let c = peek else { return atom }
            var min = 0
            var max: Int?
            switch c {
            case 42:
                min = 0
                max = nil
            case 43:
                min = 1
                max = nil
            case 63:
                min = 0
                max = 1
            case 123:
                guard Parser.isASCIIDigit(peek(1)) else {
                    cursor += 1
                    throw invalid("Illegal repetition")
                }
                cursor += 1
                var low = 0
                while Parser.isASCIIDigit(peek) {
                    low = low * 10 + Int(next()! - 48)
                    if low > Int(Int32.max) { throw invalid("Illegal repetition range") }
                }
                var high: Int? = low
                if peek == 44 {  // ,
                    cursor += 1
                    if peek == 125 {
                        high = nil
                    } else {
                        var h = 0
                        while Parser.isASCIIDigit(peek) {
                            h = h * 10 + Int(next()! - 48)
                            if h > Int(Int32.max) { throw invalid("Illegal repetition range") }
                        }
                        high = h
                    }
                }
                guard peek == 125 else { throw invalid("Unclosed counted closure") }
                if let high, high < low { throw invalid("Illegal repetition range") }
                min = low
                max = high
                guard low <= JavaRegexSyntax.maxCountedRepetition, (high ?? 0) <= JavaRegexSyntax.maxCountedRepetition else {
                    throw .unsupported("a counted repetition above \(JavaRegexSyntax.maxCountedRepetition)")
                }
            default:
                return atom
            }
            cursor += 1
            var greedy = true
            if peek == 63 {
                greedy = false
                cursor += 1
            } else if peek == 43 {
                throw .unsupported("possessive quantifiers")
            }
            return .repetition(atom, min: min, max: max, greedy: greedy)
        }

        /// `(`…`)` in its forms; nil for a flags-only group such as `(?i)`, which changes the flags of what follows.
        mutating func parseGroup() throws(Failure) -> Node? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= JavaRegexSyntax.maxNesting else { throw .unsupported("nesting deeper than \(JavaRegexSyntax.maxNesting) levels") }
            cursor += 1
            let saved = flags
            var index: Int?
            if peek == 63 {  // ?
                cursor += 1
                switch next() {
                case 58:  // (?:
                    break
                case 61, 33:  // (?= (?!
                    throw .unsupported("lookahead")
                case 62:  // (?>
                    throw .unsupported("atomic groups")
                case 60:  // (?<
                    if peek == 61 || peek == 33 { throw .unsupported("lookbehind") }
                    let name = try parseGroupName()
                    if groupNames[name] != nil { throw invalid("Named capturing group <\(name)> is already defined") }
                    groupCount += 1
                    index = groupCount
                    groupNames[name] = groupCount
                case let c?:
                    cursor -= 1
                    _ = c
                    try parseFlags()
                    switch next() {
                    case 41:  // ) : flags for the rest of the enclosing group
                        return nil
                    case 58:  // : a non-capturing group with these flags
                        break
                    default:
                        throw invalid("Unknown inline modifier")
                    }
                case nil:
                    throw invalid("Unknown inline modifier")
                }
            } else {
                groupCount += 1
                index = groupCount
            }
            let body = try parseAlternation()
            guard next() == 41 else { throw invalid("Unclosed group") }
            // Java restores the flags when a group closes: `(a(?i)b)c` is case-sensitive again at `c`.
            flags = saved
            return .group(body, index: index)
        }

        mutating func parseGroupName() throws(Failure) -> String {
            var name = ""
            guard let first = peek, (65...90).contains(first) || (97...122).contains(first) else {
                throw invalid("capturing group name does not start with a Latin letter")
            }
            while let c = peek, Parser.isASCIIAlphanumeric(c) {
                name.unicodeScalars.append(Unicode.Scalar(c)!)
                cursor += 1
            }
            guard next() == 62 else { throw invalid("named capturing group is missing trailing '>'") }
            return name
        }

        /// The letters of `(?idmsux-idmsux)`; the ones that change the character model are not implemented.
        mutating func parseFlags() throws(Failure) {
            var on = true
            while let c = peek {
                switch c {
                case 105: flags.caseInsensitive = on
                case 109: flags.multiline = on
                case 115: flags.dotAll = on
                case 100, 117, 120, 85, 99: throw .unsupported("the inline flag '\(Character(Unicode.Scalar(c)!))'")
                case 45: on = false
                default: return
                }
                cursor += 1
            }
        }

        // MARK: Escapes

        /// What an escape outside a class is: an assertion, a set, or a literal.
        mutating func parseEscapeAtom() throws(Failure) -> Node {
            cursor += 1
            guard let c = peek else { throw invalid("Unexpected internal error") }
            switch c {
            case 49...57: throw .unsupported("back-references")
            case 65:
                cursor += 1
                return .assertion(.textStart)  // \A
            case 90:
                cursor += 1
                return .assertion(.textEndOrFinalTerminator)  // \Z
            case 122:
                cursor += 1
                return .assertion(.textEnd)  // \z
            case 98:  // \b
                cursor += 1
                // `\\b{g}` is a grapheme boundary; any other `{` after `\\b` quantifies it (`\\b{2}`).
                if peek == 123, peek(1) == 103 { throw .unsupported("\\b{g}") }
                return .assertion(.wordBoundary)
            case 66:
                cursor += 1
                return .assertion(.notWordBoundary)  // \B
            case 71: throw .unsupported("\\G")
            case 82: throw .unsupported("\\R")
            case 88: throw .unsupported("\\X")
            case 78: throw .unsupported("\\N{name}")
            case 107:  // \k
                cursor += 1
                guard next() == 60 else { throw invalid("\\k is not followed by '<' for named capturing group") }
                throw .unsupported("named back-references")
            default:
                switch try parseEscape(inClass: false) {
                case .codePoint(let cp): return literal(cp)
                case .set(let set): return .set(set)
                }
            }
        }

        enum Escaped {
            case codePoint(UInt32)
            case set(CodePointSet)
        }

        /// An escape that is a character or a set, after the `\`; `Pattern.escape` with `create` set.
        mutating func parseEscape(inClass: Bool) throws(Failure) -> Escaped {
            guard let c = next() else { throw invalid("Unexpected internal error") }
            switch c {
            case 48: return .codePoint(try parseOctal())  // \0
            case 97: return .codePoint(7)  // \a
            case 101: return .codePoint(27)  // \e
            case 102: return .codePoint(12)  // \f
            case 110: return .codePoint(10)  // \n
            case 114: return .codePoint(13)  // \r
            case 116: return .codePoint(9)  // \t
            case 99:  // \cX
                guard let x = next() else { throw invalid("Illegal control escape sequence") }
                return .codePoint(x ^ 64)
            case 120: return .codePoint(try parseHex())  // \x
            case 117: return .codePoint(try parseUnicodeEscape())  // \u
            case 100: return .set(.digit)
            case 68: return .set(CodePointSet.digit.inverted)
            case 119: return .set(.word)
            case 87: return .set(CodePointSet.word.inverted)
            case 115: return .set(.space)
            case 83: return .set(CodePointSet.space.inverted)
            case 104: return .set(.horizontalSpace)
            case 72: return .set(CodePointSet.horizontalSpace.inverted)
            case 118: return .set(.verticalSpace)
            case 86: return .set(CodePointSet.verticalSpace.inverted)
            case 112, 80: return .set(try parseProperty(negated: c == 80))
            case 78: throw .unsupported("\\N{name}")
            case 65...90, 97...122:
                // Every other letter is reserved; digits are back-references outside a class, errors inside one.
                throw invalid("Illegal/unsupported escape sequence")
            case 49...57:
                if inClass { throw invalid("Illegal/unsupported escape sequence") }
                throw .unsupported("back-references")
            default:
                return .codePoint(c)
            }
        }

        mutating func parseOctal() throws(Failure) -> UInt32 {
            func octal(_ c: UInt32?) -> UInt32? { c.flatMap { (48...55).contains($0) ? $0 - 48 : nil } }
            guard let n = octal(peek) else { throw invalid("Illegal octal escape sequence") }
            cursor += 1
            guard let m = octal(peek) else { return n }
            cursor += 1
            if let o = octal(peek), n <= 3 {
                cursor += 1
                return n * 64 + m * 8 + o
            }
            return n * 8 + m
        }

        mutating func parseHex() throws(Failure) -> UInt32 {
            if let n = Parser.hexValue(peek) {
                cursor += 1
                if let m = Parser.hexValue(peek) {
                    cursor += 1
                    return n * 16 + m
                }
                throw invalid("Illegal hexadecimal escape sequence")
            }
            if peek == 123, Parser.hexValue(peek(1)) != nil {
                cursor += 1
                var value: UInt32 = 0
                while let h = Parser.hexValue(peek) {
                    cursor += 1
                    value = value << 4 + h
                    if value > 0x10FFFF { throw invalid("Hexadecimal codepoint is too big") }
                }
                guard next() == 125 else { throw invalid("Unclosed hexadecimal escape sequence") }
                if (0xD800...0xDFFF).contains(value) { throw .unsupported("surrogate code points") }
                return value
            }
            throw invalid("Illegal hexadecimal escape sequence")
        }

        mutating func parseUnicodeEscape() throws(Failure) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let h = Parser.hexValue(peek) else { throw invalid("Illegal Unicode escape sequence") }
                cursor += 1
                value = value << 4 + h
            }
            // A surrogate escape (alone or as half of a pair) addresses UTF-16 code units, which UTF-8 text does not have.
            if (0xD800...0xDFFF).contains(value) { throw .unsupported("surrogate code points") }
            return value
        }

        /// `\p{Name}` / `\pL` / `\P…`: the ASCII POSIX classes; Unicode categories and scripts are not implemented.
        mutating func parseProperty(negated: Bool) throws(Failure) -> CodePointSet {
            var name = ""
            if peek == 123 {
                cursor += 1
                while let c = peek, c != 125 {
                    name.unicodeScalars.append(Unicode.Scalar(c) ?? "?")
                    cursor += 1
                }
                guard next() == 125 else { throw invalid("Unclosed character family") }
            } else {
                guard let c = next() else { throw invalid("Illegal character family") }
                name.unicodeScalars.append(Unicode.Scalar(c) ?? "?")
            }
            if name.isEmpty { throw invalid("Empty character family") }
            guard var set = CodePointSet.posix(name, caseInsensitive: flags.caseInsensitive) else {
                throw .unsupported("the property \\p{\(name)}")
            }
            if negated { set = set.inverted }
            return set
        }

        // MARK: Classes

        /// A `[…]` class after its `[`, as `Pattern.clazz`: `]` first is a literal, nested classes are unions, `&&`
        /// intersects with what follows, and a leading `^` negates the whole class. `consume` false leaves the final
        /// `]` for the enclosing class (the right side of `&&` written without brackets).
        mutating func parseClass(consume: Bool) throws(Failure) -> CodePointSet {
            depth += 1
            defer { depth -= 1 }
            guard depth <= JavaRegexSyntax.maxNesting else { throw .unsupported("nesting deeper than \(JavaRegexSyntax.maxNesting) levels") }
            var result: CodePointSet?
            var bits = CodePointSet.none
            var hasBits = false
            var negated = false
            if peek == 94, cursor > 0, input[cursor - 1] == 91 {
                cursor += 1
                negated = true
            }
            while true {
                guard let c = peek else { throw invalid("Unclosed character class") }
                switch c {
                case 91:  // [ nested
                    cursor += 1
                    let nested = try parseClass(consume: true)
                    result = result.map { $0.union(nested) } ?? nested
                    continue
                case 38 where peek(1) == 38:  // &&
                    cursor += 2
                    var right: CodePointSet?
                    while let d = peek, d != 93, d != 38 {
                        if d == 91 {
                            cursor += 1
                            let nested = try parseClass(consume: true)
                            right = right.map { $0.union(nested) } ?? nested
                        } else {
                            right = try parseClass(consume: false)
                        }
                    }
                    if peek == nil { throw invalid("Unclosed character class") }
                    if hasBits {
                        result = result.map { $0.union(bits) } ?? bits
                        bits = .none
                        hasBits = false
                    }
                    guard let left = result else {
                        guard let right else { throw invalid("Bad class syntax") }
                        result = right
                        continue
                    }
                    if let right { result = left.intersection(right) }
                    continue
                case 93 where result != nil || hasBits:  // ]
                    if consume { cursor += 1 }
                    var set = result.map { hasBits ? $0.union(bits) : $0 } ?? bits
                    if negated { set = set.inverted }
                    return set
                default:
                    break
                }
                let item = try parseClassItem()
                if item.isBits {
                    bits = bits.union(item.set)
                    hasBits = true
                } else {
                    result = result.map { $0.union(item.set) } ?? item.set
                }
            }
        }

        /// One member of a class: a character, a range, an escape or a property. `isBits` marks the single
        /// characters, which Java keeps apart and unites after intersections (`[a&&b]` intersects `a` with `b`).
        mutating func parseClassItem() throws(Failure) -> (set: CodePointSet, isBits: Bool) {
            var low: UInt32
            if peek == 92 {
                cursor += 1
                switch try parseEscape(inClass: true) {
                case .set(let set): return (set, false)
                case .codePoint(let cp): low = cp
                }
            } else {
                low = next()!
            }
            if peek == 45, let end = peek(1), end != 91, end != 93 {  // a-b
                cursor += 1
                var high: UInt32
                if peek == 92 {
                    cursor += 1
                    guard case .codePoint(let cp) = try parseEscape(inClass: true) else { throw invalid("Illegal character range") }
                    high = cp
                } else {
                    high = next()!
                }
                if high < low { throw invalid("Illegal character range") }
                var set = CodePointSet(ranges: [low...high])
                if flags.caseInsensitive { set = set.addingASCIICaseVariants() }
                return (set, false)
            }
            var set = CodePointSet(ranges: [low...low])
            if flags.caseInsensitive { set = set.addingASCIICaseVariants() }
            return (set, true)
        }
    }
}
