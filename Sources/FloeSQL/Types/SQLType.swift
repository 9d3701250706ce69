// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A Flink logical type with its nullability: what the analyzer derives for every expression and column.
public struct SQLType: Sendable, Hashable, Codable {
    /// The type without nullability (Flink's LogicalTypeRoot plus parameters).
    public indirect enum Kind: Sendable, Hashable, Codable {
        case null
        case boolean
        case tinyint, smallint, integer, bigint
        case decimal(precision: Int, scale: Int)
        case float, double
        case char(Int), varchar(Int)
        case binary(Int), varbinary(Int)
        case date
        case time(Int)
        case timestamp(Int)
        case timestampLTZ(Int)
        case intervalDayTime
        case intervalYearMonth
        case array(SQLType)
        case multiset(SQLType)
        case map(key: SQLType, value: SQLType)
        case row([RowField])
    }

    /// One field of a ROW type.
    public struct RowField: Sendable, Hashable, Codable {
        public var name: String
        public var type: SQLType
    }

    public var kind: Kind
    public var nullable: Bool

    public init(_ kind: Kind, nullable: Bool = true) {
        self.kind = kind
        self.nullable = nullable
    }

    /// `VARCHAR(2147483647)`.
    public static let maxLength = 2_147_483_647
    public static let string = SQLType(.varchar(maxLength))

    public func withNullable(_ nullable: Bool) -> SQLType { SQLType(kind, nullable: nullable) }
    public var notNull: SQLType { withNullable(false) }
}

// MARK: Classification

extension SQLType {
    /// The integer width rank (TINYINT 1 … BIGINT 4), nil for other types.
    var integerRank: Int? {
        switch kind {
        case .tinyint: 1
        case .smallint: 2
        case .integer: 3
        case .bigint: 4
        default: nil
        }
    }

    var isInteger: Bool { integerRank != nil }
    var isExactNumeric: Bool { isInteger || isDecimal }
    var isDecimal: Bool { if case .decimal = kind { true } else { false } }
    var isApproximate: Bool { kind == .float || kind == .double }
    var isNumeric: Bool { isExactNumeric || isApproximate }
    var isCharacter: Bool {
        switch kind {
        case .char, .varchar: true
        default: false
        }
    }
    var isBinary: Bool {
        switch kind {
        case .binary, .varbinary: true
        default: false
        }
    }
    /// ARRAY, MULTISET, MAP or ROW.
    var isConstructed: Bool {
        switch kind {
        case .array, .multiset, .map, .row: true
        default: false
        }
    }

    var isTemporal: Bool {
        switch kind {
        case .date, .time, .timestamp, .timestampLTZ: true
        default: false
        }
    }
    var isNull: Bool { kind == .null }

    /// The precision and scale of an exact numeric as a DECIMAL (`INTEGER` is `DECIMAL(10, 0)`).
    var decimalShape: (precision: Int, scale: Int)? {
        switch kind {
        case .tinyint: (3, 0)
        case .smallint: (5, 0)
        case .integer: (10, 0)
        case .bigint: (19, 0)
        case .decimal(let precision, let scale): (precision, scale)
        default: nil
        }
    }

    /// The length of a character or binary string type.
    var length: Int? {
        switch kind {
        case .char(let n), .varchar(let n), .binary(let n), .varbinary(let n): n
        default: nil
        }
    }

    /// The physical representation values of this type use in batches.
    var physical: PhysicalKind {
        switch kind {
        case .boolean: .bool
        case .tinyint, .smallint, .integer, .bigint, .date, .time, .timestamp, .timestampLTZ, .intervalDayTime, .intervalYearMonth: .int
        case .float, .double: .double
        case .decimal: .decimal
        case .char, .varchar: .string
        case .binary, .varbinary: .bytes
        case .null, .array, .multiset, .map, .row: .value
        }
    }
}

/// How a column's values are stored in a batch.
enum PhysicalKind: Sendable {
    case bool, int, double, decimal, string, bytes, value
}

// MARK: Spelling

extension SQLType {
    /// The SQL spelling (`VARCHAR(10) NOT NULL`, `STRING`, `TIMESTAMP(3)`), as `SHOW CREATE TABLE` and
    /// `FULL_DATA_TYPE` print it.
    public var sql: String { kindSQL + (nullable ? "" : " NOT NULL") }

    /// The SQL spelling without nullability.
    var kindSQL: String {
        switch kind {
        case .null: "NULL"
        case .boolean: "BOOLEAN"
        case .tinyint: "TINYINT"
        case .smallint: "SMALLINT"
        case .integer: "INT"
        case .bigint: "BIGINT"
        case .decimal(let p, let s): "DECIMAL(\(p), \(s))"
        case .float: "FLOAT"
        case .double: "DOUBLE"
        case .char(let n): "CHAR(\(n))"
        case .varchar(let n): n == SQLType.maxLength ? "STRING" : "VARCHAR(\(n))"
        case .binary(let n): "BINARY(\(n))"
        case .varbinary(let n): n == SQLType.maxLength ? "BYTES" : "VARBINARY(\(n))"
        case .date: "DATE"
        case .time(let p): "TIME(\(p))"
        case .timestamp(let p): "TIMESTAMP(\(p))"
        case .timestampLTZ(let p): "TIMESTAMP_LTZ(\(p))"
        case .intervalDayTime: "INTERVAL DAY TO SECOND(3)"
        case .intervalYearMonth: "INTERVAL YEAR TO MONTH"
        case .array(let element): "ARRAY<\(element.sql)>"
        case .multiset(let element): "MULTISET<\(element.sql)>"
        case .map(let key, let value): "MAP<\(key.sql), \(value.sql)>"
        case .row(let fields): "ROW<" + fields.map { "`\($0.name)` \($0.type.sql)" }.joined(separator: ", ") + ">"
        }
    }

    /// The `DATA_TYPE` spelling of INFORMATION_SCHEMA.COLUMNS (the type's name without parameters).
    var typeName: String {
        switch kind {
        case .varchar(let n) where n == SQLType.maxLength: "STRING"
        case .varbinary(let n) where n == SQLType.maxLength: "BYTES"
        default:
            String(kindSQL.prefix { $0 != "(" && $0 != "<" })
        }
    }

    /// The LogicalTypeRoot form the statement schema reports.
    public var schemaType: SchemaType {
        switch kind {
        case .null: .scalar(root: "NULL", nullable: true)
        case .boolean: .scalar(root: "BOOLEAN", nullable: nullable)
        case .tinyint: .scalar(root: "TINYINT", nullable: nullable)
        case .smallint: .scalar(root: "SMALLINT", nullable: nullable)
        case .integer: .scalar(root: "INTEGER", nullable: nullable)
        case .bigint: .scalar(root: "BIGINT", nullable: nullable)
        case .decimal(let p, let s): .scalar(root: "DECIMAL", nullable: nullable, precision: p, scale: s)
        case .float: .scalar(root: "FLOAT", nullable: nullable)
        case .double: .scalar(root: "DOUBLE", nullable: nullable)
        case .char(let n): .scalar(root: "CHAR", nullable: nullable, length: n)
        case .varchar(let n): .scalar(root: "VARCHAR", nullable: nullable, length: n)
        case .binary(let n): .scalar(root: "BINARY", nullable: nullable, length: n)
        case .varbinary(let n): .scalar(root: "VARBINARY", nullable: nullable, length: n)
        case .date: .scalar(root: "DATE", nullable: nullable)
        case .time(let p): .scalar(root: "TIME_WITHOUT_TIME_ZONE", nullable: nullable, precision: p)
        case .timestamp(let p): .scalar(root: "TIMESTAMP_WITHOUT_TIME_ZONE", nullable: nullable, precision: p)
        case .timestampLTZ(let p): .scalar(root: "TIMESTAMP_WITH_LOCAL_TIME_ZONE", nullable: nullable, precision: p)
        case .intervalDayTime: .scalar(root: "INTERVAL_DAY_TIME", nullable: nullable, precision: 2, scale: 3)
        case .intervalYearMonth: .scalar(root: "INTERVAL_YEAR_MONTH", nullable: nullable, precision: 2)
        case .array(let element): .array(element: element.schemaType, nullable: nullable)
        case .multiset(let element): .multiset(element: element.schemaType, nullable: nullable)
        case .map(let key, let value): .map(key: key.schemaType, value: value.schemaType, nullable: nullable)
        case .row(let fields): .row(fields: fields.map { ($0.name, $0.type.schemaType) }, nullable: nullable)
        }
    }
}

// MARK: From syntax

extension SQLType {
    /// The type a `TypeSyntax` names.
    /// - Throws: ``SQLError`` for an unknown type or bad parameters.
    static func resolve(_ syntax: TypeSyntax) throws(SQLError) -> SQLType {
        switch syntax {
        case .array(let element, let nullable): return SQLType(.array(try resolve(element)), nullable: nullable)
        case .multiset(let element, let nullable): return SQLType(.multiset(try resolve(element)), nullable: nullable)
        case .map(let key, let value, let nullable):
            return SQLType(.map(key: try resolve(key), value: try resolve(value)), nullable: nullable)
        case .row(let fields, let nullable):
            var resolved: [RowField] = []
            for field in fields { resolved.append(RowField(name: field.name, type: try resolve(field.type))) }
            return SQLType(.row(resolved), nullable: nullable)
        case .named(let name, let parameters, let nullable):
            return SQLType(try namedKind(name, parameters), nullable: nullable)
        }
    }

    private static func namedKind(_ name: String, _ parameters: [Int]) throws(SQLError) -> Kind {
        func parameter(_ index: Int, default value: Int, range: ClosedRange<Int>) throws(SQLError) -> Int {
            let given = index < parameters.count ? parameters[index] : value
            guard range.contains(given) else {
                throw SQLError("\(name) parameter must be between \(range.lowerBound) and \(range.upperBound) (both inclusive), but was \(given).")
            }
            return given
        }
        switch name {
        case "BOOLEAN", "BOOL": return .boolean
        case "TINYINT": return .tinyint
        case "SMALLINT": return .smallint
        case "INT", "INTEGER": return .integer
        case "BIGINT": return .bigint
        case "FLOAT", "REAL": return .float
        case "DOUBLE": return .double
        case "DECIMAL", "DEC", "NUMERIC":
            let precision = try parameter(0, default: 10, range: 1...38)
            let scale = try parameter(1, default: 0, range: 0...precision)
            return .decimal(precision: precision, scale: scale)
        case "CHAR", "CHARACTER": return .char(try parameter(0, default: 1, range: 1...maxLength))
        case "VARCHAR": return .varchar(try parameter(0, default: 1, range: 1...maxLength))
        case "STRING": return .varchar(maxLength)
        case "BINARY": return .binary(try parameter(0, default: 1, range: 1...maxLength))
        case "VARBINARY": return .varbinary(try parameter(0, default: 1, range: 1...maxLength))
        case "BYTES": return .varbinary(maxLength)
        case "DATE": return .date
        case "TIME": return .time(try parameter(0, default: 0, range: 0...9))
        case "TIMESTAMP": return .timestamp(try parameter(0, default: 6, range: 0...9))
        case "TIMESTAMP_LTZ": return .timestampLTZ(try parameter(0, default: 6, range: 0...9))
        case "NULL": return .null
        default: throw SQLError("Unknown type '\(name)'.")
        }
    }
}

// MARK: Type derivation

extension SQLType {
    /// The type both `a` and `b` convert to implicitly (for comparisons, CASE, COALESCE, UNION, IN), or nil.
    static func common(_ a: SQLType, _ b: SQLType) -> SQLType? {
        let nullable = a.nullable || b.nullable
        if a.isNull { return b.withNullable(true) }
        if b.isNull { return a.withNullable(true) }
        if a.kind == b.kind { return SQLType(a.kind, nullable: nullable) }
        if a.isNumeric && b.isNumeric { return SQLType(numericCommonKind(a, b), nullable: nullable) }
        if a.isCharacter && b.isCharacter {
            let (la, lb) = (a.length ?? 0, b.length ?? 0)
            // LogicalTypeMerging.findCommonType: CHARs of one length stay CHAR, different lengths become VARCHAR.
            if case .char = a.kind, case .char = b.kind, la == lb { return SQLType(.char(la), nullable: nullable) }
            return SQLType(.varchar(max(la, lb)), nullable: nullable)
        }
        if a.isBinary && b.isBinary { return SQLType(.varbinary(max(a.length ?? 0, b.length ?? 0)), nullable: nullable) }
        switch (a.kind, b.kind) {
        case (.timestamp(let p), .timestamp(let q)): return SQLType(.timestamp(max(p, q)), nullable: nullable)
        case (.timestampLTZ(let p), .timestampLTZ(let q)): return SQLType(.timestampLTZ(max(p, q)), nullable: nullable)
        case (.time(let p), .time(let q)): return SQLType(.time(max(p, q)), nullable: nullable)
        case (.date, .timestamp(let p)), (.timestamp(let p), .date): return SQLType(.timestamp(p), nullable: nullable)
        case (.array(let x), .array(let y)):
            guard let element = common(x, y) else { return nil }
            return SQLType(.array(element), nullable: nullable)
        case (.map(let k1, let v1), .map(let k2, let v2)):
            guard let key = common(k1, k2), let value = common(v1, v2) else { return nil }
            return SQLType(.map(key: key, value: value), nullable: nullable)
        default: return nil
        }
    }

    private static func numericCommonKind(_ a: SQLType, _ b: SQLType) -> Kind {
        if a.kind == .double || b.kind == .double { return .double }
        if a.kind == .float || b.kind == .float { return .float }
        if let ra = a.integerRank, let rb = b.integerRank { return ra >= rb ? a.kind : b.kind }
        let (pa, sa) = a.decimalShape!
        let (pb, sb) = b.decimalShape!
        let scale = max(sa, sb)
        let integerDigits = max(pa - sa, pb - sb)
        return .decimal(precision: min(38, integerDigits + scale), scale: scale)
    }

    /// The result type of `a op b` for `+ - * / %`, or nil when the operands are not numeric.
    static func arithmetic(_ op: String, _ a: SQLType, _ b: SQLType) -> SQLType? {
        let nullable = a.nullable || b.nullable
        guard a.isNumeric || a.isNull, b.isNumeric || b.isNull else { return nil }
        let left = a.isNull ? SQLType(.integer) : a
        let right = b.isNull ? SQLType(.integer) : b
        if left.isApproximate || right.isApproximate {
            return SQLType(numericCommonKind(left, right), nullable: nullable)
        }
        if let ra = left.integerRank, let rb = right.integerRank {
            if op == "%" { return SQLType(rb >= ra ? right.kind : right.kind, nullable: nullable) }
            return SQLType(ra >= rb ? left.kind : right.kind, nullable: nullable)
        }
        let (p1, s1) = left.decimalShape!
        let (p2, s2) = right.decimalShape!
        switch op {
        case "+", "-":
            let scale = max(s1, s2)
            return SQLType(decimalKind(max(p1 - s1, p2 - s2) + scale + 1, scale), nullable: nullable)
        case "*":
            return SQLType(decimalKind(p1 + p2 + 1, s1 + s2), nullable: nullable)
        case "/":
            let scale = max(6, s1 + p2 + 1)
            return SQLType(decimalKind(p1 - s1 + s2 + scale, scale), nullable: nullable)
        default:  // %
            let scale = max(s1, s2)
            return SQLType(decimalKind(min(p1 - s1, p2 - s2) + scale, scale), nullable: nullable)
        }
    }

    /// DECIMAL(p, s) with Flink's adjustment when the precision exceeds 38 (keep at least 6 scale digits).
    static func decimalKind(_ precision: Int, _ scale: Int) -> Kind {
        guard precision > 38 else { return .decimal(precision: max(1, precision), scale: scale) }
        let integerDigits = precision - scale
        let keptScale = max(min(scale, 6), 38 - integerDigits)
        return .decimal(precision: 38, scale: min(scale, keptScale))
    }

    /// Whether a value of type `from` may be CAST to `to`.
    static func canCast(_ from: SQLType, to: SQLType) -> Bool {
        if from.isNull || from.kind == to.kind { return true }
        switch (from.kind, to.kind) {
        case (_, .char), (_, .varchar): return true
        case (.char, _), (.varchar, _):
            switch to.kind {
            case .array, .map, .multiset, .row: return false
            default: return true
            }
        case (.boolean, _): return to.isNumeric
        case (_, .boolean): return from.isNumeric
        case (.date, .timestamp), (.date, .timestampLTZ), (.timestamp, .date), (.timestamp, .time), (.timestamp, .timestampLTZ),
            (.timestampLTZ, .timestamp), (.timestampLTZ, .date), (.timestampLTZ, .time), (.time, .time), (.timestamp, .timestamp),
            (.timestampLTZ, .timestampLTZ):
            return true
        case (.binary, .binary), (.binary, .varbinary), (.varbinary, .binary), (.varbinary, .varbinary): return true
        case (.array(let x), .array(let y)), (.multiset(let x), .multiset(let y)): return canCast(x, to: y)
        case (.map(let k1, let v1), .map(let k2, let v2)): return canCast(k1, to: k2) && canCast(v1, to: v2)
        case (.row(let a), .row(let b)): return a.count == b.count && zip(a, b).allSatisfy { canCast($0.type, to: $1.type) }
        default:
            if from.isNumeric && to.isNumeric { return true }
            if from.isExactNumeric && (to.kind == .timestamp(3) || { if case .timestampLTZ = to.kind { true } else { false } }()) { return true }
            return false
        }
    }
}
