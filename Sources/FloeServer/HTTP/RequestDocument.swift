// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Hummingbird
import NIOCore

/// A parsed JSON request body with typed, pointer-addressed accessors.
///
/// Liberal in what it accepts: any Content-Type, unknown members, and `null` for any member (treated as absent).
/// Precise in what it refuses: a member of the wrong type is a 400 naming its JSON pointer.
struct RequestDocument {
    let root: JSONValue

    /// Reads and parses the body of `request`.
    /// - Throws: ``APIError`` 400 for an empty or malformed body, 413 for an oversized one.
    static func read(_ request: Request, context: FloeRequestContext, allowEmpty: Bool = false) async throws -> RequestDocument {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            throw APIError.contentTooLarge("The request body is larger than \(context.maxUploadSize) bytes.")
        }
        let bytes = buffer.readableBytesView
        if bytes.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
            if allowEmpty { return RequestDocument(root: .object([])) }
            throw APIError.badRequest("A JSON request body is required.")
        }
        do {
            return RequestDocument(root: try JSONValue.parse(bytes))
        } catch {
            throw APIError.malformedJSON(error.description)
        }
    }

    init(root: JSONValue) { self.root = root }

    /// Requires the document to be an object.
    func requireObject() throws(APIError) {
        guard case .object = root else { throw APIError.badRequest("The request body must be a JSON object, not \(root.typeName).") }
    }

    /// The value at `pointer` (`/spec/display_name`), or `nil` if it or a parent is missing or `null`.
    /// - Throws: ``APIError`` 400 if a parent on the way is not an object.
    func value(_ pointer: String) throws(APIError) -> JSONValue? {
        var current = root
        var walked = ""
        for component in pointer.split(separator: "/") {
            guard case .object = current else {
                throw APIError.badRequest(
                    "\(walked.isEmpty ? "The request body" : walked) must be an object.", pointer: walked.isEmpty ? "/" : walked)
            }
            walked += "/" + component
            guard let next = current[String(component)], !next.isNull else { return nil }
            current = next
        }
        return current
    }

    /// A string member; `nil` when absent or `null`.
    func string(_ pointer: String) throws(APIError) -> String? {
        guard let value = try value(pointer) else { return nil }
        guard case .string(let text) = value else { throw wrongType(pointer, "a string", value) }
        return text
    }

    /// A required string member.
    func requiredString(_ pointer: String) throws(APIError) -> String {
        guard let text = try string(pointer) else { throw missing(pointer) }
        return text
    }

    /// An integer member (a JSON number without fraction).
    func int(_ pointer: String) throws(APIError) -> Int? {
        guard let value = try value(pointer) else { return nil }
        switch value {
        case .int(let number) where number >= Int64(Int32.min) && number <= Int64(Int32.max): return Int(number)
        case .double(let number) where number == number.rounded() && abs(number) < 2_147_483_648: return Int(number)
        default: throw wrongType(pointer, "an integer", value)
        }
    }

    /// A boolean member.
    func bool(_ pointer: String) throws(APIError) -> Bool? {
        guard let value = try value(pointer) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(pointer, "a boolean", value) }
        return flag
    }

    func missing(_ pointer: String) -> APIError {
        APIError.badRequest("\(Self.fieldName(pointer)) is required.", pointer: pointer)
    }

    func wrongType(_ pointer: String, _ expected: String, _ value: JSONValue) -> APIError {
        APIError.badRequest("\(Self.fieldName(pointer)) must be \(expected), not \(value.typeName).", pointer: pointer)
    }

    /// `spec.display_name` for `/spec/display_name`.
    static func fieldName(_ pointer: String) -> String {
        pointer.split(separator: "/").joined(separator: ".")
    }
}
