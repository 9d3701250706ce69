// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The strings of one column of a batch.
///
/// Decoders store a column's strings as UTF-8 bytes back to back, with the end offset of each: a batch of 4,096
/// strings is then two allocations instead of one per string longer than 15 bytes, and a column that is only passed
/// on (projected, filtered, written) is never turned into Swift strings. Operators that compute strings store Swift
/// strings. Reading an element of the byte form makes a `String`.
struct StringColumn: RandomAccessCollection, Sendable, ExpressibleByArrayLiteral {
    private enum Storage: Sendable {
        case strings([String])
        /// UTF-8 bytes, valid (decoders check), and where each string ends in them.
        case utf8(bytes: [UInt8], ends: [Int])
    }

    private var storage: Storage

    init(_ strings: [String]) { storage = .strings(strings) }

    init(arrayLiteral elements: String...) { storage = .strings(elements) }

    /// Strings stored as `bytes`, string `i` ending at `ends[i]` (and starting where string `i - 1` ends).
    init(utf8 bytes: [UInt8], ends: [Int]) { storage = .utf8(bytes: bytes, ends: ends) }

    /// `count` copies of `value`.
    init(repeating value: String, count: Int) { storage = .strings(Array(repeating: value, count: count)) }

    var startIndex: Int { 0 }

    var endIndex: Int {
        switch storage {
        case .strings(let strings): strings.count
        case .utf8(_, let ends): ends.count
        }
    }

    subscript(position: Int) -> String {
        switch storage {
        case .strings(let strings): return strings[position]
        case .utf8(let bytes, let ends):
            let start = position == 0 ? 0 : ends[position - 1]
            return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<ends[position]]), as: UTF8.self) }
        }
    }

    /// The strings at `indices`, in that order, in the same storage form.
    func gathered(_ indices: [Int]) -> StringColumn {
        switch storage {
        case .strings(let strings): return StringColumn(indices.map { strings[$0] })
        case .utf8(let bytes, let ends):
            // Only empty strings (a column nobody reads is all NULL): nothing to copy.
            if bytes.isEmpty { return StringColumn(utf8: [], ends: [Int](repeating: 0, count: indices.count)) }
            var selectedEnds = [Int](repeating: 0, count: indices.count)
            var total = 0
            for (e, index) in indices.enumerated() {
                total += ends[index] - (index == 0 ? 0 : ends[index - 1])
                selectedEnds[e] = total
            }
            let selected = [UInt8](unsafeUninitializedCapacity: total) { target, initialized in
                bytes.withUnsafeBufferPointer { all in
                    var offset = 0
                    for index in indices {
                        let start = index == 0 ? 0 : ends[index - 1]
                        let length = ends[index] - start
                        if length > 0 { memcpy(target.baseAddress! + offset, all.baseAddress! + start, length) }
                        offset += length
                    }
                }
                initialized = total
            }
            return StringColumn(utf8: selected, ends: selectedEnds)
        }
    }

    /// Whether the strings at `i` here and at `j` of `other` are equal: their UTF-8 bytes are, as Flink compares
    /// strings (by code units, not by Unicode canonical equivalence). Makes no `String` from the byte form.
    func elementsEqual(at i: Int, _ other: StringColumn, at j: Int) -> Bool {
        withUTF8(at: i) { x in
            other.withUTF8(at: j) { y in x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) }
        }
    }

    /// Calls `body` with the position in `indices` and the UTF-8 bytes of each string `indices` names, without copying
    /// them and looking at the storage once.
    func forEachUTF8(at indices: [Int], _ body: (Int, UnsafeBufferPointer<UInt8>) -> Void) {
        switch storage {
        case .strings(let strings):
            for (n, index) in indices.enumerated() {
                var text = strings[index]
                text.withUTF8 { body(n, $0) }
            }
        case .utf8(let bytes, let ends):
            bytes.withUnsafeBufferPointer { all in
                for (n, index) in indices.enumerated() {
                    let start = index == 0 ? 0 : ends[index - 1]
                    body(n, UnsafeBufferPointer(rebasing: all[start..<ends[index]]))
                }
            }
        }
    }

    /// Calls `body` with the UTF-8 bytes of the string at `position`, without copying them.
    func withUTF8<R>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch storage {
        case .strings(let strings):
            var text = strings[position]
            return text.withUTF8(body)
        case .utf8(let bytes, let ends):
            let start = position == 0 ? 0 : ends[position - 1]
            return bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<ends[position]])) }
        }
    }
}

/// Collects a column's strings as UTF-8 bytes (see `StringColumn`).
struct StringColumnBuilder {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    init(capacity: Int = 0) {
        ends.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity * 16)
    }

    var count: Int { ends.count }

    /// Appends a string given as UTF-8 bytes (valid UTF-8: the caller checked or repaired them).
    mutating func append(utf8 text: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: text)
        ends.append(bytes.count)
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
        ends.append(bytes.count)
    }

    mutating func removeLast(_ k: Int) {
        guard k > 0 else { return }
        ends.removeLast(k)
        bytes.removeLast(bytes.count - (ends.last ?? 0))
    }

    /// Appends `text` upper- or lower-cased: ASCII text (the usual case) byte by byte, without making a String; other
    /// text through Swift's Unicode case mapping.
    mutating func appendCaseMapped(_ text: UnsafeBufferPointer<UInt8>, upper: Bool) {
        guard text.allSatisfy({ $0 < 0x80 }) else {
            let string = String(decoding: text, as: UTF8.self)
            append(upper ? string.uppercased() : string.lowercased())
            return
        }
        let (first, last): (UInt8, UInt8) = upper ? (0x61, 0x7A) : (0x41, 0x5A)
        for byte in text { bytes.append(byte >= first && byte <= last ? byte ^ 0x20 : byte) }
        ends.append(bytes.count)
    }

    func column() -> StringColumn { StringColumn(utf8: bytes, ends: ends) }
}

extension StringColumn: CustomStringConvertible {
    /// The strings as an array literal, whatever the storage form.
    var description: String { Array(self).description }
}
