// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// An error the API reports to a client, in Confluent's envelope:
/// `{"errors":[{"id","status","code","title","detail","source"}]}`.
///
/// Every failure a request can meet is expressed as one of these values; the HTTP layer turns them into responses
/// in one place. Details are written for the client: they never carry secrets or internal error text.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the request the problem is: a JSON pointer into the body or a query parameter name.
    public struct Source: Sendable, Equatable {
        public var pointer: String?
        public var parameter: String?

        public init(pointer: String? = nil, parameter: String? = nil) {
            self.pointer = pointer
            self.parameter = parameter
        }
    }

    /// HTTP status code.
    public var status: Int
    /// Machine-readable code, e.g. `resource_not_found`.
    public var code: String?
    /// Short summary of the status, e.g. `Not Found`.
    public var title: String
    /// Human explanation.
    public var detail: String
    /// The offending part of the request.
    public var source: Source
    /// Seconds after which a rate-limited client may retry (429 only).
    public var retryAfter: Int?

    /// Creates an error.
    public init(status: Int, code: String?, title: String? = nil, detail: String, source: Source = Source(), retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.title = title ?? Self.title(for: status)
        self.detail = detail
        self.source = source
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status) \(code ?? title): \(detail)" }

    /// The standard reason phrase for a status.
    public static func title(for status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 402: return "Payment Required"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Content Too Large"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 503: return "Service Unavailable"
        default: return status >= 500 ? "Internal Server Error" : "Error"
        }
    }

    // MARK: Factories

    /// 400: the request is malformed (a body that is not JSON, a field of the wrong type, a bad parameter).
    public static func badRequest(_ detail: String, pointer: String? = nil, parameter: String? = nil) -> APIError {
        APIError(status: 400, code: "bad_request", detail: detail, source: Source(pointer: pointer, parameter: parameter))
    }

    /// 400 for a body that does not parse as JSON.
    public static func malformedJSON(_ detail: String) -> APIError {
        APIError(status: 400, code: "invalid_json", detail: "The request body is not valid JSON: \(detail)")
    }

    /// 400 for a filter or paging parameter that cannot be used.
    public static func invalidParameter(_ name: String, _ detail: String) -> APIError {
        APIError(status: 400, code: "invalid_filter", detail: detail, source: Source(parameter: name))
    }

    /// 401: missing or wrong credentials.
    public static func unauthenticated(_ detail: String = "The API key or secret is missing or invalid.") -> APIError {
        APIError(status: 401, code: "user_unauthenticated", title: "Authentication Required", detail: detail)
    }

    /// 403: the principal is known but lacks the role for this action.
    public static func forbidden(_ detail: String) -> APIError {
        APIError(status: 403, code: "user_unauthorized", detail: detail)
    }

    /// 404: no such resource.
    public static func notFound(_ detail: String, code: String = "resource_not_found") -> APIError {
        APIError(status: 404, code: code, detail: detail)
    }

    /// 405: the path exists but not with this method.
    public static func methodNotAllowed(_ detail: String) -> APIError {
        APIError(status: 405, code: "method_not_allowed", detail: detail)
    }

    /// 409: the request conflicts with the current state (a duplicate name, a stale version).
    public static func conflict(_ detail: String, code: String = "resource_already_exists") -> APIError {
        APIError(status: 409, code: code, detail: detail)
    }

    /// 413: the body is larger than the server accepts.
    public static func contentTooLarge(_ detail: String) -> APIError {
        APIError(status: 413, code: "content_too_large", detail: detail)
    }

    /// 422: the request is well formed but a value is not acceptable.
    public static func invalidConfiguration(_ detail: String, pointer: String? = nil) -> APIError {
        APIError(status: 422, code: "invalid_configuration", detail: detail, source: Source(pointer: pointer))
    }

    /// 429: the client sent too many requests.
    public static func tooManyRequests(retryAfter: Int, detail: String) -> APIError {
        APIError(status: 429, code: "too_many_requests", detail: detail, retryAfter: max(1, retryAfter))
    }

    /// 500: something went wrong inside Floe; the detail stays generic.
    public static func internalError() -> APIError {
        APIError(status: 500, code: "internal_error", detail: "An internal error occurred. The request id identifies it in the server log.")
    }
}
