// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web console served at `/`: server-rendered pages over the public API, signed in with a Cloud API key.
///
/// Every action is an API call made with the signed-in key (``ConsoleAPIClient``), so the API's authentication and
/// authorization apply unchanged; the console only hides what the principal's role bindings do not allow.
struct Console: Sendable {
    let renderer: ConsoleRenderer
    let sessions: ConsoleSessionStore
    let dispatcher: APIDispatcher
    /// The server's public origin (`https://floe.example.com`), accepted as `Origin` besides the request's own host.
    let publicOrigin: String
    /// Behind https: `Secure` cookies with the `__Host-` prefix (no other host can plant them), and HSTS.
    var secureCookies: Bool { publicOrigin.hasPrefix("https://") }
    var sessionCookie: String { secureCookies ? "__Host-floe_session" : "floe_session" }
    var loginCookie: String { secureCookies ? "__Host-floe_login" : "floe_login" }

    /// Form and fetch bodies above this size are refused (statements are at most 128 KiB of SQL).
    static let maxBodySize = 1024 * 1024
    /// The path prefix of the console's JSON endpoints (called by its script with `X-CSRF-Token`).
    static let fetchPrefix = "/console/api/"

    init(dispatcher: APIDispatcher, publicURL: String, sessions: ConsoleSessionStore = ConsoleSessionStore()) {
        self.renderer = ConsoleRenderer()
        self.sessions = sessions
        self.dispatcher = dispatcher
        self.publicOrigin = Self.origin(of: publicURL)
    }

    /// `scheme://host[:port]` of a URL, without a default port.
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return normalizedOrigin(scheme: String(url[..<schemeEnd.lowerBound]), authority: String(authority))
    }

    /// `scheme://authority` in lower case, without `:80` for http or `:443` for https.
    static func normalizedOrigin(scheme: String, authority: String) -> String {
        let scheme = scheme.lowercased()
        var authority = authority.lowercased()
        if scheme == "http", authority.hasSuffix(":80") { authority.removeLast(3) }
        if scheme == "https", authority.hasSuffix(":443") { authority.removeLast(4) }
        return scheme + "://" + authority
    }

    /// Registers the console's pages, actions, fetch endpoints and assets.
    func register(on router: Router<FloeRequestContext>) {
        let pages = router.group().add(middleware: ConsoleMiddleware(console: self))
        pages.get("console/assets/console.js") { _, _ in ConsolePages.asset(ConsoleAssets.script, contentType: "text/javascript; charset=utf-8") }
        pages.get("console/assets/console.css") { _, _ in ConsolePages.asset(ConsoleAssets.style, contentType: "text/css; charset=utf-8") }
        registerSignIn(on: pages)
        registerEnvironments(on: pages)
        registerComputePools(on: pages)
        registerStatements(on: pages)
        registerAPIKeys(on: pages)
        registerWorkspace(on: pages)
        registerKafkaClusters(on: pages)
    }

    // MARK: - Requests of a signed-in browser

    /// The session of a request, with its body read and its CSRF token checked: in `_csrf` for forms that change
    /// something, in `X-CSRF-Token` for every fetch (reads included: results and statement text are not for other
    /// origins).
    /// - Throws: ``ConsoleError/signInRequired`` without a live session, ``ConsoleError/forgery(_:)`` without the
    ///   session's token.
    func authenticate(_ request: Request) async throws(ConsoleError) -> (ConsoleSession, FormBody, JSONValue?) {
        guard let id = cookie(sessionCookie, in: request), let session = sessions.session(id: id) else {
            throw ConsoleError.signInRequired
        }
        let isFetch = Self.isFetch(request)
        let changes = request.method != .get && request.method != .head
        var form = FormBody()
        var json: JSONValue?
        if changes {
            let bytes = try await Self.body(of: request)
            if isFetch {
                if !bytes.isEmpty {
                    do { json = try JSONValue.parse(bytes) } catch { throw ConsoleError.badRequest("The request body is not valid JSON.") }
                }
            } else {
                form = try FormBody(encoded: String(decoding: bytes, as: UTF8.self))
            }
        }
        if isFetch {
            guard let token = request.headers[.init("X-CSRF-Token")!], ConsoleSessionStore.tokensMatch(token, session.csrfToken) else {
                throw ConsoleError.forgery("The request lacks this session's CSRF token.")
            }
        } else if changes {
            guard let token = form.raw("_csrf"), ConsoleSessionStore.tokensMatch(token, session.csrfToken) else {
                throw ConsoleError.forgery("The form lacks this session's CSRF token. Reload the page and try again.")
            }
        }
        return (session, form, json)
    }

    /// ``authenticate(_:)``, plus the API as the session's principal and, for pages, what the principal may do.
    func visit(_ request: Request, _ context: FloeRequestContext) async throws(ConsoleError) -> ConsoleVisit {
        let (session, form, json) = try await authenticate(request)
        guard !Self.isFetch(request) else {
            // Fetch endpoints only relay API calls (which the API authorizes) and offer nothing, so they skip reading
            // the role bindings: the workspace polls, and every call counts against the client's rate limit.
            return relay(session, context, form: form, json: json)
        }
        let api = ConsoleAPIClient(dispatcher: dispatcher, credentials: session.credentials, context: context)
        let bindings = try await api.list(
            "/iam/v2/role-bindings",
            query: [("crn_pattern", "crn://confluent.cloud/organization=\(session.organizationID)"), ("principal", "User:\(session.principalID)")])
        let policy = AccessPolicy(
            principalID: session.principalID, organizationID: session.organizationID,
            bindings: bindings.compactMap { binding in
                guard let id = binding["id"]?.stringValue, let role = binding["role_name"]?.stringValue.flatMap(Role.init(rawValue:)),
                    let principal = binding["principal"]?.stringValue, let pattern = binding["crn_pattern"]?.stringValue
                else { return nil }
                return RoleBinding(
                    id: id, organizationID: session.organizationID, principal: principal, role: role, crnPattern: pattern, sequence: 0,
                    createdAt: Date())
            })
        let flash = request.method == .get ? sessions.takeFlash(for: session.id) : nil
        return ConsoleVisit(session: session, api: api, form: form, json: json, policy: policy, flash: flash)
    }

    /// A visit that only relays API calls as the session's principal: it offers nothing, so it has no policy.
    func relay(_ session: ConsoleSession, _ context: FloeRequestContext, form: FormBody = FormBody(), json: JSONValue? = nil) -> ConsoleVisit {
        let api = ConsoleAPIClient(dispatcher: dispatcher, credentials: session.credentials, context: context)
        let policy = AccessPolicy(principalID: session.principalID, organizationID: session.organizationID, bindings: [])
        return ConsoleVisit(session: session, api: api, form: form, json: json, policy: policy, flash: nil)
    }

    /// Whether a request is for one of the console's JSON endpoints.
    static func isFetch(_ request: Request) -> Bool { request.uri.path.hasPrefix(fetchPrefix) }

    /// The request body, at most ``maxBodySize`` bytes.
    static func body(of request: Request) async throws(ConsoleError) -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: maxBodySize)
            return Array(buffer.readableBytesView)
        } catch {
            throw ConsoleError.badRequest("The request body is larger than \(maxBodySize / 1024) KiB.")
        }
    }

    /// The value of cookie `name` (the first one sent: with `__Host-` names behind https no other host can add one).
    func cookie(_ name: String, in request: Request) -> String? {
        request.cookies[name]?.value
    }

    /// A cookie of the console: HttpOnly (no script reads it), SameSite=Strict (no other site's request carries it),
    /// Path=/ and no Domain (as `__Host-` requires), and Secure behind https. `maxAge: 0` clears it.
    func cookie(_ name: String, value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// A redirect that sets a message for the next page.
    func redirect(_ visit: ConsoleVisit, to location: String, notice: String? = nil, error: String? = nil) -> Response {
        if let notice { sessions.setFlash(ConsoleFlash(kind: .notice, text: notice), for: visit.session.id) }
        if let error { sessions.setFlash(ConsoleFlash(kind: .error, text: error), for: visit.session.id) }
        return ConsolePages.redirect(to: location)
    }

    /// Renders a page inside the layout.
    func page(
        _ template: ConsoleTemplate, _ visit: ConsoleVisit, title: String, environment: ConsoleEnvironment? = nil, tab: String? = nil,
        _ values: [String: Any] = [:]
    ) -> Response {
        var context = values
        context["title"] = title
        context["signed_in"] = true
        context["session_principal"] = visit.session.principalName
        context["session_principal_id"] = visit.session.principalID
        context["csrf"] = visit.session.csrfToken
        if let flash = visit.flash { context["flash_" + flash.kind.rawValue] = flash.text }
        if let environment {
            context["environment"] = ["id": environment.id, "name": environment.name]
            if let tab { context["tab_" + tab] = true }
        }
        return ConsolePages.html(renderer.render(template, context))
    }
}

/// One request of a signed-in browser: its session, the API as that principal, the form it posted, and what the
/// principal may do (from its role bindings, read through the API).
struct ConsoleVisit: Sendable {
    let session: ConsoleSession
    let api: ConsoleAPIClient
    let form: FormBody
    /// The JSON body of a fetch.
    let json: JSONValue?
    /// What the principal may do, from its role bindings; empty on fetch endpoints, which offer nothing.
    let policy: AccessPolicy
    let flash: ConsoleFlash?

    var organizationID: String { session.organizationID }

    /// The environment a page is in, read through the API (404 when the principal cannot see it).
    func environment(_ id: String) async throws(ConsoleError) -> ConsoleEnvironment {
        let document = try await api.call(.get, "/org/v2/environments/\(FormBody.encode(id))")
        return ConsoleEnvironment(id: id, name: document["display_name"]?.stringValue ?? id)
    }
}

/// The environment a page belongs to.
struct ConsoleEnvironment: Sendable {
    var id: String
    var name: String
}

extension Request {
    /// A path parameter of a console route (the router guarantees it exists).
    func parameter(_ name: String, _ context: FloeRequestContext) -> String {
        context.parameters.get(name) ?? ""
    }
}
