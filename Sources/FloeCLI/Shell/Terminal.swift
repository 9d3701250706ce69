// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The controlling terminal of the shell: raw mode on standard input, its size, and a key stream.
final class Terminal: Sendable {
    private let original: Mutex<termios?> = Mutex(nil)

    /// Whether standard input and output are both terminals (the interactive shell needs both).
    static var isInteractive: Bool { isatty(0) == 1 && isatty(1) == 1 }

    /// Switches standard input to raw mode: bytes arrive one by one, unechoed, Ctrl-C is a byte rather than a signal.
    /// Output processing stays on, so `\n` still starts a new line.
    func enableRawMode() {
        var settings = termios()
        guard tcgetattr(0, &settings) == 0 else { return }
        original.withLock { if $0 == nil { $0 = settings } }
        settings.c_iflag &= ~tcflag_t(ICRNL | IXON | BRKINT | INPCK | ISTRIP)
        settings.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        settings.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &settings.c_cc) { bytes in
            bytes[Int(VMIN)] = 1
            bytes[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSAFLUSH, &settings)
    }

    /// Restores the settings found before raw mode.
    func restore() {
        original.withLock { saved in
            guard var settings = saved else { return }
            tcsetattr(0, TCSAFLUSH, &settings)
        }
    }

    /// Columns and rows (80×24 when unknown).
    var size: (columns: Int, rows: Int) {
        var window = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0 { return (Int(window.ws_col), Int(window.ws_row)) }
        return (80, 24)
    }
}

/// Bytes typed on standard input, read by a dedicated thread (a blocking `read` must not occupy the
/// concurrency pool) and handed to one consumer at a time; waiting is cancellable.
final class KeyboardInput: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var waiter: CheckedContinuation<UInt8?, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Starts the reader thread on standard input.
    static func standardInput() -> KeyboardInput {
        let input = KeyboardInput()
        let thread = Thread {
            var chunk = [UInt8](repeating: 0, count: 256)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    input.close()
                    return
                }
                input.push(Array(chunk[0..<count]))
            }
        }
        thread.start()
        return input
    }

    func push(_ bytes: [UInt8]) {
        let handOff: (CheckedContinuation<UInt8?, Never>, UInt8)? = state.withLock { state in
            state.buffer.append(contentsOf: bytes)
            guard let waiter = state.waiter, !state.buffer.isEmpty else { return nil }
            state.waiter = nil
            return (waiter, state.buffer.removeFirst())
        }
        if let (waiter, byte) = handOff { waiter.resume(returning: byte) }
    }

    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<UInt8?, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next byte; `nil` at end of input or when the waiting task is cancelled.
    func next() async -> UInt8? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<UInt8?, Never>) in
                let immediate: UInt8?? = state.withLock { state in
                    if !state.buffer.isEmpty { return .some(state.buffer.removeFirst()) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if case .some(let value) = immediate { continuation.resume(returning: value) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<UInt8?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Whether a byte is already waiting (to tell a lone Escape from an escape sequence).
    var hasPendingInput: Bool { state.withLock { !$0.buffer.isEmpty } }
}

/// A key press decoded from the byte stream.
enum Key: Equatable, Sendable {
    case character(Character)
    case enter, backspace, delete, tab
    case left, right, up, down, home, end
    case control(Character)  // Ctrl-A … Ctrl-Z, lower-case letter
    case escape
}

extension KeyboardInput {
    /// The next key; `nil` at end of input or on cancellation.
    func nextKey() async -> Key? {
        guard let byte = await next() else { return nil }
        switch byte {
        case 0x0D, 0x0A: return .enter
        case 0x7F, 0x08: return .backspace
        case 0x09: return .tab
        case 0x1B:
            // Give a sequence a moment to arrive; a lone Escape stays a key.
            if !hasPendingInput { try? await Task.sleep(for: .milliseconds(30)) }
            guard hasPendingInput, let introducer = await next() else { return .escape }
            guard introducer == UInt8(ascii: "[") || introducer == UInt8(ascii: "O") else { return .escape }
            var parameters = ""
            while let next = await next() {
                if (0x30...0x3F).contains(next) {
                    parameters.append(Character(UnicodeScalar(next)))
                    continue
                }
                switch next {
                case UInt8(ascii: "A"): return .up
                case UInt8(ascii: "B"): return .down
                case UInt8(ascii: "C"): return .right
                case UInt8(ascii: "D"): return .left
                case UInt8(ascii: "H"): return .home
                case UInt8(ascii: "F"): return .end
                case UInt8(ascii: "~"):
                    switch parameters {
                    case "1", "7": return .home
                    case "4", "8": return .end
                    case "3": return .delete
                    default: return .escape
                    }
                default: return .escape
                }
            }
            return nil
        case 0x01...0x1A: return .control(Character(UnicodeScalar(byte + 0x60)))
        default:
            // UTF-8: gather the continuation bytes of a multi-byte character.
            var bytes = [byte]
            let expected = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            while bytes.count < expected, let next = await next() { bytes.append(next) }
            return String(decoding: bytes, as: UTF8.self).first.map(Key.character) ?? .escape
        }
    }
}
