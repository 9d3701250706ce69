// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A table with `'connector' = 'filesystem'`: rows read from (and written to) files of JSON lines or CSV, with
/// Flink's options.
///
/// - `path` (required): a file or a directory (`file://` URLs too). A directory's files are read in name order;
///   hidden files (`.`/`_` prefixes) are skipped, as Flink skips them.
/// - `format` (required): `json` or `csv`.
/// - JSON: `json.fail-on-missing-field` (default false: a missing field is NULL), `json.ignore-parse-errors`
///   (default false: a malformed line fails the statement; true skips it), `json.timestamp-format.standard`
///   (`SQL`, the default: `yyyy-MM-dd HH:mm:ss.s{precision}`, or `ISO-8601`: `yyyy-MM-ddTHH:mm:ss.s{precision}`).
/// - CSV: `csv.field-delimiter` (default `,`), `csv.quote-character` (default `"`), `csv.allow-comments` (lines
///   starting with `#`), `csv.ignore-parse-errors`, `csv.null-literal` (a field equal to it is NULL).
///
/// As a source the table is bounded: it is the files as they are when the statement starts. As a sink, each
/// writing statement appends to its own part file in the directory.
struct FileSystemSpec: Sendable, Equatable {
    enum Format: String, Sendable {
        case json, csv
    }

    struct Field: Sendable, Equatable {
        var name: String
        var type: SQLType
    }

    /// The path, resolved and allowed by ``access`` when the table was analyzed.
    var path: String
    /// Where this server lets filesystem tables read and write: every file opened is checked again.
    var access: FileSystemAccess
    var format: Format
    var fields: [Field]
    var failOnMissingField = false
    var ignoreParseErrors = false
    var isoTimestamps = false
    var fieldDelimiter: UInt8 = UInt8(ascii: ",")
    var quoteCharacter: UInt8 = UInt8(ascii: "\"")
    var allowComments = false
    var nullLiteral: String?

    /// The spec of a `'connector' = 'filesystem'` table.
    /// - Throws: an option that is unknown, missing or malformed.
    static func parse(
        options: [String: String], columns: [(name: String, type: SQLType)], access: FileSystemAccess
    ) throws(SQLError) -> FileSystemSpec {
        guard var path = options["path"], !path.isEmpty else {
            throw SQLError("Missing required options are:\n\npath")
        }
        if path.hasPrefix("file://") { path = String(path.dropFirst("file://".count)) }
        guard path.hasPrefix("/") else { throw SQLError("The filesystem 'path' must be absolute, not '\(path)'.") }
        path = try access.check(path)
        guard let formatName = options["format"] else { throw SQLError("Missing required options are:\n\nformat") }
        guard let format = Format(rawValue: formatName.lowercased()) else {
            throw SQLError("Could not find any format factory for identifier '\(formatName)'. Available formats: csv, json.")
        }
        func flag(_ key: String) throws(SQLError) -> Bool {
            guard let text = options[key] else { return false }
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: throw SQLError("Could not parse value '\(text)' for key '\(key)'.")
            }
        }
        func character(_ key: String, default value: UInt8) throws(SQLError) -> UInt8 {
            guard let text = options[key] else { return value }
            let unescaped = text == "\\t" ? "\t" : text
            guard unescaped.utf8.count == 1, let byte = unescaped.utf8.first else {
                throw SQLError("Option '\(key)' must be a single character, not '\(text)'.")
            }
            return byte
        }
        var spec = FileSystemSpec(path: path, access: access, format: format, fields: columns.map { Field(name: $0.name, type: $0.type) })
        var known: Set<String> = [
            "connector", "path", "format", "source.monitor-interval", "sink.rolling-policy.file-size",
            "sink.rolling-policy.rollover-interval", "partition.default-name",
        ]
        switch format {
        case .json:
            known.formUnion([
                "json.fail-on-missing-field", "json.ignore-parse-errors", "json.timestamp-format.standard",
                "json.map-null-key.mode", "json.map-null-key.literal", "json.encode.decimal-as-plain-number",
            ])
            spec.failOnMissingField = try flag("json.fail-on-missing-field")
            spec.ignoreParseErrors = try flag("json.ignore-parse-errors")
            switch options["json.timestamp-format.standard"]?.uppercased() ?? "SQL" {
            case "SQL": break
            case "ISO-8601": spec.isoTimestamps = true
            case let other: throw SQLError("Unsupported value '\(other)' for json.timestamp-format.standard. Supported values are [SQL, ISO-8601].")
            }
            if spec.failOnMissingField && spec.ignoreParseErrors {
                throw SQLError("json.fail-on-missing-field and json.ignore-parse-errors shouldn't both be true.")
            }
        case .csv:
            known.formUnion([
                "csv.field-delimiter", "csv.quote-character", "csv.allow-comments", "csv.ignore-parse-errors",
                "csv.null-literal", "csv.disable-quote-character", "csv.array-element-delimiter", "csv.escape-character",
            ])
            spec.fieldDelimiter = try character("csv.field-delimiter", default: UInt8(ascii: ","))
            spec.quoteCharacter = try character("csv.quote-character", default: UInt8(ascii: "\""))
            spec.allowComments = try flag("csv.allow-comments")
            spec.ignoreParseErrors = try flag("csv.ignore-parse-errors")
            spec.nullLiteral = options["csv.null-literal"]
        }
        let unknown = options.keys.filter { !known.contains($0) && !$0.hasPrefix("floe.") }.sorted()
        if !unknown.isEmpty {
            throw SQLError("Unsupported options found for 'filesystem'.\n\nUnsupported options:\n\n\(unknown.joined(separator: "\n"))")
        }
        return spec
    }

    /// The files the table consists of now, in read order.
    func files() throws(SQLError) -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SQLError("File or directory '\(path)' of the filesystem table does not exist.")
        }
        guard isDirectory.boolValue else { return [URL(fileURLWithPath: path)] }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw SQLError("Cannot list the directory '\(path)': \(error.localizedDescription)")
        }
        return names.filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") }.sorted().map { URL(fileURLWithPath: path).appendingPathComponent($0) }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}
