// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A position in SQL text: 1-based line and column, and the 0-based offset in characters.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String { "line \(line), column \(column)" }
}

/// A stretch of SQL text from its first to its last character, both included, as Flink reports it
/// (`From line 2, column 3 to line 2, column 8`).
public struct SourceSpan: Sendable, Hashable, CustomStringConvertible {
    public var start: SourcePosition
    public var end: SourcePosition

    public init(_ start: SourcePosition, _ end: SourcePosition) {
        self.start = start
        self.end = end
    }

    /// The smallest span holding both.
    public func union(_ other: SourceSpan) -> SourceSpan {
        SourceSpan(
            start.offset <= other.start.offset ? start : other.start,
            end.offset >= other.end.offset ? end : other.end)
    }

    public var description: String { "From \(start) to \(end)" }
}

/// Where a node of the syntax tree was written, if it was written at all (the parser sets it; rewrites and nodes the
/// planner makes up have none).
///
/// It is never part of the node's identity: two origins always compare equal and hash alike, so the same expression
/// written twice is still `==` to itself. The analyzer relies on that, matching `GROUP BY a + 1` to the select item
/// `a + 1` and deduplicating aggregate calls by equality.
public struct Origin: Sendable, Hashable {
    public var span: SourceSpan?

    public init(_ span: SourceSpan?) { self.span = span }

    /// Written nowhere: made by a rewrite or the planner.
    public static let none = Origin(nil)

    public static func == (lhs: Origin, rhs: Origin) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

/// A lexical token of Flink SQL.
public struct Token: Sendable, Equatable {
    /// What kind of token.
    public enum Kind: Sendable, Equatable {
        /// A bare word: a keyword or an unquoted identifier (`text` keeps its spelling).
        case word
        /// A back-quoted identifier (`text` is the unquoted name, with ``` `` ``` unescaped).
        case quotedIdentifier
        /// A string literal (`text` is the value, with `''` unescaped).
        case string
        /// A numeric literal (`text` as written).
        case number
        /// Punctuation or an operator (`text` as written: `(`, `<=`, `||`, `=>`, …).
        case symbol
        /// The end of the input.
        case end
    }

    public var kind: Kind
    public var text: String
    /// Where its first character is.
    public var position: SourcePosition
    /// Where its last character is (quotes included); the end of the input for `.end`.
    public var end: SourcePosition

    public init(kind: Kind, text: String, position: SourcePosition, end: SourcePosition? = nil) {
        self.kind = kind
        self.text = text
        self.position = position
        self.end = end ?? position
    }

    /// The text it covers.
    public var span: SourceSpan { SourceSpan(position, end) }

    /// Whether this is the bare word `keyword` (case-insensitive).
    public func isKeyword(_ keyword: String) -> Bool {
        kind == .word && text.uppercased() == keyword
    }

    /// Whether this is the symbol `symbol`.
    public func isSymbol(_ symbol: String) -> Bool {
        kind == .symbol && text == symbol
    }
}

/// A syntax error with the position where it was found.
public struct SQLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var position: SourcePosition
    /// For an unexpected token: the token as written (`"FROM"`, `"<EOF>"`) and what the grammar wanted there, so the
    /// error can be worded as Flink words it (`Encountered "FROM" at line 1, column 16.`).
    public var encountered: String?
    public var expecting: String?
    /// Whether the text is refused for a limit of ``SQLLimits`` (its size or nesting), not for its grammar.
    public var exceedsLimit: Bool

    public init(_ message: String, at position: SourcePosition, exceedsLimit: Bool = false) {
        self.message = message
        self.position = position
        self.exceedsLimit = exceedsLimit
    }

    /// `token` where the grammar wanted `expecting`.
    public init(unexpected token: Token, expecting: String?) {
        let found = token.isEnd ? "the end of the statement" : "'\(token.text)'"
        self.message = expecting.map { "expected \($0) but found \(found)" } ?? "unexpected \(found)"
        self.position = token.position
        self.encountered =
            token.isEnd ? "<EOF>" : token.kind == .quotedIdentifier ? "`\(token.text)`" : token.kind == .string ? "'\(token.text)'" : token.text
        self.expecting = expecting
        self.exceedsLimit = false
    }

    /// The error as Flink's parser words it, without the `SQL parse failed.` prefix.
    public var flinkMessage: String {
        if let encountered {
            let reason = "Encountered \"\(encountered)\" at line \(position.line), column \(position.column)."
            return expecting.map { reason + "\nWas expecting \($0)." } ?? reason
        }
        let sentence = message.prefix(1).uppercased() + message.dropFirst()
        return "\(sentence) at line \(position.line), column \(position.column)."
    }

    public var description: String { "SQL parse failed at \(position): \(message)" }
}

extension Token {
    /// Whether this is the end of the input.
    public var isEnd: Bool { kind == .end }
}
