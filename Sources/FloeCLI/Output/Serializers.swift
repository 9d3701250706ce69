// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// JSON indented by two spaces, as the `confluent` CLI prints it.
enum PrettyJSON {
    static func render(_ value: JSONValue, indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch value {
        case .array(let elements):
            guard !elements.isEmpty else { return "[]" }
            return "[\n" + elements.map { pad + render($0, indent: indent + 1) }.joined(separator: ",\n") + "\n" + closing + "]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            return "{\n"
                + members.map { pad + JSONValue.string($0.0).serializedString + ": " + render($0.1, indent: indent + 1) }.joined(separator: ",\n")
                + "\n" + closing + "}"
        default:
            return value.serializedString
        }
    }
}

/// A small YAML emitter for the CLI's flat records (nested maps and lists are indented block style).
enum YAMLWriter {
    /// A top-level sequence of mappings (`- key: value`).
    static func sequence(_ items: [JSONValue]) -> String {
        items.map { item -> String in
            let body = block(item, indent: 1)
            return "- " + body.dropFirst(2)
        }.joined()
    }

    /// A top-level mapping.
    static func mapping(_ value: JSONValue) -> String { block(value, indent: 0) }

    private static func block(_ value: JSONValue, indent: Int) -> String {
        let pad = String(repeating: "  ", count: indent)
        switch value {
        case .object(let members):
            if members.isEmpty { return pad + "{}\n" }
            return members.map { key, member -> String in
                switch member {
                case .object(let inner) where !inner.isEmpty: return pad + scalar(.string(key)) + ":\n" + block(member, indent: indent + 1)
                case .array(let inner) where !inner.isEmpty: return pad + scalar(.string(key)) + ":\n" + block(member, indent: indent + 1)
                default: return pad + scalar(.string(key)) + ": " + scalar(member) + "\n"
                }
            }.joined()
        case .array(let elements):
            if elements.isEmpty { return pad + "[]\n" }
            return elements.map { element -> String in
                switch element {
                case .object(let inner) where !inner.isEmpty:
                    let body = block(element, indent: indent + 1)
                    return pad + "- " + body.dropFirst(pad.count + 2)
                default: return pad + "- " + scalar(element) + "\n"
                }
            }.joined()
        default:
            return pad + scalar(value) + "\n"
        }
    }

    /// A scalar, quoted (JSON style, which YAML accepts) whenever plain style could be misread.
    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool, .int, .double: return value.serializedString
        case .object(let members) where members.isEmpty: return "{}"
        case .array(let elements) where elements.isEmpty: return "[]"
        case .object, .array: return value.serializedString
        case .string(let text): return needsQuotes(text) ? value.serializedString : text
        }
    }

    private static func needsQuotes(_ text: String) -> Bool {
        if text.isEmpty || text != text.trimmingSpaces { return true }
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"]
        if reserved.contains(text.lowercased()) || Double(text) != nil || Int(text) != nil { return true }
        if let first = text.unicodeScalars.first, "-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) { return true }
        if text.contains(": ") || text.contains(" #") || text.hasSuffix(":") { return true }
        return text.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{7F}" }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars.removeFirst() }
        while scalars.last == " " { scalars.removeLast() }
        return String(scalars)
    }
}
