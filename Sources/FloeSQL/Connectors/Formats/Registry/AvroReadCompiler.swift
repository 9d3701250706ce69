// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas

/// Compiles the resolution of a writer schema to reader types into ``AvroRead`` steps (see ``AvroRowDecoder``).
struct AvroReadCompiler {
    let writer: AvroSchema
    /// The table's own schema, for defaults and aliases; nil when the table has none.
    let reader: AvroSchema?
    /// Writer named types being compiled as skips (a name met again inside itself is recursive).
    private var skipping: Set<String> = []

    init(writer: AvroSchema, reader: AvroSchema?) {
        self.writer = writer
        self.reader = reader
    }

    /// The column a writer field feeds: the column of the same name, or the one whose reader field lists the writer
    /// field's name among its aliases.
    func readerIndex(for field: AvroField, in columns: [SQLType.RowField], readerFields: [AvroField]?) -> Int? {
        if let index = columns.firstIndex(where: { $0.name == field.name }) { return index }
        guard let readerFields else { return nil }
        for readerField in readerFields where readerField.aliases.contains(field.name) {
            if let index = columns.firstIndex(where: { $0.name == readerField.name }) { return index }
        }
        return nil
    }

    /// The value a reader field the writer lacks gets: its default, or NULL when nullable.
    func defaultValue(for field: SQLType.RowField, readerField: AvroField?, writerRecord: String) throws(RecordSchemaError) -> Value {
        if let json = readerField?.defaultValue {
            return try Self.value(ofDefault: json, as: field.type, avro: readerField.map { reader?.resolved($0.type) ?? $0.type }, in: reader)
        }
        if field.type.nullable { return .null }
        throw RecordSchemaError(
            "The writer schema '\(writerRecord)' has no field '\(field.name)', and the NOT NULL column '\(field.name)' has no default to read instead."
        )
    }

    private func mismatch(_ writerType: AvroType, _ reader: SQLType, _ path: String) -> RecordSchemaError {
        let name = writerType.name.map { "\($0.fullname) (\(writer.resolved(writerType).typeName))" } ?? writer.resolved(writerType).typeName
        return RecordSchemaError("Field '\(path)': Avro \(name) cannot be read as \(reader.sql).")
    }

    /// The non-null branch of a reader type `["null", T]`, or the type itself.
    private func readerInner(_ type: AvroType?) -> AvroType? {
        guard let type, let reader else { return nil }
        let resolved = reader.resolved(type)
        if case .union(let branches) = resolved, let (_, inner) = AvroTypeMapping.nullablePair(branches) { return reader.resolved(inner) }
        return resolved
    }

    mutating func compile(
        _ writerType: AvroType, as target: SQLType, readerAvro: AvroType?, path: String, depth: Int
    ) throws(RecordSchemaError) -> AvroRead {
        guard depth < AvroTypeMapping.maximumDepth else {
            throw RecordSchemaError("Field '\(path)' nests deeper than \(AvroTypeMapping.maximumDepth) levels.")
        }
        let written = writer.resolved(writerType)
        let readerType = readerInner(readerAvro)
        if case .union(let branches) = written {
            if let (nullIndex, inner) = AvroTypeMapping.nullablePair(branches) {
                let read = try compile(inner, as: target, readerAvro: readerType, path: path, depth: depth + 1)
                return .nullable(nullIndex: nullIndex, allowed: target.nullable, inner: read)
            }
            if case .row(let fields) = target.kind,
                let read = try unionAsRow(branches, fields: fields, nullable: target.nullable, path: path, depth: depth)
            {
                return read
            }
            var reads: [AvroRead] = []
            var resolvedAny = false
            for branch in branches {
                if case .primitive(let p) = writer.resolved(branch), p.kind == .null {
                    reads.append(.null(allowed: target.nullable))
                    continue
                }
                do throws(RecordSchemaError) {
                    reads.append(try compile(branch, as: target, readerAvro: readerType, path: path, depth: depth + 1))
                    resolvedAny = true
                } catch {
                    reads.append(.unresolvable(error.message))
                }
            }
            guard resolvedAny else { throw mismatch(writerType, target, path) }
            return .union(reads)
        }
        switch (written, target.kind) {
        case (.primitive(let p), _):
            return try primitive(p, as: target, writerType: writerType, path: path)
        case (.fixed(let fixed), .decimal(let precision, let scale)):
            guard case .decimal(_, let writerScale) = fixed.logicalType, writerScale <= scale else { throw mismatch(writerType, target, path) }
            return .decimal(fixedSize: fixed.size, rescale: scale - writerScale, precision: precision)
        case (.fixed(let fixed), .binary), (.fixed(let fixed), .varbinary):
            return .fixed(size: fixed.size)
        case (.enumeration(let enumeration), .char), (.enumeration(let enumeration), .varchar):
            if case .enumeration(let readerEnum)? = readerType {
                return .enumeration(symbols: enumeration.symbols.map { readerEnum.symbols.contains($0) ? $0 : readerEnum.defaultSymbol })
            }
            return .enumeration(symbols: enumeration.symbols)
        case (.array(let array), .array(let element)):
            let readerItems: AvroType? = if case .array(let r)? = readerType { r.items } else { nil }
            return .array(try compile(array.items, as: element, readerAvro: readerItems, path: path + "[]", depth: depth + 1))
        case (.array(let array), .multiset(let element)):
            guard AvroTypeMapping.mapEntry(array.items, in: writer) != nil else { throw mismatch(writerType, target, path) }
            let entry = SQLType(
                .row([SQLType.RowField("key", element), SQLType.RowField("value", SQLType(.integer, nullable: false))]), nullable: false)
            return .multiset(try compile(array.items, as: entry, readerAvro: nil, path: path + "[]", depth: depth + 1))
        case (.array(let array), .map(let key, let value)):
            guard AvroTypeMapping.mapEntry(array.items, in: writer) != nil else { throw mismatch(writerType, target, path) }
            let entry = SQLType(.row([SQLType.RowField("key", key), SQLType.RowField("value", value)]), nullable: false)
            return .array(try compile(array.items, as: entry, readerAvro: nil, path: path + "[]", depth: depth + 1))
        case (.map(let map), .map(let key, let value)) where key.isCharacter:
            let readerValues: AvroType? = if case .map(let r)? = readerType { r.values } else { nil }
            return .map(try compile(map.values, as: value, readerAvro: readerValues, path: path + "{}", depth: depth + 1))
        case (.record(let record), .row(let fields)):
            let readerFields: [AvroField]? = if case .record(let r)? = readerType { r.fields } else { nil }
            var steps: [(field: Int?, read: AvroRead)] = []
            var matched = [Bool](repeating: false, count: fields.count)
            for field in record.fields {
                if let index = readerIndex(for: field, in: fields, readerFields: readerFields), !matched[index] {
                    matched[index] = true
                    let readerField = readerFields?.first { $0.name == fields[index].name }
                    steps.append(
                        (
                            index,
                            try compile(
                                field.type, as: fields[index].type, readerAvro: readerField?.type, path: path + "." + field.name, depth: depth + 1)
                        ))
                } else {
                    steps.append((nil, try skip(field.type, depth: depth + 1)))
                }
            }
            var missing: [(field: Int, value: Value)] = []
            for (index, field) in fields.enumerated() where !matched[index] {
                missing.append(
                    (
                        index,
                        try defaultValue(for: field, readerField: readerFields?.first { $0.name == field.name }, writerRecord: record.name.fullname)
                    ))
            }
            return .record(steps: steps, fieldCount: fields.count, missing: missing)
        default:
            throw mismatch(writerType, target, path)
        }
    }

    private func primitive(_ p: AvroPrimitiveType, as target: SQLType, writerType: AvroType, path: String) throws(RecordSchemaError) -> AvroRead {
        switch (p.kind, target.kind) {
        case (.null, _): return .null(allowed: target.nullable)
        case (.boolean, .boolean): return .boolean
        case (.int, .tinyint): return .int(scale: 1, range: -128...127)
        case (.int, .smallint): return .int(scale: 1, range: -32_768...32_767)
        case (.int, .integer), (.int, .bigint), (.int, .date): return .int(scale: 1, range: nil)
        case (.int, .time): return .int(scale: 1_000, range: nil)  // time-millis → microseconds of the day
        case (.int, .float): return .intAsFloat
        case (.int, .double): return .intAsDouble
        case (.long, .bigint): return .long(multiplier: 1, divisor: 1, precision: nil)
        case (.long, .float): return .longAsFloat
        case (.long, .double): return .longAsDouble
        case (.long, .time(let precision)):
            return .long(multiplier: 1, divisor: 1, precision: precision < 6 ? precision : nil)  // time-micros
        case (.long, .timestamp(let precision)), (.long, .timestampLTZ(let precision)):
            let (multiplier, divisor, writerPrecision): (Int64, Int64, Int)
            switch p.logicalType {
            case .timestampMillis?, .localTimestampMillis?: (multiplier, divisor, writerPrecision) = (1_000, 1, 3)
            case .timestampMicros?, .localTimestampMicros?: (multiplier, divisor, writerPrecision) = (1, 1, 6)
            case .timestampNanos?, .localTimestampNanos?: (multiplier, divisor, writerPrecision) = (1, 1_000, 6)
            default:
                // A plain long read as a timestamp: milliseconds, as Kafka timestamps are, unless the column is finer.
                (multiplier, divisor, writerPrecision) = precision <= 3 ? (1_000, 1, 3) : (1, 1, 6)
            }
            return .long(multiplier: multiplier, divisor: divisor, precision: precision < writerPrecision ? precision : nil)
        case (.float, .float), (.float, .double): return .float
        case (.double, .double): return .double
        case (.string, .char), (.string, .varchar), (.bytes, .char), (.bytes, .varchar): return .string
        case (.string, .binary), (.string, .varbinary), (.bytes, .binary), (.bytes, .varbinary): return .bytes
        case (.bytes, .decimal(let precision, let scale)):
            guard case .decimal(_, let writerScale)? = p.logicalType, writerScale <= scale else { throw mismatch(writerType, target, path) }
            return .decimal(fixedSize: nil, rescale: scale - writerScale, precision: precision)
        default:
            throw mismatch(writerType, target, path)
        }
    }

    /// A writer union (other than `["null", T]`) read as a ROW of one field per non-null branch, matched by the
    /// branch's name (`int`, `string`, a record's name) or else by position.
    private mutating func unionAsRow(
        _ branches: [AvroType], fields: [SQLType.RowField], nullable: Bool, path: String, depth: Int
    ) throws(RecordSchemaError) -> AvroRead? {
        let valueBranches = branches.filter { if case .primitive(let p) = writer.resolved($0), p.kind == .null { false } else { true } }
        guard valueBranches.count == fields.count else { return nil }
        var reads: [(field: Int?, read: AvroRead)] = []
        var position = 0
        for branch in branches {
            if case .primitive(let p) = writer.resolved(branch), p.kind == .null {
                reads.append((nil, .null(allowed: true)))
                continue
            }
            let name = AvroTypeMapping.branchName(branch, in: writer)
            let index = fields.firstIndex { $0.name == name } ?? position
            position += 1
            reads.append((index, try compile(branch, as: fields[index].type, readerAvro: nil, path: path + "." + name, depth: depth + 1)))
        }
        return .unionAsRow(branches: reads, fieldCount: fields.count, allowed: nullable)
    }

    /// A step that skips a writer value.
    mutating func skip(_ writerType: AvroType, depth: Int) throws(RecordSchemaError) -> AvroRead {
        .skip(try skipProgram(writerType, depth: depth))
    }

    private mutating func skipProgram(_ writerType: AvroType, depth: Int) throws(RecordSchemaError) -> AvroSkip {
        if let name = writerType.name?.fullname, skipping.contains(name) { return .named(writer, writerType) }
        guard depth < 4 * AvroTypeMapping.maximumDepth else { return .named(writer, writerType) }
        let type = writer.resolved(writerType)
        switch type {
        case .primitive(let p):
            switch p.kind {
            case .null: return .none
            case .boolean: return .boolean
            case .int, .long: return .varint
            case .float: return .fixed(4)
            case .double: return .fixed(8)
            case .bytes, .string: return .lengthPrefixed
            }
        case .enumeration: return .varint
        case .fixed(let fixed): return .fixed(fixed.size)
        case .array(let array): return .array(try skipProgram(array.items, depth: depth + 1))
        case .map(let map): return .map(try skipProgram(map.values, depth: depth + 1))
        case .union(let branches):
            var skips: [AvroSkip] = []
            for branch in branches { skips.append(try skipProgram(branch, depth: depth + 1)) }
            return .union(skips)
        case .record(let record):
            let name = record.name.fullname
            skipping.insert(name)
            defer { skipping.remove(name) }
            var skips: [AvroSkip] = []
            for field in record.fields { skips.append(try skipProgram(field.type, depth: depth + 1)) }
            return .record(skips)
        case .reference(let name):
            throw RecordSchemaError("The writer schema refers to an undefined type '\(name.fullname)'.")
        }
    }

    // MARK: Defaults

    /// The value of a field default (Avro JSON encoding of defaults) as a column of `type`; `avro` is the reader's
    /// Avro type of the field when known (its logical type tells the unit of a timestamp; a union's default is for
    /// its first branch).
    static func value(ofDefault json: JSONValue, as type: SQLType, avro: AvroType?, in schema: AvroSchema?) throws(RecordSchemaError) -> Value {
        var avro = avro.map { schema?.resolved($0) ?? $0 }
        if case .union(let branches)? = avro { avro = branches.first.map { schema?.resolved($0) ?? $0 } }
        func fail() -> RecordSchemaError { RecordSchemaError("The default \(json.serializedString) does not fit \(type.sql).") }
        if case .null = json {
            guard type.nullable else { throw fail() }
            return .null
        }
        var logical: AvroLogicalType?
        if case .primitive(let p)? = avro { logical = p.logicalType }
        switch type.kind {
        case .boolean:
            guard let value = json.boolValue else { throw fail() }
            return .bool(value)
        case .tinyint, .smallint, .integer, .bigint, .date:
            guard let value = json.intValue else { throw fail() }
            return .int(value)
        case .time:
            guard let value = json.intValue else { throw fail() }
            return .int(logical == .timeMicros ? value : value * 1_000)
        case .timestamp(let precision), .timestampLTZ(let precision):
            guard let value = json.intValue else { throw fail() }
            switch logical {
            case .timestampMicros?, .localTimestampMicros?: return .int(value)
            case .timestampNanos?, .localTimestampNanos?: return .int(value / 1_000)
            case .timestampMillis?, .localTimestampMillis?: return .int(value * 1_000)
            default: return .int(precision <= 3 ? value * 1_000 : value)
            }
        case .float, .double:
            switch json {
            case .int(let v): return .double(Double(v))
            case .double(let v): return .double(v)
            default: throw fail()
            }
        case .char, .varchar:
            guard let value = json.stringValue else { throw fail() }
            return .string(value)
        case .binary, .varbinary:
            guard let value = json.stringValue else { throw fail() }
            return .bytes(latin1(value))
        case .decimal(_, let scale):
            guard let value = json.stringValue else { throw fail() }
            let bytes = latin1(value)
            var writerScale = scale
            if case .primitive(let p)? = avro, case .decimal(_, let s)? = p.logicalType { writerScale = s }
            if case .fixed(let f)? = avro, case .decimal(_, let s)? = f.logicalType { writerScale = s }
            let unscaled: Int128
            do { unscaled = try bytes.withUnsafeBufferPointer { b throws(RecordDecodeError) in try AvroDecimal.unscaled(b) } } catch { throw fail() }
            return .decimal(unscaled * AvroDecimal.powerOfTen(max(0, scale - writerScale)))
        case .array(let element), .multiset(let element):
            guard let items = json.arrayValue else { throw fail() }
            var itemAvro: AvroType?
            if case .array(let a)? = avro { itemAvro = a.items }
            var values: [Value] = []
            for item in items { values.append(try value(ofDefault: item, as: element, avro: itemAvro, in: schema)) }
            return .list(values)
        case .map(_, let valueType):
            guard case .object(let members) = json else { throw fail() }
            var valueAvro: AvroType?
            if case .map(let m)? = avro { valueAvro = m.values }
            var entries: [Value] = []
            for (key, member) in members {
                entries.append(.list([.string(key), try value(ofDefault: member, as: valueType, avro: valueAvro, in: schema)]))
            }
            return .list(entries)
        case .row(let fields):
            guard case .object = json else { throw fail() }
            var avroFields: [AvroField] = []
            if case .record(let r)? = avro { avroFields = r.fields }
            var values: [Value] = []
            for field in fields {
                let avroField = avroFields.first { $0.name == field.name }
                if let member = json[field.name] {
                    values.append(try value(ofDefault: member, as: field.type, avro: avroField?.type, in: schema))
                } else if let nested = avroField?.defaultValue {
                    values.append(try value(ofDefault: nested, as: field.type, avro: avroField?.type, in: schema))
                } else if field.type.nullable {
                    values.append(.null)
                } else {
                    throw fail()
                }
            }
            return .list(values)
        case .null, .intervalDayTime, .intervalYearMonth:
            throw fail()
        }
    }

    /// Avro's JSON encoding of `bytes` and `fixed` defaults: one character per byte, code points 0–255.
    private static func latin1(_ text: String) -> [UInt8] { text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
}
