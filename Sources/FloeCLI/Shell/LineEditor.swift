// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// What reading a line produced.
enum LineInput: Equatable {
    case line(String)
    /// Ctrl-C: the line (and any statement being continued) is abandoned.
    case interrupted
    /// Ctrl-D on an empty line, or the end of input.
    case endOfInput
}

/// An editable input line with history: arrows, Home/End, Ctrl-A/E/B/F/K/U/W/L, Backspace/Delete, and a
/// horizontally scrolling view when the line is wider than the terminal.
final class LineEditor {
    private let keyboard: KeyboardInput
    private let terminal: Terminal
    private(set) var history: [String]
    private let historyFile: URL?
    private let historyLimit = 1000
    /// Tab completion: given the word before the cursor, what to put in its place and the choices to list.
    var completer: ((String) async -> (replacement: String, choices: [String])?)?

    init(keyboard: KeyboardInput, terminal: Terminal, historyFile: URL?) {
        self.keyboard = keyboard
        self.terminal = terminal
        self.historyFile = historyFile
        if let historyFile, let text = try? String(contentsOf: historyFile, encoding: .utf8) {
            history = text.split(separator: "\n").map { String($0).replacingOccurrences(of: "\\n", with: "\n") }
        } else {
            history = []
        }
    }

    /// Records a submitted statement (kept in the history file, newest last).
    func remember(_ entry: String) {
        let flat = entry.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !flat.isEmpty, history.last != flat else { return }
        history.append(flat)
        if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
        guard let historyFile else { return }
        let text = history.map { $0.replacingOccurrences(of: "\n", with: "\\n") }.joined(separator: "\n") + "\n"
        try? FileManager.default.createDirectory(at: historyFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: historyFile.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    }

    /// Reads one line after `prompt`.
    func readLine(prompt: String) async -> LineInput {
        var buffer: [Character] = []
        var cursor = 0
        var historyIndex = history.count
        var draft: [Character] = []
        render(prompt, buffer, cursor)
        while let key = await keyboard.nextKey() {
            switch key {
            case .enter:
                write("\r\n")
                return .line(String(buffer))
            case .character(let character):
                buffer.insert(character, at: cursor)
                cursor += 1
            case .tab:
                let start = SQLCompletion.wordStart(in: buffer, cursor: cursor)
                guard start < cursor, let completer else {
                    // Nothing to complete: Tab indents (statements span several lines).
                    buffer.insert(contentsOf: "  ", at: cursor)
                    cursor += 2
                    break
                }
                let word = String(buffer[start..<cursor])
                guard let completion = await completer(word) else {
                    write("\u{07}")
                    break
                }
                buffer.replaceSubrange(start..<cursor, with: completion.replacement)
                cursor = start + completion.replacement.count
                if completion.replacement == word, !completion.choices.isEmpty {
                    // No more to insert: list the choices under the line, then draw the line again.
                    let shown = completion.choices.prefix(60).joined(separator: "  ")
                    let more = completion.choices.count > 60 ? "  … \(completion.choices.count - 60) more" : ""
                    write("\r\n" + shown + more + "\r\n")
                }
            case .backspace, .control("h"):
                if cursor > 0 {
                    buffer.remove(at: cursor - 1)
                    cursor -= 1
                }
            case .delete:
                if cursor < buffer.count { buffer.remove(at: cursor) }
            case .left, .control("b"): cursor = max(0, cursor - 1)
            case .right, .control("f"): cursor = min(buffer.count, cursor + 1)
            case .home, .control("a"): cursor = 0
            case .end, .control("e"): cursor = buffer.count
            case .control("k"): buffer.removeSubrange(cursor...)
            case .control("u"):
                buffer.removeSubrange(..<cursor)
                cursor = 0
            case .control("w"):
                var start = cursor
                while start > 0, buffer[start - 1] == " " { start -= 1 }
                while start > 0, buffer[start - 1] != " " { start -= 1 }
                buffer.removeSubrange(start..<cursor)
                cursor = start
            case .control("l"): write("\u{1B}[H\u{1B}[2J")
            case .up:
                guard historyIndex > 0 else { break }
                if historyIndex == history.count { draft = buffer }
                historyIndex -= 1
                buffer = Array(history[historyIndex].replacingOccurrences(of: "\n", with: " "))
                cursor = buffer.count
            case .down:
                guard historyIndex < history.count else { break }
                historyIndex += 1
                buffer = historyIndex == history.count ? draft : Array(history[historyIndex].replacingOccurrences(of: "\n", with: " "))
                cursor = buffer.count
            case .control("c"):
                write("^C\r\n")
                return .interrupted
            case .control("d"):
                if buffer.isEmpty {
                    write("\r\n")
                    return .endOfInput
                }
                if cursor < buffer.count { buffer.remove(at: cursor) }
            default:
                break
            }
            render(prompt, buffer, cursor)
        }
        return .endOfInput
    }

    /// Redraws the prompt and the visible part of the line, then places the cursor.
    private func render(_ prompt: String, _ buffer: [Character], _ cursor: Int) {
        let available = max(10, terminal.size.columns - prompt.displayWidth - 1)
        var start = 0
        if cursor > available - 1 { start = cursor - (available - 1) }
        let end = min(buffer.count, start + available)
        let visible = String(buffer[start..<end])
        let back = end - cursor
        write("\r\u{1B}[2K" + prompt + visible + (back > 0 ? "\u{1B}[\(back)D" : ""))
    }
}
