// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Builds HTTP responses with JSON bodies.
enum JSONResponse {
    /// A response with `body` serialized as compact JSON.
    static func make(_ status: HTTPResponse.Status, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        let bytes = body.serialized()
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(bytes.count)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A response without a body (204, or 202 where the API sends none).
    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentLength] = "0"
        return Response(status: status, headers: fields)
    }

    /// The Confluent error envelope for `error`.
    static func envelope(for error: APIError, requestID: String) -> JSONValue {
        var source: [(String, JSONValue)] = []
        if let pointer = error.source.pointer { source.append(("pointer", .string(pointer))) }
        if let parameter = error.source.parameter { source.append(("parameter", .string(parameter))) }
        let entry = JSONValue.object(omittingNil: [
            ("id", .string(requestID)),
            ("status", .string(String(error.status))),
            ("code", error.code.map(JSONValue.string)),
            ("title", .string(error.title)),
            ("detail", .string(error.detail)),
            ("source", .object(source)),
        ])
        return ["errors": [entry]]
    }

    /// The response for `error`, with `WWW-Authenticate` on 401 and `Retry-After` on 429.
    static func error(_ error: APIError, requestID: String) -> Response {
        var headers: HTTPFields = [:]
        if error.status == 401 {
            headers[.wwwAuthenticate] = #"Basic realm="floe", error="invalid_key", error_description="The API Key is invalid""#
        }
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        return make(HTTPResponse.Status(code: error.status), envelope(for: error, requestID: requestID), headers: headers)
    }
}
