// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSQL
import Foundation
import Testing

/// One engine golden case: setup statements, the statement under test, properties, and the expected outcome.
///
/// File format: `-- name` starts a case. Lines `@key=value` set statement properties (`@snapshot` is
/// `sql.snapshot.mode=now`). SQL statements follow, each ending with `;` at the end of a line; the last one is
/// under test (setup statements run with the same properties and must succeed). `==>` starts the expected text:
/// the traits line, the schema line and one line per change, or `error: message`.
struct EngineGoldenCase: CustomTestStringConvertible, Sendable {
    var name: String
    var properties: [String: String] = [:]
    var statements: [String] = []
    var expected: String = ""
    var testDescription: String { name }
}

enum EngineGoldenFile {
    static let files = [
        "engine-expressions.sqltest", "engine-queries.sqltest", "engine-catalog.sqltest", "engine-errors.sqltest", "engine-statements.sqltest",
        "engine-types.sqltest", "engine-functions.sqltest", "engine-datagen.sqltest", "engine-windows.sqltest", "engine-joins.sqltest",
        "engine-rank.sqltest", "engine-over.sqltest", "engine-changelog.sqltest", "engine-examples.sqltest",
    ]

    static func cases(_ file: String) -> [EngineGoldenCase] {
        guard let text = try? String(contentsOf: GoldenFile.url(file), encoding: .utf8) else { return [] }
        return parse(text)
    }

    static var all: [EngineGoldenCase] { files.flatMap(cases) }

    static func parse(_ text: String) -> [EngineGoldenCase] {
        var cases: [EngineGoldenCase] = []
        var current: EngineGoldenCase?
        var sql = ""
        var inExpected = false
        func finish() {
            guard var done = current else { return }
            let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { done.statements.append(trimmed) }
            done.expected = done.expected.trimmingCharacters(in: .whitespacesAndNewlines)
            cases.append(done)
            current = nil
            sql = ""
            inExpected = false
        }
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("-- "), current == nil || inExpected {
                finish()
                current = EngineGoldenCase(name: String(line.dropFirst(3)))
            } else if current == nil {
                continue
            } else if line.hasPrefix("==>") {
                let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { current!.statements.append(trimmed) }
                sql = ""
                inExpected = true
            } else if inExpected {
                current!.expected += line + "\n"
            } else if line.hasPrefix("@") {
                let setting = line.dropFirst()
                if setting == "snapshot" {
                    current!.properties["sql.snapshot.mode"] = "now"
                } else if let equals = setting.firstIndex(of: "=") {
                    current!.properties[String(setting[..<equals])] = String(setting[setting.index(after: equals)...])
                }
            } else {
                sql += line + "\n"
                if line.trimmingCharacters(in: .whitespaces).hasSuffix(";") {
                    let statement = sql.trimmingCharacters(in: .whitespacesAndNewlines)
                    current!.statements.append(String(statement.dropLast()))
                    sql = ""
                }
            }
        }
        finish()
        return cases
    }

    /// Runs a case on a fresh engine and describes the outcome in the golden text form.
    static func outcome(_ golden: EngineGoldenCase) async -> String {
        guard let fixture = try? EngineFixture() else { return "error: cannot create the engine" }
        defer { fixture.remove() }
        for setup in golden.statements.dropLast() {
            do {
                _ = try await fixture.run(setup, golden.properties)
            } catch {
                return "setup failed: \(setup): \(error)"
            }
        }
        do {
            let (traits, changes) = try await fixture.run(golden.statements.last ?? "", golden.properties)
            var lines = [EngineText.traits(traits)]
            if let schema = traits.schema {
                lines.append("schema: " + schema.map { "\($0.name) \(EngineText.type($0.type))" }.joined(separator: ", "))
            }
            lines += changes.map(EngineText.change)
            return lines.joined(separator: "\n")
        } catch {
            return "error: \(error)"
        }
    }

    /// Rewrites a golden file with the actual outcomes (FLOE_RECORD_GOLDEN=1).
    static func record(_ file: String, into sourceFile: String) async throws {
        let url = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().appendingPathComponent("Golden/\(file)")
        let text = try String(contentsOf: url, encoding: .utf8)
        var output: [String] = []
        var skipping = false
        var block = ""
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("==>") {
                let parsed = parse("-- case\n" + block + "==>\n")
                let actual = await outcome(parsed[0])
                output.append("==>")
                output.append(actual)
                output.append("")
                skipping = true
                block = ""
            } else if line.hasPrefix("-- ") && (skipping || block.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty) {
                skipping = false
                block = ""
                output.append(line)
            } else if !skipping {
                output.append(line)
                if !line.hasPrefix("#") { block += line + "\n" }
            }
        }
        try output.joined(separator: "\n").trimmingCharacters(in: .newlines).appending("\n").write(to: url, atomically: true, encoding: .utf8)
    }
}

@Suite struct EngineGoldenTests {
    @Test func recordIfAsked() async throws {
        guard ProcessInfo.processInfo.environment["FLOE_RECORD_GOLDEN"] == "1" else { return }
        for file in EngineGoldenFile.files { try await EngineGoldenFile.record(file, into: #filePath) }
    }

    @Test func goldenFilesHaveCases() {
        #expect(EngineGoldenFile.all.count >= 100)
    }

    @Test(arguments: EngineGoldenFile.all)
    func golden(_ golden: EngineGoldenCase) async {
        let actual = await EngineGoldenFile.outcome(golden)
        #expect(actual == golden.expected, "\(golden.name)")
    }
}
