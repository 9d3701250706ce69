// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeKafka
import FloeSQL
import Logging

/// The engine's ``KafkaTopicReader`` on an assign-only librdkafka consumer: positions are the statement's (its
/// checkpoints), never a consumer group's.
final class LibrdkafkaTopicReader: KafkaTopicReader, @unchecked Sendable {
    private let consumer: KafkaConsumer
    private let topic: String
    private let describe: String
    private let timeout: Duration

    /// `@unchecked`: one owner (the source's thread) calls everything but ``dataArrival``, which only waits on the
    /// consumer (thread-safe).
    init(connection: KafkaConnection, topic: String, readCommitted: Bool, cluster: String, timeout: Duration) throws(SQLError) {
        self.topic = topic
        self.describe = cluster
        self.timeout = timeout
        do {
            consumer = try KafkaConsumer(
                configuration: KafkaConfiguration(connection: connection, clientID: "floe-source"),
                options: KafkaConsumer.Options(isolation: readCommitted ? .readCommitted : .readUncommitted, reportEndOfPartition: true),
                logger: Logger(label: "floe.kafka.source"))
        } catch {
            throw SQLError.runtime("Kafka cluster \(cluster): could not open a reader of topic '\(topic)': \(error.message)")
        }
    }

    private func failure(_ error: KafkaError, _ what: String) -> SQLError {
        SQLError.runtime("Kafka cluster \(describe): could not \(what) of topic '\(topic)': \(error.message)")
    }

    func assign(_ positions: [Int32: KafkaReadPosition]) throws(SQLError) {
        var assignment: [KafkaTopicPartition: KafkaStartOffset] = [:]
        for (partition, position) in positions {
            let start: KafkaStartOffset =
                switch position {
                case .beginning: .beginning
                case .end: .end
                case .offset(let offset): .offset(offset)
                }
            assignment[KafkaTopicPartition(topic: topic, partition: partition)] = start
        }
        do { try consumer.assign(assignment) } catch { throw failure(error, "read the partitions") }
    }

    func poll(maxRecords: Int, withHeaders: Bool, _ visit: (KafkaReadItem) throws(SQLError) -> Void) throws(SQLError) {
        var failure: KafkaError?
        _ = try consumer.poll(maxMessages: maxRecords, timeout: .zero) { (item: KafkaConsumer.Item) throws(SQLError) -> Void in
            switch item {
            case .message(let view):
                let type: KafkaRecordView.TimestampType =
                    switch view.timestampType {
                    case .createTime: .createTime
                    case .logAppendTime: .logAppendTime
                    case .notAvailable: .none
                    }
                try visit(
                    .record(
                        KafkaRecordView(
                            partition: view.partition, offset: view.offset, timestamp: view.timestamp, timestampType: type, key: view.key,
                            value: view.value, headers: withHeaders ? view.headers().map { ($0.name, $0.value) } : [])))
            case .endOfPartition(let partition, let offset): try visit(.endOfPartition(partition.partition, next: offset))
            case .error(let error): if failure == nil { failure = error }
            }
        }
        if let failure, failure.isFatal || failure.code == .unknownTopic || failure.code == .unknownTopicOrPartition {
            throw self.failure(failure, "read")
        }
    }

    func endOffsets(_ partitions: [Int32]) throws(SQLError) -> [Int32: Int64] {
        var ends: [Int32: Int64] = [:]
        do {
            for partition in partitions {
                ends[partition] = try consumer.watermarks(KafkaTopicPartition(topic: topic, partition: partition), timeout: timeout).high
            }
        } catch { throw failure(error, "read the end offsets") }
        return ends
    }

    func offsets(atOrAfter timestamp: Int64, _ partitions: [Int32]) throws(SQLError) -> [Int32: Int64] {
        let query = Dictionary(uniqueKeysWithValues: partitions.map { (KafkaTopicPartition(topic: topic, partition: $0), timestamp) })
        let found: [KafkaTopicPartition: KafkaStartOffset]
        do { found = try consumer.offsetsForTimes(query, timeout: timeout) } catch { throw failure(error, "find offsets by time") }
        let ends = try endOffsets(partitions)
        var offsets: [Int32: Int64] = [:]
        for partition in partitions {
            switch found[KafkaTopicPartition(topic: topic, partition: partition)] {
            case .offset(let offset)?: offsets[partition] = offset
            default: offsets[partition] = ends[partition] ?? 0
            }
        }
        return offsets
    }

    var dataArrival: @Sendable () async -> Void { { [consumer] in await consumer.waitForData() } }

    func close() { consumer.close() }
}
