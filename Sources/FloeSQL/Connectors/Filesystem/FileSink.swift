// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A filesystem table as a sink: each writer (statement) appends lines to its own part file in the table's
/// directory, `part-<writer>.<format>`, fsynced per append. The number of complete lines in a writer's part file is
/// how many rows it wrote, so a statement that re-runs after a restart continues where it stopped; a torn last
/// line is cut off first.
final class FileSink: RowSink {
    let spec: FileSystemSpec
    private let renderer = ValueRenderer(zone: TimeZone(identifier: "UTC")!)

    init(spec: FileSystemSpec) throws(SQLError) {
        self.spec = spec
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: spec.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw SQLError.runtime("The path '\(spec.path)' of the filesystem sink is a file; a sink writes part files into a directory.")
        }
        do { try FileManager.default.createDirectory(atPath: spec.path, withIntermediateDirectories: true) } catch {
            throw SQLError.runtime("Cannot create the sink directory '\(spec.path)': \(error.localizedDescription)")
        }
    }

    func partFile(_ writer: String) -> String {
        let safe = String(writer.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" ? Character($0) : "_" })
        return (spec.path as NSString).appendingPathComponent("part-\(safe).\(spec.format.rawValue)")
    }

    func rowsWritten(by key: String) -> Int64 {
        guard let data = FileManager.default.contents(atPath: partFile(key)) else { return 0 }
        let complete = data.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        if complete < data.count { truncate(partFile(key), off_t(complete)) }
        return Int64(data[..<complete].reduce(0) { $1 == 0x0A ? $0 + 1 : $0 })
    }

    /// Files take inserts only (updating queries are refused for filesystem sinks).
    func append(_ rows: [Row], kinds: [RowKind]?, writer: String) throws(SQLError) {
        guard !rows.isEmpty else { return }
        var bytes: [UInt8] = []
        for row in rows {
            switch spec.format {
            case .json: json(row, into: &bytes)
            case .csv: csv(row, into: &bytes)
            }
            bytes.append(0x0A)
        }
        let path = try spec.access.check(partFile(writer))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw SQLError.runtime("Cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw SQLError.runtime("Writing '\(path)' failed: \(String(cString: strerror(errno)))") }
    }

    // MARK: Encoding

    private func json(_ row: Row, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, (field, value)) in zip(spec.fields, row).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONValue.string(field.name).write(to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            if case .decimal = field.type.kind, !value.isNull {
                // DECIMAL is written as a plain JSON number, digits exactly as the scale gives them.
                bytes.append(contentsOf: renderer.string(value, field.type).utf8)
            } else {
                json(value, field.type).write(to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// A value as Flink's JSON format writes it: numbers and booleans bare, temporal values in the SQL (or ISO-8601)
    /// standard, nested types as arrays and objects.
    private func json(_ value: Value, _ type: SQLType) -> JSONValue {
        if value.isNull { return .null }
        switch (type.kind, value) {
        case (.boolean, .bool(let b)): return .bool(b)
        case (.tinyint, .int(let i)), (.smallint, .int(let i)), (.integer, .int(let i)), (.bigint, .int(let i)): return .int(i)
        case (.float, .double(let d)), (.double, .double(let d)): return d.isFinite ? .double(d) : .string(renderer.string(value, type))
        case (.array(let element), .list(let items)), (.multiset(let element), .list(let items)): return .array(items.map { json($0, element) })
        case (.row(let fields), .list(let items)): return .object(zip(fields, items).map { ($0.name, json($1, $0.type)) })
        case (.map(let key, let valueType), .list(let entries)):
            return .object(
                entries.map { entry in
                    let pair = entry.list ?? [.null, .null]
                    return (renderer.string(pair[0], key), json(pair[1], valueType))
                })
        case (.binary, .bytes(let b)), (.varbinary, .bytes(let b)): return .string(Data(b).base64EncodedString())
        case (.timestamp, _): return .string(timestamp(renderer.string(value, type)))
        case (.timestampLTZ, _): return .string(timestamp(renderer.string(value, type)) + "Z")
        default: return .string(renderer.string(value, type))
        }
    }

    private func timestamp(_ text: String) -> String { spec.isoTimestamps ? text.replacingOccurrences(of: " ", with: "T") : text }

    private func csv(_ row: Row, into bytes: inout [UInt8]) {
        for (index, (field, value)) in zip(spec.fields, row).enumerated() {
            if index > 0 { bytes.append(spec.fieldDelimiter) }
            if value.isNull {
                bytes.append(contentsOf: (spec.nullLiteral ?? "").utf8)
                continue
            }
            let text: String
            switch (field.type.kind, value) {
            case (.boolean, .bool(let b)): text = b ? "true" : "false"
            case (.binary, .bytes(let b)), (.varbinary, .bytes(let b)): text = Data(b).base64EncodedString()
            case (.timestamp, _): text = timestamp(renderer.string(value, field.type))
            default: text = renderer.string(value, field.type)
            }
            let utf8 = Array(text.utf8)
            let needsQuotes = utf8.isEmpty || utf8.contains { $0 == spec.fieldDelimiter || $0 == spec.quoteCharacter || $0 == 0x0A || $0 == 0x0D }
            guard needsQuotes else {
                bytes.append(contentsOf: utf8)
                continue
            }
            bytes.append(spec.quoteCharacter)
            for byte in utf8 {
                if byte == spec.quoteCharacter { bytes.append(byte) }
                bytes.append(byte)
            }
            bytes.append(spec.quoteCharacter)
        }
    }
}
