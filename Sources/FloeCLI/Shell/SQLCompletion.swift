// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Tab completion of the shell: SQL keywords, table names (bare and qualified) and column names.
///
/// A value: the names it offers plus the word under the cursor give the candidates and what to insert, so the
/// logic is tested without a terminal or a server.
struct SQLCompletion: Sendable, Equatable {
    /// Table names, each as `table`, `database.table` and `catalog.database.table`.
    var tables: [String] = []
    /// Column names of those tables.
    var columns: [String] = []

    /// Keywords of Flink SQL that statements typed in the shell start with or use most.
    static let keywords: [String] = [
        "ADD", "ALL", "ALTER", "AND", "AS", "ASC", "AVG", "BETWEEN", "BIGINT", "BOOLEAN", "BY", "CASE", "CAST", "CATALOG", "CATALOGS",
        "COMMENT", "COMPUTE", "COUNT", "CREATE", "CROSS", "CUMULATE", "CURRENT", "DATABASE", "DATABASES", "DATE", "DECIMAL", "DELETE",
        "DESC", "DESCRIBE", "DISTINCT", "DISTRIBUTED", "DOUBLE", "DROP", "ELSE", "END", "EXECUTE", "EXISTS", "EXPLAIN", "FALSE", "FLOAT",
        "FROM", "FULL", "FUNCTION", "FUNCTIONS", "GROUP", "HAVING", "HOP", "IF", "IN", "INNER", "INSERT", "INT", "INTERVAL", "INTO", "IS",
        "JOIN", "KEY", "LATERAL", "LEFT", "LIKE", "LIMIT", "MATCH_RECOGNIZE", "MAX", "MIN", "NOT", "NULL", "ON", "OR", "ORDER", "OUTER",
        "OVER", "PARTITION", "PRIMARY", "RANGE", "RESET", "RIGHT", "ROW", "ROWS", "SELECT", "SESSION", "SET", "SHOW", "STATEMENT",
        "STRING", "SUM", "TABLE", "TABLES", "THEN", "TIMESTAMP", "TIMESTAMP_LTZ", "TRUE", "TUMBLE", "UNION", "USE", "VALUES", "VARCHAR",
        "VIEW", "VIEWS", "WATERMARK", "WHEN", "WHERE", "WITH",
    ]

    /// Characters of the word being completed: identifier characters, and dots for qualified names.
    static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_" || character == "." || character == "`" || character == "$"
    }

    /// Where the word ending at `cursor` starts.
    static func wordStart(in buffer: [Character], cursor: Int) -> Int {
        var start = cursor
        while start > 0, isWordCharacter(buffer[start - 1]) { start -= 1 }
        return start
    }

    /// The names that complete `word`: keywords (in the case the word is typed in), then table names, then column
    /// names; each list without duplicates, in order.
    func candidates(for word: String) -> [String] {
        guard !word.isEmpty else { return [] }
        let lower = word.lowercased()
        let typedLowerCase = word == lower
        var seen = Set<String>()
        var result: [String] = []
        func offer(_ name: String) {
            if seen.insert(name).inserted { result.append(name) }
        }
        if !word.contains(".") && !word.hasPrefix("`") {
            for keyword in Self.keywords where keyword.lowercased().hasPrefix(lower) { offer(typedLowerCase ? keyword.lowercased() : keyword) }
        }
        for name in tables + columns {
            // Exact case first; a name in another case still completes (Flink identifiers are case-sensitive, so the
            // name's own spelling is what gets inserted).
            if name.hasPrefix(word) || name.lowercased().hasPrefix(lower) { offer(name) }
        }
        return result
    }

    /// What Tab does with `word`: the text to put in its place, and the candidates to list when there is a choice.
    func complete(_ word: String) -> (replacement: String, choices: [String])? {
        let found = candidates(for: word)
        guard let first = found.first else { return nil }
        if found.count == 1 { return (first + " ", []) }
        // Insert what all candidates share (compared without case), keeping the word when they share no more.
        var common = Array(first)
        for candidate in found.dropFirst() {
            let other = Array(candidate)
            var length = 0
            while length < common.count, length < other.count, String(common[length]).lowercased() == String(other[length]).lowercased() {
                length += 1
            }
            common = Array(common[..<length])
        }
        let shared = common.count > word.count ? String(common) : word
        return (shared, found)
    }

    /// Reads the names from INFORMATION_SCHEMA.COLUMNS result rows of (catalog, database, table, column).
    init(columnRows: [[String]]) {
        var tables: [String] = []
        var columns: [String] = []
        var seenTables = Set<String>()
        var seenColumns = Set<String>()
        for row in columnRows where row.count == 4 {
            let (catalog, database, table, column) = (Self.quoted(row[0]), Self.quoted(row[1]), Self.quoted(row[2]), Self.quoted(row[3]))
            for name in [table, "\(database).\(table)", "\(catalog).\(database).\(table)"] where seenTables.insert(name).inserted {
                tables.append(name)
            }
            if !row[3].isEmpty, seenColumns.insert(column).inserted { columns.append(column) }
        }
        self.tables = tables
        self.columns = columns
    }

    init() {}

    /// An identifier as it must be typed: bare when it is a plain identifier, else in backticks.
    static func quoted(_ name: String) -> String {
        let plain = name.first.map { $0.isLetter || $0 == "_" } == true && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        return plain ? name : "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }
}
