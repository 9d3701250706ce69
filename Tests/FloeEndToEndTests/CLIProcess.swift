// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What one `floe` CLI invocation printed and how it exited.
struct CLIResult: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Standard output parsed as JSON.
    func json() throws -> JSONValue { try JSONValue.parse(stdout) }

    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs the real `floe` binary as a CLI with its own home directory (so its `~/.floe/config.json` is private to the test).
struct CLI {
    let home: URL
    var environment: [String: String] = [:]

    init() throws {
        home = try ServerProcess.temporaryDirectory()
    }

    /// The saved configuration file.
    var configFile: URL { home.appendingPathComponent(".floe/config.json") }

    /// Runs `floe <arguments>` with `input` on standard input; waits at most `timeout`, or sends SIGINT (as Ctrl-C
    /// would) after `interruptAfter`.
    func run(
        _ arguments: [String], input: String? = nil, extraEnvironment: [String: String] = [:], timeout: Duration = .seconds(60),
        interruptAfter: Duration? = nil
    ) async throws -> CLIResult {
        let process = Process()
        process.executableURL = ServerProcess.binary
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment
        for key in ["FLOE_URL", "FLOE_API_KEY", "FLOE_API_SECRET", "FLOE_CONFIG", "FLOE_DATA_DIR"] { variables.removeValue(forKey: key) }
        variables["HOME"] = home.path
        for (key, value) in environment.merging(extraEnvironment, uniquingKeysWith: { $1 }) { variables[key] = value }
        process.environment = variables
        let id = UUID().uuidString
        let outURL = home.appendingPathComponent("out-\(id)")
        let errURL = home.appendingPathComponent("err-\(id)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = err
        let stdinPipe = Pipe()
        process.standardInput = stdinPipe
        try process.run()
        if let input { stdinPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try stdinPipe.fileHandleForWriting.close()
        if let interruptAfter {
            try await Task.sleep(for: interruptAfter)
            if process.isRunning { kill(process.processIdentifier, SIGINT) }
        }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("floe \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// Runs a command that must succeed.
    @discardableResult
    func ok(_ arguments: String..., input: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> CLIResult {
        let result = try await run(arguments, input: input)
        #expect(result.status == 0, "floe \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        return result
    }

    /// Runs a command that must fail with `Error: …` naming `detail`; returns its result.
    @discardableResult
    func fails(
        _ arguments: String..., detail: String, status: Int32 = 1, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws
        -> CLIResult
    {
        let result = try await run(arguments)
        #expect(result.status == status, "floe \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(detail), "expected stderr to contain \(detail): \(result)", sourceLocation: sourceLocation)
        return result
    }

    /// Runs a command in JSON, YAML and human output and checks that all three show the same records: the JSON keys
    /// are exactly `keys`, YAML carries the same keys and values, and the human table has the titles and values.
    @discardableResult
    func threeFormats(
        _ arguments: [String], keys: [String], titles: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws
        -> JSONValue
    {
        let json = try await run(arguments + ["-o", "json"])
        #expect(json.status == 0, "\(json)", sourceLocation: sourceLocation)
        let document = try json.json()
        let records = document.arrayValue ?? [document]
        for record in records {
            guard case .object(let members) = record else {
                Issue.record("not an object: \(record)", sourceLocation: sourceLocation)
                continue
            }
            #expect(members.map(\.0) == keys, "keys of \(arguments)", sourceLocation: sourceLocation)
        }
        let yaml = try await run(arguments + ["-o", "yaml"])
        #expect(yaml.status == 0, "\(yaml)", sourceLocation: sourceLocation)
        let human = try await run(arguments)
        #expect(human.status == 0, "\(human)", sourceLocation: sourceLocation)
        for title in titles { #expect(human.stdout.contains(title), "human output lacks \(title): \(human.stdout)", sourceLocation: sourceLocation) }
        for record in records {
            for (key, value) in record.objectMembers {
                #expect(yaml.stdout.contains("\(key):"), "yaml lacks \(key): \(yaml.stdout)", sourceLocation: sourceLocation)
                if case .string(let text) = value, !text.isEmpty, !text.contains("\n") {
                    #expect(yaml.stdout.contains(text), "yaml lacks \(text)", sourceLocation: sourceLocation)
                    #expect(human.stdout.contains(text), "human output lacks \(text): \(human.stdout)", sourceLocation: sourceLocation)
                }
            }
        }
        return document
    }
}

extension JSONValue {
    var objectMembers: [(String, JSONValue)] {
        if case .object(let members) = self { return members }
        return []
    }
}
