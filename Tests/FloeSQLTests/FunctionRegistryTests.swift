// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@testable import FloeSQL

/// One example of a registry function, as a test argument.
struct RegistryExample: CustomTestStringConvertible, Sendable {
    let function: String
    let example: FunctionExample
    var testDescription: String { "\(function): \(example.query)" }

    static var all: [RegistryExample] {
        FunctionRegistry.builtIn.definitions.flatMap { definition in
            definition.examples.map { RegistryExample(function: definition.name, example: $0) }
        }
    }
}

/// The function registry is the one list of functions: every function in it binds and evaluates to the results its
/// examples give, SHOW FUNCTIONS lists exactly its names, and no function the engine runs is missing from it.
@Suite struct FunctionRegistryTests {
    let registry = FunctionRegistry.builtIn

    @Test(arguments: RegistryExample.all)
    func exampleEvaluates(_ case: RegistryExample) async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        for statement in `case`.example.setup { _ = try await fixture.run(statement) }
        let (_, changes) = try await fixture.run(`case`.example.query)
        #expect(Self.finalRows(changes) == `case`.example.result)
    }

    /// Every function has examples, and its examples call every one of its names (so that each alias is shown to bind).
    @Test func everyNameIsExercised() {
        for definition in registry.definitions {
            #expect(!definition.examples.isEmpty, "\(definition.name) has no examples")
            for name in definition.names {
                let called = definition.examples.contains { Self.calledNames($0.setup + [$0.query]).contains(name) }
                #expect(called, "no example of \(definition.name) calls \(name)")
            }
        }
    }

    @Test func showFunctionsListsTheRegistry() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let (traits, changes) = try await fixture.run("SHOW FUNCTIONS")
        #expect(traits.schema?.map(\.name) == ["function name"])
        let listed = changes.map { EngineText.value($0.row[0]) }
        #expect(listed == registry.names)
        #expect(listed.contains("OVERLAY") && listed.contains("POW") && listed.contains("ROW_NUMBER") && listed.contains("TUMBLE"))
        #expect(try await fixture.run("SHOW USER FUNCTIONS").1.isEmpty)
    }

    /// Every function a passing golden case calls is in the registry: nothing runs that SHOW FUNCTIONS does not list.
    @Test func goldenCallsAreRegistered() {
        var called = Set<String>()
        for golden in EngineGoldenFile.all where !golden.expected.hasPrefix("error:") {
            called.formUnion(Self.calledNames(golden.statements))
        }
        let unregistered = called.filter { registry[$0] == nil }.sorted()
        #expect(unregistered.isEmpty, "called but not registered: \(unregistered)")
        #expect(called.count >= 60)
    }

    @Test func unknownFunctionsAndWrongArgumentsAreReportedAsFlinkDoes() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        func message(_ sql: String) async -> String? {
            do {
                _ = try await fixture.run(sql)
                return nil
            } catch {
                return (error as? SQLError)?.message
            }
        }
        #expect(await message("SELECT FOO(1)") == "No match found for function signature FOO(<NUMERIC>)")
        #expect(
            await message("SELECT ABS('abc')")
                == "Cannot apply 'ABS' to arguments of type 'ABS(<CHAR(3) NOT NULL>)'. Supported form(s): 'ABS(<NUMERIC>)'")
        #expect(
            await message("SELECT * FROM (VALUES (1)) AS a(x) JOIN (VALUES (1)) AS b(y) ON SUM(a.x) = b.y")
                == "Aggregate function SUM is not allowed here")
        #expect(await message("SELECT ROW_NUMBER()") == "OVER clause is necessary for window functions")
    }

    /// The result rows after the changes, each as its values joined by ", ", joined by "; " (in order of arrival).
    static func finalRows(_ changes: [ResultChange]) -> String {
        var rows: [String] = []
        for change in changes {
            let row = change.row.map(EngineText.value).joined(separator: ", ")
            switch change.kind {
            case .insert, .updateAfter: rows.append(row)
            case .updateBefore, .delete: if let index = rows.firstIndex(of: row) { rows.remove(at: index) }
            }
        }
        return rows.joined(separator: "; ")
    }

    /// The names called in SQL text: words followed by `(`, less the grammar that also takes parentheses (type
    /// parameters, column lists, clauses), and the bare-word niladic functions.
    static func calledNames(_ statements: [String]) -> Set<String> {
        let grammar: Set<String> = [
            "VALUES", "IN", "EXISTS", "OVER", "FILTER", "TABLE", "DESCRIPTOR", "ROW", "KEY", "WITH", "AS", "ON", "USING", "AND", "OR",
            "NOT", "DECIMAL", "DEC", "NUMERIC", "VARCHAR", "CHAR", "STRING", "TIMESTAMP", "TIMESTAMP_LTZ", "TIME", "BINARY", "VARBINARY",
            "BYTES", "ARRAY", "MAP", "MULTISET", "INTERVAL", "FROM", "SELECT", "WHERE",
            "PARTITION", "BY", "LIKE", "INTO", "UNNEST", "LATERAL", "JOIN", "ADD", "SET", "RESET", "VARYING", "HASH",
        ]
        var names = Set<String>()
        for statement in statements {
            guard let tokens = try? Lexer.tokenize(statement) else { continue }
            for (index, token) in tokens.enumerated() where token.kind == .word {
                let word = token.text.uppercased()
                if FunctionRegistry.builtIn[word]?.isNiladic == true { names.insert(word) }
                guard index + 1 < tokens.count, tokens[index + 1].kind == .symbol, tokens[index + 1].text == "(" else { continue }
                // `t(a, b)` after AS, INTO, TABLE, VIEW, JOIN, … names columns; `x.f(` is no call.
                if index > 0 {
                    let previous = tokens[index - 1]
                    if previous.kind == .word,
                        ["AS", "INTO", "TABLE", "VIEW", "JOIN", "FROM", "EXISTS", "KEY", "WITH"].contains(previous.text.uppercased())
                    {
                        continue
                    }
                    if previous.kind == .symbol, previous.text == "." { continue }
                }
                if !grammar.contains(word) { names.insert(word) }
            }
        }
        return names
    }
}
