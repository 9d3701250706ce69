// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A table with `'connector' = 'filesystem'`: rows read from (and written to) files of JSON lines or CSV, with
/// Flink's options.
///
/// - `path` (required): a file or a directory (`file://` URLs too). A directory's files are read in name order;
///   hidden files (`.`/`_` prefixes) are skipped, as Flink skips them.
/// - `format` (required): `json` or `csv`, with their options (``TextFormat``).
///
/// As a source the table is bounded: it is the files as they are when the statement starts. As a sink, each
/// writing statement appends to its own part file in the directory.
@dynamicMemberLookup
struct FileSystemSpec: Sendable, Equatable {
    typealias Format = TextFormat.Kind
    typealias Field = TextFormat.Field

    /// The path, resolved and allowed by ``access`` when the table was analyzed.
    var path: String
    /// Where this server lets filesystem tables read and write: every file opened is checked again.
    var access: FileSystemAccess
    /// How each line is a row.
    var text: TextFormat

    subscript<T>(dynamicMember keyPath: KeyPath<TextFormat, T>) -> T { text[keyPath: keyPath] }

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
        let known = Set([
            "connector", "path", "format", "source.monitor-interval", "sink.rolling-policy.file-size",
            "sink.rolling-policy.rollover-interval", "partition.default-name",
        ]).union(TextFormat.optionKeys(format))
        let unknown = options.keys.filter { !known.contains($0) && !$0.hasPrefix("floe.") }.sorted()
        if !unknown.isEmpty {
            throw SQLError("Unsupported options found for 'filesystem'.\n\nUnsupported options:\n\n\(unknown.joined(separator: "\n"))")
        }
        let fields = columns.map { Field(name: $0.name, type: $0.type) }
        return FileSystemSpec(path: path, access: access, text: try TextFormat.parse(format, fields: fields, options: options))
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
