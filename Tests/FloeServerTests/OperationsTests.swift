// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import FloeStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import Logging
import Testing

@testable import FloeServer

/// What an operator runs Floe with: TLS on the listeners (with reloads), the private endpoint, `GET /metrics` and JSON
/// logs.
@Suite struct OperationsTests {
    // MARK: TLS material

    /// Writes `files` (name → content) into a new temporary directory.
    static func directory(_ files: [String: String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floe-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, content) in files { try content.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return directory
    }

    static func files(in directory: URL) -> TLSFiles {
        TLSFiles(certificatePath: directory.appendingPathComponent("tls.crt").path, keyPath: directory.appendingPathComponent("tls.key").path)
    }

    @Test func tlsMaterialThatDoesNotLoadIsRefusedNamingTheFile() throws {
        let directory = try Self.directory([
            "tls.crt": TestCertificates.certificateA, "tls.key": TestCertificates.keyA, "garbage.pem": "not a certificate\n",
            "other.key": TestCertificates.keyB,
        ])
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = Self.files(in: directory)
        _ = try ReloadableTLSContext(files: good)

        var missing = good
        missing.keyPath = directory.appendingPathComponent("absent.key").path
        #expect(throws: TLSMaterialError.self) { try ReloadableTLSContext(files: missing) }
        do { _ = try ReloadableTLSContext(files: missing) } catch { #expect(error.description.contains(missing.keyPath)) }

        var garbage = good
        garbage.certificatePath = directory.appendingPathComponent("garbage.pem").path
        do {
            _ = try ReloadableTLSContext(files: garbage)
            Issue.record("a file without a certificate loaded")
        } catch { #expect(error.description.contains(garbage.certificatePath)) }

        var mismatched = good
        mismatched.keyPath = directory.appendingPathComponent("other.key").path
        do {
            _ = try ReloadableTLSContext(files: mismatched)
            Issue.record("a key of another certificate was accepted")
        } catch { #expect(error.description.contains("cannot be used together")) }
    }

    /// A live https listener: a client that trusts the served certificate gets through, one that does not is told so;
    /// after the files change and a reload, new connections get the new certificate, and a reload of broken files
    /// keeps the one in use.
    @Test func anHTTPSListenerServesItsCurrentCertificate() async throws {
        let directory = try Self.directory([
            "tls.crt": TestCertificates.certificateA, "tls.key": TestCertificates.keyA, "a.pem": TestCertificates.certificateA,
            "b.pem": TestCertificates.certificateB,
        ])
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = Self.files(in: directory)
        let tls = try ReloadableTLSContext(files: files)
        let router = Router()
        router.get("hello") { _, _ in "hello over TLS" }
        let counter = ConnectionCounter(limits: ConnectionLimits())
        let app = Application(
            router: router, server: FloeServer.serverBuilder(counter, tls: tls), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let trustA = ClientTLS(caCertificateFile: directory.appendingPathComponent("a.pem").path)
            let trustB = ClientTLS(caCertificateFile: directory.appendingPathComponent("b.pem").path)
            func get(_ trust: ClientTLS, host: String = "127.0.0.1") async throws -> FloeResponse {
                try await FloeClient(baseURL: "https://\(host):\(port)", timeout: .seconds(10), tls: trust).send("GET", "/hello")
            }
            #expect(try await get(trustA).body == Array("hello over TLS".utf8))
            #expect(try await get(trustA, host: "localhost").status == 200)
            await #expect(throws: FloeClientError.self) { try await get(trustB) }
            do {
                _ = try await get(.system)
                Issue.record("a self-signed certificate was trusted by the system store")
            } catch let error as FloeClientError {
                #expect(error.description.contains("--ca-cert"))
            }
            // Plain HTTP on the TLS port gets no answer.
            await #expect(throws: (any Error).self) {
                _ = try await FloeClient(baseURL: "http://127.0.0.1:\(port)", timeout: .seconds(5)).send("GET", "/hello")
            }

            try TestCertificates.certificateB.write(toFile: files.certificatePath, atomically: true, encoding: .utf8)
            try TestCertificates.keyB.write(toFile: files.keyPath, atomically: true, encoding: .utf8)
            try tls.reload()
            #expect(try await get(trustB).status == 200)
            await #expect(throws: FloeClientError.self) { try await get(trustA) }

            try "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n".write(
                toFile: files.certificatePath, atomically: true, encoding: .utf8)
            #expect(throws: TLSMaterialError.self) { try tls.reload() }
            #expect(try await get(trustB).status == 200)
        }
    }

    @Test func listenerURLsFollowTheirTLS() {
        var configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: "/nonexistent"))
        configuration.host = "0.0.0.0"
        #expect(configuration.resolvedPublicURL(boundPort: 8080) == "http://127.0.0.1:8080")
        #expect(configuration.resolvedPrivateURL() == nil)
        configuration.tls = TLSFiles(certificatePath: "c", keyPath: "k")
        configuration.privateListener = PrivateListenerSetting(host: "10.0.0.5", port: 8443, tls: TLSFiles(certificatePath: "c", keyPath: "k"))
        #expect(configuration.resolvedPublicURL(boundPort: 8080) == "https://127.0.0.1:8080")
        #expect(configuration.resolvedPrivateURL() == "https://10.0.0.5:8443")
        configuration.privateListener?.url = "https://flink.us-east-1.aws.private.floe.example/"
        #expect(configuration.resolvedPrivateURL() == "https://flink.us-east-1.aws.private.floe.example")
    }

    // MARK: The private endpoint

    /// Regions name both endpoints; a statement created through the private listener is PRIVATE whichever listener
    /// reads it, and links point back through the listener that answered.
    @Test func thePrivateEndpointMarksItsStatements() async throws {
        var fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        let endpoints = ServerEndpoints(publicURL: "http://floe.test", privateURL: "http://private.floe.test")
        fixture.base.endpoints = endpoints
        var privateFixture = fixture
        privateFixture.base.networkKind = .private

        for answering in [fixture, privateFixture] {
            let regions = try await answering.call(.get, "/fcpm/v2/regions").json?["data"]?.arrayValue ?? []
            #expect(!regions.isEmpty)
            for region in regions {
                #expect(region["http_endpoint"]?.stringValue == "http://floe.test")
                #expect(region["private_http_endpoint"]?.stringValue == "http://private.floe.test")
            }
        }
        let created = try await privateFixture.create("through-private", "STREAM")
        #expect(created.status == 201)
        #expect(created.json?.value(at: "status", "network_kind")?.stringValue == "PRIVATE")
        #expect(created.headers[.location]?.hasPrefix("http://private.floe.test/") == true)
        try await fixture.create("through-public", "STREAM")
        let readPublicly = try await fixture.call(.get, "\(fixture.statementsPath)/through-private").json
        #expect(readPublicly?.value(at: "status", "network_kind")?.stringValue == "PRIVATE")
        #expect(readPublicly?.value(at: "metadata", "self")?.stringValue?.hasPrefix("http://floe.test/") == true)
        let other = try await privateFixture.call(.get, "\(fixture.statementsPath)/through-public").json
        #expect(other?.value(at: "status", "network_kind")?.stringValue == "PUBLIC")
    }

    @Test func withoutAPrivateListenerRegionsReportThePublicEndpointTwice() async throws {
        let fixture = try await RouterFixture.make()
        let region = try await fixture.call(.get, "/fcpm/v2/regions").json?["data"]?.arrayValue?.first
        #expect(region?["http_endpoint"]?.stringValue == "http://floe.test")
        #expect(region?["private_http_endpoint"]?.stringValue == "http://floe.test")
    }

    // MARK: Metrics

    /// The exposition's samples: `name{labels}` → value.
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    func scrape(_ fixture: RouterFixture, as who: String? = "admin") async throws -> (status: Int, contentType: String?, text: String) {
        let headers: HTTPFields = who.map { [.authorization: fixture.credentials[$0]!] } ?? [:]
        return try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                (response.status.code, response.headers[.contentType], String(buffer: response.body))
            }
        }
    }

    @Test func metricsNeedAMetricsViewerOrAnOrganizationAdmin() async throws {
        var fixture = try await RouterFixture.make()
        fixture.shared = ListenerShared(metrics: MetricsAPI(metrics: ServerMetrics()) { _ in ScrapeState() })
        #expect(try await scrape(fixture, as: nil).status == 401)
        for role in ["envAdminA", "flinkAdminA", "developerA", "nobody"] {
            #expect(try await scrape(fixture, as: role).status == 403, "\(role)")
        }
        let nobody = try #require(fixture.principals["nobody"])
        let organization = fixture.organizationID
        _ = try await fixture.store.mutate { state in
            try state.createRoleBinding(
                organizationID: organization, principal: "User:\(nobody)", roleName: "MetricsViewer",
                crnPattern: CRN.organization(organization).description, now: Date())
        }
        let viewer = try await scrape(fixture, as: "nobody")
        #expect(viewer.status == 200)
        #expect(viewer.contentType == MetricsAPI.contentType)
        // A MetricsViewer reads metrics and nothing else.
        let listed = try await fixture.call(.get, "/org/v2/environments", as: "nobody")
        #expect(listed.status == 403 || listed.json?["data"]?.arrayValue?.isEmpty == true, "\(listed)")
        // MetricsViewer is bound on the organization only.
        let environment = fixture.environmentA
        await #expect(throws: APIError.self) {
            _ = try await fixture.store.mutate { state in
                try state.createRoleBinding(
                    organizationID: organization, principal: "User:\(nobody)", roleName: "MetricsViewer",
                    crnPattern: CRN.environment(organization, environment).description, now: Date())
            }
        }
    }

    @Test func requestsAreCountedByRouteMethodAndStatus() async throws {
        var fixture = try await RouterFixture.make()
        let metrics = MetricsAPI(metrics: ServerMetrics()) { _ in ScrapeState() }
        fixture.shared = ListenerShared(
            limiter: RateLimiter(limits: RateLimits(concurrentRequests: 100, perSecond: 1000, perMinute: 3)), metrics: metrics)
        var statuses: [Int] = []
        // Eight in a row: however slowly they go (a loaded machine) and wherever a minute ends, one minute sees more
        // than three.
        for _ in 0..<8 { statuses.append(try await fixture.call(.get, "/org/v2/environments").status) }
        #expect(try await fixture.call(.get, "/no/such/route").status == 404)
        let ok = statuses.filter { $0 == 200 }.count
        let refused = statuses.filter { $0 == 429 }.count
        #expect(ok >= 3 && refused >= 1 && ok + refused == 8, "\(statuses)")
        // Scraped through a router of the same metrics without the exhausted limiter.
        var scraper = fixture
        scraper.shared = ListenerShared(metrics: metrics)
        let samples = Self.samples(try await scrape(scraper).text)
        #expect(samples[#"floe_http_requests_total{method="GET",route="unmatched",status="404"}"#] == 1)
        #expect(samples[#"floe_http_requests_total{method="GET",route="/org/v2/environments",status="200"}"#] == Double(ok))
        #expect(samples[#"floe_http_requests_total{method="GET",route="/org/v2/environments",status="429"}"#] == Double(refused))
        #expect(samples[#"floe_rate_limit_refusals_total{limit="per_minute"}"#] == Double(refused))
        #expect(samples[#"floe_http_request_duration_seconds_count{method="GET",route="/org/v2/environments"}"#] == Double(ok + refused))
        #expect(samples[#"floe_http_request_duration_seconds_bucket{method="GET",route="/org/v2/environments",le="+Inf"}"#] == Double(ok + refused))
    }

    @Test func theScrapedStateIsExposed() throws {
        let statistics = RunStatistics()
        statistics.recordRead(120)
        statistics.recordWritten(7)
        statistics.recordCheckpoint(.milliseconds(250))
        var state = ScrapeState()
        state.statementsByPhase = [.running: 2, .failed: 1]
        state.running = [.init(environmentID: "env-1", name: "copy \"quoted\"", statistics: statistics)]
        state.resultStoreBytes = 4096
        state.openConnections = [("public", 3), ("private", 1)]
        let text = String(decoding: ServerMetrics().exposition(state: state), as: UTF8.self)
        let samples = Self.samples(text)
        #expect(samples[#"floe_statements{phase="RUNNING"}"#] == 2)
        #expect(samples[#"floe_statements{phase="PENDING"}"#] == 0)
        #expect(samples[#"floe_statement_rows_read_total{environment="env-1",statement="copy \"quoted\""}"#] == 120)
        #expect(samples[#"floe_statement_rows_written_total{environment="env-1",statement="copy \"quoted\""}"#] == 7)
        #expect(samples[#"floe_statement_checkpoint_duration_seconds{environment="env-1",statement="copy \"quoted\""}"#] == 0.25)
        #expect(samples["floe_result_store_bytes"] == 4096)
        #expect(samples[#"floe_open_connections{listener="private"}"#] == 1)
        #expect(text.contains("# TYPE floe_statement_rows_read_total counter"))
        #expect(text.contains("# HELP floe_statements "))
    }

    // MARK: Logs

    @Test func jsonLogLinesAreObjectsWithTheMetadataAtTheTop() throws {
        let line = JSONLogHandler.line(
            time: "2026-12-07T22:00:00.000Z", level: .notice, label: "floe", message: "reloaded \"TLS\" certificate",
            metadata: ["listener": "public", "message": "clash", "tags": .array(["a", "b"]), "count": .stringConvertible(3)])
        let parsed = try JSONValue.parse(line)
        #expect(parsed["time"] == "2026-12-07T22:00:00.000Z")
        #expect(parsed["level"] == "notice")
        #expect(parsed["logger"] == "floe")
        #expect(parsed["message"] == "reloaded \"TLS\" certificate")
        #expect(parsed["listener"] == "public")
        #expect(parsed["metadata.message"] == "clash")
        #expect(parsed["tags"] == .array(["a", "b"]))
        #expect(parsed["count"] == "3")
        #expect(!line.contains(UInt8(ascii: "\n")))
    }
}
