// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas

/// Encodes rows of a table's columns as Avro binary under a schema: the table's own (what CREATE TABLE registered,
/// see ``AvroSchemaGenerator``) or, for a table inferred from a topic, the latest registered one.
///
/// Like the decoder, the mapping from columns to schema fields is compiled once (by field name; schema fields no
/// column feeds are written with their default), so encoding a row is one pass over its values.
public struct AvroRowEncoder: Sendable {
    public let columns: [SQLType.RowField]
    let program: AvroWrite
    /// Whether the schema's root is a record of the columns (else it is one column written as the root).
    let rootIsRecord: Bool

    /// - Throws: ``RecordSchemaError`` when a column's type cannot be written as its field's Avro type, or a
    ///   field with no column has no default.
    public init(schema: AvroSchema, columns: [SQLType.RowField]) throws(RecordSchemaError) {
        self.columns = columns
        var compiler = AvroWriteCompiler(schema: schema)
        if case .record = schema.resolved(schema.root) {
            program = try compiler.compile(schema.root, from: SQLType(.row(columns), nullable: false), path: "")
            rootIsRecord = true
        } else {
            guard columns.count == 1 else {
                throw RecordSchemaError(
                    "The schema is a \(schema.resolved(schema.root).typeName), not a record: it holds one column, not \(columns.count).")
            }
            program = try compiler.compile(schema.root, from: columns[0].type, path: columns[0].name)
            rootIsRecord = false
        }
    }

    /// Appends the Avro encoding of `row` (one value per column) to `output`.
    public func encode(_ row: [Value], into output: inout [UInt8]) throws(RecordEncodeError) {
        guard row.count == columns.count else {
            throw RecordEncodeError("The row has \(row.count) values for \(columns.count) columns.")
        }
        if rootIsRecord {
            try program.writeRecord(fields: row, to: &output)
        } else {
            try program.write(row[0], to: &output)
        }
    }

    /// The Confluent-framed record: header with `schemaID`, then the Avro encoding of `row`.
    public func encodeFramed(_ row: [Value], schemaID: Int32) throws(RecordEncodeError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        ConfluentWireFormat.appendHeader(schemaID: schemaID, to: &output)
        try encode(row, into: &output)
        return output
    }
}

/// One compiled step of writing a column value as an Avro type.
indirect enum AvroWrite: Sendable {
    /// The Avro `null` type: writes nothing; only NULL fits.
    case null
    case boolean
    /// An integer-like value as an Avro `int`, divided by `divisor` (1,000 for TIME microseconds to time-millis).
    case int(divisor: Int64)
    /// An integer-like value as an Avro `long`, times `multiplier` or divided by `divisor`.
    case long(multiplier: Int64, divisor: Int64)
    case float, double
    case string
    case bytes
    case fixed(size: Int)
    /// A string written as the index of its symbol (an unknown symbol as `defaultIndex`, or an error).
    case enumeration(indices: [String: Int], defaultIndex: Int?)
    /// An unscaled decimal, divided by `10^scaleDown` to the schema's scale, as bytes or a fixed of `fixedSize`.
    case decimal(fixedSize: Int?, scaleDown: Int)
    case nullable(nullIndex: Int, inner: AvroWrite)
    /// A non-NULL value as union branch `index`; NULL as `nullIndex` when the union has one.
    case branch(index: Int, nullIndex: Int?, inner: AvroWrite)
    /// A ROW whose one non-NULL field picks the union branch (a ROW of branches, as a foreign union reads).
    case unionFromRow(branches: [(field: Int, branch: Int, write: AvroWrite)], nullIndex: Int?)
    /// Fields in schema order, each from a ROW position or a constant (a default's encoding).
    case record([(source: Int?, write: AvroWrite, constant: [UInt8])])
    case array(AvroWrite)
    /// A MAP as an Avro map (string keys).
    case map(AvroWrite)
    /// A MAP as Kafka Connect's array of key/value records.
    case mapEntries(AvroWrite)
    /// A MULTISET as an array of element/count records.
    case multisetEntries(AvroWrite)
}

extension AvroWrite {
    func writeRecord(fields: [Value], to output: inout [UInt8]) throws(RecordEncodeError) {
        guard case .record(let steps) = self else { return try write(.list(fields), to: &output) }
        // By index: the steps are used in place, not retained and released per record.
        for index in steps.indices {
            if let source = steps[index].0 {
                try steps[index].1.write(fields[source], to: &output)
            } else {
                output.append(contentsOf: steps[index].2)
            }
        }
    }

    func write(_ value: Value, to output: inout [UInt8]) throws(RecordEncodeError) {
        func mismatch() -> RecordEncodeError { RecordEncodeError("The value \(value) does not fit the Avro field.") }
        switch self {
        case .nullable(let nullIndex, let inner):
            if value.isNull {
                AvroBinaryWriter.long(Int64(nullIndex), to: &output)
            } else {
                AvroBinaryWriter.long(Int64(1 - nullIndex), to: &output)
                try inner.write(value, to: &output)
            }
            return
        case .branch(let index, let nullIndex, let inner):
            if value.isNull {
                guard let nullIndex else { throw RecordEncodeError("A NULL cannot be written to an Avro union without a null branch.") }
                AvroBinaryWriter.long(Int64(nullIndex), to: &output)
            } else {
                AvroBinaryWriter.long(Int64(index), to: &output)
                try inner.write(value, to: &output)
            }
            return
        case .null:
            guard value.isNull else { throw mismatch() }
            return
        case .unionFromRow(_, let nullIndex?) where value.isNull:
            AvroBinaryWriter.long(Int64(nullIndex), to: &output)
            return
        default:
            break
        }
        guard !value.isNull else { throw RecordEncodeError("A NULL cannot be written to a non-null Avro field.") }
        switch self {
        case .boolean:
            guard case .bool(let b) = value else { throw mismatch() }
            output.append(b ? 1 : 0)
        case .int(let divisor):
            guard case .int(let v) = value else { throw mismatch() }
            let scaled = divisor == 1 ? v : Temporal.floorDiv(v, divisor)
            guard let narrow = Int32(exactly: scaled) else { throw RecordEncodeError("\(scaled) is out of the range of an Avro int.") }
            AvroBinaryWriter.long(Int64(narrow), to: &output)
        case .long(let multiplier, let divisor):
            guard case .int(let v) = value else { throw mismatch() }
            var scaled = v
            if multiplier != 1 {
                let (product, overflow) = v.multipliedReportingOverflow(by: multiplier)
                guard !overflow else { throw RecordEncodeError("\(v) is out of the range of an Avro long.") }
                scaled = product
            }
            if divisor != 1 { scaled = Temporal.floorDiv(scaled, divisor) }
            AvroBinaryWriter.long(scaled, to: &output)
        case .float:
            guard case .double(let d) = value else { throw mismatch() }
            AvroBinaryWriter.float(Float(d), to: &output)
        case .double:
            guard case .double(let d) = value else { throw mismatch() }
            AvroBinaryWriter.double(d, to: &output)
        case .string:
            guard case .string(let s) = value else { throw mismatch() }
            AvroBinaryWriter.string(s, to: &output)
        case .bytes:
            switch value {
            case .bytes(let b): AvroBinaryWriter.bytes(b, to: &output)
            case .string(let s): AvroBinaryWriter.string(s, to: &output)
            default: throw mismatch()
            }
        case .fixed(let size):
            guard case .bytes(let b) = value else { throw mismatch() }
            guard b.count <= size else { throw RecordEncodeError("\(b.count) bytes do not fit an Avro fixed of size \(size).") }
            output.append(contentsOf: b)
            // BINARY(n) values shorter than n are padded with zero bytes, as Flink pads them.
            if b.count < size { output.append(contentsOf: repeatElement(0, count: size - b.count)) }
        case .enumeration(let indices, let defaultIndex):
            guard case .string(let s) = value else { throw mismatch() }
            guard let index = indices[s] ?? defaultIndex else { throw RecordEncodeError("'\(s)' is not a symbol of the Avro enum.") }
            AvroBinaryWriter.long(Int64(index), to: &output)
        case .decimal(let fixedSize, let scaleDown):
            guard case .decimal(var unscaled) = value else { throw mismatch() }
            if scaleDown > 0 { unscaled /= AvroDecimal.powerOfTen(scaleDown) }
            if let fixedSize {
                guard let bytes = AvroDecimal.fixedBytes(unscaled, size: fixedSize) else {
                    throw RecordEncodeError("The decimal does not fit an Avro fixed of size \(fixedSize).")
                }
                output.append(contentsOf: bytes)
            } else {
                AvroBinaryWriter.bytes(AvroDecimal.bytes(unscaled), to: &output)
            }
        case .unionFromRow(let branches, let nullIndex):
            guard case .list(let fields) = value else { throw mismatch() }
            for (field, branch, write) in branches where field < fields.count && !fields[field].isNull {
                AvroBinaryWriter.long(Int64(branch), to: &output)
                return try write.write(fields[field], to: &output)
            }
            guard let nullIndex else { throw RecordEncodeError("Every field of the union's ROW is NULL, and the union has no null branch.") }
            AvroBinaryWriter.long(Int64(nullIndex), to: &output)
        case .record:
            guard case .list(let fields) = value else { throw mismatch() }
            try writeRecord(fields: fields, to: &output)
        case .array(let item):
            guard case .list(let items) = value else { throw mismatch() }
            if !items.isEmpty {
                AvroBinaryWriter.long(Int64(items.count), to: &output)
                for element in items { try item.write(element, to: &output) }
            }
            output.append(0)
        case .map(let valueWrite):
            guard case .list(let entries) = value else { throw mismatch() }
            if !entries.isEmpty {
                AvroBinaryWriter.long(Int64(entries.count), to: &output)
                for entry in entries {
                    guard case .list(let pair) = entry, pair.count == 2, case .string(let key) = pair[0] else {
                        throw RecordEncodeError("An Avro map key must be a non-NULL string.")
                    }
                    AvroBinaryWriter.string(key, to: &output)
                    try valueWrite.write(pair[1], to: &output)
                }
            }
            output.append(0)
        case .mapEntries(let entryWrite):
            guard case .list(let entries) = value else { throw mismatch() }
            if !entries.isEmpty {
                AvroBinaryWriter.long(Int64(entries.count), to: &output)
                for entry in entries { try entryWrite.write(entry, to: &output) }
            }
            output.append(0)
        case .multisetEntries(let entryWrite):
            guard case .list(let elements) = value else { throw mismatch() }
            var order: [Value] = []
            var counts: [Value: Int64] = [:]
            for element in elements {
                if counts[element] == nil { order.append(element) }
                counts[element, default: 0] += 1
            }
            if !order.isEmpty {
                AvroBinaryWriter.long(Int64(order.count), to: &output)
                for element in order { try entryWrite.write(.list([element, .int(counts[element]!)]), to: &output) }
            }
            output.append(0)
        case .null, .nullable, .branch:
            break
        }
    }
}

/// Compiles the mapping from column types to a schema's Avro types into ``AvroWrite`` steps.
struct AvroWriteCompiler {
    let schema: AvroSchema

    func mismatch(_ avro: AvroType, _ type: SQLType, _ path: String) -> RecordSchemaError {
        RecordSchemaError("Column '\(path)' of type \(type.sql) cannot be written as Avro \(schema.resolved(avro).typeName).")
    }

    mutating func compile(_ avroType: AvroType, from type: SQLType, path: String) throws(RecordSchemaError) -> AvroWrite {
        let avro = schema.resolved(avroType)
        if case .union(let branches) = avro {
            if let (nullIndex, inner) = AvroTypeMapping.nullablePair(branches) {
                return .nullable(nullIndex: nullIndex, inner: try compile(inner, from: type.notNull, path: path))
            }
            let nullIndex = branches.firstIndex { if case .primitive(let p) = schema.resolved($0), p.kind == .null { true } else { false } }
            if case .row(let fields) = type.kind {
                let valueBranches = branches.indices.filter { $0 != nullIndex }
                if valueBranches.count == fields.count {
                    var steps: [(field: Int, branch: Int, write: AvroWrite)] = []
                    for (position, branch) in valueBranches.enumerated() {
                        let name = AvroTypeMapping.branchName(branches[branch], in: schema)
                        let field = fields.firstIndex { $0.name == name } ?? position
                        steps.append((field, branch, try compile(branches[branch], from: fields[field].type.notNull, path: path + "." + name)))
                    }
                    return .unionFromRow(branches: steps, nullIndex: nullIndex)
                }
            }
            for (index, branch) in branches.enumerated() where index != nullIndex {
                if let write = try? compile(branch, from: type.notNull, path: path) {
                    return .branch(index: index, nullIndex: nullIndex, inner: write)
                }
            }
            throw mismatch(avroType, type, path)
        }
        switch (avro, type.kind) {
        case (.primitive(let p), _):
            return try primitive(p, from: type, avroType: avroType, path: path)
        case (.fixed(let fixed), .decimal(_, let scale)):
            guard case .decimal(_, let writerScale)? = fixed.logicalType, writerScale <= scale else { throw mismatch(avroType, type, path) }
            return .decimal(fixedSize: fixed.size, scaleDown: scale - writerScale)
        case (.fixed(let fixed), .binary), (.fixed(let fixed), .varbinary):
            return .fixed(size: fixed.size)
        case (.enumeration(let enumeration), .char), (.enumeration(let enumeration), .varchar):
            var indices: [String: Int] = [:]
            for (index, symbol) in enumeration.symbols.enumerated() { indices[symbol] = index }
            return .enumeration(indices: indices, defaultIndex: enumeration.defaultSymbol.flatMap { indices[$0] })
        case (.array(let array), .array(let element)):
            return .array(try compile(array.items, from: element, path: path + "[]"))
        case (.array(let array), .map(let key, let value)):
            guard AvroTypeMapping.mapEntry(array.items, in: schema) != nil else { throw mismatch(avroType, type, path) }
            let entry = SQLType(.row([SQLType.RowField("key", key), SQLType.RowField("value", value)]), nullable: false)
            return .mapEntries(try compile(array.items, from: entry, path: path + "[]"))
        case (.array(let array), .multiset(let element)):
            guard AvroTypeMapping.mapEntry(array.items, in: schema) != nil else { throw mismatch(avroType, type, path) }
            let entry = SQLType(
                .row([SQLType.RowField("key", element), SQLType.RowField("value", SQLType(.integer, nullable: false))]), nullable: false)
            return .multisetEntries(try compile(array.items, from: entry, path: path + "[]"))
        case (.map(let map), .map(let key, let value)) where key.isCharacter:
            return .map(try compile(map.values, from: value, path: path + "{}"))
        case (.record(let record), .row(let fields)):
            var steps: [(source: Int?, write: AvroWrite, constant: [UInt8])] = []
            for field in record.fields {
                let fieldPath = path.isEmpty ? field.name : path + "." + field.name
                if let source = fields.firstIndex(where: { $0.name == field.name }) ?? fields.firstIndex(where: { field.aliases.contains($0.name) }) {
                    steps.append((source, try compile(field.type, from: fields[source].type, path: fieldPath), []))
                } else {
                    steps.append((nil, .null, try defaultEncoding(field, path: fieldPath)))
                }
            }
            return .record(steps)
        default:
            throw mismatch(avroType, type, path)
        }
    }

    private func primitive(_ p: AvroPrimitiveType, from type: SQLType, avroType: AvroType, path: String) throws(RecordSchemaError) -> AvroWrite {
        switch (p.kind, type.kind) {
        case (.null, _): return .null
        case (.boolean, .boolean): return .boolean
        case (.int, .tinyint), (.int, .smallint), (.int, .integer), (.int, .date): return .int(divisor: 1)
        case (.int, .time): return .int(divisor: 1_000)
        case (.long, .tinyint), (.long, .smallint), (.long, .integer), (.long, .bigint), (.long, .date): return .long(multiplier: 1, divisor: 1)
        case (.long, .time): return .long(multiplier: 1, divisor: 1)  // time-micros
        case (.long, .timestamp(let precision)), (.long, .timestampLTZ(let precision)):
            switch p.logicalType {
            case .timestampMicros?, .localTimestampMicros?: return .long(multiplier: 1, divisor: 1)
            case .timestampNanos?, .localTimestampNanos?: return .long(multiplier: 1_000, divisor: 1)
            case .timestampMillis?, .localTimestampMillis?: return .long(multiplier: 1, divisor: 1_000)
            default: return precision <= 3 ? .long(multiplier: 1, divisor: 1_000) : .long(multiplier: 1, divisor: 1)
            }
        case (.float, .float), (.float, .double): return .float
        case (.double, .float), (.double, .double): return .double
        case (.string, .char), (.string, .varchar): return .string
        case (.bytes, .binary), (.bytes, .varbinary): return .bytes
        case (.bytes, .decimal(_, let scale)):
            guard case .decimal(_, let writerScale)? = p.logicalType, writerScale <= scale else { throw mismatch(avroType, type, path) }
            return .decimal(fixedSize: nil, scaleDown: scale - writerScale)
        default:
            throw mismatch(avroType, type, path)
        }
    }

    /// The encoding of a field's default, written for a field no column feeds.
    private mutating func defaultEncoding(_ field: AvroField, path: String) throws(RecordSchemaError) -> [UInt8] {
        guard let json = field.defaultValue else {
            throw RecordSchemaError("The schema's field '\(path)' has no column and no default.")
        }
        let type = try AvroTypeMapping.sqlType(field.type, in: schema)
        let value = try AvroReadCompiler.value(ofDefault: json, as: type.withNullable(true), avro: field.type, in: schema)
        // A union's default is for its first branch.
        var write = try compile(field.type, from: type, path: path)
        if case .union(let branches) = schema.resolved(field.type), let first = branches.first {
            write = .branch(index: 0, nullIndex: value.isNull ? 0 : nil, inner: try compile(first, from: type.notNull, path: path))
        }
        var output: [UInt8] = []
        do throws(RecordEncodeError) { try write.write(value, to: &output) } catch {
            throw RecordSchemaError("The default of field '\(path)' cannot be encoded: \(error.message)")
        }
        return output
    }
}
