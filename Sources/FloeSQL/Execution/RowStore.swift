// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Rows an operator keeps (a join's sides), stored column by column in typed arrays and addressed by slot.
///
/// Keeping a row costs no allocation of its own: integers, doubles and decimals go to typed arrays, strings to one
/// byte arena per column. A removed row's slot is reused; the bytes of its strings are reclaimed when the arena has
/// become mostly garbage. Only `value` columns (nested types) keep boxed values.
///
/// The arrays are marked `@exclusivity(unchecked)`: a store belongs to one stage, which a single task drives, and no
/// access to one of them overlaps another (each is a plain read or write of one element), so the dynamic checks
/// on every element access would only cost time.
final class RowStore {
    /// One column's values for every slot.
    private final class StoredColumn {
        let physical: PhysicalKind
        @exclusivity(unchecked) var integers: [Int64] = []
        @exclusivity(unchecked) var doubles: [Double] = []
        @exclusivity(unchecked) var decimals: [Int128] = []
        @exclusivity(unchecked) var bools: [Bool] = []
        /// Strings: UTF-8 bytes in `arena`, slot `s` at `starts[s]` for `lengths[s]` bytes.
        @exclusivity(unchecked) var arena: [UInt8] = []
        @exclusivity(unchecked) var starts: [Int] = []
        @exclusivity(unchecked) var lengths: [Int] = []
        @exclusivity(unchecked) var values: [Value] = []
        @exclusivity(unchecked) var nulls: [Bool] = []

        init(_ physical: PhysicalKind) { self.physical = physical }
    }

    private let columns: [StoredColumn]
    /// Columns kept; the others are NULL in every row (nobody reads them).
    private let live: [Bool]
    @exclusivity(unchecked) private var occupied: [Bool] = []
    @exclusivity(unchecked) private var freeSlots: [Int32] = []
    /// Arena bytes of removed or overwritten strings, over all columns.
    @exclusivity(unchecked) private var garbage = 0

    /// The number of rows kept.
    private(set) var count = 0

    init(types: [SQLType], live: [Bool]? = nil) {
        columns = types.map { StoredColumn($0.physical) }
        self.live = live ?? Array(repeating: true, count: types.count)
    }

    // MARK: Adding and removing

    /// Keeps rows `indices` of `batch`; returns their slots, in the same order. Column by column, so that each column
    /// of the batch is looked at once rather than once per row.
    func insert(_ batch: Batch, rows indices: [Int]) -> [Int32] {
        guard !indices.isEmpty else { return [] }
        let slots = takeSlots(indices.count)
        for (c, stored) in columns.enumerated() {
            let column = batch.columns[c]
            let nulls = column.nulls
            guard live[c] else {
                for slot in slots { Self.write(stored, slot, .null, &garbage) }
                continue
            }
            switch (stored.physical, column.data) {
            case (.int, .int(let a)):
                for (n, i) in indices.enumerated() {
                    let s = Int(slots[n])
                    stored.integers[s] = a[i]
                    stored.nulls[s] = nulls?[i] ?? false
                }
            case (.double, .double(let a)):
                for (n, i) in indices.enumerated() {
                    let s = Int(slots[n])
                    stored.doubles[s] = a[i]
                    stored.nulls[s] = nulls?[i] ?? false
                }
            case (.decimal, .decimal(let a)):
                for (n, i) in indices.enumerated() {
                    let s = Int(slots[n])
                    stored.decimals[s] = a[i]
                    stored.nulls[s] = nulls?[i] ?? false
                }
            case (.string, .string(let a)):
                a.forEachUTF8(at: indices) { n, text in
                    if nulls?[indices[n]] ?? false {
                        Self.write(stored, slots[n], .null, &garbage)
                    } else {
                        Self.setString(stored, slots[n], text, &garbage)
                    }
                }
            default:
                for (n, i) in indices.enumerated() { Self.write(stored, slots[n], column.value(at: i), &garbage) }
            }
        }
        return slots
    }

    /// Keeps a boxed row (restoring from a checkpoint); returns its slot.
    func insert(_ row: Row) -> Int32 {
        let slot = takeSlots(1)[0]
        for (c, stored) in columns.enumerated() { Self.write(stored, slot, live[c] && c < row.count ? row[c] : .null, &garbage) }
        return slot
    }

    func remove(_ slot: Int32) {
        let s = Int(slot)
        precondition(occupied[s], "RowStore: slot \(slot) is not in use")
        occupied[s] = false
        freeSlots.append(slot)
        count -= 1
        for stored in columns where stored.physical == .string {
            garbage += stored.lengths[s]
            stored.lengths[s] = 0
        }
        for stored in columns where stored.physical == .value || stored.physical == .bytes { stored.values[s] = .null }
        compactIfWasteful()
    }

    /// `k` slots: freed ones first, then new ones added to every column at once.
    private func takeSlots(_ k: Int) -> [Int32] {
        var slots: [Int32] = []
        slots.reserveCapacity(k)
        while slots.count < k, let slot = freeSlots.popLast() {
            occupied[Int(slot)] = true
            slots.append(slot)
        }
        let fresh = k - slots.count
        if fresh > 0 {
            let first = occupied.count
            occupied.append(contentsOf: repeatElement(true, count: fresh))
            for stored in columns {
                stored.nulls.append(contentsOf: repeatElement(false, count: fresh))
                switch stored.physical {
                case .int: stored.integers.append(contentsOf: repeatElement(0, count: fresh))
                case .double: stored.doubles.append(contentsOf: repeatElement(0, count: fresh))
                case .decimal: stored.decimals.append(contentsOf: repeatElement(0, count: fresh))
                case .bool: stored.bools.append(contentsOf: repeatElement(false, count: fresh))
                case .string:
                    stored.starts.append(contentsOf: repeatElement(stored.arena.count, count: fresh))
                    stored.lengths.append(contentsOf: repeatElement(0, count: fresh))
                case .bytes, .value: stored.values.append(contentsOf: repeatElement(.null, count: fresh))
                }
            }
            for slot in first..<(first + fresh) { slots.append(Int32(slot)) }
        }
        count += k
        return slots
    }

    @inline(__always) private static func setInteger(_ stored: StoredColumn, _ slot: Int32, _ value: Int64) {
        stored.integers[Int(slot)] = value
        stored.nulls[Int(slot)] = false
    }

    @inline(__always) private static func setDouble(_ stored: StoredColumn, _ slot: Int32, _ value: Double) {
        stored.doubles[Int(slot)] = value
        stored.nulls[Int(slot)] = false
    }

    @inline(__always) private static func setDecimal(_ stored: StoredColumn, _ slot: Int32, _ value: Int128) {
        stored.decimals[Int(slot)] = value
        stored.nulls[Int(slot)] = false
    }

    private static func setString(_ stored: StoredColumn, _ slot: Int32, _ text: UnsafeBufferPointer<UInt8>, _ garbage: inout Int) {
        let s = Int(slot)
        garbage += stored.lengths[s]
        stored.starts[s] = stored.arena.count
        stored.lengths[s] = text.count
        stored.arena.append(contentsOf: text)
        stored.nulls[s] = false
    }

    /// Stores a boxed value (NULL included) in its column's representation.
    private static func write(_ stored: StoredColumn, _ slot: Int32, _ value: Value, _ garbage: inout Int) {
        let s = Int(slot)
        if value.isNull, stored.physical != .value, stored.physical != .bytes {
            if stored.physical == .string {
                garbage += stored.lengths[s]
                stored.lengths[s] = 0
            }
            stored.nulls[s] = true
            return
        }
        switch (stored.physical, value) {
        case (.int, .int(let v)): setInteger(stored, slot, v)
        case (.double, .double(let v)): setDouble(stored, slot, v)
        case (.decimal, .decimal(let v)): setDecimal(stored, slot, v)
        case (.bool, .bool(let v)):
            stored.bools[s] = v
            stored.nulls[s] = false
        case (.string, .string(var text)): text.withUTF8 { setString(stored, slot, $0, &garbage) }
        default:
            stored.values[s] = value
            stored.nulls[s] = value.isNull
        }
    }

    /// Rewrites the string arenas without the bytes of removed rows once they are most of them.
    private func compactIfWasteful() {
        let total = columns.reduce(0) { $0 + $1.arena.count }
        guard garbage > 1 << 20, garbage * 2 > total else { return }
        for stored in columns where stored.physical == .string {
            var arena: [UInt8] = []
            arena.reserveCapacity(stored.arena.count)
            stored.arena.withUnsafeBufferPointer { old in
                for s in occupied.indices {
                    let start = stored.starts[s]
                    let length = occupied[s] ? stored.lengths[s] : 0
                    stored.starts[s] = arena.count
                    stored.lengths[s] = length
                    if length > 0 { arena.append(contentsOf: UnsafeBufferPointer(rebasing: old[start..<start + length])) }
                }
            }
            stored.arena = arena
        }
        garbage = 0
    }

    // MARK: Reading

    /// Column `c` of the row in `slot`, boxed.
    func value(_ slot: Int32, _ c: Int) -> Value {
        let stored = columns[c]
        let s = Int(slot)
        if stored.nulls[s] { return .null }
        switch stored.physical {
        case .int: return .int(stored.integers[s])
        case .double: return .double(stored.doubles[s])
        case .decimal: return .decimal(stored.decimals[s])
        case .bool: return .bool(stored.bools[s])
        case .string:
            let start = stored.starts[s]
            return .string(
                stored.arena.withUnsafeBufferPointer {
                    String(decoding: UnsafeBufferPointer(rebasing: $0[start..<start + stored.lengths[s]]), as: UTF8.self)
                })
        case .bytes, .value: return stored.values[s]
        }
    }

    /// The row in `slot`, boxed; with `only`, the other columns are NULL (for conditions that read a few columns).
    func row(_ slot: Int32, only: [Int]? = nil) -> Row {
        guard let only else { return columns.indices.map { value(slot, $0) } }
        var row = Row(repeating: .null, count: columns.count)
        for c in only { row[c] = value(slot, c) }
        return row
    }

    /// Whether the row in `slot` equals row `index` of `batch` in every kept column (as `Value`s compare).
    func matches(_ slot: Int32, _ batch: Batch, _ index: Int) -> Bool {
        for (c, stored) in columns.enumerated() where live[c] {
            let column = batch.columns[c]
            let s = Int(slot)
            // Boxed kinds (nested types, bytes) compare as values: a NULL may be a boxed `.null` without a mask.
            if stored.physical == .value || stored.physical == .bytes {
                if value(slot, c) != column.value(at: index) { return false }
                continue
            }
            if stored.nulls[s] || column.isNull(index) {
                if stored.nulls[s] != column.isNull(index) { return false }
                continue
            }
            switch (stored.physical, column.data) {
            case (.int, .int(let a)): if stored.integers[s] != a[index] { return false }
            case (.double, .double(let a)): if stored.doubles[s] != a[index] { return false }
            case (.decimal, .decimal(let a)): if stored.decimals[s] != a[index] { return false }
            default: if value(slot, c) != column.value(at: index) { return false }
            }
        }
        return true
    }

    /// Appends column `c` of the row in `slot` to `appender` (typed, without boxing the common kinds).
    func append(_ slot: Int32, _ c: Int, to appender: inout ColumnAppender) {
        let stored = columns[c]
        let s = Int(slot)
        if stored.nulls[s] { return appender.appendNull() }
        switch stored.physical {
        case .int: appender.appendInteger(stored.integers[s])
        case .double: appender.appendDouble(stored.doubles[s])
        case .decimal: appender.appendDecimal(stored.decimals[s])
        case .string:
            let start = stored.starts[s]
            stored.arena.withUnsafeBufferPointer { appender.appendString(utf8: UnsafeBufferPointer(rebasing: $0[start..<start + stored.lengths[s]])) }
        default: appender.append(value(slot, c))
        }
    }
}

/// Where a value of an output row comes from: row `index` of the input batch, a kept row, or nowhere (NULL).
enum RowSource {
    case input(Int)
    case kept(Int32)
    case none
}

extension RowStore {
    /// Appends column `c` of the rows `sources` name to `appender`: input rows from `input` (the same column of the
    /// batch being processed), kept rows from this store. The column's arrays are bound once, not once per row.
    func gather(column c: Int, _ sources: [RowSource], input: Column?, into appender: inout ColumnAppender) {
        let stored = columns[c]
        let inputNulls = input?.nulls
        switch stored.physical {
        case .int:
            let values: [Int64]? = if case .int(let a)? = input?.data { a } else { nil }
            for source in sources {
                switch source {
                case .input(let i):
                    if inputNulls?[i] ?? false {
                        appender.appendNull()
                    } else if let values {
                        appender.appendInteger(values[i])
                    } else {
                        appender.append(from: input!, at: i)
                    }
                case .kept(let slot):
                    let s = Int(slot)
                    if stored.nulls[s] { appender.appendNull() } else { appender.appendInteger(stored.integers[s]) }
                case .none: appender.appendNull()
                }
            }
        case .string:
            let strings: StringColumn? = if case .string(let a)? = input?.data { a } else { nil }
            stored.arena.withUnsafeBufferPointer { arena in
                for source in sources {
                    switch source {
                    case .input(let i):
                        if inputNulls?[i] ?? false {
                            appender.appendNull()
                        } else if let strings {
                            strings.withUTF8(at: i) { appender.appendString(utf8: $0) }
                        } else {
                            appender.append(from: input!, at: i)
                        }
                    case .kept(let slot):
                        let s = Int(slot)
                        if stored.nulls[s] {
                            appender.appendNull()
                        } else {
                            let start = stored.starts[s]
                            appender.appendString(utf8: UnsafeBufferPointer(rebasing: arena[start..<start + stored.lengths[s]]))
                        }
                    case .none: appender.appendNull()
                    }
                }
            }
        default:
            for source in sources {
                switch source {
                case .input(let i): appender.append(from: input!, at: i)
                case .kept(let slot): append(slot, c, to: &appender)
                case .none: appender.appendNull()
                }
            }
        }
    }
}

extension ColumnAppender {
    /// Appends row `index` of `column` (typed, without boxing the common kinds).
    mutating func append(from column: Column, at index: Int) {
        if column.isNull(index) { return appendNull() }
        switch column.data {
        case .int(let a): appendInteger(a[index])
        case .double(let a): appendDouble(a[index])
        case .decimal(let a): appendDecimal(a[index])
        case .string(let a): a.withUTF8(at: index) { appendString(utf8: $0) }
        default: append(column.value(at: index))
        }
    }
}
