// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A position in SQL text: 1-based line and column, and the 0-based offset in characters.
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
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
    public var position: SourcePosition

    public init(kind: Kind, text: String, position: SourcePosition) {
        self.kind = kind
        self.text = text
        self.position = position
    }

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
    /// Whether the text is refused for a limit of ``SQLLimits`` (its size or nesting), not for its grammar.
    public var exceedsLimit: Bool

    public init(_ message: String, at position: SourcePosition, exceedsLimit: Bool = false) {
        self.message = message
        self.position = position
        self.exceedsLimit = exceedsLimit
    }

    public var description: String { "SQL parse failed at \(position): \(message)" }
}

extension Token {
    /// Whether this is the end of the input.
    public var isEnd: Bool { kind == .end }
}
