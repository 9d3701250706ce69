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
        case failed(String)
        case key(Key)
    }

    /// Shows results until the statement ends or the user stops it; returns the statement as last read.
    func run() async throws -> JSONValue {
        var table = ChangelogTable(upsertColumns: upsertColumns)
        var showChangelog = false
        var drawnLines = 0
        var state = "RUNNING"
        var stoppedByUser = false
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let api = self.api
        let name = self.name
        let keyboard = self.keyboard
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var next: String?
                do {
                    repeat {
                        let page = try await api.results(name, next: next)
                        continuation.yield(.page(page))
                        next = page.next
                    } while next != nil && !Task.isCancelled
                } catch {
                    if !Task.isCancelled { continuation.yield(.failed(String(describing: error))) }
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
                    if page.next == nil { state = "COMPLETED" }
                case .failed(let message):
                    state = "FAILED: \(message)"
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
                if stoppedByUser || state != "RUNNING" { break loop }
            }
            group.cancelAll()
            continuation.finish()
        }
        if stoppedByUser {
            try await api.setStopped(name, true)
            state = "STOPPED"
            drawnLines = draw(table, showChangelog: showChangelog, state: state, previous: drawnLines)
        }
        return try await api.get(name)
    }

    /// Draws the view over the previous drawing; returns the number of lines drawn.
    private func draw(_ table: ChangelogTable, showChangelog: Bool, state: String, previous: Int) -> Int {
        let size = terminal.size
        let width = max(20, size.columns - 1)
        let maxRows = max(3, size.rows - 5)
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
        let summary = "Statement \(name): \(state) · \(rowCount) row\(rowCount == 1 ? "" : "s") · \(table.changeCount) change\(table.changeCount == 1 ? "" : "s") · \(view) view"
        lines.append("")
        lines.append(state == "RUNNING" ? summary + " · M: switch view · Q/Ctrl-C: stop" : summary)
        var output = previous > 0 ? "\r\u{1B}[\(previous)A\u{1B}[J" : "\r\u{1B}[J"
        for line in lines { output += line.truncated(to: width) + "\n" }
        write(output)
        return lines.count
    }
}
