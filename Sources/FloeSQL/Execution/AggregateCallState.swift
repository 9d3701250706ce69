// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// How an aggregate call keeps its per-group state: typed counters and sums for COUNT and for SUM/SUM0/AVG over
/// integer, floating-point and decimal arguments; boxed `Accumulator`s for everything else.
enum AggregateStrategy {
    /// COUNT(*): the group's row count.
    case countRows
    /// COUNT(x).
    case countNonNull
    case integerSum(SumShape)
    case doubleSum(SumShape)
    case decimalSum(SumShape)
    /// COUNT(DISTINCT x) over an integer-valued x (integers, dates, times, timestamps): the distinct values of each
    /// group with their multiplicities, in an `Int64` set rather than boxed.
    case integerDistinctCount
    /// MIN (`isMax` false) or MAX of an integer-valued argument over an insert-only input: the current extreme.
    case integerExtremum(isMax: Bool)
    /// `extremum` is -1 for MIN, 1 for MAX and 0 otherwise.
    case general(keepValues: Bool, extremum: Int)

    /// The strategy for `call`, whose result column has the physical kind `output`.
    init(_ call: AggregateCall, output: PhysicalKind) {
        if call.function == .count, call.argument == nil, output == .int {
            self = .countRows
            return
        }
        let extremum = call.function == .min ? -1 : (call.function == .max ? 1 : 0)
        // MIN/MAX keep every value to survive retractions; over an insert-only input, one of a totally ordered kind
        // (strings, decimals) keeps only the extreme.
        let argumentPhysical = (call.argumentType ?? call.type).physical
        let extremeOnly = call.insertOnlyInput && (argumentPhysical == .string || argumentPhysical == .decimal)
        let general = AggregateStrategy.general(keepValues: call.distinct || (extremum != 0 && !extremeOnly), extremum: extremum)
        // (A filtered call is always one: the binder splits the filter off for integer arguments only.)
        if call.function == .count, call.distinct, call.argument != nil, (call.argumentType ?? call.type).physical == .int,
            output == .int || call.filter != nil
        {
            self = .integerDistinctCount
            return
        }
        if extremum != 0, call.insertOnlyInput, call.argument != nil, (call.argumentType ?? call.type).physical == .int, output == .int {
            self = .integerExtremum(isMax: extremum > 0)
            return
        }
        guard !call.distinct, call.argument != nil else {
            self = general
            return
        }
        let argumentType = call.argumentType ?? call.type
        let shape = SumShape(
            average: call.function == .avg, zeroIfEmpty: call.function == .sum0,
            width: AggregateSums.integerWidth(call.type), float: call.type.kind == .float,
            fromScale: argumentType.decimalShape?.scale ?? 0, toScale: call.type.decimalShape?.scale ?? 0)
        switch (call.function, argumentType.physical, output) {
        case (.count, _, .int): self = .countNonNull
        case (.sum, .int, .int), (.sum0, .int, .int), (.avg, .int, .int): self = .integerSum(shape)
        case (.sum, .double, .double), (.sum0, .double, .double), (.avg, .double, .double): self = .doubleSum(shape)
        case (.sum, .decimal, .decimal), (.sum0, .decimal, .decimal), (.avg, .decimal, .decimal): self = .decimalSum(shape)
        default: self = general
        }
    }
}

/// What a typed SUM/SUM0/AVG computes from its count and sum.
struct SumShape {
    var average: Bool
    /// SUM0: an empty sum is 0 rather than NULL.
    var zeroIfEmpty: Bool
    /// The bit width integer results wrap to.
    var width: Int
    /// FLOAT results round through `Float`.
    var float: Bool
    var fromScale: Int
    var toScale: Int
}

/// Results of one aggregate call for a set of rows or groups, in the typed form its strategy produces (NULL
/// results hold a placeholder and a `nulls` flag; general results are boxed).
struct ResultColumn {
    var integers: [Int64] = []
    var doubles: [Double] = []
    var decimals: [Int128] = []
    var nulls: [Bool] = []
    var values: [Value] = []

    init() {}

    init(_ strategy: AggregateStrategy, count: Int) {
        switch strategy {
        case .countRows, .countNonNull, .integerDistinctCount:
            integers = [Int64](repeating: 0, count: count)
        case .integerSum, .integerExtremum:
            integers = [Int64](repeating: 0, count: count)
            nulls = [Bool](repeating: true, count: count)
        case .doubleSum:
            doubles = [Double](repeating: 0, count: count)
            nulls = [Bool](repeating: true, count: count)
        case .decimalSum:
            decimals = [Int128](repeating: 0, count: count)
            nulls = [Bool](repeating: true, count: count)
        case .general:
            values = [Value](repeating: .null, count: count)
        }
    }

    mutating func append(_ strategy: AggregateStrategy) {
        switch strategy {
        case .countRows, .countNonNull, .integerDistinctCount:
            integers.append(0)
        case .integerSum, .integerExtremum:
            integers.append(0)
            nulls.append(true)
        case .doubleSum:
            doubles.append(0)
            nulls.append(true)
        case .decimalSum:
            decimals.append(0)
            nulls.append(true)
        case .general:
            values.append(.null)
        }
    }
}

/// The state of one aggregate call for every group, as arrays indexed by group (struct of arrays), plus the result
/// each group last emitted (streaming), so -U rows need no recomputation.
struct AggregateCallState {
    let call: AggregateCall
    /// The physical kind of the call's output column.
    let output: PhysicalKind
    let strategy: AggregateStrategy
    /// Non-null argument counts (COUNT(x), SUM, AVG).
    private var counts: [Int64] = []
    private var integerSums: [Int64] = []
    private var doubleSums: [Double] = []
    private var decimalSums: [Int128] = []
    private var accumulators: [Accumulator] = []
    /// How often each value occurs in each group (`integerDistinctCount`), and how many distinct values each has.
    private var distinctValues = GroupValueCounts()
    private var distinctCounts: [Int64] = []
    /// Each group's current extreme (`integerExtremum`; meaningful where `counts` is positive).
    private var extremes: [Int64] = []
    /// The result each group emitted last.
    private var emitted = ResultColumn()

    init(_ call: AggregateCall, output: PhysicalKind) {
        self.call = call
        self.output = output
        strategy = AggregateStrategy(call, output: output)
    }

    /// Makes room for group `count` (the next dense index).
    mutating func addGroup() {
        switch strategy {
        case .countRows: break
        case .countNonNull: counts.append(0)
        case .integerSum:
            counts.append(0)
            integerSums.append(0)
        case .doubleSum:
            counts.append(0)
            doubleSums.append(0)
        case .decimalSum:
            counts.append(0)
            decimalSums.append(0)
        case .integerDistinctCount: distinctCounts.append(0)
        case .integerExtremum:
            counts.append(0)
            extremes.append(0)
        case .general: accumulators.append(Accumulator())
        }
        emitted.append(strategy)
    }

    /// Forgets group `group`'s state (it emptied, or its index is reused).
    @inline(__always) mutating func reset(_ group: Int) {
        switch strategy {
        case .countRows: break
        case .countNonNull: counts[group] = 0
        case .integerSum:
            counts[group] = 0
            integerSums[group] = 0
        case .doubleSum:
            counts[group] = 0
            doubleSums[group] = 0
        case .decimalSum:
            counts[group] = 0
            decimalSums[group] = 0
        case .integerDistinctCount: forgetDistinctValues(of: group)
        case .integerExtremum:
            counts[group] = 0
            extremes[group] = 0
        case .general: accumulators[group] = Accumulator()
        }
    }

    // MARK: Results

    @inline(__always) private func integerResult(_ group: Int, _ shape: SumShape) -> (value: Int64, isNull: Bool) {
        let count = counts[group]
        guard count > 0 else { return (0, !shape.zeroIfEmpty) }
        let sum = integerSums[group]
        return (AggregateSums.narrow(shape.average ? sum / count : sum, to: shape.width), false)
    }

    @inline(__always) private func doubleResult(_ group: Int, _ shape: SumShape) -> (value: Double, isNull: Bool) {
        let count = counts[group]
        guard count > 0 else { return (0, !shape.zeroIfEmpty) }
        let sum = doubleSums[group]
        let value = shape.average ? sum / Double(count) : sum
        return (shape.float ? Double(Float(value)) : value, false)
    }

    @inline(__always) private func decimalResult(_ group: Int, _ shape: SumShape) -> (value: Int128, isNull: Bool) {
        let count = counts[group]
        guard count > 0 else { return (0, !shape.zeroIfEmpty) }
        return (AggregateSums.decimal(decimalSums[group], count: count, average: shape.average, from: shape.fromScale, to: shape.toScale), false)
    }

    /// The boxed result of group `group` with `rows` rows.
    mutating func result(_ group: Int, rows: Int64) -> Value {
        switch strategy {
        case .countRows: return .int(rows)
        case .countNonNull: return .int(counts[group])
        case .integerSum(let shape):
            let (value, isNull) = integerResult(group, shape)
            return isNull ? .null : .int(value)
        case .doubleSum(let shape):
            let (value, isNull) = doubleResult(group, shape)
            return isNull ? .null : .double(value)
        case .decimalSum(let shape):
            let (value, isNull) = decimalResult(group, shape)
            return isNull ? .null : .decimal(value)
        case .integerDistinctCount: return .int(distinctCounts[group])
        case .integerExtremum: return counts[group] > 0 ? .int(extremes[group]) : .null
        case .general: return accumulators[group].result(call, rows: rows)
        }
    }

    // MARK: Batches

    /// Applies a batch, row by row in order. Streaming, it also records for every row the result the group had
    /// emitted before it (`before`) and, unless the row emptied the group, the result after it (`after`), and sets
    /// `changed` where they differ as `Value`s; a group that empties is reset.
    ///
    /// `distinctDeltas`: for a COUNT(DISTINCT) whose table its aggregation shares between calls, how each row changed
    /// the number of distinct values of its group (the aggregation applied the rows to the shared table already).
    mutating func apply(
        _ batch: Batch, _ plan: AggregationPlan, streaming: Bool, changed: inout [Bool],
        before: inout ResultColumn, after: inout ResultColumn, distinctDeltas: [Int8]? = nil
    ) {
        let column = call.argument.map { batch.columns[$0] }
        switch strategy {
        case .countRows:
            guard streaming else { return }
            for i in 0..<plan.count {
                let group = Int(plan.groups[i])
                before.integers[i] = emitted.integers[group]
                if plan.deleted[i] { continue }
                let rows = plan.rowsAfter[i]
                after.integers[i] = rows
                if rows != emitted.integers[group] { changed[i] = true }
                emitted.integers[group] = rows
            }
        case .countNonNull:
            let nulls = column?.nullMask
            for i in 0..<plan.count {
                let group = Int(plan.groups[i])
                if !(nulls?[i] ?? false) { counts[group] += plan.signs[i] }
                guard streaming, settleBefore(i, group, plan, &before, nullable: false) else { continue }
                settleAfter(i, group, counts[group], isNull: nil, &changed, &after)
            }
        case .integerSum(let shape):
            guard let column else { return }
            if case .int(let data) = column.data {
                let nulls = column.nulls
                for i in 0..<plan.count {
                    let group = Int(plan.groups[i])
                    if !(nulls?[i] ?? false) {
                        let sign = plan.signs[i]
                        counts[group] += sign
                        integerSums[group] = integerSums[group] &+ data[i] &* sign
                    }
                    if streaming, settleBefore(i, group, plan, &before, nullable: true) {
                        let (result, isNull) = integerResult(group, shape)
                        settleAfter(i, group, result, isNull: isNull, &changed, &after)
                    }
                }
            } else {
                for i in 0..<plan.count {
                    let group = Int(plan.groups[i])
                    let value = column.value(at: i)
                    if !value.isNull {
                        let sign = plan.signs[i]
                        counts[group] += sign
                        if case .int(let v) = value { integerSums[group] = integerSums[group] &+ v &* sign }
                    }
                    if streaming, settleBefore(i, group, plan, &before, nullable: true) {
                        let (result, isNull) = integerResult(group, shape)
                        settleAfter(i, group, result, isNull: isNull, &changed, &after)
                    }
                }
            }
        case .doubleSum(let shape):
            guard let column else { return }
            if case .double(let data) = column.data {
                let nulls = column.nulls
                for i in 0..<plan.count {
                    let group = Int(plan.groups[i])
                    if !(nulls?[i] ?? false) {
                        let sign = plan.signs[i]
                        counts[group] += sign
                        doubleSums[group] += data[i] * Double(sign)
                    }
                    if streaming { settleDouble(i, group, shape, plan, &changed, &before, &after) }
                }
            } else {
                for i in 0..<plan.count {
                    let group = Int(plan.groups[i])
                    let value = column.value(at: i)
                    if !value.isNull {
                        let sign = plan.signs[i]
                        counts[group] += sign
                        if case .double(let v) = value { doubleSums[group] += v * Double(sign) }
                    }
                    if streaming { settleDouble(i, group, shape, plan, &changed, &before, &after) }
                }
            }
        case .decimalSum(let shape):
            guard let column else { return }
            for i in 0..<plan.count {
                let group = Int(plan.groups[i])
                let value = column.value(at: i)
                if !value.isNull {
                    let sign = plan.signs[i]
                    counts[group] += sign
                    if case .decimal(let v) = value { decimalSums[group] += v * Int128(sign) }
                }
                guard streaming else { continue }
                before.decimals[i] = emitted.decimals[group]
                before.nulls[i] = emitted.nulls[group]
                if plan.deleted[i] {
                    reset(group)
                    continue
                }
                let (result, isNull) = decimalResult(group, shape)
                after.decimals[i] = result
                after.nulls[i] = isNull
                if isNull != emitted.nulls[group] || (!isNull && result != emitted.decimals[group]) { changed[i] = true }
                emitted.decimals[group] = result
                emitted.nulls[group] = isNull
            }
        case .integerDistinctCount:
            guard let column else { return }
            let nulls = column.nullMask
            let data: [Int64]? = if case .int(let integers) = column.data { integers } else { nil }
            let passes = call.filter.map { Self.passes(batch.columns[$0]) }
            for i in 0..<plan.count {
                let group = Int(plan.groups[i])
                if let distinctDeltas {
                    distinctCounts[group] += Int64(distinctDeltas[i])
                } else if !(nulls?[i] ?? false), passes?[i] ?? true, let value = data?[i] ?? column.value(at: i).int {
                    distinctCounts[group] += Int64(distinctValues.add(Int32(group), value, plan.signs[i]))
                }
                guard streaming, settleBefore(i, group, plan, &before, nullable: false) else { continue }
                settleAfter(i, group, distinctCounts[group], isNull: nil, &changed, &after)
            }
        case .integerExtremum(let isMax):
            guard let column else { return }
            let nulls = column.nullMask
            let data: [Int64]? = if case .int(let integers) = column.data { integers } else { nil }
            for i in 0..<plan.count {
                let group = Int(plan.groups[i])
                // Insert-only input (the planner's promise): every change adds its value.
                if !(nulls?[i] ?? false), plan.signs[i] > 0, let value = data?[i] ?? column.value(at: i).int {
                    if counts[group] == 0 || (isMax ? value > extremes[group] : value < extremes[group]) { extremes[group] = value }
                    counts[group] += 1
                }
                guard streaming, settleBefore(i, group, plan, &before, nullable: true) else { continue }
                let isNull = counts[group] == 0
                settleAfter(i, group, isNull ? 0 : extremes[group], isNull: isNull, &changed, &after)
            }
        case .general(let keepValues, let extremum):
            for i in 0..<plan.count {
                let group = Int(plan.groups[i])
                let value = column?.value(at: i) ?? .int(1)
                accumulators[group].apply(value, sign: plan.signs[i], keepValues: keepValues, extremum: extremum)
                guard streaming else { continue }
                before.values[i] = emitted.values[group]
                if plan.deleted[i] {
                    accumulators[group] = Accumulator()
                    continue
                }
                let result = accumulators[group].result(call, rows: plan.rowsAfter[i])
                after.values[i] = result
                if result != emitted.values[group] { changed[i] = true }
                emitted.values[group] = result
            }
        }
    }

    /// Where a FILTER column is TRUE (not FALSE, not NULL).
    static func passes(_ column: Column) -> [Bool] {
        guard case .bool(let flags) = column.data else { return (0..<column.count).map { column.value(at: $0) == .bool(true) } }
        guard let nulls = column.nulls else { return flags }
        return zip(flags, nulls).map { $0 && !$1 }
    }

    /// This call's own distinct values, removed from it (to move them into a table its aggregation shares).
    mutating func takeDistinctEntries() -> [(group: Int32, value: Int64, count: Int64)] {
        let entries = distinctValues.entries
        distinctValues = GroupValueCounts()
        return entries
    }

    /// Drops a group's distinct values. A group empties when all its rows are retracted, which removes its values
    /// one by one; only retractions of rows never inserted can leave some behind, so the scan is rare.
    private mutating func forgetDistinctValues(of group: Int) {
        if distinctCounts[group] > 0 { distinctValues.removeGroup(Int32(group)) }
        distinctCounts[group] = 0
    }

    /// Streaming, for the integer-valued strategies: records the result group `group` had emitted before row `i`
    /// (with its NULL flag when `nullable`); when the row emptied the group, forgets the group and returns false.
    @inline(__always) private mutating func settleBefore(
        _ i: Int, _ group: Int, _ plan: AggregationPlan, _ before: inout ResultColumn,
        nullable: Bool
    ) -> Bool {
        before.integers[i] = emitted.integers[group]
        if nullable { before.nulls[i] = emitted.nulls[group] }
        guard !plan.deleted[i] else {
            reset(group)
            return false
        }
        return true
    }

    /// Streaming: records `result` (NULL when `isNull`; `isNull` nil for a result that is never NULL) as group
    /// `group`'s result after row `i`, marking the row changed when it differs from what the group emitted.
    @inline(__always) private mutating func settleAfter(
        _ i: Int, _ group: Int, _ result: Int64, isNull: Bool?, _ changed: inout [Bool],
        _ after: inout ResultColumn
    ) {
        let previous = emitted.integers[group]
        after.integers[i] = result
        emitted.integers[group] = result
        guard let isNull else {
            if result != previous { changed[i] = true }
            return
        }
        let previousIsNull = emitted.nulls[group]
        after.nulls[i] = isNull
        emitted.nulls[group] = isNull
        if isNull != previousIsNull || (!isNull && result != previous) { changed[i] = true }
    }

    @inline(__always) private mutating func settleDouble(
        _ i: Int, _ group: Int, _ shape: SumShape, _ plan: AggregationPlan,
        _ changed: inout [Bool], _ before: inout ResultColumn,
        _ after: inout ResultColumn
    ) {
        let previous = emitted.doubles[group]
        let previousIsNull = emitted.nulls[group]
        before.doubles[i] = previous
        before.nulls[i] = previousIsNull
        if plan.deleted[i] {
            counts[group] = 0
            doubleSums[group] = 0
            return
        }
        let (result, isNull) = doubleResult(group, shape)
        after.doubles[i] = result
        after.nulls[i] = isNull
        // Compared as `Value.double`s compare: NaN differs from itself, -0.0 equals 0.0.
        if isNull != previousIsNull || (!isNull && result != previous) { changed[i] = true }
        emitted.doubles[group] = result
        emitted.nulls[group] = isNull
    }

    /// Appends the results of the changes to an output column: change `e` carries row `rows[e]`'s result before
    /// the row when `fromBefore[e]`, after it otherwise.
    static func appendChanges(
        _ rows: [Int32], _ fromBefore: [Bool], before: ResultColumn, after: ResultColumn,
        strategy: AggregateStrategy, to appender: inout ColumnAppender
    ) {
        switch strategy {
        case .countRows, .countNonNull, .integerDistinctCount:
            appender.appendIntegers(gather(rows, fromBefore, before.integers, after.integers), nulls: nil)
        case .integerSum, .integerExtremum:
            let nulls = gather(rows, fromBefore, before.nulls, after.nulls)
            appender.appendIntegers(gather(rows, fromBefore, before.integers, after.integers), nulls: nulls.contains(true) ? nulls : nil)
        case .doubleSum:
            let nulls = gather(rows, fromBefore, before.nulls, after.nulls)
            appender.appendDoubles(gather(rows, fromBefore, before.doubles, after.doubles), nulls: nulls.contains(true) ? nulls : nil)
        case .decimalSum:
            let b = before.decimals, a = after.decimals, bn = before.nulls, an = after.nulls
            for e in rows.indices {
                let i = Int(rows[e])
                let useBefore = fromBefore[e]
                if useBefore ? bn[i] : an[i] { appender.appendNull() } else { appender.appendDecimal(useBefore ? b[i] : a[i]) }
            }
        case .general:
            let b = before.values, a = after.values
            for e in rows.indices {
                let i = Int(rows[e])
                appender.append(fromBefore[e] ? b[i] : a[i])
            }
        }
    }

    /// `before[rows[e]]` or `after[rows[e]]` for every change `e`.
    @inline(__always) private static func gather<T>(_ rows: [Int32], _ fromBefore: [Bool], _ before: [T], _ after: [T]) -> [T] {
        [T](unsafeUninitializedCapacity: rows.count) { buffer, initialized in
            for e in rows.indices {
                let i = Int(rows[e])
                buffer.initializeElement(at: e, to: fromBefore[e] ? before[i] : after[i])
            }
            initialized = rows.count
        }
    }

    // MARK: Checkpoints

    /// Marks the layout with the distinct-value table and the extremes (older checkpoints start with the `counts`
    /// array's length, never negative).
    private static let layoutMarker: Int64 = -1

    /// Writes the per-group arrays and the results last emitted; `distinctEntries` are the call's distinct values when
    /// they live in a table its aggregation shares.
    func save(into writer: inout StateWriter, distinctEntries: [(group: Int32, value: Int64, count: Int64)]? = nil) {
        writer.int(Self.layoutMarker)
        writer.array(counts) { $0.int($1) }
        writer.array(integerSums) { $0.int($1) }
        writer.array(doubleSums) { $0.double($1) }
        writer.array(decimalSums) { $0.int128($1) }
        writer.array(accumulators) { $1.save(into: &$0) }
        writer.array(emitted.integers) { $0.int($1) }
        writer.array(emitted.doubles) { $0.double($1) }
        writer.array(emitted.decimals) { $0.int128($1) }
        writer.array(emitted.nulls) { $0.bool($1) }
        writer.array(emitted.values) { $0.value($1) }
        // Per group, in value order, so that equal state writes equal bytes.
        var byGroup = [[(value: Int64, count: Int64)]](repeating: [], count: distinctCounts.count)
        for entry in distinctEntries ?? distinctValues.entries { byGroup[Int(entry.group)].append((entry.value, entry.count)) }
        writer.array(byGroup) { writer, values in
            writer.array(values.sorted { $0.value < $1.value }) { writer, entry in
                writer.int(entry.value)
                writer.int(entry.count)
            }
        }
        writer.array(extremes) { $0.int($1) }
    }

    /// Restores what ``save(into:)`` wrote for `groups` groups, checking every array has the strategy's shape.
    mutating func restore(from reader: inout StateReader, groups: Int) throws(SQLError) {
        var probe = reader
        let isCurrentLayout = try probe.int() == Self.layoutMarker
        if isCurrentLayout { reader = probe }
        counts = try reader.array { reader throws(SQLError) in try reader.int() }
        integerSums = try reader.array { reader throws(SQLError) in try reader.int() }
        doubleSums = try reader.array { reader throws(SQLError) in try reader.double() }
        decimalSums = try reader.array { reader throws(SQLError) in try reader.int128() }
        accumulators = try reader.array { reader throws(SQLError) in try Accumulator(restoringFrom: &reader) }
        var column = ResultColumn()
        column.integers = try reader.array { reader throws(SQLError) in try reader.int() }
        column.doubles = try reader.array { reader throws(SQLError) in try reader.double() }
        column.decimals = try reader.array { reader throws(SQLError) in try reader.int128() }
        column.nulls = try reader.array { reader throws(SQLError) in try reader.bool() }
        column.values = try reader.array { reader throws(SQLError) in try reader.value() }
        emitted = column
        guard isCurrentLayout else { return try restoreEarlierLayout(groups: groups) }
        let byGroup = try reader.array { reader throws(SQLError) in
            try reader.array { reader throws(SQLError) in (try reader.int(), try reader.int()) }
        }
        distinctValues = GroupValueCounts()
        distinctCounts = []
        for (group, values) in byGroup.enumerated() {
            for (value, count) in values {
                guard count > 0, distinctValues.add(Int32(group), value, count) == 1 else { throw StateReader.malformed() }
            }
            distinctCounts.append(Int64(values.count))
        }
        extremes = try reader.array { reader throws(SQLError) in try reader.int() }
        try checkShape(groups: groups)
    }

    /// A checkpoint of an earlier build: COUNT(DISTINCT) of integers and MIN/MAX over insert-only inputs were boxed
    /// accumulators then. Their counted values and emitted results convert to the typed state.
    private mutating func restoreEarlierLayout(groups: Int) throws(SQLError) {
        distinctValues = GroupValueCounts()
        distinctCounts = []
        extremes = []
        switch strategy {
        case .integerDistinctCount:
            guard accumulators.count == groups, emitted.values.count == groups else { throw StateReader.malformed() }
            for (group, accumulator) in accumulators.enumerated() {
                var distinct: Int64 = 0
                for (value, count) in accumulator.values where count > 0 {
                    guard let integer = value.int else { throw StateReader.malformed() }
                    distinct += Int64(distinctValues.add(Int32(group), integer, count))
                }
                distinctCounts.append(distinct)
            }
            emitted.integers = emitted.values.map { $0.int ?? 0 }
            emitted.values = []
            accumulators = []
        case .integerExtremum(let isMax):
            guard accumulators.count == groups, emitted.values.count == groups else { throw StateReader.malformed() }
            counts = []
            for accumulator in accumulators {
                let integers = accumulator.values.keys.compactMap(\.int)
                counts.append(Int64(integers.count))
                extremes.append((isMax ? integers.max() : integers.min()) ?? 0)
            }
            emitted.integers = emitted.values.map { $0.int ?? 0 }
            emitted.nulls = emitted.values.map(\.isNull)
            emitted.values = []
            accumulators = []
        default: break
        }
        try checkShape(groups: groups)
    }

    /// Checks every array has the shape the strategy keeps for `groups` groups (see `addGroup`).
    private func checkShape(groups: Int) throws(SQLError) {
        var expected = ResultColumn()
        for _ in 0..<groups { expected.append(strategy) }
        let shaped: Bool
        switch strategy {
        case .countRows: shaped = counts.isEmpty
        case .countNonNull: shaped = counts.count == groups
        case .integerSum: shaped = counts.count == groups && integerSums.count == groups
        case .doubleSum: shaped = counts.count == groups && doubleSums.count == groups
        case .decimalSum: shaped = counts.count == groups && decimalSums.count == groups
        case .integerDistinctCount: shaped = distinctCounts.count == groups
        case .integerExtremum: shaped = counts.count == groups && extremes.count == groups
        case .general: shaped = accumulators.count == groups
        }
        guard shaped, emitted.integers.count == expected.integers.count, emitted.doubles.count == expected.doubles.count,
            emitted.decimals.count == expected.decimals.count, emitted.nulls.count == expected.nulls.count,
            emitted.values.count == expected.values.count
        else { throw StateReader.malformed() }
    }
}
