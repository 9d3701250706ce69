// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

extension QueryAnalyzer {
    /// Resolves and type-checks an expression over `scope`; with `aggregation`, over the grouped rows (keys, then
    /// aggregates) instead.
    ///
    /// A mistake found here points at the innermost written expression that holds it (``SQLError/located(_:)``).
    func bind(_ expression: Expression, _ scope: Scope, aggregation: AggregationContext? = nil) throws(SQLError) -> BoundExpression {
        do {
            return try bindWithoutLocation(expression, scope, aggregation: aggregation)
        } catch {
            throw error.located(expression.span)
        }
    }

    private func bindWithoutLocation(_ expression: Expression, _ scope: Scope, aggregation: AggregationContext?) throws(SQLError) -> BoundExpression {
        if let aggregation {
            if let keyIndex = try groupKeyIndex(expression, aggregation) {
                return BoundExpression(.column(keyIndex), aggregation.boundKeys[keyIndex].type)
            }
            if case .function(let name, let arguments, let distinct, nil) = expression, Self.aggregateNames.contains(name.name.uppercased()) {
                return try aggregateCall(name.name.uppercased(), arguments, distinct: distinct, aggregation)
            }
            if case .column(let name) = expression {
                _ = try aggregation.inputScope.resolve(name)
                throw SQLError("Expression '\(name.parts.joined(separator: "."))' is not being grouped")
            }
        }
        func recurse(_ e: Expression) throws(SQLError) -> BoundExpression { try bind(e, scope, aggregation: aggregation) }
        switch expression {
        case .null: return .literal(.null, SQLType(.null))
        case .boolean(let b): return .literal(.bool(b), SQLType(.boolean, nullable: false))
        case .number(let text): return try numberLiteral(text)
        case .string(let text): return .literal(.string(text), SQLType(.char(max(1, text.count)), nullable: false))
        case .typedLiteral(let type, let text): return try typedLiteral(type, text)
        case .interval(let value, let unit, let toUnit): return try intervalLiteral(value, unit, toUnit)
        case .column(let name):
            if name.parts.count == 1, library.isNiladic(name.name.uppercased()), (try? scope.resolve(name)) == nil {
                return try library.call(name.name.uppercased(), [], scope: scope, bindArgument: recurse)
            }
            let index: Int
            do {
                index = try scope.resolve(name)
            } catch {
                if name.parts.count > 1, let access = fieldAccess(name, scope) { return access }
                throw error
            }
            return BoundExpression(.column(index), scope.fields[index].type)
        case .star: throw SQLError("'*' is only allowed in a select list or COUNT(*).")
        case .unary(let op, let operand, _):
            let bound = try recurse(operand)
            if op == "NOT" {
                try requireBoolean(bound, "NOT")
                return BoundExpression(.not(bound), bound.type)
            }
            guard bound.type.isNumeric || bound.type.kind == .intervalDayTime else {
                throw SQLError("Cannot apply '-' to arguments of type '-<\(bound.type.errorSpelling)>'. Supported form(s): '-<NUMERIC>'")
            }
            if let value = bound.constant, case .int(let v) = value { return .literal(.int(-v), bound.type) }
            return BoundExpression(.negate(bound), bound.type)
        case .binary(let op, let leftExpression, let rightExpression, _):
            let left = try recurse(leftExpression)
            let right = try recurse(rightExpression)
            return try binary(op, left, right)
        case .isNull(let operand, let negated):
            return BoundExpression(.isNull(try recurse(operand), negated: negated), SQLType(.boolean, nullable: false))
        case .isTruth(let operand, let value, let negated):
            let bound = try recurse(operand)
            try requireBoolean(bound, "IS")
            // IS TRUE: value = TRUE and not null; IS UNKNOWN: null.
            let test: BoundExpression
            if let value {
                let equal = BoundExpression(.compare(.equal, bound, .literal(.bool(value), SQLType(.boolean, nullable: false))), bound.type)
                test = BoundExpression(.and([BoundExpression(.isNull(bound, negated: true), SQLType(.boolean, nullable: false)), equal]), bound.type)
                let coalesced = BoundExpression(
                    .caseWhen(
                        [(test, .literal(.bool(true), SQLType(.boolean, nullable: false)))],
                        otherwise: .literal(.bool(false), SQLType(.boolean, nullable: false))), SQLType(.boolean, nullable: false))
                return negated ? BoundExpression(.not(coalesced), coalesced.type) : coalesced
            }
            return BoundExpression(.isNull(bound, negated: negated), SQLType(.boolean, nullable: false))
        case .isDistinctFrom(let a, let b, let negated):
            let left = try recurse(a)
            let right = try recurse(b)
            let equal = try compare(.equal, left, right)
            let bothNull = BoundExpression(
                .and([
                    BoundExpression(.isNull(left, negated: false), SQLType(.boolean, nullable: false)),
                    BoundExpression(.isNull(right, negated: false), SQLType(.boolean, nullable: false)),
                ]), SQLType(.boolean, nullable: false))
            let anyNull = BoundExpression(
                .or([
                    BoundExpression(.isNull(left, negated: false), SQLType(.boolean, nullable: false)),
                    BoundExpression(.isNull(right, negated: false), SQLType(.boolean, nullable: false)),
                ]), SQLType(.boolean, nullable: false))
            let notDistinct = BoundExpression(
                .caseWhen(
                    [
                        (bothNull, .literal(.bool(true), SQLType(.boolean, nullable: false))),
                        (anyNull, .literal(.bool(false), SQLType(.boolean, nullable: false))),
                    ],
                    otherwise: equal.casted(to: SQLType(.boolean, nullable: false))), SQLType(.boolean, nullable: false))
            return negated ? notDistinct : BoundExpression(.not(notDistinct), notDistinct.type)
        case .between(let operand, let low, let high, let negated, _):
            let value = try recurse(operand)
            let (lowValue, highValue) = (try recurse(low), try recurse(high))
            let lower: BoundExpression
            let upper: BoundExpression
            do {
                lower = try compare(.greaterOrEqual, value, lowValue)
                upper = try compare(.lessOrEqual, value, highValue)
            } catch {
                let name = negated ? "NOT BETWEEN ASYMMETRIC" : "BETWEEN ASYMMETRIC"
                let spelled = [value, lowValue, highValue].map { "<\($0.type.errorSpelling)>" }
                throw SQLError(
                    "Cannot apply '\(name)' to arguments of type '\(spelled[0]) \(name) \(spelled[1]) AND \(spelled[2])'. "
                        + "Supported form(s): '<COMPARABLE_TYPE> \(name) <COMPARABLE_TYPE> AND <COMPARABLE_TYPE>'")
            }
            let both = BoundExpression(.and([lower, upper]), SQLType(.boolean, nullable: lower.type.nullable || upper.type.nullable))
            return negated ? BoundExpression(.not(both), both.type) : both
        case .inList(let operand, let list, let negated, _):
            let value = try recurse(operand)
            var tests: [BoundExpression] = []
            for item in list {
                let itemValue = try recurse(item)
                do {
                    tests.append(try compare(.equal, value, itemValue))
                } catch {
                    throw SQLError("Values in expression list must have compatible types")
                }
            }
            let any = BoundExpression(.or(tests), SQLType(.boolean, nullable: tests.contains { $0.type.nullable }))
            return negated ? BoundExpression(.not(any), any.type) : any
        case .like(let operand, let pattern, let escape, let negated, let similar, _):
            let value = try recurse(operand)
            let patternValue = try recurse(pattern)
            guard value.type.isCharacter || value.type.isNull, patternValue.type.isCharacter || patternValue.type.isNull else {
                throw SQLError(
                    "Cannot apply 'LIKE' to arguments of type 'LIKE(<\(value.type.errorSpelling)>, <\(patternValue.type.errorSpelling)>)'. Supported form(s): 'LIKE(<STRING>, <STRING>, <STRING>)'"
                )
            }
            var escapeCharacter: Character?
            if let escape, case .string(let e) = escape { escapeCharacter = e.first }
            let compiledEscape = escapeCharacter
            let like = FunctionLibrary.function(similar ? "SIMILAR TO" : "LIKE", [value, patternValue], SQLType(.boolean, nullable: false)) {
                v throws(SQLError) in
                .bool(LikePattern.matches(v[0].string ?? "", pattern: v[1].string ?? "", escape: compiledEscape, similar: similar))
            }
            return negated ? BoundExpression(.not(like), like.type) : like
        case .function(let name, let arguments, let distinct, let over):
            let upper = name.name.uppercased()
            guard over == nil else { throw Self.unsupportedOver(upper) }
            _ = distinct
            return try library.call(upper, arguments, scope: scope, bindArgument: recurse)
        case .cast(let operand, let typeSyntax, let isTry, _):
            let bound = try recurse(operand)
            var target = try SQLType.resolve(typeSyntax)
            guard SQLType.canCast(bound.type, to: target) else {
                throw SQLError("Cast function cannot convert value of type \(bound.type.errorSpelling) to type \(target.errorSpelling)")
            }
            target = target.withNullable(bound.type.nullable || isTry || (target.isDecimal && !bound.type.isDecimal && !bound.type.isInteger))
            if let constant = bound.constant, !isTry, bound.type.kind != target.kind {
                // Constant casts fold at analysis time, so bad literals fail at preparation, as Flink does.
                let folded = try library.caster.cast(constant, from: bound.type, to: target)
                return .literal(folded, target.withNullable(folded.isNull || target.nullable))
            }
            return BoundExpression(.cast(bound, isTry: isTry), target)
        case .caseWhen(let operand, let branches, let otherwise, _):
            let subject = try operand.map(recurse)
            var conditions: [BoundExpression] = []
            var results: [BoundExpression] = []
            for branch in branches {
                let condition = try recurse(branch.condition)
                if let subject {
                    conditions.append(try compare(.equal, subject, condition))
                } else {
                    try requireBoolean(condition, "CASE")
                    conditions.append(condition)
                }
                results.append(try recurse(branch.result))
            }
            let elseResult = try otherwise.map(recurse)
            var type = results[0].type
            for result in results.dropFirst() + (elseResult.map { [$0] } ?? []) {
                guard let common = SQLType.common(type, result.type) else {
                    throw SQLError("Illegal mixing of types in CASE or COALESCE statement")
                }
                type = common
            }
            if elseResult == nil { type = type.withNullable(true) }
            let finalType = type
            return BoundExpression(
                .caseWhen(
                    zip(conditions, results).map { ($0, $1.casted(to: finalType.withNullable($1.type.nullable))) },
                    otherwise: elseResult?.casted(to: finalType.withNullable(elseResult!.type.nullable))), finalType)
        case .extract(let unit, let operand):
            return try library.call("EXTRACT", [try recurse(operand)], unit: unit)
        case .row(let items):
            var bound: [BoundExpression] = []
            for item in items { bound.append(try recurse(item)) }
            let fields = bound.enumerated().map { SQLType.RowField(name: "EXPR$\($0.offset)", type: $0.element.type) }
            return FunctionLibrary.function("ROW", bound, SQLType(.row(fields), nullable: false), strict: false) { v throws(SQLError) in .list(v) }
        case .array(let items):
            var bound: [BoundExpression] = []
            for item in items { bound.append(try recurse(item)) }
            guard var element = bound.first?.type else { throw SQLError("ARRAY needs at least one element") }
            for item in bound.dropFirst() {
                guard let common = SQLType.common(element, item.type) else { throw SQLError("Parameters must be of the same type") }
                element = common
            }
            let finalElement = element
            return FunctionLibrary.function(
                "ARRAY", bound.map { $0.casted(to: finalElement) }, SQLType(.array(finalElement), nullable: false), strict: false
            ) { v throws(SQLError) in .list(v) }
        case .map(let items):
            var bound: [BoundExpression] = []
            for item in items { bound.append(try recurse(item)) }
            guard bound.count >= 2, bound.count % 2 == 0 else { throw SQLError("MAP requires an even number of arguments") }
            var key = bound[0].type
            var value = bound[1].type
            for (index, item) in bound.enumerated().dropFirst(2) {
                guard let common = SQLType.common(index % 2 == 0 ? key : value, item.type) else {
                    throw SQLError("Parameters must be of the same type")
                }
                if index % 2 == 0 { key = common } else { value = common }
            }
            let (k, v) = (key, value)
            return FunctionLibrary.function(
                "MAP", bound.enumerated().map { $0.element.casted(to: $0.offset % 2 == 0 ? k : v) }, SQLType(.map(key: k, value: v), nullable: false),
                strict: false
            ) { values throws(SQLError) in
                var entries: [Value] = []
                for pair in stride(from: 0, to: values.count, by: 2) {
                    let entry = Value.list([values[pair], values[pair + 1]])
                    if let existing = entries.firstIndex(where: { $0.list?.first == values[pair] }) {
                        entries[existing] = entry
                    } else {
                        entries.append(entry)
                    }
                }
                return .list(entries)
            }
        case .element(let container, let index):
            let base = try recurse(container)
            let key = try recurse(index)
            switch base.type.kind {
            case .array(let element):
                return FunctionLibrary.function("ITEM", [base, key], element.withNullable(true)) { v throws(SQLError) in
                    let items = v[0].list ?? []
                    let position = Int(v[1].int ?? 0)
                    return position >= 1 && position <= items.count ? items[position - 1] : .null
                }
            case .map(_, let valueType):
                return FunctionLibrary.function("ITEM", [base, key], valueType.withNullable(true)) { v throws(SQLError) in
                    (v[0].list ?? []).first { $0.list?.first == v[1] }?.list?.last ?? .null
                }
            default: throw SQLError("Cannot apply 'ITEM' to arguments of type 'ITEM(<\(base.type.errorSpelling)>, <\(key.type.errorSpelling)>)'")
            }
        case .scalarSubquery, .exists, .inQuery:
            throw SQLError.unsupported("Subqueries in expressions are not supported yet.")
        case .tableArgument, .descriptor, .namedArgument:
            throw SQLError("Table arguments are only allowed in table functions.")
        }
    }

    /// `column.field[.field…]` (optionally `table.column.field…`): access to fields of a ROW column.
    func fieldAccess(_ name: QualifiedName, _ scope: Scope) -> BoundExpression? {
        for prefixLength in stride(from: name.parts.count - 1, through: 1, by: -1) {
            guard let index = try? scope.resolve(QualifiedName(Array(name.parts.prefix(prefixLength)))) else { continue }
            var current = BoundExpression(.column(index), scope.fields[index].type)
            for part in name.parts.dropFirst(prefixLength) {
                guard case .row(let fields) = current.type.kind, let position = fields.firstIndex(where: { $0.name == part }) else { return nil }
                let type = fields[position].type.withNullable(fields[position].type.nullable || current.type.nullable)
                current = FunctionLibrary.function("DOT", [current], type, strict: false) { v throws(SQLError) in
                    guard let items = v[0].list, position < items.count else { return .null }
                    return items[position]
                }
            }
            return current
        }
        return nil
    }

    // MARK: Aggregation

    private func groupKeyIndex(_ expression: Expression, _ aggregation: AggregationContext) throws(SQLError) -> Int? {
        if let index = aggregation.groupExpressions.firstIndex(where: { $0 == expression }) { return index }
        if case .column(let name) = expression, let column = try? aggregation.inputScope.resolve(name) {
            return aggregation.boundKeys.firstIndex { $0.columnIndex == column }
        }
        return nil
    }

    private func aggregateCall(
        _ name: String, _ arguments: [Expression], distinct: Bool, _ aggregation: AggregationContext
    ) throws(SQLError) -> BoundExpression {
        let text = Expression.function(name: QualifiedName([name]), arguments: arguments, distinct: distinct, over: nil).sql
        let keyCount = aggregation.boundKeys.count
        if let existing = aggregation.callTexts.firstIndex(of: text) {
            return BoundExpression(.column(keyCount + existing), aggregation.calls[existing].type)
        }
        var argumentIndex: Int?
        var argumentType: SQLType?
        var filterIndex: Int?
        /// The input column computing `expression`: an earlier argument spelled the same when the expression calls no
        /// function (a function's spelling does not show what its implementation captured, such as EXTRACT's unit),
        /// or a new one.
        func argumentColumn(_ expression: BoundExpression) -> Int {
            if !expression.callsFunction {
                let spelled = String(reflecting: expression)
                if let existing = aggregation.arguments.firstIndex(where: { !$0.callsFunction && String(reflecting: $0) == spelled }) {
                    return keyCount + existing
                }
            }
            aggregation.arguments.append(expression)
            return keyCount + aggregation.arguments.count - 1
        }
        let isCountStar = name == "COUNT" && (arguments.isEmpty || { if case .star = arguments[0] { true } else { false } }())
        if !isCountStar {
            guard arguments.count == 1 || (name == "COUNT" && !arguments.isEmpty) else {
                throw SQLError("Invalid number of arguments to function '\(name)'. Was expecting 1 arguments")
            }
            if let nested = arguments.lazy.compactMap(firstAggregate).first {
                throw SQLError("Aggregate expressions cannot be nested", at: nested.span)
            }
            var bound = try bind(arguments[0], aggregation.inputScope)
            if arguments.count > 1 {
                // COUNT(a, b, ...) counts the rows where no argument is NULL: count one composite value that is NULL
                // when any part is.
                var parts: [BoundExpression] = []
                for argument in arguments { parts.append(try bind(argument, aggregation.inputScope)) }
                let fields = parts.enumerated().map { SQLType.RowField(name: "EXPR$\($0.offset)", type: $0.element.type) }
                let anyNull = BoundExpression(
                    .or(parts.map { BoundExpression(.isNull($0, negated: false), SQLType(.boolean, nullable: false)) }),
                    SQLType(.boolean, nullable: false))
                let row = FunctionLibrary.function("ROW", parts, SQLType(.row(fields), nullable: false), strict: false) { v throws(SQLError) in
                    .list(v)
                }
                bound = BoundExpression(
                    .caseWhen([(anyNull, .literal(.null, row.type.withNullable(true)))], otherwise: row), row.type.withNullable(true))
            }
            if distinct, name == "COUNT", arguments.count == 1, aggregation.splitsDistinctFilters,
                case .caseWhen(let branches, nil) = bound.node, branches.count == 1, branches[0].result.type.physical == .int,
                branches[0].result.columnIndex != nil
            {
                // COUNT(DISTINCT x) FILTER (WHERE c): x and c as columns of their own. Only for a bare column x, which
                // evaluating on every row cannot make fail (the CASE evaluates x only where c holds).
                argumentIndex = argumentColumn(branches[0].result)
                argumentType = branches[0].result.type.withNullable(true)
                filterIndex = argumentColumn(branches[0].condition)
            } else {
                argumentIndex = keyCount + aggregation.arguments.count
                argumentType = bound.type
                aggregation.arguments.append(bound)
            }
        }
        guard let definition = library.registry[name], case .aggregate(let function) = definition.binding else {
            throw FunctionLibrary.noMatch(name, [])
        }
        // Calcite: SUM, AVG, MIN and MAX are nullable over a possibly empty group (no GROUP BY) or a nullable argument.
        let nullableResult = (aggregation.groupExpressions.isEmpty && !aggregation.neverEmpty) || (argumentType?.nullable ?? true)
        let type: SQLType
        switch function {
        case .count: type = SQLType(.bigint, nullable: false)
        case .sum, .sum0:
            guard let argumentType, argumentType.isNumeric else { throw aggregateMismatch(name, argumentType, definition.signature) }
            if case .decimal(_, let s) = argumentType.kind {
                type = SQLType(.decimal(precision: 38, scale: s), nullable: nullableResult)
            } else {
                type = argumentType.withNullable(nullableResult)
            }
        case .avg:
            guard let argumentType, argumentType.isNumeric else { throw aggregateMismatch(name, argumentType, definition.signature) }
            if case .decimal(_, let s) = argumentType.kind {
                type = SQLType(.decimal(precision: 38, scale: max(6, s)), nullable: nullableResult)
            } else {
                type = argumentType.withNullable(nullableResult)
            }
        case .min, .max:
            guard let argumentType else { throw aggregateMismatch(name, nil, definition.signature) }
            type = argumentType.withNullable(nullableResult)
        }
        let finalType = function == .sum0 ? type.withNullable(false) : type
        // Arguments adjust the argument columns' positions: they follow the keys in the aggregate's input.
        aggregation.calls.append(
            AggregateCall(
                function: function, argument: argumentIndex, distinct: distinct, argumentType: argumentType, type: finalType,
                filter: filterIndex))
        aggregation.callTexts.append(text)
        return BoundExpression(.column(keyCount + aggregation.calls.count - 1), finalType)
    }

    private func aggregateMismatch(_ name: String, _ type: SQLType?, _ expected: String) -> SQLError {
        SQLError("Cannot apply '\(name)' to arguments of type '\(name)(<\(type?.errorSpelling ?? "")>)'. Supported form(s): '\(name)(\(expected))'")
    }

    // MARK: Operators

    func requireBoolean(_ expression: BoundExpression, _ context: String) throws(SQLError) {
        guard expression.type.kind == .boolean || expression.type.isNull else {
            throw SQLError(
                "Cannot apply '\(context)' to arguments of type '\(context)(<\(expression.type.errorSpelling)>)'. Supported form(s): '\(context)(<BOOLEAN>)'"
            )
        }
    }

    func binary(_ op: String, _ left: BoundExpression, _ right: BoundExpression) throws(SQLError) -> BoundExpression {
        switch op {
        case "AND", "OR":
            for side in [left, right] where !(side.type.kind == .boolean || side.type.isNull) {
                throw SQLError(
                    "Cannot apply '\(op)' to arguments of type '<\(left.type.errorSpelling)> \(op) <\(right.type.errorSpelling)>'. Supported form(s): '<BOOLEAN> \(op) <BOOLEAN>'"
                )
            }
            let type = SQLType(.boolean, nullable: left.type.nullable || right.type.nullable)
            let parts = [left, right].flatMap { side -> [BoundExpression] in
                switch (op, side.node) {
                case ("AND", .and(let inner)), ("OR", .or(let inner)): inner
                default: [side.casted(to: SQLType(.boolean, nullable: side.type.nullable))]
                }
            }
            return BoundExpression(op == "AND" ? .and(parts) : .or(parts), type)
        case "=", "<>", "<", "<=", ">", ">=":
            return try compare(ComparisonOperator(rawValue: op)!, left, right)
        case "||":
            guard (left.type.isCharacter || left.type.isNull) && (right.type.isCharacter || right.type.isNull) else {
                throw SQLError(
                    "Cannot apply '||' to arguments of type '<\(left.type.errorSpelling)> || <\(right.type.errorSpelling)>'. Supported form(s): '<STRING> || <STRING>'"
                )
            }
            // Calcite's DYADIC_STRING_SUM_PRECISION_NULLABLE: CHAR when both sides are CHAR, else VARCHAR; lengths add up.
            let length = min(SQLType.maxLength, (left.type.length ?? SQLType.maxLength) + (right.type.length ?? SQLType.maxLength))
            let bothChar = { if case .char = left.type.kind, case .char = right.type.kind { true } else { false } }()
            let resultKind: SQLType.Kind = bothChar ? .char(max(1, length)) : .varchar(max(1, length))
            return FunctionLibrary.function("||", [left, right], SQLType(resultKind, nullable: false)) { v throws(SQLError) in
                .string((v[0].string ?? "") + (v[1].string ?? ""))
            }
        case "+", "-", "*", "/", "%":
            if left.type.isTemporal || right.type.isTemporal { return try temporalArithmetic(op, left, right) }
            guard let type = SQLType.arithmetic(op, left.type, right.type) else {
                throw SQLError(
                    "Cannot apply '\(op)' to arguments of type '<\(left.type.errorSpelling)> \(op) <\(right.type.errorSpelling)>'. Supported form(s): '<NUMERIC> \(op) <NUMERIC>'"
                )
            }
            if left.type.isNull || right.type.isNull { return .literal(.null, type.withNullable(true)) }
            func operand(_ side: BoundExpression) -> BoundExpression {
                if type.isDecimal {
                    if side.type.isInteger {
                        return side.casted(
                            to: SQLType(.decimal(precision: side.type.decimalShape!.precision, scale: 0), nullable: side.type.nullable))
                    }
                    return side
                }
                return side.casted(to: type.withNullable(side.type.nullable))
            }
            let result = BoundExpression(.arithmetic(ArithmeticOperator(rawValue: op)!, operand(left), operand(right)), type)
            return result
        default:
            throw SQLError("Unsupported operator '\(op)'")
        }
    }

    /// `ts + INTERVAL …`, `ts - INTERVAL …`, `date + INTERVAL …`.
    func temporalArithmetic(_ op: String, _ left: BoundExpression, _ right: BoundExpression) throws(SQLError) -> BoundExpression {
        guard op == "+" || op == "-", left.type.isTemporal,
            right.type.kind == .intervalDayTime || right.type.kind == .intervalYearMonth
        else {
            throw SQLError(
                "Cannot apply '\(op)' to arguments of type '<\(left.type.errorSpelling)> \(op) <\(right.type.errorSpelling)>'. Supported form(s): '<DATETIME> \(op) <DATETIME_INTERVAL>'"
            )
        }
        let sign: Int64 = op == "+" ? 1 : -1
        let type = left.type.withNullable(left.type.nullable || right.type.nullable)
        let isMonths = right.type.kind == .intervalYearMonth
        let targetType = left.type
        return FunctionLibrary.function(op, [left, right], type) { v throws(SQLError) in
            let amount = (v[1].int ?? 0) * sign
            if isMonths { return .int(TemporalFunctions.add(unit: "MONTH", amount: amount, to: v[0].int ?? 0, type: targetType)) }
            if targetType.kind == .date {
                return .int(TemporalFunctions.add(unit: "MICROSECOND", amount: amount, to: v[0].int ?? 0, type: targetType))
            }
            // TIME arithmetic wraps around midnight.
            if case .time = targetType.kind { return .int(Temporal.floorMod((v[0].int ?? 0) + amount, Temporal.microsPerDay)) }
            return .int((v[0].int ?? 0) + amount)
        }
    }

    /// A comparison with both sides converted to their common type.
    func compare(_ op: ComparisonOperator, _ left: BoundExpression, _ right: BoundExpression) throws(SQLError) -> BoundExpression {
        var common = SQLType.common(left.type, right.type)
        if common == nil {
            // Flink compares strings with numbers and temporals by converting the string.
            if left.type.isCharacter, right.type.isNumeric || right.type.isTemporal { common = right.type.withNullable(true) }
            if right.type.isCharacter, left.type.isNumeric || left.type.isTemporal { common = left.type.withNullable(true) }
        }
        guard let common else {
            throw SQLError(
                "Cannot apply '\(op.rawValue)' to arguments of type '<\(left.type.errorSpelling)> \(op.rawValue) <\(right.type.errorSpelling)>'. Supported form(s): '<COMPARABLE_TYPE> \(op.rawValue) <COMPARABLE_TYPE>'"
            )
        }
        let nullable = left.type.nullable || right.type.nullable
        var operandType = common
        if case .char = common.kind, left.type.length != right.type.length {
            operandType = SQLType(.varchar(common.length ?? 1), nullable: common.nullable)
        }
        func convert(_ side: BoundExpression) -> BoundExpression {
            if side.type.isCharacter && operandType.isCharacter { return BoundExpression(side.node, operandType.withNullable(side.type.nullable)) }
            return side.casted(to: operandType.withNullable(side.type.nullable))
        }
        return BoundExpression(.compare(op, convert(left), convert(right)), SQLType(.boolean, nullable: nullable))
    }

    // MARK: Literals

    func numberLiteral(_ text: String) throws(SQLError) -> BoundExpression {
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            if let value = Int32(text) { return .literal(.int(Int64(value)), SQLType(.integer, nullable: false)) }
            if let value = Int64(text) { return .literal(.int(value), SQLType(.bigint, nullable: false)) }
            let digits = text.filter(\.isNumber).count
            guard digits <= 38, let unscaled = Caster.parseDecimal(text, scale: 0) else { throw SQLError("Numeric literal '\(text)' out of range") }
            return .literal(.decimal(unscaled), SQLType(.decimal(precision: digits, scale: 0), nullable: false))
        }
        if text.contains(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Double(text) else { throw SQLError("Invalid numeric literal '\(text)'") }
            return .literal(.double(value), SQLType(.double, nullable: false))
        }
        let unsigned = text.hasPrefix("-") ? String(text.dropFirst()) : text
        let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
        let scale = parts.count == 2 ? parts[1].count : 0
        let integerDigits = String(parts[0]).drop { $0 == "0" }.count
        let precision = max(1, integerDigits + scale)
        guard precision <= 38, let unscaled = Caster.parseDecimal(text, scale: scale) else {
            throw SQLError("Numeric literal '\(text)' out of range")
        }
        return .literal(.decimal(unscaled), SQLType(.decimal(precision: max(precision, scale), scale: scale), nullable: false))
    }

    func typedLiteral(_ type: String, _ text: String) throws(SQLError) -> BoundExpression {
        switch type {
        case "DATE":
            guard let days = Temporal.parseDate(text) else { throw SQLError("Illegal DATE literal '\(text)': not in format 'yyyy-MM-dd'") }
            return .literal(.int(days), SQLType(.date, nullable: false))
        case "TIME":
            guard let micros = Temporal.parseTime(text) else { throw SQLError("Illegal TIME literal '\(text)': not in format 'HH:mm:ss'") }
            return .literal(.int(micros), SQLType(.time(Self.fractionDigits(text)), nullable: false))
        case "TIMESTAMP", "TIMESTAMP_LTZ":
            guard let micros = Temporal.parseTimestamp(text) else {
                throw SQLError("Illegal TIMESTAMP literal '\(text)': not in format 'yyyy-MM-dd HH:mm:ss'")
            }
            let precision = Self.fractionDigits(text)
            if type == "TIMESTAMP_LTZ" {
                return .literal(.int(Temporal.instant(micros, in: library.zone)), SQLType(.timestampLTZ(precision), nullable: false))
            }
            return .literal(.int(micros), SQLType(.timestamp(precision), nullable: false))
        default:
            throw SQLError("Unknown literal type \(type)")
        }
    }

    static func fractionDigits(_ text: String) -> Int {
        guard let dot = text.lastIndex(of: "."), text[text.index(after: dot)...].allSatisfy(\.isNumber) else { return 0 }
        return min(9, text.distance(from: dot, to: text.endIndex) - 1)
    }

    func intervalLiteral(_ value: String, _ unit: String, _ toUnit: String?) throws(SQLError) -> BoundExpression {
        let negative = value.hasPrefix("-")
        let text = negative ? String(value.dropFirst()) : value
        let sign: Int64 = negative ? -1 : 1
        let baseUnit = String(unit.prefix { $0 != "(" })
        let endUnit = toUnit.map { String($0.prefix { $0 != "(" }) }
        func fail() -> SQLError { SQLError("Illegal interval literal format '\(value)' for INTERVAL \(unit)\(toUnit.map { " TO \($0)" } ?? "")") }
        switch (baseUnit, endUnit) {
        case ("YEAR", nil), ("MONTH", nil), ("YEAR", "MONTH"):
            if endUnit == "MONTH" {
                let parts = text.split(separator: "-")
                guard parts.count == 2, let y = Int64(parts[0]), let m = Int64(parts[1]) else { throw fail() }
                return .literal(.int(sign * (y * 12 + m)), SQLType(.intervalYearMonth, nullable: false))
            }
            guard let n = Int64(text.trimmingCharacters(in: .whitespaces)) else { throw fail() }
            return .literal(.int(sign * n * (baseUnit == "YEAR" ? 12 : 1)), SQLType(.intervalYearMonth, nullable: false))
        default:
            let unitMicros: [String: Int64] = [
                "DAY": Temporal.microsPerDay, "HOUR": 3_600_000_000, "MINUTE": 60_000_000, "SECOND": 1_000_000, "WEEK": 7 * Temporal.microsPerDay,
            ]
            guard let scale = unitMicros[baseUnit] else { throw fail() }
            if endUnit == nil {
                if let n = Int64(text.trimmingCharacters(in: .whitespaces)) {
                    return .literal(.int(sign * n * scale), SQLType(.intervalDayTime, nullable: false))
                }
                guard baseUnit == "SECOND", let d = Double(text) else { throw fail() }
                return .literal(.int(sign * Int64((d * 1_000_000).rounded())), SQLType(.intervalDayTime, nullable: false))
            }
            // `D HH:MM:SS.fff` style: split on space and colons.
            let fields = text.split(whereSeparator: { $0 == " " || $0 == ":" })
            let order = ["DAY", "HOUR", "MINUTE", "SECOND"]
            guard let start = order.firstIndex(of: baseUnit), let end = order.firstIndex(of: endUnit!), end >= start, fields.count == end - start + 1
            else { throw fail() }
            var micros: Int64 = 0
            for (offset, field) in fields.enumerated() {
                let unitName = order[start + offset]
                if unitName == "SECOND", let d = Double(field) {
                    micros += Int64((d * 1_000_000).rounded())
                } else {
                    guard let n = Int64(field) else { throw fail() }
                    micros += n * unitMicros[unitName]!
                }
            }
            return .literal(.int(sign * micros), SQLType(.intervalDayTime, nullable: false))
        }
    }
}

/// SQL `LIKE` (and a simple `SIMILAR TO`) matching.
enum LikePattern {
    static func matches(_ text: String, pattern: String, escape: Character?, similar: Bool) -> Bool {
        if similar { return similarMatches(text, pattern: pattern, escape: escape) }
        let t = Array(text)
        var p: [(character: Character, wildcard: Character?)] = []
        var iterator = Array(pattern).makeIterator()
        while let c = iterator.next() {
            if let escape, c == escape, let next = iterator.next() {
                p.append((next, nil))
            } else if c == "%" || c == "_" {
                p.append((c, c))
            } else {
                p.append((c, nil))
            }
        }
        // Iterative matching with backtracking on the last '%'.
        var (ti, pi) = (0, 0)
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi].wildcard == "_" || (p[pi].wildcard == nil && p[pi].character == t[ti]) {
                ti += 1
                pi += 1
            } else if pi < p.count, p[pi].wildcard == "%" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi].wildcard == "%" { pi += 1 }
        return pi == p.count
    }

    /// SQL `SIMILAR TO`: `%` and `_` as in LIKE, `| * + ? {m,n} ( ) [...]` as in regular expressions, whole-string match.
    static func similarMatches(_ text: String, pattern: String, escape: Character?) -> Bool {
        var regex = "^(?:"
        var iterator = Array(pattern).makeIterator()
        while let c = iterator.next() {
            if let escape, c == escape, let next = iterator.next() {
                regex += NSRegularExpression.escapedPattern(for: String(next))
            } else if c == "%" {
                regex += ".*"
            } else if c == "_" {
                regex += "."
            } else if "|*+?{}()[]-,^".contains(c) || c.isLetter || c.isNumber || c == " " {
                regex.append(c)
            } else {
                regex += NSRegularExpression.escapedPattern(for: String(c))
            }
        }
        regex += ")$"
        guard let compiled = try? NSRegularExpression(pattern: regex, options: [.dotMatchesLineSeparators]) else { return false }
        return compiled.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
