// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeKafka
import FloeSQL
import Logging

/// The engine's ``KafkaTopicWriter`` on a librdkafka transactional producer.
///
/// The engine names the transactional id (`floe-<writer>`: the statement's uid, `#n` for the n-th INSERT of a
/// statement set): stable across restarts, so `init_transactions` at open fences the instance before a crash and
/// aborts its open transaction. The writer's row count is the committed offset of partition 0 of the topic in the
/// marker group of the same name, sent with every transaction (`send_offsets_to_transaction`): an aborted or fenced
/// transaction leaves it unchanged.
final class LibrdkafkaTopicWriter: KafkaTopicWriter, @unchecked Sendable {
    private let producer: KafkaTransactionalProducer
    private let admin: KafkaAdmin
    private let topic: String
    private let group: String
    private let cluster: String
    private let timeout: Duration

    /// `@unchecked`: one owner (the statement's sink) calls it.
    init(
        connection: KafkaConnection, admin: KafkaAdmin, topic: String, transactionalID: String, compression: String, cluster: String,
        timeout: Duration
    ) throws(SQLError) {
        self.admin = admin
        self.topic = topic
        self.group = transactionalID
        self.cluster = cluster
        self.timeout = timeout
        do {
            var configuration = KafkaConfiguration(connection: connection, clientID: "floe-sink")
            configuration["compression.type"] = compression
            producer = try KafkaTransactionalProducer(
                configuration: configuration, transactionalID: transactionalID, logger: Logger(label: "floe.kafka.sink"))
            try producer.initTransactions(timeout: .seconds(30))
        } catch {
            throw SQLError.runtime("Kafka cluster \(cluster): could not open a transactional writer of topic '\(topic)': \(error.message)")
        }
    }

    func committedCount() throws(SQLError) -> Int64 {
        do {
            let offsets = try admin.committedOffsets(group: group, partitions: [KafkaTopicPartition(topic: topic, partition: 0)], timeout: timeout)
            return offsets.first?.offset ?? 0
        } catch {
            throw SQLError.runtime("Kafka cluster \(cluster): could not read what writer '\(group)' committed to topic '\(topic)': \(error.message)")
        }
    }

    /// Whether a transaction ``send(_:)`` began is open.
    private var isOpen = false

    func send(_ records: [KafkaOutgoingRecord]) throws(SQLError) {
        do {
            if !isOpen {
                try producer.beginTransaction()
                isOpen = true
            }
            try produce(records)
        } catch {
            abortOpen()
            throw failure(error)
        }
    }

    func commit(committedCount: Int64) throws(SQLError) {
        guard isOpen else { return }
        do {
            try producer.sendOffsets(
                [KafkaGroupOffset(topic: topic, partition: 0, offset: committedCount, metadata: "")], group: group, timeout: timeout)
            try commit()
            isOpen = false
        } catch {
            abortOpen()
            throw failure(error)
        }
    }

    private func abortOpen() {
        guard isOpen else { return }
        try? producer.abortTransaction(timeout: timeout)
        isOpen = false
    }

    private func produce(_ records: [KafkaOutgoingRecord]) throws(KafkaError) {
        for record in records {
            try producer.send(
                KafkaProducerRecord(
                    topic: topic, key: record.key, value: record.value,
                    headers: record.headers.map { KafkaHeader(name: $0.name, value: $0.value) }, timestamp: record.timestamp))
        }
    }

    private func failure(_ error: KafkaError) -> SQLError {
        if error.isFenced || error.kind == .fatal {
            return SQLError.runtime(
                "Kafka cluster \(cluster): writer '\(group)' of topic '\(topic)' was fenced by a newer instance of the statement (\(error.message)).")
        }
        return SQLError.runtime("Kafka cluster \(cluster): could not write to topic '\(topic)': \(error.message)")
    }

    func write(_ records: [KafkaOutgoingRecord], committedCount: Int64) throws(SQLError) {
        // Staged records are dropped: these are the whole output.
        abortOpen()
        var attempt = 0
        while true {
            attempt += 1
            do {
                try producer.beginTransaction()
                try produce(records)
                try producer.sendOffsets(
                    [KafkaGroupOffset(topic: topic, partition: 0, offset: committedCount, metadata: "")], group: group, timeout: timeout)
                try commit()
                return
            } catch {
                if error.isFenced || error.kind == .fatal {
                    throw SQLError.runtime(
                        "Kafka cluster \(cluster): writer '\(group)' of topic '\(topic)' was fenced by a newer instance of the statement (\(error.message))."
                    )
                }
                // The transaction cannot commit: abort it and write the same records again in a new one (they are still
                // in the checkpoint), a few times before giving up.
                try? producer.abortTransaction(timeout: timeout)
                guard attempt < 3, error.kind != .permanent else {
                    throw SQLError.runtime("Kafka cluster \(cluster): could not write to topic '\(topic)': \(error.message)")
                }
            }
        }
    }

    /// Commits, repeating a commit whose outcome is unknown (a retriable error) as librdkafka allows.
    private func commit() throws(KafkaError) {
        var tries = 0
        while true {
            do {
                try producer.commitTransaction(timeout: .seconds(60))
                return
            } catch {
                tries += 1
                guard error.kind == .retriable, tries < 5 else { throw error }
            }
        }
    }

    func close() {}
}
