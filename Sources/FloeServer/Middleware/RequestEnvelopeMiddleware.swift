// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The outermost middleware: stamps `X-Request-Id` on every response, turns every thrown error into Confluent's
/// error envelope (the one place errors become HTTP), and writes one log line per request.
struct RequestEnvelopeMiddleware: RouterMiddleware {
    typealias Context = FloeRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Self.response(for: error, request: request, context: context)
        }
        response.headers[.init("X-Request-Id")!] = context.requestID
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        context.logger.log(
            level: response.status.code >= 500 ? .error : .info, "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code), "ms": .string(String(format: "%.2f", milliseconds)),
            ])
        return response
    }

    /// The envelope response for any error: API errors as they are, Hummingbird's own errors translated, anything
    /// else logged in full and answered with a generic 500.
    static func response(for error: any Error, request: Request, context: Context) -> Response {
        switch error {
        case let error as APIError:
            return JSONResponse.error(error, requestID: context.requestID)
        case let error as any HTTPResponseError:
            return JSONResponse.error(translate(error, request: request), requestID: context.requestID)
        default:
            context.logger.error("unhandled error", metadata: ["error": .string(String(reflecting: error))])
            return JSONResponse.error(.internalError(), requestID: context.requestID)
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
