// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Hummingbird

/// An `application/x-www-form-urlencoded` body or query string, decoded by Hummingbird's `URLEncodedFormDecoder`.
///
/// The console's forms are flat (`name=value&…`), so they decode as `[String: String]`. What a browser never sends for
/// them is refused rather than guessed at: a name given twice, a structured name (`a[b]=…`), a malformed
/// percent-escape.
struct FormBody: Sendable {
    private(set) var fields: [String: String] = [:]

    init(_ fields: [String: String] = [:]) {
        self.fields = fields
    }

    /// Decodes `name=value&…` (`+` is a space; percent-escapes are UTF-8).
    /// - Throws: ``ConsoleError/badRequest(_:)`` when the text is not such a form.
    init(encoded text: String) throws(ConsoleError) {
        do {
            fields = try URLEncodedFormDecoder().decode([String: String].self, from: text)
        } catch {
            throw ConsoleError.badRequest("The form could not be read (\(error)).")
        }
    }

    /// The value of `name`, trimmed of surrounding white space; `nil` when missing or blank.
    subscript(name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// The value of `name` exactly as sent (SQL text keeps its white space).
    func raw(_ name: String) -> String? { fields[name] }

    /// Percent-encodes a path segment, query or form component (everything but RFC 3986's unreserved characters).
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static let unreserved: CharacterSet = {
        var set = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        set.insert(charactersIn: "-._~")
        return set
    }()
}
