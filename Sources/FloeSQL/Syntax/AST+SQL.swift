// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Canonical SQL text of syntax trees: keywords upper case, every identifier back-quoted, every compound expression
/// parenthesized. Parsing the canonical text gives the same tree back, which the golden tests rely on.
func quoteIdentifier(_ name: String) -> String { "`" + name.replacingOccurrences(of: "`", with: "``") + "`" }
func quoteString(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
func optionsSQL(_ options: [(String, String)]) -> String {
    "(" + options.map { "\(quoteString($0.0)) = \(quoteString($0.1))" }.joined(separator: ", ") + ")"
}

extension QualifiedName {
    /// `a`.`b`.`c`
    public var sql: String { parts.map(quoteIdentifier).joined(separator: ".") }
}

extension TypeSyntax {
    /// The type as canonical SQL.
    public var sql: String {
        func suffix(_ nullable: Bool) -> String { nullable ? "" : " NOT NULL" }
        switch self {
        case .named(let name, let parameters, let nullable):
            return name + (parameters.isEmpty ? "" : "(" + parameters.map(String.init).joined(separator: ", ") + ")") + suffix(nullable)
        case .array(let element, let nullable): return "ARRAY<\(element.sql)>" + suffix(nullable)
        case .multiset(let element, let nullable): return "MULTISET<\(element.sql)>" + suffix(nullable)
        case .map(let key, let value, let nullable): return "MAP<\(key.sql), \(value.sql)>" + suffix(nullable)
        case .row(let fields, let nullable):
            return "ROW<" + fields.map { "\(quoteIdentifier($0.name)) \($0.type.sql)" }.joined(separator: ", ") + ">" + suffix(nullable)
        }
    }
}

extension Expression {
    /// The expression as canonical SQL.
    public var sql: String {
        switch self {
        case .null: return "NULL"
        case .boolean(let value): return value ? "TRUE" : "FALSE"
        case .number(let text): return text
        case .string(let text): return quoteString(text)
        case .typedLiteral(let type, let value): return "\(type) \(quoteString(value))"
        case .interval(let value, let unit, let toUnit): return "INTERVAL \(quoteString(value)) \(unit)" + (toUnit.map { " TO \($0)" } ?? "")
        case .column(let name): return name.sql
        case .star(let qualifier): return qualifier.map { "\($0.sql).*" } ?? "*"
        case .unary(let op, let operand, _): return "(\(op)\(op == "NOT" ? " " : "")\(operand.sql))"
        case .binary(let op, let left, let right, _): return "(\(left.sql) \(op) \(right.sql))"
        case .isNull(let operand, let negated): return "(\(operand.sql) IS \(negated ? "NOT " : "")NULL)"
        case .isTruth(let operand, let value, let negated):
            return "(\(operand.sql) IS \(negated ? "NOT " : "")\(value.map { $0 ? "TRUE" : "FALSE" } ?? "UNKNOWN"))"
        case .isDistinctFrom(let left, let right, let negated): return "(\(left.sql) IS \(negated ? "NOT " : "")DISTINCT FROM \(right.sql))"
        case .between(let operand, let low, let high, let negated, _):
            return "(\(operand.sql) \(negated ? "NOT " : "")BETWEEN \(low.sql) AND \(high.sql))"
        case .inList(let operand, let list, let negated, _):
            return "(\(operand.sql) \(negated ? "NOT " : "")IN (\(list.map(\.sql).joined(separator: ", "))))"
        case .inQuery(let operand, let query, let negated): return "(\(operand.sql) \(negated ? "NOT " : "")IN (\(query.sql)))"
        case .like(let operand, let pattern, let escape, let negated, let similar, _):
            return "(\(operand.sql) \(negated ? "NOT " : "")\(similar ? "SIMILAR TO" : "LIKE") \(pattern.sql)"
                + (escape.map { " ESCAPE \($0.sql)" } ?? "") + ")"
        case .function(let name, let arguments, let distinct, let over):
            let call =
                "\(name.parts.joined(separator: ".").uppercased())(\(distinct ? "DISTINCT " : "")\(arguments.map(\.sql).joined(separator: ", ")))"
            return call + (over.map { $0.reference == nil ? " OVER (\($0.sql))" : " OVER \($0.sql)" } ?? "")
        case .cast(let operand, let type, let isTry, _): return "\(isTry ? "TRY_CAST" : "CAST")(\(operand.sql) AS \(type.sql))"
        case .caseWhen(let operand, let branches, let otherwise, _):
            var text = "CASE" + (operand.map { " \($0.sql)" } ?? "")
            for branch in branches { text += " WHEN \(branch.condition.sql) THEN \(branch.result.sql)" }
            if let otherwise { text += " ELSE \(otherwise.sql)" }
            return text + " END"
        case .extract(let unit, let from): return "EXTRACT(\(unit) FROM \(from.sql))"
        case .scalarSubquery(let query): return "(\(query.sql))"
        case .exists(let query): return "EXISTS (\(query.sql))"
        case .element(let base, let index): return "\(base.sql)[\(index.sql)]"
        case .row(let fields): return "ROW(\(fields.map(\.sql).joined(separator: ", ")))"
        case .array(let elements): return "ARRAY[\(elements.map(\.sql).joined(separator: ", "))]"
        case .map(let elements): return "MAP[\(elements.map(\.sql).joined(separator: ", "))]"
        case .tableArgument(let name): return "TABLE \(name.sql)"
        case .descriptor(let columns): return "DESCRIPTOR(\(columns.map(quoteIdentifier).joined(separator: ", ")))"
        case .namedArgument(let name, let value): return "\(name.uppercased()) => \(value.sql)"
        }
    }
}

extension OrderItem {
    var sql: String { expression.sql + (ascending ? " ASC" : " DESC") + (nullsFirst.map { $0 ? " NULLS FIRST" : " NULLS LAST" } ?? "") }
}

extension WindowSpecification {
    var sql: String {
        var parts: [String] = []
        if !partitionBy.isEmpty { parts.append("PARTITION BY " + partitionBy.map(\.sql).joined(separator: ", ")) }
        if !orderBy.isEmpty { parts.append("ORDER BY " + orderBy.map(\.sql).joined(separator: ", ")) }
        if let frame { parts.append(frame.sql) }
        return reference.map(quoteIdentifier) ?? parts.joined(separator: " ")
    }
}

extension WindowFrame {
    var sql: String { "\(unit.rawValue) BETWEEN \(start.sql) AND \(end.sql)" }
}

extension WindowFrame.Bound {
    var sql: String {
        switch self {
        case .unboundedPreceding: "UNBOUNDED PRECEDING"
        case .preceding(let offset): offset.sql + " PRECEDING"
        case .currentRow: "CURRENT ROW"
        case .following(let offset): offset.sql + " FOLLOWING"
        case .unboundedFollowing: "UNBOUNDED FOLLOWING"
        }
    }
}

extension TableAlias {
    var sql: String { " AS \(quoteIdentifier(name))" + (columns.isEmpty ? "" : "(" + columns.map(quoteIdentifier).joined(separator: ", ") + ")") }
}

extension TableReference {
    /// The `FROM` item as canonical SQL.
    public var sql: String {
        switch self {
        case .named(let name, let alias, let asOf):
            return name.sql + (asOf.map { " FOR SYSTEM_TIME AS OF \($0.sql)" } ?? "") + (alias?.sql ?? "")
        case .subquery(let query, let alias): return "(\(query.sql))" + (alias?.sql ?? "")
        case .tableFunction(let call, let alias): return "TABLE(\(call.sql))" + (alias?.sql ?? "")
        case .unnest(let expression, let alias): return "UNNEST(\(expression.sql))" + (alias?.sql ?? "")
        case .join(let left, let right, let kind, let on, let using):
            var text = "(\(left.sql) \(kind == .cross ? "CROSS" : kind.rawValue) JOIN \(right.sql)"
            if let on { text += " ON \(on.sql)" }
            if !using.isEmpty { text += " USING (\(using.map(quoteIdentifier).joined(separator: ", ")))" }
            return text + ")"
        }
    }
}

extension QueryBody {
    var sql: String {
        switch self {
        case .select(let select):
            var text = "SELECT " + (select.distinct ? "DISTINCT " : "")
            text += select.items.map { $0.expression.sql + ($0.alias.map { " AS \(quoteIdentifier($0))" } ?? "") }.joined(separator: ", ")
            if let from = select.from { text += " FROM \(from.sql)" }
            if let filter = select.filter { text += " WHERE \(filter.sql)" }
            if !select.groupBy.isEmpty { text += " GROUP BY " + select.groupBy.map(\.sql).joined(separator: ", ") }
            if let having = select.having { text += " HAVING \(having.sql)" }
            return text
        case .values(let rows): return "VALUES " + rows.map { "(" + $0.map(\.sql).joined(separator: ", ") + ")" }.joined(separator: ", ")
        case .setOperation(let op, let all, let left, let right, _): return "(\(left.sql) \(op)\(all ? " ALL" : "") \(right.sql))"
        case .nested(let query): return "(\(query.sql))"
        }
    }
}

extension Query {
    /// The query as canonical SQL.
    public var sql: String {
        var text = ""
        if !with.isEmpty {
            text +=
                "WITH "
                + with.map { item in
                    quoteIdentifier(item.name) + (item.columns.isEmpty ? "" : "(" + item.columns.map(quoteIdentifier).joined(separator: ", ") + ")")
                        + " AS (\(item.query.sql))"
                }.joined(separator: ", ") + " "
        }
        text += body.sql
        if !orderBy.isEmpty { text += " ORDER BY " + orderBy.map(\.sql).joined(separator: ", ") }
        if let limit { text += " LIMIT \(limit.sql)" }
        if let offset { text += " OFFSET \(offset.sql)" }
        return text
    }
}

extension ColumnDefinition {
    var sql: String {
        var text = quoteIdentifier(name)
        switch kind {
        case .physical(let type): text += " \(type.sql)"
        case .computed(let expression): text += " AS \(expression.sql)"
        case .metadata(let type, let key, let virtual):
            text += " \(type.sql) METADATA" + (key.map { " FROM \(quoteString($0))" } ?? "") + (virtual ? " VIRTUAL" : "")
        }
        if let comment { text += " COMMENT \(quoteString(comment))" }
        return text
    }
}

extension Insert {
    var sql: String {
        "INSERT \(overwrite ? "OVERWRITE" : "INTO") \(table.sql)"
            + (columns.isEmpty ? "" : " (" + columns.map(quoteIdentifier).joined(separator: ", ") + ")")
            + " \(source.sql)"
    }
}

extension Statement {
    /// The statement as canonical SQL (without a trailing `;`).
    public var sql: String {
        switch self {
        case .query(let query): return query.sql
        case .createTable(let table):
            var text = "CREATE TABLE \(table.ifNotExists ? "IF NOT EXISTS " : "")\(table.name.sql)"
            var elements = table.columns.map(\.sql)
            if let watermark = table.watermark {
                elements.append("WATERMARK FOR \(quoteIdentifier(watermark.column)) AS \(watermark.expression.sql)")
            }
            if !table.primaryKey.isEmpty {
                elements.append("PRIMARY KEY (" + table.primaryKey.map(quoteIdentifier).joined(separator: ", ") + ") NOT ENFORCED")
            }
            if !elements.isEmpty { text += " (" + elements.joined(separator: ", ") + ")" }
            if let comment = table.comment { text += " COMMENT \(quoteString(comment))" }
            if !table.distributedBy.isEmpty {
                text += " DISTRIBUTED BY (" + table.distributedBy.map(quoteIdentifier).joined(separator: ", ") + ")"
                if let buckets = table.bucketCount { text += " INTO \(buckets) BUCKETS" }
            }
            if !table.options.isEmpty { text += " WITH \(optionsSQL(table.options))" }
            if let like = table.like { text += " LIKE \(like.sql)" }
            if let query = table.asQuery { text += " AS \(query.sql)" }
            return text
        case .createView(let name, let columns, let query, let ifNotExists, let comment, let orReplace):
            return "CREATE \(orReplace ? "OR REPLACE " : "")VIEW \(ifNotExists ? "IF NOT EXISTS " : "")\(name.sql)"
                + (columns.isEmpty ? "" : " (" + columns.map(quoteIdentifier).joined(separator: ", ") + ")")
                + (comment.map { " COMMENT \(quoteString($0))" } ?? "") + " AS \(query.sql)"
        case .createDatabase(let name, let ifNotExists, let comment, let options):
            return "CREATE DATABASE \(ifNotExists ? "IF NOT EXISTS " : "")\(name.sql)" + (comment.map { " COMMENT \(quoteString($0))" } ?? "")
                + (options.isEmpty ? "" : " WITH \(optionsSQL(options))")
        case .dropTable(let name, let ifExists): return "DROP TABLE \(ifExists ? "IF EXISTS " : "")\(name.sql)"
        case .dropView(let name, let ifExists): return "DROP VIEW \(ifExists ? "IF EXISTS " : "")\(name.sql)"
        case .dropDatabase(let name, let ifExists, let cascade):
            return "DROP DATABASE \(ifExists ? "IF EXISTS " : "")\(name.sql)\(cascade ? " CASCADE" : "")"
        case .alterTable(let name, let action):
            let prefix = "ALTER TABLE \(name.sql) "
            switch action {
            case .addColumns(let columns): return prefix + "ADD (" + columns.map(\.sql).joined(separator: ", ") + ")"
            case .modifyColumns(let columns): return prefix + "MODIFY (" + columns.map(\.sql).joined(separator: ", ") + ")"
            case .dropColumns(let names): return prefix + "DROP (" + names.map(quoteIdentifier).joined(separator: ", ") + ")"
            case .renameColumn(let from, let to): return prefix + "RENAME \(quoteIdentifier(from)) TO \(quoteIdentifier(to))"
            case .rename(let to): return prefix + "RENAME TO \(to.sql)"
            case .setOptions(let options): return prefix + "SET \(optionsSQL(options))"
            case .resetOptions(let keys): return prefix + "RESET (" + keys.map(quoteString).joined(separator: ", ") + ")"
            }
        case .insert(let insert): return insert.sql
        case .statementSet(let inserts): return "EXECUTE STATEMENT SET BEGIN " + inserts.map { $0.sql + "; " }.joined() + "END"
        case .show(let target, let like):
            let likeText = like.map { " LIKE \(quoteString($0))" } ?? ""
            switch target {
            case .catalogs: return "SHOW CATALOGS" + likeText
            case .databases: return "SHOW DATABASES" + likeText
            case .tables: return "SHOW TABLES" + likeText
            case .views: return "SHOW VIEWS" + likeText
            case .tablesFrom(let name): return "SHOW TABLES FROM \(name.sql)" + likeText
            case .viewsFrom(let name): return "SHOW VIEWS FROM \(name.sql)" + likeText
            case .functions(let user): return "SHOW \(user ? "USER " : "")FUNCTIONS" + likeText
            case .currentCatalog: return "SHOW CURRENT CATALOG"
            case .currentDatabase: return "SHOW CURRENT DATABASE"
            case .createTable(let name): return "SHOW CREATE TABLE \(name.sql)"
            case .createView(let name): return "SHOW CREATE VIEW \(name.sql)"
            case .columns(let name): return "SHOW COLUMNS FROM \(name.sql)" + likeText
            case .jobs: return "SHOW JOBS"
            }
        case .describe(let name, let extended): return "DESCRIBE \(extended ? "EXTENDED " : "")\(name.sql)"
        case .useCatalog(let name): return "USE CATALOG \(quoteIdentifier(name))"
        case .useDatabase(let name): return "USE \(name.sql)"
        case .explain(let statement): return "EXPLAIN \(statement.sql)"
        case .set(let key, let value):
            guard let key else { return "SET" }
            return "SET \(quoteString(key)) = \(quoteString(value ?? ""))"
        case .reset(let key): return "RESET" + (key.map { " \(quoteString($0))" } ?? "")
        }
    }
}
