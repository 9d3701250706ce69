// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// The SQL shell: reads statements, handles the client-side ones (SET, RESET, USE, EXIT, HELP) itself, and runs
/// the rest as statements on the server, showing their results.
final class SQLShell {
    private let api: StatementAPI
    private let computePool: String?
    private let principal: String?
    private let defaults: [(String, String)]
    private var properties: [(String, String)]
    private let interactive = Terminal.isInteractive
    private let terminal = Terminal()
    private let keyboard: KeyboardInput?
    private let editor: LineEditor?
    /// The names Tab completes, read from INFORMATION_SCHEMA on the first Tab and kept until DDL or USE may change them.
    private var completionNames: SQLCompletion?
    /// When reading the names last failed (not retried on every Tab).
    private var completionFailedAt: ContinuousClock.Instant?

    init(api: StatementAPI, computePool: String?, principal: String?, initialProperties: [(String, String)], historyFile: URL) {
        self.api = api
        self.computePool = computePool
        self.principal = principal
        self.defaults = initialProperties
        self.properties = initialProperties
        if interactive {
            let keyboard = KeyboardInput.standardInput()
            self.keyboard = keyboard
            self.editor = LineEditor(keyboard: keyboard, terminal: terminal, historyFile: historyFile)
        } else {
            keyboard = nil
            editor = nil
        }
    }

    func run() async {
        if interactive {
            terminal.enableRawMode()
            write("Floe SQL shell on \(api.session.context.url), environment \(api.environmentID).\n")
            write("Statements end with ';'. HELP; shows the commands, EXIT; or Ctrl-D quits.\n\n")
        }
        defer { if interactive { terminal.restore() } }
        editor?.completer = { [unowned self] word in await self.completion().complete(word) }
        var pending: [String] = []
        while true {
            let prompt = pending.isEmpty ? "floe> " : "   -> "
            let input: LineInput
            if let editor {
                input = await editor.readLine(prompt: prompt)
            } else if let line = Swift.readLine(strippingNewline: true) {
                input = .line(line)
            } else {
                input = .endOfInput
            }
            switch input {
            case .endOfInput:
                let rest = pending.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
                if !interactive, !rest.isEmpty { _ = await execute(rest) }
                if interactive { write("Bye.\n") }
                return
            case .interrupted:
                pending.removeAll()
            case .line(let line):
                pending.append(line)
                let text = pending.joined(separator: "\n")
                for statement in SQLShell.completeStatements(in: text).statements {
                    editor?.remember(statement)
                    if await execute(statement) == .exit {
                        if interactive { write("Bye.\n") }
                        return
                    }
                }
                let remainder = SQLShell.completeStatements(in: text).remainder
                pending = remainder.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? [] : [remainder]
            }
        }
    }

    /// Splits text into the statements it completes (each ending in a `;` outside quotes and comments) and what is left.
    static func completeStatements(in text: String) -> (statements: [String], remainder: String) {
        var statements: [String] = []
        var current = ""
        var quote: Character?
        var lineComment = false
        var blockComment = false
        var previous: Character?
        for character in text {
            current.append(character)
            defer { previous = character }
            if lineComment {
                if character == "\n" { lineComment = false }
                continue
            }
            if blockComment {
                if previous == "*" && character == "/" { blockComment = false }
                continue
            }
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"", "`": quote = character
            case "-" where previous == "-": lineComment = true
            case "*" where previous == "/": blockComment = true
            case ";":
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if statement != ";" { statements.append(statement) }
                current = ""
            default: break
            }
        }
        return (statements, current)
    }

    enum Outcome { case next, exit }

    /// Runs one statement (with its `;`).
    func execute(_ statement: String) async -> Outcome {
        var body = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        while body.hasSuffix(";") { body = String(body.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard !body.isEmpty else { return .next }
        do {
            switch try LocalStatement.parse(body) {
            case .exit: return .exit
            case .help: write(SQLShell.helpText)
            case .listProperties:
                let sorted = properties.sorted { $0.0 < $1.0 }
                write(TextTable.columns(titles: ["Key", "Value"], rows: sorted.map { [$0.0, $0.1] }))
            case .set(let key, let value):
                properties.set(key, value)
                write("Statement successfully submitted.\nConfig \"\(key)\" has been set to \"\(value)\".\n")
            case .reset(let key?):
                if let original = defaults.first(where: { $0.0 == key }) {
                    properties.set(key, original.1)
                } else {
                    properties.removeAll { $0.0 == key }
                }
                write("Statement successfully submitted.\nConfig \"\(key)\" has been reset.\n")
            case .reset(nil):
                properties = defaults
                write("Statement successfully submitted.\nAll configs have been reset.\n")
            case .useCatalog(let catalog):
                completionNames = nil
                properties.set("sql.current-catalog", catalog)
                write("Statement successfully submitted.\nConfig \"sql.current-catalog\" has been set to \"\(catalog)\".\n")
            case .useDatabase(let catalog, let database):
                if let catalog { properties.set("sql.current-catalog", catalog) }
                properties.set("sql.current-database", database)
                write("Statement successfully submitted.\nConfig \"sql.current-database\" has been set to \"\(database)\".\n")
            case nil:
                let first = body.prefix { !$0.isWhitespace }.uppercased()
                if ["CREATE", "DROP", "ALTER"].contains(first) { completionNames = nil }
                try await runRemote(body)
            }
        } catch {
            write("Error: \(error)\n")
        }
        return .next
    }

    static let helpText = """
        Statements end with ';' and may span several lines.
          SET;                          list the session's statement properties
          SET 'key' = 'value';          set a property for the following statements (client.* stay in the shell)
          RESET; / RESET 'key';         reset all properties or one
          USE CATALOG name;             set sql.current-catalog (an environment)
          USE name; / USE cat.db;       set sql.current-database
          EXIT; or QUIT;                leave (Ctrl-D too)
        While a query runs: M toggles the changelog view, Q or Ctrl-C stops it.
        Any other statement runs on the server as a Flink SQL statement.

        """

    // MARK: - Completion

    /// The names Tab completes: the tables and columns of the current catalog and of `examples`, read once per
    /// session (again after DDL or USE CATALOG). Without them (the server cannot be asked) keywords still complete.
    private func completion() async -> SQLCompletion {
        if let completionNames { return completionNames }
        if let failed = completionFailedAt, ContinuousClock.now - failed < .seconds(30) { return SQLCompletion() }
        do {
            var rows = try await hiddenQuery("SELECT TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS")
            if properties.first(where: { $0.0 == "sql.current-catalog" })?.1 != "examples" { rows += await exampleColumnRows() }
            let names = SQLCompletion(columnRows: rows)
            completionNames = names
            return names
        } catch {
            completionFailedAt = .now
            return SQLCompletion()
        }
    }

    /// The tables and columns of the `examples` catalog as (catalog, database, table, column) rows. It is not in
    /// INFORMATION_SCHEMA (which lists the environments' catalogs), so SHOW TABLES and DESCRIBE name them.
    private func exampleColumnRows() async -> [[String]] {
        guard let tables = try? await hiddenQuery("SHOW TABLES FROM `examples`.`marketplace`") else { return [] }
        var rows: [[String]] = []
        for table in tables.compactMap(\.first) {
            let columns = (try? await hiddenQuery("DESCRIBE `examples`.`marketplace`.`\(table)`"))?.compactMap(\.first) ?? []
            rows += (columns.isEmpty ? [""] : columns).map { ["examples", "marketplace", table, $0] }
        }
        return rows
    }

    /// Runs a bounded query for the shell's own use as a hidden statement (`user.confluent.io/hidden`, so statement
    /// lists leave it out), reads its rows as text within a few seconds, and deletes it.
    private func hiddenQuery(_ sql: String) async throws -> [[String]] {
        let name = "cli-shell-completion-\(UUID().uuidString.lowercased().prefix(8))"
        let sent = properties.filter { !$0.0.hasPrefix("client.") }
        let body: JSONValue = [
            "name": .string(name),
            "metadata": ["labels": ["user.confluent.io/hidden": "true"]],
            "spec": .object(omittingNil: [
                ("statement", .string(sql + ";")),
                ("properties", .object(sent.map { ($0.0, JSONValue.string($0.1)) })),
                ("compute_pool_id", computePool.map(JSONValue.string)),
                ("principal", (properties.first { $0.0 == "client.service-account" }?.1 ?? principal).map(JSONValue.string)),
                ("stopped", false),
            ]),
        ]
        _ = try await api.create(body)
        let read: Result<[[String]], any Error>
        do {
            let statement = try await api.waitWhilePending(name, timeout: .seconds(5))
            guard statement.value(at: "status", "phase")?.stringValue != "FAILED" else { throw CLIError.usage(await api.failureDetail(statement)) }
            var rows: [[String]] = []
            let deadline = ContinuousClock.now + .seconds(5)
            try await api.follow(name) { page in
                rows += page.changes.filter(\.operation.isAccumulate).map { $0.values.map(resultText) }
                return ContinuousClock.now < deadline
            }
            read = .success(rows)
        } catch {
            read = .failure(error)
        }
        try? await api.delete(name)
        return try read.get()
    }

    // MARK: - Remote statements

    private func runRemote(_ sql: String) async throws {
        let name = properties.first { $0.0 == "client.statement-name" }?.1 ?? StatementCommand.generatedName()
        properties.removeAll { $0.0 == "client.statement-name" }
        let runAs = properties.first { $0.0 == "client.service-account" }?.1 ?? principal
        let sent = properties.filter { !$0.0.hasPrefix("client.") }
        let body: JSONValue = [
            "name": .string(name),
            "spec": .object(omittingNil: [
                ("statement", .string(sql + ";")),
                ("properties", .object(sent.map { ($0.0, JSONValue.string($0.1)) })),
                ("compute_pool_id", computePool.map(JSONValue.string)),
                ("principal", runAs.map(JSONValue.string)),
                ("stopped", false),
            ]),
        ]
        _ = try await api.create(body)
        guard var statement = try await waitForStart(name) else {
            try? await api.delete(name)
            write("Statement \"\(name)\" was cancelled while pending and has been deleted.\n")
            return
        }
        if statement.value(at: "status", "phase")?.stringValue == "FAILED" {
            let detail = await api.failureDetail(statement)
            write("Error: \(detail)\n")
            return
        }
        let columns = resultColumnNames(statement)
        if columns.isEmpty {
            try await reportOutcome(name, statement)
            return
        }
        let upsert = (statement.value(at: "status", "traits", "upsert_columns")?.arrayValue ?? []).compactMap { $0.intValue.map(Int.init) }
        let appendOnly = statement.value(at: "status", "traits", "is_append_only")?.boolValue ?? false
        if let keyboard, interactive {
            statement = try await LiveResultView(
                api: api, name: name, columns: columns, upsertColumns: upsert, keyboard: keyboard, terminal: terminal
            ).run()
        } else {
            try await printResults(name, columns: columns, appendOnly: appendOnly)
        }
    }

    /// Prints the results of a query as they come (input from a pipe or a file). Ctrl-C (SIGINT) stops the statement
    /// the shell started rather than leaving it running unseen.
    private func printResults(_ name: String, columns: [String], appendOnly: Bool) async throws {
        let api = self.api
        let interrupted = try await SignalInterruption.run {
            var printer = StreamingRowPrinter(format: .human, columns: columns, showOperation: !appendOnly)
            try await api.follow(name) { page in
                printer.print(page.changes)
                return true
            }
        }
        if interrupted {
            try await api.setStopped(name, true)
            write("Statement \"\(name)\" was interrupted and has been stopped.\n")
        }
    }

    /// Reports how a statement without results (DDL, INSERT, a statement set) ended: a bounded one is waited for until
    /// it completes or fails; an unbounded one (an INSERT from a stream) runs on, which the shell says before returning
    /// to the prompt. Ctrl-C while waiting stops it, as for a query.
    private func reportOutcome(_ name: String, _ started: JSONValue) async throws {
        var statement = started
        let progress = interactive ? ProgressLine() : nil
        var delay = Duration.milliseconds(100)
        func settling(_ statement: JSONValue) -> Bool {
            statement.value(at: "status", "phase")?.stringValue == "RUNNING"
                && statement.value(at: "status", "traits", "is_bounded")?.boolValue == true
        }
        while settling(statement) {
            progress?.update("Waiting for statement \"\(name)\" to complete (RUNNING)… Ctrl-C stops it")
            if let keyboard {
                if await SQLShell.waitForInterrupt(keyboard, upTo: delay) {
                    progress?.finish()
                    try await api.setStopped(name, true)
                    write("Statement name: \(name)\nStatement was interrupted and has been stopped.\n")
                    return
                }
            } else {
                try await Task.sleep(for: delay)
            }
            delay = min(delay * 2, .seconds(1))
            statement = try await api.poll(name)
        }
        progress?.finish()
        let phase = statement.value(at: "status", "phase")?.stringValue ?? "UNKNOWN"
        write("Statement name: \(name)\nStatement successfully submitted.\n")
        switch phase {
        case "FAILED":
            let detail = await api.failureDetail(statement)
            write("Statement phase is FAILED.\nError: \(detail)\n")
        case "RUNNING":
            write("Statement phase is RUNNING: it runs on after this shell (`floe flink statement stop \(name)` stops it).\n")
        default:
            write("Statement phase is \(phase).\n")
            if let detail = statement.value(at: "status", "detail")?.stringValue, !detail.isEmpty { write("\(detail)\n") }
        }
    }

    /// Polls while the statement is PENDING (300 ms, as Confluent's shell does); `nil` if Ctrl-C cancelled the wait.
    private func waitForStart(_ name: String) async throws -> JSONValue? {
        let progress = interactive ? ProgressLine() : nil
        var statement = try await api.poll(name)
        var tries = 0
        while statement.value(at: "status", "phase")?.stringValue == "PENDING" {
            tries += 1
            progress?.update("Waiting for statement \"\(name)\" to start (PENDING)… Ctrl-C cancels")
            let delay = Duration.milliseconds(300 + 300 * (tries / 10))
            if let keyboard {
                let interrupted = await SQLShell.waitForInterrupt(keyboard, upTo: delay)
                if interrupted {
                    progress?.finish()
                    return nil
                }
            } else {
                try await Task.sleep(for: delay)
            }
            statement = try await api.poll(name)
        }
        progress?.finish()
        return statement
    }

    /// Waits `delay`, returning early with `true` if Ctrl-C (or Q) is typed.
    static func waitForInterrupt(_ keyboard: KeyboardInput, upTo delay: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                while let key = await keyboard.nextKey() {
                    if key == .control("c") { return true }
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: delay)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

/// A statement the shell answers itself.
enum LocalStatement: Equatable {
    case exit, help, listProperties
    case set(String, String)
    case reset(String?)
    case useCatalog(String)
    case useDatabase(catalog: String?, database: String)

    /// Recognizes a client-side statement (without its `;`); `nil` for anything the server should run.
    static func parse(_ text: String) throws -> LocalStatement? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
        guard let first = words.first?.uppercased() else { return nil }
        switch first {
        case "EXIT" where words.count == 1, "QUIT" where words.count == 1: return .exit
        case "HELP" where words.count == 1: return .help
        case "SET":
            let rest = text.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines)
            if rest.isEmpty { return .listProperties }
            guard let equals = indexOutsideQuotes(of: "=", in: rest) else {
                throw CLIError.usage("SET needs the form SET 'key' = 'value';")
            }
            let key = unquote(String(rest[..<equals]))
            let value = unquote(String(rest[rest.index(after: equals)...]))
            guard !key.isEmpty else { throw CLIError.usage("SET needs a key: SET 'key' = 'value';") }
            return .set(key, value)
        case "RESET":
            let rest = text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)
            return .reset(rest.isEmpty ? nil : unquote(rest))
        case "USE":
            guard words.count >= 2 else { return nil }
            let rest = text.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines)
            if words[1].uppercased() == "CATALOG" {
                let name = rest.dropFirst("CATALOG".count).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !name.isEmpty else { throw CLIError.usage("USE CATALOG needs a catalog name.") }
                return .useCatalog(unquote(name))
            }
            let parts = splitIdentifier(rest)
            if parts.count == 2 { return .useDatabase(catalog: parts[0], database: parts[1]) }
            guard parts.count == 1 else { return nil }
            return .useDatabase(catalog: nil, database: parts[0])
        default:
            return nil
        }
    }

    private static func indexOutsideQuotes(of target: Character, in text: String) -> String.Index? {
        var quote: Character?
        for index in text.indices {
            let character = text[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "`" || character == "\"" {
                quote = character
            } else if character == target {
                return index
            }
        }
        return nil
    }

    /// `'a''b'` → `a'b`, `` `x` `` → `x`; bare text is trimmed.
    static func unquote(_ raw: String) -> String {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count >= 2, let first = text.first, first == text.last, ["'", "`", "\""].contains(first) else { return text }
        let inner = String(text.dropFirst().dropLast())
        return inner.replacingOccurrences(of: String([first, first]), with: String(first))
    }

    /// `` `cat`.`db` `` → `["cat", "db"]`, keeping dots inside backticks.
    static func splitIdentifier(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "`" {
                quoted.toggle()
            } else if character == "." && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }
}

extension Array where Element == (String, String) {
    mutating func set(_ key: String, _ value: String) {
        if let index = firstIndex(where: { $0.0 == key }) { self[index].1 = value } else { append((key, value)) }
    }
}
