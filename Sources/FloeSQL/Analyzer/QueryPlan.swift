// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// An output column of a plan: its name, type and the table alias it can be qualified with.
struct PlanField: Sendable {
    var name: String
    var type: SQLType
    var qualifier: String?
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

/// The INFORMATION_SCHEMA tables.
enum SystemTable: String, Sendable, CaseIterable {
    case catalogs = "CATALOGS", schemata = "SCHEMATA", tables = "TABLES", columns = "COLUMNS"
}

/// A logical query plan; every node's output is a changelog of rows of its fields.
indirect enum PlanNode: Sendable {
    /// Constant rows (their expressions evaluate without input).
    case values([[BoundExpression]], types: [SQLType])
    /// A table's log; rows come in the physical column order of `types`.
    case tableScan(tableID: String, name: String, types: [SQLType])
    /// A table whose rows are generated (`'connector' = 'datagen'`), in the physical column order.
    case generated(DatagenSpec, name: String)
    /// An INFORMATION_SCHEMA table of a catalog (computed from the catalog when the statement runs).
    case systemTable(SystemTable, catalogID: String)
    case filter(PlanNode, BoundExpression)
    case project(PlanNode, [BoundExpression])
    /// Groups by the first `keyCount` input columns; outputs the keys then the aggregates.
    case aggregate(PlanNode, keyCount: Int, aggregates: [AggregateCall])
    case sort(PlanNode, keys: [SortKey], limit: Int?, offset: Int)
    case limit(PlanNode, limit: Int?, offset: Int)
    case union([PlanNode])
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
            case .tableScan(_, let name, _), .generated(_, let name): lines.append(indent + "TableSourceScan(table=[\(name)])")
            case .systemTable(let table, let catalog): lines.append(indent + "SystemTableScan(table=[\(catalog).INFORMATION_SCHEMA.\(table.rawValue)])")
            case .filter(let input, _):
                lines.append(indent + "Calc(where=[...])")
                visit(input, depth + 1)
            case .project(let input, let expressions):
                lines.append(indent + "Calc(select=[\(expressions.count) fields])")
                visit(input, depth + 1)
            case .aggregate(let input, let keyCount, let aggregates):
                lines.append(indent + "GroupAggregate(groupBy=[\(keyCount) keys], select=[\(aggregates.map { $0.function.rawValue + ($0.distinct ? "(DISTINCT)" : "") }.joined(separator: ", "))])")
                visit(input, depth + 1)
            case .sort(let input, let keys, let limit, _):
                lines.append(indent + (limit == nil ? "Sort" : "SortLimit") + "(orderBy=[\(keys.map { "$\($0.column) \($0.ascending ? "ASC" : "DESC")" }.joined(separator: ", "))]\(limit.map { ", fetch=[\($0)]" } ?? ""))")
                visit(input, depth + 1)
            case .limit(let input, let limit, _):
                lines.append(indent + "Limit(fetch=[\(limit.map(String.init) ?? "unlimited")])")
                visit(input, depth + 1)
            case .union(let inputs):
                lines.append(indent + "Union(all=[true])")
                for input in inputs { visit(input, depth + 1) }
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
