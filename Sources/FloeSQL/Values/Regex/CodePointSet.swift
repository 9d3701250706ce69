// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A set of Unicode code points: sorted, disjoint, non-adjacent ranges, with the ASCII part also as a 128-bit map.
///
/// Regex classes are built from unions, intersections and complements, which ranges make exact and cheap; matching
/// tests almost always see ASCII, which the bitmap answers with one shift and no search.
struct CodePointSet: Equatable, Sendable {
    private(set) var ranges: [ClosedRange<UInt32>]
    /// Bit `c` of `ascii.0` (c < 64) or `ascii.1` (c - 64) is set when the set contains `c`.
    private(set) var asciiLow: UInt64 = 0
    private(set) var asciiHigh: UInt64 = 0
    /// Whether the set has any code point above U+007F (the matcher then decodes multi-byte sequences).
    private(set) var hasNonASCII = false

    static let maxCodePoint: UInt32 = 0x10FFFF

    init(ranges: [ClosedRange<UInt32>]) {
        self.ranges = CodePointSet.normalized(ranges)
        for r in self.ranges {
            if r.upperBound >= 0x80 { hasNonASCII = true }
            guard r.lowerBound < 0x80 else { continue }
            for c in r.lowerBound...min(r.upperBound, 0x7F) {
                if c < 64 { asciiLow |= 1 << UInt64(c) } else { asciiHigh |= 1 << UInt64(c - 64) }
            }
        }
    }

    private static func normalized(_ input: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let sorted = input.sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        for r in sorted {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    @inline(__always)
    func containsASCII(_ byte: UInt8) -> Bool {
        byte < 64 ? (asciiLow >> UInt64(byte)) & 1 != 0 : (asciiHigh >> UInt64(byte &- 64)) & 1 != 0
    }

    func contains(_ c: UInt32) -> Bool {
        if c < 0x80 { return containsASCII(UInt8(c)) }
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < c { low = mid + 1 } else { high = mid }
        }
        return low < ranges.count && ranges[low].contains(c)
    }

    func union(_ other: CodePointSet) -> CodePointSet { CodePointSet(ranges: ranges + other.ranges) }

    var inverted: CodePointSet {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
        }
        if next <= CodePointSet.maxCodePoint, ranges.last?.upperBound != CodePointSet.maxCodePoint { out.append(next...CodePointSet.maxCodePoint) }
        return CodePointSet(ranges: out)
    }

    func intersection(_ other: CodePointSet) -> CodePointSet { inverted.union(other.inverted).inverted }

    /// The set with both cases of every ASCII letter in it: Java's CASE_INSENSITIVE without UNICODE_CASE.
    func addingASCIICaseVariants() -> CodePointSet {
        var extra: [ClosedRange<UInt32>] = []
        for c in UInt32(65)...90 where contains(c) || contains(c + 32) {
            extra.append(c...c)
            extra.append((c + 32)...(c + 32))
        }
        return extra.isEmpty ? self : CodePointSet(ranges: ranges + extra)
    }

    /// Both cases of an ASCII letter, nil for any other code point.
    static func asciiCaseVariants(_ c: UInt32) -> CodePointSet? {
        switch c {
        case 65...90: CodePointSet(ranges: [c...c, (c + 32)...(c + 32)])
        case 97...122: CodePointSet(ranges: [(c - 32)...(c - 32), c...c])
        default: nil
        }
    }

    static let none = CodePointSet(ranges: [])
    static let all = CodePointSet(ranges: [0...maxCodePoint])
    /// `.` without DOTALL: everything but `\n`, `\r`, U+0085, U+2028 and U+2029.
    static let dot = CodePointSet(ranges: [10...10, 13...13, 0x85...0x85, 0x2028...0x2029]).inverted
    static let digit = CodePointSet(ranges: [48...57])
    static let word = CodePointSet(ranges: [48...57, 65...90, 95...95, 97...122])
    /// `\s`: space, \t, \n, \u000B, \f, \r.
    static let space = CodePointSet(ranges: [9...13, 32...32])
    /// `\h`, as `Pattern` defines it.
    static let horizontalSpace = CodePointSet(ranges: [
        9...9, 32...32, 0xA0...0xA0, 0x1680...0x1680, 0x180E...0x180E, 0x2000...0x200A, 0x202F...0x202F, 0x205F...0x205F,
        0x3000...0x3000,
    ])
    /// `\v`, as `Pattern` defines it.
    static let verticalSpace = CodePointSet(ranges: [10...13, 0x85...0x85, 0x2028...0x2029])

    /// The POSIX classes `\p{…}` names with their ASCII meanings (Java's defaults); nil for any other name. Under
    /// CASE_INSENSITIVE, Java makes `Lower` and `Upper` mean `Alpha`.
    static func posix(_ name: String, caseInsensitive: Bool) -> CodePointSet? {
        let punct: [ClosedRange<UInt32>] = [33...47, 58...64, 91...96, 123...126]
        switch name {
        case "Lower": return CodePointSet(ranges: caseInsensitive ? [65...90, 97...122] : [97...122])
        case "Upper": return CodePointSet(ranges: caseInsensitive ? [65...90, 97...122] : [65...90])
        case "ASCII": return CodePointSet(ranges: [0...0x7F])
        case "Alpha": return CodePointSet(ranges: [65...90, 97...122])
        case "Digit": return digit
        case "Alnum": return CodePointSet(ranges: [48...57, 65...90, 97...122])
        case "Punct": return CodePointSet(ranges: punct)
        case "Graph": return CodePointSet(ranges: [33...126])
        case "Print": return CodePointSet(ranges: [32...126])
        case "Blank": return CodePointSet(ranges: [9...9, 32...32])
        case "Cntrl": return CodePointSet(ranges: [0...31, 127...127])
        case "XDigit": return CodePointSet(ranges: [48...57, 65...70, 97...102])
        case "Space": return space
        default: return nil
        }
    }
}
