// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore
import Foundation
import Testing

@testable import FloeCLI

/// `floe kafka cluster` and `floe kafka topic`: flags as `confluent kafka` takes them, records with its keys, and the
/// connection flags Floe adds.
struct KafkaCommandTests {
    static func cluster(phase: String, config: JSONValue = ["kind": "Basic"], detail: String? = nil) -> JSONValue {
        [
            "api_version": "cmk/v2", "kind": "Cluster", "id": "lkc-abc123",
            "spec": [
                "display_name": "orders", "availability": "MULTI_ZONE", "cloud": "GCP", "region": "us-east4", "config": config,
                "kafka_bootstrap_endpoint": "broker:9092", "http_endpoint": "http://floe.test",
            ],
            "status": .object(omittingNil: [("phase", .string(phase)), ("detail", detail.map(JSONValue.string))]),
        ]
    }

    static func keys(_ record: OutputRecord) -> [String] { record.map(\.key) }

    static func value(_ record: OutputRecord, _ key: String) -> JSONValue? { record.first { $0.key == key }?.value }

    @Test func clusterRecordsUseTheConfluentKeysAndSpellings() {
        let listed = KafkaClusterCommand.common(Self.cluster(phase: "PROVISIONED"), current: "lkc-abc123")
        #expect(Self.keys(listed) == ["is_current", "id", "name", "type", "cloud", "region", "availability", "status"])
        #expect(Self.value(listed, "is_current") == true)
        #expect(Self.value(listed, "type") == "BASIC")
        #expect(Self.value(listed, "cloud") == "gcp")
        #expect(Self.value(listed, "availability") == "multi-zone")
        #expect(Self.value(listed, "status") == "UP")

        let described = KafkaClusterCommand.detail(Self.cluster(phase: "PROVISIONED"), current: nil, topicCount: 4)
        #expect(
            Self.keys(described) == [
                "is_current", "id", "name", "type", "cloud", "region", "availability", "status", "endpoint", "rest_endpoint", "topic_count",
            ])
        #expect(Self.value(described, "endpoint") == "broker:9092")
        #expect(Self.value(described, "rest_endpoint") == "http://floe.test")
        #expect(Self.value(described, "topic_count") == 4)

        let failed = KafkaClusterCommand.detail(Self.cluster(phase: "FAILED", detail: "Connection refused"), current: nil)
        #expect(Self.value(failed, "status") == "FAILED")
        #expect(Self.value(failed, "status_detail") == "Connection refused")
        #expect(Self.value(failed, "topic_count") == nil)

        let dedicated = KafkaClusterCommand.detail(Self.cluster(phase: "PROVISIONING", config: ["kind": "Dedicated", "cku": 2]), current: nil)
        #expect(Self.value(dedicated, "type") == "DEDICATED")
        #expect(Self.value(dedicated, "cluster_size") == 2)
    }

    @Test func topicRecordsUseTheConfluentKeys() {
        let record = KafkaTopicCommand.record(
            ["topic_name": "orders", "is_internal": false, "replication_factor": 3, "partitions_count": 6, "cluster_id": "lkc-abc123"])
        #expect(Self.keys(record) == ["name", "is_internal", "replication_factor", "partition_count"])
        #expect(Self.value(record, "partition_count") == 6)
    }

    @Test func createFlagsAreCheckedAsTheConfluentCLIChecksThem() throws {
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Create.parse(["c", "--type", "huge"]) }
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Create.parse(["c", "--availability", "everywhere"]) }
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Create.parse(["c", "--cku", "2"]) }
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Create.parse(["c", "--type", "dedicated", "--max-ecku", "2"]) }
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Create.parse(["c", "--password", "p"]) }
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Create.parse(["c", "--username", "u", "--sasl-mechanism", "GSSAPI"]) }
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Create.parse(["c", "--ca-location", "/x.pem", "--no-tls"]) }
        let create = try KafkaClusterCommand.Create.parse(["c", "--type", "dedicated", "--cku", "2", "--cloud", "aws", "--region", "us-east-1"])
        #expect(create.cku == 2)
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Update.parse(["lkc-1"]) }
        #expect(throws: (any Error).self) { try KafkaClusterCommand.Update.parse(["lkc-1", "--type", "basic"]) }
        #expect(throws: Never.self) { try KafkaClusterCommand.Update.parse(["lkc-1", "--bootstrap", "b:9092"]) }
        #expect(throws: Never.self) { try KafkaClusterCommand.Update.parse(["lkc-1", "--no-credentials"]) }
    }

    @Test func connectionFlagsBecomeTheSpecFields() throws {
        let pemURL = FileManager.default.temporaryDirectory.appendingPathComponent("floe-ca-\(UUID().uuidString).pem")
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        try pem.write(to: pemURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: pemURL) }
        let options = try KafkaConnectionOptions.parse([
            "--bootstrap", "a:9092,b:9092", "--username", "floe", "--password", "s3cret", "--sasl-mechanism", "scram-sha-256", "--ca-location",
            pemURL.path,
        ])
        let spec = JSONValue.object(try options.specFields())
        #expect(spec["kafka_bootstrap_endpoint"] == "a:9092,b:9092")
        #expect(spec.value(at: "credentials", "mechanism") == "SCRAM-SHA-256")
        #expect(spec.value(at: "credentials", "username") == "floe")
        #expect(spec.value(at: "credentials", "password") == "s3cret")
        #expect(spec.value(at: "tls", "enabled") == true)
        #expect(spec.value(at: "tls", "ca_pem")?.stringValue == pem)

        let off = JSONValue.object(try KafkaConnectionOptions.parse(["--no-tls"]).specFields())
        #expect(off["tls"] == .null)
        let on = JSONValue.object(try KafkaConnectionOptions.parse(["--tls"]).specFields())
        #expect(on.value(at: "tls", "enabled") == true)
        #expect(try KafkaConnectionOptions.parse([]).specFields().isEmpty)
        #expect(throws: CLIError.self) { try KafkaConnectionOptions.parse(["--ca-location", "/nonexistent/ca.pem"]).specFields() }
    }

    @Test func theActiveClusterIsKeptPerEnvironment() throws {
        var context = CLIContext(name: "c", url: "http://floe.test", credentials: StoredAPIKey(key: "K", secret: "S"))
        #expect(context.kafkaClusterID(environment: "env-a") == nil)
        context.setKafkaClusterID("lkc-a", environment: "env-a")
        context.setKafkaClusterID("lkc-b", environment: "env-b")
        #expect(context.kafkaClusterID(environment: "env-a") == "lkc-a")
        #expect(context.kafkaClusterID(environment: "env-b") == "lkc-b")
        let decoded = try JSONDecoder().decode(CLIContext.self, from: try JSONEncoder().encode(context))
        #expect(decoded.kafkaClusterID(environment: "env-b") == "lkc-b")
        context.setKafkaClusterID(nil, environment: "env-a")
        context.setKafkaClusterID(nil, environment: "env-b")
        #expect(context.kafkaClusters == nil)
        // A configuration written before Kafka clusters existed still loads.
        let old = #"{"name":"c","url":"http://floe.test","credentials":{"key":"K","secret":"S"},"stored_api_keys":[]}"#
        #expect(try JSONDecoder().decode(CLIContext.self, from: Data(old.utf8)).kafkaClusterID(environment: "env-a") == nil)
    }
}
