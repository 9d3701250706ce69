// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Splits Flink SQL text into tokens. Comments (`-- …` and `/* … */`) and whitespace are skipped.
public struct Lexer {
    private let characters: [Character]
    private var index = 0
    private var line = 1
    private var column = 1
    /// Where the character consumed last was: the end of the token being read.
    private var previous = SourcePosition(line: 1, column: 1, offset: 0)

    /// Creates a lexer over `text`.
    public init(_ text: String) {
        self.characters = Array(text)
    }

    /// All tokens, ending with one `.end` token.
    /// - Throws: ``SQLSyntaxError`` for an unterminated string, identifier or comment, or an unknown character.
    public static func tokenize(_ text: String) throws(SQLSyntaxError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    var position: SourcePosition { SourcePosition(line: line, column: column, offset: index) }

    func peek(_ ahead: Int = 0) -> Character? {
        index + ahead < characters.count ? characters[index + ahead] : nil
    }

    mutating func advance() {
        previous = position
        if characters[index] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    mutating func skipTrivia() throws(SQLSyntaxError) {
        while let character = peek() {
            if character.isWhitespace {
                advance()
            } else if character == "-", peek(1) == "-" {
                while let next = peek(), next != "\n" { advance() }
            } else if character == "/", peek(1) == "*" {
                let start = position
                advance()
                advance()
                while true {
                    guard let next = peek() else { throw SQLSyntaxError("unterminated comment", at: start) }
                    if next == "*", peek(1) == "/" {
                        advance()
                        advance()
                        break
                    }
                    advance()
                }
            } else {
                return
            }
        }
    }

    static let twoCharacterSymbols: Set<String> = ["<=", ">=", "<>", "!=", "||", "=>", "::"]
    static let oneCharacterSymbols: Set<Character> = ["(", ")", ",", ".", ";", "+", "-", "*", "/", "%", "=", "<", ">", "[", "]", "?", ":"]

    /// The next token.
    public mutating func next() throws(SQLSyntaxError) -> Token {
        try skipTrivia()
        let start = position
        guard let character = peek() else { return Token(kind: .end, text: "", position: start) }
        if character == "'" { return Token(kind: .string, text: try quoted("'", what: "string literal"), position: start, end: previous) }
        if character == "`" { return Token(kind: .quotedIdentifier, text: try quoted("`", what: "identifier"), position: start, end: previous) }
        if character.isNumber || (character == "." && peek(1)?.isNumber == true) { return number(start) }
        if character.isLetter || character == "_" || character == "$" {
            var text = ""
            while let next = peek(), next.isLetter || next.isNumber || next == "_" || next == "$" {
                text.append(next)
                advance()
            }
            return Token(kind: .word, text: text, position: start, end: previous)
        }
        if let second = peek(1), Self.twoCharacterSymbols.contains(String([character, second])) {
            advance()
            advance()
            return Token(kind: .symbol, text: String([character, second]), position: start, end: previous)
        }
        if Self.oneCharacterSymbols.contains(character) {
            advance()
            return Token(kind: .symbol, text: String(character), position: start, end: previous)
        }
        throw SQLSyntaxError("unexpected character '\(character)'", at: start)
    }

    mutating func quoted(_ quote: Character, what: String) throws(SQLSyntaxError) -> String {
        let start = position
        advance()
        var text = ""
        while true {
            guard let next = peek() else { throw SQLSyntaxError("unterminated \(what)", at: start) }
            advance()
            if next == quote {
                if peek() == quote {
                    text.append(quote)
                    advance()
                } else {
                    return text
                }
            } else {
                text.append(next)
            }
        }
    }

    mutating func number(_ start: SourcePosition) -> Token {
        var text = ""
        func digits() {
            while let next = peek(), next.isNumber {
                text.append(next)
                advance()
            }
        }
        digits()
        if peek() == ".", peek(1)?.isNumber == true || text.isEmpty || !(peek(1)?.isLetter ?? false) {
            text.append(".")
            advance()
            digits()
        }
        if let e = peek(), e == "e" || e == "E", let after = peek(1), after.isNumber || ((after == "+" || after == "-") && peek(2)?.isNumber == true)
        {
            text.append(e)
            advance()
            if let sign = peek(), sign == "+" || sign == "-" {
                text.append(sign)
                advance()
            }
            digits()
        }
        return Token(kind: .number, text: text, position: start, end: previous)
    }
}
