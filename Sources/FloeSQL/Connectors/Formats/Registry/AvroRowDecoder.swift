// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas

/// Decodes Avro records written under a *writer* schema into a table's columns (the *reader*), resolving the two as
/// the Avro specification's "Schema Resolution" says: record fields match by name (or a reader alias), reader fields
/// the writer lacks take their default, writer fields the reader lacks are skipped, `int → long → float → double`
/// and `string ↔ bytes` promote, enums read as STRING, `["null", T]` in either order is a nullable T and other
/// unions read as ROWs of one field per branch (kafka-tables.md §5).
///
/// The resolution is compiled once per (writer schema, columns) into a tree of ``AvroRead`` steps, so decoding a
/// record walks neither JSON nor schemas and looks nothing up by name: the caller caches one decoder per schema id.
/// Top-level columns of common types go straight into typed ``ColumnAppender``s; nested values (ROW, ARRAY, MAP) are
/// built as boxed ``Value``s, which is how batches store them anyway.
public struct AvroRowDecoder: Sendable {
    /// The reader's columns.
    public let columns: [SQLType.RowField]
    /// One step per top-level writer field, in writer order.
    let steps: [Step]
    /// Columns the writer does not have, with the value every record gets for them.
    let missing: [(column: Int, value: Value)]

    struct Step: Sendable {
        let read: AvroRead
        let target: Target
    }

    /// Where a top-level writer value goes.
    enum Target: Sendable {
        /// Into one column.
        case column(Int)
        /// Nowhere: the reader has no such column.
        case skip
        /// Over every column: a top-level union read as one column per branch (a ROW of the branches).
        case spread
    }

    /// Compiles the resolution of `writer` to `columns`.
    ///
    /// - Parameters:
    ///   - writer: the schema the records were written with (found by the id in their header).
    ///   - columns: the table's physical columns for this part of the record (value or key), by field name.
    ///   - readerSchema: the table's own Avro schema, when it has one (the latest registered version): the source of
    ///     field defaults and aliases. Without it, a nullable column the writer lacks reads NULL.
    /// - Throws: ``RecordSchemaError`` when a column cannot be read from the writer's data (no such field and no
    ///   default, or types that do not resolve).
    public init(writer: AvroSchema, columns: [SQLType.RowField], readerSchema: AvroSchema? = nil) throws(RecordSchemaError) {
        self.columns = columns
        var compiler = AvroReadCompiler(writer: writer, reader: readerSchema)
        let readerRoot = readerSchema.map { $0.resolved($0.root) }
        switch writer.resolved(writer.root) {
        case .record(let record):
            let fieldsOfReader: [AvroField]? = if case .record(let r)? = readerRoot { r.fields } else { nil }
            var steps: [Step] = []
            var matched = [Bool](repeating: false, count: columns.count)
            for field in record.fields {
                if let column = compiler.readerIndex(for: field, in: columns, readerFields: fieldsOfReader), !matched[column] {
                    matched[column] = true
                    let readerField = fieldsOfReader?.first { $0.name == columns[column].name }
                    let read = try compiler.compile(field.type, as: columns[column].type, readerAvro: readerField?.type, path: field.name, depth: 0)
                    steps.append(Step(read: read, target: .column(column)))
                } else {
                    steps.append(Step(read: try compiler.skip(field.type, depth: 0), target: .skip))
                }
            }
            var missing: [(Int, Value)] = []
            for (column, field) in columns.enumerated() where !matched[column] {
                let readerField = fieldsOfReader?.first { $0.name == field.name }
                missing.append((column, try compiler.defaultValue(for: field, readerField: readerField, writerRecord: record.name.fullname)))
            }
            self.steps = steps
            self.missing = missing
        case .union(let branches) where AvroTypeMapping.nullablePair(branches) == nil && columns.count > 1:
            // A top-level union read as one nullable column per branch (kafka-tables.md §1).
            let rowType = SQLType(.row(columns.map { SQLType.RowField($0.name, $0.type.withNullable(true)) }), nullable: true)
            let read = try compiler.compile(writer.root, as: rowType, readerAvro: nil, path: "", depth: 0)
            self.steps = [Step(read: read, target: .spread)]
            self.missing = []
        default:
            // An atomic schema (a key `"int"`, a raw string value): one column.
            guard columns.count == 1 else {
                throw RecordSchemaError(
                    "The writer schema is a \(writer.resolved(writer.root).typeName), not a record: it can only be read as one column, not \(columns.count)."
                )
            }
            self.steps = [
                Step(
                    read: try compiler.compile(writer.root, as: columns[0].type, readerAvro: readerRoot, path: columns[0].name, depth: 0),
                    target: .column(0))
            ]
            self.missing = []
        }
    }

    /// Decodes one record's Avro payload (the bytes after the Confluent header) and appends one value to each of
    /// `appenders` (one per column, in column order).
    ///
    /// All or nothing: when the payload does not decode, the appenders are truncated back to where they were and the
    /// error says why.
    func decode(_ payload: UnsafeBufferPointer<UInt8>, into appenders: inout [ColumnAppender]) throws(RecordDecodeError) {
        let start = appenders.isEmpty ? 0 : appenders[0].count
        do throws(RecordDecodeError) {
            var reader = AvroBinaryReader(payload)
            try decodeFields(&reader, into: &appenders)
            guard reader.isAtEnd else {
                throw RecordDecodeError(.trailingBytes, "The Avro record has \(payload.count - reader.position) bytes after its last field.")
            }
        } catch {
            for index in appenders.indices { appenders[index].truncate(to: start) }
            throw error
        }
    }

    @inline(__always)
    private func decodeFields(_ reader: inout AvroBinaryReader, into appenders: inout [ColumnAppender]) throws(RecordDecodeError) {
        // Steps are used in place (by index): iterating by value would retain and release each one per record.
        for index in steps.indices {
            switch steps[index].target {
            case .column(let column):
                try steps[index].read.append(&reader, to: &appenders[column], column: columns[column].name)
            case .skip:
                try steps[index].read.skip(&reader)
            case .spread:
                // The union's null branch is NULL in every column.
                let fields = try steps[index].read.value(&reader).list ?? Array(repeating: .null, count: appenders.count)
                for (position, field) in fields.enumerated() { appenders[position].append(field) }
            }
        }
        for (column, value) in missing { appenders[column].append(value) }
    }

    /// Decodes payloads into columns in batches of 4,096 rows, as a source does, and returns the rows decoded:
    /// the batch path, for `bench/codecs` (the engine's column types are internal to FloeSQL).
    @_spi(Benchmarks)
    public func decodeBatches(_ payloads: [[UInt8]]) throws(RecordDecodeError) -> Int {
        var rows = 0
        var start = 0
        while start < payloads.count {
            let end = min(start + 4_096, payloads.count)
            var appenders = columns.map { ColumnAppender($0.type.physical, capacity: end - start) }
            for index in start..<end {
                try payloads[index].withUnsafeBufferPointer { bytes throws(RecordDecodeError) in try decode(bytes, into: &appenders) }
            }
            rows += appenders.map { $0.column() }.first?.count ?? 0
            start = end
        }
        return rows
    }

    /// Decodes one payload into a row of boxed values (for tests and for callers outside the batch path).
    public func decodeRow(_ payload: [UInt8]) throws(RecordDecodeError) -> [Value] {
        var appenders = columns.map { ColumnAppender($0.type.physical) }
        try payload.withUnsafeBufferPointer { bytes throws(RecordDecodeError) in try decode(bytes, into: &appenders) }
        return appenders.map { $0.column().value(at: 0) }
    }

    /// Decodes one Confluent-framed record (header and payload) into a row of boxed values.
    public func decodeFramedRow(_ record: [UInt8]) throws(RecordDecodeError) -> (schemaID: Int32, row: [Value]) {
        let (id, start) = try ConfluentWireFormat.header(of: record)
        return (id, try decodeRow(Array(record[start...])))
    }
}

/// One compiled step of reading a writer value as a reader type.
indirect enum AvroRead: Sendable {
    /// Writer `null`: no bytes; NULL, or an error for a NOT NULL reader.
    case null(allowed: Bool)
    case boolean
    /// An `int` read into an integer column, times `scale` (1, or 1,000 for time-millis to microseconds); `range`
    /// checks TINYINT and SMALLINT.
    case int(scale: Int64, range: ClosedRange<Int64>?)
    /// A `long`, times `multiplier` or divided by `divisor`, truncated to `precision` fraction digits when set.
    case long(multiplier: Int64, divisor: Int64, precision: Int?)
    /// Promotions to DOUBLE and to FLOAT (whose values are kept at float precision).
    case intAsDouble, longAsDouble, float, double, intAsFloat, longAsFloat
    /// `string` (or `bytes`) into a character column, UTF-8 checked.
    case string
    /// `bytes` (or `string`) into a binary column.
    case bytes
    case fixed(size: Int)
    /// An enum symbol into a character column: the reader's symbol for each writer index (the reader enum's
    /// default for symbols it lacks), nil where the reader has neither.
    case enumeration(symbols: [String?])
    /// A `decimal` on `bytes` (size nil) or `fixed`, rescaled by `10^rescale` and checked against `precision`.
    case decimal(fixedSize: Int?, rescale: Int, precision: Int)
    /// A two-branch union with `null`.
    case nullable(nullIndex: Int, allowed: Bool, inner: AvroRead)
    /// Any other writer union read as one reader type: a read per branch (an unresolvable branch throws when met).
    case union([AvroRead])
    /// A writer union read as a ROW of one nullable field per branch; `null` branches give a NULL row.
    case unionAsRow(branches: [(field: Int?, read: AvroRead)], fieldCount: Int, allowed: Bool)
    /// A record: the writer's fields in order, each to a reader field or skipped; reader fields the writer lacks
    /// get constants.
    case record(steps: [(field: Int?, read: AvroRead)], fieldCount: Int, missing: [(field: Int, value: Value)])
    case array(AvroRead)
    /// A multiset from Kafka Connect's entry array: each entry's key repeated by its count.
    case multiset(AvroRead)
    /// An Avro map into a MAP column: entries as two-element lists.
    case map(AvroRead)
    /// A writer branch or type that does not resolve to the reader; throws when a record uses it.
    case unresolvable(String)
    /// Skips a writer value the reader does not read.
    case skip(AvroSkip)
}

/// How to skip a writer value without building it.
indirect enum AvroSkip: Sendable {
    case none
    /// Varint `int`, `long`, `enum` index.
    case varint
    case boolean
    case fixed(Int)
    /// `bytes` and `string`.
    case lengthPrefixed
    case record([AvroSkip])
    case array(AvroSkip)
    case map(AvroSkip)
    case union([AvroSkip])
    /// A recursive named type, skipped by walking its definition (rare enough to pay a lookup per value).
    case named(AvroSchema, AvroType)
}

// MARK: Running

extension AvroRead {
    /// Reads the value and appends it to `appender`, unboxed for the common types.
    @inline(__always)
    func append(_ reader: inout AvroBinaryReader, to appender: inout ColumnAppender, column: String) throws(RecordDecodeError) {
        switch self {
        case .int(let scale, nil):
            appender.appendInteger(try reader.int() &* scale)
        case .long(1, 1, nil):
            appender.appendInteger(try reader.long())
        case .long(let multiplier, 1, nil):
            // timestamp-millis into TIMESTAMP(3) columns, the common case.
            let (product, overflow) = try reader.long().multipliedReportingOverflow(by: multiplier)
            guard !overflow else { throw RecordDecodeError(.unrepresentable, "An Avro timestamp in column '\(column)' is out of range.") }
            appender.appendInteger(product)
        case .double:
            appender.appendDouble(try reader.double())
        case .string:
            let text = try reader.lengthPrefixed()
            if TextFieldParser.isASCII(text) {
                appender.appendString(utf8: text)
            } else {
                appender.appendString(try Self.validString(text))
            }
        case .nullable(let nullIndex, let allowed, let inner):
            let branch = try reader.long()
            if branch == Int64(nullIndex) {
                guard allowed else { throw Self.nullForNotNull(column) }
                appender.appendNull()
            } else if branch == Int64(1 - nullIndex) {
                try inner.append(&reader, to: &appender, column: column)
            } else {
                throw Self.badBranch(branch, of: 2)
            }
        case .null(let allowed):
            guard allowed else { throw Self.nullForNotNull(column) }
            appender.appendNull()
        default:
            appender.append(try self.value(&reader))
        }
    }

    /// Reads the value, boxed.
    func value(_ reader: inout AvroBinaryReader) throws(RecordDecodeError) -> Value {
        switch self {
        case .null(let allowed):
            guard allowed else { throw RecordDecodeError(.unrepresentable, "A NULL was written for a NOT NULL field.") }
            return .null
        case .boolean: return .bool(try reader.boolean())
        case .int(let scale, let range):
            let value = try reader.int()
            if let range, !range.contains(value) {
                throw RecordDecodeError(
                    .unrepresentable, "The Avro int \(value) is out of the column's range \(range.lowerBound)…\(range.upperBound).")
            }
            return .int(value &* scale)
        case .long(let multiplier, let divisor, let precision):
            var value = try reader.long()
            if multiplier != 1 {
                let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
                guard !overflow else { throw RecordDecodeError(.unrepresentable, "The Avro timestamp \(value) is out of range.") }
                value = product
            }
            if divisor != 1 { value = Temporal.floorDiv(value, divisor) }
            if let precision { value = Temporal.truncate(value, precision: precision) }
            return .int(value)
        case .intAsDouble: return .double(Double(try reader.int()))
        case .longAsDouble: return .double(Double(try reader.long()))
        case .float: return .double(Double(try reader.float()))
        case .double: return .double(try reader.double())
        case .intAsFloat: return .double(Double(Float(try reader.int())))
        case .longAsFloat: return .double(Double(Float(try reader.long())))
        case .string: return .string(try Self.validString(try reader.lengthPrefixed()))
        case .bytes: return .bytes(Array(try reader.lengthPrefixed()))
        case .fixed(let size): return .bytes(Array(try reader.take(size)))
        case .enumeration(let symbols):
            let index = try reader.int()
            guard index >= 0, index < Int64(symbols.count) else {
                throw RecordDecodeError(.malformed, "The Avro enum index \(index) is out of range (the enum has \(symbols.count) symbols).")
            }
            guard let symbol = symbols[Int(index)] else {
                throw RecordDecodeError(
                    .unrepresentable, "The Avro enum symbol at index \(index) is unknown to the reader's enum, which has no default.")
            }
            return .string(symbol)
        case .decimal(let fixedSize, let rescale, let precision):
            let bytes = if let fixedSize { try reader.take(fixedSize) } else { try reader.lengthPrefixed() }
            var unscaled = try AvroDecimal.unscaled(bytes)
            if rescale > 0 {
                let (product, overflow) = unscaled.multipliedReportingOverflow(by: AvroDecimal.powerOfTen(rescale))
                guard !overflow else { throw Self.decimalOverflow(precision) }
                unscaled = product
            }
            let limit = AvroDecimal.powerOfTen(precision)
            guard unscaled < limit, unscaled > -limit else { throw Self.decimalOverflow(precision) }
            return .decimal(unscaled)
        case .nullable(let nullIndex, let allowed, let inner):
            let branch = try reader.long()
            if branch == Int64(nullIndex) {
                guard allowed else { throw RecordDecodeError(.unrepresentable, "A NULL was written for a NOT NULL field.") }
                return .null
            }
            guard branch == Int64(1 - nullIndex) else { throw Self.badBranch(branch, of: 2) }
            return try inner.value(&reader)
        case .union(let branches):
            let branch = try reader.long()
            guard branch >= 0, branch < Int64(branches.count) else { throw Self.badBranch(branch, of: branches.count) }
            return try branches[Int(branch)].value(&reader)
        case .unionAsRow(let branches, let fieldCount, let allowed):
            let branch = try reader.long()
            guard branch >= 0, branch < Int64(branches.count) else { throw Self.badBranch(branch, of: branches.count) }
            let (field, read) = branches[Int(branch)]
            let value = try read.value(&reader)
            guard let field else {
                guard allowed else { throw RecordDecodeError(.unrepresentable, "A NULL was written for a NOT NULL field.") }
                return .null
            }
            var fields = [Value](repeating: .null, count: fieldCount)
            fields[field] = value
            return .list(fields)
        case .record(let steps, let fieldCount, let missing):
            var fields = [Value](repeating: .null, count: fieldCount)
            for (field, read) in steps {
                if let field { fields[field] = try read.value(&reader) } else { try read.skip(&reader) }
            }
            for (field, value) in missing { fields[field] = value }
            return .list(fields)
        case .array(let item):
            var items: [Value] = []
            while true {
                let count = try reader.blockCount()
                if count == 0 { break }
                guard count <= reader.bytes.count - reader.position || Self.isZeroWidth(item) else { throw AvroBinaryReader.truncated() }
                items.reserveCapacity(items.count + min(count, 1 << 16))
                for _ in 0..<count { items.append(try item.value(&reader)) }
            }
            return .list(items)
        case .multiset(let entry):
            var items: [Value] = []
            while true {
                let count = try reader.blockCount()
                if count == 0 { break }
                for _ in 0..<count {
                    guard case .list(let pair) = try entry.value(&reader), pair.count == 2, case .int(let times) = pair[1] else { continue }
                    guard times >= 0, times <= Int64(1 << 20) else {
                        throw RecordDecodeError(.unrepresentable, "A multiset count of \(times) is out of range.")
                    }
                    for _ in 0..<times { items.append(pair[0]) }
                }
            }
            return .list(items)
        case .map(let valueRead):
            var entries: [Value] = []
            while true {
                let count = try reader.blockCount()
                if count == 0 { break }
                guard count <= reader.bytes.count - reader.position else { throw AvroBinaryReader.truncated() }
                for _ in 0..<count {
                    let key = try Self.validString(try reader.lengthPrefixed())
                    entries.append(.list([.string(key), try valueRead.value(&reader)]))
                }
            }
            return .list(entries)
        case .unresolvable(let message):
            throw RecordDecodeError(.unrepresentable, message)
        case .skip(let skip):
            try skip.skip(&reader)
            return .null
        }
    }

    /// Skips the value this step would read.
    func skip(_ reader: inout AvroBinaryReader) throws(RecordDecodeError) {
        if case .skip(let skip) = self { return try skip.skip(&reader) }
        _ = try value(&reader)
    }

    private static func isZeroWidth(_ read: AvroRead) -> Bool {
        switch read {
        case .null, .skip(.none): return true
        case .record(let steps, _, _): return steps.allSatisfy { isZeroWidth($0.read) }
        default: return false
        }
    }

    static func validString(_ bytes: UnsafeBufferPointer<UInt8>) throws(RecordDecodeError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RecordDecodeError(.malformed, "An Avro string is not valid UTF-8.")
        }
        return text
    }

    static func nullForNotNull(_ column: String) -> RecordDecodeError {
        RecordDecodeError(.unrepresentable, "A NULL was written for the NOT NULL column '\(column)'.")
    }

    static func badBranch(_ branch: Int64, of count: Int) -> RecordDecodeError {
        RecordDecodeError(.malformed, "The Avro union branch \(branch) is out of range (the union has \(count) branches).")
    }

    static func decimalOverflow(_ precision: Int) -> RecordDecodeError {
        RecordDecodeError(.unrepresentable, "An Avro decimal does not fit DECIMAL with precision \(precision).")
    }
}

extension AvroSkip {
    func skip(_ reader: inout AvroBinaryReader) throws(RecordDecodeError) {
        switch self {
        case .none: return
        case .varint: _ = try reader.long()
        case .boolean: _ = try reader.boolean()
        case .fixed(let size): _ = try reader.take(size)
        case .lengthPrefixed: _ = try reader.lengthPrefixed()
        case .record(let fields): for field in fields { try field.skip(&reader) }
        case .array(let item):
            while true {
                let count = try reader.blockCount()
                if count == 0 { return }
                guard count <= reader.bytes.count - reader.position || item.isZeroWidth else { throw AvroBinaryReader.truncated() }
                for _ in 0..<count { try item.skip(&reader) }
            }
        case .map(let value):
            while true {
                let count = try reader.blockCount()
                if count == 0 { return }
                guard count <= reader.bytes.count - reader.position else { throw AvroBinaryReader.truncated() }
                for _ in 0..<count {
                    _ = try reader.lengthPrefixed()
                    try value.skip(&reader)
                }
            }
        case .union(let branches):
            let branch = try reader.long()
            guard branch >= 0, branch < Int64(branches.count) else { throw AvroRead.badBranch(branch, of: branches.count) }
            try branches[Int(branch)].skip(&reader)
        case .named(let schema, let type):
            try AvroSkip.walk(type, in: schema, &reader, depth: 0)
        }
    }

    var isZeroWidth: Bool {
        switch self {
        case .none: true
        case .record(let fields): fields.allSatisfy(\.isZeroWidth)
        default: false
        }
    }

    /// Skips a value of `type` by its definition (for recursive types), refusing data nested absurdly deep.
    static func walk(_ type: AvroType, in schema: AvroSchema, _ reader: inout AvroBinaryReader, depth: Int) throws(RecordDecodeError) {
        guard depth < 1_000 else { throw RecordDecodeError(.malformed, "The Avro record nests deeper than 1,000 levels.") }
        switch schema.resolved(type) {
        case .primitive(let p):
            switch p.kind {
            case .null: return
            case .boolean: _ = try reader.boolean()
            case .int, .long: _ = try reader.long()
            case .float: _ = try reader.take(4)
            case .double: _ = try reader.take(8)
            case .bytes, .string: _ = try reader.lengthPrefixed()
            }
        case .enumeration: _ = try reader.long()
        case .fixed(let fixed): _ = try reader.take(fixed.size)
        case .record(let record): for field in record.fields { try walk(field.type, in: schema, &reader, depth: depth + 1) }
        case .array(let array):
            while true {
                let count = try reader.blockCount()
                if count == 0 { return }
                guard count <= reader.bytes.count - reader.position else { throw AvroBinaryReader.truncated() }
                for _ in 0..<count { try walk(array.items, in: schema, &reader, depth: depth + 1) }
            }
        case .map(let map):
            while true {
                let count = try reader.blockCount()
                if count == 0 { return }
                guard count <= reader.bytes.count - reader.position else { throw AvroBinaryReader.truncated() }
                for _ in 0..<count {
                    _ = try reader.lengthPrefixed()
                    try walk(map.values, in: schema, &reader, depth: depth + 1)
                }
            }
        case .union(let branches):
            let branch = try reader.long()
            guard branch >= 0, branch < Int64(branches.count) else { throw AvroRead.badBranch(branch, of: branches.count) }
            try walk(branches[Int(branch)], in: schema, &reader, depth: depth + 1)
        case .reference:
            throw RecordDecodeError(.malformed, "The Avro schema refers to an undefined type.")
        }
    }
}
