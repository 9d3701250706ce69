// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import FloeServer

/// A server's router on an in-memory store, with principals of every role and their credentials.
struct RouterFixture {
    let store: SQLiteControlPlaneStore
    let organizationID: String
    let environmentA: String
    let environmentB: String
    let admin: String
    /// Cloud-key credentials by role name: "envAdminA", "flinkAdminA", "developerA", "nobody"; plus "flinkA" (a Flink key).
    let credentials: [String: String]
    let principals: [String: String]
    /// The statements API's services, when the fixture serves `sql/v1`.
    var statements: StatementServices? = nil
    /// The per-client limits (none by default, so tests are not paced by them).
    var rateLimits: RateLimits? = nil
    /// How the server reaches Kafka clusters (none by default).
    var kafkaInspector: (any KafkaClusterInspector)? = nil
    /// Regions mapped to Flink clusters (their pools show `status.engine` `flink`).
    var flinkClusters: [FlinkClusterSetting] = []
    /// Where the server logs (nowhere by default).
    var logger: Logger? = nil
    /// The listener the router serves (statements created through it carry it) and the server's endpoints.
    var networkKind = NetworkKind.public
    var endpoints: ServerEndpoints? = nil
    /// What the router shares with other listeners (a rate limiter that lasts across calls, `GET /metrics`); by
    /// default a fresh limiter per call from `rateLimits`, and no metrics.
    var shared: ListenerShared? = nil

    static func make(resultsLimit: Int = SQLiteControlPlaneStore.defaultResultsLimit) async throws -> RouterFixture {
        let store = try SQLiteControlPlaneStore.inMemory(resultsLimit: resultsLimit)
        let adminSecret = IdentifierGenerator.apiSecret()
        let adminKey = IdentifierGenerator.apiKeyID()
        let now = Date()
        let digest = SecretHasher.digest(of: adminSecret)
        let boot = try #require(try await store.mutate { $0.bootstrap(now: now, adminKeyID: adminKey, adminSecretDigest: digest) })
        let environmentB = try await store.mutate {
            try $0.createEnvironment(organizationID: boot.organizationID, displayName: "b", governancePackage: nil, now: now)
        }.id
        var credentials = ["admin": header(adminKey, adminSecret)]
        var principals = ["admin": boot.userID]
        let roles: [(String, Role?)] = [
            ("envAdminA", .environmentAdmin), ("flinkAdminA", .flinkAdmin), ("developerA", .flinkDeveloper), ("nobody", nil),
        ]
        for (name, role) in roles {
            let secret = IdentifierGenerator.apiSecret()
            let keyID = IdentifierGenerator.apiKeyID()
            let keyDigest = SecretHasher.digest(of: secret)
            let accountID = try await store.mutate { state in
                let account = try state.createServiceAccount(organizationID: boot.organizationID, displayName: name, description: "", now: now)
                if let role {
                    _ = try state.createRoleBinding(
                        organizationID: boot.organizationID, principal: "User:\(account.id)", roleName: role.rawValue,
                        crnPattern: CRN.environment(boot.organizationID, boot.environmentID).description, now: now)
                }
                _ = try state.createAPIKey(
                    organizationID: boot.organizationID, ownerID: account.id, resource: .cloud, displayName: name, description: "",
                    keyID: keyID, secretDigest: keyDigest, now: now)
                return account.id
            }
            credentials[name] = header(keyID, secret)
            principals[name] = accountID
        }
        let flinkSecret = IdentifierGenerator.apiSecret()
        let flinkKey = IdentifierGenerator.apiKeyID()
        let flinkDigest = SecretHasher.digest(of: flinkSecret)
        let developer = principals["developerA"]!
        _ = try await store.mutate { state in
            try state.createAPIKey(
                organizationID: boot.organizationID, ownerID: developer,
                resource: .flinkRegion(regionID: "aws.us-east-1", environmentID: boot.environmentID),
                displayName: "flink", description: "", keyID: flinkKey, secretDigest: flinkDigest, now: now)
        }
        credentials["flinkA"] = header(flinkKey, flinkSecret)
        return RouterFixture(
            store: store, organizationID: boot.organizationID, environmentA: boot.environmentID, environmentB: environmentB, admin: boot.userID,
            credentials: credentials, principals: principals)
    }

    static func header(_ key: String, _ secret: String) -> String { "Basic " + Data("\(key):\(secret)".utf8).base64EncodedString() }

    var application: some ApplicationProtocol {
        var configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: "/nonexistent"))
        configuration.rateLimits = rateLimits
        if let kafkaInspector { configuration.kafkaInspector = kafkaInspector }
        configuration.flinkClusters = flinkClusters
        return Application(
            router: FloeServer.makeRouter(
                store: store, configuration: configuration, publicURL: networkKind == .private ? "http://private.floe.test" : "http://floe.test",
                endpoints: endpoints, networkKind: networkKind, statements: statements, registries: store.schemaRegistries,
                shared: shared ?? ListenerShared(limiter: rateLimits.map { RateLimiter(limits: $0) })),
            logger: logger)
    }

    /// Sends one request as `who` (a key of `credentials`, or nil for none) and returns status, headers and parsed body.
    func call(
        _ method: HTTPRequest.Method, _ uri: String, as who: String? = "admin", body: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> (status: Int, headers: HTTPFields, json: JSONValue?) {
        var fields = extra
        if let who { fields[.authorization] = credentials[who]! }
        let headers = fields
        return try await application.test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                let bytes = Array(response.body.readableBytesView)
                return (response.status.code, response.headers, bytes.isEmpty ? nil : try? JSONValue.parse(bytes))
            }
        }
    }
}

@Suite struct RouterTests {
    @Test func unknownRouteIsAnEnvelopedNotFound() async throws {
        let fixture = try await RouterFixture.make()
        let response = try await fixture.call(.get, "/org/v2/nothing-here")
        #expect(response.status == 404)
        let error = try #require(response.json?["errors"]?.arrayValue?.first)
        #expect(error["status"] == "404")
        #expect(error["id"]?.stringValue == response.headers[HTTPField.Name("X-Request-Id")!])
    }

    @Test(arguments: [nil, "Basic", "Basic !!!", "Bearer abc", "Basic " + Data("NOKEY:nosecret".utf8).base64EncodedString()])
    func missingOrWrongCredentialsAre401(_ header: String?) async throws {
        let fixture = try await RouterFixture.make()
        var headers: HTTPFields = [:]
        if let header { headers[.authorization] = header }
        let response = try await fixture.call(.get, "/org/v2/environments", as: nil, headers: headers)
        #expect(response.status == 401)
        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
        #expect(response.json?["errors"]?.arrayValue?.first?["code"] == "user_unauthenticated")
    }

    @Test func flinkKeysAreRefusedOnTheControlPlane() async throws {
        let fixture = try await RouterFixture.make()
        for path in [
            "/org/v2/environments", "/iam/v2/service-accounts", "/fcpm/v2/compute-pools?environment=\(fixture.environmentA)", "/fcpm/v2/regions",
        ] {
            #expect(try await fixture.call(.get, path, as: "flinkA").status == 401, "\(path)")
        }
    }

    @Test func principalWithoutRolesIsForbidden() async throws {
        let fixture = try await RouterFixture.make()
        #expect(try await fixture.call(.post, "/org/v2/environments", as: "nobody", body: #"{"display_name":"x"}"#).status == 403)
        #expect(try await fixture.call(.get, "/iam/v2/service-accounts", as: "nobody").status == 403)
        #expect(try await fixture.call(.get, "/iam/v2/users", as: "nobody").status == 403)
        #expect(try await fixture.call(.get, "/org/v2/environments/\(fixture.environmentA)", as: "nobody").status == 403)
        #expect(try await fixture.call(.get, "/fcpm/v2/compute-pools?environment=\(fixture.environmentA)", as: "nobody").status == 403)
        #expect(try await fixture.call(.get, "/fcpm/v2/compute-pool-config", as: "nobody").status == 403)
        let environments = try await fixture.call(.get, "/org/v2/environments", as: "nobody")
        #expect(environments.status == 200)
        #expect(environments.json?["data"]?.arrayValue?.isEmpty == true)
        let admin = try #require(fixture.principals["admin"])
        let key = #"{"spec":{"owner":{"id":"\#(admin)"},"resource":{"id":"cloud"}}}"#
        #expect(try await fixture.call(.post, "/iam/v2/api-keys", as: "nobody", body: key).status == 403)
    }

    @Test func rolesReachOnlyTheirEnvironment() async throws {
        let fixture = try await RouterFixture.make()
        let pool = { (environment: String, name: String) in
            #"{"spec":{"display_name":"\#(name)","cloud":"AWS","region":"us-east-1","max_cfu":5,"environment":{"id":"\#(environment)"}}}"#
        }
        #expect(
            try await fixture.call(.patch, "/org/v2/environments/\(fixture.environmentA)", as: "envAdminA", body: #"{"display_name":"a2"}"#).status
                == 200)
        #expect(
            try await fixture.call(.patch, "/org/v2/environments/\(fixture.environmentB)", as: "envAdminA", body: #"{"display_name":"b2"}"#).status
                == 403)
        #expect(try await fixture.call(.delete, "/org/v2/environments/\(fixture.environmentA)", as: "envAdminA").status == 403)
        #expect(try await fixture.call(.post, "/fcpm/v2/compute-pools", as: "flinkAdminA", body: pool(fixture.environmentA, "fa")).status == 202)
        #expect(try await fixture.call(.post, "/fcpm/v2/compute-pools", as: "flinkAdminA", body: pool(fixture.environmentB, "fb")).status == 403)
        #expect(try await fixture.call(.post, "/fcpm/v2/compute-pools", as: "developerA", body: pool(fixture.environmentA, "da")).status == 403)
        let listed = try await fixture.call(.get, "/fcpm/v2/compute-pools?environment=\(fixture.environmentA)", as: "developerA")
        #expect(listed.status == 200)
        #expect(listed.json?["data"]?.arrayValue?.count == 1)
        #expect(try await fixture.call(.get, "/fcpm/v2/compute-pools?environment=\(fixture.environmentB)", as: "developerA").status == 403)
        // An EnvironmentAdmin may grant roles in its environment, never OrganizationAdmin, never elsewhere.
        let developer = try #require(fixture.principals["developerA"])
        let grant = { (role: String, environment: String) in
            #"{"principal":"User:\#(developer)","role_name":"\#(role)","crn_pattern":"crn://confluent.cloud/organization=\#(fixture.organizationID)/environment=\#(environment)"}"#
        }
        #expect(
            try await fixture.call(.post, "/iam/v2/role-bindings", as: "envAdminA", body: grant("FlinkAdmin", fixture.environmentA)).status == 201)
        #expect(
            try await fixture.call(.post, "/iam/v2/role-bindings", as: "envAdminA", body: grant("FlinkAdmin", fixture.environmentB)).status == 403)
        #expect(
            try await fixture.call(.post, "/iam/v2/role-bindings", as: "envAdminA", body: grant("OrganizationAdmin", fixture.environmentA)).status
                == 403)
    }

    @Test func bodiesAreParsedLiberallyAndRejectedPrecisely() async throws {
        let fixture = try await RouterFixture.make()
        // Any Content-Type, unknown members and nulls in read-only members are fine.
        let created = try await fixture.call(
            .post, "/iam/v2/service-accounts",
            body: #"{"display_name":"loose","description":null,"api_version":null,"kind":null,"metadata":null,"extra":{"x":1}}"#,
            headers: [.contentType: "text/plain"])
        #expect(created.status == 201)
        #expect(created.json?["description"] == "")
        let malformed = try await fixture.call(.post, "/iam/v2/service-accounts", body: #"{"display_name":"#)
        #expect(malformed.status == 400)
        #expect(malformed.json?["errors"]?.arrayValue?.first?["code"] == "invalid_json")
        let wrongType = try await fixture.call(.post, "/iam/v2/service-accounts", body: #"{"display_name":["x"]}"#)
        #expect(wrongType.status == 400)
        #expect(wrongType.json?["errors"]?.arrayValue?.first?.value(at: "source", "pointer") == "/display_name")
        let nested = try await fixture.call(.post, "/fcpm/v2/compute-pools", body: #"{"spec":"not an object"}"#)
        #expect(nested.status == 400)
        #expect(try await fixture.call(.post, "/iam/v2/service-accounts", body: "").status == 400)
    }

    @Test func requiredQueryParametersAreEnforced() async throws {
        let fixture = try await RouterFixture.make()
        let pools = try await fixture.call(.get, "/fcpm/v2/compute-pools")
        #expect(pools.status == 400)
        #expect(pools.json?["errors"]?.arrayValue?.first?.value(at: "source", "parameter") == "environment")
        #expect(try await fixture.call(.get, "/iam/v2/role-bindings").status == 400)
        #expect(try await fixture.call(.get, "/fcpm/v2/compute-pools/lfcp-nope").status == 400)
        #expect(try await fixture.call(.get, "/fcpm/v2/compute-pools/lfcp-nope?environment=\(fixture.environmentA)").status == 403)
        #expect(try await fixture.call(.get, "/fcpm/v2/regions?cloud=moon").status == 400)
        #expect(try await fixture.call(.get, "/iam/v2/service-accounts?page_size=-1").status == 400)
    }

    @Test func apiKeysAreVisibleToOwnersAndAdminsOnly() async throws {
        let fixture = try await RouterFixture.make()
        let developer = try #require(fixture.principals["developerA"])
        let own = try await fixture.call(.get, "/iam/v2/api-keys", as: "developerA")
        #expect(own.status == 200)
        #expect(own.json?["data"]?.arrayValue?.allSatisfy { $0.value(at: "spec", "owner", "id")?.stringValue == developer } == true)
        #expect(own.json?["data"]?.arrayValue?.count == 2)
        let all = try await fixture.call(.get, "/iam/v2/api-keys?spec.owner=\(developer)&spec.resource=aws.us-east-1")
        #expect(all.json?["data"]?.arrayValue?.count == 1)
        #expect(all.json?["data"]?.arrayValue?.first?.value(at: "spec", "resource", "environment")?.stringValue == fixture.environmentA)
        let someoneElses = try #require(
            try await fixture.call(.get, "/iam/v2/api-keys?spec.owner=\(fixture.admin)").json?["data"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(try await fixture.call(.get, "/iam/v2/api-keys/\(someoneElses)", as: "developerA").status == 403)
        #expect(try await fixture.call(.delete, "/iam/v2/api-keys/\(someoneElses)", as: "developerA").status == 403)
        #expect(try await fixture.call(.get, "/iam/v2/api-keys/\(someoneElses)").status == 200)
        #expect(try await fixture.call(.get, "/iam/v2/api-keys/NOTAKEY000000000").status == 404)
    }

    @Test func computePoolDefaultsAreSingular() async throws {
        let fixture = try await RouterFixture.make()
        var ids: [String] = []
        for name in ["d1", "d2"] {
            let body =
                #"{"spec":{"display_name":"\#(name)","cloud":"aws","region":"us-east-1","max_cfu":5,"default_pool":true,"environment":{"id":"\#(fixture.environmentA)"}}}"#
            let response = try await fixture.call(.post, "/fcpm/v2/compute-pools", body: body)
            #expect(response.status == 202)
            #expect(response.json?.value(at: "spec", "cloud") == "AWS")
            ids.append(try #require(response.json?["id"]?.stringValue))
        }
        let first = try await fixture.call(.get, "/fcpm/v2/compute-pools/\(ids[0])?environment=\(fixture.environmentA)")
        #expect(first.json?.value(at: "spec", "default_pool") == false)
        let config = try await fixture.call(.patch, "/fcpm/v2/compute-pool-config", body: #"{"spec":{"default_pool_max_cfu":7}}"#)
        #expect(config.status == 400)
        let patched = try await fixture.call(
            .patch, "/fcpm/v2/compute-pool-config", body: #"{"spec":{"default_pool_max_cfu":30,"default_pool_enabled":false}}"#)
        #expect(patched.json?.value(at: "spec", "default_pool_max_cfu") == 30)
        #expect(
            try await fixture.call(.get, "/fcpm/v2/compute-pool-config", as: "developerA").json?.value(at: "spec", "default_pool_enabled") == false)
        #expect(
            try await fixture.call(.patch, "/fcpm/v2/compute-pool-config", as: "envAdminA", body: #"{"spec":{"default_pool_enabled":true}}"#).status
                == 403)
    }
}
