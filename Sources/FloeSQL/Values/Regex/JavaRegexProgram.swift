// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A parsed Java pattern compiled to instructions over UTF-8 bytes, plus what the matcher needs to skip work.
///
/// Literal code points become their UTF-8 bytes: the text is valid UTF-8 and the matcher only ever stands on code
/// point boundaries, so comparing the bytes is comparing the code point, with no decoding. Sets decode one code point.
struct JavaRegexProgram: Sendable {
    enum Opcode: UInt8, Sendable {
        /// Match byte `a`.
        case byte
        /// Match one code point in `sets[a]`.
        case set
        /// Continue at `a`; if that fails, at `b`.
        case split
        case jump
        /// Store the position in register `a` (restored when the path backtracks).
        case save
        /// If the position is past register `a` (the loop made progress), continue at `b`, else at `a2`.
        case progress
        /// Assertion number `a` (`JavaRegexSyntax.Assertion` by `assertionCodes`).
        case assert
        case match
    }

    struct Instruction: Sendable {
        var opcode: Opcode
        var a: Int32 = 0
        var b: Int32 = 0
        var c: Int32 = 0
        /// `guardRegisters[guardStart..<guardStart + guardCount]`: the registers of the loops with a nullable body
        /// that enclose this instruction. Whether such a loop's current iteration started at the current position
        /// decides where its progress check goes, so the matcher's visited state includes those facts.
        var guardStart: Int32 = 0
        var guardCount: Int32 = 0
    }

    var instructions: [Instruction] = []
    var sets: [CodePointSet] = []
    /// Registers: 2 per group (group 0 is the whole match), then one per loop whose body can match empty.
    var registerCount: Int
    var groupCount: Int
    var groupNames: [String: Int]
    /// Whether every match must start at position 0 (`^`/`\A` first, outside MULTILINE).
    var anchoredAtStart = false
    /// Bytes a non-empty match can start with, when the pattern cannot match empty; nil when any position may start one.
    var firstBytes: ByteSet?
    /// A byte string every match contains: a text without it has no match, found with a fast substring search.
    var requiredLiteral: [UInt8] = []
    /// When the required literal is an element run of the pattern's top-level sequence and what precedes it there
    /// matches at most this many bytes: a match starts no earlier than that many bytes before the literal's first
    /// occurrence, so the search skips straight there (q21's `(&|^)channel_id=` starts at most 1 byte before it).
    var maxBytesBeforeLiteral: Int?

    /// Registers of the enclosing loops with a nullable body, innermost last, while compiling.
    private var guards: [Int32] = []
    /// How many guards the deepest instruction has (the matcher keys its visited bits by that many facts too).
    var guardDepth = 0
    /// Loops with nullable bodies nested deeper than this are left to the other engine: each level doubles the
    /// visited bits.
    static let maxGuardDepth = 8
    /// The guard lists of all instructions, back to back (see `Instruction.guardStart`).
    var guardRegisters: [Int32] = []

    /// The largest program compiled; bigger ones (large counted repetitions of large groups) use the other engine.
    static let maxInstructions = 20_000

    /// Assertions as `assert` operands.
    static let assertionCodes: [JavaRegexSyntax.Assertion] = [
        .textStart, .lineStart, .textEndOrFinalTerminator, .lineEnd, .textEnd, .wordBoundary, .notWordBoundary,
    ]

    init(_ pattern: JavaRegexSyntax.Pattern) throws(JavaRegexSyntax.Failure) {
        groupCount = pattern.groupCount
        groupNames = pattern.groupNames
        registerCount = 2 * (pattern.groupCount + 1)
        emit(.init(opcode: .save, a: 0))
        try compile(pattern.root)
        emit(.init(opcode: .save, a: 1))
        emit(.init(opcode: .match))
        if instructions.count > JavaRegexProgram.maxInstructions { throw .unsupported("a pattern this large") }
        anchoredAtStart = JavaRegexProgram.startsAnchored(pattern.root)
        let first = JavaRegexProgram.first(pattern.root)
        firstBytes = first.nullable ? nil : first.bytes
        requiredLiteral = JavaRegexProgram.longestRequiredLiteral(pattern.root)
        maxBytesBeforeLiteral = JavaRegexProgram.maxBytesBefore(requiredLiteral, in: pattern.root)
    }

    private mutating func emit(_ instruction: Instruction) {
        var instruction = instruction
        // A progress check reads its own loop's register as well as being inside the enclosing ones.
        let enclosing = instruction.opcode == .progress ? guards + [instruction.a] : guards
        if !enclosing.isEmpty {
            instruction.guardStart = Int32(guardRegisters.count)
            instruction.guardCount = Int32(enclosing.count)
            guardRegisters += enclosing
        }
        guardDepth = max(guardDepth, enclosing.count)
        instructions.append(instruction)
    }

    /// Compiles `body` as the body of a loop guarded by `register` (or unguarded for -1).
    private mutating func compileBody(_ body: JavaRegexSyntax.Node, guardedBy register: Int32) throws(JavaRegexSyntax.Failure) {
        guard register >= 0 else { return try compile(body) }
        if guards.count == JavaRegexProgram.maxGuardDepth - 1 {
            throw .unsupported("loops with bodies that can match empty nested \(JavaRegexProgram.maxGuardDepth) deep")
        }
        guards.append(register)
        defer { guards.removeLast() }
        try compile(body)
    }

    private var next: Int32 { Int32(instructions.count) }

    private mutating func compile(_ node: JavaRegexSyntax.Node) throws(JavaRegexSyntax.Failure) {
        if instructions.count > JavaRegexProgram.maxInstructions { throw .unsupported("a pattern this large") }
        switch node {
        case .empty:
            break
        case .literal(let cp):
            for byte in String(Character(Unicode.Scalar(cp)!)).utf8 { emit(.init(opcode: .byte, a: Int32(byte))) }
        case .set(let set):
            if let index = sets.firstIndex(of: set) {
                emit(.init(opcode: .set, a: Int32(index)))
            } else {
                sets.append(set)
                emit(.init(opcode: .set, a: Int32(sets.count - 1)))
            }
        case .concat(let items):
            for item in items { try compile(item) }
        case .alternation(let branches):
            var jumpsToEnd: [Int] = []
            for (i, branch) in branches.enumerated() {
                if i < branches.count - 1 {
                    let split = instructions.count
                    emit(.init(opcode: .split, a: next + 1))
                    try compile(branch)
                    jumpsToEnd.append(instructions.count)
                    emit(.init(opcode: .jump))
                    instructions[split].b = next
                } else {
                    try compile(branch)
                }
            }
            for j in jumpsToEnd { instructions[j].a = next }
        case .group(let body, let index):
            if let index { emit(.init(opcode: .save, a: Int32(2 * index))) }
            try compile(body)
            if let index { emit(.init(opcode: .save, a: Int32(2 * index + 1))) }
        case .assertion(let assertion):
            emit(.init(opcode: .assert, a: Int32(JavaRegexProgram.assertionCodes.firstIndex(of: assertion)!)))
        case .repetition(.group(let inner, let index?), let min, let max, let greedy)
        where max != 1 && JavaRegexProgram.isFixedZeroWidth(inner):
            // Java runs a quantified group whose body always matches empty (`()*`, `(\b){0,2}`) as `GroupCurly`,
            // which records the group only for the required iterations: an optional iteration matches the body (its
            // inner groups included) but leaves the group itself as it was, unset when nothing was required.
            for _ in 0..<min { try compile(.group(inner, index: index)) }
            if (max ?? Int.max) > min {
                let split = instructions.count
                emit(.init(opcode: .split))
                try compile(inner)
                setSplit(split, body: Int32(split) + 1, exit: next, greedy: greedy)
            }
        case .repetition(let body, let min, let max, let greedy):
            for _ in 0..<min { try compile(body) }
            let guarded = JavaRegexProgram.first(body).nullable
            if let max {
                // (body(body(…)?)?)? : each optional copy may end the whole repetition.
                var splitsToEnd: [Int] = []
                var progressChecks: [Int] = []
                for _ in 0..<(max - min) {
                    splitsToEnd.append(instructions.count)
                    emit(.init(opcode: .split))
                    let register = guarded ? allocateRegister() : -1
                    if guarded { emit(.init(opcode: .save, a: register)) }
                    try compileBody(body, guardedBy: register)
                    if guarded {
                        progressChecks.append(instructions.count)
                        emit(.init(opcode: .progress, a: register))
                    }
                }
                for s in splitsToEnd { setSplit(s, body: Int32(s) + 1, exit: next, greedy: greedy) }
                for p in progressChecks {
                    instructions[p].b = Int32(p) + 1
                    instructions[p].c = next
                }
            } else {
                // L: split(B, exit); B: body; jump L. A body that can match empty stops looping after an empty
                // iteration, as Java's `Loop` does, so the loop cannot spin and captures follow Java's.
                let loop = instructions.count
                emit(.init(opcode: .split))
                let register = guarded ? allocateRegister() : -1
                if guarded { emit(.init(opcode: .save, a: register)) }
                try compileBody(body, guardedBy: register)
                if guarded {
                    emit(.init(opcode: .progress, a: register, b: Int32(loop), c: next + 1))
                } else {
                    emit(.init(opcode: .jump, a: Int32(loop)))
                }
                setSplit(loop, body: Int32(loop) + 1, exit: next, greedy: greedy)
            }
        }
    }

    /// Whether `node` always matches the empty string and nothing else, without alternatives or repetitions (what
    /// `Pattern` studies as deterministic with length 0).
    private static func isFixedZeroWidth(_ node: JavaRegexSyntax.Node) -> Bool {
        switch node {
        case .empty, .assertion: true
        case .concat(let items): items.allSatisfy(isFixedZeroWidth)
        case .group(let body, _): isFixedZeroWidth(body)
        default: false
        }
    }

    private mutating func allocateRegister() -> Int32 {
        registerCount += 1
        return Int32(registerCount - 1)
    }

    private mutating func setSplit(_ at: Int, body: Int32, exit: Int32, greedy: Bool) {
        instructions[at].a = greedy ? body : exit
        instructions[at].b = greedy ? exit : body
    }

    // MARK: Analysis for the fast paths

    /// Whether every match must begin at the start of the text.
    private static func startsAnchored(_ node: JavaRegexSyntax.Node) -> Bool {
        switch node {
        case .assertion(.textStart): true
        case .concat(let items): items.first.map(startsAnchored) ?? false
        case .group(let body, _): startsAnchored(body)
        case .alternation(let branches): branches.allSatisfy(startsAnchored)
        default: false
        }
    }

    /// The bytes a match's first consumed code point can start with, and whether the node can match empty.
    /// Assertions count as empty: the set is then a superset, which is all a filter needs.
    static func first(_ node: JavaRegexSyntax.Node) -> (bytes: ByteSet, nullable: Bool) {
        switch node {
        case .empty, .assertion:
            return (ByteSet(), true)
        case .literal(let cp):
            var bytes = ByteSet()
            bytes.insert(String(Character(Unicode.Scalar(cp)!)).utf8.first!)
            return (bytes, false)
        case .set(let set):
            var bytes = ByteSet()
            for b in UInt8(0)..<0x80 where set.containsASCII(b) { bytes.insert(b) }
            if set.hasNonASCII { for b in UInt8(0xC2)...0xF4 { bytes.insert(b) } }
            return (bytes, false)
        case .concat(let items):
            var bytes = ByteSet()
            for item in items {
                let f = first(item)
                bytes.formUnion(f.bytes)
                if !f.nullable { return (bytes, false) }
            }
            return (bytes, true)
        case .alternation(let branches):
            var bytes = ByteSet()
            var nullable = false
            for branch in branches {
                let f = first(branch)
                bytes.formUnion(f.bytes)
                nullable = nullable || f.nullable
            }
            return (bytes, nullable)
        case .group(let body, _):
            return first(body)
        case .repetition(let body, let min, _, _):
            let f = first(body)
            return (f.bytes, f.nullable || min == 0)
        }
    }

    /// The most bytes `node` can match; nil when unbounded.
    static func maxBytes(_ node: JavaRegexSyntax.Node) -> Int? {
        switch node {
        case .empty, .assertion: return 0
        case .literal(let cp): return String(Character(Unicode.Scalar(cp)!)).utf8.count
        case .set(let set): return set.hasNonASCII ? 4 : 1
        case .group(let body, _): return maxBytes(body)
        case .concat(let items):
            var total = 0
            for item in items {
                guard let n = maxBytes(item) else { return nil }
                total += n
            }
            return total
        case .alternation(let branches):
            var most = 0
            for branch in branches {
                guard let n = maxBytes(branch) else { return nil }
                most = max(most, n)
            }
            return most
        case .repetition(let body, _, let max, _):
            guard let max, let n = maxBytes(body) else { return nil }
            return n * max
        }
    }

    /// `maxBytesBeforeLiteral`: when `literal` is a run of literal elements of the top-level sequence, the most bytes
    /// the elements before the first such run can match.
    private static func maxBytesBefore(_ literal: [UInt8], in root: JavaRegexSyntax.Node) -> Int? {
        guard !literal.isEmpty else { return nil }
        if case .literal = root { return 0 }
        guard case .concat(let items) = root else { return nil }
        var index = 0
        while index < items.count {
            guard case .literal = items[index] else {
                index += 1
                continue
            }
            var run: [UInt8] = []
            var end = index
            while end < items.count, case .literal(let cp) = items[end] {
                run += String(Character(Unicode.Scalar(cp)!)).utf8
                end += 1
            }
            if run == literal { return maxBytes(.concat(Array(items[..<index]))) }
            index = end
        }
        return nil
    }

    /// The longest run of literal code points every match contains, as UTF-8; empty when there is none.
    private static func longestRequiredLiteral(_ node: JavaRegexSyntax.Node) -> [UInt8] {
        switch node {
        case .literal(let cp):
            return Array(String(Character(Unicode.Scalar(cp)!)).utf8)
        case .group(let body, _):
            return longestRequiredLiteral(body)
        case .repetition(let body, let min, _, _) where min > 0:
            return longestRequiredLiteral(body)
        case .concat(let items):
            var best: [UInt8] = []
            var run: [UInt8] = []
            for item in items {
                if case .literal(let cp) = item {
                    run += String(Character(Unicode.Scalar(cp)!)).utf8
                    if run.count > best.count { best = run }
                    continue
                }
                run = []
                // Zero-width items do not break a run's meaning, but keep it simple: a run is contiguous literals.
                let inner = longestRequiredLiteral(item)
                if inner.count > best.count { best = inner }
            }
            return best
        default:
            return []
        }
    }
}

/// 256 bits, one per byte value.
struct ByteSet: Equatable, Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (lhs: ByteSet, rhs: ByteSet) -> Bool { lhs.words == rhs.words }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    mutating func formUnion(_ other: ByteSet) {
        words = (words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3)
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        let word: UInt64
        switch byte >> 6 {
        case 0: word = words.0
        case 1: word = words.1
        case 2: word = words.2
        default: word = words.3
        }
        return (word >> UInt64(byte & 63)) & 1 != 0
    }
}

/// A compiled program in memory of its own, immutable once made.
///
/// `JavaRegex` is copied into every row's closure call and the matcher reads the program on every step: as a struct
/// of arrays that cost a retain and a release of each array per copy, most of a short search's time. Here the
/// instructions, sets and literal sit behind one reference and raw buffers that nothing retains.
final class CompiledJavaRegex: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init, and the buffers are never written after it.
    let code: UnsafeMutableBufferPointer<JavaRegexProgram.Instruction>
    let sets: UnsafeMutableBufferPointer<CodePointSet>
    let requiredLiteral: UnsafeMutableBufferPointer<UInt8>
    let guardRegisters: UnsafeMutableBufferPointer<Int32>
    let registerCount: Int
    let groupCount: Int
    let guardDepth: Int
    let anchoredAtStart: Bool
    let firstBytes: ByteSet?
    let maxBytesBeforeLiteral: Int?

    init(_ program: JavaRegexProgram) {
        code = .allocate(capacity: program.instructions.count)
        _ = code.initialize(from: program.instructions)
        sets = .allocate(capacity: program.sets.count)
        _ = sets.initialize(from: program.sets)
        requiredLiteral = .allocate(capacity: program.requiredLiteral.count)
        _ = requiredLiteral.initialize(from: program.requiredLiteral)
        guardRegisters = .allocate(capacity: program.guardRegisters.count)
        _ = guardRegisters.initialize(from: program.guardRegisters)
        registerCount = program.registerCount
        groupCount = program.groupCount
        guardDepth = program.guardDepth
        anchoredAtStart = program.anchoredAtStart
        firstBytes = program.firstBytes
        maxBytesBeforeLiteral = program.maxBytesBeforeLiteral
    }

    deinit {
        code.deallocate()
        _ = sets.deinitialize()
        sets.deallocate()
        requiredLiteral.deallocate()
        guardRegisters.deallocate()
    }
}
