// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import HTTPTypes
import Logging
import Testing

@testable import FloeServer

/// `cmk/v2` clusters and the `kafka/v3` topic reads through the router, with a fake Kafka behind the inspector.
@Suite struct CMKAPITests {
    static let password = "cmk-api-pa55word-never-shown"
    static let bootstrap = "broker.test:9092"

    func fixture(log: CapturedLog? = nil) async throws -> (RouterFixture, FakeKafkaInspector) {
        var fixture = try await RouterFixture.make()
        let inspector = FakeKafkaInspector([Self.bootstrap: FakeKafkaInspector.sampleBroker()])
        fixture.kafkaInspector = inspector
        fixture.logger = log?.logger
        return (fixture, inspector)
    }

    func createBody(
        _ name: String, environment: String, bootstrap: String? = CMKAPITests.bootstrap, extra: String = ""
    ) -> String {
        let endpoint = bootstrap.map { #","kafka_bootstrap_endpoint":"\#($0)""# } ?? ""
        return
            #"{"spec":{"display_name":"\#(name)","availability":"SINGLE_ZONE","cloud":"GCP","region":"us-east4","config":{"kind":"Basic"},"environment":{"id":"\#(environment)"}\#(endpoint)\#(extra)}}"#
    }

    /// Runs one prober pass with the fixture's inspector.
    func probe(_ fixture: RouterFixture, _ inspector: FakeKafkaInspector, logger: Logger = Logger(label: "test")) async {
        await KafkaClusterProber(store: fixture.store, inspector: inspector, logger: logger).probeDue()
    }

    @Test func createListGetUpdateDelete() async throws {
        let (fixture, inspector) = try await fixture()
        let env = fixture.environmentA
        let created = try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("orders", environment: env))
        #expect(created.status == 202)
        let cluster = try #require(created.json)
        let id = try #require(cluster["id"]?.stringValue)
        #expect(id.hasPrefix("lkc-"))
        #expect(cluster["api_version"] == "cmk/v2")
        #expect(cluster["kind"] == "Cluster")
        #expect(cluster.value(at: "status", "phase") == "PROVISIONING")
        #expect(cluster.value(at: "spec", "kafka_bootstrap_endpoint")?.stringValue == Self.bootstrap)
        #expect(cluster.value(at: "spec", "http_endpoint") == "http://floe.test")
        #expect(cluster.value(at: "spec", "endpoints", "PUBLIC", "connection_type") == "PUBLIC")
        #expect(cluster.value(at: "spec", "config", "kind") == "Basic")
        #expect(cluster.value(at: "spec", "environment", "id")?.stringValue == env)
        #expect(
            cluster.value(at: "metadata", "resource_name")?.stringValue
                == "crn://confluent.cloud/organization=\(fixture.organizationID)/environment=\(env)/cloud-cluster=\(id)")
        #expect(cluster.value(at: "metadata", "self")?.stringValue == "http://floe.test/cmk/v2/clusters/\(id)")

        await probe(fixture, inspector)
        let fetched = try await fixture.call(.get, "/cmk/v2/clusters/\(id)?environment=\(env)")
        #expect(fetched.status == 200)
        #expect(fetched.json?.value(at: "status", "phase") == "PROVISIONED")
        #expect(fetched.json?.value(at: "status", "kafka_cluster_id") == "MkU3OEVBNTcwNTJENDM2Qg")

        let listed = try await fixture.call(.get, "/cmk/v2/clusters?environment=\(env)")
        #expect(listed.status == 200)
        #expect(listed.json?["kind"] == "ClusterList")
        #expect(listed.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [id])
        #expect(try await fixture.call(.get, "/cmk/v2/clusters?environment=\(fixture.environmentB)").json?["data"]?.arrayValue?.isEmpty == true)

        let renamed = try await fixture.call(
            .patch, "/cmk/v2/clusters/\(id)", body: #"{"spec":{"display_name":"orders-2","environment":{"id":"\#(env)"}}}"#)
        #expect(renamed.status == 200)
        #expect(renamed.json?.value(at: "spec", "display_name") == "orders-2")
        #expect(renamed.json?.value(at: "status", "phase") == "PROVISIONED")

        #expect(try await fixture.call(.delete, "/cmk/v2/clusters/\(id)?environment=\(env)").status == 204)
        #expect(try await fixture.call(.get, "/cmk/v2/clusters/\(id)?environment=\(env)").status == 404)
    }

    @Test func listsArePaged() async throws {
        let (fixture, _) = try await fixture()
        for index in 0..<5 {
            #expect(try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("c\(index)", environment: fixture.environmentA)).status == 202)
        }
        var names: [String] = []
        var next: String? = "/cmk/v2/clusters?environment=\(fixture.environmentA)&page_size=2"
        while let uri = next {
            let page = try await fixture.call(.get, uri)
            #expect(page.status == 200)
            names += page.json?["data"]?.arrayValue?.compactMap { $0.value(at: "spec", "display_name")?.stringValue } ?? []
            #expect(page.json?.value(at: "metadata", "total_size") == 5)
            let link = page.json?.value(at: "metadata", "next")?.stringValue ?? ""
            next = link.isEmpty ? nil : String(link.dropFirst("http://floe.test".count))
        }
        #expect(names == ["c0", "c1", "c2", "c3", "c4"])
        #expect(try await fixture.call(.get, "/cmk/v2/clusters?environment=\(fixture.environmentA)&page_size=0").status == 400)
    }

    @Test func errorsHaveTheirStatusesAndEnvelopes() async throws {
        let (fixture, _) = try await fixture()
        let env = fixture.environmentA
        let missingEnvironment = try await fixture.call(.get, "/cmk/v2/clusters")
        #expect(missingEnvironment.status == 400)
        #expect(missingEnvironment.json?["errors"]?.arrayValue?.first?.value(at: "source", "parameter") == "environment")
        let cases: [(String, String)] = [
            (
                #"{"spec":{"display_name":"x","cloud":"GCP","region":"r","config":{"kind":"Basic"},"environment":{"id":"\#(env)"}}}"#,
                "/spec/availability"
            ),
            (createBody("x", environment: env).replacingOccurrences(of: "SINGLE_ZONE", with: "EVERYWHERE"), "/spec/availability"),
            (createBody("x", environment: env).replacingOccurrences(of: #""kind":"Basic""#, with: #""kind":"Huge""#), "/spec/config/kind"),
            (createBody("x", environment: env, bootstrap: "no-port"), "/spec/kafka_bootstrap_endpoint"),
            (
                createBody("x", environment: env, extra: #","credentials":{"mechanism":"GSSAPI","username":"u","password":"p"}"#),
                "/spec/credentials/mechanism"
            ),
            (createBody("x", environment: env, extra: #","credentials":{"username":"u"}"#), "/spec/credentials/password"),
            (createBody("x", environment: env, extra: #","tls":{"enabled":false,"ca_pem":"x"}"#), "/spec/tls/ca_pem"),
            (#"{"spec":"nope"}"#, "/spec"),
        ]
        for (body, pointer) in cases {
            let response = try await fixture.call(.post, "/cmk/v2/clusters", body: body)
            #expect(response.status == 400, "\(body)")
            #expect(response.json?["errors"]?.arrayValue?.first?.value(at: "source", "pointer")?.stringValue == pointer, "\(body)")
        }
        #expect(try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("dup", environment: env)).status == 202)
        let duplicate = try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("dup", environment: env))
        #expect(duplicate.status == 409)
        #expect(duplicate.json?["errors"]?.arrayValue?.first?["status"] == "409")
        let unknown = try await fixture.call(.get, "/cmk/v2/clusters/lkc-nope?environment=\(env)")
        #expect(unknown.status == 404)
        #expect(unknown.json?["errors"]?.arrayValue?.first?["status"] == "404")
        #expect(try await fixture.call(.patch, "/cmk/v2/clusters/lkc-nope?environment=\(env)", body: "{}").status == 404)
        #expect(try await fixture.call(.delete, "/cmk/v2/clusters/lkc-nope?environment=\(env)").status == 404)
        #expect(try await fixture.call(.get, "/cmk/v2/clusters?environment=env-nope").status == 403)
    }

    @Test func cloudAndRegionAreImmutableAndDeletionProtectionHolds() async throws {
        let (fixture, _) = try await fixture()
        let env = fixture.environmentA
        let id = try #require(
            try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("p", environment: env, extra: #","deletion_protection":true"#))
                .json?["id"]?.stringValue)
        #expect(try await fixture.call(.patch, "/cmk/v2/clusters/\(id)?environment=\(env)", body: #"{"spec":{"region":"elsewhere"}}"#).status == 400)
        #expect(try await fixture.call(.patch, "/cmk/v2/clusters/\(id)?environment=\(env)", body: #"{"spec":{"cloud":"AWS"}}"#).status == 400)
        #expect(try await fixture.call(.patch, "/cmk/v2/clusters/\(id)?environment=\(env)", body: #"{"spec":{"cloud":"gcp"}}"#).status == 200)
        #expect(try await fixture.call(.delete, "/cmk/v2/clusters/\(id)?environment=\(env)").status == 400)
        let protected = try await fixture.call(.get, "/cmk/v2/clusters?environment=\(env)&spec.deletion_protection=true")
        #expect(protected.json?["data"]?.arrayValue?.count == 1)
        #expect(
            try await fixture.call(.get, "/cmk/v2/clusters?environment=\(env)&spec.deletion_protection=false").json?["data"]?.arrayValue?.isEmpty
                == true)
        #expect(
            try await fixture.call(.patch, "/cmk/v2/clusters/\(id)?environment=\(env)", body: #"{"spec":{"deletion_protection":false}}"#).status
                == 200)
        #expect(try await fixture.call(.delete, "/cmk/v2/clusters/\(id)?environment=\(env)").status == 204)
    }

    @Test func environmentAdminsManageAndDevelopersRead() async throws {
        let (fixture, _) = try await fixture()
        let env = fixture.environmentA
        #expect(try await fixture.call(.post, "/cmk/v2/clusters", as: "developerA", body: createBody("d", environment: env)).status == 403)
        #expect(try await fixture.call(.post, "/cmk/v2/clusters", as: "flinkAdminA", body: createBody("f", environment: env)).status == 403)
        let created = try await fixture.call(.post, "/cmk/v2/clusters", as: "envAdminA", body: createBody("e", environment: env))
        #expect(created.status == 202)
        let id = try #require(created.json?["id"]?.stringValue)
        #expect(
            try await fixture.call(.post, "/cmk/v2/clusters", as: "envAdminA", body: createBody("e", environment: fixture.environmentB)).status
                == 403)
        for reader in ["developerA", "flinkAdminA", "envAdminA"] {
            #expect(
                try await fixture.call(.get, "/cmk/v2/clusters?environment=\(env)", as: reader).json?["data"]?.arrayValue?.count == 1, "\(reader)")
            #expect(try await fixture.call(.get, "/cmk/v2/clusters/\(id)?environment=\(env)", as: reader).status == 200, "\(reader)")
            #expect(try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics", as: reader).status == 200, "\(reader)")
        }
        #expect(try await fixture.call(.get, "/cmk/v2/clusters?environment=\(env)", as: "nobody").json?["data"]?.arrayValue?.isEmpty == true)
        #expect(try await fixture.call(.get, "/cmk/v2/clusters/\(id)?environment=\(env)", as: "nobody").status == 404)
        #expect(try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics", as: "nobody").status == 404)
        #expect(
            try await fixture.call(.patch, "/cmk/v2/clusters/\(id)?environment=\(env)", as: "developerA", body: #"{"spec":{"display_name":"x"}}"#)
                .status == 403)
        #expect(try await fixture.call(.delete, "/cmk/v2/clusters/\(id)?environment=\(env)", as: "developerA").status == 403)
        #expect(try await fixture.call(.get, "/cmk/v2/clusters?environment=\(env)", as: "flinkA").status == 401)
        #expect(try await fixture.call(.delete, "/cmk/v2/clusters/\(id)?environment=\(env)", as: "envAdminA").status == 204)
    }

    @Test func theProberProvisionsFailsWithTheReasonAndReprobesAfterAPatch() async throws {
        let (fixture, inspector) = try await fixture()
        let env = fixture.environmentA
        let sasl = KafkaConnection.SASL(mechanism: .scramSHA512, username: "floe", password: Self.password)
        inspector.set("secure.test:9093", FakeKafkaInspector.sampleBroker(sasl: sasl))
        let good = try #require(
            try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("good", environment: env)).json?["id"]?.stringValue)
        let refused = try #require(
            try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("refused", environment: env, bootstrap: "127.0.0.1:1")).json?["id"]?
                .stringValue)
        let secure = try #require(
            try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("secure", environment: env, bootstrap: "secure.test:9093")).json?[
                "id"]?
                .stringValue)
        await probe(fixture, inspector)
        let status = { (id: String) async throws -> JSONValue? in
            try await fixture.call(.get, "/cmk/v2/clusters/\(id)?environment=\(env)").json?["status"]
        }
        #expect(try await status(good)?["phase"] == "PROVISIONED")
        #expect(try await status(good)?["broker_count"] == 1)
        #expect(try await status(refused)?["phase"] == "FAILED")
        #expect(try await status(refused)?["detail"] == "Failed to connect to 127.0.0.1:1: Connection refused")
        #expect(try await status(secure)?["phase"] == "FAILED")
        #expect(try await status(secure)?["detail"]?.stringValue?.contains("SASL authentication") == true)

        // Giving the credentials re-probes with them.
        let patched = try await fixture.call(
            .patch, "/cmk/v2/clusters/\(secure)?environment=\(env)",
            body: #"{"spec":{"credentials":{"mechanism":"SCRAM-SHA-512","username":"floe","password":"\#(Self.password)"}}}"#)
        #expect(patched.status == 200)
        #expect(patched.json?.value(at: "status", "phase") == "PROVISIONING")
        #expect(patched.json?.value(at: "status", "detail") == nil)
        await probe(fixture, inspector)
        #expect(try await status(secure)?["phase"] == "PROVISIONED")
        #expect(inspector.connections.last?.sasl == sasl)
        #expect(inspector.connections.last?.securityProtocol == "SASL_PLAINTEXT")

        // A new bootstrap re-probes too; a pass with nothing PROVISIONING asks nothing.
        let before = inspector.connections.count
        await probe(fixture, inspector)
        #expect(inspector.connections.count == before)
        #expect(
            try await fixture.call(
                .patch, "/cmk/v2/clusters/\(refused)?environment=\(env)", body: #"{"spec":{"kafka_bootstrap_endpoint":"\#(Self.bootstrap)"}}"#
            )
            .json?.value(at: "status", "phase") == "PROVISIONING")
        await probe(fixture, inspector)
        #expect(try await status(refused)?["phase"] == "PROVISIONED")
        #expect(try await status(refused)?["detail"] == nil)
    }

    @Test func theRunningProberPicksUpNewClusters() async throws {
        let (fixture, inspector) = try await fixture()
        let id = try #require(
            try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("live", environment: fixture.environmentA)).json?["id"]?.stringValue)
        let prober = KafkaClusterProber(store: fixture.store, inspector: inspector, interval: .milliseconds(10), logger: Logger(label: "test"))
        let task = Task { try await prober.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        while fixture.store.snapshot().kafkaClusters[id]?.phase == .provisioning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(fixture.store.snapshot().kafkaClusters[id]?.phase == .provisioned)
    }

    @Test func theDefaultInspectorSaysThereIsNoKafkaClient() async throws {
        let (fixture, _) = try await fixture()
        let id = try #require(
            try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("none", environment: fixture.environmentA)).json?["id"]?.stringValue)
        await KafkaClusterProber(store: fixture.store, inspector: UnavailableKafkaInspector(), logger: Logger(label: "test")).probeDue()
        let cluster = try #require(fixture.store.snapshot().kafkaClusters[id])
        #expect(cluster.phase == .failed)
        #expect(cluster.statusDetail?.contains("No Kafka client") == true)
    }

    @Test func secretsAppearInNoResponseAndNoLogLine() async throws {
        let log = CapturedLog()
        let (fixture, inspector) = try await fixture(log: log)
        let env = fixture.environmentA
        let pem = "-----BEGIN CERTIFICATE-----\nMIIBsecretCA\n-----END CERTIFICATE-----\n"
        var bodies: [JSONValue?] = []
        let created = try await fixture.call(
            .post, "/cmk/v2/clusters",
            body: createBody(
                "s", environment: env,
                extra:
                    #","credentials":{"mechanism":"PLAIN","username":"floe","password":"\#(Self.password)"},"tls":{"ca_pem":"\#(pem.replacingOccurrences(of: "\n", with: "\\n"))"}"#
            ))
        #expect(created.status == 202)
        bodies.append(created.json)
        let id = try #require(created.json?["id"]?.stringValue)
        #expect(created.json?.value(at: "spec", "tls", "enabled") == true)
        #expect(created.json?.value(at: "spec", "credentials") == nil)
        await probe(fixture, inspector, logger: log.logger)
        bodies.append(try await fixture.call(.get, "/cmk/v2/clusters/\(id)?environment=\(env)").json)
        bodies.append(try await fixture.call(.get, "/cmk/v2/clusters?environment=\(env)").json)
        bodies.append(
            try await fixture.call(
                .patch, "/cmk/v2/clusters/\(id)?environment=\(env)",
                body: #"{"spec":{"credentials":{"username":"floe","password":"\#(Self.password)"},"kafka_bootstrap_endpoint":"127.0.0.1:1"}}"#
            ).json)
        await probe(fixture, inspector, logger: log.logger)
        bodies.append(try await fixture.call(.get, "/cmk/v2/clusters/\(id)?environment=\(env)").json)
        bodies.append(try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics").json)
        let texts = bodies.map { String(decoding: ($0 ?? .null).serialized(), as: UTF8.self) }
        for text in texts {
            #expect(!text.contains(Self.password), "\(text)")
            #expect(!text.contains("MIIBsecretCA"), "\(text)")
        }
        #expect(log.all.contains { $0.contains("kafka cluster attached") })
        #expect(log.all.contains { $0.contains("kafka cluster unreachable") })
        for line in log.all {
            #expect(!line.contains(Self.password), "\(line)")
            #expect(!line.contains("MIIBsecretCA"), "\(line)")
        }
        // A client error that quotes the password is redacted before anyone sees it.
        let leaky = KafkaConnection(bootstrapServers: "x:1", sasl: KafkaConnection.SASL(mechanism: .plain, username: "u", password: Self.password))
        #expect(leaky.redacting("bad password \(Self.password)!") == "bad password ****!")
    }

    @Test func kafkaRESTServesTopicsPartitionsAndConfigs() async throws {
        let (fixture, inspector) = try await fixture()
        let id = try #require(
            try await fixture.call(.post, "/cmk/v2/clusters", body: createBody("t", environment: fixture.environmentA)).json?["id"]?.stringValue)
        await probe(fixture, inspector)
        let topics = try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics")
        #expect(topics.status == 200)
        #expect(topics.json?["kind"] == "KafkaTopicList")
        #expect(topics.json?.value(at: "metadata", "next") == .null)
        let data = try #require(topics.json?["data"]?.arrayValue)
        #expect(data.compactMap { $0["topic_name"]?.stringValue } == ["__consumer_offsets", "orders"])
        let orders = try #require(data.last)
        #expect(orders["kind"] == "KafkaTopic")
        #expect(orders["cluster_id"]?.stringValue == id)
        #expect(orders["partitions_count"] == 3)
        #expect(orders["replication_factor"] == 1)
        #expect(orders["is_internal"] == false)
        #expect(orders.value(at: "partitions", "related")?.stringValue == "http://floe.test/kafka/v3/clusters/\(id)/topics/orders/partitions")

        let topic = try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics/orders")
        #expect(topic.status == 200)
        #expect(topic.json?["topic_name"] == "orders")
        let partitions = try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics/orders/partitions")
        #expect(partitions.json?["kind"] == "KafkaPartitionList")
        #expect(partitions.json?["data"]?.arrayValue?.compactMap { $0["partition_id"]?.intValue } == [0, 1, 2])
        let configs = try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics/orders/configs")
        #expect(configs.json?["kind"] == "KafkaTopicConfigList")
        #expect(configs.json?["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["cleanup.policy", "retention.ms"])
        #expect(configs.json?["data"]?.arrayValue?.first?["source"] == "DYNAMIC_TOPIC_CONFIG")

        let missing = try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics/nope")
        #expect(missing.status == 404)
        #expect(missing.json?["error_code"] == 40403)
        #expect(try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics/nope/configs").json?["error_code"] == 40403)
        let unknownCluster = try await fixture.call(.get, "/kafka/v3/clusters/lkc-nope/topics")
        #expect(unknownCluster.status == 404)
        #expect(unknownCluster.json?["error_code"] == 404)

        // Unreachable brokers are a 503 with the client's reason.
        inspector.set(Self.bootstrap, nil)
        let down = try await fixture.call(.get, "/kafka/v3/clusters/\(id)/topics")
        #expect(down.status == 503)
        #expect(down.json?["message"]?.stringValue?.contains("Connection refused") == true)
    }
}
