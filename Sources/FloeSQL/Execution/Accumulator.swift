// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Running counts and sums of the non-null values an aggregate saw, signed by row kind (-U/-D subtract).
struct AggregateSums {
    var nonNullCount: Int64 = 0
    var integerSum: Int64 = 0
    var doubleSum: Double = 0
    var decimalSum: Int128 = 0

    /// Adds a non-null value; each sum takes only values of its own representation.
    @inline(__always) mutating func add(_ value: Value, sign: Int64) {
        nonNullCount += sign
        switch value {
        case .int(let v): integerSum = integerSum &+ v &* sign
        case .double(let v): doubleSum += v * Double(sign)
        case .decimal(let v): decimalSum += v * Int128(sign)
        default: break
        }
    }

    /// The SUM, SUM0 or AVG `call` computes from these sums.
    func result(_ call: AggregateCall) -> Value {
        guard nonNullCount > 0 else { return call.function == .sum0 ? Self.zero(call.type) : .null }
        let argumentType = call.argumentType ?? call.type
        let isAverage = call.function == .avg
        switch argumentType.physical {
        case .int:
            return .int(Self.narrow(isAverage ? integerSum / nonNullCount : integerSum, to: Self.integerWidth(call.type)))
        case .double:
            let value = isAverage ? doubleSum / Double(nonNullCount) : doubleSum
            return .double(call.type.kind == .float ? Double(Float(value)) : value)
        case .decimal:
            let fromScale = argumentType.decimalShape?.scale ?? 0
            let toScale = call.type.decimalShape?.scale ?? 0
            return .decimal(Self.decimal(decimalSum, count: nonNullCount, average: isAverage, from: fromScale, to: toScale))
        default: return .null
        }
    }

    /// A decimal SUM (rescaled) or AVG (rescaled, rounded half away from zero).
    @inline(__always) static func decimal(_ sum: Int128, count: Int64, average: Bool, from: Int, to: Int) -> Int128 {
        guard average else { return Caster.rescale(sum, from: from, to: to) }
        let numerator = Caster.rescale(sum, from: from, to: to + 1)
        let quotient = numerator / Int128(count)
        return (quotient + (quotient >= 0 ? 5 : -5)) / 10
    }

    static func zero(_ type: SQLType) -> Value {
        switch type.physical {
        case .double: .double(0)
        case .decimal: .decimal(0)
        default: .int(0)
        }
    }

    /// The bit width an integer result wraps to (64 for BIGINT and non-integer types).
    static func integerWidth(_ type: SQLType) -> Int {
        switch type.kind {
        case .tinyint: 8
        case .smallint: 16
        case .integer: 32
        default: 64
        }
    }

    @inline(__always) static func narrow(_ value: Int64, to width: Int) -> Int64 {
        switch width {
        case 8: Int64(Int8(truncatingIfNeeded: value))
        case 16: Int64(Int16(truncatingIfNeeded: value))
        case 32: Int64(Int32(truncatingIfNeeded: value))
        default: value
        }
    }
}

/// The boxed running state of one aggregate call in one group, for the calls the typed paths do not cover
/// (MIN/MAX, DISTINCT, unusual argument types): sums plus the values with their multiplicities.
///
/// MIN/MAX keep the current extreme instead of scanning the values for every result; it is exact while the values
/// are totally ordered by `Value.compare` (so the extreme is unique), and falls back to the scan otherwise (NaN,
/// ROW/ARRAY values).
struct Accumulator {
    var sums = AggregateSums()
    /// Values with multiplicities, kept for MIN/MAX and DISTINCT aggregates.
    var values: [Value: Int64] = [:]
    /// The extreme key of `values` when `extremeIsKnown` (NULL when `values` is empty).
    private var extreme: Value = .null
    private var extremeIsKnown = true
    /// Set once a value without a total order entered `values`: every MIN/MAX result scans.
    private var unordered = false
    /// Set once a value was applied keeping only the extreme (MIN/MAX over an insert-only input).
    private var keepsOnlyExtreme = false

    /// Applies one input value; `extremum` is -1 for MIN, 1 for MAX and 0 otherwise.
    mutating func apply(_ value: Value, sign: Int64, keepValues: Bool, extremum: Int) {
        guard !value.isNull else { return }
        if keepValues {
            let previous = values[value] ?? 0
            let count = previous + sign
            values[value] = count > 0 ? count : nil
            if extremum != 0 && !unordered {
                if previous <= 0 && count > 0 {
                    // A new key, stored as `value` itself.
                    if !Self.isTotallyOrdered(value) {
                        unordered = true
                    } else if extremeIsKnown && (extreme.isNull || Self.isBetter(value, than: extreme, extremum)) {
                        extreme = value
                    }
                } else if previous > 0 && count <= 0 && extremeIsKnown && extreme == value {
                    extremeIsKnown = false
                    extreme = .null
                }
            }
        } else if extremum != 0, sign > 0 {
            // MIN/MAX over an insert-only input: only the extreme is kept. (A restored state holds it as its one value.)
            if !values.isEmpty {
                extreme = scan(extremum)
                values = [:]
                extremeIsKnown = true
            }
            keepsOnlyExtreme = true
            if extreme.isNull || Self.isBetter(value, than: extreme, extremum) { extreme = value }
        }
        sums.add(value, sign: sign)
    }

    /// The result of `call` over the group (`rows` is its row count, for COUNT(*)).
    mutating func result(_ call: AggregateCall, rows: Int64) -> Value {
        switch call.function {
        case .count:
            if call.argument == nil { return .int(rows) }
            return .int(call.distinct ? Int64(values.count) : sums.nonNullCount)
        case .sum, .sum0, .avg:
            guard call.distinct else { return sums.result(call) }
            var distinct = AggregateSums()
            for value in values.keys { distinct.add(value, sign: 1) }
            return distinct.result(call)
        case .min, .max:
            let extremum = call.function == .min ? -1 : 1
            if unordered { return scan(extremum) }
            if !extremeIsKnown {
                extreme = scan(extremum)
                extremeIsKnown = true
            }
            return extreme
        }
    }

    /// Writes the sums and the counted values (the current extreme is recomputed on restore). An accumulator that
    /// keeps only its extreme (MIN/MAX over an insert-only input) writes it as its one value.
    func save(into writer: inout StateWriter) {
        writer.int(sums.nonNullCount)
        writer.int(sums.integerSum)
        writer.double(sums.doubleSum)
        writer.int128(sums.decimalSum)
        let kept = keepsOnlyExtreme && !extreme.isNull ? [extreme: 1] : values
        writer.array(kept) { writer, entry in
            writer.value(entry.key)
            writer.int(entry.value)
        }
    }

    init() {}

    init(restoringFrom reader: inout StateReader) throws(SQLError) {
        sums.nonNullCount = try reader.int()
        sums.integerSum = try reader.int()
        sums.doubleSum = try reader.double()
        sums.decimalSum = try reader.int128()
        let entries = try reader.array { reader throws(SQLError) in (try reader.value(), try reader.int()) }
        values = Dictionary(entries, uniquingKeysWith: +)
        extremeIsKnown = values.isEmpty
        unordered = values.keys.contains { !Self.isTotallyOrdered($0) }
    }

    private func scan(_ extremum: Int) -> Value {
        let keys = values.keys
        guard let first = keys.first else { return .null }
        return keys.reduce(first) { best, value in Self.isBetter(value, than: best, extremum) ? value : best }
    }

    @inline(__always) private static func isBetter(_ value: Value, than best: Value, _ extremum: Int) -> Bool {
        let c = Value.compare(value, best)
        return extremum < 0 ? c < 0 : c > 0
    }

    /// Whether `Value.compare` orders distinct keys of this kind strictly and transitively.
    private static func isTotallyOrdered(_ value: Value) -> Bool {
        switch value {
        case .bool, .int, .decimal, .string, .bytes: true
        case .double(let d): !d.isNaN
        case .null, .list: false
        }
    }
}
