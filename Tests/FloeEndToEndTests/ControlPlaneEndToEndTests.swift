// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import Foundation
import Testing

/// The real `floe` binary over real HTTP on real SQLite: start-up, bootstrap, every control-plane group, restarts.
@Suite struct ControlPlaneEndToEndTests {
    @Test func bootstrapWritesPrivateCredentialsOnceAndRestartReusesThem() async throws {
        let server = try await ServerProcess.start()
        let file = server.dataDirectory.appendingPathComponent("bootstrap.json")
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let bootstrap = try server.bootstrap()
        #expect(IdentifierGenerator.isAPIKeyID(bootstrap.credentials.key))
        #expect(IdentifierGenerator.isAPISecret(bootstrap.credentials.secret))
        #expect(UUID(uuidString: bootstrap.organizationID) != nil)
        #expect(bootstrap.userID.hasPrefix("u-"))
        #expect(server.output.contains(file.path))

        let admin = try server.adminClient()
        let environment = try await admin.send("GET", "/org/v2/environments/\(bootstrap.environmentID)")
        #expect(environment.status == 200)
        #expect(environment.json?["display_name"] == "default")
        let bindings = try await admin.send(
            "GET", "/iam/v2/role-bindings", query: [("crn_pattern", "crn://confluent.cloud/organization=\(bootstrap.organizationID)")])
        #expect(bindings.json?.value(at: "data")?.arrayValue?.first?["role_name"] == "OrganizationAdmin")

        #expect(await server.stop() == 0, "SIGTERM should shut down gracefully")
        #expect(!server.output.contains(bootstrap.credentials.secret), "the secret must never be logged")

        let restarted = try await ServerProcess.start(dataDirectory: server.dataDirectory)
        defer { restarted.shutDown() }
        #expect(try restarted.bootstrap().credentials == bootstrap.credentials)
        #expect(try restarted.bootstrap().organizationID == bootstrap.organizationID)
        let organizations = try await restarted.adminClient().send("GET", "/org/v2/organizations")
        #expect(organizations.json?["data"]?.arrayValue?.count == 1)
        #expect(organizations.json?["data"]?.arrayValue?.first?["id"]?.stringValue == bootstrap.organizationID)
        #expect(!restarted.output.contains(bootstrap.credentials.secret))
    }

    @Test func bootstrapCredentialsFromEnvironment() async throws {
        let key = IdentifierGenerator.apiKeyID()
        let secret = IdentifierGenerator.apiSecret()
        let server = try await ServerProcess.start(environment: ["FLOE_BOOTSTRAP_API_KEY": key, "FLOE_BOOTSTRAP_API_SECRET": secret])
        defer { server.shutDown() }
        let client = FloeClient(baseURL: server.baseURL, credentials: APICredentials(key: key, secret: secret))
        #expect(try await client.send("GET", "/org/v2/environments").status == 200)
        #expect(try await client.with(credentials: APICredentials(key: key, secret: secret + "x")).send("GET", "/org/v2/environments").status == 401)
        #expect(!server.output.contains(secret))
    }

    @Test func tourOfTheControlPlaneSurvivesKillAndRestart() async throws {
        let server = try await ServerProcess.start()
        let admin = try server.adminClient()
        let organizationID = try server.bootstrap().organizationID

        let environment = try await admin.send("POST", "/org/v2/environments", json: ["display_name": "tour"])
        #expect(environment.status == 201)
        let environmentID = try #require(environment.json?["id"]?.stringValue)
        #expect(environmentID.hasPrefix("env-"))
        #expect(environment.json?.value(at: "metadata", "self")?.stringValue == "\(server.baseURL)/org/v2/environments/\(environmentID)")

        let account = try await admin.send("POST", "/iam/v2/service-accounts", json: ["display_name": "tour-sa", "description": "tour"])
        #expect(account.status == 201)
        let accountID = try #require(account.json?["id"]?.stringValue)

        let binding = try await admin.send(
            "POST", "/iam/v2/role-bindings",
            json: [
                "principal": .string("User:\(accountID)"), "role_name": "FlinkDeveloper",
                "crn_pattern": .string("crn://confluent.cloud/organization=\(organizationID)/environment=\(environmentID)"),
            ])
        #expect(binding.status == 201)

        let flinkKey = try await admin.send(
            "POST", "/iam/v2/api-keys",
            json: [
                "spec": [
                    "display_name": "tour-flink", "owner": ["id": .string(accountID)],
                    "resource": ["id": "aws.us-east-1", "environment": .string(environmentID)],
                ]
            ])
        #expect(flinkKey.status == 202)
        let flinkSecret = try #require(flinkKey.json?.value(at: "spec", "secret")?.stringValue)
        #expect(IdentifierGenerator.isAPISecret(flinkSecret))
        #expect(flinkKey.json?.value(at: "spec", "resource", "kind") == "Region")
        #expect(flinkKey.json?.value(at: "spec", "resource", "api_version") == "fcpm/v2")
        #expect(
            flinkKey.json?.value(at: "spec", "resource", "resource_name")?.stringValue
                == "crn://api.confluent.cloud/organization=\(organizationID)/environment=\(environmentID)/flink-region=aws.us-east-1")
        let flinkKeyID = try #require(flinkKey.json?["id"]?.stringValue)
        let readBack = try await admin.send("GET", "/iam/v2/api-keys/\(flinkKeyID)")
        #expect(readBack.json?.value(at: "spec", "secret") == "", "the secret is shown only at creation")

        let cloudKey = try await admin.send(
            "POST", "/iam/v2/api-keys",
            json: ["spec": ["display_name": "tour-cloud", "owner": ["id": .string(accountID)], "resource": ["id": "cloud"]]])
        #expect(cloudKey.status == 202)
        let developer = FloeClient(
            baseURL: server.baseURL,
            credentials: APICredentials(
                key: try #require(cloudKey.json?["id"]?.stringValue), secret: try #require(cloudKey.json?.value(at: "spec", "secret")?.stringValue)))
        let flinkClient = FloeClient(baseURL: server.baseURL, credentials: APICredentials(key: flinkKeyID, secret: flinkSecret))
        #expect(try await flinkClient.send("GET", "/fcpm/v2/compute-pools", query: [("environment", environmentID)]).status == 401)

        let regions = try await admin.send("GET", "/fcpm/v2/regions", query: [("cloud", "aws"), ("region_name", "us-east-1")])
        #expect(regions.json?["data"]?.arrayValue?.map { $0["id"] } == ["aws.us-east-1"])
        #expect(regions.json?["data"]?.arrayValue?.first?["http_endpoint"]?.stringValue == server.baseURL)

        let poolBody: JSONValue = [
            "spec": [
                "display_name": "tour-pool", "cloud": "AWS", "region": "us-east-1", "max_cfu": 10, "environment": ["id": .string(environmentID)],
            ]
        ]
        #expect(try await developer.send("POST", "/fcpm/v2/compute-pools", json: poolBody).status == 403, "FlinkDeveloper may not create pools")
        let pool = try await admin.send("POST", "/fcpm/v2/compute-pools", json: poolBody)
        #expect(pool.status == 202)
        #expect(pool.json?.value(at: "status", "phase") == "PROVISIONING")
        let poolID = try #require(pool.json?["id"]?.stringValue)
        #expect(
            pool.json?.value(at: "metadata", "resource_name")?.stringValue
                == "crn://confluent.cloud/organization=\(organizationID)/environment=\(environmentID)/flink-region=aws.us-east-1/compute-pool=\(poolID)"
        )
        var phase = ""
        for _ in 0..<300 where phase != "PROVISIONED" {
            try await Task.sleep(for: .milliseconds(100))
            phase =
                try await admin.send("GET", "/fcpm/v2/compute-pools/\(poolID)", query: [("environment", environmentID)]).json?.value(
                    at: "status", "phase")?.stringValue ?? ""
        }
        #expect(phase == "PROVISIONED")
        let listed = try await developer.send("GET", "/fcpm/v2/compute-pools", query: [("environment", environmentID), ("spec.region", "us-east-1")])
        #expect(listed.status == 200)
        #expect(listed.json?["data"]?.arrayValue?.map { $0["id"] } == [.string(poolID)])
        let patched = try await admin.send(
            "PATCH", "/fcpm/v2/compute-pools/\(poolID)",
            json: ["spec": ["max_cfu": 20, "display_name": "tour-pool-2", "environment": ["id": .string(environmentID)]]])
        #expect(patched.status == 200)
        #expect(patched.json?.value(at: "spec", "max_cfu") == 20)

        // kill -9 loses nothing that was acknowledged.
        await server.kill9()
        let restarted = try await ServerProcess.start(dataDirectory: server.dataDirectory)
        defer { restarted.shutDown() }
        let admin2 = try restarted.adminClient()
        let poolAfter = try await admin2.send("GET", "/fcpm/v2/compute-pools/\(poolID)", query: [("environment", environmentID)])
        #expect(poolAfter.json?.value(at: "spec", "display_name") == "tour-pool-2")
        #expect(poolAfter.json?.value(at: "spec", "max_cfu") == 20)
        #expect(try await admin2.send("GET", "/iam/v2/service-accounts/\(accountID)").status == 200)
        let flinkClient2 = FloeClient(baseURL: restarted.baseURL, credentials: APICredentials(key: flinkKeyID, secret: flinkSecret))
        #expect(try await flinkClient2.send("GET", "/org/v2/environments").status == 401, "still a Flink key after restart")

        #expect(try await admin2.send("DELETE", "/fcpm/v2/compute-pools/\(poolID)", query: [("environment", environmentID)]).status == 204)
        #expect(try await admin2.send("GET", "/fcpm/v2/compute-pools/\(poolID)", query: [("environment", environmentID)]).status == 403)

        // Deleting the service account deletes its keys and bindings.
        #expect(try await admin2.send("DELETE", "/iam/v2/service-accounts/\(accountID)").status == 204)
        #expect(try await admin2.send("GET", "/iam/v2/api-keys/\(flinkKeyID)").status == 404)
        let remaining = try await admin2.send(
            "GET", "/iam/v2/role-bindings",
            query: [("crn_pattern", "crn://confluent.cloud/organization=\(organizationID)"), ("principal", "User:\(accountID)")])
        #expect(remaining.json?["data"]?.arrayValue?.isEmpty == true)

        // Deleting the environment deletes what is inside it.
        #expect(try await admin2.send("DELETE", "/org/v2/environments/\(environmentID)").status == 204)
        #expect(try await admin2.send("GET", "/org/v2/environments/\(environmentID)").status == 404)
    }

    @Test func rejectedRequestsLeaveStoredStateUnchanged() async throws {
        let server = try await ServerProcess.start()
        defer { server.shutDown() }
        let admin = try server.adminClient()
        let environmentID = try server.bootstrap().environmentID
        let pool = try await admin.send(
            "POST", "/fcpm/v2/compute-pools",
            json: [
                "spec": ["display_name": "p1", "cloud": "aws", "region": "us-east-1", "max_cfu": 5, "environment": ["id": .string(environmentID)]]
            ])
        #expect(pool.status == 202)
        func snapshot() async throws -> [JSONValue?] {
            var documents: [JSONValue?] = []
            for path in ["/org/v2/environments", "/iam/v2/service-accounts", "/iam/v2/api-keys"] {
                documents.append(try await admin.send("GET", path).json?["data"])
            }
            let pools = try await admin.send("GET", "/fcpm/v2/compute-pools", query: [("environment", environmentID)])
            documents.append(.array(pools.json?["data"]?.arrayValue?.map { $0["spec"] ?? .null } ?? []))
            return documents
        }
        let before = try await snapshot()
        let rejected: [(String, String, [UInt8], Int)] = [
            ("POST", "/org/v2/environments", Array(#"{"display_name": "#.utf8), 400),
            ("POST", "/org/v2/environments", Array(#"{"display_name": 42}"#.utf8), 400),
            ("POST", "/org/v2/environments", Array(#"{"display_name": "default"}"#.utf8), 409),
            ("POST", "/iam/v2/service-accounts", Array(#"["not", "an", "object"]"#.utf8), 400),
            ("POST", "/iam/v2/api-keys", Array(#"{"spec": {"owner": {"id": "sa-missing"}}}"#.utf8), 400),
            ("POST", "/iam/v2/api-keys", Array(#"{"spec": {"owner": {"id": 7}}}"#.utf8), 400),
            (
                "POST", "/fcpm/v2/compute-pools",
                Array(
                    #"{"spec": {"display_name": "p2", "cloud": "AWS", "region": "us-east-1", "max_cfu": 7, "environment": {"id": "\#(environmentID)"}}}"#
                        .utf8), 400
            ),
            (
                "POST", "/fcpm/v2/compute-pools",
                Array(
                    #"{"spec": {"display_name": "p1", "cloud": "AWS", "region": "us-east-1", "max_cfu": 5, "environment": {"id": "\#(environmentID)"}}}"#
                        .utf8), 409
            ),
            (
                "POST", "/fcpm/v2/compute-pools",
                Array(
                    #"{"spec": {"display_name": "p3", "cloud": "AWS", "region": "mars-1", "max_cfu": 5, "environment": {"id": "\#(environmentID)"}}}"#
                        .utf8), 400
            ),
            ("PATCH", "/org/v2/environments/env-nothere", Array(#"{"display_name": "x"}"#.utf8), 404),
            ("DELETE", "/iam/v2/service-accounts/sa-nothere", [], 404),
        ]
        for (method, path, body, expected) in rejected {
            let response = try await admin.send(method, path, rawBody: body)
            #expect(response.status == expected, "\(method) \(path) \(String(decoding: body, as: UTF8.self))")
            let error = response.json?["errors"]?.arrayValue?.first
            #expect(error?["status"]?.stringValue == String(expected))
            #expect(error?["detail"]?.stringValue?.isEmpty == false)
            #expect(response.headers["x-request-id"]?.count == 32)
        }
        #expect(try await snapshot() == before)
    }

    @Test func paginationWalksEveryItemOnceThroughAbsoluteNextLinks() async throws {
        let server = try await ServerProcess.start()
        defer { server.shutDown() }
        let admin = try server.adminClient()
        var created: [String] = []
        for index in 0..<7 {
            let response = try await admin.send("POST", "/iam/v2/service-accounts", json: ["display_name": .string("page-\(index)")])
            created.append(try #require(response.json?["id"]?.stringValue))
        }
        var seen: [String] = []
        var next: String? = "/iam/v2/service-accounts?page_size=3"
        var pages = 0
        while let url = next, !url.isEmpty {
            let page = try await admin.send("GET", url)
            #expect(page.status == 200)
            #expect(page.json?.value(at: "metadata", "total_size") == 7)
            seen += page.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            next = page.json?.value(at: "metadata", "next")?.stringValue
            if let next, !next.isEmpty {
                #expect(next.hasPrefix(server.baseURL))
                #expect(next.hasPrefix("\(server.baseURL)/iam/v2/service-accounts?page_token="), "cc-clients cuts the token after ?page_token=")
            }
            pages += 1
        }
        #expect(pages == 3)
        #expect(seen == created)
        let filtered = try await admin.send("GET", "/iam/v2/service-accounts", query: [("display_name", "page-1"), ("display_name", "page-4")])
        #expect(filtered.json?["data"]?.arrayValue?.count == 2)
        #expect(try await admin.send("GET", "/iam/v2/service-accounts", query: [("page_token", "garbage")]).status == 400)
        #expect(try await admin.send("GET", "/iam/v2/service-accounts", query: [("page_size", "zero")]).status == 400)
    }

    @Test func publicURLIsUsedInEveryLink() async throws {
        let server = try await ServerProcess.start(arguments: ["--rate-limit", "off", "--public-url", "https://floe.example.test/"])
        defer { server.shutDown() }
        let admin = try server.adminClient()
        let environments = try await admin.send("GET", "/org/v2/environments")
        #expect(environments.json?.value(at: "metadata", "first")?.stringValue?.hasPrefix("https://floe.example.test/org/v2/environments") == true)
        #expect(
            environments.json?["data"]?.arrayValue?.first?.value(at: "metadata", "self")?.stringValue?.hasPrefix(
                "https://floe.example.test/org/v2/environments/env-") == true)
        let regions = try await admin.send("GET", "/fcpm/v2/regions", query: [("page_size", "100")])
        #expect(regions.json?["data"]?.arrayValue?.allSatisfy { $0["http_endpoint"] == "https://floe.example.test" } == true)
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        let server = try await ServerProcess.start(arguments: [])
        defer { server.shutDown() }
        let admin = try server.adminClient()
        // Bursts of 80 concurrent requests exceed 50 per second (and, at worst, 1000 per minute) however slow the
        // machine is; stop at the first burst that was limited.
        var statuses: [FloeResponse] = []
        for _ in 0..<20 where !statuses.contains(where: { $0.status == 429 }) {
            statuses += try await withThrowingTaskGroup(of: FloeResponse.self) { group in
                for _ in 0..<80 { group.addTask { try await admin.send("GET", "/org/v2/environments") } }
                var responses: [FloeResponse] = []
                for try await response in group { responses.append(response) }
                return responses
            }
        }
        let limited = statuses.filter { $0.status == 429 }
        #expect(!limited.isEmpty, "bursts of 80 requests exceed 50 per second")
        #expect(statuses.allSatisfy { $0.status == 200 || $0.status == 429 })
        let first = try #require(limited.first)
        #expect(Int(first.headers["retry-after"] ?? "") ?? 0 >= 1)
        #expect(first.json?["errors"]?.arrayValue?.first?["status"] == "429")
        #expect(
            statuses.filter { $0.status == 200 }.allSatisfy {
                $0.headers["x-ratelimit-limit"] == "1000" && $0.headers["x-ratelimit-remaining"] != nil
            })
    }
}
