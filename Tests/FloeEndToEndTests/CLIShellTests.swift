// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A terminal driven through tmux: the shell runs in a real pseudo-terminal and the test reads the rendered screen.
final class TmuxTerminal: @unchecked Sendable {
    // @unchecked: used by one test, one call at a time.
    let socket = "floe-test-\(UUID().uuidString.prefix(8))"
    static let binary = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    init(command: String, columns: Int = 120, rows: Int = 40) throws {
        try tmux(["new-session", "-d", "-s", "main", "-x", String(columns), "-y", String(rows), command])
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.binary, "tmux is needed (scripts/setup-machine installs it)"))
        process.arguments = ["-L", socket] + arguments
        // A file rather than a pipe: the tmux server daemonizes with the client's descriptors, so a pipe would never
        // reach end of file.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Poll rather than block in waitUntilExit, which can stall on a cooperative thread.
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        return (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    /// Types `text` literally, then Enter if asked (a trailing `;` is escaped from tmux's own command separator).
    func type(_ text: String, enter: Bool = true) throws {
        let escaped = text.hasSuffix(";") ? String(text.dropLast()) + "\\;" : text
        try tmux(["send-keys", "-t", "main", "-l", escaped])
        if enter { try tmux(["send-keys", "-t", "main", "Enter"]) }
    }

    /// Presses keys by tmux name (`C-c`, `Up`, `m`).
    func press(_ keys: String...) throws { try tmux(["send-keys", "-t", "main"] + keys) }

    /// The visible screen.
    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", "main"]) }

    /// Waits until the screen satisfies `condition`; returns it.
    @discardableResult
    func waitFor(
        _ what: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation, _ condition: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try screen()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the screen never showed \(what):\n\(last)", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    /// Ends the session. `kill-server` alone has been seen to leave a server whose pane ignores the hang-up behind,
    /// so the pane's process and the server are also killed by pid.
    func close() {
        let panePID = (try? tmux(["display-message", "-p", "-t", "main", "#{pane_pid}"])).flatMap {
            Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let serverPID = (try? tmux(["display-message", "-p", "-t", "main", "#{pid}"])).flatMap {
            Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        _ = try? tmux(["kill-server"])
        if let panePID { kill(panePID, SIGKILL) }
        if let serverPID { kill(serverPID, SIGKILL) }
        try? FileManager.default.removeItem(atPath: "/tmp/tmux-\(getuid())/\(socket)")
    }
}

@Suite(.serialized)
struct CLIShellTests {
    @Test func shellShowsALiveAggregationUpdatingInPlace() async throws {
        let (server, cli) = try await CLIEndToEndTests.loggedIn()
        defer { server.shutDown() }
        let terminal = try TmuxTerminal(command: "env HOME=\(cli.home.path) \(ServerProcess.binary.path) flink shell; sleep 60")
        defer { terminal.close() }
        try await terminal.waitFor("the prompt") { $0.contains("floe>") }

        try terminal.type("CREATE TABLE clicks (word STRING, n INT);")
        try await terminal.waitFor("the table created") { $0.components(separatedBy: "Statement successfully submitted.").count == 2 }
        // A statement over two lines.
        try terminal.type("INSERT INTO clicks")
        try await terminal.waitFor("the continuation prompt") { $0.contains("   ->") }
        try terminal.type("VALUES ('a', 1), ('b', 2), ('a', 3);")
        try await terminal.waitFor("the insert submitted") { $0.components(separatedBy: "Statement successfully submitted.").count == 3 }
        try terminal.type("SET 'client.statement-name' = 'live-agg';")
        try await terminal.waitFor("the name set") { $0.contains("Config \"client.statement-name\" has been set to \"live-agg\".") }

        try terminal.type("SELECT word, COUNT(*) AS cnt FROM clicks GROUP BY word;")
        try await terminal.waitFor("the first counts") { screen in
            screen.contains("Statement live-agg: RUNNING") && rows(screen, "a").last?.hasSuffix("| 2") == true && rows(screen, "b").count == 1
        }
        // More rows arrive from elsewhere; the row of `a` changes in place rather than being appended again.
        try await cli.ok("flink", "statement", "create", "more", "--sql", "INSERT INTO clicks VALUES ('a', 10), ('c', 5);", "--wait")
        let updated = try await terminal.waitFor("the updated counts") { screen in
            rows(screen, "a").last?.hasSuffix("| 3") == true && rows(screen, "c").count == 1
        }
        let live = updated.components(separatedBy: "floe> SELECT word").last ?? ""
        #expect(rows(live, "a").count == 1 && rows(live, "b").count == 1, "one row per word:\n\(updated)")
        #expect(live.contains("3 rows · 7 changes · table view"), "\(updated)")

        // M shows the changelog with its retractions.
        try terminal.press("m")
        let changelog = try await terminal.waitFor("the changelog view") { $0.contains("changelog view") }
        #expect(changelog.contains(" -U | a") && changelog.contains(" +U | a"), "\(changelog)")

        // Ctrl-C stops the query's statement and returns to the prompt.
        try terminal.press("C-c")
        try await terminal.waitFor("the stopped statement") { $0.contains("Statement live-agg: STOPPED") }
        try await eventually {
            try await cli.ok("flink", "statement", "describe", "live-agg", "-o", "json").json()["status"]?.stringValue == "STOPPED"
        }

        // History: Up recalls the last statement; Ctrl-U clears the line.
        try await terminal.waitFor("a fresh prompt") { $0.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("floe>") }
        try terminal.press("Up")
        try await terminal.waitFor("the recalled statement") { lastLine($0) == "floe> SELECT word, COUNT(*) AS cnt FROM clicks GROUP BY word;" }
        try terminal.press("C-u")
        try await terminal.waitFor("a cleared line") { lastLine($0) == "floe>" }

        // Errors are shown and the shell goes on; EXIT leaves.
        try terminal.type("SELECT * FROM missing_table;")
        try await terminal.waitFor("the error") { $0.contains("Error: ") && $0.contains("missing_table") }
        try terminal.type("EXIT;")
        try await terminal.waitFor("the goodbye") { $0.contains("Bye.") }
    }

    /// Tab completes keywords, tables and columns; a result taller than the screen keeps its header in view.
    @Test func tabCompletesNamesAndTheHeaderStaysOnAShortScreen() async throws {
        let (server, cli) = try await CLIEndToEndTests.loggedIn()
        defer { server.shutDown() }
        let terminal = try TmuxTerminal(
            command: "env HOME=\(cli.home.path) \(ServerProcess.binary.path) flink shell; sleep 60", columns: 100, rows: 14)
        defer { terminal.close() }
        try await terminal.waitFor("the prompt") { $0.contains("floe>") }
        try terminal.type("CREATE TABLE measurements (sensor_name STRING, reading INT);")
        try await terminal.waitFor("the table created") { $0.contains("Statement phase is COMPLETED.") }

        try terminal.type("sel", enter: false)
        try terminal.press("Tab")
        try await terminal.waitFor("a completed keyword") { lastLine($0) == "floe> select" }
        try terminal.type("sensor_n", enter: false)
        try terminal.press("Tab")
        try await terminal.waitFor("a completed column") { lastLine($0) == "floe> select sensor_name" }
        try terminal.type("FROM measu", enter: false)
        try terminal.press("Tab")
        try await terminal.waitFor("a completed table") { lastLine($0) == "floe> select sensor_name FROM measurements" }
        try terminal.press("C-u")
        // The examples catalog (not in INFORMATION_SCHEMA) completes too, qualified.
        try terminal.type("SELECT order_ FROM examples.marketplace.ord", enter: false)
        try terminal.press("Tab")
        try await terminal.waitFor("a completed example table") { lastLine($0) == "floe> SELECT order_ FROM examples.marketplace.orders" }
        try terminal.press("C-u")

        // 30 rows on a 14-row screen: the newest rows that fit, under the header.
        let values = (1...30).map { "(\($0))" }.joined(separator: ", ")
        try terminal.type("SELECT n FROM (VALUES \(values)) AS t(n);")
        let screen = try await terminal.waitFor("the finished query") { $0.contains("Statement ") && $0.contains("COMPLETED · 30 rows") }
        let lines = screen.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "n" }, "no header:\n\(screen)")
        #expect(lines[header + 1].hasPrefix("---"), "\(screen)")
        #expect(screen.contains("earlier rows not shown") && screen.contains(" 30"), "\(screen)")
    }
}

/// The result-table lines of `screen` whose first cell is `word`.
private func rows(_ screen: String, _ word: String) -> [String] {
    screen.split(separator: "\n").map(String.init).filter { $0.hasPrefix(" \(word) ") && $0.contains("|") }
}

/// The last non-empty line of the screen, without trailing spaces.
private func lastLine(_ screen: String) -> String {
    var line = screen.split(separator: "\n").map(String.init).last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
    while line.last == " " { line.removeLast() }
    return line
}
