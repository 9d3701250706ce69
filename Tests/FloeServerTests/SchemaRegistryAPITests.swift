// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import FloeSchemas
import FloeStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import FloeServer

/// The Schema Registry data plane and `srcm/v3`, through the router: routes, the registry's error bodies and codes,
/// the quirks of confluent-kafka's requests, and who may do what.
@Suite struct SchemaRegistryAPITests {
    static let order = #"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}"#
    static let orderV2 = #"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"n","type":"int","default":0}]}"#
    static let orderBad = #"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}"#

    /// A register/lookup body for `schema`.
    static func body(_ schema: String, type: String? = nil) -> String {
        var members: [(String, JSONValue)] = [("schema", .string(schema))]
        if let type { members.append(("schemaType", .string(type))) }
        return JSONValue.object(members).serializedString
    }

    static func registryID(_ fixture: RouterFixture, _ environmentID: String) throws -> String {
        try #require(fixture.store.snapshot().environments[environmentID]?.schemaRegistryID)
    }

    /// Expects the registry's own error body with `code` (and the HTTP status it implies).
    static func expectError(
        _ response: (status: Int, headers: HTTPFields, json: JSONValue?), _ code: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let status = code >= 10_000 ? code / 100 : code
        #expect(response.status == status, "HTTP \(response.status) \(String(describing: response.json))", sourceLocation: sourceLocation)
        #expect(response.json?["error_code"]?.intValue == Int64(code), "\(String(describing: response.json))", sourceLocation: sourceLocation)
        #expect(response.json?["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(response.json?["errors"] == nil, "not the Confluent Cloud envelope", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == SchemaRegistryResponse.contentType, sourceLocation: sourceLocation)
    }

    @Test func srcmListsAndGetsTheEnvironmentsRegistry() async throws {
        let fixture = try await RouterFixture.make()
        let registry = try Self.registryID(fixture, fixture.environmentA)
        let listed = try await fixture.call(.get, "/srcm/v3/clusters?environment=\(fixture.environmentA)")
        #expect(listed.status == 200)
        #expect(listed.json?["api_version"] == "srcm/v3" && listed.json?["kind"] == "ClusterList")
        let cluster = try #require(listed.json?["data"]?.arrayValue?.first)
        #expect(listed.json?["data"]?.arrayValue?.count == 1)
        #expect(cluster["id"]?.stringValue == registry && cluster["kind"] == "Cluster" && cluster["api_version"] == "srcm/v3")
        #expect(cluster.value(at: "spec", "http_endpoint")?.stringValue == "http://floe.test/schema-registry/\(registry)")
        #expect(cluster.value(at: "status", "phase") == "PROVISIONED")
        #expect(
            cluster.value(at: "metadata", "resource_name")?.stringValue
                == "crn://confluent.cloud/organization=\(fixture.organizationID)/environment=\(fixture.environmentA)/schema-registry=\(registry)")
        #expect(cluster.value(at: "spec", "environment", "id")?.stringValue == fixture.environmentA)
        let one = try await fixture.call(.get, "/srcm/v3/clusters/\(registry)?environment=\(fixture.environmentA)")
        #expect(one.status == 200 && one.json == cluster)
        // Errors here are the control plane's envelope.
        let wrongEnvironment = try await fixture.call(.get, "/srcm/v3/clusters/\(registry)?environment=\(fixture.environmentB)")
        #expect(wrongEnvironment.status == 404 && wrongEnvironment.json?["errors"] != nil)
        #expect(try await fixture.call(.get, "/srcm/v3/clusters").status == 400)
        #expect(try await fixture.call(.get, "/srcm/v3/clusters?environment=\(fixture.environmentA)", as: "nobody").status == 403)
        #expect(try await fixture.call(.get, "/srcm/v3/clusters?environment=\(fixture.environmentA)", as: "developerA").status == 200)
        #expect(try await fixture.call(.get, "/srcm/v3/clusters?environment=\(fixture.environmentB)", as: "developerA").status == 403)
    }

    @Test func registerReadLookupAndCompatibility() async throws {
        let fixture = try await RouterFixture.make()
        let base = "/schema-registry/\(try Self.registryID(fixture, fixture.environmentA))"
        let registered = try await fixture.call(.post, "\(base)/subjects/orders-value/versions?normalize=False", body: Self.body(Self.order))
        #expect(registered.status == 200)
        #expect(registered.headers[.contentType] == "application/vnd.schemaregistry.v1+json")
        let id = try #require(registered.json?["id"]?.intValue)
        #expect(id == Int64(SchemaRegistryState.firstID) && registered.json?["version"] == 1)
        // Idempotent, whatever the spelling and with an explicit AVRO type.
        let again = try await fixture.call(
            .post, "\(base)/subjects/orders-value/versions", body: Self.body(" " + Self.order + "\n", type: "AVRO"))
        #expect(again.json?["id"]?.intValue == id && again.json?["version"] == 1)
        let latest = try await fixture.call(.get, "\(base)/subjects/orders-value/versions/latest")
        #expect(
            latest.json
                == ["subject": "orders-value", "version": 1, "id": .int(id), "schema": .string(Self.order)])
        let text = try await fixture.application.test(.router) { client in
            try await client.execute(
                uri: "\(base)/subjects/orders-value/versions/1/schema", method: .get, headers: [.authorization: fixture.credentials["admin"]!]
            ) { String(buffer: $0.body) }
        }
        #expect(text == Self.order)
        let lookup = try await fixture.call(.post, "\(base)/subjects/orders-value?normalize=False&deleted=False", body: Self.body(Self.order))
        #expect(lookup.status == 200 && lookup.json?["id"]?.intValue == id)
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/orders-value", body: Self.body(Self.orderV2)), 40403)
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/nothing", body: Self.body(Self.order)), 40401)
        #expect(try await fixture.call(.get, "\(base)/schemas/ids/\(id)?subject=orders-value").json == ["schema": .string(Self.order)])
        #expect(try await fixture.call(.get, "\(base)/schemas/ids/\(id)/subjects").json == ["orders-value"])
        #expect(try await fixture.call(.get, "\(base)/schemas/ids/\(id)/versions").json == [["subject": "orders-value", "version": 1]])
        Self.expectError(try await fixture.call(.get, "\(base)/schemas/ids/7"), 40403)
        Self.expectError(try await fixture.call(.get, "\(base)/schemas/ids/abc"), 40403)
        // Compatibility: checked on register (409) and on request.
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/orders-value/versions", body: Self.body(Self.orderBad)), 40901)
        let verdict = try await fixture.call(
            .post, "\(base)/compatibility/subjects/orders-value/versions/latest?verbose=true", body: Self.body(Self.orderBad))
        #expect(verdict.json?["is_compatible"] == false)
        #expect(verdict.json?["messages"]?.arrayValue?.isEmpty == false)
        let quiet = try await fixture.call(.post, "\(base)/compatibility/subjects/orders-value/versions", body: Self.body(Self.orderV2))
        #expect(quiet.json == ["is_compatible": true])
        Self.expectError(
            try await fixture.call(.post, "\(base)/compatibility/subjects/orders-value/versions/9", body: Self.body(Self.orderV2)), 40402)
        let second = try await fixture.call(.post, "\(base)/subjects/orders-value/versions", body: Self.body(Self.orderV2))
        #expect(second.json?["version"] == 2)
        #expect(try await fixture.call(.get, "\(base)/subjects/orders-value/versions").json == [1, 2])
        #expect(try await fixture.call(.get, "\(base)/subjects").json == ["orders-value"])
        #expect(try await fixture.call(.get, "\(base)/subjects?subjectPrefix=x").json == [])
        // JSON Schema: schemaType comes back.
        let json = try await fixture.call(
            .post, "\(base)/subjects/pay-value/versions", body: Self.body(#"{"type":"object"}"#, type: "JSON"))
        let jsonID = try #require(json.json?["id"]?.intValue)
        #expect(try await fixture.call(.get, "\(base)/schemas/ids/\(jsonID)").json?["schemaType"] == "JSON")
        #expect(try await fixture.call(.get, "\(base)/subjects/pay-value/versions/1").json?["schemaType"] == "JSON")
    }

    @Test func errorCodesAndBodies() async throws {
        let fixture = try await RouterFixture.make()
        let base = "/schema-registry/\(try Self.registryID(fixture, fixture.environmentA))"
        _ = try await fixture.call(.post, "\(base)/subjects/s/versions", body: Self.body(Self.order))
        Self.expectError(try await fixture.call(.get, "\(base)/subjects/none/versions"), 40401)
        Self.expectError(try await fixture.call(.get, "\(base)/subjects/s/versions/2"), 40402)
        Self.expectError(try await fixture.call(.get, "\(base)/subjects/s/versions/0"), 42202)
        Self.expectError(try await fixture.call(.get, "\(base)/subjects/s/versions/latest2"), 42202)
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/s/versions", body: Self.body("{")), 42201)
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/s/versions", body: Self.body("syntax", type: "PROTOBUF")), 42201)
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/s/versions", body: Self.body("{}", type: "XML")), 42201)
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/s/versions", body: #"{"schemaType":"AVRO"}"#), 42201)
        Self.expectError(
            try await fixture.call(
                .post, "\(base)/subjects/s/versions", body: #"{"schema":"\"int\"","references":[{"name":"a","subject":"b","version":1}]}"#), 42201)
        Self.expectError(try await fixture.call(.get, "\(base)/config/s"), 40408)
        Self.expectError(try await fixture.call(.put, "\(base)/config", body: #"{"compatibility":"MOSTLY"}"#), 42203)
        Self.expectError(try await fixture.call(.put, "\(base)/mode", body: #"{"mode":"IMPORT"}"#), 42204)
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/s/versions", body: "{not json"), 400)
        Self.expectError(try await fixture.call(.get, "\(base)/no/such/route"), 404)
        Self.expectError(try await fixture.call(.delete, "\(base)/subjects/s", as: "developerA"), 40301)
        Self.expectError(try await fixture.call(.get, "\(base)/subjects", as: nil), 401)
        Self.expectError(try await fixture.call(.get, "/schema-registry/lsrc-nothing/subjects"), 404)
        // The associations probe of confluent-kafka 2.16 must be a 404.
        Self.expectError(try await fixture.call(.get, "\(base)/associations/resources/-/orders?resourceType=topic&associationType=value"), 40401)
        // Elsewhere errors are still the Confluent Cloud envelope.
        let elsewhere = try await fixture.call(.get, "/org/v2/nothing-here")
        #expect(elsewhere.status == 404 && elsewhere.json?["errors"] != nil)
    }

    @Test func clientQuirksAreAbsorbed() async throws {
        let fixture = try await RouterFixture.make()
        let base = "/schema-registry/\(try Self.registryID(fixture, fixture.environmentA))"
        // confluent-kafka percent-encodes subjects with safe='' and sends Python booleans.
        let registered = try await fixture.call(
            .post, "\(base)/subjects/team%2Fa%20b-value/versions?normalize=False", body: Self.body(#""string""#),
            headers: [.contentType: "application/json"])
        #expect(registered.status == 200)
        #expect(try await fixture.call(.get, "\(base)/subjects?deleted=False").json == ["team/a b-value"])
        #expect(try await fixture.call(.get, "\(base)/subjects/team%2Fa%20b-value/versions/-1").json?["subject"] == "team/a b-value")
        #expect(try await fixture.call(.delete, "\(base)/subjects/team%2Fa%20b-value?permanent=False").json == [1])
        #expect(try await fixture.call(.get, "\(base)/subjects?deleted=False").json == [])
        #expect(try await fixture.call(.get, "\(base)/subjects?deleted=TRUE").json == ["team/a b-value"])
        Self.expectError(try await fixture.call(.delete, "\(base)/subjects/team%2Fa%20b-value"), 40404)
        #expect(try await fixture.call(.delete, "\(base)/subjects/team%2Fa%20b-value?permanent=True").json == [1])
        #expect(try await fixture.call(.get, "\(base)/mode").json == ["mode": "READWRITE"])
        #expect(try await fixture.call(.get, "\(base)/mode/anything").json == ["mode": "READWRITE"])
        #expect(try await fixture.call(.put, "\(base)/mode", body: #"{"mode":"READWRITE"}"#).json == ["mode": "READWRITE"])
        #expect(try await fixture.call(.get, "\(base)/contexts").json == ["."])
        #expect(try await fixture.call(.get, "\(base)/schemas/types").json == ["JSON", "AVRO"])
        #expect(try await fixture.call(.get, "\(base)").json == [:])
    }

    @Test func configAndDeletes() async throws {
        let fixture = try await RouterFixture.make()
        let base = "/schema-registry/\(try Self.registryID(fixture, fixture.environmentA))"
        #expect(try await fixture.call(.get, "\(base)/config").json == ["compatibilityLevel": "BACKWARD"])
        #expect(
            try await fixture.call(.put, "\(base)/config/t-key", body: #"{"compatibility":"full_transitive"}"#).json == [
                "compatibility": "FULL_TRANSITIVE"
            ])
        #expect(try await fixture.call(.get, "\(base)/config/t-key").json == ["compatibilityLevel": "FULL_TRANSITIVE"])
        #expect(try await fixture.call(.get, "\(base)/config/other?defaultToGlobal=true").json == ["compatibilityLevel": "BACKWARD"])
        #expect(try await fixture.call(.delete, "\(base)/config/t-key").json == "FULL_TRANSITIVE")
        Self.expectError(try await fixture.call(.delete, "\(base)/config/t-key"), 40401)
        _ = try await fixture.call(.post, "\(base)/subjects/s/versions", body: Self.body(Self.order))
        _ = try await fixture.call(.post, "\(base)/subjects/s/versions", body: Self.body(Self.orderV2))
        Self.expectError(try await fixture.call(.delete, "\(base)/subjects/s/versions/1?permanent=true"), 40407)
        #expect(try await fixture.call(.delete, "\(base)/subjects/s/versions/latest").json == 2)
        Self.expectError(try await fixture.call(.delete, "\(base)/subjects/s/versions/2"), 40406)
        #expect(try await fixture.call(.get, "\(base)/subjects/s/versions?deleted=true").json == [1, 2])
        #expect(try await fixture.call(.get, "\(base)/subjects/s/versions/2?deleted=true").json?["version"] == 2)
        #expect(try await fixture.call(.delete, "\(base)/subjects/s/versions/2?permanent=true").json == 2)
        Self.expectError(try await fixture.call(.delete, "\(base)/subjects/s?permanent=true"), 40405)
    }

    @Test func roleMatrix() async throws {
        let fixture = try await RouterFixture.make()
        let a = "/schema-registry/\(try Self.registryID(fixture, fixture.environmentA))"
        let b = "/schema-registry/\(try Self.registryID(fixture, fixture.environmentB))"
        // (who, registry, may read and register, may change levels and delete)
        let rows: [(String, String, Bool, Bool)] = [
            ("admin", a, true, true), ("admin", b, true, true),
            ("envAdminA", a, true, true), ("envAdminA", b, false, false),
            ("flinkAdminA", a, true, false), ("developerA", a, true, false), ("developerA", b, false, false),
            ("nobody", a, false, false),
        ]
        for (index, (who, base, use, manage)) in rows.enumerated() {
            let subject = "s\(index)"
            let register = try await fixture.call(.post, "\(base)/subjects/\(subject)/versions", as: who, body: Self.body(Self.order))
            #expect(register.status == (use ? 200 : 403), "\(who) registers in \(base)")
            #expect(try await fixture.call(.get, "\(base)/subjects", as: who).status == (use ? 200 : 403), "\(who) lists \(base)")
            let level = try await fixture.call(.put, "\(base)/config/\(subject)", as: who, body: #"{"compatibility":"NONE"}"#)
            #expect(level.status == (manage ? 200 : 403), "\(who) sets a level in \(base)")
            if use {
                let delete = try await fixture.call(.delete, "\(base)/subjects/\(subject)", as: who)
                #expect(delete.status == (manage ? 200 : 403), "\(who) deletes in \(base)")
            }
        }
        // A Flink API key is not valid on the registry.
        Self.expectError(try await fixture.call(.get, "\(a)/subjects", as: "flinkA"), 401)
    }

    @Test func registryKeysReachOnlyTheirRegistry() async throws {
        var fixture = try await RouterFixture.make()
        let registryA = try Self.registryID(fixture, fixture.environmentA)
        let registryB = try Self.registryID(fixture, fixture.environmentB)
        let developer = try #require(fixture.principals["developerA"])
        let created = try await fixture.call(
            .post, "/iam/v2/api-keys", as: "developerA", body: #"{"spec":{"owner":{"id":"\#(developer)"},"resource":{"id":"\#(registryA)"}}}"#)
        #expect(created.status == 202)
        #expect(created.json?.value(at: "spec", "resource", "kind") == "SchemaRegistry")
        #expect(created.json?.value(at: "spec", "resource", "environment")?.stringValue == fixture.environmentA)
        #expect(created.json?.value(at: "spec", "resource", "api_version") == "srcm/v3")
        let keyID = try #require(created.json?["id"]?.stringValue)
        let secret = try #require(created.json?.value(at: "spec", "secret")?.stringValue)
        var credentials = fixture.credentials
        credentials["srA"] = RouterFixture.header(keyID, secret)
        fixture = RouterFixture(
            store: fixture.store, organizationID: fixture.organizationID, environmentA: fixture.environmentA, environmentB: fixture.environmentB,
            admin: fixture.admin, credentials: credentials, principals: fixture.principals)
        #expect(
            try await fixture.call(.post, "/schema-registry/\(registryA)/subjects/k/versions", as: "srA", body: Self.body(Self.order)).status == 200)
        Self.expectError(try await fixture.call(.get, "/schema-registry/\(registryB)/subjects", as: "srA"), 401)
        #expect(try await fixture.call(.get, "/org/v2/environments", as: "srA").status == 401)
        #expect(try await fixture.call(.get, "/srcm/v3/clusters?environment=\(fixture.environmentA)", as: "srA").status == 401)
        // The key acts with its owner's roles: a FlinkDeveloper's key may not delete.
        Self.expectError(try await fixture.call(.delete, "/schema-registry/\(registryA)/subjects/k", as: "srA"), 40301)
        // Listing keys by resource finds it; a principal without a role in the environment may not get one.
        let listed = try await fixture.call(.get, "/iam/v2/api-keys?spec.resource=\(registryA)")
        #expect(listed.json?["data"]?.arrayValue?.map { $0["id"] } == [.string(keyID)])
        let nobody = try #require(fixture.principals["nobody"])
        let refused = try await fixture.call(
            .post, "/iam/v2/api-keys", as: "nobody", body: #"{"spec":{"owner":{"id":"\#(nobody)"},"resource":{"id":"\#(registryA)"}}}"#)
        #expect(refused.status == 403)
        let unknown = try await fixture.call(
            .post, "/iam/v2/api-keys", body: #"{"spec":{"owner":{"id":"\#(fixture.admin)"},"resource":{"id":"lsrc-nothing"}}}"#)
        #expect(unknown.status == 400)
    }

    @Test func deletingAnEnvironmentDropsItsRegistry() async throws {
        let fixture = try await RouterFixture.make()
        let registryB = try Self.registryID(fixture, fixture.environmentB)
        #expect(try await fixture.call(.post, "/schema-registry/\(registryB)/subjects/s/versions", body: Self.body(Self.order)).status == 200)
        #expect(fixture.store.schemaRegistries.storedRegistryIDs().contains(registryB))
        #expect(try await fixture.call(.delete, "/org/v2/environments/\(fixture.environmentB)").status == 204)
        #expect(!fixture.store.schemaRegistries.storedRegistryIDs().contains(registryB))
        Self.expectError(try await fixture.call(.get, "/schema-registry/\(registryB)/subjects"), 404)
    }

    /// ``RemoteSchemaRegistry`` (how Floe uses a registry it does not serve) against Floe's own data plane over a real
    /// socket: the protocol's answers must match the in-process registry's.
    @Test func remoteClientSpeaksTheRegistryAPI() async throws {
        let fixture = try await RouterFixture.make()
        let registryID = try Self.registryID(fixture, fixture.environmentA)
        let header = try #require(fixture.credentials["admin"])
        let decoded = try #require(Data(base64Encoded: String(header.dropFirst("Basic ".count))).flatMap { String(data: $0, encoding: .utf8) })
        let parts = decoded.split(separator: ":", maxSplits: 1).map(String.init)
        let credentials = APICredentials(key: parts[0], secret: parts[1])
        let local = fixture.store.schemaRegistries.registry(registryID)
        try await fixture.application.test(.live) { client in
            let port = try #require(client.port)
            let remote = RemoteSchemaRegistry(url: "http://127.0.0.1:\(port)/schema-registry/\(registryID)", credentials: credentials)
            let subject = "team/orders-value"
            #expect(try await remote.latestVersion(subject: subject) == nil)
            let first = try await remote.register(subject: subject, schema: SchemaDefinition(text: Self.order), normalize: false)
            #expect(first == SchemaRegistration(id: SchemaRegistryState.firstID, version: 1, existed: false))
            #expect(try await remote.register(subject: subject, schema: SchemaDefinition(text: Self.order), normalize: false).existed)
            let second = try await remote.register(subject: subject, schema: SchemaDefinition(text: Self.orderV2), normalize: false)
            #expect(second.version == 2 && second.id != first.id)
            #expect(try await remote.latestVersion(subject: subject) == (try await local.latestVersion(subject: subject)))
            #expect(try await remote.schema(id: first.id) == (try await local.schema(id: first.id)))
            #expect(try await remote.schema(id: 5) == nil)
            await #expect {
                _ = try await remote.register(subject: subject, schema: SchemaDefinition(text: Self.orderBad), normalize: false)
            } throws: { ($0 as? SchemaRegistryError)?.errorCode == 40901 }
            #expect(try await remote.compatibility(subject: subject) == nil)
            try await remote.setCompatibility(.fullTransitive, subject: subject)
            #expect(try await remote.compatibility(subject: subject) == .fullTransitive)
            #expect(try await local.compatibility(subject: subject) == .fullTransitive)
            #expect(try await remote.deleteSubject(subject, permanent: false) == [1, 2])
            #expect(try await remote.latestVersion(subject: subject) == nil)
            #expect(try await remote.deleteSubject(subject, permanent: true) == [1, 2])
            let json = SchemaDefinition(type: .json, text: #"{"type":"object"}"#)
            let registered = try await remote.register(subject: "j", schema: json, normalize: false)
            #expect(try await remote.schema(id: registered.id)?.type == .json)
            // Wrong credentials surface as the registry's 401.
            let stranger = RemoteSchemaRegistry(
                url: "http://127.0.0.1:\(port)/schema-registry/\(registryID)", credentials: APICredentials(key: "NOPE", secret: "nope"))
            await #expect { _ = try await stranger.latestVersion(subject: "j") } throws: { ($0 as? SchemaRegistryError)?.errorCode == 401 }
        }
    }

    /// An environment may name an external registry: set by EnvironmentAdmin, shown by srcm/v3 (never its
    /// credentials), used through ``SchemaRegistryDirectory`` over HTTP. Here environment A's external registry is
    /// environment B's, served by the same server on a real socket.
    @Test func anEnvironmentCanUseAnExternalRegistry() async throws {
        let fixture = try await RouterFixture.make()
        let registryB = try Self.registryID(fixture, fixture.environmentB)
        let header = try #require(fixture.credentials["admin"])
        let decoded = try #require(Data(base64Encoded: String(header.dropFirst("Basic ".count))).flatMap { String(data: $0, encoding: .utf8) })
        let parts = decoded.split(separator: ":", maxSplits: 1).map(String.init)
        let directory = SchemaRegistryDirectory(store: fixture.store)
        try await fixture.application.test(.live) { client in
            let port = try #require(client.port)
            let url = "http://127.0.0.1:\(port)/schema-registry/\(registryB)"
            let config = #"{"schema_registry_config":{"url":"\#(url)","api_key":"\#(parts[0])","api_secret":"\#(parts[1])"}}"#
            let path = "/org/v2/environments/\(fixture.environmentA)"
            #expect(try await fixture.call(.patch, path, as: "developerA", body: config).status == 403)
            let patched = try await fixture.call(.patch, path, as: "envAdminA", body: config)
            #expect(patched.status == 200)
            for response in [
                patched, try await fixture.call(.get, path), try await fixture.call(.get, "/srcm/v3/clusters?environment=\(fixture.environmentA)"),
            ] {
                #expect(response.json?.serializedString.contains(parts[1]) == false, "the secret is never returned")
            }
            let cluster = try await fixture.call(.get, "/srcm/v3/clusters?environment=\(fixture.environmentA)").json?["data"]?.arrayValue?.first
            #expect(cluster?.value(at: "spec", "http_endpoint")?.stringValue == url)
            // The directory hands out a client of the external registry; what it registers lands in B's registry.
            let registry = try #require(directory.registry(environmentID: fixture.environmentA))
            #expect(registry is RemoteSchemaRegistry)
            let registered = try await registry.register(subject: "via-a", schema: SchemaDefinition(text: Self.order), normalize: false)
            #expect(fixture.store.schemaRegistries.snapshot(registryB).latest(of: "via-a")?.id == registered.id)
            #expect(try await registry.latestVersion(subject: "via-a")?.version == 1)
            // Refusals, and going back to the environment's own registry.
            let https = #"{"schema_registry_config":{"url":"https://psrc-1.confluent.cloud"}}"#
            #expect(try await fixture.call(.patch, path, body: https).status == 400)
            #expect(try await fixture.call(.patch, path, body: #"{"schema_registry_config":{"url":"http://x","api_key":"K"}}"#).status == 400)
            #expect(try await fixture.call(.patch, path, body: #"{"schema_registry_config":{"url":""}}"#).status == 200)
            #expect(directory.registry(environmentID: fixture.environmentA) is RemoteSchemaRegistry == false)
            let own = try await fixture.call(.get, "/srcm/v3/clusters?environment=\(fixture.environmentA)").json?["data"]?.arrayValue?.first
            #expect(own?.value(at: "spec", "http_endpoint")?.stringValue?.hasPrefix("http://floe.test/schema-registry/lsrc-") == true)
            #expect(directory.registry(environmentID: "env-none") == nil)
        }
    }

    /// Errors raised before a route's handler — an oversized body, a refused rate limit — answer in the registry's
    /// format too, since the style is chosen by path before any route runs.
    @Test func bodyLimitAndRateLimitAnswerInTheRegistrysFormat() async throws {
        var fixture = try await RouterFixture.make()
        let base = "/schema-registry/\(try Self.registryID(fixture, fixture.environmentA))"
        let huge = #"{"schema":""# + String(repeating: "x", count: 4 * 1024 * 1024) + #""}"#
        Self.expectError(try await fixture.call(.post, "\(base)/subjects/s/versions", body: huge), 413)
        // One request a minute: the second is refused however slowly the machine runs them.
        fixture.rateLimits = RateLimits(concurrentRequests: 100, perSecond: 1, perMinute: 1)
        let admin = try #require(fixture.credentials["admin"])
        let statuses = try await fixture.application.test(.router) { client in
            var answers: [(Int, JSONValue?, String?)] = []
            for _ in 0..<2 {
                answers.append(
                    try await client.execute(uri: "\(base)/subjects", method: .get, headers: [.authorization: admin]) { response in
                        (response.status.code, try? JSONValue.parse(Array(response.body.readableBytesView)), response.headers[.retryAfter])
                    })
            }
            return answers
        }
        #expect(statuses.first?.0 == 200)
        #expect(statuses.last?.0 == 429 && statuses.last?.1?["error_code"] == 429 && statuses.last?.2 != nil)
    }
}
