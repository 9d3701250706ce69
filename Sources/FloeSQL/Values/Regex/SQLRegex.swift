// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The pattern of a REGEXP, REGEXP_EXTRACT or REGEXP_REPLACE call, compiled for the engine that runs it.
///
/// `JavaRegex` runs what it implements, with Java's semantics, on the strings' UTF-8 bytes. A pattern using a
/// construct it does not implement (back-references, look-around, Unicode properties, …) and a text too long for
/// its memory bound go to `NSRegularExpression`, as every pattern did before; a pattern Java rejects is invalid,
/// which the functions turn into NULL, as Flink does when `Pattern.compile` throws.
struct SQLRegex: Sendable {
    private enum Engine: Sendable {
        case java(JavaRegex)
        case icu(NSRegularExpression)
        case invalid
    }

    private let engine: Engine
    private let pattern: String

    init(_ pattern: String) {
        self.pattern = pattern
        do {
            engine = .java(try JavaRegex(pattern))
        } catch {
            switch error {
            case .invalid: engine = .invalid
            case .unsupported: engine = (try? NSRegularExpression(pattern: pattern)).map(Engine.icu) ?? .invalid
            }
        }
    }

    /// Whether the pattern compiled (in either engine).
    var compiles: Bool {
        if case .invalid = engine { return false }
        return true
    }

    /// Whether the pattern runs on `JavaRegex` (for tests and benchmarks).
    var usesJavaRegex: Bool {
        if case .java = engine { return true }
        return false
    }

    /// `NSRegularExpression` for this pattern: the engine itself, or the fallback for a text `JavaRegex` cannot hold.
    private var icu: NSRegularExpression? {
        switch engine {
        case .icu(let regex): regex
        case .java: try? NSRegularExpression(pattern: pattern)
        case .invalid: nil
        }
    }

    /// `matcher(text).find()`; nil for an invalid pattern.
    func matches(_ text: String) -> Bool? {
        if case .java(let regex) = engine, let found = regex.matches(text) { return found }
        guard let regex = icu else { return nil }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// Group `group` of the first match; nil for no match, no such group, a group that did not participate, or an
    /// invalid pattern.
    func extract(_ text: String, group: Int) -> String? {
        if case .java(let regex) = engine, let extracted = regex.extract(text, group: group) { return extracted }
        guard let regex = icu, group >= 0, let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            group < match.numberOfRanges, let range = Range(match.range(at: group), in: text)
        else { return nil }
        return String(text[range])
    }

    /// Every match replaced by `replacement`, taken literally (Flink quotes it); nil for an invalid pattern.
    func replaceAll(_ text: String, with replacement: String) -> String? {
        if case .java(let regex) = engine, let replaced = regex.replaceAll(text, with: replacement) { return replaced }
        guard let regex = icu else { return nil }
        return regex.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: NSRegularExpression.escapedTemplate(for: replacement))
    }
}
