// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import Foundation

/// One request to a Flink REST endpoint over ``FloeClient``'s HTTP/1.1, with Flink's error bodies turned into
/// ``FlinkRESTError``s. Shared by the gateway and the JobManager clients, whose servers both answer errors as
/// `{"errors": [...]}` (Flink's `ErrorResponseBody`).
struct FlinkREST: Sendable {
    let client: FloeClient

    init(baseURL: String, timeout: Duration) {
        client = FloeClient(baseURL: baseURL, timeout: timeout)
    }

    /// The server's base URL, without a trailing `/`.
    var baseURL: String { client.baseURL }

    /// The URL a path names, for messages.
    func address(_ path: String) -> String { path.hasPrefix("http://") || path.hasPrefix("https://") ? path : client.baseURL + path }

    /// Sends a request; the body of a 2xx answer.
    /// - Throws: ``FlinkRESTError`` for transport failures and error statuses; `CancellationError` when the task is
    ///   cancelled.
    func send(_ method: String, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil) async throws -> [UInt8] {
        let response: FloeResponse
        do {
            response = try await client.send(method, path, query: query, json: json, headers: [("Accept", "application/json")])
        } catch let error as FloeClientError {
            switch error {
            case .timedOut(let limit): throw FlinkRESTError.timedOut(address: address(path), after: limit)
            case .responseTooLarge(let limit): throw FlinkRESTError.responseTooLarge(address: address(path), limit: limit)
            default: throw FlinkRESTError.unreachable(address: address(path), reason: error.description)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw FlinkRESTError.unreachable(address: address(path), reason: String(describing: error))
        }
        guard (200..<300).contains(response.status) else {
            throw Self.statusError(code: response.status, address: address(path), body: response.body)
        }
        return response.body
    }

    /// Sends a request; the JSON object of a 2xx answer (an empty body reads as `{}`).
    func object(_ method: String, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil) async throws -> JSONValue {
        let body = try await send(method, path, query: query, json: json)
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .object([]) }
        guard let value = try? JSONValue.parse(body) else { throw FlinkRESTError.malformedResponse(address: address(path), field: "(body)") }
        return value
    }

    /// The error of a non-2xx answer. Flink's bodies list messages in `errors`; a server-side exception comes as
    /// `"Internal server error."` followed by the trace, whose root cause is the message.
    static func statusError(code: Int, address: String, body: [UInt8]) -> FlinkRESTError {
        let messages = (try? JSONValue.parse(body))?["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let exception = messages.lazy.compactMap { FlinkException(stackTrace: $0) }.last
        let message: String
        if let exception {
            message = exception.summary
        } else if !messages.isEmpty {
            message = messages.joined(separator: "; ")
        } else {
            let text = String(decoding: body.prefix(2048), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            message = text.isEmpty ? "HTTP \(code)" : text
        }
        return .status(code: code, address: address, message: message, exception: exception)
    }
}

extension String {
    /// The text with every character outside RFC 3986's unreserved set percent-encoded: for path segments built from
    /// handles and ids (which Flink makes of hex digits and dashes, but a stored handle is still input).
    var flinkPathSegment: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}
