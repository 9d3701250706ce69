// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Builds one column row by row in a fixed physical representation, storing exactly what
/// `ColumnBuilder.column(_:physical:)` would store for the same boxed values (typed placeholders under a null mask
/// that exists only when some value is NULL), without boxing the values the caller has in typed form.
struct ColumnAppender {
    let physical: PhysicalKind
    private var bools: [Bool] = []
    private var integers: [Int64] = []
    private var doubles: [Double] = []
    private var decimals: [Int128] = []
    private var strings = StringColumnBuilder()
    private var bytes: [[UInt8]] = []
    private var values: [Value] = []
    /// The positions of NULL entries, in increasing order.
    private var nullPositions: [Int] = []
    private(set) var count = 0

    init(_ physical: PhysicalKind, capacity: Int = 0) {
        self.physical = physical
        switch physical {
        case .bool: bools.reserveCapacity(capacity)
        case .int: integers.reserveCapacity(capacity)
        case .double: doubles.reserveCapacity(capacity)
        case .decimal: decimals.reserveCapacity(capacity)
        case .string: strings = StringColumnBuilder(capacity: capacity)
        case .bytes: bytes.reserveCapacity(capacity)
        case .value: values.reserveCapacity(capacity)
        }
    }

    mutating func appendInteger(_ value: Int64) {
        guard physical == .int else { return append(.int(value)) }
        integers.append(value)
        count += 1
    }

    mutating func appendDouble(_ value: Double) {
        guard physical == .double else { return append(.double(value)) }
        doubles.append(value)
        count += 1
    }

    mutating func appendString(_ value: String) {
        guard physical == .string else { return append(.string(value)) }
        strings.append(value)
        count += 1
    }

    /// Appends a string given as valid UTF-8 bytes, without making a `String`.
    mutating func appendString(utf8 text: UnsafeBufferPointer<UInt8>) {
        guard physical == .string else { return append(.string(String(decoding: text, as: UTF8.self))) }
        strings.append(utf8: text)
        count += 1
    }

    mutating func appendDecimal(_ value: Int128) {
        guard physical == .decimal else { return append(.decimal(value)) }
        decimals.append(value)
        count += 1
    }

    /// Appends integers, NULL where `nulls` says so (whatever the value there).
    mutating func appendIntegers(_ values: [Int64], nulls: [Bool]?) {
        guard physical == .int else {
            for (index, value) in values.enumerated() {
                if nulls?[index] ?? false { appendNull() } else { appendInteger(value) }
            }
            return
        }
        var values = values
        if let nulls {
            for (index, isNull) in nulls.enumerated() where isNull {
                values[index] = 0
                nullPositions.append(count + index)
            }
        }
        if integers.isEmpty { integers = values } else { integers.append(contentsOf: values) }
        count += values.count
    }

    /// Appends doubles, NULL where `nulls` says so (whatever the value there).
    mutating func appendDoubles(_ values: [Double], nulls: [Bool]?) {
        guard physical == .double else {
            for (index, value) in values.enumerated() {
                if nulls?[index] ?? false { appendNull() } else { appendDouble(value) }
            }
            return
        }
        var values = values
        if let nulls {
            for (index, isNull) in nulls.enumerated() where isNull {
                values[index] = 0
                nullPositions.append(count + index)
            }
        }
        if doubles.isEmpty { doubles = values } else { doubles.append(contentsOf: values) }
        count += values.count
    }

    mutating func appendNull() {
        nullPositions.append(count)
        switch physical {
        case .bool: bools.append(false)
        case .int: integers.append(0)
        case .double: doubles.append(0)
        case .decimal: decimals.append(0)
        case .string: strings.append("")
        case .bytes: bytes.append([])
        case .value: values.append(.null)
        }
        count += 1
    }

    /// Appends a boxed value, converted as `ColumnBuilder.column` converts it.
    mutating func append(_ value: Value) {
        if value.isNull { return appendNull() }
        switch physical {
        case .bool: bools.append(value.bool ?? false)
        case .int: integers.append(value.int ?? 0)
        case .double: doubles.append(value.double ?? 0)
        case .decimal: decimals.append(value.decimal ?? 0)
        case .string: strings.append(value.string ?? "")
        case .bytes:
            if case .bytes(let b) = value { bytes.append(b) } else { bytes.append([]) }
        case .value: values.append(value)
        }
        count += 1
    }

    /// Drops the entries from position `count` on (to undo a partly appended row).
    mutating func truncate(to newCount: Int) {
        guard newCount < count else { return }
        switch physical {
        case .bool: bools.removeLast(count - newCount)
        case .int: integers.removeLast(count - newCount)
        case .double: doubles.removeLast(count - newCount)
        case .decimal: decimals.removeLast(count - newCount)
        case .string: strings.removeLast(count - newCount)
        case .bytes: bytes.removeLast(count - newCount)
        case .value: values.removeLast(count - newCount)
        }
        while let last = nullPositions.last, last >= newCount { nullPositions.removeLast() }
        count = newCount
    }

    /// The column built so far.
    func column() -> Column {
        var nulls: [Bool]?
        if !nullPositions.isEmpty {
            var mask = [Bool](repeating: false, count: count)
            for position in nullPositions { mask[position] = true }
            nulls = mask
        }
        switch physical {
        case .bool: return Column(data: .bool(bools), nulls: nulls)
        case .int: return Column(data: .int(integers), nulls: nulls)
        case .double: return Column(data: .double(doubles), nulls: nulls)
        case .decimal: return Column(data: .decimal(decimals), nulls: nulls)
        case .string: return Column(data: .string(strings.column()), nulls: nulls)
        case .bytes: return Column(data: .bytes(bytes), nulls: nulls)
        case .value: return Column(data: .value(values), nulls: nulls)
        }
    }
}

extension Column {
    /// Where the column holds NULL (also boxed `.null` entries of a `.value` column), or nil when nowhere.
    var nullMask: [Bool]? {
        guard case .value(let values) = data else { return nulls }
        var mask = nulls ?? [Bool](repeating: false, count: values.count)
        var any = nulls != nil
        for (index, value) in values.enumerated() where value.isNull {
            mask[index] = true
            any = true
        }
        return any ? mask : nil
    }
}
