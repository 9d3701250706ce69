// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeClient
import FloeCore
import Foundation

/// `--context`: which saved context a command uses (default: the current one).
struct ContextOptions: ParsableArguments {
    @Option(help: "CLI context to use (default: the current context).")
    var context: String?
}

/// A command's connection to a Floe server: the chosen context (with `FLOE_URL`, `FLOE_API_KEY`, `FLOE_API_SECRET`
/// and `FLOE_CA_CERT` taking precedence) and a client signed with its credentials.
struct CLISession {
    var configuration: CLIConfiguration
    var context: CLIContext
    /// Whether `context` is saved (false when it comes only from environment variables).
    let isSaved: Bool

    /// Opens the named context, the current one, or one made of environment variables.
    static func open(_ options: ContextOptions) throws -> CLISession {
        let configuration = try CLIConfiguration.load()
        let environment = ProcessInfo.processInfo.environment
        let saved = configuration.context(named: options.context)
        if let name = options.context, saved == nil { throw CLIError.usage("Context \"\(name)\" does not exist.") }
        let url = environment["FLOE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let key = environment["FLOE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["FLOE_API_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        let caCertificate = environment["FLOE_CA_CERT"].flatMap { $0.isEmpty ? nil : $0 }
        if var context = saved {
            if let url { context.url = url }
            if let caCertificate { context.caCertificate = caCertificate }
            if let key, let secret {
                if key != context.credentials.key { context.principal = nil }
                context.credentials = StoredAPIKey(key: key, secret: secret, resource: nil)
            }
            return CLISession(configuration: configuration, context: context, isSaved: true)
        }
        guard let url, let key, let secret else {
            throw CLIError.usage("You are not logged in. Run `floe login --url <server>` (or set FLOE_URL, FLOE_API_KEY and FLOE_API_SECRET).")
        }
        var context = CLIContext(name: "environment", url: url, credentials: StoredAPIKey(key: key, secret: secret, resource: nil))
        context.caCertificate = caCertificate
        return CLISession(configuration: configuration, context: context, isSaved: false)
    }

    /// A client for the control plane (the login key).
    var client: FloeClient {
        FloeClient(
            baseURL: context.url, credentials: APICredentials(key: context.credentials.key, secret: context.credentials.secret), tls: trust)
    }

    /// A client for `sql/v1` (the Flink key in use, else the login key).
    var statementClient: FloeClient {
        let stored = context.statementCredentials
        return FloeClient(baseURL: context.url, credentials: APICredentials(key: stored.key, secret: stored.secret), tls: trust)
    }

    /// How https servers are verified: the system's trust store, plus the context's CA certificates.
    var trust: ClientTLS { context.caCertificate.map { ClientTLS(caCertificateFile: $0) } ?? .system }

    /// Saves changes to the context (no-op for a context made of environment variables, which has nowhere to go).
    mutating func save() throws {
        guard isSaved else {
            throw CLIError.usage("This command changes the saved context, but none is in use (run `floe login` first).")
        }
        configuration.upsert(context)
        try configuration.save()
    }

    /// Sends a request and returns the parsed body; any status of 400 or more becomes ``CLIError/api(status:detail:)``.
    @discardableResult
    func call(
        _ method: String, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil, statements: Bool = false
    ) async throws -> JSONValue {
        let client = statements ? statementClient : client
        let response: FloeResponse
        do {
            response = try await client.send(method, path, query: query, json: json)
        } catch {
            throw CLIError.transport(url: context.url, reason: String(describing: error))
        }
        if response.status == 429 {
            let retryAfter = response.headers["retry-after"].flatMap { Int($0.trimmingSpaces) }.map { Duration.seconds(max(0, $0)) }
            throw CLIError.rateLimited(retryAfter: retryAfter, detail: response.errorDetail ?? "The server answered 429 (rate limit exceeded).")
        }
        guard response.status < 400 else {
            var detail = response.errorDetail ?? "The server answered \(response.status)."
            if response.status == 401 { detail += " (check the API key of context \"\(context.name)\", or run `floe login` again)" }
            throw CLIError.api(status: response.status, detail: detail)
        }
        return response.json ?? .null
    }

    /// Every item of a list endpoint, following `metadata.next` with `page_size=100` as the `confluent` CLI does.
    func listAll(_ path: String, query: [(String, String)] = [], statements: Bool = false) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        var page = try await call("GET", path, query: query + [("page_size", "100")], statements: statements)
        var seen = Set<String>()
        while true {
            items += page["data"]?.arrayValue ?? []
            guard let next = page.value(at: "metadata", "next")?.stringValue, !next.isEmpty, seen.insert(next).inserted else { break }
            page = try await call("GET", next, statements: statements)
        }
        return items
    }

    /// The environment a command acts on: the flag, else the context's.
    func environmentID(_ flag: String?) throws -> String {
        if let flag { return flag }
        if let id = context.environmentID { return id }
        throw CLIError.usage("No environment is selected. Pass --environment or run `floe environment use <id>`.")
    }

    /// The organization of the logged-in key (saved at login; asked of the server otherwise).
    func organizationID() async throws -> String {
        if let id = context.organizationID { return id }
        let organizations = try await listAll("/org/v2/organizations")
        guard let id = organizations.first?["id"]?.stringValue else { throw CLIError.usage("The server lists no organization.") }
        return id
    }

    /// `/sql/v1/organizations/{org}/environments/{env}` for an environment.
    func sqlBase(environment: String) async throws -> String {
        "/sql/v1/organizations/\(try await organizationID())/environments/\(environment)"
    }
}

extension String {
    /// The text percent-encoded for a URL path segment.
    var pathEncoded: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}
