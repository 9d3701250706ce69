// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// A running query's results drawn in place on the terminal: the table (changelog applied) or the changelog itself,
/// redrawn as pages arrive. Q or Ctrl-C stops the statement; M switches views; it ends by itself when the statement
/// can produce nothing more. The last drawing stays on the screen.
struct LiveResultView {
    let api: StatementAPI
    let name: String
    let columns: [String]
    let upsertColumns: [Int]
    let keyboard: KeyboardInput
    let terminal: Terminal

    private enum Event: Sendable {
        case page(ResultPage)
        /// The statement can produce nothing more; `state` is how it ended (its phase, with the detail of a failure).
        case ended(state: String)
        /// Following failed (the server could not be reached for a while, or the statement went away); `state` is
        /// the statement's phase as last read, which this failure says nothing about.
        case followFailed(state: String, reason: String)
        case key(Key)
    }

    /// Shows results until the statement ends or the user stops it; returns the statement as last read.
    func run() async throws -> JSONValue {
        var table = ChangelogTable(upsertColumns: upsertColumns)
        var showChangelog = false
        var drawnLines = 0
        var state = "RUNNING"
        var finished = false
        var stoppedByUser = false
        var followLost = false
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let api = self.api
        let name = self.name
        let keyboard = self.keyboard
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await api.follow(name) { page in
                        continuation.yield(.page(page))
                        return !Task.isCancelled
                    }
                    if !Task.isCancelled { continuation.yield(.ended(state: await Self.state(of: api, name, default: "COMPLETED"))) }
                } catch {
                    if !Task.isCancelled {
                        let state = await Self.state(of: api, name, default: "UNKNOWN")
                        continuation.yield(.followFailed(state: state, reason: String(describing: error)))
                    }
                }
                continuation.finish()
            }
            group.addTask {
                while let key = await keyboard.nextKey() { continuation.yield(.key(key)) }
            }
            drawnLines = draw(table, showChangelog: showChangelog, state: state, previous: drawnLines)
            loop: for await event in events {
                switch event {
                case .page(let page):
                    table.apply(page.changes)
                case .ended(let ended):
                    state = ended
                    finished = true
                case .followFailed(let phase, let reason):
                    state = "\(phase) · stopped following the results: \(reason)"
                    finished = true
                    followLost = phase == "RUNNING" || phase == "PENDING"
                case .key(let key):
                    switch key {
                    case .control("c"), .character("q"), .character("Q"):
                        stoppedByUser = true
                        state = "STOPPING"
                    case .character("m"), .character("M"):
                        showChangelog.toggle()
                    default:
                        continue loop
                    }
                }
                drawnLines = draw(table, showChangelog: showChangelog, state: state, previous: drawnLines)
                if stoppedByUser || finished { break loop }
            }
            group.cancelAll()
            continuation.finish()
        }
        if stoppedByUser {
            try await api.setStopped(name, true)
            state = "STOPPED"
            drawnLines = draw(table, showChangelog: showChangelog, state: state, previous: drawnLines)
        } else if followLost {
            // The shell started this statement and can no longer show it: stop it rather than leave it running unseen.
            if (try? await api.setStopped(name, true)) != nil { write("Statement \(name) has been stopped.\n") }
        }
        return try await api.get(name)
    }

    /// A statement's phase as the view's state line shows it: the detail of a failure follows its phase.
    private static func state(of api: StatementAPI, _ name: String, default fallback: String) async -> String {
        guard let statement = try? await api.get(name), let phase = statement.value(at: "status", "phase")?.stringValue else { return fallback }
        guard phase == "FAILED" else { return phase }
        let detail = await api.failureDetail(statement)
        return "FAILED: " + detail
    }

    /// Draws the view over the previous drawing; returns the number of lines drawn.
    private func draw(_ table: ChangelogTable, showChangelog: Bool, state: String, previous: Int) -> Int {
        let size = terminal.size
        let width = max(20, size.columns - 1)
        // Everything drawn must fit above the cursor's line: a drawing as tall as the screen scrolls it by a line,
        // and the next redraw, which moves up over the lines it drew, can no longer reach the header.
        // Lines besides the rows: header, rule, the "earlier rows" notice, a blank line and the summary.
        let maxRows = max(1, size.rows - 6)
        var titles = columns
        var rows: [[String]]
        var hidden = 0
        if showChangelog {
            titles.insert("Op", at: 0)
            let changes = table.recentChanges.suffix(maxRows)
            hidden = table.recentChanges.count - changes.count
            rows = changes.map { [$0.operation.symbol] + $0.values.map(resultText) }
        } else {
            let shown = table.rows.suffix(maxRows)
            hidden = table.rows.count - shown.count
            rows = shown.map { $0.map(resultText) }
        }
        rows = rows.map { $0.map { $0.replacingOccurrences(of: "\n", with: " ").truncated(to: 40) } }
        var lines = TextTable.columns(titles: titles, rows: rows).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if hidden > 0 { lines.insert("… \(hidden) earlier \(showChangelog ? "changes" : "rows") not shown", at: 2) }
        let view = showChangelog ? "changelog" : "table"
        let rowCount = table.rows.count
        let summary =
            "Statement \(name): \(state) · \(rowCount) row\(rowCount == 1 ? "" : "s") · \(table.changeCount) change\(table.changeCount == 1 ? "" : "s") · \(view) view"
        lines.append("")
        lines.append(state == "RUNNING" ? summary + " · M: switch view · Q/Ctrl-C: stop" : summary)
        var output = previous > 0 ? "\r\u{1B}[\(previous)A\u{1B}[J" : "\r\u{1B}[J"
        for line in lines { output += line.truncated(to: width) + "\n" }
        write(output)
        return lines.count
    }
}
