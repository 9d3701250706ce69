// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Asks `Are you sure …? (y/n):` on standard error and reads the answer from standard input.
///
/// An answer piped in (`yes | floe …`) counts as much as a typed one. When standard input ends with no answer (no
/// terminal to ask, nothing piped: a script, CI, `</dev/null`), the command must not quietly succeed having done
/// nothing: that is an error naming `--force`.
func confirm(_ question: String) throws -> Bool {
    writeError("\(question) (y/n): ")
    guard let answer = readLine() else {
        writeError("\n")
        let why = isatty(0) == 1 ? "no answer was given" : "standard input is not a terminal and gave no answer"
        throw CLIError.usage("Cannot confirm: \(why). Pass --force to go ahead without the prompt.")
    }
    return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
}

/// Deletes each id after one confirmation (skipped with `--force`); returns false if the user declined.
func confirmDeletion(of resource: String, ids: [String], force: Bool) throws -> Bool {
    if force { return true }
    let list = ids.map { "\"\($0)\"" }.joined(separator: ", ")
    guard try confirm("Are you sure you want to delete \(resource) \(list)?") else {
        writeError("Nothing was deleted.\n")
        return false
    }
    return true
}

/// A one-line progress indicator on standard error while the CLI waits (only on a terminal).
final class ProgressLine: @unchecked Sendable {
    // @unchecked: used from one task at a time (the command that waits).
    private let enabled = FileOutput.standardError.isTerminal
    private var frame = 0
    private var shown = false
    private static let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    /// Redraws the line with `text`.
    func update(_ text: String) {
        guard enabled else { return }
        frame = (frame + 1) % Self.frames.count
        writeError("\r\u{1B}[2K\(Self.frames[frame]) \(text)")
        shown = true
    }

    /// Clears the line.
    func finish() {
        guard enabled, shown else { return }
        writeError("\r\u{1B}[2K")
        shown = false
    }
}
