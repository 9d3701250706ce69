// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// A failure the CLI reports as `Error: …` on standard error with a non-zero exit status.
enum CLIError: Error, CustomStringConvertible {
    /// The server refused the request; `detail` is the envelope's `errors[0].detail`.
    case api(status: Int, detail: String)
    /// The server refused the request with 429 (its per-client limits); `retryAfter` is its `Retry-After`.
    case rateLimited(retryAfter: Duration?, detail: String)
    /// The server could not be reached.
    case transport(url: String, reason: String)
    /// The command cannot run as given (missing context, bad flag value).
    case usage(String)

    var description: String {
        switch self {
        case .api(_, let detail), .rateLimited(_, let detail): return detail
        case .transport(let url, let reason): return "Cannot reach the Floe server at \(url): \(reason)"
        case .usage(let message): return message
        }
    }
}
