// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Wraps every console route: refuses state-changing requests from other origins, turns ``ConsoleError`` into a
/// response (a redirect to sign in, an error page, or the JSON envelope for the console's fetch endpoints), and puts
/// the security headers on every answer.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = FloeRequestContext
    let console: Console

    /// No inline script or style (the script and style sheet are files served from here, so no nonce or hash is
    /// needed), nothing from elsewhere, never framed; forms post only here.
    static let contentSecurityPolicy: ContentSecurityPolicy = [
        .defaultSrc(.none), .scriptSrc(.self), .styleSrc(.self), .imgSrc(.self, "data:"), .connectSrc(.self), .formAction(.self),
        .frameAncestors(.none), .baseURI(.none),
    ]
    /// The header's value, spelled once.
    static let contentSecurityPolicyValue = contentSecurityPolicy.description

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            try refuseCrossOrigin(request)
            response = try await next(request, context)
        } catch let error as ConsoleError {
            response = self.response(for: error, request: request, context: context)
        }
        addSecurityHeaders(&response.headers)
        return response
    }

    func addSecurityHeaders(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicyValue
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.init("Referrer-Policy")!] = "same-origin"
        headers[.init("Cross-Origin-Opener-Policy")!] = "same-origin"
        headers[.init("Cross-Origin-Resource-Policy")!] = "same-origin"
        if console.secureCookies { headers[.strictTransportSecurity] = "max-age=31536000" }
        if headers[.cacheControl] == nil {
            // Pages show secrets (the API-key wizard), statement text and results: never stored by the browser or a
            // proxy. Only the static assets are cacheable.
            headers[.cacheControl] = "no-store"
        }
    }

    /// A state-changing request must come from a page of this console: `Sec-Fetch-Site` (sent by every current
    /// browser) must say same-origin (or none: typed by the user); without it, an `Origin` header must be the public
    /// URL's origin or the request's own host. The CSRF token is checked as well, by the handlers.
    func refuseCrossOrigin(_ request: Request) throws(ConsoleError) {
        guard ![.get, .head, .options].contains(request.method) else { return }
        if let site = request.headers[.init("Sec-Fetch-Site")!] {
            guard site == "same-origin" || site == "none" else {
                throw ConsoleError.forgery("The request came from another site (\(site)); the console accepts changes only from its own pages.")
            }
            return
        }
        guard let origin = request.headers[.origin] else { return }
        let given = Console.origin(of: origin)
        let host = request.head.authority ?? ""
        let schemes = console.secureCookies ? ["https"] : ["http", "https"]
        let accepted = [console.publicOrigin] + (host.isEmpty ? [] : schemes.map { Console.normalizedOrigin(scheme: $0, authority: host) })
        guard accepted.contains(given) else {
            throw ConsoleError.forgery("The request came from another origin (\(origin)); the console accepts changes only from its own pages.")
        }
    }

    func response(for error: ConsoleError, request: Request, context: Context) -> Response {
        if Console.isFetch(request) {
            if case .signInRequired = error, let id = console.cookie(console.sessionCookie, in: request) { console.sessions.remove(id: id) }
            return JSONResponse.error(
                APIError(status: error.status, code: Self.code(for: error), detail: error.detail, retryAfter: Self.retryAfter(of: error)),
                requestID: context.requestID)
        }
        if case .signInRequired = error {
            // A key the API stopped accepting ends the session it signed.
            if let id = console.cookie(console.sessionCookie, in: request) { console.sessions.remove(id: id) }
            var target = "/login"
            if request.method == .get, request.uri.path != "/", !request.uri.path.hasPrefix("/login") {
                target += "?next=" + FormBody.encode(request.uri.description)
            }
            return ConsolePages.redirect(to: target)
        }
        if error.status >= 500 {
            context.logger.error("console error", metadata: ["detail": .string(error.detail)])
        }
        let page = console.renderer.render(
            .error,
            [
                "title": APIError.title(for: error.status), "status": String(error.status), "detail": error.detail,
            ])
        var response = ConsolePages.html(page, status: HTTPResponse.Status(code: error.status))
        if let retryAfter = Self.retryAfter(of: error) { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    /// The `Retry-After` (seconds) that goes with an error: only a rate limit has one.
    static func retryAfter(of error: ConsoleError) -> Int? {
        if case .rateLimited(let retryAfter, _) = error { return retryAfter }
        return nil
    }

    static func code(for error: ConsoleError) -> String {
        switch error {
        case .signInRequired: return "unauthenticated"
        case .forgery: return "csrf_refused"
        case .forbidden: return "forbidden"
        case .notFound: return "resource_not_found"
        case .badRequest: return "bad_request"
        case .api: return "api_error"
        case .rateLimited: return "too_many_requests"
        }
    }
}
