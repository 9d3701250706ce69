// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import HTTPTypes
import Hummingbird
import NIOCore

/// Responses of the Schema Registry data plane: `application/vnd.schemaregistry.v1+json` bodies, and errors as
/// `{"error_code": N, "message": "…"}`.
enum SchemaRegistryResponse {
    /// The registry's media type, which its clients ask for first.
    static let contentType = "application/vnd.schemaregistry.v1+json"

    /// A response with `body` serialized as compact JSON.
    static func make(_ status: HTTPResponse.Status, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        raw(status, body.serialized(), headers: headers)
    }

    /// A response whose body is `bytes` as they are (a schema's own text for the `…/schema` routes).
    static func raw(_ status: HTTPResponse.Status, _ bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = contentType
        fields[.contentLength] = String(bytes.count)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The registry's error body for one of its own errors.
    static func error(_ error: SchemaRegistryError) -> Response {
        make(
            HTTPResponse.Status(code: error.httpStatus),
            ["error_code": .int(Int64(error.errorCode)), "message": .string(error.message)])
    }

    /// An error of Floe's HTTP layer (authentication, authorization, rate limits, unknown routes, bodies) in the
    /// registry's format. Confluent's registry uses the HTTP status as the code for these, except 40301 for a
    /// forbidden operation and 50001 for a failure of its store.
    static func error(_ error: APIError) -> Response {
        let code: Int
        switch error.status {
        case 403: code = 40301
        case 500: code = 50001
        default: code = error.status
        }
        var headers: HTTPFields = [:]
        if error.status == 401 { headers[.wwwAuthenticate] = #"Basic realm="floe-schema-registry""# }
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        return make(
            HTTPResponse.Status(code: error.status), ["error_code": .int(Int64(code)), "message": .string(error.detail)], headers: headers)
    }
}
