// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A table with `'connector' = 'datagen'`: its rows are generated, with Flink's datagen options.
///
/// - `rows-per-second` (default 10000) paces the source; `number-of-rows` bounds it (unbounded by default).
/// - Per field `fields.<name>.kind` is `random` (default) or `sequence`. Random numbers take `min`/`max` (default the
///   type's range; for DECIMAL and floating point ±1e6), random strings `length` (default 100, at most the declared
///   length) of lower-case hex digits; `null-rate` (0 to 1) makes a nullable field NULL that often. A `sequence`
///   field counts from `start` to `end` (both required) and the source ends with the shortest sequence.
/// - Generation is seeded from the table's id, so a statement that re-runs (after a restart) sees the same rows.
struct DatagenSpec: Sendable, Equatable {
    enum Generator: Sendable, Equatable {
        case sequence(start: Int64, end: Int64)
        case randomInteger(min: Int64, max: Int64)
        case randomDouble(min: Double, max: Double)
        case randomDecimal(min: Int128, max: Int128)
        case randomString(length: Int)
        case randomBool
        /// A `faker` table's field expression.
        case faker(FakerExpression)
    }

    struct Field: Sendable, Equatable {
        var type: SQLType
        var generator: Generator
        var nullRate: Double
    }

    var fields: [Field]
    var rowsPerSecond: Int
    /// How many rows the source produces; `nil` when unbounded.
    var rowLimit: Int64?
    var seed: UInt64
    /// Rows carry `$rowtime`, the time each was generated, after the fields (`faker` tables, like Confluent's
    /// `examples.marketplace`).
    var appendsRowtime = false

    /// The types of the generated rows (with `$rowtime` last when appended).
    var types: [SQLType] { fields.map(\.type) + (appendsRowtime ? [PlanField.rowtimeType] : []) }

    /// The spec of a `'connector' = 'datagen'` table.
    /// - Throws: an option that is unknown, malformed or does not fit its column.
    static func datagen(options: [String: String], columns: [(name: String, type: SQLType)], seed: String) throws(SQLError) -> DatagenSpec {
        var known: Set<String> = ["connector", "rows-per-second", "number-of-rows"]
        func integer(_ key: String) throws(SQLError) -> Int64? {
            guard let text = options[key] else { return nil }
            guard let value = Int64(text.trimmingSpaces) else { throw SQLError("Could not parse value '\(text)' for key '\(key)'.") }
            return value
        }
        func number(_ key: String) throws(SQLError) -> Double? {
            guard let text = options[key] else { return nil }
            guard let value = Double(text.trimmingSpaces), value.isFinite else { throw SQLError("Could not parse value '\(text)' for key '\(key)'.") }
            return value
        }
        let rate = try integer("rows-per-second") ?? 10_000
        guard rate > 0 else { throw SQLError("'rows-per-second' must be positive, not \(rate).") }
        var limit = try integer("number-of-rows")
        if let value = limit, value < 0 { throw SQLError("'number-of-rows' must not be negative, not \(value).") }
        var fields: [Field] = []
        for column in columns {
            let prefix = "fields.\(column.name)."
            for suffix in ["kind", "min", "max", "length", "start", "end", "null-rate", "max-past"] { known.insert(prefix + suffix) }
            let kind = options[prefix + "kind"]?.lowercased() ?? "random"
            let nullRate = try number(prefix + "null-rate") ?? 0
            guard (0...1).contains(nullRate) else { throw SQLError("'\(prefix)null-rate' must be between 0 and 1.") }
            let generator: Generator
            switch kind {
            case "sequence":
                guard let start = try integer(prefix + "start"), let end = try integer(prefix + "end") else {
                    throw SQLError("A sequence field needs '\(prefix)start' and '\(prefix)end'.")
                }
                guard start <= end else { throw SQLError("'\(prefix)start' must not be greater than '\(prefix)end'.") }
                switch column.type.kind {
                case .tinyint, .smallint, .integer, .bigint, .char, .varchar, .decimal, .float, .double: break
                default: throw SQLError("datagen cannot generate a sequence of \(column.type.sql) for field '\(column.name)'.")
                }
                try Self.requireInRange(start, column.type, column.name)
                try Self.requireInRange(end, column.type, column.name)
                generator = .sequence(start: start, end: end)
                let count = end - start + 1
                limit = min(limit ?? count, count)
            case "random":
                switch column.type.kind {
                case .boolean: generator = .randomBool
                case .tinyint, .smallint, .integer, .bigint:
                    let range = Self.integerRange(column.type)
                    let low = try integer(prefix + "min") ?? range.lowerBound
                    let high = try integer(prefix + "max") ?? range.upperBound
                    guard low <= high else { throw SQLError("'\(prefix)min' must not be greater than '\(prefix)max'.") }
                    try Self.requireInRange(low, column.type, column.name)
                    try Self.requireInRange(high, column.type, column.name)
                    generator = .randomInteger(min: low, max: high)
                case .float, .double:
                    let low = try number(prefix + "min") ?? -1e6
                    let high = try number(prefix + "max") ?? 1e6
                    guard low <= high else { throw SQLError("'\(prefix)min' must not be greater than '\(prefix)max'.") }
                    generator = .randomDouble(min: low, max: high)
                case .decimal(let precision, let scale):
                    let bound = min(1e6, pow10(precision - scale) - 1)
                    let low = try number(prefix + "min") ?? -bound
                    let high = try number(prefix + "max") ?? bound
                    guard low <= high else { throw SQLError("'\(prefix)min' must not be greater than '\(prefix)max'.") }
                    let factor = pow10(scale)
                    generator = .randomDecimal(min: Int128((low * factor).rounded()), max: Int128((high * factor).rounded()))
                case .char(let size):
                    generator = .randomString(length: size)
                case .varchar(let size):
                    let length = try integer(prefix + "length") ?? 100
                    guard length >= 0 else { throw SQLError("'\(prefix)length' must not be negative.") }
                    generator = .randomString(length: Int(min(length, Int64(size))))
                default:
                    throw SQLError("datagen cannot generate random values of \(column.type.sql) for field '\(column.name)' yet.")
                }
            default:
                throw SQLError("Unsupported kind '\(kind)' for field '\(column.name)': use 'random' or 'sequence'.")
            }
            fields.append(Field(type: column.type, generator: generator, nullRate: column.type.nullable ? nullRate : 0))
        }
        let unknown = options.keys.filter { !known.contains($0) && !$0.hasPrefix("floe.") }.sorted()
        if !unknown.isEmpty {
            throw SQLError(
                "Unsupported options found for 'datagen': \(unknown.joined(separator: ", ")). Supported: rows-per-second, number-of-rows and fields.<name>.kind/min/max/length/start/end/null-rate."
            )
        }
        return DatagenSpec(fields: fields, rowsPerSecond: Int(rate), rowLimit: limit, seed: Self.hash(seed))
    }

    private static func hash(_ seed: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// A `'connector' = 'faker'` table: `rows-per-second`, `number-of-rows` and a `fields.<name>.expression` per
    /// column (``FakerExpression``); its rows carry `$rowtime`.
    static func faker(options: [String: String], columns: [(name: String, type: SQLType)], seed: String) throws(SQLError) -> DatagenSpec {
        var known: Set<String> = ["connector", "rows-per-second", "number-of-rows", "changelog.mode"]
        let rate = options["rows-per-second"].map { Int($0.trimmingSpaces) } ?? 10_000
        guard let rate, rate > 0 else { throw SQLError("'rows-per-second' must be a positive integer.") }
        let limit = options["number-of-rows"].map { Int64($0.trimmingSpaces) }
        if let limit, limit.map({ $0 < 0 }) ?? true { throw SQLError("'number-of-rows' must be a non-negative integer.") }
        var fields: [Field] = []
        for column in columns {
            let key = "fields.\(column.name).expression"
            known.insert(key)
            guard let text = options[key] else { throw SQLError("The faker connector needs '\(key)' for column '\(column.name)'.") }
            guard let expression = FakerExpression.parse(text) else {
                throw SQLError("Unsupported faker expression '\(text)' for column '\(column.name)'.")
            }
            guard expression.canGenerate(column.type) else {
                throw SQLError("The faker expression '\(text)' cannot generate values of column '\(column.name)' (\(column.type.sql)).")
            }
            fields.append(Field(type: column.type, generator: .faker(expression), nullRate: 0))
        }
        let unknown = options.keys.filter { !known.contains($0) && !$0.hasPrefix("floe.") }.sorted()
        if !unknown.isEmpty { throw SQLError("Unsupported options found for 'faker': \(unknown.joined(separator: ", ")).") }
        return DatagenSpec(fields: fields, rowsPerSecond: rate, rowLimit: limit ?? nil, seed: hash(seed), appendsRowtime: true)
    }

    private static func integerRange(_ type: SQLType) -> ClosedRange<Int64> {
        switch type.kind {
        case .tinyint: Int64(Int8.min)...Int64(Int8.max)
        case .smallint: Int64(Int16.min)...Int64(Int16.max)
        case .integer: Int64(Int32.min)...Int64(Int32.max)
        default: Int64.min...Int64.max
        }
    }

    private static func requireInRange(_ value: Int64, _ type: SQLType, _ name: String) throws(SQLError) {
        switch type.kind {
        case .tinyint, .smallint, .integer, .bigint:
            guard integerRange(type).contains(value) else { throw SQLError("\(value) is out of range for field '\(name)' of type \(type.sql).") }
        default: break
        }
    }
}

private func pow10(_ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<max(0, exponent) { result *= 10 }
    return result
}

/// SplitMix64: small, fast and good enough to make test data; deterministic for a seed.
struct SplitMix64 {
    /// The generator's whole state (checkpoints save it).
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `low...high`.
    mutating func next(in low: Int64, _ high: Int64) -> Int64 {
        let span = UInt64(bitPattern: high &- low) &+ 1
        if span == 0 { return Int64(bitPattern: next()) }  // the whole Int64 range
        return low &+ Int64(bitPattern: next() % span)
    }

    /// A uniform double in `[0, 1)`.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// Generates a datagen table's rows, paced at `rows-per-second`.
final class DatagenSource: SourceStage {
    private let spec: DatagenSpec
    private let types: [SQLType]
    private var random: SplitMix64
    private var produced: Int64 = 0
    private var started: ContinuousClock.Instant?
    private let clock = ContinuousClock()
    private static let hexDigits = Array("0123456789abcdef".utf8)

    init(spec: DatagenSpec) {
        self.spec = spec
        self.types = spec.types
        self.random = SplitMix64(seed: spec.seed)
    }

    override func poll() throws(SQLError) -> Batch? {
        let now = clock.now
        let start = started ?? now
        started = start
        let elapsed = now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        // Rows due by now (the first second's worth at once), capped per batch and by the limit.
        var due = Int64(min(Double(Int64.max / 2), Double(spec.rowsPerSecond) * max(seconds, 1.0 / Double(spec.rowsPerSecond)))) - produced
        due = max(0, min(due, 4096, Int64(spec.rowsPerSecond)))
        if let limit = spec.rowLimit { due = min(due, limit - produced) }
        guard due > 0 else { return nil }
        var rows: [Row] = []
        rows.reserveCapacity(Int(due))
        let generatedAt = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) * 1000
        for _ in 0..<due {
            var row = spec.fields.map { generate($0, index: produced) }
            if spec.appendsRowtime { row.append(.int(generatedAt)) }
            rows.append(row)
            produced += 1
        }
        return Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: types)
    }

    private func generate(_ field: DatagenSpec.Field, index: Int64) -> Value {
        if field.nullRate > 0, random.unit() < field.nullRate { return .null }
        switch field.generator {
        case .sequence(let start, _):
            let value = start + index
            switch field.type.physical {
            case .string: return .string(String(value))
            case .double: return .double(Double(value))
            case .decimal:
                if case .decimal(_, let scale) = field.type.kind { return .decimal(Int128(value) * Int128(pow10(scale))) }
                return .decimal(Int128(value))
            default: return .int(value)
            }
        case .randomInteger(let low, let high): return .int(random.next(in: low, high))
        case .randomDouble(let low, let high): return .double(low + (high - low) * random.unit())
        case .randomDecimal(let low, let high):
            let span = UInt64(clamping: high - low)
            return .decimal(low + Int128(span == UInt64.max ? random.next() : random.next() % (span + 1)))
        case .randomBool: return .bool(random.next() & 1 == 1)
        case .faker(let expression): return expression.generate(&random, type: field.type)
        case .randomString(let length):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(length)
            for _ in 0..<length { bytes.append(Self.hexDigits[Int(random.next() & 15)]) }
            return .string(String(decoding: bytes, as: UTF8.self))
        }
    }

    override var isExhausted: Bool { spec.rowLimit.map { produced >= $0 } ?? false }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(produced)
        writer.int(Int64(bitPattern: random.state))
    }

    /// Continues after the rows already produced, paced from now as if they had been produced at the set rate.
    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        produced = try reader.int()
        random = SplitMix64(seed: UInt64(bitPattern: try reader.int()))
        guard produced >= 0 else { throw StateReader.malformed() }
        if produced > 0 {
            let seconds = Double(produced) / Double(spec.rowsPerSecond)
            started = clock.now - .nanoseconds(Int64(min(seconds, 1e9) * 1e9))
        }
    }

    /// When the next row is due (the driver sleeps until then when nothing else moves).
    override var wakeDeadline: ContinuousClock.Instant? {
        guard !isExhausted, let started else { return nil }
        let next = Double(produced + 1) / Double(spec.rowsPerSecond)
        return started + .nanoseconds(Int64(next * 1e9))
    }
}
