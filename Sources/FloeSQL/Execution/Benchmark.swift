// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Micro-benchmarks of the execution path.
public enum FloeBenchmark {
    /// Runs `WHERE id % 3 <> 0 AND price > 50.0` then `SELECT id * 2 + 1, price * 1.5, id` over `rows` generated rows
    /// (BIGINT id, DOUBLE price) in batches of 4096, through the same compiled expressions and stages queries use.
    /// - Returns: input rows per second.
    public static func filterProjection(rows: Int, batchSize: Int = 4096) throws -> Double {
        let bigint = SQLType(.bigint, nullable: false)
        let double = SQLType(.double, nullable: false)
        let id = BoundExpression(.column(0), bigint)
        let price = BoundExpression(.column(1), double)
        let boolean = SQLType(.boolean, nullable: false)
        let condition = BoundExpression(
            .and([
                BoundExpression(
                    .compare(.notEqual, BoundExpression(.arithmetic(.modulo, id, .literal(.int(3), bigint)), bigint), .literal(.int(0), bigint)),
                    boolean),
                BoundExpression(.compare(.greater, price, .literal(.double(50), double)), boolean),
            ]), boolean)
        let projections = [
            BoundExpression(
                .arithmetic(.add, BoundExpression(.arithmetic(.multiply, id, .literal(.int(2), bigint)), bigint), .literal(.int(1), bigint)), bigint),
            BoundExpression(.arithmetic(.multiply, price, .literal(.double(1.5), double)), double),
            id,
        ]
        let compiler = ExpressionCompiler(caster: Caster(renderer: ValueRenderer(zone: Temporal.zone(nil))))
        let filter = FilterStage(compiler.compile(condition))
        let project = ProjectStage(projections.map(compiler.compile))
        var produced = 0
        let start = ContinuousClock.now
        var next: Int64 = 0
        while next < Int64(rows) {
            let count = min(batchSize, rows - Int(next))
            var ids = [Int64](repeating: 0, count: count)
            var prices = [Double](repeating: 0, count: count)
            for i in 0..<count {
                ids[i] = next + Int64(i)
                prices[i] = Double((next + Int64(i)) % 100)
            }
            next += Int64(count)
            let batch = Batch(columns: [Column(data: .int(ids)), Column(data: .double(prices))], kinds: Array(repeating: .insert, count: count))
            for filtered in try filter.process(batch, from: 0) {
                for output in try project.process(filtered, from: 0) { produced += output.count }
            }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        precondition(produced > 0)
        return Double(rows) / max(seconds, 1e-9)
    }

    /// Runs the streaming GROUP BY of `SELECT k, COUNT(*), SUM(v) … GROUP BY k` over `rows` generated rows (BIGINT k
    /// with `groups` distinct values, BIGINT v) in batches of 4096: every input row updates its group and emits its
    /// -U/+U changes, as Flink's GroupAggregate does.
    /// - Returns: input rows per second.
    public static func groupBy(rows: Int, groups: Int = 1_000, batchSize: Int = 4096) throws -> Double {
        let bigint = SQLType(.bigint, nullable: false)
        let stage = AggregateStage(
            keyCount: 1,
            calls: [
                AggregateCall(function: .count, argument: nil, distinct: false, argumentType: nil, type: bigint),
                AggregateCall(function: .sum, argument: 1, distinct: false, argumentType: bigint, type: bigint),
            ],
            final: false, outputTypes: [bigint, bigint, bigint])
        var changes = 0
        let start = ContinuousClock.now
        var next: Int64 = 0
        while next < Int64(rows) {
            let count = min(batchSize, rows - Int(next))
            var keys = [Int64](repeating: 0, count: count)
            var values = [Int64](repeating: 0, count: count)
            for i in 0..<count {
                keys[i] = (next + Int64(i)) % Int64(groups)
                values[i] = next + Int64(i)
            }
            next += Int64(count)
            let batch = Batch(columns: [Column(data: .int(keys)), Column(data: .int(values))], kinds: Array(repeating: .insert, count: count))
            for output in try stage.process(batch, from: 0) { changes += output.count }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        precondition(changes > 0)
        return Double(rows) / max(seconds, 1e-9)
    }
}
