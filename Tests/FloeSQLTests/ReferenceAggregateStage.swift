// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

@testable import FloeSQL

// The row-at-a-time GROUP BY the engine used before the columnar AggregateStage, kept verbatim as the oracle of
// AggregateDifferentialTests.

/// Reference: the running state of one aggregate call in one group; every function retracts (-U/-D) as well as accumulates.
struct ReferenceAccumulator {
    var nonNullCount: Int64 = 0
    var integerSum: Int64 = 0
    var doubleSum: Double = 0
    var decimalSum: Int128 = 0
    /// Values with multiplicities, kept for MIN/MAX and DISTINCT aggregates.
    var values: [Value: Int64] = [:]

    mutating func apply(_ value: Value, sign: Int64, keepValues: Bool) {
        guard !value.isNull else { return }
        if keepValues {
            let count = (values[value] ?? 0) + sign
            values[value] = count > 0 ? count : nil
        }
        nonNullCount += sign
        switch value {
        case .int(let v): integerSum = integerSum &+ v &* sign
        case .double(let v): doubleSum += v * Double(sign)
        case .decimal(let v): decimalSum += v * Int128(sign)
        default: break
        }
    }
}

/// Reference GROUP BY (and DISTINCT): keeps per-group accumulators. Streaming, it emits +I for a new group, -U/+U when a
/// group's result changes and -D when a group empties, after every input row, as Flink's GroupAggregate does.
/// Batch (`final`), it emits each group's final row once at the end (one row even for an empty global aggregate).
final class ReferenceAggregateStage: Stage {
    let keyCount: Int
    let calls: [AggregateCall]
    let final: Bool
    let outputTypes: [SQLType]

    private struct Group {
        var rows: Int64 = 0
        var accumulators: [ReferenceAccumulator]
        var emitted: Row?
    }

    private var groups: [Row: Group] = [:]
    private var order: [Row] = []

    init(keyCount: Int, calls: [AggregateCall], final: Bool, outputTypes: [SQLType]) {
        self.keyCount = keyCount
        self.calls = calls
        self.final = final
        self.outputTypes = outputTypes
    }

    private func needsValues(_ call: AggregateCall) -> Bool { call.distinct || call.function == .min || call.function == .max }

    override func process(_ batch: Batch, from slot: Int) throws(SQLError) -> [Batch] {
        var outRows: [Row] = []
        var outKinds: [RowKind] = []
        for i in 0..<batch.count {
            let row = batch.row(i)
            let key = Array(row[0..<keyCount])
            let sign: Int64 = batch.kinds[i].isAccumulate ? 1 : -1
            var group = groups[key] ?? Group(accumulators: Array(repeating: ReferenceAccumulator(), count: calls.count))
            if groups[key] == nil { order.append(key) }
            group.rows += sign
            for (index, call) in calls.enumerated() {
                let value: Value = call.argument.map { row[$0] } ?? .int(1)
                group.accumulators[index].apply(value, sign: sign, keepValues: needsValues(call))
            }
            if final {
                groups[key] = group
                continue
            }
            if group.rows <= 0 {
                if let previous = group.emitted {
                    outRows.append(previous)
                    outKinds.append(.delete)
                }
                groups[key] = nil
                order.removeAll { $0 == key }
                continue
            }
            let result = key + (try results(group.accumulators, rows: group.rows))
            if let previous = group.emitted {
                if previous != result {
                    outRows.append(contentsOf: [previous, result])
                    outKinds.append(contentsOf: [.updateBefore, .updateAfter])
                }
            } else {
                outRows.append(result)
                outKinds.append(.insert)
            }
            group.emitted = result
            groups[key] = group
        }
        return outRows.isEmpty ? [] : [Batch(rows: outRows, kinds: outKinds, types: outputTypes)]
    }

    override func finish() throws(SQLError) -> [Batch] {
        guard final else { return [] }
        var rows: [Row] = []
        for key in order {
            guard let group = groups[key], group.rows > 0 else { continue }
            rows.append(key + (try results(group.accumulators, rows: group.rows)))
        }
        if keyCount == 0, rows.isEmpty {
            rows.append(try results(Array(repeating: ReferenceAccumulator(), count: calls.count), rows: 0))
        }
        return rows.isEmpty ? [] : [Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: outputTypes)]
    }

    private func results(_ accumulators: [ReferenceAccumulator], rows: Int64) throws(SQLError) -> [Value] {
        var values: [Value] = []
        for (call, accumulator) in zip(calls, accumulators) {
            values.append(try result(call, accumulator, rows: rows))
        }
        return values
    }

    private func result(_ call: AggregateCall, _ accumulator: ReferenceAccumulator, rows: Int64) throws(SQLError) -> Value {
        var state = accumulator
        if call.distinct {
            // Recompute over the distinct values.
            var distinct = ReferenceAccumulator()
            for value in accumulator.values.keys { distinct.apply(value, sign: 1, keepValues: true) }
            state = distinct
        }
        switch call.function {
        case .count:
            return .int(call.argument == nil ? rows : state.nonNullCount)
        case .sum, .sum0, .avg:
            guard state.nonNullCount > 0 else { return call.function == .sum0 ? Self.zero(call.type) : .null }
            let argumentType = call.argumentType ?? call.type
            let isAverage = call.function == .avg
            switch argumentType.physical {
            case .int:
                let sum = state.integerSum
                let value = isAverage ? sum / state.nonNullCount : sum
                return .int(Self.narrow(value, call.type))
            case .double:
                let value = isAverage ? state.doubleSum / Double(state.nonNullCount) : state.doubleSum
                return .double(call.type.kind == .float ? Double(Float(value)) : value)
            case .decimal:
                let fromScale = argumentType.decimalShape?.scale ?? 0
                let toScale = call.type.decimalShape?.scale ?? 0
                guard isAverage else { return .decimal(Caster.rescale(state.decimalSum, from: fromScale, to: toScale)) }
                let numerator = Caster.rescale(state.decimalSum, from: fromScale, to: toScale + 1)
                let quotient = numerator / Int128(state.nonNullCount)
                return .decimal((quotient + (quotient >= 0 ? 5 : -5)) / 10)
            default: return .null
            }
        case .min, .max:
            let keys = state.values.keys
            guard let first = keys.first else { return .null }
            return keys.reduce(first) { best, value in
                let c = Value.compare(value, best)
                return (call.function == .min ? c < 0 : c > 0) ? value : best
            }
        }
    }

    private static func zero(_ type: SQLType) -> Value {
        switch type.physical {
        case .double: .double(0)
        case .decimal: .decimal(0)
        default: .int(0)
        }
    }

    private static func narrow(_ value: Int64, _ type: SQLType) -> Int64 {
        switch type.kind {
        case .tinyint: Int64(Int8(truncatingIfNeeded: value))
        case .smallint: Int64(Int16(truncatingIfNeeded: value))
        case .integer: Int64(Int32(truncatingIfNeeded: value))
        default: value
        }
    }
}
