// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A possibly qualified name: `orders`, `db.orders`, `catalog.db.orders`, each part as written (unquoted).
public struct QualifiedName: Sendable, Equatable, Hashable {
    public var parts: [String]
    /// Where it was written. For a function's name, the whole call (`COUNT(DISTINCT x)`), which is what Flink's
    /// messages about calls point at.
    public var origin: Origin

    public init(_ parts: [String], origin: Origin = .none) {
        self.parts = parts
        self.origin = origin
    }

    /// The last part.
    public var name: String { parts.last ?? "" }
}

/// A SQL data type as written: `INT`, `VARCHAR(10)`, `DECIMAL(10, 2)`, `ARRAY<STRING>`, `ROW<a INT, b STRING>`.
public indirect enum TypeSyntax: Sendable, Equatable {
    /// A named type with optional numeric parameters (`TIMESTAMP(3)`, `DECIMAL(10, 2)`, `TIMESTAMP_LTZ(3)`).
    case named(String, [Int], nullable: Bool)
    case array(TypeSyntax, nullable: Bool)
    case multiset(TypeSyntax, nullable: Bool)
    case map(TypeSyntax, TypeSyntax, nullable: Bool)
    case row([(name: String, type: TypeSyntax)], nullable: Bool)

    public static func == (lhs: TypeSyntax, rhs: TypeSyntax) -> Bool { lhs.sql == rhs.sql }
}

/// A scalar expression.
public indirect enum Expression: Sendable, Equatable {
    case null
    case boolean(Bool)
    /// A numeric literal as written (`1`, `2.5`, `1e3`).
    case number(String)
    case string(String)
    /// `DATE '2024-01-01'`, `TIME '…'`, `TIMESTAMP '…'`, `TIMESTAMP_LTZ '…'`.
    case typedLiteral(type: String, value: String)
    /// `INTERVAL '5' MINUTE`, `INTERVAL '1 02:00' DAY TO HOUR`.
    case interval(value: String, unit: String, toUnit: String?)
    /// A column reference, possibly qualified (`t.price`).
    case column(QualifiedName)
    /// `*` or `t.*` (in select lists and `COUNT(*)`).
    case star(qualifier: QualifiedName?)
    /// `NOT x`, `-x`; the origin spans the operator and its operand.
    case unary(String, Expression, Origin = .none)
    /// `a + b`, `a AND b`, `a = b`, …; the origin spans both operands.
    case binary(String, Expression, Expression, Origin = .none)
    case isNull(Expression, negated: Bool)
    /// `IS [NOT] TRUE|FALSE|UNKNOWN` (`value` nil for UNKNOWN).
    case isTruth(Expression, value: Bool?, negated: Bool)
    case isDistinctFrom(Expression, Expression, negated: Bool)
    case between(Expression, low: Expression, high: Expression, negated: Bool, origin: Origin = .none)
    case inList(Expression, [Expression], negated: Bool, origin: Origin = .none)
    case inQuery(Expression, Query, negated: Bool)
    case like(Expression, pattern: Expression, escape: Expression?, negated: Bool, similar: Bool, origin: Origin = .none)
    /// A function call; `DISTINCT` aggregates and `OVER` windows included.
    case function(name: QualifiedName, arguments: [Expression], distinct: Bool, over: WindowSpecification?)
    case cast(Expression, TypeSyntax, isTry: Bool, origin: Origin = .none)
    case caseWhen(operand: Expression?, branches: [CaseBranch], otherwise: Expression?, origin: Origin = .none)
    case extract(unit: String, from: Expression)
    case scalarSubquery(Query)
    case exists(Query)
    /// `a[i]` (arrays and maps).
    case element(Expression, Expression)
    /// `ROW(a, b)` or `(a, b)`.
    case row([Expression])
    case array([Expression])
    /// `MAP[k1, v1, k2, v2]`.
    case map([Expression])
    /// `TABLE name` (a table argument of a table function).
    case tableArgument(QualifiedName)
    /// `DESCRIPTOR(col, …)`.
    case descriptor([String])
    /// `name => value` (a named argument).
    case namedArgument(String, Expression)
}

/// `WHEN condition THEN result`.
public struct CaseBranch: Sendable, Equatable {
    public var condition: Expression
    public var result: Expression

    public init(condition: Expression, result: Expression) {
        self.condition = condition
        self.result = result
    }
}

/// `OVER (PARTITION BY … ORDER BY … ROWS|RANGE BETWEEN …)`, or `OVER w` naming a window of the `WINDOW` clause
/// (the parser replaces such references by the named specification).
public struct WindowSpecification: Sendable, Equatable {
    public var partitionBy: [Expression]
    public var orderBy: [OrderItem]
    public var frame: WindowFrame?
    /// The window this refers to (`OVER w`), before the parser resolves it.
    public var reference: String?

    public init(partitionBy: [Expression], orderBy: [OrderItem], frame: WindowFrame?, reference: String? = nil) {
        self.partitionBy = partitionBy
        self.orderBy = orderBy
        self.frame = frame
        self.reference = reference
    }
}

/// The frame of an OVER window: `ROWS|RANGE BETWEEN start AND end` (a single bound means `… AND CURRENT ROW`).
public struct WindowFrame: Sendable, Equatable {
    /// Whether the bounds count rows or measure the ORDER BY value.
    public enum Unit: String, Sendable, Equatable {
        case rows = "ROWS", range = "RANGE"
    }

    /// One end of a frame.
    public enum Bound: Sendable, Equatable {
        case unboundedPreceding
        case preceding(Expression)
        case currentRow
        case following(Expression)
        case unboundedFollowing
    }

    public var unit: Unit
    public var start: Bound
    public var end: Bound

    public init(unit: Unit, start: Bound, end: Bound) {
        self.unit = unit
        self.start = start
        self.end = end
    }
}

/// One `ORDER BY` key.
public struct OrderItem: Sendable, Equatable {
    public var expression: Expression
    public var ascending: Bool
    /// `NULLS FIRST` / `NULLS LAST`; nil is Flink's default (NULLs sort as the smallest value).
    public var nullsFirst: Bool?

    public init(expression: Expression, ascending: Bool, nullsFirst: Bool? = nil) {
        self.expression = expression
        self.ascending = ascending
        self.nullsFirst = nullsFirst
    }
}

/// One item of a select list.
public struct SelectItem: Sendable, Equatable {
    public var expression: Expression
    public var alias: String?

    public init(expression: Expression, alias: String?) {
        self.expression = expression
        self.alias = alias
    }
}

/// `AS alias (col, …)`.
public struct TableAlias: Sendable, Equatable {
    public var name: String
    public var columns: [String]

    public init(name: String, columns: [String] = []) {
        self.name = name
        self.columns = columns
    }
}

/// The kinds of join.
public enum JoinKind: String, Sendable, Equatable {
    case inner = "INNER"
    case left = "LEFT"
    case right = "RIGHT"
    case full = "FULL"
    case cross = "CROSS"
}

/// A `FROM` item.
public indirect enum TableReference: Sendable, Equatable {
    /// A table or view, optionally `FOR SYSTEM_TIME AS OF expr`.
    case named(QualifiedName, alias: TableAlias?, asOf: Expression?)
    case subquery(Query, alias: TableAlias?)
    /// `TABLE(fn(args))`, e.g. `TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))`.
    case tableFunction(Expression, alias: TableAlias?)
    case join(TableReference, TableReference, kind: JoinKind, on: Expression?, using: [String])
    /// `UNNEST(expr)` (for `CROSS JOIN UNNEST`).
    case unnest(Expression, alias: TableAlias?)
}

/// A `SELECT` block.
public struct Select: Sendable, Equatable {
    public var distinct: Bool
    public var items: [SelectItem]
    public var from: TableReference?
    public var filter: Expression?
    public var groupBy: [Expression]
    public var having: Expression?

    public init(distinct: Bool, items: [SelectItem], from: TableReference?, filter: Expression?, groupBy: [Expression], having: Expression?) {
        self.distinct = distinct
        self.items = items
        self.from = from
        self.filter = filter
        self.groupBy = groupBy
        self.having = having
    }
}

/// The body of a query.
public indirect enum QueryBody: Sendable, Equatable {
    case select(Select)
    case values([[Expression]])
    /// `UNION [ALL]`, `INTERSECT`, `EXCEPT`.
    /// The origin spans both operands.
    case setOperation(String, all: Bool, QueryBody, QueryBody, origin: Origin = .none)
    case nested(Query)
}

/// A query: `WITH … body ORDER BY … LIMIT … OFFSET …`.
public struct Query: Sendable, Equatable {
    public var with: [(name: String, columns: [String], query: Query)]
    public var body: QueryBody
    public var orderBy: [OrderItem]
    public var limit: Expression?
    public var offset: Expression?

    public init(
        with: [(name: String, columns: [String], query: Query)] = [], body: QueryBody, orderBy: [OrderItem] = [], limit: Expression? = nil,
        offset: Expression? = nil
    ) {
        self.with = with
        self.body = body
        self.orderBy = orderBy
        self.limit = limit
        self.offset = offset
    }

    public static func == (lhs: Query, rhs: Query) -> Bool { lhs.sql == rhs.sql }
}

/// A column of `CREATE TABLE`.
public struct ColumnDefinition: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case physical(TypeSyntax)
        /// `name AS expr [VIRTUAL]`.
        case computed(Expression)
        /// `name type METADATA [FROM 'key'] [VIRTUAL]`.
        case metadata(TypeSyntax, key: String?, virtual: Bool)
    }

    public var name: String
    public var kind: Kind
    public var comment: String?

    public init(name: String, kind: Kind, comment: String?) {
        self.name = name
        self.kind = kind
        self.comment = comment
    }
}

/// `CREATE TABLE`.
public struct CreateTable: Sendable, Equatable {
    public var name: QualifiedName
    public var ifNotExists: Bool
    public var columns: [ColumnDefinition]
    public var primaryKey: [String]
    /// `WATERMARK FOR column AS expr`.
    public var watermark: (column: String, expression: Expression)?
    public var comment: String?
    public var distributedBy: [String]
    /// `DISTRIBUTED BY ... INTO n BUCKETS`.
    public var bucketCount: Int? = nil
    public var options: [(String, String)]
    /// `LIKE other`.
    public var like: QualifiedName?
    /// `AS query` (CREATE TABLE AS SELECT).
    public var asQuery: Query?

    public init(
        name: QualifiedName, ifNotExists: Bool, columns: [ColumnDefinition], primaryKey: [String],
        watermark: (column: String, expression: Expression)?,
        comment: String?, distributedBy: [String], options: [(String, String)], like: QualifiedName?, asQuery: Query?
    ) {
        self.name = name
        self.ifNotExists = ifNotExists
        self.columns = columns
        self.primaryKey = primaryKey
        self.watermark = watermark
        self.comment = comment
        self.distributedBy = distributedBy
        self.options = options
        self.like = like
        self.asQuery = asQuery
    }

    public static func == (lhs: CreateTable, rhs: CreateTable) -> Bool { Statement.createTable(lhs).sql == Statement.createTable(rhs).sql }
}

/// `INSERT INTO|OVERWRITE table [(cols)] query`.
public struct Insert: Sendable, Equatable {
    public var table: QualifiedName
    public var columns: [String]
    public var source: Query
    public var overwrite: Bool

    public init(table: QualifiedName, columns: [String], source: Query, overwrite: Bool) {
        self.table = table
        self.columns = columns
        self.source = source
        self.overwrite = overwrite
    }
}

/// What `SHOW` lists.
public enum ShowTarget: Sendable, Equatable {
    case catalogs
    case databases
    case tables
    case views
    /// `SHOW TABLES FROM|IN [catalog.]database`.
    case tablesFrom(QualifiedName)
    /// `SHOW VIEWS FROM|IN [catalog.]database`.
    case viewsFrom(QualifiedName)
    case functions(user: Bool)
    case currentCatalog
    case currentDatabase
    case createTable(QualifiedName)
    case createView(QualifiedName)
    case columns(QualifiedName)
    case jobs
}

/// `ALTER TABLE` actions.
public enum AlterTableAction: Sendable, Equatable {
    case addColumns([ColumnDefinition])
    case modifyColumns([ColumnDefinition])
    case dropColumns([String])
    case renameColumn(String, to: String)
    case rename(to: QualifiedName)
    case setOptions([(String, String)])
    case resetOptions([String])

    public static func == (lhs: AlterTableAction, rhs: AlterTableAction) -> Bool {
        Statement.alterTable(QualifiedName([]), lhs).sql == Statement.alterTable(QualifiedName([]), rhs).sql
    }
}

/// One SQL statement.
public indirect enum Statement: Sendable, Equatable {
    case query(Query)
    case createTable(CreateTable)
    case createView(QualifiedName, columns: [String], query: Query, ifNotExists: Bool, comment: String?, orReplace: Bool = false)
    case createDatabase(QualifiedName, ifNotExists: Bool, comment: String?, options: [(String, String)])
    case dropTable(QualifiedName, ifExists: Bool)
    case dropView(QualifiedName, ifExists: Bool)
    case dropDatabase(QualifiedName, ifExists: Bool, cascade: Bool)
    case alterTable(QualifiedName, AlterTableAction)
    case insert(Insert)
    /// `EXECUTE STATEMENT SET BEGIN insert; … END` (also `BEGIN STATEMENT SET; … END;`).
    case statementSet([Insert])
    case show(ShowTarget, like: String?)
    case describe(QualifiedName, extended: Bool)
    /// `USE CATALOG c`.
    case useCatalog(String)
    /// `USE [catalog.]database`.
    case useDatabase(QualifiedName)
    case explain(Statement)
    /// `SET 'key' = 'value'` (rejected by the service: properties carry settings).
    case set(key: String?, value: String?)
    case reset(key: String?)

    public static func == (lhs: Statement, rhs: Statement) -> Bool { lhs.sql == rhs.sql }
}
