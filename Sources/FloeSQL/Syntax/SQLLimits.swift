// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// What one statement may ask of the engine, whoever sends it.
///
/// The parser, the analyzer, the planner and the dataflow all recurse over the statement's tree, so a tree deeper than
/// the thread's stack allows would crash the whole server (and, re-prepared after a restart, crash it again). The
/// parser therefore refuses trees deeper than ``nestingDepth`` — parentheses, operators chained left to right, set
/// operations, joins, nested types — and the analyzer refuses expansions of views and common table expressions that
/// nest deeper than ``nestingDepth`` or number more than ``expansions`` (a view used twice by the view below it would
/// otherwise double the plan at every level). Every recursion over a statement is tested at these limits with the
/// stack a task thread has (8 MiB), in the debug build whose frames are the largest.
public enum SQLLimits {
    /// The deepest a statement's syntax tree, or its queries with their views and CTEs expanded, may nest.
    public static let nestingDepth = 1000
    /// The most view and common-table-expression references one statement may expand.
    public static let expansions = 10_000

    /// The message of a statement refused for its nesting (`SQL statement too deeply nested (limit 1000)`).
    static var tooDeeplyNested: String { "SQL statement too deeply nested (limit \(nestingDepth))" }
}
