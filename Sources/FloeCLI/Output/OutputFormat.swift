// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore

/// How a command prints what it got: a table for people, or JSON/YAML with the `confluent` CLI's keys.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case human, json, yaml
}

/// `-o/--output`.
struct OutputOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Output format: human, json or yaml.")
    var output: OutputFormat = .human
}

/// One field of an output record: the key used in JSON/YAML and the column title of the human table.
struct OutputField: Sendable {
    let key: String
    let title: String
    let value: JSONValue

    init(_ key: String, _ title: String, _ value: JSONValue) {
        self.key = key
        self.title = title
        self.value = value
    }

    init(_ key: String, _ title: String, _ value: String?) {
        self.init(key, title, value.map(JSONValue.string) ?? .string(""))
    }
}

/// A resource as the CLI prints it.
typealias OutputRecord = [OutputField]

/// Writes records in the chosen format to standard output.
struct OutputPrinter {
    let format: OutputFormat

    /// A list: a column table, a JSON array or a YAML sequence.
    func list(_ records: [OutputRecord], columns: [(key: String, title: String)]? = nil) {
        switch format {
        case .human:
            let header = columns ?? records.first?.map { ($0.key, $0.title) } ?? []
            let rows = records.map { record in header.map { column in cell(column.key, record.first { $0.key == column.key }?.value ?? .null) } }
            write(TextTable.columns(titles: header.map(\.title), rows: rows, numeric: numericColumns(header.map(\.key), records)))
        case .json:
            write(PrettyJSON.render(.array(records.map(object))) + "\n")
        case .yaml:
            write(records.isEmpty ? "[]\n" : YAMLWriter.sequence(records.map(object)))
        }
    }

    /// One resource: a bordered two-column table, a JSON object or a YAML mapping.
    func describe(_ record: OutputRecord) {
        switch format {
        case .human: write(TextTable.bordered(record.map { ($0.title, cell($0.key, $0.value)) }))
        case .json: write(PrettyJSON.render(object(record)) + "\n")
        case .yaml: write(YAMLWriter.mapping(object(record)))
        }
    }

    /// A sentence for people (`Deleted …`); JSON and YAML output stay machine-readable, so it goes nowhere there.
    func message(_ text: String) {
        if format == .human { write(text + "\n") }
    }

    /// A human cell; the `Current` column shows `*` for the current item, as the `confluent` CLI does.
    private func cell(_ key: String, _ value: JSONValue) -> String {
        if key == "is_current", let flag = value.boolValue { return flag ? "*" : "" }
        return humanText(value)
    }

    private func object(_ record: OutputRecord) -> JSONValue { .object(record.map { ($0.key, $0.value) }) }

    private func numericColumns(_ keys: [String], _ records: [OutputRecord]) -> Set<Int> {
        var numeric = Set<Int>()
        for (index, key) in keys.enumerated() {
            let values = records.compactMap { $0.first { $0.key == key }?.value }
            if !values.isEmpty, values.allSatisfy({ if case .int = $0 { return true } else { return false } }) { numeric.insert(index) }
        }
        return numeric
    }
}

/// A JSON value as a table cell: strings bare, maps as `k=v` lines, lists as lines.
func humanText(_ value: JSONValue) -> String {
    switch value {
    case .null: return ""
    case .bool(let flag): return flag ? "true" : "false"
    case .int(let number): return String(number)
    case .double(let number): return String(number)
    case .string(let text): return text
    case .array(let elements): return elements.map(humanText).joined(separator: "\n")
    case .object(let members): return members.map { "\($0.0)=\(humanText($0.1))" }.joined(separator: "\n")
    }
}

/// Writes text to standard output without buffering surprises.
func write(_ text: String) {
    FileOutput.standardOutput.write(text)
}

/// Writes text to standard error.
func writeError(_ text: String) {
    FileOutput.standardError.write(text)
}
