// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeKafka
import Foundation
import Logging
import Testing

/// What needs no broker: loading librdkafka, configuration, error classification, the reference partitioner.
@Suite struct KafkaClientTests {
    @Test func loadsLibrdkafkaOfASupportedVersion() throws {
        try KafkaLibrary.load()
        #expect(try KafkaLibrary.versionNumber() >= 0x0200_02ff)
        let version = try KafkaLibrary.version()
        #expect(version.split(separator: ".").count >= 3, "version \(version)")
    }

    @Test func configurationFromAConnectionCarriesSecurityButNeverShowsSecrets() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n"
        let connection = KafkaConnection(
            bootstrapServers: "b1:9093,b2:9093", sasl: .init(mechanism: .scramSHA512, username: "svc", password: "hunter2-secret"),
            useTLS: true, tlsCAPEM: pem)
        let configuration = KafkaConfiguration(connection: connection)
        #expect(configuration["bootstrap.servers"] == "b1:9093,b2:9093")
        #expect(configuration["security.protocol"] == "sasl_ssl")
        #expect(configuration["sasl.mechanisms"] == "SCRAM-SHA-512")
        #expect(configuration["sasl.username"] == "svc")
        #expect(configuration["sasl.password"] == "hunter2-secret")
        #expect(configuration["ssl.ca.pem"] == pem)
        let description = configuration.description
        #expect(!description.contains("hunter2"))
        #expect(description.contains("sasl.password=[redacted]"))
        #expect(description.contains("sasl.username=svc"))
        #expect(!description.contains("MIIB"), "the PEM is abbreviated")
        #expect(!"\(configuration.merging(["ssl.key.password": "k3y"]))".contains("k3y"))

        let plain = KafkaConfiguration(connection: KafkaConnection(bootstrapServers: "localhost:9092"))
        #expect(plain["security.protocol"] == "plaintext")
        #expect(plain["sasl.mechanisms"] == nil && plain["ssl.ca.pem"] == nil)
        #expect(KafkaConfiguration(connection: KafkaConnection(bootstrapServers: "h:1", useTLS: true))["security.protocol"] == "ssl")
    }

    @Test func librdkafkaAcceptsTheConfigurationOfEverySecurityMode() throws {
        // librdkafka validates the settings when a client is made (it does not connect yet): SASL and TLS must be
        // built in, and every property name Floe sets must be one it knows.
        let modes = [
            KafkaConnection(bootstrapServers: "127.0.0.1:1"),
            KafkaConnection(bootstrapServers: "127.0.0.1:1", sasl: .init(mechanism: .plain, username: "u", password: "p")),
            KafkaConnection(bootstrapServers: "127.0.0.1:1", sasl: .init(mechanism: .scramSHA256, username: "u", password: "p"), useTLS: true),
        ]
        for connection in modes {
            _ = try KafkaAdmin(configuration: KafkaConfiguration(connection: connection), logger: TestBroker.logger)
        }
    }

    @Test func anInvalidSettingFailsNamingTheProperty() {
        var configuration = TestBroker.configuration
        configuration["no.such.property"] = "1"
        #expect {
            _ = try KafkaAdmin(configuration: configuration, logger: TestBroker.logger)
        } throws: { error in
            let error = error as! KafkaError
            return error.code == .invalidArgument && error.message.contains("no.such.property")
        }
    }

    @Test func errorKindsFollowFatalThenAbortThenRetry() {
        #expect(KafkaError(code: .fenced, message: "x").kind == .fatal)
        #expect(KafkaError(code: .producerFenced, message: "x").isFenced)
        #expect(KafkaError(code: .fail, message: "x", isRetriable: true, isFatal: true, transactionRequiresAbort: true).kind == .fatal)
        #expect(KafkaError(code: .fail, message: "x", isRetriable: true, transactionRequiresAbort: true).kind == .abortRequired)
        #expect(KafkaError(code: .timedOut, message: "x", isRetriable: true).kind == .retriable)
        #expect(KafkaError(code: .unknownTopicOrPartition, message: "x").kind == .permanent)
        let error = KafkaError(code: .transport, message: "Connection refused")
        #expect(error.name == "_TRANSPORT")
        #expect(error.description == "_TRANSPORT: Connection refused")
    }

    /// Kafka's own test vectors for `Utils.murmur2` (UtilsTest.testMurmur2), so the reference is Java's.
    @Test func referencePartitionerMatchesJavaMurmur2() {
        let cases: [(String, Int32)] = [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
        ]
        for (key, expected) in cases {
            #expect(JavaPartitioner.murmur2(Array(key.utf8)) == expected, "murmur2(\(key))")
        }
    }

    /// The cmk prober's failure case: nothing listens on port 1, so metadata must fail within its timeout with
    /// the transport error, not hang and not say only "timed out".
    @Test func unreachableBootstrapFailsWithinTheTimeoutWithAReadableReason() async throws {
        let admin = try KafkaAdmin(
            configuration: KafkaConfiguration(connection: KafkaConnection(bootstrapServers: "127.0.0.1:1")), logger: TestBroker.logger)
        // Timed on the admin's queue: the test's own resumption may wait for a busy cooperative pool.
        let (elapsed, error) = try await admin.run { admin -> (Duration, KafkaError?) in
            let started = ContinuousClock.now
            do throws(KafkaError) {
                _ = try admin.metadata(timeout: .seconds(3))
                return (ContinuousClock.now - started, nil)
            } catch {
                return (ContinuousClock.now - started, error)
            }
        }
        let failure = try #require(error, "metadata of 127.0.0.1:1 succeeded")
        #expect(elapsed < .seconds(4), "took \(elapsed)")
        #expect(failure.message.contains("127.0.0.1:1"), "message: \(failure.message)")
        #expect(failure.message.lowercased().contains("refused"), "message: \(failure.message)")
    }
}
