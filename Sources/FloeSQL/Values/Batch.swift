// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The typed storage of one column of a batch.
enum ColumnData: Sendable {
    case bool([Bool])
    case int([Int64])
    case double([Double])
    case decimal([Int128])
    case string(StringColumn)
    case bytes([[UInt8]])
    case value([Value])
}

/// One column of a batch: a typed array plus, when any value is NULL, a null mask (`true` = NULL; the typed slot
/// then holds a placeholder).
struct Column: Sendable {
    var data: ColumnData
    var nulls: [Bool]?

    var count: Int {
        switch data {
        case .bool(let a): a.count
        case .int(let a): a.count
        case .double(let a): a.count
        case .decimal(let a): a.count
        case .string(let a): a.count
        case .bytes(let a): a.count
        case .value(let a): a.count
        }
    }

    func isNull(_ index: Int) -> Bool { nulls?[index] ?? false }

    /// The value at `index`, boxed (for operators off the hot path).
    func value(at index: Int) -> Value {
        if let nulls, nulls[index] { return .null }
        switch data {
        case .bool(let a): return .bool(a[index])
        case .int(let a): return .int(a[index])
        case .double(let a): return .double(a[index])
        case .decimal(let a): return .decimal(a[index])
        case .string(let a): return .string(a[index])
        case .bytes(let a): return .bytes(a[index])
        case .value(let a): return a[index]
        }
    }

    /// A column of `count` copies of `value` stored as `physical`.
    static func constant(_ value: Value, count: Int, physical: PhysicalKind) -> Column {
        if value.isNull {
            return Column(data: ColumnBuilder.placeholder(physical, count: count), nulls: Array(repeating: true, count: count))
        }
        switch (physical, value) {
        case (.bool, .bool(let b)): return Column(data: .bool(Array(repeating: b, count: count)))
        case (.int, .int(let v)): return Column(data: .int(Array(repeating: v, count: count)))
        case (.double, .double(let v)): return Column(data: .double(Array(repeating: v, count: count)))
        case (.decimal, .decimal(let v)): return Column(data: .decimal(Array(repeating: v, count: count)))
        case (.string, .string(let v)): return Column(data: .string(StringColumn(repeating: v, count: count)))
        case (.bytes, .bytes(let v)): return Column(data: .bytes(Array(repeating: v, count: count)))
        default: return Column(data: .value(Array(repeating: value, count: count)))
        }
    }

    /// The rows at `indices`, in that order.
    func gather(_ indices: [Int]) -> Column {
        let mask = nulls.map { n in indices.map { n[$0] } }
        switch data {
        case .bool(let a): return Column(data: .bool(indices.map { a[$0] }), nulls: mask)
        case .int(let a): return Column(data: .int(indices.map { a[$0] }), nulls: mask)
        case .double(let a): return Column(data: .double(indices.map { a[$0] }), nulls: mask)
        case .decimal(let a): return Column(data: .decimal(indices.map { a[$0] }), nulls: mask)
        case .string(let a): return Column(data: .string(a.gathered(indices)), nulls: mask)
        case .bytes(let a): return Column(data: .bytes(indices.map { a[$0] }), nulls: mask)
        case .value(let a): return Column(data: .value(indices.map { a[$0] }), nulls: mask)
        }
    }
}

/// Builds a typed column from boxed values.
enum ColumnBuilder {
    static func placeholder(_ physical: PhysicalKind, count: Int) -> ColumnData {
        switch physical {
        case .bool: .bool(Array(repeating: false, count: count))
        case .int: .int(Array(repeating: 0, count: count))
        case .double: .double(Array(repeating: 0, count: count))
        case .decimal: .decimal(Array(repeating: 0, count: count))
        case .string: .string(StringColumn(repeating: "", count: count))
        case .bytes: .bytes(Array(repeating: [], count: count))
        case .value: .value(Array(repeating: .null, count: count))
        }
    }

    /// A column of `values` (each NULL or of the physical kind).
    static func column(_ values: [Value], physical: PhysicalKind) -> Column {
        var nulls: [Bool]?
        if values.contains(where: \.isNull) { nulls = values.map(\.isNull) }
        switch physical {
        case .bool: return Column(data: .bool(values.map { $0.bool ?? false }), nulls: nulls)
        case .int: return Column(data: .int(values.map { $0.int ?? 0 }), nulls: nulls)
        case .double: return Column(data: .double(values.map { $0.double ?? 0 }), nulls: nulls)
        case .decimal: return Column(data: .decimal(values.map { $0.decimal ?? 0 }), nulls: nulls)
        case .string: return Column(data: .string(StringColumn(values.map { $0.string ?? "" })), nulls: nulls)
        case .bytes:
            return Column(data: .bytes(values.map { if case .bytes(let b) = $0 { b } else { [] } }), nulls: nulls)
        case .value: return Column(data: .value(values), nulls: nulls)
        }
    }
}

/// A batch of changelog rows in columnar form: one column per field and the row kind of every row.
struct Batch: Sendable {
    var columns: [Column]
    var kinds: [RowKind]
    var count: Int { kinds.count }

    init(columns: [Column], kinds: [RowKind]) {
        self.columns = columns
        self.kinds = kinds
    }

    /// A batch of boxed rows with the given kinds.
    init(rows: [Row], kinds: [RowKind], types: [SQLType]) {
        self.kinds = kinds
        self.columns = types.indices.map { c in
            ColumnBuilder.column(rows.map { c < $0.count ? $0[c] : .null }, physical: types[c].physical)
        }
    }

    /// The rows, boxed.
    func rows() -> [Row] {
        (0..<count).map { i in columns.map { $0.value(at: i) } }
    }

    func row(_ index: Int) -> Row { columns.map { $0.value(at: index) } }

    /// Row `index`, boxed, with NULL for the columns `live` marks false (all columns without a mask).
    func row(_ index: Int, live: [Bool]?) -> Row {
        guard let live else { return row(index) }
        return columns.indices.map { live[$0] ? columns[$0].value(at: index) : .null }
    }

    /// The rows where `selection` is true.
    func filtered(_ keep: [Int]) -> Batch {
        Batch(columns: columns.map { $0.gather(keep) }, kinds: keep.map { kinds[$0] })
    }

    /// The rows `keep` of the columns `reading` only, for expressions known to read no other column (a CASE's
    /// branches): the other columns are left empty rather than copied.
    func filtered(_ keep: [Int], reading: [Int]) -> Batch {
        var gathered = [Column](repeating: Column(data: .int([])), count: columns.count)
        for index in reading { gathered[index] = columns[index].gather(keep) }
        return Batch(columns: gathered, kinds: keep.map { kinds[$0] })
    }
}
