// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

// The engine's public face: everything the execution backend (and nothing else) uses. The engine knows nothing of
// HTTP, statements' phases or the store; it turns SQL text plus a session context into traits, a schema and a
// changelog, and it owns the catalog and the table logs under its directory.

/// One catalog the engine can address: a Floe environment, by id and by display name.
public struct CatalogIdentity: Sendable, Equatable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// A catalog a statement may use, and what it may do with it.
public struct CatalogGrant: Sendable, Equatable {
    public var catalog: CatalogIdentity
    public var access: CatalogAccess

    public init(_ catalog: CatalogIdentity, _ access: CatalogAccess) {
        self.catalog = catalog
        self.access = access
    }
}

/// Where and how a statement's SQL is interpreted.
public struct SessionContext: Sendable {
    /// The catalog of the statement's own environment (its default catalog).
    public var catalog: CatalogIdentity
    /// The catalogs the statement may use, its own among them only if it may use it, and what it may do in each.
    /// Every other catalog does not exist for the statement: no name reaches it and no listing shows it.
    public var grants: [CatalogGrant]
    /// The statement's properties (`sql.current-catalog`, `sql.current-database`, `sql.local-time-zone`,
    /// `sql.snapshot.mode`, …), values already as strings.
    public var properties: [String: String]
    /// A stable identity of the statement (e.g. its uid). INSERT INTO, CREATE TABLE AS and statement sets key their
    /// sink offsets by it, so a re-run after a restart appends only the rows it had not appended yet. Without it,
    /// every run appends everything.
    public var statementID: String?
    /// The Kafka clusters attached to the environments the statement may use (PROVISIONED ones): each is a database of
    /// its catalog, besides the catalog's embedded databases.
    public var kafkaDatabases: [KafkaDatabase]

    /// The catalogs the statement may use (INFORMATION_SCHEMA.CATALOGS lists these).
    var grantedCatalogs: [CatalogIdentity] { grants.filter { !$0.access.isEmpty }.map(\.catalog) }

    /// Every catalog names can reach: the granted ones and Confluent's read-only `examples`.
    var visibleCatalogs: [CatalogIdentity] {
        var all = grantedCatalogs
        if !all.contains(where: { $0.name == ExampleCatalog.identity.name }) { all.append(ExampleCatalog.identity) }
        return all
    }

    /// What the statement may do with `catalog`. `examples` is every statement's; it refuses changes itself (its
    /// tables are generated and the catalog store keeps it read-only), with messages that say so.
    func access(to catalog: CatalogIdentity) -> CatalogAccess {
        if catalog.id == ExampleCatalog.identity.id { return .all }
        return grants.first { $0.catalog.id == catalog.id }?.access ?? []
    }

    public init(
        catalog: CatalogIdentity, grants: [CatalogGrant], properties: [String: String], statementID: String? = nil,
        kafkaDatabases: [KafkaDatabase] = []
    ) {
        self.catalog = catalog
        self.grants = grants
        self.properties = properties
        self.statementID = statementID
        self.kafkaDatabases = kafkaDatabases
    }

    /// The Kafka databases of `catalog`.
    func kafkaDatabases(of catalog: CatalogIdentity) -> [KafkaDatabase] { kafkaDatabases.filter { $0.catalogID == catalog.id } }

    /// A session that may do everything with `catalogs` and its own catalog: for the engine's tests and benchmarks,
    /// which run no principal's statements. The server always passes the statement's grants.
    public static func unrestricted(
        catalog: CatalogIdentity, catalogs: [CatalogIdentity], properties: [String: String], statementID: String? = nil
    ) -> SessionContext {
        let all = catalogs.contains(catalog) ? catalogs : [catalog] + catalogs
        return SessionContext(catalog: catalog, grants: all.map { CatalogGrant($0, .all) }, properties: properties, statementID: statementID)
    }
}

/// A Flink data type as the statement's schema reports it (`status.traits.schema.columns[].type`).
public indirect enum SchemaType: Sendable, Equatable {
    /// A type without children: `root` is the LogicalTypeRoot spelling (`INTEGER`, `VARCHAR`,
    /// `TIMESTAMP_WITHOUT_TIME_ZONE`, …) with the parameters that root carries.
    case scalar(root: String, nullable: Bool, length: Int? = nil, precision: Int? = nil, scale: Int? = nil)
    case array(element: SchemaType, nullable: Bool)
    case multiset(element: SchemaType, nullable: Bool)
    case map(key: SchemaType, value: SchemaType, nullable: Bool)
    case row(fields: [(name: String, type: SchemaType)], nullable: Bool)

    public static func == (lhs: SchemaType, rhs: SchemaType) -> Bool { lhs.json == rhs.json }

    /// The wire form: `{"type": …, "nullable": …, "length"|"precision"|"scale"|"element_type"|… }`.
    public var json: JSONValue {
        switch self {
        case .scalar(let root, let nullable, let length, let precision, let scale):
            var members: [(String, JSONValue)] = [("type", .string(root)), ("nullable", .bool(nullable))]
            if let length { members.append(("length", .int(Int64(length)))) }
            if let precision { members.append(("precision", .int(Int64(precision)))) }
            if let scale { members.append(("scale", .int(Int64(scale)))) }
            return .object(members)
        case .array(let element, let nullable):
            return .object([("type", .string("ARRAY")), ("nullable", .bool(nullable)), ("element_type", element.json)])
        case .multiset(let element, let nullable):
            return .object([
                ("type", .string("MULTISET")), ("nullable", .bool(nullable)), ("element_type", element.json),
            ])
        case .map(let key, let value, let nullable):
            return .object([
                ("type", .string("MAP")), ("nullable", .bool(nullable)), ("key_type", key.json),
                ("value_type", value.json),
            ])
        case .row(let fields, let nullable):
            return .object([
                ("type", .string("ROW")), ("nullable", .bool(nullable)),
                ("fields", .array(fields.map { .object([("name", .string($0.name)), ("field_type", $0.type.json)]) })),
            ])
        }
    }
}

/// One column of a statement's result schema.
public struct SchemaColumn: Sendable, Equatable {
    public var name: String
    public var type: SchemaType

    public init(name: String, type: SchemaType) {
        self.name = name
        self.type = type
    }
}

/// What the analysis of a statement tells before it runs (`status.traits`).
public struct StatementTraits: Sendable, Equatable {
    /// `SELECT`, `CREATE_TABLE`, `INSERT_INTO`, `SHOW_TABLES`, … (Confluent's spelling).
    public var sqlKind: String
    public var isBounded: Bool
    public var isAppendOnly: Bool
    /// Positions of the upsert key columns of an updating result, when it has one.
    public var upsertColumns: [Int]?
    /// The result columns; `nil` for statements without a result (DDL, INSERT).
    public var schema: [SchemaColumn]?

    public init(
        sqlKind: String, isBounded: Bool, isAppendOnly: Bool, upsertColumns: [Int]? = nil,
        schema: [SchemaColumn]? = nil
    ) {
        self.sqlKind = sqlKind
        self.isBounded = isBounded
        self.isAppendOnly = isAppendOnly
        self.upsertColumns = upsertColumns
        self.schema = schema
    }

    /// Whether a stopped statement of this kind may be resumed (CREATE TABLE AS, INSERT INTO, statement sets).
    public var isResumable: Bool {
        ["CREATE_TABLE_AS", "INSERT_INTO", "EXECUTE_STATEMENT_SET"].contains(sqlKind)
    }
}

/// The kind of a change in a changelog, numbered as the results API numbers `op`.
public enum RowKind: Int, Sendable, Equatable {
    case insert = 0
    case updateBefore = 1
    case updateAfter = 2
    case delete = 3
}

/// One change of a statement's result: the kind and the row, encoded as the results API encodes rows
/// (every scalar a JSON string, NULL as `null`, ARRAY/MAP/ROW nested).
public struct ResultChange: Sendable, Equatable {
    public var kind: RowKind
    public var row: [JSONValue]

    public init(kind: RowKind, row: [JSONValue]) {
        self.kind = kind
        self.row = row
    }
}

/// A SQL error as a user sees it: what kind of mistake it is, where in the text, and the reason in Flink's words.
///
/// `message` is the reason alone; `description` is the whole text a user reads in `status.detail`, worded as Flink
/// words it: `SQL parse failed. Encountered "FORM" at line 1, column 10.` or `SQL validation failed. From line 2,
/// column 3 to line 2, column 8: Column 'produt' not found in any table`.
public struct SQLError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The text is not Flink SQL (Flink's `SqlParserException`).
        case parse
        /// Well-formed SQL that does not fit the catalog, the types or the rules of a clause (`ValidationException`).
        case validation
        /// Valid SQL that this engine does not run (`TableException`).
        case unsupported
        /// A valid statement that failed while it ran: bad data, a full disk, a broken file (a failed job).
        case runtime
    }

    public var kind: Kind
    /// The reason alone, without the prefix and position of `description`.
    public var message: String
    /// Where in the statement's text the mistake is, when it is somewhere in particular.
    public var span: SourceSpan?
    /// Whether the statement is refused for one of ``SQLLimits`` (how deep it nests, how much it expands) rather than
    /// for what it says.
    public var exceedsLimit: Bool

    public init(_ message: String, kind: Kind = .validation, at span: SourceSpan? = nil, exceedsLimit: Bool = false) {
        self.kind = kind
        self.message = message
        self.span = span
        self.exceedsLimit = exceedsLimit
    }

    /// A statement's text that does not parse.
    public init(_ syntax: SQLSyntaxError) {
        self.init(syntax.flinkMessage, kind: .parse, at: SourceSpan(syntax.position, syntax.position), exceedsLimit: syntax.exceedsLimit)
    }

    /// Valid SQL that Floe does not run.
    public static func unsupported(_ message: String, at span: SourceSpan? = nil) -> SQLError {
        SQLError(message, kind: .unsupported, at: span)
    }

    /// A statement that failed while running.
    public static func runtime(_ message: String) -> SQLError { SQLError(message, kind: .runtime) }

    /// A statement whose tree, or whose queries with their views expanded, nest deeper than ``SQLLimits/nestingDepth``.
    static var tooDeeplyNested: SQLError { SQLError(SQLLimits.tooDeeplyNested, exceedsLimit: true) }

    /// The same error pointing at `span`, unless it points somewhere already: errors are located on their way out of
    /// the analysis, so the innermost written node that holds the mistake wins.
    /// `span` is computed only when it is needed: finding an expression's extent may walk its tree.
    func located(_ span: @autoclosure () -> SourceSpan?) -> SQLError {
        guard self.span == nil, kind != .runtime, let span = span() else { return self }
        var located = self
        located.span = span
        return located
    }

    /// The same error with no position: for a mistake inside a view's stored text, whose positions mean nothing in
    /// the statement that uses the view.
    var unlocated: SQLError {
        var copy = self
        copy.span = nil
        return copy
    }

    /// The name of the Flink exception class for this kind of error, as the statement's exceptions list shows it.
    public var exceptionName: String {
        switch kind {
        case .parse: "org.apache.flink.table.api.SqlParserException"
        case .validation: "org.apache.flink.table.api.ValidationException"
        case .unsupported: "org.apache.flink.table.api.TableException"
        case .runtime: "org.apache.flink.runtime.JobException"
        }
    }

    public var description: String {
        switch kind {
        case .parse: "SQL parse failed. \(message)"
        // Flink prefixes what its SQL validator finds, which always points somewhere in the text; what the planner or
        // the catalog finds later (a sink that does not fit, a table that exists already) carries neither.
        case .validation: span.map { "SQL validation failed. \($0): \(message)" } ?? message
        case .unsupported, .runtime: message
        }
    }
}

/// Receives a running statement's result changes, in order, a batch at a time. Delivery is the engine's
/// back-pressure point: `deliver` returns once the batch is durable.
public protocol ResultReceiver: Sendable {
    func deliver(_ changes: [ResultChange]) async throws
    /// Called when an unbounded statement has processed every row its tables hold so far, delivered (or, for an
    /// INSERT, written) what they produce, and waits for more input.
    func caughtUp() async
}

extension ResultReceiver {
    public func caughtUp() async {}
}

/// A statement analyzed and planned against the catalog, ready to run.
public protocol PreparedStatement: Sendable {
    var traits: StatementTraits { get }

    /// Runs the statement until it can produce nothing more (bounded) or until the task is cancelled
    /// (unbounded); result changes go to `receiver`. `skippingFirst` changes are recomputed but not delivered:
    /// they were delivered before a restart. DDL takes effect here, not at preparation.
    func run(deliveringTo receiver: any ResultReceiver, skippingFirst: Int) async throws
}

/// The embedded engine: owns the catalogs (environment → databases → tables and views) and the table logs
/// under its directory.
public protocol SQLEngine: Sendable {
    /// Parses and analyzes `sql`; throws `SQLError` for anything the user got wrong. Nothing is executed.
    func prepare(_ sql: String, in context: SessionContext) async throws -> any PreparedStatement

    /// What a Flink SQL Gateway session must declare to run `sql` with the names it has here: the tables, views,
    /// catalogs and databases it names (``FlinkDeclarations``). Analyzes the statement as ``prepare(_:in:)`` does.
    /// - Throws: `SQLError` for a statement that does not prepare, or that names what a Flink cluster cannot reach.
    func flinkDeclarations(_ sql: String, in context: SessionContext) async throws -> FlinkDeclarations

    /// Forgets a catalog and everything in it (its environment was deleted).
    func dropCatalog(id: String) async throws

    /// What the latest checkpoints of a statement (by its `SessionContext.statementID`) say; nil before its first.
    func checkpointSummary(statementID: String) -> CheckpointSummary?

    /// Deletes a statement's checkpoints (the statement was deleted).
    func discardCheckpoints(statementID: String)

    /// The statements that have checkpoints.
    func checkpointedStatementIDs() -> Set<String>
}
