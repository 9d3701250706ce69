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
            spec.text.encode(row, into: &bytes, renderer: renderer)
            bytes.append(0x0A)
        }
        let path = try spec.access.check(partFile(writer))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw SQLError.runtime("Cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw SQLError.runtime("Writing '\(path)' failed: \(String(cString: strerror(errno)))") }
    }
}
