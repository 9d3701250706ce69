// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeKafka
import Foundation
import Logging
import Testing

/// The broker the tests that need one use: `FLOE_TEST_KAFKA` (host:port), set by tests/kafka/run.sh.
enum TestBroker {
    static let bootstrap: String? = ProcessInfo.processInfo.environment["FLOE_TEST_KAFKA"].flatMap { $0.isEmpty ? nil : $0 }

    /// The trait for tests that need a broker: skipped, saying why, when there is none.
    static let required: ConditionTrait = .enabled(
        if: bootstrap != nil, "needs a Kafka broker: FLOE_TEST_KAFKA is unset (tests/kafka/run.sh starts one and sets it)")

    static var configuration: KafkaConfiguration {
        KafkaConfiguration(connection: KafkaConnection(bootstrapServers: bootstrap ?? "127.0.0.1:1"), clientID: "floe-tests")
    }

    static let logger = Logger(label: "floe.kafka.tests")

    static func admin() throws -> KafkaAdmin {
        try KafkaAdmin(configuration: configuration, logger: logger)
    }

    /// A topic name no other test (or earlier run against the same broker) uses.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UInt64.random(in: 0..<UInt64.max) & 0xffff_ffff_ffff)"
    }

    /// Creates a topic with `partitions` partitions and returns its name.
    static func makeTopic(_ prefix: String, partitions: Int = 1, configs: [String: String] = [:]) throws -> String {
        let name = uniqueName(prefix)
        try admin().createTopic(name, partitions: partitions, configs: configs, timeout: .seconds(10))
        return name
    }

    static func producer(_ transactionalID: String = uniqueName("txn")) throws -> KafkaTransactionalProducer {
        let producer = try KafkaTransactionalProducer(configuration: configuration, transactionalID: transactionalID, logger: logger)
        try producer.initTransactions(timeout: .seconds(10))
        return producer
    }

    /// Every record of `topic`'s partitions from the beginning, as a consumer with `isolation` sees them: reads
    /// until each partition reported its end (or 15 s passed, which fails the test).
    static func readAll(
        _ topic: String, partitions: Int = 1, isolation: KafkaIsolationLevel = .readCommitted
    ) throws -> [KafkaRecord] {
        let consumer = try KafkaConsumer(configuration: configuration, options: .init(isolation: isolation), logger: logger)
        defer { consumer.close() }
        var assignment: [KafkaTopicPartition: KafkaStartOffset] = [:]
        for partition in 0..<partitions { assignment[KafkaTopicPartition(topic: topic, partition: Int32(partition))] = .beginning }
        try consumer.assign(assignment)
        var records: [KafkaRecord] = []
        var ended: Set<Int32> = []
        let deadline = ContinuousClock.now + .seconds(15)
        while ended.count < partitions {
            guard ContinuousClock.now < deadline else {
                Issue.record("reading \(topic) did not reach the end of every partition within 15 s (ended: \(ended.sorted()))")
                break
            }
            for event in consumer.poll(maxRecords: 1000, timeout: .milliseconds(200)) {
                switch event {
                case .record(let record): records.append(record)
                case .endOfPartition(let partition, _): ended.insert(partition.partition)
                case .error(let error): throw error
                }
            }
        }
        return records
    }
}

/// Kafka's default partitioner for keyed records (Java `Utils.murmur2` + `toPositive` + modulo), written from the
/// algorithm, to check that Floe's producer puts keys where Java clients (and Flink) do.
enum JavaPartitioner {
    static func murmur2(_ data: [UInt8]) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        var h: UInt32 = 0x9747_b28c ^ UInt32(data.count)
        let blocks = data.count / 4
        for block in 0..<blocks {
            let i = block * 4
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = blocks * 4
        switch data.count % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    static func partition(forKey key: [UInt8], partitions: Int32) -> Int32 {
        (murmur2(key) & 0x7fff_ffff) % partitions
    }
}
