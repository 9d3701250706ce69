// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// An expression compiled once into a closure that evaluates it over a whole batch, column at a time.
typealias CompiledExpression = (Batch) throws(SQLError) -> Column

/// Compiles bound expressions into column closures. Arithmetic, comparisons, logic, null tests and numeric casts
/// run as tight loops over typed arrays; function calls run the kernel or the per-row implementation their
/// definition bound them to (see ``FunctionImplementation``).
struct ExpressionCompiler {
    var caster: Caster
    /// Where `CURRENT_WATERMARK` reads the watermark of the stage evaluating the expression (NULL without one).
    var watermark: WatermarkCell?

    func compile(_ expression: BoundExpression) -> CompiledExpression {
        let type = expression.type
        switch expression.node {
        case .literal(let value):
            let physical = type.physical
            return { batch in Column.constant(value, count: batch.count, physical: physical) }
        case .column(let index):
            return { batch in batch.columns[index] }
        case .arithmetic(let op, let left, let right):
            return arithmetic(op, compile(left), left.type, compile(right), right.type, result: type)
        case .negate(let operand):
            let inner = compile(operand)
            return { batch throws(SQLError) in
                let column = try inner(batch)
                switch column.data {
                case .int(let a): return Column(data: .int(a.map { 0 &- $0 }), nulls: column.nulls)
                case .double(let a): return Column(data: .double(a.map { -$0 }), nulls: column.nulls)
                case .decimal(let a): return Column(data: .decimal(a.map { -$0 }), nulls: column.nulls)
                default: return column
                }
            }
        case .compare(let op, let left, let right):
            return comparison(op, compile(left), compile(right), operandType: left.type)
        case .and(let parts): return logical(parts.map(compile), isAnd: true)
        case .or(let parts): return logical(parts.map(compile), isAnd: false)
        case .not(let operand):
            let inner = compile(operand)
            return { batch throws(SQLError) in
                let column = try inner(batch)
                guard case .bool(let a) = column.data else { return column }
                return Column(data: .bool(a.map { !$0 }), nulls: column.nulls)
            }
        case .isNull(let operand, let negated):
            let inner = compile(operand)
            return { batch throws(SQLError) in
                let column = try inner(batch)
                guard let nulls = column.nulls else { return Column(data: .bool(Array(repeating: negated, count: batch.count))) }
                return Column(data: .bool(negated ? nulls.map { !$0 } : nulls))
            }
        case .cast(let operand, let isTry):
            return cast(compile(operand), from: operand.type, to: type, isTry: isTry)
        case .caseWhen(let branches, let otherwise):
            var reading = Set<Int>()
            expression.collectColumns(into: &reading)
            return caseWhen(
                branches.map { (compile($0.condition), compile($0.result)) }, otherwise.map(compile), reading: reading.sorted(), type: type)
        case .function(_, let arguments, _, .kernel(let kernel)):
            return kernel(arguments.map(compile), KernelContext(caster: caster, watermark: watermark))
        case .function(_, let arguments, let strict, .row(let implementation)):
            let compiledArguments = arguments.map(compile)
            let physical = type.physical
            return { batch throws(SQLError) in
                var columns: [Column] = []
                for argument in compiledArguments { columns.append(try argument(batch)) }
                var values: [Value] = []
                values.reserveCapacity(batch.count)
                var arguments = [Value](repeating: .null, count: columns.count)
                for row in 0..<batch.count {
                    var anyNull = false
                    for (index, column) in columns.enumerated() {
                        arguments[index] = column.value(at: row)
                        if arguments[index].isNull { anyNull = true }
                    }
                    values.append(strict && anyNull ? .null : try implementation(arguments))
                }
                return ColumnBuilder.column(values, physical: physical)
            }
        }
    }

    // MARK: Null masks

    @inline(__always) static func union(_ a: [Bool]?, _ b: [Bool]?) -> [Bool]? {
        guard let a else { return b }
        guard let b else { return a }
        return zip(a, b).map { $0 || $1 }
    }

    // MARK: Arithmetic

    private func arithmetic(
        _ op: ArithmeticOperator, _ left: @escaping CompiledExpression, _ leftType: SQLType, _ right: @escaping CompiledExpression,
        _ rightType: SQLType, result: SQLType
    ) -> CompiledExpression {
        switch result.kind {
        case .tinyint, .smallint, .integer, .bigint:
            let narrow: (Int64) -> Int64 =
                switch result.kind {
                case .tinyint: { Int64(Int8(truncatingIfNeeded: $0)) }
                case .smallint: { Int64(Int16(truncatingIfNeeded: $0)) }
                case .integer: { Int64(Int32(truncatingIfNeeded: $0)) }
                default: { $0 }
                }
            let isBigint = result.kind == .bigint
            return { batch throws(SQLError) in
                let (l, r) = (try left(batch), try right(batch))
                guard case .int(let a) = l.data, case .int(let b) = r.data else {
                    throw SQLError.runtime("internal: integer arithmetic on non-integers")
                }
                let nulls = Self.union(l.nulls, r.nulls)
                var out = [Int64](repeating: 0, count: a.count)
                switch op {
                case .add: for i in 0..<a.count { out[i] = a[i] &+ b[i] }
                case .subtract: for i in 0..<a.count { out[i] = a[i] &- b[i] }
                case .multiply: for i in 0..<a.count { out[i] = a[i] &* b[i] }
                case .divide, .modulo:
                    for i in 0..<a.count where !(nulls?[i] ?? false) {
                        guard b[i] != 0 else { throw SQLError.runtime("java.lang.ArithmeticException: / by zero") }
                        out[i] =
                            op == .divide
                            ? a[i].dividedReportingOverflow(by: b[i]).partialValue : a[i].remainderReportingOverflow(dividingBy: b[i]).partialValue
                    }
                }
                if !isBigint { for i in 0..<out.count { out[i] = narrow(out[i]) } }
                return Column(data: .int(out), nulls: nulls)
            }
        case .float, .double:
            let isFloat = result.kind == .float
            return { batch throws(SQLError) in
                let (l, r) = (try left(batch), try right(batch))
                guard case .double(let a) = l.data, case .double(let b) = r.data else {
                    throw SQLError.runtime("internal: approximate arithmetic on non-doubles")
                }
                var out = [Double](repeating: 0, count: a.count)
                switch op {
                case .add: for i in 0..<a.count { out[i] = a[i] + b[i] }
                case .subtract: for i in 0..<a.count { out[i] = a[i] - b[i] }
                case .multiply: for i in 0..<a.count { out[i] = a[i] * b[i] }
                case .divide: for i in 0..<a.count { out[i] = a[i] / b[i] }
                case .modulo: for i in 0..<a.count { out[i] = a[i].truncatingRemainder(dividingBy: b[i]) }
                }
                if isFloat { for i in 0..<out.count { out[i] = Double(Float(out[i])) } }
                return Column(data: .double(out), nulls: Self.union(l.nulls, r.nulls))
            }
        case .decimal(let precision, let scale):
            let leftScale = leftType.decimalShape?.scale ?? 0
            let rightScale = rightType.decimalShape?.scale ?? 0
            return { batch throws(SQLError) in
                let (l, r) = (try left(batch), try right(batch))
                guard case .decimal(let a) = l.data, case .decimal(let b) = r.data else {
                    throw SQLError.runtime("internal: decimal arithmetic on non-decimals")
                }
                var nulls = Self.union(l.nulls, r.nulls) ?? [Bool](repeating: false, count: a.count)
                var out = [Int128](repeating: 0, count: a.count)
                for i in 0..<a.count where !nulls[i] {
                    let value: Int128?
                    switch op {
                    case .add, .subtract:
                        let x = Caster.rescale(a[i], from: leftScale, to: scale)
                        let y = Caster.rescale(b[i], from: rightScale, to: scale)
                        value =
                            op == .add
                            ? x.addingReportingOverflow(y).overflow ? nil : x + y : x.subtractingReportingOverflow(y).overflow ? nil : x - y
                    case .multiply:
                        let (product, overflow) = a[i].multipliedReportingOverflow(by: b[i])
                        value = overflow ? nil : Caster.rescale(product, from: leftScale + rightScale, to: scale)
                    case .divide, .modulo:
                        guard b[i] != 0 else { throw SQLError.runtime("java.lang.ArithmeticException: Division by zero") }
                        if op == .divide {
                            // a/10^ls ÷ b/10^rs at scale s = a·10^(s+rs-ls) / b, rounded half up.
                            let shift = scale + rightScale - leftScale
                            let numerator = shift >= 0 ? a[i] * Caster.pow10(shift + 1) : a[i] / Caster.pow10(-shift - 1)
                            let q = numerator / b[i]
                            value = (q + (q >= 0 ? 5 : -5)) / 10
                        } else {
                            let common = max(leftScale, rightScale)
                            let x = Caster.rescale(a[i], from: leftScale, to: common)
                            let y = Caster.rescale(b[i], from: rightScale, to: common)
                            value = Caster.rescale(x % y, from: common, to: scale)
                        }
                    }
                    if let value, Caster.fits(value, precision: precision) { out[i] = value } else { nulls[i] = true }
                }
                return Column(data: .decimal(out), nulls: nulls.contains(true) ? nulls : nil)
            }
        default:
            return { _ throws(SQLError) in throw SQLError.runtime("internal: arithmetic on \(result.sql)") }
        }
    }

    // MARK: Comparison

    private func comparison(
        _ op: ComparisonOperator, _ left: @escaping CompiledExpression, _ right: @escaping CompiledExpression,
        operandType: SQLType
    ) -> CompiledExpression {
        { batch throws(SQLError) in
            let (l, r) = (try left(batch), try right(batch))
            let nulls = Self.union(l.nulls, r.nulls)
            let n = batch.count
            var out = [Bool](repeating: false, count: n)
            switch (l.data, r.data) {
            case (.int(let a), .int(let b)):
                switch op {
                case .equal: for i in 0..<n { out[i] = a[i] == b[i] }
                case .notEqual: for i in 0..<n { out[i] = a[i] != b[i] }
                case .less: for i in 0..<n { out[i] = a[i] < b[i] }
                case .lessOrEqual: for i in 0..<n { out[i] = a[i] <= b[i] }
                case .greater: for i in 0..<n { out[i] = a[i] > b[i] }
                case .greaterOrEqual: for i in 0..<n { out[i] = a[i] >= b[i] }
                }
            case (.double(let a), .double(let b)):
                for i in 0..<n { out[i] = op.holds(a[i] < b[i] ? -1 : (a[i] == b[i] ? 0 : 1)) }
            case (.decimal(let a), .decimal(let b)):
                for i in 0..<n { out[i] = op.holds(a[i] < b[i] ? -1 : (a[i] == b[i] ? 0 : 1)) }
            case (.string(let a), .string(let b)):
                if op == .equal || op == .notEqual {
                    let wanted = op == .equal
                    for i in 0..<n { out[i] = a.elementsEqual(at: i, b, at: i) == wanted }
                } else {
                    for i in 0..<n { out[i] = op.holds(Value.compareStrings(a[i], b[i])) }
                }
            case (.bool(let a), .bool(let b)):
                for i in 0..<n { out[i] = op.holds(a[i] == b[i] ? 0 : (!a[i] ? -1 : 1)) }
            default:
                for i in 0..<n { out[i] = op.holds(Value.compare(l.value(at: i), r.value(at: i))) }
            }
            return Column(data: .bool(out), nulls: nulls)
        }
    }

    // MARK: Logic

    /// AND/OR with SQL's three-valued logic: FALSE AND NULL is FALSE, TRUE OR NULL is TRUE.
    private func logical(_ parts: [CompiledExpression], isAnd: Bool) -> CompiledExpression {
        { batch throws(SQLError) in
            let n = batch.count
            var values = [Bool](repeating: isAnd, count: n)
            var nulls = [Bool](repeating: false, count: n)
            var anyNull = false
            for part in parts {
                let column = try part(batch)
                guard case .bool(let a) = column.data else { continue }
                if let partNulls = column.nulls {
                    anyNull = true
                    for i in 0..<n {
                        if partNulls[i] {
                            if values[i] == isAnd { nulls[i] = true }
                        } else if a[i] != isAnd {
                            values[i] = !isAnd
                            nulls[i] = false
                        }
                    }
                } else if isAnd {
                    for i in 0..<n where !a[i] {
                        values[i] = false
                        nulls[i] = false
                    }
                } else {
                    for i in 0..<n where a[i] {
                        values[i] = true
                        nulls[i] = false
                    }
                }
            }
            return Column(data: .bool(values), nulls: anyNull && nulls.contains(true) ? nulls : nil)
        }
    }

    // MARK: Cast

    private func cast(_ operand: @escaping CompiledExpression, from: SQLType, to: SQLType, isTry: Bool) -> CompiledExpression {
        // Integer widening and integer → floating point stay typed loops.
        if from.isInteger, let toRank = to.integerRank, let fromRank = from.integerRank, toRank >= fromRank {
            return operand
        }
        if from.isInteger, to.isApproximate {
            return { batch throws(SQLError) in
                let column = try operand(batch)
                guard case .int(let a) = column.data else { return column }
                return Column(data: .double(a.map { Double($0) }), nulls: column.nulls)
            }
        }
        if from.isInteger, case .decimal(let precision, let scale) = to.kind, precision - scale >= (from.decimalShape?.precision ?? 19) {
            let factor = Caster.pow10(scale)
            return { batch throws(SQLError) in
                let column = try operand(batch)
                guard case .int(let a) = column.data else { return column }
                return Column(data: .decimal(a.map { Int128($0) * factor }), nulls: column.nulls)
            }
        }
        if from.kind == .float, to.kind == .double { return operand }
        let caster = self.caster
        let physical = to.physical
        return { batch throws(SQLError) in
            let column = try operand(batch)
            var values: [Value] = []
            values.reserveCapacity(batch.count)
            for i in 0..<batch.count {
                let value = column.value(at: i)
                if isTry {
                    values.append((try? caster.cast(value, from: from, to: to)) ?? .null)
                } else {
                    values.append(try caster.cast(value, from: from, to: to))
                }
            }
            return ColumnBuilder.column(values, physical: physical)
        }
    }

    // MARK: CASE

    /// Evaluates each branch's result only on the rows that reach it, so `CASE WHEN b = 0 THEN 0 ELSE a / b END`
    /// never divides by zero. The sub-batches of the branches carry only the columns the CASE reads (`reading`): a
    /// wide row is not copied once per branch.
    private func caseWhen(
        _ branches: [(CompiledExpression, CompiledExpression)], _ otherwise: CompiledExpression?, reading: [Int], type: SQLType
    )
        -> CompiledExpression
    {
        let physical = type.physical
        return { batch throws(SQLError) in
            var results = [Value](repeating: .null, count: batch.count)
            var remaining = Array(0..<batch.count)
            for (condition, result) in branches where !remaining.isEmpty {
                let subset = remaining.count == batch.count ? batch : batch.filtered(remaining, reading: reading)
                let test = try condition(subset)
                guard case .bool(let flags) = test.data else { continue }
                var taken: [Int] = []
                var rest: [Int] = []
                for (position, row) in remaining.enumerated() {
                    if flags[position] && !test.isNull(position) { taken.append(position) } else { rest.append(row) }
                }
                if !taken.isEmpty {
                    let values = try result(subset.filtered(taken, reading: reading))
                    for (k, position) in taken.enumerated() { results[remaining[position]] = values.value(at: k) }
                }
                remaining = rest
            }
            if let otherwise, !remaining.isEmpty {
                let values = try otherwise(batch.filtered(remaining, reading: reading))
                for (k, row) in remaining.enumerated() { results[row] = values.value(at: k) }
            }
            return ColumnBuilder.column(results, physical: physical)
        }
    }
}
