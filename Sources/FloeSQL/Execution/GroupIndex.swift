// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// An open-addressing hash map (linear probing, backward-shift deletion) from BIGINT group keys to dense group
/// indices. A multiplicative (Fibonacci) hash is far cheaper than `Hasher` for the one-integer-key GROUP BY.
struct IntegerGroupTable {
    private var keys: [Int64]
    /// The group index of each slot; -1 marks an empty slot.
    private var groups: [Int32]
    /// 64 minus log2 of the capacity: the hash keeps the top bits of the product.
    private var shift: UInt64
    private(set) var count = 0

    init() {
        keys = [Int64](repeating: 0, count: 16)
        groups = [Int32](repeating: -1, count: 16)
        shift = 60
    }

    @inline(__always) private func home(_ key: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The group of `key` (-1 when absent) and the slot that holds it, or where `insert` would put it.
    @inline(__always) func find(_ key: Int64) -> (group: Int32, slot: Int) {
        let mask = groups.count - 1
        var slot = home(key)
        while true {
            let group = groups[slot]
            if group < 0 || keys[slot] == key { return (group, slot) }
            slot = (slot + 1) & mask
        }
    }

    /// Inserts an absent key at the slot `find` returned for it (with no mutation in between).
    mutating func insert(_ key: Int64, group: Int32, at slot: Int) {
        keys[slot] = key
        groups[slot] = group
        count += 1
        if count * 2 > groups.count { grow() }
    }

    mutating func remove(_ key: Int64) {
        var (group, hole) = find(key)
        guard group >= 0 else { return }
        count -= 1
        let mask = groups.count - 1
        var next = (hole + 1) & mask
        while true {
            group = groups[next]
            if group < 0 { break }
            // An entry may move back into the hole when the hole lies on its probe path (from its home to it).
            if (next &- home(keys[next])) & mask >= (next &- hole) & mask {
                keys[hole] = keys[next]
                groups[hole] = group
                hole = next
            }
            next = (next + 1) & mask
        }
        groups[hole] = -1
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldGroups = groups
        keys = [Int64](repeating: 0, count: oldGroups.count * 2)
        groups = [Int32](repeating: -1, count: oldGroups.count * 2)
        shift -= 1
        for (key, group) in zip(oldKeys, oldGroups) where group >= 0 {
            let slot = find(key).slot
            keys[slot] = key
            groups[slot] = group
        }
    }
}

/// The key of one group as the GROUP BY saw it. A single-column key is `.integer`, `.string` or `.null` when it is
/// one (whatever the batch's column representation), `.row` otherwise; `.global` is the key of an aggregate without
/// GROUP BY.
enum GroupKey: Hashable {
    case global
    case null
    case integer(Int64)
    case string(String)
    case row(Row)

    /// The key of a single-column GROUP BY.
    init(single value: Value) {
        switch value {
        case .null: self = .null
        case .int(let v): self = .integer(v)
        case .string(let s): self = .string(s)
        default: self = .row([value])
        }
    }

    /// The key columns' values.
    var values: [Value] {
        switch self {
        case .global: []
        case .null: [.null]
        case .integer(let v): [.int(v)]
        case .string(let s): [.string(s)]
        case .row(let row): row
        }
    }

    /// Appends the key columns' values to the first appenders.
    func append(to appenders: inout [ColumnAppender]) {
        switch self {
        case .global: break
        case .null: appenders[0].appendNull()
        case .integer(let v): appenders[0].appendInteger(v)
        case .string(let s): appenders[0].append(.string(s))
        case .row(let row): for (index, value) in row.enumerated() { appenders[index].append(value) }
        }
    }
}

/// Maps group keys to dense group indices: an open-addressing table for integer keys, dictionaries for strings
/// and other keys. Keys compare as `Value`s do, so a `[Value]`-keyed dictionary would form the same groups.
struct GroupIndex {
    var integers = IntegerGroupTable()
    var strings: [String: Int32] = [:]
    var rows: [Row: Int32] = [:]
    var null: Int32 = -1
    var global: Int32 = -1

    /// The group of `key`, or -1.
    func group(of key: GroupKey) -> Int32 {
        switch key {
        case .global: global
        case .null: null
        case .integer(let v): integers.find(v).group
        case .string(let s): strings[s] ?? -1
        case .row(let row): rows[row] ?? -1
        }
    }

    mutating func insert(_ key: GroupKey, group: Int32) {
        switch key {
        case .global: global = group
        case .null: null = group
        case .integer(let v): integers.insert(v, group: group, at: integers.find(v).slot)
        case .string(let s): strings[s] = group
        case .row(let row): rows[row] = group
        }
    }

    mutating func remove(_ key: GroupKey) {
        switch key {
        case .global: global = -1
        case .null: null = -1
        case .integer(let v): integers.remove(v)
        case .string(let s): strings[s] = nil
        case .row(let row): rows[row] = nil
        }
    }
}

/// How often each integer value occurs in each group, for one COUNT(DISTINCT) call: a `GroupValueLanes` of one lane
/// (one table for all groups, so that a group costs no table of its own and a lookup no `Hasher`).
struct GroupValueCounts {
    private var table = GroupValueLanes(lanes: 1)
    private static let onlyLane = [0]

    var count: Int { table.count }

    /// How often `value` occurs in `group`.
    func occurrences(_ group: Int32, _ value: Int64) -> Int64 { table.occurrences(group, value, lane: 0) }

    /// Adds `sign` occurrences of `value` to `group` (a count that would drop to zero or below removes the value);
    /// returns +1 when the value is new to the group, -1 when it left it, 0 otherwise.
    @inline(__always) mutating func add(_ group: Int32, _ value: Int64, _ sign: Int64) -> Int {
        var change = 0
        table.add(group, value, lanes: Self.onlyLane, sign) { _, delta in change = Int(delta) }
        return change
    }

    /// Removes every value of `group` (a scan: only needed when a group empties with values left behind).
    mutating func removeGroup(_ group: Int32) { table.removeGroup(group) }

    /// The values of every group with their counts.
    var entries: [(group: Int32, value: Int64, count: Int64)] { table.entries(lane: 0) }
}

/// How often each integer value occurs in each group, in several lanes at once: the COUNT(DISTINCT x) calls of one
/// aggregation that count the same `x` under different filters share one table (a slot per group and value, a count
/// per lane), as Flink's distinct aggregates share one map view. A row that several calls count touches one slot.
struct GroupValueLanes {
    private struct Slot {
        var value: Int64
        var group: Int32
        /// How many lanes hold a positive count; 0 marks an empty slot.
        var used: Int32
    }

    let lanes: Int
    private var slots: [Slot]
    /// `lanes` counts per slot.
    private var counts: [Int64]
    private var shift: UInt64
    /// Occupied slots per group (to know when an emptied group left values behind).
    private var slotsPerGroup: [Int] = []
    private(set) var count = 0

    init(lanes: Int) {
        self.lanes = lanes
        slots = Array(repeating: Slot(value: 0, group: 0, used: 0), count: 16)
        counts = Array(repeating: 0, count: 16 * lanes)
        shift = 60
    }

    @inline(__always) private func home(_ group: Int32, _ value: Int64) -> Int {
        let mixed = UInt64(bitPattern: value) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(UInt32(bitPattern: group)) &* 0xC2B2_AE3D_27D4_EB4F
        return Int(truncatingIfNeeded: (mixed &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    @inline(__always) private func find(_ group: Int32, _ value: Int64) -> Int {
        let mask = slots.count - 1
        var index = home(group, value)
        while slots[index].used != 0, slots[index].value != value || slots[index].group != group { index = (index + 1) & mask }
        return index
    }

    /// Adds `sign` occurrences of `value` in `group` to each lane `laneList` names (a count that would drop to zero or
    /// below removes the value from that lane); `report(lane, change)` hears +1 when the value is new to the lane's
    /// group, -1 when it left it.
    @inline(__always) mutating func add(
        _ group: Int32, _ value: Int64, lanes laneList: [Int], _ sign: Int64,
        _ report: (Int, Int8) -> Void
    ) {
        let index = find(group, value)
        if slots[index].used == 0 {
            guard sign > 0 else { return }
            slots[index] = Slot(value: value, group: group, used: 0)
            count += 1
            let g = Int(group)
            if g >= slotsPerGroup.count { slotsPerGroup.append(contentsOf: repeatElement(0, count: g + 1 - slotsPerGroup.count)) }
            slotsPerGroup[g] += 1
        }
        for lane in laneList {
            let position = index * lanes + lane
            let previous = counts[position]
            let updated = previous + sign
            if previous <= 0 {
                guard updated > 0 else { continue }
                counts[position] = updated
                slots[index].used += 1
                report(lane, 1)
            } else if updated > 0 {
                counts[position] = updated
            } else {
                counts[position] = 0
                slots[index].used -= 1
                report(lane, -1)
            }
        }
        if slots[index].used == 0 {
            remove(at: index)
        } else if count * 2 > slots.count {
            grow()
        }
    }

    /// Removes every value of `group` from every lane (only needed when a group empties with values left behind).
    mutating func removeGroup(_ group: Int32) {
        guard Int(group) < slotsPerGroup.count, slotsPerGroup[Int(group)] > 0 else { return }
        var index = 0
        while index < slots.count {
            // Backward shifts can move a later entry of the group into `index`: look at it again.
            if slots[index].used != 0, slots[index].group == group { remove(at: index) } else { index += 1 }
        }
    }

    /// How often `value` occurs in `group` in lane `lane`.
    func occurrences(_ group: Int32, _ value: Int64, lane: Int) -> Int64 {
        let index = find(group, value)
        return slots[index].used == 0 ? 0 : counts[index * lanes + lane]
    }

    /// Lane `lane`'s values of every group with their counts.
    func entries(lane: Int) -> [(group: Int32, value: Int64, count: Int64)] {
        slots.indices.compactMap { index in
            let count = counts[index * lanes + lane]
            return slots[index].used != 0 && count > 0 ? (slots[index].group, slots[index].value, count) : nil
        }
    }

    private mutating func remove(at index: Int) {
        count -= 1
        slotsPerGroup[Int(slots[index].group)] -= 1
        let mask = slots.count - 1
        var hole = index
        var next = (hole + 1) & mask
        while slots[next].used != 0 {
            // An entry may move back into the hole when the hole lies on its probe path (from its home to it).
            if (next &- home(slots[next].group, slots[next].value)) & mask >= (next &- hole) & mask {
                slots[hole] = slots[next]
                for lane in 0..<lanes { counts[hole * lanes + lane] = counts[next * lanes + lane] }
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole].used = 0
        for lane in 0..<lanes { counts[hole * lanes + lane] = 0 }
    }

    private mutating func grow() {
        let oldSlots = slots
        let oldCounts = counts
        slots = Array(repeating: Slot(value: 0, group: 0, used: 0), count: oldSlots.count * 2)
        counts = Array(repeating: 0, count: oldSlots.count * 2 * lanes)
        shift -= 1
        for (index, slot) in oldSlots.enumerated() where slot.used != 0 {
            let target = find(slot.group, slot.value)
            slots[target] = slot
            for lane in 0..<lanes { counts[target * lanes + lane] = oldCounts[index * lanes + lane] }
        }
    }
}
