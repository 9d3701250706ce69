// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import Foundation
import Testing

/// What a new user meets first, through the real binary: exit statuses scripts can rely on, hints that name the fix,
/// the version, and following a live stream without running into the server's rate limits.
struct FirstRunEndToEndTests {
    @Test func waitFailsWithTheDetailAndPromptsNeedATerminalOrForce() async throws {
        let (server, cli) = try await CLIEndToEndTests.loggedIn()
        defer { server.shutDown() }
        // --wait on a statement that FAILED exits 1 with the detail, after showing the statement.
        let failed = try await cli.run(["flink", "statement", "create", "broken", "--sql", "SELECT * FROM missing_table;", "--wait"])
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.stdout.contains("FAILED") && failed.stderr.contains("failed") && failed.stderr.contains("missing_table"), "\(failed)")
        let bounded = try await cli.run(["flink", "statement", "create", "fine", "--sql", "CREATE TABLE t (k INT);", "--wait"])
        #expect(bounded.status == 0 && bounded.stdout.contains("COMPLETED"), "\(bounded)")

        // A confirmation prompt with no terminal and nothing piped is an error naming --force; nothing is deleted.
        let unconfirmed = try await cli.run(["flink", "statement", "delete", "broken"])
        #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("--force"), "\(unconfirmed)")
        try await cli.ok("flink", "statement", "describe", "broken")
        try await cli.ok("flink", "statement", "delete", "broken", "--force")

        // Logging in without a key, where ~/.floe holds no bootstrap.json, names --data-dir.
        let stranger = try CLI()
        let login = try await stranger.run(["login", "--url", server.baseURL])
        #expect(login.status == 1 && login.stderr.contains("--data-dir"), "\(login)")
        // A bootstrap.json of another data directory: the server refuses its key, and the hint says why.
        let other = try ServerProcess.temporaryDirectory().appendingPathComponent(".floe")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try #"{"api_key":"NOTTHISSERVERS","api_secret":"x"}"#.write(
            to: other.appendingPathComponent("bootstrap.json"), atomically: true, encoding: .utf8)
        let mismatched = try await stranger.run(["login", "--url", server.baseURL, "--data-dir", other.path])
        #expect(mismatched.status == 1 && mismatched.stderr.contains("floe serve --data-dir"), "\(mismatched)")
    }

    @Test func versionIsReportedByTheCLIAndHealthz() async throws {
        let server = try await ServerProcess.start()
        defer { server.shutDown() }
        let cli = try CLI()
        let command = try await cli.ok("version")
        let flag = try await cli.ok("--version")
        #expect(command.stdout == flag.stdout)
        func field(_ title: String) -> String? {
            command.stdout.split(separator: "\n").first { $0.hasPrefix(title + ":") }.map {
                String($0.dropFirst(title.count + 1)).trimmingCharacters(in: .whitespaces)
            }
        }
        let version = try #require(field("Version"), "\(command)")
        let commit = try #require(field("Git Ref"), "\(command)")
        let date = try #require(field("Build Date"), "\(command)")
        #expect(commit == "unknown" || (commit.count == 12 && commit.allSatisfy(\.isHexDigit)), "\(commit)")
        #expect(date.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil, "\(date)")

        let health = try await FloeClient(baseURL: server.baseURL).send("GET", "/healthz")
        #expect(health.status == 200)
        let body = try #require(health.json)
        #expect(body["status"]?.stringValue == "ok")
        #expect(body["version"]?.stringValue == version && body["commit"]?.stringValue == commit && body["build_date"]?.stringValue == date)
    }

    /// `results` follows a live stream for over half a minute with the rate limits on (50 requests/s, 1,000/min): it
    /// keeps a low request rate, never gets a 429, and the statement keeps running. The shell, reading a pipe, stops
    /// the statement it started when interrupted.
    @Test func followingAStreamStaysWithinTheRateLimits() async throws {
        let server = try await ServerProcess.start(arguments: [])
        defer { server.shutDown() }
        let cli = try CLI()
        try await cli.ok("login", "--url", server.baseURL, "--data-dir", server.dataDirectory.path)
        try await cli.ok("flink", "statement", "create", "orders", "--sql", "SELECT * FROM examples.marketplace.orders;", "--wait")

        let seconds = 32
        let followed = try await cli.run(
            ["flink", "statement", "results", "orders"], timeout: .seconds(seconds + 30), interruptAfter: .seconds(seconds))
        let rows = followed.stdout.split(separator: "\n").count - 2
        #expect(rows > seconds, "rows kept arriving: \(rows)\n\(followed.stderr)")
        #expect(!followed.stderr.contains("Rate limit") && !followed.stderr.contains("FAILED"), "\(followed.stderr)")

        let log = server.output.split(separator: "\n")
        let resultRequests = log.filter { $0.contains("/statements/orders/results") }
        let refused = log.filter { $0.contains("status=429") }
        let perSecond = Double(resultRequests.count) / Double(seconds)
        #expect(refused.isEmpty, "429s: \(refused.prefix(3))")
        #expect(perSecond <= 3, "\(resultRequests.count) results requests in \(seconds) s")
        let statement = try await cli.ok("flink", "statement", "describe", "orders", "-o", "json").json()
        #expect(statement["status"]?.stringValue == "RUNNING")

        // The shell reading a pipe: Ctrl-C (SIGINT) while it prints a stream stops the statement it started.
        let shell = try await cli.run(
            ["flink", "shell"], input: "SET 'client.statement-name' = 'piped';\nSELECT * FROM examples.marketplace.orders;\n", timeout: .seconds(40),
            interruptAfter: .seconds(6))
        #expect(shell.status == 0 && shell.stdout.contains("interrupted and has been stopped"), "\(shell)")
        try await eventually { try await cli.ok("flink", "statement", "describe", "piped", "-o", "json").json()["status"]?.stringValue == "STOPPED" }
    }
}
