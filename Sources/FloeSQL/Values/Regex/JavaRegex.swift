// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `java.util.regex.Pattern` (default flags) compiled to run over UTF-8 bytes.
///
/// Flink's REGEXP, REGEXP_EXTRACT and REGEXP_REPLACE use `java.util.regex`; Foundation's `NSRegularExpression` is
/// ICU, which differs from Java in corners (`$` before a final line terminator, `\w`/`\d` being Unicode, `[]a]`) and
/// bridges every row to UTF-16. This engine reads the strings' own bytes and returns byte ranges.
///
/// Matching is a backtracker that records each (instruction, position) it has explored and never explores it twice
/// (RE2's "bit state"): it keeps Java's leftmost-first priorities and capture results, and takes time linear in
/// instructions × text length whatever the pattern — `(a*)*b` against a run of `a`s cannot stall a server. The
/// visited bits cost memory of that size, so texts past `maxVisitedBits` are reported as `.tooLarge` and left to the
/// caller's other engine.
struct JavaRegex: Sendable {
    let program: CompiledJavaRegex

    /// The number of capturing groups (`Matcher.groupCount()`).
    var groupCount: Int { program.groupCount }

    /// Instruction × position pairs one search may track (8 MiB of bits).
    static let maxVisitedBits = 1 << 26

    /// Compiles `pattern`; throws `.invalid` where `Pattern.compile` throws, `.unsupported` for constructs not
    /// implemented here.
    init(_ pattern: String) throws(Failure) {
        do {
            program = CompiledJavaRegex(try JavaRegexProgram(JavaRegexSyntax.parse(pattern)))
        } catch {
            switch error {
            case .invalid(let message): throw .invalid(message)
            case .unsupported(let what): throw .unsupported(what)
            }
        }
    }

    enum Failure: Error, Equatable {
        case invalid(String)
        case unsupported(String)
    }

    /// The outcome of one search.
    enum Search: Equatable {
        /// The registers of the first match: `[start0, end0, start1, end1, …]` as byte offsets, -1 for a group that
        /// did not participate.
        case match([Int])
        case noMatch
        /// The text is too long for this engine's memory bound.
        case tooLarge
    }

    /// `Matcher.find()` from byte offset `from` (a code point boundary) in `text`.
    func firstMatch(in text: UnsafeBufferPointer<UInt8>, from: Int = 0) -> Search {
        let found = Matcher.withMatcher(program: program, text: text) { matcher -> Search in
            guard matcher.find(from: from) else { return .noMatch }
            return .match(Array(UnsafeBufferPointer(start: matcher.registers, count: 2 * (groupCount + 1))))
        }
        return found ?? .tooLarge
    }

    /// `Pattern.compile(p).matcher(s).find()`.
    func matches(_ string: String) -> Bool? {
        var string = string
        return string.withUTF8 { text in
            Matcher.withMatcher(program: program, text: text) { $0.find(from: 0) }
        }
    }

    /// Flink's REGEXP_EXTRACT: group `group` of the first match; `.some(nil)` when there is no match, no such group,
    /// or the group did not participate; nil when the text is too large for this engine.
    func extract(_ string: String, group: Int) -> String?? {
        var string = string
        return string.withUTF8 { text -> String?? in
            Matcher.withMatcher(program: program, text: text) { matcher -> String? in
                guard matcher.find(from: 0), group >= 0, group <= groupCount else { return nil }
                let start = matcher.registers[2 * group]
                let end = matcher.registers[2 * group + 1]
                guard start >= 0, end >= start else { return nil }
                return String(decoding: UnsafeBufferPointer(rebasing: text[start..<end]), as: UTF8.self)
            }
        }
    }

    /// Flink's REGEXP_REPLACE: `str.replaceAll(re, Matcher.quoteReplacement(replacement))`, every match replaced by
    /// the replacement taken literally. After an empty match the next search starts one code point further on, as
    /// `Matcher.find` does (Java steps one UTF-16 unit, which differs only inside a surrogate pair). Nil when the
    /// text is too large for this engine.
    func replaceAll(_ original: String, with replacement: String) -> String? {
        var string = original
        return string.withUTF8 { text -> String? in
            Matcher.withMatcher(program: program, text: text) { matcher -> String in
                var out: [UInt8] = []
                var copied = 0
                var from = 0
                var replaced = false
                while from <= text.count, matcher.find(from: from) {
                    if !replaced {
                        out.reserveCapacity(text.count + replacement.utf8.count)
                        replaced = true
                    }
                    let start = matcher.registers[0]
                    let end = matcher.registers[1]
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied..<start]))
                    out.append(contentsOf: replacement.utf8)
                    copied = end
                    from = end == start ? end + Matcher.sequenceLength(text, at: end) : end
                }
                guard replaced else { return original }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied...]))
                return String(decoding: out, as: UTF8.self)
            }
        }
    }
}

/// One text's search state: the visited bits (shared by every `find` over the same text), the registers and the
/// backtracking stack, all in one scratch allocation made by `withMatcher` (on the stack when small): a row's search
/// allocates nothing else.
struct Matcher {
    /// A state to explore, or (negative `pc`) a register to restore on backtracking.
    typealias Job = (pc: Int32, position: Int)

    /// Kept alive by the `JavaRegex` whose method made this matcher; not retained per search.
    unowned(unsafe) let program: CompiledJavaRegex
    let text: UnsafeBufferPointer<UInt8>
    private let visited: UnsafeMutablePointer<UInt64>
    /// The registers; valid after `find` returns `true`.
    let registers: UnsafeMutablePointer<Int>
    private let stack: UnsafeMutablePointer<Job>
    private let stackCapacity: Int
    private var stackCount = 0
    /// Jobs beyond `stackCapacity`, the top of the stack, on the heap (rare: deep backtracking over long texts).
    private var spill: [Job] = []
    private var lastEnd = -1
    /// log2 of the visited bits per (instruction, position): one per level of loops with nullable bodies, whose
    /// "this iteration started here" facts are part of the state.
    private let keyShift: Int
    private let width: Int

    /// Runs `body` with a matcher over `text`; nil when the visited bits would pass `JavaRegex.maxVisitedBits`.
    static func withMatcher<R>(program: CompiledJavaRegex, text: UnsafeBufferPointer<UInt8>, _ body: (inout Matcher) -> R) -> R? {
        let keyShift = program.guardDepth
        let width = program.code.count << keyShift
        let columns = text.count + 1
        let (bits, overflow) = width.multipliedReportingOverflow(by: columns)
        guard !overflow, bits <= JavaRegex.maxVisitedBits else { return nil }
        let visitedWords = (bits + 63) / 64
        let stackCapacity = min(bits + 1, 1024)
        let words = visitedWords + program.registerCount + 2 * stackCapacity
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { scratch in
            let base = scratch.baseAddress!
            base.initialize(repeating: 0, count: visitedWords)
            let registers = UnsafeMutableRawPointer(base + visitedWords).bindMemory(to: Int.self, capacity: program.registerCount)
            let stack = UnsafeMutableRawPointer(base + visitedWords + program.registerCount).bindMemory(to: Job.self, capacity: stackCapacity)
            var matcher = Matcher(
                program: program, text: text, visited: base, registers: registers, stack: stack, stackCapacity: stackCapacity,
                keyShift: keyShift, width: width)
            return body(&matcher)
        }
    }

    private init(
        program: CompiledJavaRegex, text: UnsafeBufferPointer<UInt8>, visited: UnsafeMutablePointer<UInt64>,
        registers: UnsafeMutablePointer<Int>, stack: UnsafeMutablePointer<Job>, stackCapacity: Int, keyShift: Int, width: Int
    ) {
        self.program = program
        self.text = text
        self.visited = visited
        self.registers = registers
        self.stack = stack
        self.stackCapacity = stackCapacity
        self.keyShift = keyShift
        self.width = width
    }

    @inline(__always)
    private mutating func push(_ job: Job) {
        if stackCount < stackCapacity {
            stack[stackCount] = job
            stackCount += 1
        } else {
            spill.append(job)
        }
    }

    @inline(__always)
    private mutating func pop() -> Job? {
        if !spill.isEmpty { return spill.removeLast() }
        guard stackCount > 0 else { return nil }
        stackCount -= 1
        return stack[stackCount]
    }

    /// The number of bytes of the UTF-8 sequence starting at `position` (1 at the end, so loops always advance).
    @inline(__always)
    static func sequenceLength(_ text: UnsafeBufferPointer<UInt8>, at position: Int) -> Int {
        guard position < text.count else { return 1 }
        let b = text[position]
        return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
    }

    /// `find()` from `from`; the match's registers are in `registers` when it returns true. The visited bits of
    /// earlier finds stay valid: a state explored and failed fails again, and the states on a previous match's path
    /// all lie at or before its end, whose column is cleared.
    mutating func find(from: Int) -> Bool {
        if from > text.count { return false }
        if program.anchoredAtStart, from > 0 { return false }
        var start = from
        if !program.requiredLiteral.isEmpty {
            guard let at = Matcher.firstIndex(of: UnsafeBufferPointer(program.requiredLiteral), in: text, from: from) else { return false }
            if let before = program.maxBytesBeforeLiteral, at - before > start {
                // Back up to a code point boundary: the bound is in bytes, a match starts on a boundary.
                start = at - before
                while start > from, start < text.count, text[start] & 0xC0 == 0x80 { start -= 1 }
            }
        }
        if lastEnd >= 0 {
            for bit in (lastEnd * width)..<(lastEnd * width + width) { visited[bit >> 6] &= ~(1 << UInt64(bit & 63)) }
        }
        let last = program.anchoredAtStart ? 0 : text.count
        while start <= last {
            if let firstBytes = program.firstBytes {
                // A match consumes a first byte from the set: skip to the next position with one.
                while start < text.count, !firstBytes.contains(text[start]) { start += 1 }
                if start >= text.count { break }
            }
            if run(at: start) {
                lastEnd = registers[1]
                return true
            }
            start += Matcher.sequenceLength(text, at: start)
        }
        return false
    }

    /// Where `needle` (not empty) first occurs in `text` at or after `from`: memchr for its first byte, memcmp for the
    /// rest.
    static func firstIndex(of needle: UnsafeBufferPointer<UInt8>, in text: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        let n = needle.count
        guard text.count - from >= n, let base = text.baseAddress, let wanted = needle.baseAddress else { return nil }
        var i = from
        let lastStart = text.count - n
        while i <= lastStart {
            guard let hit = memchr(base + i, Int32(wanted[0]), lastStart - i + 1) else { return nil }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, wanted, n) == 0 { return at }
            i = at + 1
        }
        return nil
    }

    /// The depth-first search from `start`, highest-priority branch first; the first `match` reached wins.
    private mutating func run(at start: Int) -> Bool {
        let width = program.code.count
        let shift = keyShift
        let visited = visited
        let registers = registers
        registers.update(repeating: -1, count: program.registerCount)
        stackCount = 0
        spill.removeAll(keepingCapacity: true)
        push((0, start))
        let sets = program.sets
        let code = program.code
        do {
            while let job = pop() {
                if job.pc < 0 {
                    // Undo a register write on backtracking.
                    registers[Int(-job.pc - 1)] = job.position
                    continue
                }
                var pc = Int(job.pc)
                var position = job.position
                while true {
                    var bit = position * width + pc
                    if shift != 0 {
                        let instruction = code[pc]
                        bit <<= shift
                        let guards = program.guardRegisters.baseAddress! + Int(instruction.guardStart)
                        for level in 0..<Int(instruction.guardCount) where registers[Int(guards[level])] == position {
                            bit |= 1 << level
                        }
                    }
                    let word = visited[bit >> 6]
                    let mask = UInt64(1) << UInt64(bit & 63)
                    if word & mask != 0 { break }
                    visited[bit >> 6] = word | mask
                    let instruction = code[pc]
                    switch instruction.opcode {
                    case .byte:
                        guard position < text.count, text[position] == UInt8(truncatingIfNeeded: instruction.a) else { break }
                        position += 1
                        pc += 1
                        continue
                    case .set:
                        guard position < text.count else { break }
                        let b = text[position]
                        if b < 0x80 {
                            guard sets[Int(instruction.a)].containsASCII(b) else { break }
                            position += 1
                        } else {
                            guard sets[Int(instruction.a)].hasNonASCII else { break }
                            let (scalar, length) = Matcher.decode(text, at: position)
                            guard sets[Int(instruction.a)].contains(scalar) else { break }
                            position += length
                        }
                        pc += 1
                        continue
                    case .split:
                        push((instruction.b, position))
                        pc = Int(instruction.a)
                        continue
                    case .jump:
                        pc = Int(instruction.a)
                        continue
                    case .save:
                        let register = Int(instruction.a)
                        push((Int32(-register - 1), registers[register]))
                        registers[register] = position
                        pc += 1
                        continue
                    case .progress:
                        pc = Int(position > registers[Int(instruction.a)] ? instruction.b : instruction.c)
                        continue
                    case .assert:
                        guard holds(JavaRegexProgram.assertionCodes[Int(instruction.a)], at: position) else { break }
                        pc += 1
                        continue
                    case .match:
                        return true
                    }
                    break
                }
            }
            return false
        }
    }

    /// The code point at `position` (a lead byte of a valid sequence) and its length.
    @inline(__always)
    static func decode(_ text: UnsafeBufferPointer<UInt8>, at position: Int) -> (UInt32, Int) {
        let b0 = UInt32(text[position])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(text[position + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(text[position + 1] & 0x3F) << 6 | UInt32(text[position + 2] & 0x3F), 3)
        }
        return (
            (b0 & 0x07) << 18 | UInt32(text[position + 1] & 0x3F) << 12 | UInt32(text[position + 2] & 0x3F) << 6
                | UInt32(text[position + 3] & 0x3F), 4
        )
    }

    /// The code point ending just before `position`.
    static func decodeBefore(_ text: UnsafeBufferPointer<UInt8>, _ position: Int) -> UInt32 {
        var start = position - 1
        while start > 0, text[start] & 0xC0 == 0x80 { start -= 1 }
        return decode(text, at: start).0
    }

    /// Whether `position` is right after a line terminator (`\r\n` counting as one).
    private func isAfterTerminator(_ position: Int) -> Bool {
        guard position > 0 else { return false }
        let c = Matcher.decodeBefore(text, position)
        guard Matcher.isTerminator(c) else { return false }
        if c == 13, position < text.count, text[position] == 10 { return false }
        return true
    }

    static func isTerminator(_ c: UInt32) -> Bool { c == 10 || c == 13 || c == 0x85 || c == 0x2028 || c == 0x2029 }

    private func holds(_ assertion: JavaRegexSyntax.Assertion, at position: Int) -> Bool {
        switch assertion {
        case .textStart:
            return position == 0
        case .textEnd:
            return position == text.count
        case .lineStart:
            // Java's MULTILINE `^`: never at the very end (even of an empty text), else at 0 or after a terminator.
            guard position < text.count else { return false }
            return position == 0 || isAfterTerminator(position)
        case .lineEnd:
            guard position < text.count else { return true }
            let (c, _) = Matcher.decode(text, at: position)
            guard Matcher.isTerminator(c) else { return false }
            // Not between the \r and \n of one terminator.
            return !(c == 10 && position > 0 && text[position - 1] == 13)
        case .textEndOrFinalTerminator:
            let rest = text.count - position
            if rest == 0 { return true }
            if rest == 2, text[position] == 13, text[position + 1] == 10 { return true }
            let (c, length) = Matcher.decode(text, at: position)
            guard length == rest, Matcher.isTerminator(c) else { return false }
            return !(c == 10 && position > 0 && text[position - 1] == 13)
        case .wordBoundary:
            return isWordBefore(position) != isWordAt(position)
        case .notWordBoundary:
            return isWordBefore(position) == isWordAt(position)
        }
    }

    /// Java's `\b` word characters: `Character.isLetterOrDigit` or `_` (Unicode even without UNICODE_CHARACTER_CLASS),
    /// and a non-spacing mark counts as its base character.
    private static func isWord(_ c: UInt32) -> Bool {
        if c < 0x80 { return CodePointSet.word.containsASCII(UInt8(c)) }
        guard let scalar = Unicode.Scalar(c) else { return false }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber: return true
        default: return false
        }
    }

    private static func isNonSpacingMark(_ c: UInt32) -> Bool {
        c >= 0x300 && Unicode.Scalar(c)?.properties.generalCategory == .nonspacingMark
    }

    /// Whether the code point at `end - 1…` is a word character, marks taking their base's wordness.
    private func isWordBefore(_ position: Int) -> Bool {
        var p = position
        while p > 0 {
            let c = Matcher.decodeBefore(text, p)
            if !Matcher.isNonSpacingMark(c) { return Matcher.isWord(c) }
            p -= 1
            while p > 0, text[p] & 0xC0 == 0x80 { p -= 1 }
        }
        return false
    }

    private func isWordAt(_ position: Int) -> Bool {
        guard position < text.count else { return false }
        let (c, _) = Matcher.decode(text, at: position)
        if Matcher.isNonSpacingMark(c) { return isWordBefore(position) }
        return Matcher.isWord(c)
    }
}
