// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore
import Foundation

/// `floe flink shell`: the interactive SQL shell.
struct ShellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell", abstract: "Start the interactive Flink SQL shell.",
        discussion: """
            Statements end with ';' and may span lines. SET 'key' = 'value'; sets a statement property for the session \
            (SET; lists them, RESET resets), USE CATALOG and USE choose the catalog and database. A running query's \
            results update in place; M toggles the changelog view, Q or Ctrl-C stops the query. EXIT; or Ctrl-D quits.
            """)

    @Option(help: "Environment id (default: the current one).") var environment: String?
    @Option(name: .customLong("compute-pool"), help: "Compute pool id (default: the current one).") var computePool: String?
    @Option(name: .customLong("service-account"), help: "Service account to run statements as.") var serviceAccount: String?
    @Option(help: "Database (sql.current-database) to start in.") var database: String?
    @OptionGroup var connection: ContextOptions

    func run() async throws {
        let session = try CLISession.open(connection)
        let environmentID = try session.environmentID(environment)
        let api = try await StatementAPI(session: session, environmentID: environmentID)
        let environmentObject = try await session.call("GET", "/org/v2/environments/\(environmentID.pathEncoded)")
        var properties: [(String, String)] = [("sql.current-catalog", environmentObject["display_name"]?.stringValue ?? environmentID)]
        if let database { properties.append(("sql.current-database", database)) }
        let shell = SQLShell(
            api: api, computePool: computePool ?? session.context.computePoolID, principal: serviceAccount, initialProperties: properties,
            historyFile: CLIConfiguration.fileURL.deletingLastPathComponent().appendingPathComponent("shell_history"))
        await shell.run()
    }
}
