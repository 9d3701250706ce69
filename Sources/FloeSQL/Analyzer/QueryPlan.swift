// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// An output column of a plan: its name, type and the table alias it can be qualified with.
struct PlanField: Sendable {
    var name: String
    var type: SQLType
    var qualifier: String?
    /// Whether the column is an event-time attribute (a table's WATERMARK column, a window's `window_time`).
    var isRowtime = false
    /// Set on the `window_start`, `window_end` and `window_time` columns a window TVF adds.
    var windowRole: WindowRole?
    /// A system column (`$rowtime`): selectable by name, left out of `SELECT *`.
    var isSystem = false

    init(name: String, type: SQLType, qualifier: String?, isRowtime: Bool = false, windowRole: WindowRole? = nil, isSystem: Bool = false) {
        self.name = name
        self.type = type
        self.qualifier = qualifier
        self.isRowtime = isRowtime
        self.windowRole = windowRole
        self.isSystem = isSystem
    }

    /// Confluent's `$rowtime`: the time a row was appended to its table (the Kafka record timestamp).
    static let rowtimeName = "$rowtime"
    static let rowtimeType = SQLType(.timestampLTZ(3), nullable: false)
}

/// Aggregate functions.
enum AggregateFunction: String, Sendable {
    case count = "COUNT", sum = "SUM", avg = "AVG", min = "MIN", max = "MAX"
    case sum0 = "SUM0"
}

/// One aggregate of a GROUP BY: the function over an input column (nil for `COUNT(*)`).
struct AggregateCall: Sendable {
    var function: AggregateFunction
    var argument: Int?
    var distinct: Bool
    var argumentType: SQLType?
    var type: SQLType
    /// Whether the aggregation's input never retracts (an insert-only changelog): MIN and MAX then keep only the
    /// current extreme, not every value (Flink's MinWithRetract/MaxWithRetract are for updating inputs only).
    var insertOnlyInput = false
    /// A BOOLEAN input column: only rows where it is TRUE count (`COUNT(DISTINCT x) FILTER (WHERE c)`, kept apart from
    /// `x` so that the calls counting the same `x` under different filters can share one table, as Flink's distinct
    /// aggregates share their map view). Only set for COUNT(DISTINCT) of an integer-valued argument.
    var filter: Int?
}

extension AggregateCall {
    func withInsertOnlyInput(_ insertOnly: Bool) -> AggregateCall {
        var call = self
        call.insertOnlyInput = insertOnly
        return call
    }
}

/// One key of a sort.
struct SortKey: Sendable {
    var column: Int
    var ascending: Bool
    /// Whether NULLs come first; Flink's default treats NULL as the smallest value.
    var nullsFirst: Bool

    init(column: Int, ascending: Bool, nullsFirst: Bool? = nil) {
        self.column = column
        self.ascending = ascending
        self.nullsFirst = nullsFirst ?? ascending
    }
}

/// An OVER window of an over-aggregate node: every input row gets the aggregates over the rows of its partition in
/// its frame, which ends at the row (ROWS) or at its last peer (RANGE).
struct OverWindow: Sendable {
    var partitionKeys: [Int]
    /// The ordering; nil (batch only) makes every row's frame its whole partition.
    var orderKey: SortKey?
    /// Whether the frame counts rows (ROWS) rather than measuring the ORDER BY key (RANGE).
    var isRows: Bool
    /// How far the frame reaches back: rows for ROWS, the ORDER BY key's unit for RANGE (microseconds for times);
    /// nil for UNBOUNDED PRECEDING.
    var preceding: Int64?
    var aggregates: [AggregateCall]
    /// Streaming: rows are buffered until the watermark passes their time, then processed in time order; rows at or
    /// behind what was already processed are late and dropped. Otherwise (batch) the input is sorted at its end.
    var isEventTime: Bool
}

/// A join bounded in time (Flink's interval join): a left row joins right rows with `leftTime - rightTime` within
/// `[lower, upper]` (and the rest of the condition). Rows are kept only while a partner can still arrive on time, so
/// state stays bounded; outer rows that never matched are padded with NULLs when they expire. The output is
/// append-only and keeps the inputs' time attributes.
struct IntervalJoinSpec: Sendable {
    /// Which time columns bound the join and how.
    struct Bounds: Sendable {
        /// The left input's time column.
        var leftTime: Int
        /// The right input's time column (numbered within the right input).
        var rightTime: Int
        /// Bounds of `leftTime - rightTime`, in microseconds, inclusive.
        var lower: Int64
        var upper: Int64
    }

    var kind: JoinKind
    /// The whole join condition (time bounds included), over the left fields followed by the right ones.
    var condition: BoundExpression
    var leftTypes: [SQLType]
    var rightTypes: [SQLType]
    var bounds: Bounds
}

/// An event-time temporal join (`JOIN versioned FOR SYSTEM_TIME AS OF left.time`): each left row joins the version of
/// the right (upsert) table's row for its key that was valid at the left row's time, once the watermark passes it.
struct TemporalJoinSpec: Sendable {
    var kind: JoinKind
    /// The join condition over the left fields followed by the right ones (it equates the right table's primary key).
    var condition: BoundExpression
    var leftTypes: [SQLType]
    var rightTypes: [SQLType]
    /// The left input's time attribute (the AS OF time) and the right input's (each version's start).
    var leftTime: Int
    var rightTime: Int
    /// The right table's primary key columns (versions are kept per key) and the left columns equated to them.
    var leftKey: [Int]
    var rightKey: [Int]
}

/// A window join: two windowed inputs joined on equal `window_start` and `window_end`, per window when it fires.
struct WindowJoinSpec: Sendable {
    var kind: JoinKind
    var condition: BoundExpression
    var leftTypes: [SQLType]
    var rightTypes: [SQLType]
    /// Each side's `window_end` column (the right one numbered within the right input).
    var leftEnd: Int
    var rightEnd: Int
    /// The session zone of LTZ windows (their ends are local wall-clock times).
    var localZone: String?
}

/// The INFORMATION_SCHEMA tables.
enum SystemTable: String, Sendable, CaseIterable {
    case catalogs = "CATALOGS", schemata = "SCHEMATA", tables = "TABLES", columns = "COLUMNS"
}

/// A logical query plan; every node's output is a changelog of rows of its fields.
indirect enum PlanNode: Sendable {
    /// Constant rows (their expressions evaluate without input).
    case values([[BoundExpression]], types: [SQLType])
    /// A table's log; rows come in the physical column order of `types`.
    /// A table's log; the last of `types` is the `$rowtime` system column (each row's append time).
    case tableScan(tableID: String, name: String, types: [SQLType])
    /// A table whose rows are generated (`'connector' = 'datagen'`), in the physical column order.
    case generated(DatagenSpec, name: String)
    /// A filesystem table's files (`'connector' = 'filesystem'`), in the physical column order; bounded.
    case files(FileSystemSpec, name: String)
    /// A topic of an attached Kafka cluster: its physical columns, then its metadata columns, then `$rowtime`.
    case kafkaScan(KafkaScanSpec, name: String, types: [SQLType])
    /// An INFORMATION_SCHEMA table of a catalog (computed from the catalog when the statement runs).
    case systemTable(SystemTable, catalogID: String)
    case filter(PlanNode, BoundExpression)
    case project(PlanNode, [BoundExpression])
    /// Groups by the first `keyCount` input columns; outputs the keys then the aggregates.
    case aggregate(PlanNode, keyCount: Int, aggregates: [AggregateCall])
    case sort(PlanNode, keys: [SortKey], limit: Int?, offset: Int)
    case limit(PlanNode, limit: Int?, offset: Int)
    case union([PlanNode])
    /// Passes its input through and generates watermarks: after each input batch, the greatest `expression` seen
    /// (Flink's bounded out-of-orderness: `WATERMARK FOR ts AS ts - INTERVAL …`). `perRecord` reads the scanned logs
    /// a record at a time, so that which rows are late does not depend on batching (not needed for `$rowtime`'s
    /// `SOURCE_WATERMARK()`: append times never go back, so no row is late against its own source).
    case watermark(PlanNode, rowtime: Int, expression: BoundExpression, perRecord: Bool)
    /// An upsert table's changelog normalized per primary key (Flink's ChangelogNormalize): the first row of a key is
    /// +I, a changed row -U (the previous row) and +U, an unchanged one nothing, a delete -D of the previous row.
    /// Column `ignoring` (the `$rowtime`) does not count when rows are compared. Batch: the latest rows, at the end.
    case changelogNormalize(PlanNode, keys: [Int], ignoring: Int?)
    /// A window TVF: each row once per window it falls in, followed by `window_start`, `window_end`, `window_time`.
    case window(PlanNode, WindowSpec)
    /// A window aggregation (GROUP BY `window_start`, `window_end`, … over a window TVF on a time attribute): groups by
    /// the first `keyCount` columns, of which `windowEnd` holds the window's end, and emits each window's rows once,
    /// when the watermark passes the window's end. Rows for windows already fired are late and dropped.
    /// `windowStart` is the key holding the window's start (the start and end are the same for all of a window's rows).
    case windowAggregate(PlanNode, keyCount: Int, aggregates: [AggregateCall], windowStart: Int, windowEnd: Int, localZone: String?)
    /// `ROW_NUMBER() OVER (PARTITION BY partitionKeys ORDER BY sortKeys)`, optionally only rows numbered up to `limit`;
    /// outputs the input columns followed by the row number.
    case rank(PlanNode, partitionKeys: [Int], sortKeys: [SortKey], limit: Int?, insertOnlyInput: Bool)
    /// An OVER aggregation: the input columns followed by one column per aggregate of the window.
    case overAggregate(PlanNode, OverWindow)
    /// A join bounded in time.
    case intervalJoin(PlanNode, PlanNode, IntervalJoinSpec)
    /// A join of the rows of the same windows of two windowed inputs.
    case windowJoin(PlanNode, PlanNode, WindowJoinSpec)
    /// Window Top-N / deduplication: `ROW_NUMBER()` per window (the partition keys include `window_start` and
    /// `window_end`, column `windowEnd`), emitted once when the window fires; outputs the input columns and the number.
    case windowRank(PlanNode, partitionKeys: [Int], sortKeys: [SortKey], limit: Int?, windowEnd: Int, localZone: String?)
    /// A join with the versions of an upsert table.
    case temporalJoin(PlanNode, PlanNode, TemporalJoinSpec)
    /// A join; the condition is over the left fields followed by the right ones.
    case join(PlanNode, PlanNode, kind: JoinKind, condition: BoundExpression?, leftTypes: [SQLType], rightTypes: [SQLType])
}

/// An analyzed query: its plan, output fields and changelog properties.
struct QueryPlan: Sendable {
    var node: PlanNode
    var fields: [PlanField]
    /// Whether every source ends.
    var isBounded: Bool
    /// Whether the result is inserts only.
    var isAppendOnly: Bool
    /// The output columns that form the upsert key of an updating result.
    var upsertKeys: [Int]?

    var types: [SQLType] { fields.map(\.type) }

    /// The plan text EXPLAIN prints.
    var explanation: String {
        var lines: [String] = []
        func visit(_ node: PlanNode, _ depth: Int) {
            let indent = String(repeating: "   ", count: depth) + (depth > 0 ? "+- " : "")
            switch node {
            case .values(let rows, _): lines.append(indent + "Values(tuples=\(rows.count))")
            case .tableScan(_, let name, _), .generated(_, let name), .files(_, let name), .kafkaScan(_, let name, _):
                lines.append(indent + "TableSourceScan(table=[\(name)])")
            case .systemTable(let table, let catalog):
                lines.append(indent + "SystemTableScan(table=[\(catalog).INFORMATION_SCHEMA.\(table.rawValue)])")
            case .filter(let input, _):
                lines.append(indent + "Calc(where=[...])")
                visit(input, depth + 1)
            case .project(let input, let expressions):
                lines.append(indent + "Calc(select=[\(expressions.count) fields])")
                visit(input, depth + 1)
            case .aggregate(let input, let keyCount, let aggregates):
                lines.append(
                    indent
                        + "GroupAggregate(groupBy=[\(keyCount) keys], select=[\(aggregates.map { $0.function.rawValue + ($0.distinct ? "(DISTINCT)" : "") }.joined(separator: ", "))])"
                )
                visit(input, depth + 1)
            case .sort(let input, let keys, let limit, _):
                lines.append(
                    indent + (limit == nil ? "Sort" : "SortLimit")
                        + "(orderBy=[\(keys.map { "$\($0.column) \($0.ascending ? "ASC" : "DESC")" }.joined(separator: ", "))]\(limit.map { ", fetch=[\($0)]" } ?? ""))"
                )
                visit(input, depth + 1)
            case .limit(let input, let limit, _):
                lines.append(indent + "Limit(fetch=[\(limit.map(String.init) ?? "unlimited")])")
                visit(input, depth + 1)
            case .union(let inputs):
                lines.append(indent + "Union(all=[true])")
                for input in inputs { visit(input, depth + 1) }
            case .watermark(let input, let rowtime, _, _):
                lines.append(indent + "WatermarkAssigner(rowtime=[$\(rowtime)])")
                visit(input, depth + 1)
            case .changelogNormalize(let input, let keys, _):
                lines.append(indent + "ChangelogNormalize(key=[\(keys.map { "$\($0)" }.joined(separator: ", "))])")
                visit(input, depth + 1)
            case .window(let input, let spec):
                lines.append(indent + "WindowTableFunction(window=[\(spec.explanation)])")
                visit(input, depth + 1)
            case .windowAggregate(let input, let keyCount, let aggregates, _, _, _):
                lines.append(
                    indent
                        + "WindowAggregate(groupBy=[\(keyCount) keys], select=[\(aggregates.map { $0.function.rawValue + ($0.distinct ? "(DISTINCT)" : "") }.joined(separator: ", "))])"
                )
                visit(input, depth + 1)
            case .rank(let input, let partitionKeys, _, let limit, _):
                lines.append(
                    indent
                        + "Rank(rankType=[ROW_NUMBER], partitionBy=[\(partitionKeys.map { "$\($0)" }.joined(separator: ", "))]\(limit.map { ", rankRange=[rankStart=1, rankEnd=\($0)]" } ?? ""))"
                )
                visit(input, depth + 1)
            case .overAggregate(let input, let window):
                let frame = window.preceding.map { "\($0) PRECEDING" } ?? "UNBOUNDED PRECEDING"
                lines.append(
                    indent
                        + "OverAggregate(partitionBy=[\(window.partitionKeys.map { "$\($0)" }.joined(separator: ", "))], orderBy=[\(window.orderKey.map { "$\($0.column)" } ?? "")], window=[\(window.isRows ? "ROWS" : "RANG") BETWEEN \(frame) AND CURRENT ROW], select=[\(window.aggregates.map { $0.function.rawValue + ($0.distinct ? "(DISTINCT)" : "") }.joined(separator: ", "))])"
                )
                visit(input, depth + 1)
            case .intervalJoin(let left, let right, let spec):
                let b = spec.bounds
                lines.append(
                    indent
                        + "IntervalJoin(joinType=[\(spec.kind.rawValue)Join], windowBounds=[leftLowerBound=\(b.lower / 1000), leftUpperBound=\(b.upper / 1000), leftTimeIndex=\(b.leftTime), rightTimeIndex=\(b.rightTime)])"
                )
                visit(left, depth + 1)
                visit(right, depth + 1)
            case .windowJoin(let left, let right, let spec):
                lines.append(
                    indent + "WindowJoin(joinType=[\(spec.kind.rawValue)Join], leftWindowEnd=[$\(spec.leftEnd)], rightWindowEnd=[$\(spec.rightEnd)])")
                visit(left, depth + 1)
                visit(right, depth + 1)
            case .windowRank(let input, let partitionKeys, _, let limit, _, _):
                lines.append(
                    indent
                        + "WindowRank(rankType=[ROW_NUMBER], partitionBy=[\(partitionKeys.map { "$\($0)" }.joined(separator: ", "))]\(limit.map { ", rankRange=[rankStart=1, rankEnd=\($0)]" } ?? ""))"
                )
                visit(input, depth + 1)
            case .temporalJoin(let left, let right, let spec):
                lines.append(
                    indent
                        + "TemporalJoin(joinType=[\(spec.kind.rawValue)Join], leftTimeAttribute=[$\(spec.leftTime)], rightTimeAttribute=[$\(spec.rightTime)])"
                )
                visit(left, depth + 1)
                visit(right, depth + 1)
            case .join(let left, let right, let kind, _, _, _):
                lines.append(indent + "Join(joinType=[\(kind.rawValue)Join])")
                visit(left, depth + 1)
                visit(right, depth + 1)
            }
        }
        visit(node, 0)
        return lines.joined(separator: "\n")
    }
}
