// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import FloeServer

/// A browser's view of the console on one router: cookies kept between requests, forms posted url-encoded.
struct ConsoleBrowser {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]

    struct Page {
        var status: Int
        var headers: HTTPFields
        var body: String
        var location: String? { headers[.location] }
        /// The session's CSRF token from the page's `<meta name="csrf-token">` (or the sign-in form's `_csrf`).
        var csrf: String? {
            for marker in [#"name="csrf-token" content=""#, #"name="_csrf" value=""#] {
                if let start = body.range(of: marker), let end = body[start.upperBound...].firstIndex(of: "\"") {
                    return String(body[start.upperBound..<end])
                }
            }
            return nil
        }
        /// The text of the element with `id` (up to its first tag), unescaped.
        func text(ofID id: String) -> String? {
            guard let start = body.range(of: "id=\"\(id)\""), let open = body[start.upperBound...].firstIndex(of: ">"),
                let close = body[open...].firstIndex(of: "<")
            else { return nil }
            return String(body[body.index(after: open)..<close]).replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(
                    of: "&gt;", with: ">"
                )
                .replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    mutating func send(
        _ method: HTTPRequest.Method, _ uri: String, form: [(String, String)]? = nil, json: String? = nil, headers: HTTPFields = [:]
    )
        async throws -> Page
    {
        var fields = headers
        if !cookies.isEmpty { fields[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        var body: ByteBuffer?
        if let form {
            fields[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: form.map { "\(FormBody.encode($0.0))=\(FormBody.encode($0.1))" }.joined(separator: "&"))
        } else if let json {
            fields[.contentType] = "application/json"
            body = ByteBuffer(string: json)
        }
        let response = try await client.executeRequest(uri: uri, method: method, headers: fields, body: body)
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return Page(status: response.status.code, headers: response.headers, body: String(buffer: response.body))
    }

    /// Signs in and returns the headers of the console's fetches (the session's `X-CSRF-Token`).
    mutating func signInForFetches(_ authorization: String) async throws -> HTTPFields {
        _ = try await signIn(authorization)
        var headers = HTTPFields()
        headers[HTTPField.Name("X-CSRF-Token")!] = try await send(.get, "/environments").csrf ?? ""
        return headers
    }

    /// Signs in with the key and secret of a fixture `Authorization` header.
    mutating func signIn(_ authorization: String) async throws -> Page {
        let decoded = String(decoding: Data(base64Encoded: String(authorization.dropFirst("Basic ".count)))!, as: UTF8.self)
        let colon = decoded.firstIndex(of: ":")!
        let login = try await send(.get, "/login")
        return try await send(
            .post, "/login",
            form: [("_csrf", login.csrf ?? ""), ("key", String(decoded[..<colon])), ("secret", String(decoded[decoded.index(after: colon)...]))])
    }
}

extension RouterFixture {
    /// Runs `body` against one router (so console sessions live across its requests).
    func browse<T: Sendable>(_ body: @escaping @Sendable (inout ConsoleBrowser) async throws -> T) async throws -> T {
        try await application.test(.router) { client in
            var browser = ConsoleBrowser(client: client)
            return try await body(&browser)
        }
    }
}

@Suite struct ConsoleTests {
    @Test func pagesCarryTheSecurityHeaders() async throws {
        let fixture = try await RouterFixture.make()
        try await fixture.browse { browser in
            let page = try await browser.send(.get, "/login")
            #expect(page.status == 200)
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
            #expect(policy.contains("frame-ancestors 'none'") && policy.contains("form-action 'self'"))
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(!page.body.contains("<script>") && !page.body.contains(" style=") && !page.body.contains(" onclick="))
            let cookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("floe_login=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            let script = try await browser.send(.get, "/console/assets/console.js")
            #expect(script.status == 200 && script.headers[.contentType]?.hasPrefix("text/javascript") == true)
        }
    }

    @Test func signInNeedsItsFormTokenAndAValidCloudKey() async throws {
        let fixture = try await RouterFixture.make()
        let admin = fixture.credentials["admin"]!
        let flinkKey = fixture.credentials["flinkA"]!
        try await fixture.browse { browser in
            // No login cookie: a cross-site sign-in (login CSRF) is refused.
            let forged = try await browser.send(.post, "/login", form: [("_csrf", "x"), ("key", "K"), ("secret", "S")])
            #expect(forged.status == 403)
            let login = try await browser.send(.get, "/login")
            let wrong = try await browser.send(.post, "/login", form: [("_csrf", login.csrf!), ("key", "NOSUCHKEY"), ("secret", "nope")])
            #expect(wrong.status == 401)
            #expect(wrong.body.contains("class=\"flash-error\"") && browser.cookies["floe_session"] == nil)
            let flink = try await browser.signIn(flinkKey)
            #expect(flink.status == 401 && flink.body.contains("Flink API key"))
            let signedIn = try await browser.signIn(admin)
            #expect(signedIn.status == 303 && signedIn.location == "/environments")
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("floe_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        }
    }

    @Test func signOutEndsTheSession() async throws {
        let fixture = try await RouterFixture.make()
        let admin = fixture.credentials["admin"]!
        let environment = fixture.environmentA
        try await fixture.browse { browser in
            _ = try await browser.signIn(admin)
            let page = try await browser.send(.get, "/environments")
            #expect(page.status == 200 && page.body.contains("data-id=\"\(environment)\""))
            let session = browser.cookies["floe_session"]!
            let out = try await browser.send(.post, "/logout", form: [("_csrf", page.csrf!)])
            #expect(out.status == 303 && out.location == "/login?signed_out=1")
            #expect(browser.cookies["floe_session"] == nil)
            // The old cookie no longer works either.
            browser.cookies["floe_session"] = session
            let after = try await browser.send(.get, "/environments")
            #expect(after.status == 303 && after.location?.hasPrefix("/login") == true)
        }
    }

    @Test func formsWithoutTheTokenOrFromAnotherOriginChangeNothing() async throws {
        let fixture = try await RouterFixture.make()
        let admin = fixture.credentials["admin"]!
        let store = fixture.store
        let before = store.snapshot().environments.count
        try await fixture.browse { browser in
            _ = try await browser.signIn(admin)
            let token = try await browser.send(.get, "/environments").csrf!
            let missing = try await browser.send(.post, "/environments", form: [("display_name", "forged")])
            #expect(missing.status == 403 && missing.text(ofID: "error-status") == "403")
            let wrong = try await browser.send(.post, "/environments", form: [("_csrf", token + "x"), ("display_name", "forged")])
            #expect(wrong.status == 403)
            var crossOrigin = HTTPFields()
            crossOrigin[.origin] = "http://attacker.test"
            let otherOrigin = try await browser.send(
                .post, "/environments", form: [("_csrf", token), ("display_name", "forged")], headers: crossOrigin)
            #expect(otherOrigin.status == 403)
            var crossSite = HTTPFields()
            crossSite[HTTPField.Name("Sec-Fetch-Site")!] = "cross-site"
            let otherSite = try await browser.send(.post, "/environments", form: [("_csrf", token), ("display_name", "forged")], headers: crossSite)
            #expect(otherSite.status == 403)
            #expect(store.snapshot().environments.count == before)
            // The public URL's origin is accepted whatever Host a proxy sends, and Sec-Fetch-Site: same-origin is enough.
            var proxied = HTTPFields()
            proxied[.origin] = "http://floe.test"
            let viaProxy = try await browser.send(.post, "/environments", form: [("_csrf", token), ("display_name", "via proxy")], headers: proxied)
            #expect(viaProxy.status == 303)
            var sameOrigin = HTTPFields()
            sameOrigin[HTTPField.Name("Sec-Fetch-Site")!] = "same-origin"
            sameOrigin[.origin] = "http://other-name-of-this-host:8080"
            let fromPage = try await browser.send(
                .post, "/environments", form: [("_csrf", token), ("display_name", "same origin")], headers: sameOrigin)
            #expect(fromPage.status == 303)
            let fetch = try await browser.send(.get, "/console/api/environments/env-x/statements/s")
            #expect(fetch.status == 403 && fetch.body.contains("\"errors\""))
            // The real form works.
            let created = try await browser.send(.post, "/environments", form: [("_csrf", token), ("display_name", "made here")])
            #expect(created.status == 303)
            #expect(try await browser.send(.get, "/environments").body.contains("made here"))
        }
        #expect(store.snapshot().environments.count == before + 3)
    }

    @Test func whatARoleDoesNotAllowIsNotOfferedAndIsRefused() async throws {
        let fixture = try await RouterFixture.make()
        let nobody = fixture.credentials["nobody"]!
        let developer = fixture.credentials["developerA"]!
        let environment = fixture.environmentA
        let store = fixture.store
        let environments = store.snapshot().environments.count
        try await fixture.browse { browser in
            _ = try await browser.signIn(nobody)
            let list = try await browser.send(.get, "/environments")
            #expect(list.status == 200 && !list.body.contains("create-environment"))
            let tried = try await browser.send(.post, "/environments", form: [("_csrf", list.csrf!), ("display_name", "not allowed")])
            #expect(tried.status == 403 && tried.body.contains("OrganizationAdmin"))
            let pools = try await browser.send(.get, "/environments/\(environment)/flink/compute-pools")
            #expect(pools.status == 403)
        }
        #expect(store.snapshot().environments.count == environments)
        try await fixture.browse { browser in
            _ = try await browser.signIn(developer)
            let pools = try await browser.send(.get, "/environments/\(environment)/flink/compute-pools")
            #expect(pools.status == 200 && !pools.body.contains("create-pool-link"))
            let form = try await browser.send(.get, "/environments/\(environment)/flink/compute-pools/new")
            #expect(form.status == 403)
            let tried = try await browser.send(
                .post, "/environments/\(environment)/flink/compute-pools",
                form: [("_csrf", pools.csrf!), ("display_name", "p"), ("region", "aws/us-east-1"), ("max_cfu", "5")])
            #expect(tried.status == 403 && tried.body.contains("not created") && tried.body.contains("FlinkAdmin"))
            // A developer may still make a key for itself, but is offered no service accounts.
            let wizard = try await browser.send(.get, "/environments/\(environment)/flink/api-keys/new")
            #expect(wizard.status == 200 && wizard.body.contains("value=\"me\"") && !wizard.body.contains("value=\"service-account\""))
        }
        #expect(store.snapshot().computePools.isEmpty)
    }

    @Test func computePoolsAreCreatedEditedAndDeleted() async throws {
        let fixture = try await RouterFixture.make()
        let admin = fixture.credentials["admin"]!
        let environment = fixture.environmentA
        let store = fixture.store
        try await fixture.browse { browser in
            _ = try await browser.signIn(admin)
            let base = "/environments/\(environment)/flink/compute-pools"
            let form = try await browser.send(.get, base + "/new")
            #expect(form.status == 200 && form.body.contains("value=\"aws/us-east-1\""))
            let bad = try await browser.send(
                .post, base, form: [("_csrf", form.csrf!), ("display_name", "p"), ("region", "aws/us-east-1"), ("max_cfu", "ten")])
            #expect(bad.status == 400 && bad.body.contains("whole number") && bad.body.contains("value=\"p\""))
            let created = try await browser.send(
                .post, base, form: [("_csrf", form.csrf!), ("display_name", "etl"), ("region", "aws/us-east-1"), ("max_cfu", "10")])
            #expect(created.location == base)
            let pool = try #require(store.snapshot().computePools.values.first)
            let list = try await browser.send(.get, base)
            #expect(list.body.contains("data-id=\"\(pool.id)\"") && list.body.contains("0 / 10"))
            let edited = try await browser.send(
                .post, base + "/\(pool.id)", form: [("_csrf", form.csrf!), ("display_name", "etl2"), ("max_cfu", "20")])
            #expect(edited.location == base)
            #expect(store.snapshot().computePools[pool.id]?.maxCFU == 20 && store.snapshot().computePools[pool.id]?.displayName == "etl2")
            let deleted = try await browser.send(.post, base + "/\(pool.id)/delete", form: [("_csrf", form.csrf!)])
            #expect(deleted.location == base)
            #expect(store.snapshot().computePools[pool.id] == nil)
        }
    }

    @Test func theKeyWizardCreatesAServiceAccountItsRoleAndAKeyShownOnce() async throws {
        let fixture = try await RouterFixture.make()
        let admin = fixture.credentials["admin"]!
        let environment = fixture.environmentA
        let organization = fixture.organizationID
        let store = fixture.store
        let accounts = store.snapshot().serviceAccounts.count
        let (key, secret, download) = try await fixture.browse { browser -> (String, String, String) in
            _ = try await browser.signIn(admin)
            let base = "/environments/\(environment)/flink/api-keys"
            let first = try await browser.send(.get, base + "/new")
            #expect(first.text(ofID: "wizard-owner") != nil)
            let token = first.csrf!
            let owner = [
                ("owner", "service-account"), ("sa_mode", "new"), ("sa_name", "pipelines"), ("sa_description", "etl"), ("sa_role", "FlinkDeveloper"),
            ]
            // An unnamed new account is sent back to the first step.
            let unnamed = try await browser.send(
                .post, base + "/new", form: [("_csrf", token), ("step", "owner"), ("owner", "service-account"), ("sa_mode", "new")])
            #expect(unnamed.body.contains("id=\"wizard-owner\"") && unnamed.body.contains("flash-error"))
            let scope = try await browser.send(.post, base + "/new", form: [("_csrf", token), ("step", "owner")] + owner)
            #expect(scope.body.contains("id=\"wizard-scope\""))
            let badRegion = try await browser.send(
                .post, base + "/new", form: [("_csrf", token), ("step", "scope"), ("cloud", "gcp"), ("region", "us-east-1")] + owner)
            #expect(badRegion.body.contains("id=\"wizard-scope\"") && badRegion.body.contains("has no Flink region"))
            let details = try await browser.send(
                .post, base + "/new", form: [("_csrf", token), ("step", "scope"), ("cloud", "aws"), ("region", "us-east-1")] + owner)
            #expect(details.body.contains("id=\"wizard-details\""))
            // Nothing was created before the last step.
            #expect(store.snapshot().serviceAccounts.count == accounts)
            let created = try await browser.send(
                .post, base,
                form: [("_csrf", token), ("step", "details"), ("cloud", "aws"), ("region", "us-east-1"), ("name", "etl key"), ("description", "d")]
                    + owner)
            // Post → redirect → get: the page that shows the secret can be reloaded without creating another key.
            #expect(created.status == 303 && created.location == base + "/created")
            let shown = try await browser.send(.get, base + "/created")
            #expect(shown.status == 200 && shown.headers[.cacheControl] == "no-store")
            let key = try #require(shown.text(ofID: "api-key"))
            let secret = try #require(shown.text(ofID: "api-secret"))
            let download = try #require(shown.text(ofID: "api-key-file"))
            #expect(!shown.body.contains("data:text"))
            // The secret is never shown again.
            let again = try await browser.send(.get, base + "/created")
            #expect(again.status == 303 && again.location == base)
            let list = try await browser.send(.get, base)
            #expect(list.body.contains("data-id=\"\(key)\"") && !list.body.contains(secret) && list.body.contains("shown only once"))
            return (key, secret, download)
        }
        #expect(download.contains("API key:\n\(key)\n") && download.contains("API secret:\n\(secret)\n"))
        let state = store.snapshot()
        let stored = try #require(state.apiKeys[key])
        #expect(stored.resource == .flinkRegion(regionID: "aws.us-east-1", environmentID: environment))
        #expect(SecretHasher.verify(Substring(secret), against: stored.secretDigest))
        let account = try #require(state.serviceAccounts[stored.ownerID])
        #expect(account.displayName == "pipelines")
        #expect(
            state.roleBindings.values.contains {
                $0.principal == "User:\(account.id)" && $0.role == .flinkDeveloper
                    && $0.crnPattern == CRN.environment(organization, environment).description
            })
    }

    @Test func theWorkspaceRunsAndStopsStatementsThroughTheAPI() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        let admin = fixture.base.credentials["admin"]!
        let environment = fixture.base.environmentA
        let pool = fixture.pool
        let store = fixture.base.store
        let name = try await fixture.base.browse { browser -> String in
            _ = try await browser.signIn(admin)
            let page = try await browser.send(.get, "/environments/\(environment)/flink/workspace")
            #expect(page.status == 200 && page.body.contains("value=\"\(pool)\""))
            var headers = HTTPFields()
            headers[HTTPField.Name("X-CSRF-Token")!] = page.csrf!
            // The scripted backend's STREAM runs until stopped.
            let body = #"{"sql":"STREAM","compute_pool_id":"\#(pool)","catalog":"default","database":"db1"}"#
            let refused = try await browser.send(.post, "/console/api/environments/\(environment)/statements", json: body)
            #expect(refused.status == 403)
            let run = try await browser.send(.post, "/console/api/environments/\(environment)/statements", json: body, headers: headers)
            #expect(run.status == 201)
            let summary = try JSONValue.parse(Array(run.body.utf8))
            let name = try #require(summary["name"]?.stringValue)
            #expect(name.hasPrefix("workspace-"))
            let stop = try await browser.send(.post, "/console/api/environments/\(environment)/statements/\(name)/stop", headers: headers)
            #expect(stop.status == 200)
            return name
        }
        let statement = try #require(store.snapshot().statements.values.first { $0.name == name })
        #expect(statement.sql == "STREAM" && statement.computePoolID == pool && statement.stopped)
        #expect(statement.properties["sql.current-database"] == "db1")
    }

    @Test func signingOutStopsTheWorkspaceQueriesButNotWhatWrites() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        let admin = fixture.base.credentials["admin"]!
        let environment = fixture.base.environmentA
        let pool = fixture.pool
        let store = fixture.base.store
        let (query, insert) = try await fixture.base.browse { browser -> (String, String) in
            let headers = try await browser.signInForFetches(admin)
            var names: [String] = []
            for (sql, kind) in [("STREAM", "SELECT"), ("INSERT", "INSERT_INTO")] {
                let run = try await browser.send(
                    .post, "/console/api/environments/\(environment)/statements", json: #"{"sql":"\#(sql)","compute_pool_id":"\#(pool)"}"#,
                    headers: headers)
                let summary = try JSONValue.parse(Array(run.body.utf8))
                // The dry run tells the kind before the statement starts.
                #expect(run.status == 201 && summary["sql_kind"]?.stringValue == kind)
                names.append(try #require(summary["name"]?.stringValue))
            }
            let out = try await browser.send(.post, "/logout", form: [("_csrf", headers[HTTPField.Name("X-CSRF-Token")!]!)])
            #expect(out.status == 303)
            return (names[0], names[1])
        }
        let statements = store.snapshot().statements.values
        #expect(statements.count == 2)
        #expect(statements.first { $0.name == query }?.stopped == true)
        #expect(statements.first { $0.name == insert }?.stopped == false)
    }

    @Test func stoppingAFinishedStatementLeavesItAsItEnded() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        let admin = fixture.base.credentials["admin"]!
        let environment = fixture.base.environmentA
        let pool = fixture.pool
        let store = fixture.base.store
        try await fixture.base.browse { browser in
            let headers = try await browser.signInForFetches(admin)
            let run = try await browser.send(
                .post, "/console/api/environments/\(environment)/statements", json: #"{"sql":"ROWS 2","compute_pool_id":"\#(pool)"}"#,
                headers: headers)
            let name = try #require(try JSONValue.parse(Array(run.body.utf8))["name"]?.stringValue)
            var phase = ""
            for _ in 0..<200 where phase != "COMPLETED" {
                try await Task.sleep(for: .milliseconds(50))
                let status = try await browser.send(.get, "/console/api/environments/\(environment)/statements/\(name)", headers: headers)
                phase = try JSONValue.parse(Array(status.body.utf8))["phase"]?.stringValue ?? ""
            }
            #expect(phase == "COMPLETED")
            let results = try await browser.send(.get, "/console/api/environments/\(environment)/statements/\(name)/results", headers: headers)
            let page = try JSONValue.parse(Array(results.body.utf8))
            #expect(page["data"]?.arrayValue?.count == 2 && page["next_page_token"] == .null)
            #expect(page.value(at: "statement", "phase") == "COMPLETED")
            let stop = try await browser.send(.post, "/console/api/environments/\(environment)/statements/\(name)/stop", headers: headers)
            #expect(stop.status == 200 && stop.body.contains("\"COMPLETED\""))
            let statement = try #require(store.snapshot().statements.values.first { $0.name == name })
            #expect(!statement.stopped && statement.phase == .completed)
        }
    }

    /// The page following a statement must tell "slow down" from "failed": a console fetch over the rate limits
    /// answers 429 with the API's `Retry-After`, not a bare error.
    @Test func aRateLimitedFetchCarriesRetryAfter() async throws {
        var fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        // Room for signing in, then few enough that a handful of status reads reach the minute's limit.
        fixture.base.rateLimits = RateLimits(concurrentRequests: 100, perSecond: 1000, perMinute: 30)
        let admin = fixture.base.credentials["admin"]!
        let environment = fixture.base.environmentA
        try await fixture.base.browse { browser in
            let headers = try await browser.signInForFetches(admin)
            var refused: ConsoleBrowser.Page?
            // 30 a minute: within 70 reads one is refused, even if a minute ends along the way.
            for _ in 0..<70 where refused == nil {
                let page = try await browser.send(.get, "/console/api/environments/\(environment)/statements/no-such-statement", headers: headers)
                #expect(page.status == 404 || page.status == 429)
                if page.status == 429 { refused = page }
            }
            let page = try #require(refused)
            let retryAfter = try #require(page.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...60).contains(retryAfter))
            let error = try JSONValue.parse(Array(page.body.utf8))["errors"]?.arrayValue?.first
            #expect(error?["code"] == "too_many_requests")
            #expect(error?["detail"]?.stringValue?.contains("Rate limit exceeded") == true)
        }
    }
}

@Suite struct ConsolePartsTests {
    @Test func formBodiesDecodePlusAndPercentEscapes() throws {
        let form = try FormBody(encoded: "a=1+2&b=%E2%82%AC%20x&c=&d")
        #expect(form["a"] == "1 2" && form["b"] == "€ x" && form["c"] == nil && form.raw("c") == "" && form.raw("d") == nil)
        #expect(FormBody.encode("a b&c/é") == "a%20b%26c%2F%C3%A9")
        // What no console form sends is refused, not guessed at: a repeated name, a bad escape, a structured name.
        for malformed in ["_csrf=a&_csrf=b", "d=%zz", "a[b]=1"] {
            #expect(throws: ConsoleError.self) { try FormBody(encoded: malformed) }
        }
    }

    @Test func onlyLocalPathsAreFollowedAfterSignIn() {
        #expect(Console.safeNext("/environments/env-1") == "/environments/env-1")
        for unsafe in [
            "//evil.test/x", "https://evil.test", "/\\evil.test", "/\t/evil.test", "/ /evil.test", "/x\\y", "environments", "/a\r\nSet-Cookie: x",
            "/\u{85}x", nil,
        ] {
            #expect(Console.safeNext(unsafe) == nil)
        }
    }

    @Test func originsAreComparedNormalized() {
        #expect(Console.origin(of: "http://127.0.0.1:8080/") == "http://127.0.0.1:8080")
        #expect(Console.origin(of: "https://Floe.Example.com:443") == "https://floe.example.com")
        #expect(Console.origin(of: "http://[::1]:80/x") == "http://[::1]")
        #expect(Console.normalizedOrigin(scheme: "http", authority: "[::1]:8080") == Console.origin(of: "http://[::1]:8080"))
    }

    @Test func behindHTTPSCookiesAreSecureAndHostOnly() {
        let dispatcher = APIDispatcher(responder: Router(context: FloeRequestContext.self).buildResponder())
        let secure = Console(dispatcher: dispatcher, publicURL: "https://floe.example.com/")
        #expect(secure.sessionCookie == "__Host-floe_session" && secure.loginCookie == "__Host-floe_login")
        let cookie = secure.cookie(secure.sessionCookie, value: "v")
        #expect(cookie.secure && cookie.httpOnly && cookie.sameSite == .strict && cookie.path == "/" && cookie.domain == nil)
        #expect(cookie.description.hasPrefix("__Host-floe_session=v; "))
        var headers = HTTPFields()
        ConsoleMiddleware(console: secure).addSecurityHeaders(&headers)
        #expect(headers[.strictTransportSecurity] != nil)
        let plain = Console(dispatcher: dispatcher, publicURL: "http://127.0.0.1:8080")
        let plainCookie = plain.cookie(plain.sessionCookie, value: "v", maxAge: 0)
        #expect(plain.sessionCookie == "floe_session" && !plainCookie.secure && plainCookie.httpOnly && plainCookie.maxAge == 0)
        #expect(!plainCookie.description.contains("Secure") && plainCookie.description.contains("SameSite=Strict"))
    }

    @Test func aCreatedKeyIsShownOnceInItsEnvironmentAndNotKeptLong() {
        let clock = TestClock()
        let store = ConsoleSessionStore(now: { clock.now })
        let session = store.create(
            credentials: ConsoleCredentials(key: "K", secret: "S"), principalID: "u-1", principalName: "u", organizationID: "o")
        let key = CreatedAPIKey(environmentID: "env-a", key: "KEY", secret: "SECRET", scope: "s", owner: "o", notes: [])
        store.setCreatedKey(key, for: session.id)
        #expect(store.takeCreatedKey(for: session.id, environmentID: "env-b") == nil)
        #expect(store.takeCreatedKey(for: session.id, environmentID: "env-a")?.secret == "SECRET")
        #expect(store.takeCreatedKey(for: session.id, environmentID: "env-a") == nil)
        store.setCreatedKey(key, for: session.id)
        clock.advance(CreatedAPIKey.lifetime + 1)
        #expect(store.takeCreatedKey(for: session.id, environmentID: "env-a") == nil)
        // A sweep forgets a secret nobody came for.
        store.setCreatedKey(key, for: session.id)
        clock.advance(CreatedAPIKey.lifetime + ConsoleSessionStore.sweepInterval + 1)
        _ = store.session(id: session.id)
        clock.advance(-(CreatedAPIKey.lifetime + ConsoleSessionStore.sweepInterval + 1))
        #expect(store.takeCreatedKey(for: session.id, environmentID: "env-a") == nil)
    }

    @Test func tokensCompareWholly() {
        let token = ConsoleSessionStore.randomToken()
        #expect(token.count == 43 && ConsoleSessionStore.randomToken() != token)
        #expect(ConsoleSessionStore.tokensMatch(token, token))
        #expect(!ConsoleSessionStore.tokensMatch(String(token.dropLast()), token))
        #expect(!ConsoleSessionStore.tokensMatch("", ""))
    }

    @Test func sessionsExpireWhenIdleAndAfterTheirLifetime() {
        let clock = TestClock()
        let store = ConsoleSessionStore(now: { clock.now })
        let credentials = ConsoleCredentials(key: "K", secret: "S")
        let session = store.create(credentials: credentials, principalID: "u-1", principalName: "u", organizationID: "o")
        clock.advance(ConsoleSessionStore.idleTimeout - 1)
        #expect(store.session(id: session.id) != nil)
        clock.advance(ConsoleSessionStore.idleTimeout + 1)
        #expect(store.session(id: session.id) == nil)
        let busy = store.create(credentials: credentials, principalID: "u-1", principalName: "u", organizationID: "o")
        for _ in 0..<13 {
            clock.advance(ConsoleSessionStore.idleTimeout - 60)
            _ = store.session(id: busy.id)
        }
        #expect(store.session(id: busy.id) == nil)
        #expect(store.session(id: "unknown") == nil)
    }

    @Test func typesAreSpelledAsInSQL() {
        let varchar: JSONValue = ["type": "VARCHAR", "nullable": false, "length": 10]
        #expect(ConsoleFormat.type(varchar) == "VARCHAR(10) NOT NULL")
        let decimal: JSONValue = ["type": "DECIMAL", "nullable": true, "precision": 10, "scale": 2]
        #expect(ConsoleFormat.type(decimal) == "DECIMAL(10, 2)")
        let array: JSONValue = ["type": "ARRAY", "nullable": true, "element_type": ["type": "INTEGER", "nullable": true]]
        #expect(ConsoleFormat.type(array) == "ARRAY<INTEGER>")
    }

    @Test func everyTemplateRenders() {
        let renderer = ConsoleRenderer()
        for template in ConsoleTemplate.allCases where template != .layout {
            #expect(renderer.render(template, ["title": "t"]).contains("<title>t · Floe</title>"))
        }
    }
}

/// A settable clock for session expiry.
final class TestClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
}
