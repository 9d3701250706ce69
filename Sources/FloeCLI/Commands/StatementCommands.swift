// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `--environment` for statement commands.
struct StatementScopeOptions: ParsableArguments {
    @Option(help: "Environment id (default: the current one).") var environment: String?

    /// The statements of the chosen environment, through the chosen context.
    func open(_ connection: ContextOptions) async throws -> StatementAPI {
        let session = try CLISession.open(connection)
        return try await StatementAPI(session: session, environmentID: try session.environmentID(environment))
    }
}

/// `floe flink statement`.
struct StatementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statement", abstract: "Manage Flink SQL statements.",
        subcommands: [
            Create.self, List.self, Describe.self, Stop.self, Resume.self, Update.self, Delete.self, ExceptionCommand.self, Results.self,
        ])

    static func record(_ statement: JSONValue, detailed: Bool = false) -> OutputRecord {
        var record: OutputRecord = [
            OutputField("creation_date", "Creation Date", statement.value(at: "metadata", "created_at")?.stringValue),
            OutputField("name", "Name", statement["name"]?.stringValue),
            OutputField("statement", "Statement", statement.value(at: "spec", "statement")?.stringValue),
            OutputField("compute_pool", "Compute Pool", statement.value(at: "spec", "compute_pool_id")?.stringValue),
            OutputField("status", "Status", statement.value(at: "status", "phase")?.stringValue),
            OutputField("status_detail", "Status Detail", statement.value(at: "status", "detail")?.stringValue),
        ]
        if detailed {
            var offsets = statement.value(at: "status", "latest_offsets") ?? .object([])
            if offsets.isNull { offsets = .object([]) }
            record += [
                OutputField("latest_offsets", "Latest Offsets", offsets),
                OutputField(
                    "latest_offsets_timestamp", "Latest Offsets Timestamp", statement.value(at: "status", "latest_offsets_timestamp")?.stringValue),
                OutputField("properties", "Properties", statement.value(at: "spec", "properties") ?? .object([])),
                OutputField("principal", "Principal", statement.value(at: "spec", "principal")?.stringValue),
            ]
        }
        return record
    }

    static let columns = [
        ("creation_date", "Creation Date"), ("name", "Name"), ("statement", "Statement"), ("compute_pool", "Compute Pool"),
        ("status", "Status"), ("status_detail", "Status Detail"),
    ]

    /// A default statement name like the confluent CLI's: `cli-YYYY-MM-DD-HHMMSS-<uuid prefix>`.
    static func generatedName() -> String {
        let now = RFC3339.format(Date())  // 2026-11-23T13:00:21Z
        let digits = now.prefix(19).replacingOccurrences(of: "T", with: "-").replacingOccurrences(of: ":", with: "")
        return "cli-\(digits)-\(UUID().uuidString.lowercased().prefix(8))"
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a Flink SQL statement.")
        @Argument(help: "Name of the statement (default: cli-<date>-<time>-<id>).") var name: String?
        @Option(help: "The SQL text (required).") var sql: String
        @Option(name: .customLong("compute-pool"), help: "Compute pool id (default: the current one, else the environment's default pool).")
        var computePool: String?
        @Option(name: .customLong("service-account"), help: "Service account to run the statement as.") var serviceAccount: String?
        @Option(help: "Database (Kafka cluster) for unqualified names; sets sql.current-database.") var database: String?
        @Option(name: .customLong("property"), help: "A statement property as key=value (repeatable; comma-separated pairs allowed).")
        var properties: [String] = []
        @Flag(help: "Wait while the statement is PENDING, and a bounded one until it is done (up to a minute).") var wait = false
        @OptionGroup var scope: StatementScopeOptions
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let environmentID = try session.environmentID(scope.environment)
            let api = try await StatementAPI(session: session, environmentID: environmentID)
            var propertyMembers: [(String, JSONValue)] = []
            let environment = try await session.call("GET", "/org/v2/environments/\(environmentID.pathEncoded)")
            propertyMembers.set("sql.current-catalog", .string(environment["display_name"]?.stringValue ?? environmentID))
            if let database { propertyMembers.set("sql.current-database", .string(database)) }
            for pair in try StatementCommand.parseProperties(properties) { propertyMembers.set(pair.0, .string(pair.1)) }
            let statementName = name ?? StatementCommand.generatedName()
            let body: JSONValue = [
                "name": .string(statementName),
                "spec": .object(omittingNil: [
                    ("statement", .string(sql)), ("properties", .object(propertyMembers)),
                    ("compute_pool_id", (computePool ?? session.context.computePoolID).map(JSONValue.string)),
                    ("principal", serviceAccount.map(JSONValue.string)), ("stopped", false),
                ]),
            ]
            var statement: JSONValue
            do {
                statement = try await api.create(body)
            } catch CLIError.api(let status, let detail) {
                let environmentName = environment["display_name"]?.stringValue ?? environmentID
                throw CLIError.api(
                    status: status,
                    detail: "failed to create Flink SQL statement \"\(statementName)\" in the environment \"\(environmentName)\": \(detail)")
            }
            if wait { statement = try await api.waitWhilePending(statementName, settleBounded: true, progress: ProgressLine()) }
            OutputPrinter(format: output.output).describe(StatementCommand.record(statement))
            // A script that waited must be able to tell a statement that failed from one that ran.
            if wait, statement.value(at: "status", "phase")?.stringValue == "FAILED" {
                let detail = await api.failureDetail(statement)
                throw CLIError.usage("Flink SQL statement \"\(statementName)\" failed: \(detail)")
            }
        }
    }

    /// Parses `k=v` and `k1=v1,k2=v2` property flags.
    static func parseProperties(_ flags: [String]) throws -> [(String, String)] {
        var pairs: [(String, String)] = []
        for flag in flags {
            for item in flag.split(separator: ",") {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                    throw CLIError.usage("--property must be key=value, not \"\(item)\".")
                }
                pairs.append((String(item[..<equals]).trimmingSpaces, String(item[item.index(after: equals)...]).trimmingSpaces))
            }
        }
        return pairs
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List Flink SQL statements.")
        @Option(name: .customLong("compute-pool"), help: "Only statements of this compute pool.") var computePool: String?
        @Option(help: "Only statements in this phase: pending, running, completed, stopping, stopped, failed.") var status: String?
        @OptionGroup var scope: StatementScopeOptions
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let api = try await scope.open(connection)
            var statements = try await api.list(computePool: computePool)
            if let status { statements = statements.filter { $0.value(at: "status", "phase")?.stringValue?.lowercased() == status.lowercased() } }
            OutputPrinter(format: output.output).list(statements.map { StatementCommand.record($0) }, columns: StatementCommand.columns)
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a Flink SQL statement.")
        @Argument(help: "Statement name.") var name: String
        @OptionGroup var scope: StatementScopeOptions
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let api = try await scope.open(connection)
            OutputPrinter(format: output.output).describe(StatementCommand.record(try await api.get(name), detailed: true))
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a Flink SQL statement.")
        @Argument(help: "Statement name.") var name: String
        @OptionGroup var scope: StatementScopeOptions
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            let api = try await scope.open(connection)
            try await api.setStopped(name, true)
            write("Requested to stop Flink SQL statement \"\(name)\".\n")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a stopped Flink SQL statement.")
        @Argument(help: "Statement name.") var name: String
        @Option(help: "Run it as this principal from now on.") var principal: String?
        @Option(name: .customLong("compute-pool"), help: "Move it to this compute pool.") var computePool: String?
        @OptionGroup var scope: StatementScopeOptions
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            let api = try await scope.open(connection)
            try await api.setStopped(name, false, principal: principal, computePool: computePool)
            write("Requested to resume Flink SQL statement \"\(name)\".\n")
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update a Flink SQL statement's principal, compute pool or stopped flag.")
        @Argument(help: "Statement name.") var name: String
        @Option(help: "Principal to run as.") var principal: String?
        @Option(name: .customLong("compute-pool"), help: "Compute pool id.") var computePool: String?
        @Option(help: "Whether the statement is stopped (true or false).") var stopped: Bool?
        @OptionGroup var scope: StatementScopeOptions
        @OptionGroup var connection: ContextOptions

        func validate() throws {
            if principal == nil && computePool == nil && stopped == nil { throw ValidationError("Give --principal, --compute-pool or --stopped.") }
        }

        func run() async throws {
            let api = try await scope.open(connection)
            try await api.update(name) { spec in
                if let principal { spec.set("principal", .string(principal)) }
                if let computePool { spec.set("compute_pool_id", .string(computePool)) }
                if let stopped { spec.set("stopped", .bool(stopped)) }
            }
            write("Requested to update Flink SQL statement \"\(name)\".\n")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete Flink SQL statements.")
        @Argument(help: "Statement names.") var names: [String]
        @Flag(help: "Skip the confirmation prompt.") var force = false
        @OptionGroup var scope: StatementScopeOptions
        @OptionGroup var connection: ContextOptions

        func validate() throws { if names.isEmpty { throw ValidationError("Give at least one statement name.") } }

        func run() async throws {
            let api = try await scope.open(connection)
            for name in names { _ = try await api.get(name) }
            guard try confirmDeletion(of: "Flink SQL statement", ids: names, force: force) else { return }
            for name in names {
                try await api.delete(name)
                write("Deleted Flink SQL statement \"\(name)\".\n")
            }
        }
    }

    /// `floe flink statement exception`.
    struct ExceptionCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "exception", abstract: "Show a statement's exceptions.", subcommands: [List.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a statement's exceptions, newest first.")
            @Argument(help: "Statement name.") var name: String
            @OptionGroup var scope: StatementScopeOptions
            @OptionGroup var connection: ContextOptions
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let api = try await scope.open(connection)
                let records: [OutputRecord] = try await api.exceptions(name).map { exception in
                    [
                        OutputField("timestamp", "Timestamp", exception["timestamp"]?.stringValue),
                        OutputField("name", "Name", exception["name"]?.stringValue),
                        OutputField("message", "Message", exception["message"]?.stringValue),
                    ]
                }
                OutputPrinter(format: output.output).list(records, columns: [("timestamp", "Timestamp"), ("name", "Name"), ("message", "Message")])
            }
        }
    }

    struct Results: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a statement's result rows; follows a running statement until it ends or Ctrl-C.",
            discussion:
                "Human output shows a table (with an Op column unless the result is append-only); JSON and YAML print one {op, row} record per change."
        )
        @Argument(help: "Statement name.") var name: String
        @Flag(name: .customLong("no-follow"), help: "Print the rows available now (reading for a second at most) and exit.") var noFollow = false
        @OptionGroup var scope: StatementScopeOptions
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let api = try await scope.open(connection)
            let statement = try await api.waitWhilePending(name, timeout: .seconds(600), progress: ProgressLine())
            if statement.value(at: "status", "phase")?.stringValue == "FAILED" {
                throw CLIError.usage("Statement \"\(name)\" failed: \(statement.value(at: "status", "detail")?.stringValue ?? "")")
            }
            let columns = resultColumnNames(statement)
            guard !columns.isEmpty else {
                writeError("Statement \"\(name)\" has no result rows.\n")
                return
            }
            let appendOnly = statement.value(at: "status", "traits", "is_append_only")?.boolValue ?? false
            var printer = StreamingRowPrinter(format: output.output, columns: columns, showOperation: !appendOnly)
            // Without following, read what is there now: until a page comes back empty, or for a second at most
            // (a statement producing steadily never returns an empty page).
            let stopAt = ContinuousClock.now + .seconds(1)
            do {
                try await api.follow(name) { page in
                    printer.print(page.changes)
                    return !(noFollow && (page.changes.isEmpty || ContinuousClock.now >= stopAt))
                }
            } catch let error as CLIError where error.isUnreachable {
                // Losing the server is not the statement failing: say what it was last seen doing.
                let phase = (try? await api.get(name))?.value(at: "status", "phase")?.stringValue ?? "unknown"
                throw CLIError.usage("Stopped following statement \"\(name)\" (phase \(phase)): \(error)")
            }
        }
    }
}

/// Prints result changes as they arrive: a table whose widths are fixed by the first rows, or JSON/YAML records.
struct StreamingRowPrinter {
    let format: OutputFormat
    let columns: [String]
    let showOperation: Bool
    private var widths: [Int]?

    init(format: OutputFormat, columns: [String], showOperation: Bool) {
        self.format = format
        self.columns = columns
        self.showOperation = showOperation
    }

    mutating func print(_ changes: [ResultChange]) {
        guard !changes.isEmpty else { return }
        switch format {
        case .json:
            write(changes.map { record($0).serializedString + "\n" }.joined())
        case .yaml:
            write(YAMLWriter.sequence(changes.map(record)))
        case .human:
            let titles = (showOperation ? ["Op"] : []) + columns
            let rows = changes.map { (showOperation ? [$0.operation.symbol] : []) + $0.values.map(resultText) }
            if widths == nil {
                var initial = titles.map(\.displayWidth)
                for row in rows {
                    for (index, cell) in row.enumerated() where index < initial.count {
                        initial[index] = max(initial[index], min(cell.displayWidth, 40))
                    }
                }
                widths = initial
                write(line(titles, centred: true) + "\n" + initial.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "\n")
            }
            write(rows.map { line($0, centred: false) + "\n" }.joined())
        }
    }

    private func line(_ cells: [String], centred: Bool) -> String {
        let widths = widths ?? cells.map(\.displayWidth)
        return cells.enumerated().map { index, cell in
            let width = index < widths.count ? widths[index] : cell.displayWidth
            return " " + (centred ? cell.centred(in: width) : cell.rightPadded(to: width)) + " "
        }.joined(separator: "|").trimmingTrailingSpaces()
    }

    private func record(_ change: ResultChange) -> JSONValue {
        let row = JSONValue.object(zip(columns, change.values).map { ($0, $1) })
        return ["op": .string(change.operation.symbol), "row": row]
    }
}
