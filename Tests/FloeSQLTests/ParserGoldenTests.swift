// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSQL
import Foundation
import Testing

/// One case of a golden file: a name, the SQL, and the expected canonical SQL or error.
struct GoldenCase: CustomTestStringConvertible, Sendable {
    var name: String
    var sql: String
    var expectsError: Bool
    var expected: String
    var testDescription: String { name }
}

/// Reads `-- name` / SQL / `==>` / expected blocks.
enum GoldenFile {
    static func url(_ name: String) -> URL { Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Golden")! }

    static func cases(_ name: String) -> [GoldenCase] {
        guard let text = try? String(contentsOf: url(name), encoding: .utf8) else { return [] }
        var cases: [GoldenCase] = []
        var current: GoldenCase?
        var inExpected = false
        func finish() {
            if var done = current {
                done.sql = done.sql.trimmingCharacters(in: .whitespacesAndNewlines)
                done.expected = done.expected.trimmingCharacters(in: .whitespacesAndNewlines)
                cases.append(done)
            }
            current = nil
            inExpected = false
        }
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("-- ") && (current == nil || inExpected) && !line.hasPrefix("-- name") {
                finish()
                current = GoldenCase(name: String(line.dropFirst(3)), sql: "", expectsError: false, expected: "")
            } else if line.hasPrefix("==>"), current != nil {
                inExpected = true
                current!.expectsError = line.contains("error")
            } else if current == nil {
                continue
            } else if inExpected {
                current!.expected += line + "\n"
            } else {
                current!.sql += line + "\n"
            }
        }
        finish()
        return cases
    }

    /// The actual outcome of parsing one case.
    static func outcome(_ sql: String) -> (isError: Bool, text: String) {
        do {
            return (false, try Parser.parseStatement(sql).sql)
        } catch {
            return (true, "\(error.position): \(error.message)")
        }
    }

    /// Rewrites the file with actual outcomes (FLOE_RECORD_GOLDEN=1), keeping names, SQL and comments.
    static func record(_ name: String, into sourceFile: String) throws {
        let source = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
        let text = try String(contentsOf: source, encoding: .utf8)
        var output: [String] = []
        var skipping = false
        var sql = ""
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("==>") {
                let (isError, actual) = outcome(sql.trimmingCharacters(in: .whitespacesAndNewlines))
                output.append(isError ? "==> error" : "==>")
                output.append(actual)
                output.append("")
                skipping = true
                sql = ""
            } else if line.hasPrefix("-- ") {
                skipping = false
                sql = ""
                output.append(line)
            } else if !skipping {
                output.append(line)
                sql += line + "\n"
            }
        }
        try output.joined(separator: "\n").trimmingCharacters(in: .newlines).appending("\n").write(to: source, atomically: true, encoding: .utf8)
    }
}

@Suite struct ParserGoldenTests {
    @Test func recordIfAsked() throws {
        if ProcessInfo.processInfo.environment["FLOE_RECORD_GOLDEN"] == "1" { try GoldenFile.record("parser.sqltest", into: #filePath) }
    }

    @Test func goldenFileHasCases() {
        #expect(GoldenFile.cases("parser.sqltest").count >= 40)
    }

    @Test(arguments: GoldenFile.cases("parser.sqltest"))
    func parse(_ golden: GoldenCase) throws {
        let (isError, actual) = GoldenFile.outcome(golden.sql)
        #expect(isError == golden.expectsError, "\(golden.name): \(actual)")
        #expect(actual == golden.expected, "\(golden.name)")
        if !isError {
            // The canonical form parses back to itself.
            #expect(try Parser.parseStatement(actual).sql == actual, "\(golden.name) round trip")
        }
    }
}
