// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// How a group of routes writes its errors. Most of Floe's API is Confluent Cloud's REST API with its error envelope;
/// the Schema Registry data plane is Confluent's Schema Registry API, whose clients read `error_code` and nothing else.
enum ErrorStyle: Sendable, Equatable {
    /// `{"errors":[{"id","status","code","title","detail","source"}]}`.
    case confluentEnvelope
    /// `{"error_code": N, "message": "…"}` with `application/vnd.schemaregistry.v1+json`.
    case schemaRegistry
}

/// Which error style applies to a request, by path prefix; requests under no listed prefix use the envelope.
struct ErrorStyles: Sendable {
    var prefixes: [(prefix: String, style: ErrorStyle)] = []

    func style(for path: String) -> ErrorStyle {
        prefixes.first { path.hasPrefix($0.prefix) }?.style ?? .confluentEnvelope
    }
}

/// The outermost middleware: stamps `X-Request-Id` on every response, turns every thrown error into the error body of
/// the request's API (the one place errors become HTTP), and writes one log line and counts one request in the
/// metrics (by route pattern, method and status, with its latency) per request.
///
/// The error style is chosen by path prefix before any route matches, so that an unknown route, a failed
/// authentication or a refused rate limit under the Schema Registry's prefix answers in the registry's format too; it
/// is put in the context for inner middleware that renders errors itself.
struct RequestEnvelopeMiddleware: RouterMiddleware {
    typealias Context = FloeRequestContext
    var styles = ErrorStyles()
    /// Where requests are counted; nil for the console's in-process API router (its calls are not client requests).
    var metrics: ServerMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        context.errorStyle = styles.style(for: request.uri.path)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Self.response(for: error, request: request, context: context)
        }
        response.headers[.init("X-Request-Id")!] = context.requestID
        let elapsed = ContinuousClock.now - started
        metrics?.recordRequest(method: request.method, route: context.endpointPath, status: response.status.code, duration: elapsed)
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        context.logger.log(
            level: response.status.code >= 500 ? .error : .info, "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code), "ms": .string(String(format: "%.2f", milliseconds)),
            ])
        return response
    }

    /// The error response for any error, in the context's style: API and registry errors as they are, Hummingbird's
    /// own errors translated, anything else logged in full and answered with a generic 500.
    static func response(for error: any Error, request: Request, context: Context) -> Response {
        let apiError: APIError
        switch error {
        case let error as SchemaRegistryError:
            switch context.errorStyle {
            case .schemaRegistry: return SchemaRegistryResponse.error(error)
            case .confluentEnvelope:
                apiError = APIError(status: error.httpStatus, code: String(error.errorCode), detail: error.message)
            }
        case let error as APIError:
            apiError = error
        case let error as any HTTPResponseError:
            apiError = translate(error, request: request)
        default:
            context.logger.error("unhandled error", metadata: ["error": .string(String(reflecting: error))])
            apiError = .internalError()
        }
        switch context.errorStyle {
        case .confluentEnvelope: return JSONResponse.error(apiError, requestID: context.requestID)
        case .schemaRegistry: return SchemaRegistryResponse.error(apiError)
        }
    }

    /// Maps Hummingbird's own errors (unknown route, oversized body) to API errors.
    static func translate(_ error: any HTTPResponseError, request: Request) -> APIError {
        switch error.status.code {
        case 404: return .notFound("No API resource at \(request.method.rawValue) \(request.uri.path).")
        case 405: return .methodNotAllowed("\(request.method.rawValue) is not allowed on \(request.uri.path).")
        case 413: return .contentTooLarge("The request body is too large.")
        case 400..<500: return APIError(status: error.status.code, code: "bad_request", detail: error.status.reasonPhrase)
        default: return .internalError()
        }
    }
}
