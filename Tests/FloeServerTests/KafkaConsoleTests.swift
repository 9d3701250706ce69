// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import HTTPTypes
import Logging
import Testing

@testable import FloeServer

/// The console's Kafka clusters tab: each attached cluster with its bootstrap servers and phase, and the topics of
/// the reachable ones.
@Suite struct KafkaConsoleTests {
    @Test func theEnvironmentListsItsClustersAndTheirTopics() async throws {
        var fixture = try await RouterFixture.make()
        let inspector = FakeKafkaInspector(["broker.test:9092": FakeKafkaInspector.sampleBroker()])
        fixture.kafkaInspector = inspector
        let environment = fixture.environmentA
        for (name, bootstrap) in [("orders", "broker.test:9092"), ("down", "127.0.0.1:1")] {
            let body =
                #"{"spec":{"display_name":"\#(name)","availability":"SINGLE_ZONE","cloud":"AWS","region":"us-east-1","config":{"kind":"Basic"},"environment":{"id":"\#(environment)"},"kafka_bootstrap_endpoint":"\#(bootstrap)"}}"#
            #expect(try await fixture.call(.post, "/cmk/v2/clusters", body: body).status == 202)
        }
        await KafkaClusterProber(store: fixture.store, inspector: inspector, logger: Logger(label: "test")).probeDue()
        let ids = fixture.store.snapshot().kafkaClusters.values.reduce(into: [String: String]()) { $0[$1.displayName] = $1.id }
        let developer = fixture.credentials["developerA"]!
        let nobody = fixture.credentials["nobody"]!
        try await fixture.browse { browser in
            _ = try await browser.signIn(developer)
            let page = try await browser.send(.get, "/environments/\(environment)/kafka/clusters")
            #expect(page.status == 200)
            #expect(page.body.contains(#"id="tab-kafka-clusters" href="/environments/\#(environment)/kafka/clusters" class="active""#))
            #expect(page.body.contains(#"<tr data-id="\#(ids["orders"]!)"><td class="name">orders</td>"#))
            #expect(page.body.contains("broker.test:9092"))
            #expect(page.body.contains(#"phase-PROVISIONED">PROVISIONED"#))
            #expect(page.body.contains(#"phase-FAILED">FAILED"#))
            #expect(page.body.contains("Failed to connect to 127.0.0.1:1: Connection refused"))
            #expect(page.body.contains(#"data-cluster="\#(ids["orders"]!)""#))
            #expect(!page.body.contains(#"data-cluster="\#(ids["down"]!)""#))
            #expect(page.body.contains(#"<tr data-topic="orders"><td><code>orders</code></td><td class="num">3</td>"#))
            #expect(page.body.contains(#"<tr data-topic="__consumer_offsets">"#))
        }
        // Brokers that stopped answering: the page says why instead of failing.
        inspector.set("broker.test:9092", nil)
        try await fixture.browse { browser in
            _ = try await browser.signIn(developer)
            let page = try await browser.send(.get, "/environments/\(environment)/kafka/clusters")
            #expect(page.status == 200)
            #expect(page.body.contains("The topics could not be read: Failed to connect to broker.test:9092: Connection refused"))
        }
        // A principal without a role in the environment sees no page of it.
        try await fixture.browse { browser in
            _ = try await browser.signIn(nobody)
            let page = try await browser.send(.get, "/environments/\(environment)/kafka/clusters")
            #expect(page.status != 200 || !page.body.contains("broker.test:9092"))
        }
    }
}
