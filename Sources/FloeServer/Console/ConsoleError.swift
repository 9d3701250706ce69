// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Why a console request could not be served. ``ConsoleMiddleware`` turns each into a response in one place: a
/// redirect to sign in, or an error page (JSON for the console's fetch endpoints).
enum ConsoleError: Error, Sendable {
    /// No session, an expired one, or a key the API no longer accepts.
    case signInRequired
    /// A state-changing request without the session's CSRF token, or from another origin.
    case forgery(String)
    /// The principal may not do this (the console does not offer it; the request was made anyway).
    case forbidden(String)
    /// A page for something that does not exist.
    case notFound(String)
    /// A malformed form or fetch body.
    case badRequest(String)
    /// The API refused or failed a call.
    case api(status: Int, detail: String)
    /// The API refused a call with 429: the browser's address is over the rate limits (console pages and fetches
    /// count against them like any client's calls). `retryAfter` is the API's `Retry-After` in seconds, passed on so
    /// that the page following a statement can wait it out instead of reporting a failure.
    case rateLimited(retryAfter: Int, detail: String)

    /// The HTTP status of the error page.
    var status: Int {
        switch self {
        case .signInRequired: return 401
        case .forgery, .forbidden: return 403
        case .notFound: return 404
        case .badRequest: return 400
        case .api(let status, _): return status
        case .rateLimited: return 429
        }
    }

    /// The explanation shown to the user.
    var detail: String {
        switch self {
        case .signInRequired: return "Sign in to continue."
        case .forgery(let detail), .forbidden(let detail), .notFound(let detail), .badRequest(let detail): return detail
        case .api(_, let detail), .rateLimited(_, let detail): return detail
        }
    }
}
