// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A row-at-a-time implementation of a scalar function, over boxed argument values (used off the hot path only:
/// arithmetic, comparisons, logic and numeric casts are compiled to typed column loops).
typealias RowFunction = @Sendable ([Value]) throws(SQLError) -> Value

/// How a function call is evaluated, as its definition chose when binding it. The compiler compiles either form
/// without knowing which function it is.
enum FunctionImplementation: Sendable {
    /// A row at a time over boxed values; `strict` on the node skips rows with a NULL argument.
    case row(RowFunction)
    /// A column loop built once from the compiled arguments (DATE_FORMAT of a TIMESTAMP, CURRENT_WATERMARK): for the
    /// functions that are worth a typed kernel or need what only the compiler has (the stage's watermark).
    case kernel(@Sendable (_ arguments: [CompiledExpression], _ context: KernelContext) -> CompiledExpression)
}

/// What the compiler gives a function's kernel.
struct KernelContext {
    var caster: Caster
    /// Where the stage evaluating the expression keeps its watermark (nil without one).
    var watermark: WatermarkCell?
}

/// Arithmetic operators.
enum ArithmeticOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
}

/// Comparison operators.
enum ComparisonOperator: String, Sendable {
    case equal = "=", notEqual = "<>", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

    /// Whether a three-way comparison result satisfies the operator.
    @inline(__always) func holds(_ order: Int) -> Bool {
        switch self {
        case .equal: order == 0
        case .notEqual: order != 0
        case .less: order < 0
        case .lessOrEqual: order <= 0
        case .greater: order > 0
        case .greaterOrEqual: order >= 0
        }
    }
}

/// A resolved, type-checked scalar expression over the columns of its input.
struct BoundExpression: Sendable {
    indirect enum Node: Sendable {
        case literal(Value)
        case column(Int)
        /// Both operands already of the result type.
        case arithmetic(ArithmeticOperator, BoundExpression, BoundExpression)
        case negate(BoundExpression)
        /// Both operands already of one common type.
        case compare(ComparisonOperator, BoundExpression, BoundExpression)
        case and([BoundExpression])
        case or([BoundExpression])
        case not(BoundExpression)
        case isNull(BoundExpression, negated: Bool)
        /// A conversion to this expression's type; `isTry` yields NULL instead of failing.
        case cast(BoundExpression, isTry: Bool)
        /// Conditions and results, results already of this expression's type.
        case caseWhen([(condition: BoundExpression, result: BoundExpression)], otherwise: BoundExpression?)
        /// A function call; `strict` means a NULL argument gives NULL without calling a row implementation.
        case function(name: String, arguments: [BoundExpression], strict: Bool, implementation: FunctionImplementation)
    }

    var node: Node
    var type: SQLType

    init(_ node: Node, _ type: SQLType) {
        self.node = node
        self.type = type
    }

    static func literal(_ value: Value, _ type: SQLType) -> BoundExpression { BoundExpression(.literal(value), type) }

    /// The constant value, when this is a literal.
    var constant: Value? { if case .literal(let v) = node { v } else { nil } }

    /// Whether the expression depends on no column.
    var isConstant: Bool {
        switch node {
        case .literal: true
        case .column: false
        case .arithmetic(_, let a, let b), .compare(_, let a, let b): a.isConstant && b.isConstant
        case .negate(let a), .not(let a), .isNull(let a, _), .cast(let a, _): a.isConstant
        case .and(let parts), .or(let parts): parts.allSatisfy(\.isConstant)
        case .caseWhen(let branches, let otherwise):
            branches.allSatisfy { $0.condition.isConstant && $0.result.isConstant } && (otherwise?.isConstant ?? true)
        case .function(let name, let arguments, _, _): !Self.volatileFunctions.contains(name) && arguments.allSatisfy(\.isConstant)
        }
    }

    /// Adds the input columns the expression reads to `columns`.
    func collectColumns(into columns: inout Set<Int>) {
        switch node {
        case .literal: break
        case .column(let index): columns.insert(index)
        case .arithmetic(_, let a, let b), .compare(_, let a, let b):
            a.collectColumns(into: &columns)
            b.collectColumns(into: &columns)
        case .negate(let a), .not(let a), .isNull(let a, _), .cast(let a, _): a.collectColumns(into: &columns)
        case .and(let parts), .or(let parts): for part in parts { part.collectColumns(into: &columns) }
        case .caseWhen(let branches, let otherwise):
            for branch in branches {
                branch.condition.collectColumns(into: &columns)
                branch.result.collectColumns(into: &columns)
            }
            otherwise?.collectColumns(into: &columns)
        case .function(_, let arguments, _, _): for argument in arguments { argument.collectColumns(into: &columns) }
        }
    }

    /// The functions whose value changes between calls (RAND, NOW, CURRENT_WATERMARK, …), as their definitions say.
    static let volatileFunctions: Set<String> = FunctionRegistry.builtIn.volatileNames

    /// The input column when this is a bare column reference.
    var columnIndex: Int? { if case .column(let i) = node { i } else { nil } }

    /// This expression converted to `target` (itself when it already has that type).
    func casted(to target: SQLType) -> BoundExpression {
        if type == target { return self }
        if type.kind == target.kind { return BoundExpression(node, target) }
        if case .literal(.null) = node { return .literal(.null, target) }
        return BoundExpression(.cast(self, isTry: false), target)
    }
}

// MARK: Column references

extension BoundExpression {
    /// The input columns the expression reads.
    var referencedColumns: Set<Int> {
        var columns = Set<Int>()
        visitColumns { columns.insert($0) }
        return columns
    }

    private func visitColumns(_ visit: (Int) -> Void) {
        switch node {
        case .literal: break
        case .column(let index): visit(index)
        case .arithmetic(_, let a, let b), .compare(_, let a, let b):
            a.visitColumns(visit)
            b.visitColumns(visit)
        case .negate(let a), .not(let a), .isNull(let a, _), .cast(let a, _): a.visitColumns(visit)
        case .and(let parts), .or(let parts): for part in parts { part.visitColumns(visit) }
        case .caseWhen(let branches, let otherwise):
            for branch in branches {
                branch.condition.visitColumns(visit)
                branch.result.visitColumns(visit)
            }
            otherwise?.visitColumns(visit)
        case .function(_, let arguments, _, _): for argument in arguments { argument.visitColumns(visit) }
        }
    }

    /// The expression with every column reference `i` replaced by `i + offset`.
    func shiftingColumns(by offset: Int) -> BoundExpression {
        func shift(_ e: BoundExpression) -> BoundExpression { e.shiftingColumns(by: offset) }
        let shifted: Node
        switch node {
        case .literal: return self
        case .column(let index): shifted = .column(index + offset)
        case .arithmetic(let op, let a, let b): shifted = .arithmetic(op, shift(a), shift(b))
        case .compare(let op, let a, let b): shifted = .compare(op, shift(a), shift(b))
        case .negate(let a): shifted = .negate(shift(a))
        case .not(let a): shifted = .not(shift(a))
        case .isNull(let a, let negated): shifted = .isNull(shift(a), negated: negated)
        case .cast(let a, let isTry): shifted = .cast(shift(a), isTry: isTry)
        case .and(let parts): shifted = .and(parts.map(shift))
        case .or(let parts): shifted = .or(parts.map(shift))
        case .caseWhen(let branches, let otherwise):
            shifted = .caseWhen(branches.map { (shift($0.condition), shift($0.result)) }, otherwise: otherwise.map(shift))
        case .function(let name, let arguments, let strict, let implementation):
            shifted = .function(name: name, arguments: arguments.map(shift), strict: strict, implementation: implementation)
        }
        return BoundExpression(shifted, type)
    }

    /// Whether the expression calls a function anywhere (a `.function` node).
    var callsFunction: Bool {
        switch node {
        case .literal, .column: return false
        case .arithmetic(_, let a, let b), .compare(_, let a, let b): return a.callsFunction || b.callsFunction
        case .negate(let a), .not(let a), .isNull(let a, _), .cast(let a, _): return a.callsFunction
        case .and(let parts), .or(let parts): return parts.contains(where: \.callsFunction)
        case .caseWhen(let branches, let otherwise):
            return branches.contains { $0.condition.callsFunction || $0.result.callsFunction } || (otherwise?.callsFunction ?? false)
        case .function: return true
        }
    }

    /// Whether the expression calls a function whose value changes between calls (RAND, NOW, …).
    var isVolatile: Bool { isVolatile(ignoring: []) }

    /// ``isVolatile``, not counting the functions in `ignored`.
    func isVolatile(ignoring ignored: Set<String>) -> Bool {
        func volatile(_ e: BoundExpression) -> Bool { e.isVolatile(ignoring: ignored) }
        switch node {
        case .literal, .column: return false
        case .arithmetic(_, let a, let b), .compare(_, let a, let b): return volatile(a) || volatile(b)
        case .negate(let a), .not(let a), .isNull(let a, _), .cast(let a, _): return volatile(a)
        case .and(let parts), .or(let parts): return parts.contains(where: volatile)
        case .caseWhen(let branches, let otherwise):
            return branches.contains { volatile($0.condition) || volatile($0.result) } || (otherwise.map(volatile) ?? false)
        case .function(let name, let arguments, _, _):
            return (Self.volatileFunctions.contains(name) && !ignored.contains(name)) || arguments.contains(where: volatile)
        }
    }

    /// The AND-ed parts of a condition.
    var conjuncts: [BoundExpression] {
        if case .and(let parts) = node { return parts.flatMap(\.conjuncts) }
        return [self]
    }

    /// The conjunction of `parts` (nil for none).
    static func conjunction(_ parts: [BoundExpression]) -> BoundExpression? {
        switch parts.count {
        case 0: nil
        case 1: parts[0]
        default: BoundExpression(.and(parts), SQLType(.boolean, nullable: parts.contains { $0.type.nullable }))
        }
    }
}
