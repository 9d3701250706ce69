// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Testing

@testable import FloeSQL

/// One line of `Golden/regex/regex.tsv`: what `java.util.regex` did with a pattern and an input.
struct RegexGoldenCase: CustomTestStringConvertible, Sendable {
    var pattern: String
    var input: String
    var replacement: String
    var compiles: Bool
    /// Nil when Java split a surrogate pair (`!SURROGATE`), which UTF-8 text cannot represent.
    var replaced: String?
    var found: Bool
    /// Group 0…n of the first match, nil for a group that did not participate.
    var groups: [String?]
    var testDescription: String { "/\(pattern)/ on \(input.debugDescription)" }

    /// The hand-written cases (every construct) and the random ones (combinations of them).
    static let all: [RegexGoldenCase] = cases(in: "regex") + cases(in: "regex-random")

    static func cases(in file: String) -> [RegexGoldenCase] {
        guard let url = Bundle.module.url(forResource: file, withExtension: "tsv", subdirectory: "Golden/regex"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let ok = fields[3] == "ok"
            return RegexGoldenCase(
                pattern: unescape(fields[0]), input: unescape(fields[1]), replacement: unescape(fields[2]), compiles: ok,
                replaced: !ok || fields[4] == "!SURROGATE" ? nil : unescape(fields[4]), found: ok && fields[5] == "true",
                groups: ok ? fields.dropFirst(6).map { $0 == "\\N" ? nil : unescape($0) } : [])
        }
    }

    /// Undoes RegexGolden.java's escaping: `\\`, `\t`, `\n`, `\r`, `\x{X}`.
    static func unescape(_ field: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = field.unicodeScalars.makeIterator()
        while let c = scalars.next() {
            guard c == "\\", let e = scalars.next() else {
                out.append(c)
                continue
            }
            switch e {
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "x":
                _ = scalars.next()  // {
                var hex = ""
                while let h = scalars.next(), h != "}" { hex.unicodeScalars.append(h) }
                out.append(Unicode.Scalar(UInt32(hex, radix: 16)!)!)
            default: out.append(e)
            }
        }
        return String(out)
    }
}

@Suite struct JavaRegexGoldenTests {
    @Test func goldenFileIsThere() {
        #expect(RegexGoldenCase.cases(in: "regex").count >= 300)
        #expect(RegexGoldenCase.cases(in: "regex-random").count == 600)
    }

    /// REGEXP, REGEXP_EXTRACT and REGEXP_REPLACE give exactly what Flink's `java.util.regex` calls give.
    /// Patterns JavaRegex leaves to NSRegularExpression where ICU disagrees with Java: ICU rejects `\pL` and the
    /// UNICODE_CHARACTER_CLASS flag `(?U)`. They give NULL, as every pattern ICU rejects did before JavaRegex.
    static let knownFallbackDifferences: Set<String> = ["\\pL", "(?U)\\w"]

    @Test(arguments: RegexGoldenCase.all.filter { !knownFallbackDifferences.contains($0.pattern) })
    func matchesJava(_ golden: RegexGoldenCase) {
        let regex = SQLRegex(golden.pattern)
        #expect(regex.compiles == golden.compiles)
        guard golden.compiles, regex.compiles else { return }
        #expect(regex.matches(golden.input) == golden.found)
        if let replaced = golden.replaced {
            #expect(regex.replaceAll(golden.input, with: golden.replacement) == replaced)
        }
        for (index, group) in golden.groups.enumerated() {
            #expect(regex.extract(golden.input, group: index) == group, "group \(index)")
        }
        #expect(regex.extract(golden.input, group: golden.groups.count) == nil)
        #expect(regex.extract(golden.input, group: -1) == nil)
    }

    /// Every hand-written golden pattern Java accepts runs on JavaRegex, except the constructs it leaves to NSRegularExpression.
    @Test func unsupportedPatternsAreOnlyTheKnownConstructs() {
        var unsupported: [String] = []
        for golden in RegexGoldenCase.cases(in: "regex") where golden.compiles {
            do {
                _ = try JavaRegex(golden.pattern)
            } catch {
                if case .unsupported = error { unsupported.append(golden.pattern) }
            }
        }
        let expected: Set<String> = [
            "(a)\\1", "(\\w+) \\1", "a(?=b)", "a(?!b)", "(?<=a)b", "(?<!a)b", "(?>a+)b", "\\G", "\\R", "(?<n>a)\\k<n>", "\\X",
            "\\N{LATIN SMALL LETTER A}", "a*+", "a++b", "a?+", "a{2}+", "\\pL", "\\p{L}+", "\\p{IsAlphabetic}+", "(?iu)é", "(?x)a b",
            "(?d)a", "(?U)\\w", "a{1001}", "(?=a)",
        ]
        #expect(Set(unsupported) == expected)
    }
}

@Suite struct JavaRegexTests {
    private func failure(_ pattern: String) -> JavaRegex.Failure? {
        do {
            _ = try JavaRegex(pattern)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: ["(", ")", "[a", "a{2,1}", "[z-a]", "*", "a**", "\\y", "\\x{110000}", "(?<1>a)", "(?<n>a)(?<n>b)", "(?z)", "x{", "\\", "\\c"])
    func refusesWhatJavaRefuses(_ pattern: String) {
        guard case .invalid = failure(pattern) else {
            Issue.record("\(pattern) should be invalid, got \(String(describing: failure(pattern)))")
            return
        }
    }

    @Test(arguments: ["(a)\\1", "a(?=b)", "(?<=a)b", "(?>a)", "a*+", "\\p{L}", "(?x)a", "\\uD83D\\uDE00", "\\R", "a{5000}"])
    func leavesUnimplementedConstructsToTheFallback(_ pattern: String) {
        guard case .unsupported = failure(pattern) else {
            Issue.record("\(pattern) should be unsupported, got \(String(describing: failure(pattern)))")
            return
        }
        #expect(SQLRegex(pattern).compiles)
        #expect(!SQLRegex(pattern).usesJavaRegex)
    }

    /// Nesting is user input: past ``JavaRegexSyntax/maxNesting`` the pattern goes to the fallback (which refuses it
    /// past its own limit) instead of recursing until the stack overflows.
    @Test(arguments: [150, 201, 60_000])
    func deepNestingIsBoundedAndNeverOverflowsTheStack(_ depth: Int) {
        let groups = String(repeating: "(", count: depth) + "a" + String(repeating: ")", count: depth)
        let classes = String(repeating: "[", count: depth) + "a" + String(repeating: "]", count: depth)
        for pattern in [groups, classes] {
            let regex = SQLRegex(pattern)
            if depth <= JavaRegexSyntax.maxNesting {
                #expect(regex.usesJavaRegex)
                #expect(regex.matches("xxa") == true)
            } else {
                #expect(!regex.usesJavaRegex)
                if case .unsupported = failure(pattern) {} else { Issue.record("nesting \(depth) should be unsupported") }
            }
        }
    }

    /// Patterns that take exponential time in a plain backtracker finish in time linear in the text.
    @Test(arguments: ["(a*)*b", "(a|aa)+c", "(a+)+$", "(x+x+)+y", "^(a?){30}a{30}$", "(.*a){12}"])
    func pathologicalPatternsStayLinear(_ pattern: String) throws {
        let regex = try JavaRegex(pattern)
        let text = String(repeating: pattern.contains("x") ? "x" : "a", count: 20_000) + "!"
        let elapsed = ContinuousClock().measure { _ = regex.matches(text) }
        #expect(elapsed < .seconds(5), "\(pattern): \(elapsed)")
    }

    @Test func q21ExtractsTheChannelIdFromBytes() throws {
        let regex = try JavaRegex("(&|^)channel_id=([^&]*)")
        #expect(regex.extract("https://www.nexmark.com/a_b/c/d/item.htm?query=1&channel_id=1234", group: 2) == .some("1234"))
        #expect(regex.extract("https://www.nexmark.com/a_b/c/d/item.htm?query=1", group: 2) == .some(nil))
        #expect(regex.extract("channel_id=7&x=1", group: 2) == .some("7"))
        #expect(regex.extract("xchannel_id=7", group: 2) == .some(nil))
    }

    @Test func replacementIsLiteralAsInFlink() throws {
        let regex = try JavaRegex("(\\d+)")
        #expect(regex.replaceAll("a1b22", with: "<$1\\>") == "a<$1\\>b<$1\\>")
        #expect(try JavaRegex("x*").replaceAll("ab", with: "-") == "-a-b-")
        #expect(try JavaRegex("x*").replaceAll("é😀", with: "-") == "-é-😀-")
    }

    @Test func textsBeyondTheMemoryBoundAreHandedBack() throws {
        let regex = try JavaRegex("(a|b)*c")
        let text = String(repeating: "ab", count: JavaRegex.maxVisitedBits / 16)
        #expect(regex.matches(text) == nil)
        #expect(SQLRegex("(a|b)*c").matches("ab" + "c") == true)
    }
}
