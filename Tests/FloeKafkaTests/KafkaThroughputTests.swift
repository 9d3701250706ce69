// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeKafka
import Foundation
import Testing

/// A throughput figure for the plan's benchmark (not a pass/fail bar): transactional produce, then a
/// read_committed consume, of `FLOE_KAFKA_BENCH` records (e.g. 200000) of ~85-byte values on one partition.
/// Run with `FLOE_KAFKA_BENCH=200000 tests/kafka/run.sh` or by hand against FLOE_TEST_KAFKA.
@Suite(
    TestBroker.required,
    .enabled(if: ProcessInfo.processInfo.environment["FLOE_KAFKA_BENCH"] != nil, "throughput figures: set FLOE_KAFKA_BENCH=<records>"))
struct KafkaThroughputTests {
    @Test func transactionalProduceThenReadCommittedConsume() throws {
        let count = Int(ProcessInfo.processInfo.environment["FLOE_KAFKA_BENCH"] ?? "") ?? 200_000
        let topic = try TestBroker.makeTopic("bench")
        let producer = try TestBroker.producer()
        // An 85-byte value shaped like a Nexmark bid row; the first bytes vary per record.
        var value = Array("{\"auction\":1000,\"bidder\":2001,\"price\":1234567,\"channel\":\"Google\",\"url\":\"https://x.y/z\"}".utf8)
        value += Array(repeating: UInt8(ascii: " "), count: max(0, 85 - value.count))
        let perTransaction = 10_000
        let produceStart = ContinuousClock.now
        var sent = 0
        while sent < count {
            try producer.beginTransaction()
            let batch = min(perTransaction, count - sent)
            for index in 0..<batch {
                var number = UInt64(sent + index)
                try withUnsafeBytes(of: &number) { key in
                    try value.withUnsafeBytes { bytes in
                        try producer.send(topic: topic, partition: 0, key: key, value: bytes)
                    }
                }
            }
            try producer.commitTransaction()
            sent += batch
        }
        let produceTime = ContinuousClock.now - produceStart

        let consumer = try KafkaConsumer(configuration: TestBroker.configuration, logger: TestBroker.logger)
        try consumer.assign([KafkaTopicPartition(topic: topic, partition: 0): .beginning])
        let consumeStart = ContinuousClock.now
        var received = 0
        var bytes = 0
        var ended = false
        while !ended && ContinuousClock.now - consumeStart < .seconds(120) {
            consumer.poll(maxMessages: 4096, timeout: .milliseconds(100)) { (item: KafkaConsumer.Item) in
                switch item {
                case .message(let message):
                    received += 1
                    bytes += message.value?.count ?? 0
                case .endOfPartition(_, let offset): ended = received >= count || offset >= Int64(count)
                case .error: break
                }
            }
        }
        let consumeTime = ContinuousClock.now - consumeStart
        #expect(received == count)
        #expect(bytes == count * value.count)
        func rate(_ n: Int, _ d: Duration) -> Int {
            Int(Double(n) / (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18))
        }
        print(
            "FloeKafka throughput: \(count) records of \(value.count) bytes; transactional produce (10k per txn) \(produceTime), "
                + "\(rate(count, produceTime)) rec/s; read_committed consume \(consumeTime), \(rate(received, consumeTime)) rec/s")
    }
}
