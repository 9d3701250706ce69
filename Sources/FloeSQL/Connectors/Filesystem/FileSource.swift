// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a filesystem table's files, a line at a time, into batches of typed columns. Bounded: the files listed when
/// the statement starts, each to the end it has when it is read.
final class FileSource: SourceStage {
    static let batchRows = 4096
    static let chunkBytes = 1 << 20

    let spec: FileSystemSpec
    private var files: [URL]?
    private var fileIndex = 0
    private var descriptor: Int32 = -1
    /// Bytes read from the current file; the first `end` are valid (the rest is room for the next read, allocated once).
    private var buffer: [UInt8] = []
    private var end = 0
    /// The file offset of `buffer[0]`.
    private var bufferStart: Int64 = 0
    private var position = 0
    private var atEndOfFile = false
    private var lineNumber = 0
    private var json: JSONLineDecoder
    private var csv: CSVLineDecoder
    private var done = false

    /// `live`: the columns read downstream (nil: all); the others are NULL, their text skipped unconverted.
    init(spec: FileSystemSpec, live: Set<Int>? = nil) {
        self.spec = spec
        let skipped = spec.fields.indices.map { index in live.map { !$0.contains(index) } ?? false }
        json = JSONLineDecoder(spec: spec.text, skipped: skipped)
        csv = CSVLineDecoder(spec: spec.text, skipped: skipped)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    override var isExhausted: Bool { done }

    /// Saves where reading stands: the file list, the file being read and the offset just past the last line consumed.
    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.bool(done)
        writer.bool(files != nil)
        writer.array(files ?? []) { $0.string($1.path) }
        writer.int(fileIndex)
        writer.bool(descriptor >= 0)
        writer.int(bufferStart + Int64(position))
        writer.int(lineNumber)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        done = try reader.bool()
        let listed = try reader.bool()
        let paths = try reader.array { reader throws(SQLError) in try reader.string() }
        files = listed ? paths.map { URL(fileURLWithPath: $0) } : nil
        fileIndex = try reader.count()
        let wasOpen = try reader.bool()
        let offset = try reader.int()
        lineNumber = try reader.count()
        guard !wasOpen || fileIndex < paths.count else { throw StateReader.malformed() }
        if wasOpen, !done {
            let path = try spec.access.check(paths[fileIndex])
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw SQLError.runtime("Cannot open '\(path)': \(String(cString: strerror(errno)))") }
            guard lseek(descriptor, off_t(offset), SEEK_SET) == off_t(offset) else {
                throw SQLError.runtime("Cannot continue reading '\(path)' at byte \(offset): \(String(cString: strerror(errno)))")
            }
            bufferStart = offset
            end = 0
            position = 0
            atEndOfFile = false
        }
    }

    override func poll() throws(SQLError) -> Batch? {
        if done { return nil }
        if files == nil { files = try spec.files() }
        var columns = spec.fields.map { ColumnAppender($0.type.physical, capacity: Self.batchRows) }
        var rows = 0
        while rows < Self.batchRows {
            guard let line = try nextLine() else {
                done = true
                break
            }
            if try decodeLine(line, into: &columns) { rows += 1 }
        }
        guard rows > 0 else { return nil }
        return Batch(columns: columns.map { $0.column() }, kinds: Array(repeating: .insert, count: rows))
    }

    /// Decodes the line at `range` of the buffer; false when it holds no row (blank, a comment, a skipped bad line).
    private func decodeLine(_ range: Range<Int>, into columns: inout [ColumnAppender]) throws(SQLError) -> Bool {
        var end = range.upperBound
        if end > range.lowerBound, buffer[end - 1] == 0x0D { end -= 1 }
        guard end > range.lowerBound else { return false }
        if spec.allowComments, buffer[range.lowerBound] == UInt8(ascii: "#") { return false }
        let before = columns.first?.count ?? 0
        let isJSON = spec.format == .json
        let outcome: FieldParseError? = buffer.withUnsafeBufferPointer { all in
            let line = UnsafeBufferPointer(rebasing: all[range.lowerBound..<end])
            do throws(FieldParseError) {
                if isJSON { try json.decode(line, into: &columns) } else { try csv.decode(line, into: &columns) }
                return nil
            } catch {
                return error
            }
        }
        guard let outcome else { return true }
        for c in columns.indices { columns[c].truncate(to: before) }
        if spec.ignoreParseErrors { return false }
        let file = files?[fileIndex].lastPathComponent ?? spec.path
        let text = String(decoding: buffer[range.lowerBound..<min(end, range.lowerBound + 200)], as: UTF8.self)
        throw SQLError.runtime(
            "Failed to deserialize \(spec.format == .json ? "JSON" : "CSV") '\(text)' (\(file), line \(lineNumber)): \(outcome.message)")
    }

    /// The next line of the files (without its newline), as a range of `buffer`; nil after the last file.
    private func nextLine() throws(SQLError) -> Range<Int>? {
        while true {
            let start = position
            let valid = end
            let found: Int? = buffer.withUnsafeBufferPointer { bytes in
                guard start < valid, let base = bytes.baseAddress,
                    let hit = memchr(base + start, 0x0A, valid - start)
                else { return nil }
                return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            if let newline = found {
                defer { position = newline + 1 }
                lineNumber += 1
                return position..<newline
            }
            if atEndOfFile {
                if position < end {
                    defer { position = end }
                    lineNumber += 1
                    return position..<end
                }
                guard try openNextFile() else { return nil }
                continue
            }
            if descriptor < 0 {
                guard try openNextFile() else { return nil }
                continue
            }
            try readChunk()
        }
    }

    private func openNextFile() throws(SQLError) -> Bool {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
            fileIndex += 1
        }
        guard let files, fileIndex < files.count else { return false }
        // A file of the directory may be a link to somewhere else: each is checked where it leads.
        let path = try spec.access.check(files[fileIndex].path)
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw SQLError.runtime("Cannot open '\(files[fileIndex].path)': \(String(cString: strerror(errno)))") }
        end = 0
        bufferStart = 0
        position = 0
        atEndOfFile = false
        lineNumber = 0
        return true
    }

    /// Reads the next chunk after the valid bytes, first moving the unfinished line to the front. The buffer grows
    /// (zero-filled) only when a line does not fit: it settles at twice a chunk, not cleared or refilled per read.
    private func readChunk() throws(SQLError) {
        if position > 0 {
            let remaining = end - position
            let from = position
            if remaining > 0 { buffer.withUnsafeMutableBytes { bytes in _ = memmove(bytes.baseAddress!, bytes.baseAddress! + from, remaining) } }
            bufferStart += Int64(position)
            end = remaining
            position = 0
        }
        if buffer.count - end < Self.chunkBytes { buffer.append(contentsOf: repeatElement(0, count: max(Self.chunkBytes, buffer.count))) }
        let fd = descriptor
        let offset = end
        let received = buffer.withUnsafeMutableBytes { pointer in read(fd, pointer.baseAddress! + offset, Self.chunkBytes) }
        guard received >= 0 else { throw SQLError.runtime("Reading '\(spec.path)' failed: \(String(cString: strerror(errno)))") }
        end += received
        if received == 0 { atEndOfFile = true }
    }
}
