// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Sign-in with a Cloud API key and secret, and sign-out.
///
/// The sign-in form is protected against login CSRF with a double-submitted token: a random value in an HttpOnly,
/// SameSite=Strict cookie that the form must repeat. A successful sign-in starts a new session (a fresh id, so a
/// planted cookie is never promoted).
extension Console {
    func registerSignIn(on router: RouterGroup<FloeRequestContext>) {
        router.get("/") { request, _ in
            if let id = cookie(sessionCookie, in: request), sessions.session(id: id) != nil {
                return ConsolePages.redirect(to: "/environments")
            }
            return ConsolePages.redirect(to: "/login")
        }
        router.get("login") { request, _ in
            let notice = request.uri.queryParameters.get("signed_out") != nil ? "You are signed out." : nil
            return signInPage(next: request.uri.queryParameters.get("next"), notice: notice)
        }
        router.post("login") { request, context in try await signIn(request, context) }
        router.post("logout") { request, context in
            // Only the cookie and the token: signing out must not depend on the API answering.
            let (session, _, _) = try await authenticate(request)
            sessions.remove(id: session.id)
            // Queries the workspace left running would only use their pools now (the page's own stop on leaving
            // comes after the session is gone). Best effort: an error changes nothing about signing out.
            if !session.workspaceQueries.isEmpty {
                let visit = relay(session, context)
                for query in session.workspaceQueries {
                    _ = try? await setStopped(visit, environmentID: query.environmentID, name: query.name, stopped: true)
                }
            }
            var response = ConsolePages.redirect(to: "/login?signed_out=1")
            response.setCookie(cookie(sessionCookie, value: "", maxAge: 0))
            return response
        }
    }

    /// The sign-in form with a fresh login token.
    func signInPage(
        next: String?, notice: String? = nil, error: String? = nil, key: String = "", status: HTTPResponse.Status = .ok
    )
        -> Response
    {
        let token = ConsoleSessionStore.randomToken()
        var values: [String: Any] = ["title": "Sign in", "csrf": token, "key": key]
        if let next = Self.safeNext(next) { values["next"] = next }
        if let notice { values["flash_notice"] = notice }
        if let error { values["flash_error"] = error }
        var response = ConsolePages.html(renderer.render(.login, values), status: status)
        response.setCookie(cookie(loginCookie, value: token))
        return response
    }

    func signIn(_ request: Request, _ context: FloeRequestContext) async throws(ConsoleError) -> Response {
        let form = try FormBody(encoded: String(decoding: try await Self.body(of: request), as: UTF8.self))
        guard let expected = cookie(loginCookie, in: request), let given = form.raw("_csrf"),
            ConsoleSessionStore.tokensMatch(given, expected)
        else {
            throw ConsoleError.forgery("The sign-in form lacks its CSRF token. Reload the sign-in page and try again.")
        }
        let next = form["next"]
        guard let key = form["key"], let secret = form.raw("secret"), !secret.isEmpty else {
            return signInPage(next: next, error: "Enter an API key and its secret.", key: form["key"] ?? "", status: .badRequest)
        }
        let credentials = ConsoleCredentials(key: key, secret: secret)
        let api = ConsoleAPIClient(dispatcher: dispatcher, credentials: credentials, context: context)
        // The key's own record names its owner ("My account"); the organizations list names the organization.
        let keyReply = await api.send(.get, "/iam/v2/api-keys/\(FormBody.encode(key))")
        guard keyReply.status == 200, let ownerID = keyReply.body?.value(at: "spec", "owner", "id")?.stringValue else {
            let detail = keyReply.status == 401 ? keyReply.errorDetail : "The key could not be read: \(keyReply.errorDetail)"
            return signInPage(next: next, error: detail, key: key, status: HTTPResponse.Status(code: keyReply.status == 401 ? 401 : 400))
        }
        let organizations = await api.send(.get, "/org/v2/organizations")
        guard case .array(let list)? = organizations.body?["data"], let organizationID = list.first?["id"]?.stringValue else {
            return signInPage(
                next: next, error: "The key's organization could not be read: \(organizations.errorDetail)", key: key, status: .badRequest)
        }
        var name = ownerID
        if ownerID.hasPrefix("sa-") {
            name = await api.send(.get, "/iam/v2/service-accounts/\(ownerID)").body?["display_name"]?.stringValue ?? ownerID
        } else {
            let user = await api.send(.get, "/iam/v2/users/\(ownerID)").body
            name = user?["full_name"]?.stringValue ?? user?["email"]?.stringValue ?? ownerID
        }
        // A fresh session id at every sign-in; a session this browser had before ends.
        if let previous = cookie(sessionCookie, in: request) { sessions.remove(id: previous) }
        let session = sessions.create(credentials: credentials, principalID: ownerID, principalName: name, organizationID: organizationID)
        context.logger.info("console sign-in", metadata: ["principal": .string(ownerID), "api_key": .string(key)])
        var response = ConsolePages.redirect(to: Self.safeNext(next) ?? "/environments")
        response.setCookie(cookie(sessionCookie, value: session.id))
        response.setCookie(cookie(loginCookie, value: "", maxAge: 0))
        return response
    }

    /// A `next` location only when it is a path on this server: it starts with one `/`, and holds no white space,
    /// control character or backslash (browsers drop tabs and newlines from URLs, and read `\` as `/`, so
    /// `/\t/evil.test` would become `//evil.test`).
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"),
            next.unicodeScalars.allSatisfy({
                $0.value > 0x20 && $0 != "\\" && $0.properties.generalCategory != .control && !$0.properties.isWhitespace
            })
        else { return nil }
        return next
    }
}
