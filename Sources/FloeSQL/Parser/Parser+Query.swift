// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

extension Parser {
    // MARK: Queries

    mutating func query() throws(SQLSyntaxError) -> Query {
        let level = nesting
        defer { nesting = level }
        try deepen()
        var with: [(name: String, columns: [String], query: Query)] = []
        if acceptKeyword("WITH") {
            repeat {
                let name = try identifier()
                let columns = current.isSymbol("(") ? try identifierList() : []
                try expectKeyword("AS")
                try expect("(")
                let subquery = try query()
                try expect(")")
                with.append((name, columns, subquery))
            } while accept(",")
        }
        let body = try setExpression()
        var orderBy: [OrderItem] = []
        if acceptKeywords("ORDER", "BY") { orderBy = try orderItems() }
        var limit: Expression?
        var offset: Expression?
        if acceptKeyword("LIMIT") { limit = try primary() }
        if acceptKeyword("OFFSET") {
            offset = try primary()
            _ = acceptKeyword("ROWS") || acceptKeyword("ROW")
        }
        if acceptKeyword("FETCH") {
            _ = acceptKeyword("FIRST") || acceptKeyword("NEXT")
            limit = try primary()
            _ = acceptKeyword("ROWS") || acceptKeyword("ROW")
            try expectKeyword("ONLY")
        }
        return Query(with: with, body: body, orderBy: orderBy, limit: limit, offset: offset)
    }

    mutating func setExpression() throws(SQLSyntaxError) -> QueryBody {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        var left = try setTerm()
        while isKeyword("UNION", "EXCEPT", "MINUS") {
            try deepen()
            let op = advance().text.uppercased() == "UNION" ? "UNION" : "EXCEPT"
            let all = acceptKeyword("ALL")
            if !all { _ = acceptKeyword("DISTINCT") }
            left = .setOperation(op, all: all, left, try setTerm(), origin: origin(from: start))
        }
        return left
    }

    mutating func setTerm() throws(SQLSyntaxError) -> QueryBody {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        var left = try queryPrimary()
        while acceptKeyword("INTERSECT") {
            try deepen()
            let all = acceptKeyword("ALL")
            if !all { _ = acceptKeyword("DISTINCT") }
            left = .setOperation("INTERSECT", all: all, left, try queryPrimary(), origin: origin(from: start))
        }
        return left
    }

    mutating func queryPrimary() throws(SQLSyntaxError) -> QueryBody {
        if acceptKeyword("SELECT") { return .select(try selectBody()) }
        if acceptKeyword("VALUES") { return .values(try valuesRows()) }
        if accept("(") {
            let inner = try query()
            try expect(")")
            // Parentheses around a bare body only group it; keep `.nested` for queries with their own clauses.
            if inner.with.isEmpty, inner.orderBy.isEmpty, inner.limit == nil, inner.offset == nil { return inner.body }
            return .nested(inner)
        }
        throw unexpected(expecting: "SELECT, VALUES or '('")
    }

    mutating func valuesRows() throws(SQLSyntaxError) -> [[Expression]] {
        var rows: [[Expression]] = []
        repeat {
            if accept("(") {
                var row = [try expression()]
                while accept(",") { row.append(try expression()) }
                try expect(")")
                rows.append(row)
            } else {
                rows.append([try expression()])
            }
        } while accept(",")
        return rows
    }

    mutating func selectBody() throws(SQLSyntaxError) -> Select {
        let distinct = acceptKeyword("DISTINCT")
        if !distinct { _ = acceptKeyword("ALL") }
        var items: [SelectItem] = []
        repeat {
            let expression = try expression()
            var alias: String?
            // `*` and `t.*` take no alias: a word after them (`SELECT * FORM t`) is where the select list went wrong.
            if case .star = expression {
            } else if acceptKeyword("AS") {
                alias = current.kind == .string ? try stringLiteral() : try identifier(allowReserved: true)
            } else if current.kind == .quotedIdentifier || (current.kind == .word && !Self.reserved.contains(current.text.uppercased())) {
                alias = try identifier()
            }
            items.append(SelectItem(expression: expression, alias: alias))
        } while accept(",")
        let from = acceptKeyword("FROM") ? try tableReferences() : nil
        let filter = acceptKeyword("WHERE") ? try expression() : nil
        var groupBy: [Expression] = []
        if acceptKeywords("GROUP", "BY") {
            repeat { groupBy.append(try expression()) } while accept(",")
        }
        let having = acceptKeyword("HAVING") ? try expression() : nil
        if acceptKeyword("WINDOW") { items = try resolveNamedWindows(items) }
        return Select(distinct: distinct, items: items, from: from, filter: filter, groupBy: groupBy, having: having)
    }

    mutating func orderItems() throws(SQLSyntaxError) -> [OrderItem] {
        var items: [OrderItem] = []
        repeat {
            let expression = try expression()
            var ascending = true
            if acceptKeyword("DESC") { ascending = false } else { _ = acceptKeyword("ASC") }
            var nullsFirst: Bool?
            if acceptKeyword("NULLS") {
                if acceptKeyword("FIRST") {
                    nullsFirst = true
                } else {
                    try expectKeyword("LAST")
                    nullsFirst = false
                }
            }
            items.append(OrderItem(expression: expression, ascending: ascending, nullsFirst: nullsFirst))
        } while accept(",")
        return items
    }

    // MARK: FROM

    mutating func tableReferences() throws(SQLSyntaxError) -> TableReference {
        let level = nesting
        defer { nesting = level }
        var left = try joinedTable()
        while accept(",") {
            try deepen()
            left = .join(left, try joinedTable(), kind: .cross, on: nil, using: [])
        }
        return left
    }

    mutating func joinedTable() throws(SQLSyntaxError) -> TableReference {
        let level = nesting
        defer { nesting = level }
        var left = try tablePrimary()
        while true {
            let kind: JoinKind
            if acceptKeywords("CROSS", "JOIN") {
                kind = .cross
            } else if acceptKeyword("JOIN") || acceptKeywords("INNER", "JOIN") {
                kind = .inner
            } else if isKeyword("LEFT", "RIGHT", "FULL") {
                let word = advance().text.uppercased()
                _ = acceptKeyword("OUTER")
                try expectKeyword("JOIN")
                kind = word == "LEFT" ? .left : word == "RIGHT" ? .right : .full
            } else {
                return left
            }
            try deepen()
            _ = acceptKeyword("LATERAL")
            let right = try tablePrimary()
            var on: Expression?
            var using: [String] = []
            if kind != .cross {
                if acceptKeyword("ON") {
                    on = try expression()
                } else if acceptKeyword("USING") {
                    using = try identifierList()
                } else if case .unnest = right {
                    on = nil
                } else if case .tableFunction = right {
                    on = nil
                } else {
                    throw unexpected(expecting: "ON or USING")
                }
            }
            left = .join(left, right, kind: kind, on: on, using: using)
        }
    }

    mutating func tableAlias() throws(SQLSyntaxError) -> TableAlias? {
        let hasAs = acceptKeyword("AS")
        guard hasAs || current.kind == .quotedIdentifier || (current.kind == .word && !Self.reserved.contains(current.text.uppercased())) else {
            return nil
        }
        let name = try identifier()
        let columns = current.isSymbol("(") ? try identifierList() : []
        return TableAlias(name: name, columns: columns)
    }

    mutating func tablePrimary() throws(SQLSyntaxError) -> TableReference {
        let level = nesting
        defer { nesting = level }
        try deepen()
        _ = acceptKeyword("LATERAL")
        if accept("(") {
            if isKeyword("SELECT", "WITH", "VALUES") {
                let subquery = try query()
                try expect(")")
                return .subquery(subquery, alias: try tableAlias())
            }
            if current.isSymbol("(") {
                // `((SELECT …))` is a subquery, `((a JOIN b) JOIN c)` a parenthesized join: try the query first.
                var attempt = self
                if let subquery = try? attempt.query(), attempt.accept(")") {
                    self = attempt
                    return .subquery(subquery, alias: try tableAlias())
                }
            }
            let inner = try tableReferences()
            try expect(")")
            return inner
        }
        if current.isKeyword("TABLE"), peek(1).isSymbol("(") {
            _ = advance()
            try expect("(")
            let call = try expression()
            try expect(")")
            return .tableFunction(call, alias: try tableAlias())
        }
        if current.isKeyword("UNNEST"), peek(1).isSymbol("(") {
            _ = advance()
            try expect("(")
            let argument = try expression()
            try expect(")")
            return .unnest(argument, alias: try tableAlias())
        }
        let name = try qualifiedName()
        var asOf: Expression?
        if acceptKeywords("FOR", "SYSTEM_TIME", "AS", "OF") { asOf = try additive() }
        return .named(name, alias: try tableAlias(), asOf: asOf)
    }

    // MARK: Expressions

    mutating func expression() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        try deepen()
        return try disjunction()
    }

    mutating func disjunction() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        var left = try conjunction()
        while acceptKeyword("OR") {
            try deepen()
            left = .binary("OR", left, try conjunction(), origin(from: start))
        }
        return left
    }

    mutating func conjunction() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        var left = try negation()
        while acceptKeyword("AND") {
            try deepen()
            left = .binary("AND", left, try negation(), origin(from: start))
        }
        return left
    }

    mutating func negation() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        if acceptKeyword("NOT") {
            try deepen()
            return .unary("NOT", try negation(), origin(from: start))
        }
        return try comparison()
    }

    static let comparisonOperators: Set<String> = ["=", "<>", "!=", "<", "<=", ">", ">="]

    mutating func comparison() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        var left = try additive()
        while true {
            if current.kind == .symbol, Self.comparisonOperators.contains(current.text) {
                try deepen()
                var op = advance().text
                if op == "!=" { op = "<>" }
                left = .binary(op, left, try additive(), origin(from: start))
            } else if acceptKeyword("IS") {
                try deepen()
                let negated = acceptKeyword("NOT")
                if acceptKeyword("NULL") {
                    left = .isNull(left, negated: negated)
                } else if acceptKeyword("TRUE") {
                    left = .isTruth(left, value: true, negated: negated)
                } else if acceptKeyword("FALSE") {
                    left = .isTruth(left, value: false, negated: negated)
                } else if acceptKeyword("UNKNOWN") {
                    left = .isTruth(left, value: nil, negated: negated)
                } else if acceptKeywords("DISTINCT", "FROM") {
                    left = .isDistinctFrom(left, try additive(), negated: negated)
                } else {
                    throw unexpected(expecting: "NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM")
                }
            } else if isKeyword("NOT")
                && (peek(1).isKeyword("BETWEEN") || peek(1).isKeyword("IN") || peek(1).isKeyword("LIKE") || peek(1).isKeyword("SIMILAR"))
            {
                _ = advance()
                try deepen()
                left = try predicate(left, from: start, negated: true)
            } else if isKeyword("BETWEEN", "IN", "LIKE", "SIMILAR") {
                try deepen()
                left = try predicate(left, from: start, negated: false)
            } else {
                return left
            }
        }
    }

    /// `BETWEEN`, `IN` or `[SIMILAR TO | LIKE]` after `left`, which was written from `start`.
    mutating func predicate(_ left: Expression, from start: SourcePosition, negated: Bool) throws(SQLSyntaxError) -> Expression {
        if acceptKeyword("BETWEEN") {
            let symmetric = acceptKeyword("SYMMETRIC")
            if !symmetric { _ = acceptKeyword("ASYMMETRIC") }
            let low = try additive()
            try expectKeyword("AND")
            let high = try additive()
            guard symmetric else { return .between(left, low: low, high: high, negated: negated, origin: origin(from: start)) }
            // BETWEEN SYMMETRIC accepts the bounds in either order.
            let either = Expression.binary(
                "OR", .between(left, low: low, high: high, negated: false), .between(left, low: high, high: low, negated: false))
            return negated ? .unary("NOT", either) : either
        }
        if acceptKeyword("IN") {
            try expect("(")
            if isKeyword("SELECT", "WITH", "VALUES") {
                let subquery = try query()
                try expect(")")
                return .inQuery(left, subquery, negated: negated)
            }
            var list = [try expression()]
            while accept(",") { list.append(try expression()) }
            try expect(")")
            return .inList(left, list, negated: negated, origin: origin(from: start))
        }
        let similar = acceptKeywords("SIMILAR", "TO")
        if !similar { try expectKeyword("LIKE") }
        let pattern = try additive()
        let escape = acceptKeyword("ESCAPE") ? try additive() : nil
        return .like(left, pattern: pattern, escape: escape, negated: negated, similar: similar, origin: origin(from: start))
    }

    mutating func additive() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        var left = try multiplicative()
        while current.isSymbol("+") || current.isSymbol("-") || current.isSymbol("||") {
            try deepen()
            let op = advance().text
            left = .binary(op, left, try multiplicative(), origin(from: start))
        }
        return left
    }

    mutating func multiplicative() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        var left = try unary()
        while current.isSymbol("*") || current.isSymbol("/") || current.isSymbol("%") {
            try deepen()
            let op = advance().text
            left = .binary(op, left, try unary(), origin(from: start))
        }
        return left
    }

    mutating func unary() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        while accept("+") {}
        let start = current.position
        if accept("-") {
            if current.kind == .number { return .number("-" + advance().text) }
            try deepen()
            return .unary("-", try unary(), origin(from: start))
        }
        return try postfix()
    }

    mutating func postfix() throws(SQLSyntaxError) -> Expression {
        let level = nesting
        defer { nesting = level }
        let start = current.position
        var base = try primary()
        while true {
            if accept("[") {
                try deepen()
                let index = try expression()
                try expect("]")
                base = .element(base, index)
            } else if current.isSymbol("."), case .column = base {
                _ = advance()
                if accept("*") {
                    guard case .column(let name) = base else { break }
                    return .star(qualifier: name)
                }
                guard case .column(let name) = base else { break }
                let field = try identifier(allowReserved: true)
                base = .column(
                    QualifiedName(name.parts + [field], origin: name.origin.span.map { Origin(SourceSpan($0.start, previousEnd)) } ?? .none))
            } else if current.isSymbol("::") {
                _ = advance()
                try deepen()
                base = .cast(base, try typeSyntax(), isTry: false, origin: origin(from: start))
            } else {
                return base
            }
        }
        return base
    }

    static let typedLiteralKeywords: Set<String> = ["DATE", "TIME", "TIMESTAMP", "TIMESTAMP_LTZ"]
    static let intervalUnits: Set<String> = [
        "YEAR", "YEARS", "MONTH", "MONTHS", "DAY", "DAYS", "HOUR", "HOURS", "MINUTE", "MINUTES", "SECOND", "SECONDS", "WEEK", "WEEKS",
        "QUARTER", "MILLISECOND", "MICROSECOND", "NANOSECOND", "EPOCH", "DOW", "DOY", "DECADE", "CENTURY", "MILLENNIUM", "ISODOW", "ISOYEAR",
    ]

    /// `MINUTES` → `MINUTE`; other units unchanged, upper case.
    static func singularUnit(_ unit: String) -> String {
        let upper = unit.uppercased()
        if upper.hasSuffix("S"), upper != "EPOCHS", intervalUnits.contains(String(upper.dropLast())) { return String(upper.dropLast()) }
        return upper
    }

    mutating func intervalUnit() throws(SQLSyntaxError) -> String {
        guard current.kind == .word, Self.intervalUnits.contains(current.text.uppercased()) else { throw unexpected(expecting: "a time unit") }
        var unit = Self.singularUnit(advance().text)
        if accept("(") {
            unit += "(\(try integer()))"
            try expect(")")
        }
        return unit
    }

    mutating func primary() throws(SQLSyntaxError) -> Expression {
        let token = current
        switch token.kind {
        case .number:
            _ = advance()
            return .number(token.text)
        case .string:
            _ = advance()
            var text = token.text
            while current.kind == .string { text += advance().text }
            return .string(text)
        case .quotedIdentifier:
            let name = advance()
            return .column(QualifiedName([name.text], origin: Origin(name.span)))
        case .symbol:
            if accept("*") { return .star(qualifier: nil) }
            if accept("(") {
                if isKeyword("SELECT", "WITH", "VALUES") {
                    let subquery = try query()
                    try expect(")")
                    return .scalarSubquery(subquery)
                }
                let first = try expression()
                if accept(",") {
                    var fields = [first]
                    repeat { fields.append(try expression()) } while accept(",")
                    try expect(")")
                    return .row(fields)
                }
                try expect(")")
                return first
            }
            throw unexpected(expecting: "an expression")
        case .end:
            throw unexpected(expecting: "an expression")
        case .word:
            return try wordExpression()
        }
    }

    mutating func wordExpression() throws(SQLSyntaxError) -> Expression {
        let word = current.text.uppercased()
        switch word {
        case "NULL":
            _ = advance()
            return .null
        case "TRUE", "FALSE":
            _ = advance()
            return .boolean(word == "TRUE")
        case "CASE": return try caseExpression()
        case "CAST", "TRY_CAST":
            guard peek(1).isSymbol("(") else { break }
            let start = current.position
            _ = advance()
            try expect("(")
            let operand = try expression()
            try expectKeyword("AS")
            let type = try typeSyntax()
            try expect(")")
            return .cast(operand, type, isTry: word == "TRY_CAST", origin: origin(from: start))
        case "EXTRACT":
            guard peek(1).isSymbol("(") else { break }
            _ = advance()
            try expect("(")
            let unit = try intervalUnit()
            try expectKeyword("FROM")
            let from = try expression()
            try expect(")")
            return .extract(unit: unit, from: from)
        case "INTERVAL":
            _ = advance()
            var negative = false
            if accept("-") { negative = true } else { _ = accept("+") }
            let value: String
            if current.kind == .string {
                value = try stringLiteral()
            } else if current.kind == .number {
                value = advance().text
            } else {
                throw unexpected(expecting: "an interval value")
            }
            let unit = try intervalUnit()
            let toUnit = acceptKeyword("TO") ? try intervalUnit() : nil
            return .interval(value: (negative ? "-" : "") + value, unit: unit, toUnit: toUnit)
        case "EXISTS":
            guard peek(1).isSymbol("(") else { break }
            _ = advance()
            try expect("(")
            let subquery = try query()
            try expect(")")
            return .exists(subquery)
        case "ROW":
            guard peek(1).isSymbol("(") else { break }
            _ = advance()
            try expect("(")
            var fields: [Expression] = []
            if !accept(")") {
                repeat { fields.append(try expression()) } while accept(",")
                try expect(")")
            }
            return .row(fields)
        case "ARRAY", "MAP":
            guard peek(1).isSymbol("[") else { break }
            _ = advance()
            try expect("[")
            var elements: [Expression] = []
            if !accept("]") {
                repeat { elements.append(try expression()) } while accept(",")
                try expect("]")
            }
            return word == "ARRAY" ? .array(elements) : .map(elements)
        case "TABLE":
            _ = advance()
            return .tableArgument(try qualifiedName())
        case "DESCRIPTOR":
            guard peek(1).isSymbol("(") else { break }
            _ = advance()
            return .descriptor(try identifierList())
        default:
            if Self.typedLiteralKeywords.contains(word), peek(1).kind == .string {
                _ = advance()
                return .typedLiteral(type: word, value: try stringLiteral())
            }
        }
        // Named arguments may be spelled like keywords (`OFFSET => INTERVAL '1' MINUTE`).
        if peek(1).isSymbol("=>") {
            let name = advance().text
            _ = advance()
            return .namedArgument(name, try expression())
        }
        let isFunctionNamedLikeKeyword = ((word == "LEFT" || word == "RIGHT") && peek(1).isSymbol("(")) || word == "COMMENT"
        if Self.reserved.contains(word) && !isFunctionNamedLikeKeyword { throw unexpected(expecting: "an expression") }
        let name = try qualifiedName()
        if current.isSymbol("(") { return try functionCall(name) }
        return .column(name)
    }

    mutating func functionCall(_ name: QualifiedName) throws(SQLSyntaxError) -> Expression {
        try expect("(")
        if name.parts.count == 1, name.name.uppercased() == "TRIM", !current.isSymbol(")") { return try trimCall() }
        var distinct = false
        var arguments: [Expression] = []
        if !accept(")") {
            distinct = acceptKeyword("DISTINCT")
            if !distinct { _ = acceptKeyword("ALL") }
            let upper = name.parts.count == 1 ? name.name.uppercased() : ""
            let isPosition = upper == "POSITION"
            let isOverlay = upper == "OVERLAY"
            // Only these calls have keyword forms; elsewhere FROM is where the argument list should have ended.
            let takesFromFor = upper == "SUBSTRING" || isOverlay
            repeat {
                var argument = isPosition ? try additive() : try expression()
                // FLOOR(ts TO DAY) / CEIL(ts TO HOUR) keep the unit as a bare-word argument.
                if acceptKeyword("TO") {
                    arguments.append(argument)
                    argument = .column(QualifiedName([try intervalUnit()]))
                }
                // TRIM(BOTH 'x' FROM s), POSITION(a IN b), SUBSTRING(s FROM 2 FOR 3), OVERLAY(s PLACING r FROM 2 FOR 3),
                // TIMESTAMPADD(unit, …) keep their arguments; the keyword forms are normalized to positional arguments.
                if isOverlay, acceptKeyword("PLACING") {
                    arguments.append(argument)
                    argument = try expression()
                }
                if (takesFromFor && acceptKeyword("FROM")) || (isPosition && acceptKeyword("IN")) {
                    arguments.append(argument)
                    argument = try expression()
                }
                if takesFromFor, acceptKeyword("FOR") {
                    arguments.append(argument)
                    argument = try expression()
                }
                arguments.append(argument)
            } while accept(",")
            try expect(")")
        }
        var name = name
        name.origin = Origin(SourceSpan(name.origin.span?.start ?? current.position, previousEnd))
        // `agg(x) FILTER (WHERE c)` aggregates only the rows where c is TRUE: as `agg(CASE WHEN c THEN x END)`, since
        // every aggregate ignores NULL arguments (COUNT(*) counts `CASE WHEN c THEN 1 END`).
        if current.isKeyword("FILTER"), peek(1).isSymbol("(") {
            let upper = name.name.uppercased()
            guard QueryAnalyzer.aggregateNames.contains(upper) else {
                throw SQLSyntaxError("FILTER is only allowed with aggregate functions, not \(name.name)", at: current.position)
            }
            _ = acceptKeyword("FILTER")
            try expect("(")
            try expectKeyword("WHERE")
            let condition = try expression()
            try expect(")")
            let isCountStar = arguments.isEmpty || { if case .star = arguments[0] { true } else { false } }()
            let kept = isCountStar ? [Expression.number("1")] : arguments
            arguments = kept.map { .caseWhen(operand: nil, branches: [CaseBranch(condition: condition, result: $0)], otherwise: nil) }
        }
        var over: WindowSpecification?
        if acceptKeyword("OVER") { over = try windowSpecification() }
        return .function(name: name, arguments: arguments, distinct: distinct, over: over)
    }

    /// `TRIM([BOTH|LEADING|TRAILING] [chars] FROM s)` after `TRIM(`: BOTH stays `TRIM(chars, s)`, LEADING and TRAILING
    /// become `LTRIM(s, chars)` and `RTRIM(s, chars)`.
    mutating func trimCall() throws(SQLSyntaxError) -> Expression {
        var mode = "BOTH"
        if acceptKeyword("LEADING") { mode = "LEADING" } else if acceptKeyword("TRAILING") { mode = "TRAILING" } else { _ = acceptKeyword("BOTH") }
        var characters: Expression?
        let source: Expression
        if acceptKeyword("FROM") {
            source = try expression()
        } else {
            let first = try expression()
            if acceptKeyword("FROM") {
                characters = first
                source = try expression()
            } else {
                source = first
            }
        }
        try expect(")")
        let trimmed = characters ?? .string(" ")
        switch mode {
        case "LEADING": return .function(name: QualifiedName(["LTRIM"]), arguments: [source, trimmed], distinct: false, over: nil)
        case "TRAILING": return .function(name: QualifiedName(["RTRIM"]), arguments: [source, trimmed], distinct: false, over: nil)
        default:
            return .function(name: QualifiedName(["TRIM"]), arguments: characters.map { [$0, source] } ?? [source], distinct: false, over: nil)
        }
    }

    /// `(PARTITION BY … ORDER BY … frame)` after OVER, or the name of a window of the `WINDOW` clause.
    mutating func windowSpecification() throws(SQLSyntaxError) -> WindowSpecification {
        if !current.isSymbol("(") {
            return WindowSpecification(partitionBy: [], orderBy: [], frame: nil, reference: try identifier())
        }
        try expect("(")
        var partitionBy: [Expression] = []
        var orderBy: [OrderItem] = []
        var frame: WindowFrame?
        if acceptKeywords("PARTITION", "BY") {
            repeat { partitionBy.append(try expression()) } while accept(",")
        }
        if acceptKeywords("ORDER", "BY") { orderBy = try orderItems() }
        if isKeyword("ROWS", "RANGE") {
            let unit: WindowFrame.Unit
            if acceptKeyword("ROWS") {
                unit = .rows
            } else {
                _ = acceptKeyword("RANGE")
                unit = .range
            }
            if acceptKeyword("BETWEEN") {
                let start = try frameBound()
                try expectKeyword("AND")
                frame = WindowFrame(unit: unit, start: start, end: try frameBound())
            } else {
                frame = WindowFrame(unit: unit, start: try frameBound(), end: .currentRow)
            }
        }
        try expect(")")
        return WindowSpecification(partitionBy: partitionBy, orderBy: orderBy, frame: frame)
    }

    /// `UNBOUNDED PRECEDING|FOLLOWING`, `CURRENT ROW` or `offset PRECEDING|FOLLOWING`.
    private mutating func frameBound() throws(SQLSyntaxError) -> WindowFrame.Bound {
        if acceptKeyword("UNBOUNDED") {
            if acceptKeyword("PRECEDING") { return .unboundedPreceding }
            try expectKeyword("FOLLOWING")
            return .unboundedFollowing
        }
        if acceptKeywords("CURRENT", "ROW") { return .currentRow }
        let offset = try expression()
        if acceptKeyword("PRECEDING") { return .preceding(offset) }
        try expectKeyword("FOLLOWING")
        return .following(offset)
    }

    /// `WINDOW name AS (…)[, …]`: the select list's `OVER name` references are replaced by the named specifications.
    mutating func resolveNamedWindows(_ items: [SelectItem]) throws(SQLSyntaxError) -> [SelectItem] {
        var windows: [String: WindowSpecification] = [:]
        repeat {
            let position = current.position
            let name = try identifier()
            try expectKeyword("AS")
            let specification = try windowSpecification()
            guard specification.reference == nil else { throw SQLSyntaxError("A named window must be defined in parentheses", at: position) }
            guard windows[name] == nil else { throw SQLSyntaxError("Duplicate window name '\(name)'", at: position) }
            windows[name] = specification
        } while accept(",")
        let position = current.position
        var resolved: [SelectItem] = []
        for item in items {
            // The rewrite recurses over the item, which must first be known to nest within the limit.
            if NestingProbe(limit: SQLLimits.nestingDepth).exceeds(item.expression) { throw Self.tooDeeplyNested(at: position) }
            let expression = try item.expression.rewritten { (e: Expression) throws(SQLSyntaxError) -> Expression? in
                guard case .function(let name, let arguments, let distinct, let over?) = e, let reference = over.reference else { return nil }
                guard let window = windows[reference] else { throw SQLSyntaxError("Window '\(reference)' not found", at: position) }
                return .function(name: name, arguments: arguments, distinct: distinct, over: window)
            }
            resolved.append(SelectItem(expression: expression, alias: item.alias))
        }
        return resolved
    }

    mutating func caseExpression() throws(SQLSyntaxError) -> Expression {
        let start = current.position
        try expectKeyword("CASE")
        let operand = isKeyword("WHEN") ? nil : try expression()
        var branches: [CaseBranch] = []
        while acceptKeyword("WHEN") {
            let condition = try expression()
            try expectKeyword("THEN")
            branches.append(CaseBranch(condition: condition, result: try expression()))
        }
        guard !branches.isEmpty else { throw unexpected(expecting: "WHEN") }
        let otherwise = acceptKeyword("ELSE") ? try expression() : nil
        try expectKeyword("END")
        return .caseWhen(operand: operand, branches: branches, otherwise: otherwise, origin: origin(from: start))
    }

    // MARK: Types

    mutating func typeSyntax() throws(SQLSyntaxError) -> TypeSyntax {
        let level = nesting
        defer { nesting = level }
        try deepen()
        var type = try baseType()
        if acceptKeywords("NOT", "NULL") {
            type = type.withNullable(false)
        } else {
            _ = acceptKeyword("NULL")
        }
        // Postfix collection syntax: `INT ARRAY`, `STRING MULTISET`.
        while true {
            if acceptKeyword("ARRAY") {
                try deepen()
                type = .array(type, nullable: true)
            } else if acceptKeyword("MULTISET") {
                try deepen()
                type = .multiset(type, nullable: true)
            } else {
                return type
            }
        }
    }

    mutating func baseType() throws(SQLSyntaxError) -> TypeSyntax {
        guard current.kind == .word || current.kind == .quotedIdentifier else { throw unexpected(expecting: "a data type") }
        let word = advance().text.uppercased()
        switch word {
        case "ARRAY", "MULTISET":
            try expect("<")
            let element = try typeSyntax()
            try expect(">")
            return word == "ARRAY" ? .array(element, nullable: true) : .multiset(element, nullable: true)
        case "MAP":
            try expect("<")
            let key = try typeSyntax()
            try expect(",")
            let value = try typeSyntax()
            try expect(">")
            return .map(key, value, nullable: true)
        case "ROW":
            let close: String
            if accept("<") {
                close = ">"
            } else {
                try expect("(")
                close = ")"
            }
            var fields: [(name: String, type: TypeSyntax)] = []
            if !accept(close) {
                repeat {
                    let name = try identifier(allowReserved: true)
                    let type = try typeSyntax()
                    if current.kind == .string { _ = advance() }
                    fields.append((name, type))
                } while accept(",")
                try expect(close)
            }
            return .row(fields, nullable: true)
        default:
            var name = word
            if word == "DOUBLE" { _ = acceptKeyword("PRECISION") }
            if word == "CHARACTER" || word == "CHAR", acceptKeyword("VARYING") { name = "VARCHAR" }
            if word == "BINARY", acceptKeyword("VARYING") { name = "VARBINARY" }
            var parameters: [Int] = []
            if accept("(") {
                repeat { parameters.append(try integer()) } while accept(",")
                try expect(")")
            }
            if name == "TIMESTAMP" || name == "TIME" {
                if acceptKeywords("WITH", "LOCAL", "TIME", "ZONE") {
                    name = "TIMESTAMP_LTZ"
                } else {
                    _ = acceptKeywords("WITHOUT", "TIME", "ZONE")
                }
            }
            return .named(name, parameters, nullable: true)
        }
    }
}

extension TypeSyntax {
    func withNullable(_ nullable: Bool) -> TypeSyntax {
        switch self {
        case .named(let name, let parameters, _): return .named(name, parameters, nullable: nullable)
        case .array(let element, _): return .array(element, nullable: nullable)
        case .multiset(let element, _): return .multiset(element, nullable: nullable)
        case .map(let key, let value, _): return .map(key, value, nullable: nullable)
        case .row(let fields, _): return .row(fields, nullable: nullable)
        }
    }
}
