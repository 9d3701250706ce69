// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// RFC 6902 JSON Patch over ``JSONValue``. Operation names are accepted in any case (`replace`, `REPLACE`), since
/// Confluent's clients send both.
public enum JSONPatch {
    /// Applies the operations in `patch` (a JSON array of `{op, path, value|from}`) to `document`.
    /// - Throws: ``APIError`` 400 for a malformed patch or a path that does not exist, 409 for a failed `test`.
    public static func apply(_ patch: JSONValue, to document: JSONValue) throws(APIError) -> JSONValue {
        guard case .array(let operations) = patch else {
            throw .badRequest("A JSON Patch body must be an array of operations.")
        }
        var result = document
        for (index, operation) in operations.enumerated() {
            guard case .object = operation, case .string(let op)? = operation["op"], case .string(let path)? = operation["path"] else {
                throw .badRequest("Operation \(index) of the patch needs string members 'op' and 'path'.", pointer: "/\(index)")
            }
            let tokens = try pointerTokens(path, index: index)
            switch op.lowercased() {
            case "add":
                result = try set(result, at: tokens[...], to: try value(of: operation, index: index), inserting: true, index: index)
            case "replace":
                _ = try get(result, at: tokens[...], index: index)
                result = try set(result, at: tokens[...], to: try value(of: operation, index: index), inserting: false, index: index)
            case "remove":
                result = try remove(result, at: tokens[...], index: index)
            case "test":
                guard try get(result, at: tokens[...], index: index) == (try value(of: operation, index: index)) else {
                    throw .conflict("The patch test at \(path) failed.", code: "conflict")
                }
            case "move", "copy":
                guard case .string(let from)? = operation["from"] else {
                    throw .badRequest("Operation \(index) (\(op)) needs a string member 'from'.", pointer: "/\(index)")
                }
                let fromTokens = try pointerTokens(from, index: index)
                let moved = try get(result, at: fromTokens[...], index: index)
                if op.lowercased() == "move" { result = try remove(result, at: fromTokens[...], index: index) }
                result = try set(result, at: tokens[...], to: moved, inserting: true, index: index)
            default:
                throw .badRequest(
                    "Operation \(index) has an unknown op '\(op)'; use add, remove, replace, move, copy or test.", pointer: "/\(index)/op")
            }
        }
        return result
    }

    static func value(of operation: JSONValue, index: Int) throws(APIError) -> JSONValue {
        guard let value = operation["value"] else {
            throw .badRequest("Operation \(index) needs a member 'value'.", pointer: "/\(index)")
        }
        return value
    }

    static func pointerTokens(_ path: String, index: Int) throws(APIError) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else {
            throw .badRequest("The path '\(path)' of operation \(index) is not a JSON pointer.", pointer: "/\(index)/path")
        }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func missing(_ tokens: ArraySlice<String>, index: Int) -> APIError {
        .badRequest("Operation \(index) names a path that does not exist (at '\(tokens.first ?? "")').", pointer: "/\(index)/path")
    }

    static func get(_ value: JSONValue, at tokens: ArraySlice<String>, index: Int) throws(APIError) -> JSONValue {
        guard let token = tokens.first else { return value }
        switch value {
        case .object(let members):
            guard let member = members.last(where: { $0.0 == token }) else { throw missing(tokens, index: index) }
            return try get(member.1, at: tokens.dropFirst(), index: index)
        case .array(let items):
            guard let position = Int(token), items.indices.contains(position) else { throw missing(tokens, index: index) }
            return try get(items[position], at: tokens.dropFirst(), index: index)
        default:
            throw missing(tokens, index: index)
        }
    }

    static func set(
        _ value: JSONValue, at tokens: ArraySlice<String>, to newValue: JSONValue, inserting: Bool, index: Int
    ) throws(APIError) -> JSONValue {
        guard let token = tokens.first else { return newValue }
        let rest = tokens.dropFirst()
        switch value {
        case .object(var members):
            if let position = members.lastIndex(where: { $0.0 == token }) {
                members[position].1 = try set(members[position].1, at: rest, to: newValue, inserting: inserting, index: index)
            } else if rest.isEmpty {
                members.append((token, newValue))
            } else {
                throw missing(tokens, index: index)
            }
            return .object(members)
        case .array(var items):
            if rest.isEmpty && inserting {
                if token == "-" {
                    items.append(newValue)
                    return .array(items)
                }
                guard let position = Int(token), position >= 0, position <= items.count else { throw missing(tokens, index: index) }
                items.insert(newValue, at: position)
                return .array(items)
            }
            guard let position = Int(token), items.indices.contains(position) else { throw missing(tokens, index: index) }
            items[position] = try set(items[position], at: rest, to: newValue, inserting: inserting, index: index)
            return .array(items)
        default:
            throw missing(tokens, index: index)
        }
    }

    static func remove(_ value: JSONValue, at tokens: ArraySlice<String>, index: Int) throws(APIError) -> JSONValue {
        guard let token = tokens.first else { throw .badRequest("Operation \(index) cannot remove the whole document.", pointer: "/\(index)/path") }
        let rest = tokens.dropFirst()
        switch value {
        case .object(var members):
            guard let position = members.lastIndex(where: { $0.0 == token }) else { throw missing(tokens, index: index) }
            if rest.isEmpty { members.remove(at: position) } else { members[position].1 = try remove(members[position].1, at: rest, index: index) }
            return .object(members)
        case .array(var items):
            guard let position = Int(token), items.indices.contains(position) else { throw missing(tokens, index: index) }
            if rest.isEmpty { items.remove(at: position) } else { items[position] = try remove(items[position], at: rest, index: index) }
            return .array(items)
        default:
            throw missing(tokens, index: index)
        }
    }
}

extension JSONPatch {
    /// One place where a patched document differs from the original.
    public struct Change: Sendable, Equatable {
        /// The JSON pointer of the member or element that was added, removed or replaced.
        public var pointer: String
        /// Whether the patched document no longer has anything there.
        public var removed: Bool
    }

    /// Where `patched` differs from `original`: the outermost differing members and elements, so that a client's patch
    /// can be checked against what may change (a patch that changes something else must be refused, not ignored).
    public static func changes(from original: JSONValue, to patched: JSONValue) -> [Change] {
        var changes: [Change] = []
        collect(original, patched, at: "", into: &changes)
        return changes
    }

    private static func collect(_ original: JSONValue, _ patched: JSONValue, at pointer: String, into changes: inout [Change]) {
        func escaped(_ token: String) -> String { token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
        switch (original, patched) {
        case (.object(let before), .object(let after)):
            for (key, value) in before {
                let child = pointer + "/" + escaped(key)
                if let now = patched[key] {
                    collect(value, now, at: child, into: &changes)
                } else {
                    changes.append(Change(pointer: child, removed: true))
                }
            }
            for (key, _) in after where original[key] == nil { changes.append(Change(pointer: pointer + "/" + escaped(key), removed: false)) }
        case (.array(let before), .array(let after)) where before.count == after.count:
            for (index, pair) in zip(before, after).enumerated() { collect(pair.0, pair.1, at: "\(pointer)/\(index)", into: &changes) }
        default:
            if original != patched { changes.append(Change(pointer: pointer, removed: false)) }
        }
    }
}
