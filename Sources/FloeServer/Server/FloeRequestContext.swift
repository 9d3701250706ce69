// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
public import Hummingbird
import Logging
import NIOCore

/// The authenticated principal of a request, with the policy derived from its role bindings.
public struct Caller: Sendable {
    /// The API key the request was signed with.
    public var apiKey: APIKey
    /// What the principal may do.
    public var policy: AccessPolicy
    /// The principal id (`u-…`, `sa-…`).
    public var principalID: String { apiKey.ownerID }
    /// The principal's organization.
    public var organizationID: String { apiKey.organizationID }
}

/// Per-request state: the request id, the client's address and, once authenticated, the caller.
public struct FloeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// 32 hex digits, echoed in `X-Request-Id` and attached to every log line of the request.
    public var requestID: String
    /// The client's IP address (the key of rate limiting).
    public var clientIP: String
    /// Set by the authentication middleware.
    public var caller: Caller?
    /// How errors of this request are written; chosen from its path by ``RequestEnvelopeMiddleware``.
    var errorStyle = ErrorStyle.confluentEnvelope

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        // Hummingbird tags the request's logger with a hex id, but its per-process prefix is not zero-padded (one
        // process in sixteen gets 31 digits). Pad it to 32 and put the same value in the log metadata and, later, in
        // X-Request-Id.
        if let id = source.logger[metadataKey: "hb.request.id"]?.description, id.count <= 32, id.allSatisfy(\.isHexDigit) {
            self.requestID = String(repeating: "0", count: 32 - id.count) + id
        } else {
            self.requestID = IdentifierGenerator.requestID()
        }
        self.clientIP = source.channel.remoteAddress?.ipAddress ?? "local"
        self.caller = nil
        self.logger[metadataKey: "hb.request.id"] = .string(requestID)
    }

    /// Bodies above 4 MiB are refused (statements are at most 128 KiB of SQL).
    public var maxUploadSize: Int { 4 * 1024 * 1024 }

    /// The caller; only call on routes behind the authentication middleware.
    /// - Throws: ``APIError`` 401 when the request was not authenticated.
    public func requireCaller() throws(APIError) -> Caller {
        guard let caller else { throw APIError.unauthenticated() }
        return caller
    }
}
