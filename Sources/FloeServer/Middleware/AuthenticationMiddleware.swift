// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Which kinds of API key an API group accepts.
enum CredentialScope: Sendable {
    /// fcpm/iam/org: Cloud API keys only.
    case cloudKeysOnly
    /// sql/v1 of one environment: Cloud keys, and Flink keys of that environment and the statement's region
    /// (the region check happens where the statement's compute pool is known).
    case flink
    /// The Schema Registry data plane: Cloud keys, and Schema Registry keys (checked against the registry of the path
    /// by the handlers).
    case schemaRegistry

    /// Whether a key for `resource` may be used on routes of this scope at all.
    func admits(_ resource: APIKeyResource) -> Bool {
        switch (self, resource) {
        case (_, .cloud): return true
        case (.flink, .flinkRegion), (.schemaRegistry, .schemaRegistry): return true
        default: return false
        }
    }
}

/// HTTP Basic authentication with API keys on every route behind it.
///
/// Missing, malformed or wrong credentials are a 401 with `WWW-Authenticate`. The secret is verified against its salted
/// digest in constant time and never logged. A Flink API key on the control plane is a 401: it is valid only on the
/// `sql/v1` API of its own environment and region.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = FloeRequestContext
    let store: any ControlPlaneStore
    let scope: CredentialScope

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try authenticate(request)
        context.logger[metadataKey: "principal"] = .string(context.caller!.principalID)
        return try await next(request, context)
    }

    func authenticate(_ request: Request) throws(APIError) -> Caller {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthenticated("Authentication is required: send an API key and secret with HTTP Basic authentication.")
        }
        guard let (keyID, secret) = Self.basicCredentials(header) else {
            throw APIError.unauthenticated("The Authorization header must be 'Basic base64(key:secret)'.")
        }
        let state = store.snapshot()
        let key = state.apiKeys[keyID]
        // An unknown key is checked against a decoy digest: the same work as a known key with a wrong secret.
        guard SecretHasher.verify(secret, against: key?.secretDigest ?? SecretHasher.decoy), let key else {
            throw APIError.unauthenticated("The API key or secret is invalid.")
        }
        guard scope.admits(key.resource) else {
            switch key.resource {
            case .flinkRegion:
                throw APIError.unauthenticated(
                    "API key \(keyID) is a Flink API key; it is valid only on the sql/v1 API of its environment and region. Use a Cloud API key here."
                )
            default:
                throw APIError.unauthenticated(
                    "API key \(keyID) is a Schema Registry API key; it is valid only on the data plane of Schema Registry \(key.resource.id). Use a Cloud API key here."
                )
            }
        }
        return Caller(apiKey: key, policy: AccessPolicy(principalID: key.ownerID, organizationID: key.organizationID, state: state))
    }

    /// Splits `Basic base64(key:secret)`.
    static func basicCredentials(_ header: String) -> (String, Substring)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        let key = String(text[..<colon])
        let secret = text[text.index(after: colon)...]
        guard !key.isEmpty, !secret.isEmpty else { return nil }
        return (key, secret)
    }
}

extension Caller {
    /// Keys of flink scope: whether this key may be used in `environmentID` and `regionID`.
    func keyPermits(environmentID: String, regionID: String) -> Bool {
        switch apiKey.resource {
        case .cloud: return true
        case .flinkRegion(let keyRegion, let keyEnvironment): return keyRegion == regionID && keyEnvironment == environmentID
        case .schemaRegistry: return false
        }
    }
}
