// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The one list of the functions Floe implements. Each function is defined once, in the file of its family
/// (`StringFunctions`, `NumericFunctions`, …), with its names, kind, signature, binding and examples; `SHOW FUNCTIONS`
/// lists the registry's names, the binder resolves calls through it and the compiler compiles what its bindings
/// produce, so a function cannot be listed without working or work without being listed.
struct FunctionRegistry: Sendable {
    /// Every definition, by name.
    let definitions: [FunctionDefinition]
    private let byName: [String: FunctionDefinition]

    init(_ definitions: [FunctionDefinition]) {
        var byName: [String: FunctionDefinition] = [:]
        for definition in definitions {
            for name in definition.names {
                precondition(byName[name] == nil, "The function \(name) is defined twice.")
                byName[name] = definition
            }
        }
        self.definitions = definitions.sorted { $0.name < $1.name }
        self.byName = byName
    }

    /// The built-in functions.
    static let builtIn = FunctionRegistry(
        StringFunctions.definitions + NumericFunctions.definitions + TemporalFunctions.definitions
            + ConditionalFunctions.definitions + CollectionFunctions.definitions + ConversionFunctions.definitions
            + AggregateFunctions.definitions + OverFunctions.definitions + TableValuedFunctions.definitions)

    /// The definition called `name` (upper case), under its name or an alias.
    subscript(name: String) -> FunctionDefinition? { byName[name] }

    /// Every name a call may use, sorted: what `SHOW FUNCTIONS` lists.
    var names: [String] { byName.keys.sorted() }

    /// The names of the functions of one kind, aliases included.
    func names(of kind: FunctionDefinition.Kind) -> Set<String> { Set(byName.filter { $0.value.kind == kind }.keys) }

    /// The names of the functions whose value changes from one call to the next (RAND, NOW, …), aliases included.
    var volatileNames: Set<String> { Set(byName.filter { $0.value.isVolatile }.keys) }

    /// The names of the functions whose calls are determined by their spelling, aliases included.
    var spelledWholeNames: Set<String> { Set(byName.filter { $0.value.isSpelledWhole }.keys) }
}

/// One function: its names, what kind it is, the operand forms it takes, how a call is bound and examples of calls
/// with their results (which the tests run, so the examples are also the proof that the function works).
struct FunctionDefinition: Sendable {
    enum Kind: String, Sendable {
        case scalar, aggregate, window, tableValued
    }

    /// How a call of the function becomes part of a plan.
    enum Binding: Sendable {
        /// A scalar function, bound here from its arguments into an expression (with its implementation).
        case scalar(@Sendable (ScalarCall) throws(SQLError) -> BoundExpression)
        /// An aggregate function, bound by the analyzer's aggregation into an `AggregateCall` the aggregate stages run.
        case aggregate(AggregateFunction)
        /// `ROW_NUMBER() OVER (…)`, bound by the analyzer into a rank node.
        case rowNumber
        /// A window table function (`TABLE(TUMBLE(…))`) with its parameter names, the last one optional, bound by the
        /// analyzer into a window node.
        case windowTable(parameters: [String])
        /// A function with a grammar of its own (`CAST(x AS type)`), which the parser turns into an expression node
        /// the binder binds.
        case syntax
    }

    /// The name, upper case.
    let name: String
    /// Other names of the same function (`POW` for `POWER`).
    var aliases: [String] = []
    /// The operand forms in Calcite's notation (`<CHARACTER>, <INTEGER>[, <INTEGER>]`), as type errors quote them.
    let signature: String
    let binding: Binding
    /// The position of an argument written as a bare time unit (`TIMESTAMPADD(HOUR, …)`, `FLOOR(ts TO DAY)`): when it
    /// names a unit there, it is passed as ``ScalarCall/unit`` rather than bound as an expression.
    var unitArgument: Int?
    /// Whether the function may be written without parentheses (`CURRENT_TIMESTAMP`).
    var isNiladic = false
    /// Whether its value changes from one call to the next: such calls are neither folded nor shared.
    var isVolatile = false
    /// Whether a call's result follows from what `String(reflecting:)` spells of it (the name, the argument expressions
    /// and their types), so that plan subtrees spelled alike may be computed once (`Dataflow.subplanKey`). Not so for
    /// bindings that capture more than their arguments show (EXTRACT's unit, a ROW field's position).
    var isSpelledWhole = false
    /// Calls with their results, as rendered in a result row (`NULL` for NULL).
    let examples: [FunctionExample]

    var kind: Kind {
        switch binding {
        case .scalar, .syntax: .scalar
        case .aggregate: .aggregate
        case .rowNumber: .window
        case .windowTable: .tableValued
        }
    }

    /// The name and the aliases.
    var names: [String] { [name] + aliases }
}

/// A call of a function with its result: after the `setup` statements, `query` gives rows whose values, rendered as
/// in a result (`NULL`, `TRUE`, `2024-03-05`), joined by ", " within a row and by "; " between rows, are `result`.
struct FunctionExample: Sendable {
    var setup: [String] = []
    let query: String
    let result: String

    /// `SELECT expression`.
    init(_ expression: String, _ result: String) {
        query = "SELECT " + expression
        self.result = result
    }

    init(setup: [String] = [], query: String, _ result: String) {
        self.setup = setup
        self.query = query
        self.result = result
    }
}

/// A call of a scalar function being bound: the bound arguments and what the binding needs around them.
struct ScalarCall {
    /// The name the call used (an alias stays an alias in error messages).
    let name: String
    let arguments: [BoundExpression]
    /// The arguments as written, for the functions that read one as a keyword.
    let raw: [Expression]
    /// The time unit written as a bare argument (see ``FunctionDefinition/unitArgument``).
    let unit: String?
    /// For each argument written as a column name, that column of the scope (to check for a time attribute).
    let argumentFields: [PlanField?]
    let signature: String
    let library: FunctionLibrary

    var caster: Caster { library.caster }
    var zone: TimeZone { library.zone }

    /// The type error Flink reports for these arguments, quoting `form` (by default the definition's signature).
    func mismatch(_ form: String? = nil) -> SQLError { FunctionLibrary.mismatch(name, arguments, expected: form ?? signature) }

    func expectCount(_ range: ClosedRange<Int>, _ form: String? = nil) throws(SQLError) {
        guard range.contains(arguments.count) else { throw mismatch(form) }
    }

    func requireCharacter(_ index: Int, _ form: String? = nil) throws(SQLError) {
        guard arguments[index].type.isCharacter || arguments[index].type.isNull else { throw mismatch(form) }
    }

    func requireNumeric(_ index: Int, _ form: String? = nil) throws(SQLError) {
        guard arguments[index].type.isNumeric || arguments[index].type.isNull else { throw mismatch(form) }
    }

    func requireInteger(_ index: Int, _ form: String? = nil) throws(SQLError) {
        guard arguments[index].type.isInteger || arguments[index].type.isNull else { throw mismatch(form) }
    }

    /// The call evaluated a row at a time by `body` over `arguments` (by default the call's), of `type` made nullable
    /// when `strict` and an argument is.
    func function(_ type: SQLType, arguments: [BoundExpression]? = nil, strict: Bool = true, _ body: @escaping RowFunction) -> BoundExpression {
        FunctionLibrary.function(name, arguments ?? self.arguments, type, strict: strict, body)
    }

    /// The call compiled by `kernel` into a column loop over `arguments` (by default the call's), of `type` made
    /// nullable when `strict` and an argument is.
    func kernel(
        _ type: SQLType, arguments: [BoundExpression]? = nil, strict: Bool = true,
        _ kernel: @escaping @Sendable ([CompiledExpression], KernelContext) -> CompiledExpression
    ) -> BoundExpression {
        let arguments = arguments ?? self.arguments
        let nullable = strict ? arguments.contains { $0.type.nullable } || type.nullable : type.nullable
        return BoundExpression(
            .function(name: name, arguments: arguments, strict: strict, implementation: .kernel(kernel)), type.withNullable(nullable))
    }
}
