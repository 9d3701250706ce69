// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
import Foundation

/// An HTTP response from a Floe server.
public struct FloeResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields, names lower-cased.
    public var headers: [String: String]
    /// The raw body.
    public var body: [UInt8]

    /// The body parsed as JSON, or `nil` if it is empty or not JSON.
    public var json: JSONValue? { body.isEmpty ? nil : try? JSONValue.parse(body) }

    /// `errors[0].detail` of an error envelope, or `message` of a Kafka REST error.
    public var errorDetail: String? {
        // Kafka REST v3 answers errors as `{"error_code", "message"}` instead of the `errors` envelope.
        if case .string(let message)? = json?["message"], json?["error_code"] != nil { return message }
        guard case .array(let errors)? = json?["errors"], case .string(let detail)? = errors.first?["detail"] else { return nil }
        return detail
    }
}

/// Credentials for HTTP Basic authentication.
public struct APICredentials: Sendable, Equatable {
    public var key: String
    public var secret: String

    public init(key: String, secret: String) {
        self.key = key
        self.secret = secret
    }

    /// The `Authorization` header value.
    public var authorizationHeader: String { "Basic " + Data("\(key):\(secret)".utf8).base64EncodedString() }
}

/// A client of Floe's HTTP API (the Confluent Cloud API surface), used by the CLI and the end-to-end tests.
public struct FloeClient: Sendable {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    public var baseURL: String
    /// The credentials sent with each request, if any.
    public var credentials: APICredentials?
    /// Per-request timeout.
    public var timeout: Duration
    /// How https servers are verified.
    public var tls: ClientTLS

    /// Creates a client.
    public init(baseURL: String, credentials: APICredentials? = nil, timeout: Duration = .seconds(30), tls: ClientTLS = .system) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.timeout = timeout
        self.tls = tls
    }

    /// The same client with other credentials (or none).
    public func with(credentials: APICredentials?) -> FloeClient {
        var copy = self
        copy.credentials = credentials
        return copy
    }

    /// Sends one request.
    /// - Parameters:
    ///   - method: `GET`, `POST`, …
    ///   - path: a path on the server (`/org/v2/environments`) or an absolute URL (e.g. a `metadata.next`).
    ///   - query: query parameters to append.
    ///   - json: a JSON body.
    ///   - rawBody: a body sent as is (for malformed-input tests); wins over `json`.
    ///   - headers: extra header fields.
    /// - Throws: transport errors only; every HTTP status is returned.
    public func send(
        _ method: String, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil, rawBody: [UInt8]? = nil,
        headers: [(String, String)] = []
    ) async throws -> FloeResponse {
        var url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : baseURL + path
        if !query.isEmpty {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let encoded = query.map { name, value in
                "\(name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
            }
            url += (url.contains("?") ? "&" : "?") + encoded.joined(separator: "&")
        }
        guard let target = HTTPTarget(url: url) else { throw FloeClientError.invalidURL(url) }
        var fields: [(String, String)] = []
        if let credentials { fields.append(("Authorization", credentials.authorizationHeader)) }
        let body = rawBody ?? json?.serialized()
        if json != nil, rawBody == nil { fields.append(("Content-Type", "application/json")) }
        fields += headers
        let response = try await HTTP1Exchange.send(method: method, target: target, headers: fields, body: body, timeout: timeout, trust: tls)
        var headerMap: [String: String] = [:]
        for (name, value) in response.headers { headerMap[name.lowercased()] = value }
        return FloeResponse(status: response.status, headers: headerMap, body: response.body)
    }
}
