// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The two table layouts of the `confluent` CLI's human output.
enum TextTable {
    /// A list: centred header, a `---+---` rule, one row per record (cells with several lines take several lines).
    ///
    ///       ID      |   Name
    ///   ------------+----------
    ///     env-abc12 | default
    static func columns(titles: [String], rows: [[String]], numeric: Set<Int> = []) -> String {
        guard !titles.isEmpty else { return "" }
        var widths = titles.map(\.displayWidth)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                for line in cell.split(separator: "\n", omittingEmptySubsequences: false) {
                    widths[index] = max(widths[index], String(line).displayWidth)
                }
            }
        }
        var output = ""
        output +=
            titles.enumerated().map { " " + $0.element.centred(in: widths[$0.offset]) + " " }.joined(separator: "|").trimmingTrailingSpaces() + "\n"
        output += widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "\n"
        for row in rows {
            let lines = row.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            let height = lines.map(\.count).max() ?? 1
            for lineIndex in 0..<height {
                let cells = widths.indices.map { column -> String in
                    let text = column < lines.count && lineIndex < lines[column].count ? lines[column][lineIndex] : ""
                    return " " + (numeric.contains(column) ? text.leftPadded(to: widths[column]) : text.rightPadded(to: widths[column])) + " "
                }
                output += cells.joined(separator: "|").trimmingTrailingSpaces() + "\n"
            }
        }
        return output
    }

    /// A record: a bordered table of title/value pairs.
    ///
    ///     +------+-----------+
    ///     | ID   | env-abc12 |
    ///     | Name | default   |
    ///     +------+-----------+
    static func bordered(_ pairs: [(String, String)]) -> String {
        let keyWidth = pairs.map(\.0.displayWidth).max() ?? 0
        let valueWidth = pairs.flatMap { $0.1.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).displayWidth } }.max() ?? 0
        let rule = "+" + String(repeating: "-", count: keyWidth + 2) + "+" + String(repeating: "-", count: valueWidth + 2) + "+\n"
        var output = rule
        for (title, value) in pairs {
            let lines = value.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (index, line) in lines.enumerated() {
                output += "| " + (index == 0 ? title : "").rightPadded(to: keyWidth) + " | " + line.rightPadded(to: valueWidth) + " |\n"
            }
        }
        return output + rule
    }
}

extension String {
    /// Columns the text takes in a terminal (one per scalar; good enough for the ASCII the API returns).
    var displayWidth: Int { unicodeScalars.count }

    func rightPadded(to width: Int) -> String {
        let missing = width - displayWidth
        return missing > 0 ? self + String(repeating: " ", count: missing) : self
    }

    func leftPadded(to width: Int) -> String {
        let missing = width - displayWidth
        return missing > 0 ? String(repeating: " ", count: missing) + self : self
    }

    func centred(in width: Int) -> String {
        let missing = width - displayWidth
        guard missing > 0 else { return self }
        let left = missing / 2
        return String(repeating: " ", count: left) + self + String(repeating: " ", count: missing - left)
    }

    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }

    /// The text cut to `width` columns, ending in `…` when it was longer.
    func truncated(to width: Int) -> String {
        guard displayWidth > width else { return self }
        guard width > 1 else { return String(unicodeScalars.prefix(max(width, 0)).map(Character.init)) }
        return String(String.UnicodeScalarView(unicodeScalars.prefix(width - 1))) + "…"
    }
}
