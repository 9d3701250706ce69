// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A recursive-descent parser for the Flink SQL dialect Confluent Cloud accepts.
///
/// Input is one statement, optionally ended by `;` and preceded by comments (dbt prefixes every statement with a
/// `/* {...} */` comment). Errors carry the position of the offending token.
///
/// The parser never nests deeper than ``SQLLimits/nestingDepth``: every production that recurses, and every operator
/// a left-to-right chain adds above its first operand, enters a level (``deepen()``), and the finished tree is measured
/// exactly once more (``NestingProbe``), so that no later recursion over it can exhaust the stack.
public struct Parser {
    private var tokens: [Token]
    private var index = 0
    /// How deep the production being parsed nests (see ``deepen()``).
    var nesting = 0

    /// Parses exactly one statement.
    /// - Throws: ``SQLSyntaxError``.
    public static func parseStatement(_ sql: String) throws(SQLSyntaxError) -> Statement {
        var parser = Parser(tokens: try Lexer.tokenize(sql))
        guard !parser.current.isEnd else { throw SQLSyntaxError("the statement is empty", at: parser.current.position) }
        let start = parser.current.position
        let statement = try parser.statement()
        while parser.accept(";") {}
        guard parser.current.isEnd else {
            throw SQLSyntaxError(unexpected: parser.current, expecting: nil)
        }
        if NestingProbe(limit: SQLLimits.nestingDepth).exceeds(statement) { throw Self.tooDeeplyNested(at: start) }
        return statement
    }

    /// Parses a standalone expression (for tests and computed defaults).
    public static func parseExpression(_ sql: String) throws(SQLSyntaxError) -> Expression {
        var parser = Parser(tokens: try Lexer.tokenize(sql))
        let start = parser.current.position
        let expression = try parser.expression()
        guard parser.current.isEnd else { throw SQLSyntaxError(unexpected: parser.current, expecting: nil) }
        if NestingProbe(limit: SQLLimits.nestingDepth).exceeds(expression) { throw Self.tooDeeplyNested(at: start) }
        return expression
    }

    static func tooDeeplyNested(at position: SourcePosition) -> SQLSyntaxError {
        SQLSyntaxError(SQLLimits.tooDeeplyNested, at: position, exceedsLimit: true)
    }

    /// Enters one more level of the tree being built, refusing to go past ``SQLLimits/nestingDepth``. A production
    /// that calls it restores the level it started at when it returns (`let level = nesting; defer { nesting = level }`),
    /// so a left-to-right chain counts each operator it adds above its first operand until the chain ends.
    mutating func deepen() throws(SQLSyntaxError) {
        nesting += 1
        if nesting > SQLLimits.nestingDepth { throw Self.tooDeeplyNested(at: current.position) }
    }

    init(tokens: [Token]) { self.tokens = tokens }

    // MARK: Token helpers

    var current: Token { tokens[index] }
    func peek(_ ahead: Int) -> Token { tokens[min(index + ahead, tokens.count - 1)] }

    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isKeyword(_ keywords: String...) -> Bool { keywords.contains { current.isKeyword($0) } }

    mutating func acceptKeyword(_ keyword: String) -> Bool {
        guard current.isKeyword(keyword) else { return false }
        _ = advance()
        return true
    }

    /// Accepts a sequence of keywords only if all are there.
    mutating func acceptKeywords(_ keywords: String...) -> Bool {
        for (offset, keyword) in keywords.enumerated() where !peek(offset).isKeyword(keyword) { return false }
        for _ in keywords { _ = advance() }
        return true
    }

    mutating func accept(_ symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        _ = advance()
        return true
    }

    mutating func expectKeyword(_ keyword: String) throws(SQLSyntaxError) {
        guard acceptKeyword(keyword) else { throw unexpected(expecting: keyword) }
    }

    mutating func expect(_ symbol: String) throws(SQLSyntaxError) {
        guard accept(symbol) else { throw unexpected(expecting: "'\(symbol)'") }
    }

    func unexpected(expecting: String) -> SQLSyntaxError {
        SQLSyntaxError(unexpected: current, expecting: expecting)
    }

    /// Words that end a clause and so cannot be an implicit alias.
    static let reserved: Set<String> = [
        "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "UNION", "INTERSECT", "EXCEPT", "MINUS", "JOIN", "INNER",
        "LEFT", "RIGHT", "FULL", "CROSS", "ON", "USING", "AS", "WINDOW", "FOR", "SELECT", "VALUES", "WITH", "AND", "OR", "NOT",
        "WHEN", "THEN", "ELSE", "END", "IS", "IN", "BETWEEN", "LIKE", "NATURAL", "LATERAL", "FETCH", "SIMILAR", "ESCAPE", "DISTINCT",
        "ALL", "CASE", "OVER", "PARTITION", "BY", "ASC", "DESC", "NULLS", "OUTER", "WATERMARK", "PRIMARY", "CONSTRAINT", "COMMENT",
    ]

    /// An identifier: a back-quoted name or a non-reserved word.
    mutating func identifier(allowReserved: Bool = false) throws(SQLSyntaxError) -> String {
        switch current.kind {
        case .quotedIdentifier: return advance().text
        case .word where allowReserved || !Self.reserved.contains(current.text.uppercased()): return advance().text
        default: throw unexpected(expecting: "an identifier")
        }
    }

    mutating func qualifiedName() throws(SQLSyntaxError) -> QualifiedName {
        let start = current.position
        var parts = [try identifier(allowReserved: true)]
        while current.isSymbol("."), peek(1).kind == .word || peek(1).kind == .quotedIdentifier {
            _ = advance()
            parts.append(try identifier(allowReserved: true))
        }
        return QualifiedName(parts, origin: origin(from: start))
    }

    /// Where the token consumed last ends.
    var previousEnd: SourcePosition { tokens[max(index - 1, 0)].end }

    /// The text from `start` to the end of the token consumed last.
    func origin(from start: SourcePosition) -> Origin { Origin(SourceSpan(start, previousEnd)) }

    mutating func identifierList() throws(SQLSyntaxError) -> [String] {
        try expect("(")
        var names = [try identifier(allowReserved: true)]
        while accept(",") { names.append(try identifier(allowReserved: true)) }
        try expect(")")
        return names
    }

    mutating func stringLiteral() throws(SQLSyntaxError) -> String {
        guard current.kind == .string else { throw unexpected(expecting: "a string literal") }
        return advance().text
    }

    mutating func integer() throws(SQLSyntaxError) -> Int {
        guard current.kind == .number, let value = Int(current.text) else { throw unexpected(expecting: "an integer") }
        _ = advance()
        return value
    }

    // MARK: Statements

    mutating func statement() throws(SQLSyntaxError) -> Statement {
        let level = nesting
        defer { nesting = level }
        try deepen()
        if isKeyword("SELECT", "WITH", "VALUES") || current.isSymbol("(") { return .query(try query()) }
        if acceptKeyword("CREATE") { return try create() }
        if acceptKeyword("DROP") { return try drop() }
        if acceptKeyword("ALTER") { return try alter() }
        if isKeyword("INSERT") { return .insert(try insert()) }
        if acceptKeywords("EXECUTE", "STATEMENT", "SET") { return try statementSet(terminatedBySemicolonEnd: false) }
        if acceptKeywords("BEGIN", "STATEMENT", "SET") {
            _ = accept(";")
            return try statementSet(terminatedBySemicolonEnd: true)
        }
        if acceptKeyword("EXECUTE") { return try statement() }
        if acceptKeyword("SHOW") { return try show() }
        if acceptKeyword("DESCRIBE") || acceptKeyword("DESC") {
            let extended = acceptKeyword("EXTENDED")
            return .describe(try qualifiedName(), extended: extended)
        }
        if acceptKeyword("USE") {
            if acceptKeyword("CATALOG") { return .useCatalog(try identifier(allowReserved: true)) }
            return .useDatabase(try qualifiedName())
        }
        if acceptKeyword("EXPLAIN") {
            while acceptKeyword("PLAN") || acceptKeyword("FOR") || acceptKeyword("ESTIMATED_COST") || acceptKeyword("CHANGELOG_MODE")
                || acceptKeyword("JSON_EXECUTION_PLAN") || accept(",")
            {}
            return .explain(try statement())
        }
        if acceptKeyword("SET") {
            guard current.kind == .string else { return .set(key: nil, value: nil) }
            let key = try stringLiteral()
            try expect("=")
            return .set(key: key, value: try stringLiteral())
        }
        if acceptKeyword("RESET") { return .reset(key: current.kind == .string ? try stringLiteral() : nil) }
        throw SQLSyntaxError("unknown statement starting with '\(current.text)'", at: current.position)
    }

    mutating func statementSet(terminatedBySemicolonEnd: Bool) throws(SQLSyntaxError) -> Statement {
        if !terminatedBySemicolonEnd { try expectKeyword("BEGIN") }
        var inserts: [Insert] = []
        while !acceptKeyword("END") {
            guard isKeyword("INSERT") else { throw unexpected(expecting: "INSERT or END in the statement set") }
            inserts.append(try insert())
            try expect(";")
        }
        guard !inserts.isEmpty else { throw SQLSyntaxError("a statement set needs at least one INSERT", at: current.position) }
        return .statementSet(inserts)
    }

    mutating func insert() throws(SQLSyntaxError) -> Insert {
        try expectKeyword("INSERT")
        let overwrite: Bool
        if acceptKeyword("OVERWRITE") {
            overwrite = true
        } else {
            try expectKeyword("INTO")
            overwrite = false
        }
        let table = try qualifiedName()
        let columns =
            current.isSymbol("(") && !(peek(1).isKeyword("SELECT") || peek(1).isKeyword("VALUES") || peek(1).isKeyword("WITH"))
            ? try identifierList() : []
        return Insert(table: table, columns: columns, source: try query(), overwrite: overwrite)
    }

    mutating func create() throws(SQLSyntaxError) -> Statement {
        let orReplace = acceptKeywords("OR", "REPLACE")
        _ = acceptKeyword("TEMPORARY")
        if acceptKeyword("TABLE") { return .createTable(try createTable()) }
        if acceptKeyword("VIEW") {
            let ifNotExists = acceptKeywords("IF", "NOT", "EXISTS")
            let name = try qualifiedName()
            let columns = current.isSymbol("(") ? try identifierList() : []
            let comment = acceptKeyword("COMMENT") ? try stringLiteral() : nil
            try expectKeyword("AS")
            return .createView(name, columns: columns, query: try query(), ifNotExists: ifNotExists, comment: comment, orReplace: orReplace)
        }
        if acceptKeyword("DATABASE") {
            let ifNotExists = acceptKeywords("IF", "NOT", "EXISTS")
            let name = try qualifiedName()
            let comment = acceptKeyword("COMMENT") ? try stringLiteral() : nil
            let options = acceptKeyword("WITH") ? try optionList() : []
            return .createDatabase(name, ifNotExists: ifNotExists, comment: comment, options: options)
        }
        throw unexpected(expecting: "TABLE, VIEW or DATABASE")
    }

    mutating func createTable() throws(SQLSyntaxError) -> CreateTable {
        let ifNotExists = acceptKeywords("IF", "NOT", "EXISTS")
        let name = try qualifiedName()
        var columns: [ColumnDefinition] = []
        var primaryKey: [String] = []
        var watermark: (column: String, expression: Expression)?
        if accept("(") {
            repeat {
                if acceptKeyword("WATERMARK") {
                    try expectKeyword("FOR")
                    let column = try identifier(allowReserved: true)
                    try expectKeyword("AS")
                    watermark = (column, try expression())
                } else if acceptKeyword("CONSTRAINT") {
                    _ = try identifier(allowReserved: true)
                    primaryKey = try primaryKeyClause()
                } else if isKeyword("PRIMARY") {
                    primaryKey = try primaryKeyClause()
                } else {
                    let column = try columnDefinition()
                    if column.1 { primaryKey = [column.0.name] }
                    columns.append(column.0)
                }
            } while accept(",")
            try expect(")")
        }
        let comment = acceptKeyword("COMMENT") ? try stringLiteral() : nil
        var distributedBy: [String] = []
        var bucketCount: Int?
        if acceptKeywords("DISTRIBUTED", "BY") {
            _ = acceptKeyword("HASH")
            distributedBy = try identifierList()
            if acceptKeyword("INTO") {
                bucketCount = try integer()
                try expectKeyword("BUCKETS")
            }
        } else if acceptKeywords("DISTRIBUTED", "INTO") {
            bucketCount = try integer()
            try expectKeyword("BUCKETS")
        }
        if acceptKeywords("PARTITIONED", "BY") { _ = try identifierList() }
        let options = acceptKeyword("WITH") ? try optionList() : []
        let like = acceptKeyword("LIKE") ? try qualifiedName() : nil
        let asQuery = acceptKeyword("AS") ? try query() : nil
        var create = CreateTable(
            name: name, ifNotExists: ifNotExists, columns: columns, primaryKey: primaryKey, watermark: watermark, comment: comment,
            distributedBy: distributedBy, options: options, like: like, asQuery: asQuery)
        create.bucketCount = bucketCount
        return create
    }

    mutating func primaryKeyClause() throws(SQLSyntaxError) -> [String] {
        try expectKeyword("PRIMARY")
        try expectKeyword("KEY")
        let columns = try identifierList()
        try expectKeyword("NOT")
        try expectKeyword("ENFORCED")
        return columns
    }

    /// A column definition, and whether it declared itself `PRIMARY KEY NOT ENFORCED` inline.
    mutating func columnDefinition() throws(SQLSyntaxError) -> (ColumnDefinition, Bool) {
        let name = try identifier(allowReserved: true)
        let kind: ColumnDefinition.Kind
        if acceptKeyword("AS") {
            kind = .computed(try expression())
        } else {
            let type = try typeSyntax()
            if acceptKeyword("METADATA") {
                let key = acceptKeyword("FROM") ? try stringLiteral() : nil
                kind = .metadata(type, key: key, virtual: acceptKeyword("VIRTUAL"))
            } else {
                kind = .physical(type)
            }
        }
        var inlinePrimaryKey = false
        if acceptKeywords("PRIMARY", "KEY") {
            try expectKeyword("NOT")
            try expectKeyword("ENFORCED")
            inlinePrimaryKey = true
        }
        let comment = acceptKeyword("COMMENT") ? try stringLiteral() : nil
        return (ColumnDefinition(name: name, kind: kind, comment: comment), inlinePrimaryKey)
    }

    mutating func optionList() throws(SQLSyntaxError) -> [(String, String)] {
        try expect("(")
        var options: [(String, String)] = []
        if accept(")") { return options }
        repeat {
            let key = try stringLiteral()
            try expect("=")
            options.append((key, try stringLiteral()))
        } while accept(",")
        try expect(")")
        return options
    }

    mutating func drop() throws(SQLSyntaxError) -> Statement {
        _ = acceptKeyword("TEMPORARY")
        if acceptKeyword("TABLE") {
            let ifExists = acceptKeywords("IF", "EXISTS")
            return .dropTable(try qualifiedName(), ifExists: ifExists)
        }
        if acceptKeyword("VIEW") {
            let ifExists = acceptKeywords("IF", "EXISTS")
            return .dropView(try qualifiedName(), ifExists: ifExists)
        }
        if acceptKeyword("DATABASE") {
            let ifExists = acceptKeywords("IF", "EXISTS")
            let name = try qualifiedName()
            let cascade = acceptKeyword("CASCADE")
            if !cascade { _ = acceptKeyword("RESTRICT") }
            return .dropDatabase(name, ifExists: ifExists, cascade: cascade)
        }
        throw unexpected(expecting: "TABLE, VIEW or DATABASE")
    }

    mutating func alter() throws(SQLSyntaxError) -> Statement {
        try expectKeyword("TABLE")
        let name = try qualifiedName()
        func columns(_ parser: inout Parser) throws(SQLSyntaxError) -> [ColumnDefinition] {
            if parser.accept("(") {
                var result: [ColumnDefinition] = []
                repeat { result.append(try parser.columnDefinition().0) } while parser.accept(",")
                try parser.expect(")")
                return result
            }
            return [try parser.columnDefinition().0]
        }
        if acceptKeyword("ADD") { return .alterTable(name, .addColumns(try columns(&self))) }
        if acceptKeyword("MODIFY") { return .alterTable(name, .modifyColumns(try columns(&self))) }
        if acceptKeyword("DROP") {
            return .alterTable(name, .dropColumns(current.isSymbol("(") ? try identifierList() : [try identifier(allowReserved: true)]))
        }
        if acceptKeyword("RENAME") {
            if acceptKeyword("TO") { return .alterTable(name, .rename(to: try qualifiedName())) }
            let from = try identifier(allowReserved: true)
            try expectKeyword("TO")
            return .alterTable(name, .renameColumn(from, to: try identifier(allowReserved: true)))
        }
        if acceptKeyword("SET") { return .alterTable(name, .setOptions(try optionList())) }
        if acceptKeyword("RESET") {
            try expect("(")
            var keys = [try stringLiteral()]
            while accept(",") { keys.append(try stringLiteral()) }
            try expect(")")
            return .alterTable(name, .resetOptions(keys))
        }
        throw unexpected(expecting: "ADD, MODIFY, DROP, RENAME, SET or RESET")
    }

    mutating func show() throws(SQLSyntaxError) -> Statement {
        func like(_ parser: inout Parser) throws(SQLSyntaxError) -> String? {
            parser.acceptKeyword("LIKE") ? try parser.stringLiteral() : nil
        }
        if acceptKeyword("CATALOGS") { return .show(.catalogs, like: try like(&self)) }
        if acceptKeyword("DATABASES") { return .show(.databases, like: try like(&self)) }
        if acceptKeyword("TABLES") || acceptKeywords("TEMPORARY", "TABLES") {
            if acceptKeyword("FROM") || acceptKeyword("IN") { return .show(.tablesFrom(try qualifiedName()), like: try like(&self)) }
            return .show(.tables, like: try like(&self))
        }
        if acceptKeyword("VIEWS") {
            if acceptKeyword("FROM") || acceptKeyword("IN") { return .show(.viewsFrom(try qualifiedName()), like: try like(&self)) }
            return .show(.views, like: try like(&self))
        }
        if acceptKeyword("FUNCTIONS") { return .show(.functions(user: false), like: try like(&self)) }
        if acceptKeywords("USER", "FUNCTIONS") {
            if acceptKeyword("FROM") || acceptKeyword("IN") { _ = try qualifiedName() }
            return .show(.functions(user: true), like: try like(&self))
        }
        if acceptKeywords("CURRENT", "CATALOG") { return .show(.currentCatalog, like: nil) }
        if acceptKeywords("CURRENT", "DATABASE") { return .show(.currentDatabase, like: nil) }
        if acceptKeywords("CREATE", "TABLE") { return .show(.createTable(try qualifiedName()), like: nil) }
        if acceptKeywords("CREATE", "VIEW") { return .show(.createView(try qualifiedName()), like: nil) }
        if acceptKeyword("COLUMNS") {
            guard acceptKeyword("FROM") || acceptKeyword("IN") else { throw unexpected(expecting: "FROM") }
            return .show(.columns(try qualifiedName()), like: try like(&self))
        }
        if acceptKeyword("JOBS") { return .show(.jobs, like: nil) }
        throw unexpected(expecting: "CATALOGS, DATABASES, TABLES, VIEWS, FUNCTIONS, CURRENT, CREATE, COLUMNS or JOBS")
    }
}
