// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Foundation

/// The dead-letter table of `error-handling.mode` = `log`: a Kafka table of the same database (`error_log` unless
/// `error-handling.log.target` names another) that receives, for each record that does not decode, why and the record
/// itself, so the statement goes on and the records can be inspected and replayed.
///
/// As on Confluent Cloud, the table is made (topic and value schema) when CREATE or ALTER TABLE sets the mode, and
/// kept if it exists. Its columns are Floe's choice (UNCONFIRMED: the reference gives no schema); rows are written when
/// the bad record is read, at least once (a statement that restarts from a checkpoint reads, and logs, those records
/// again).
enum DeadLetterTable {
    static let defaultName = "error_log"

    /// The table's columns.
    static let columns: [ColumnEntry] = [
        ColumnEntry(name: "error_timestamp", type: SQLType(.timestampLTZ(3), nullable: false)),
        ColumnEntry(name: "error_message", type: SQLType.string.notNull),
        ColumnEntry(name: "statement_id", type: .string),
        ColumnEntry(name: "source_table", type: SQLType.string.notNull),
        ColumnEntry(name: "source_topic", type: SQLType.string.notNull),
        ColumnEntry(name: "source_partition", type: SQLType(.integer, nullable: false)),
        ColumnEntry(name: "source_offset", type: SQLType(.bigint, nullable: false)),
        ColumnEntry(name: "source_timestamp", type: SQLType(.timestampLTZ(3))),
        ColumnEntry(name: "raw_key", type: SQLType(.varbinary(SQLType.maxLength))),
        ColumnEntry(name: "raw_value", type: SQLType(.varbinary(SQLType.maxLength))),
    ]

    /// Refuses a target that cannot be a topic's name.
    static func checkName(_ name: String) throws(SQLError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !name.isEmpty, name.count <= 249, name.allSatisfy(allowed.contains), name != ".", name != ".." else {
            throw SQLError(
                "Invalid value for option 'error-handling.log.target': '\(name)'. It names a table of the same Kafka database (a topic name).")
        }
    }

    /// The table `name` as CREATE TABLE would make it: one partition, an Avro value, no key, append-only.
    static func creation(_ name: String, in kafka: KafkaDatabase) throws(SQLError) -> StatementPlanner.KafkaTableCreation {
        guard kafka.registry != nil else {
            throw SQLError("'error-handling.mode' = 'log' needs the Schema Registry of the environment of Kafka cluster '\(kafka.name)'.")
        }
        let fields = columns.map { SQLType.RowField($0.name, $0.type) }
        let schema: JSONValue
        do throws(RecordSchemaError) { schema = try AvroSchemaGenerator.valueSchema(table: name, columns: fields) } catch {
            throw SQLError.runtime("The dead-letter table '\(name)' has no Avro schema: \(error.message)")
        }
        let options = try ConfluentTableOptions([:], hasPrimaryKey: false)
        let overrides = TableEntry(
            id: "\(kafka.id)/\(name)", name: name, columns: columns, primaryKey: [], watermarkColumn: nil, watermarkExpression: nil,
            distributedBy: [], bucketCount: nil, comment: "Records of Kafka tables that did not decode ('error-handling.mode' = 'log').",
            options: [KafkaTable.createdByDDL: "true"])
        let layout = InferredTable(
            columns: columns.map { InferredTable.Column(name: $0.name, type: $0.type, origin: .value, fieldName: $0.name) }, options: [:],
            distributionKey: [])
        return StatementPlanner.KafkaTableCreation(
            overrides: overrides, partitions: 1, configs: options.topic.kafkaConfigs, keySchema: nil,
            valueSchema: SchemaDefinition(type: .avro, text: schema.serializedString), options: options, layout: layout)
    }

    /// Makes the table `name` unless its topic exists (then it is used as it is).
    static func ensure(_ name: String, for table: String, in kafka: KafkaDatabase, catalog: CatalogStore) throws(SQLError) {
        guard name != table else {
            throw SQLError("'error-handling.log.target' of table '\(table)' names the table itself: a dead-letter table is another table.")
        }
        let path = ObjectPath(catalog: CatalogIdentity(id: kafka.catalogID, name: kafka.catalogID), database: kafka.name, name: name)
        try creation(name, in: kafka).make(in: kafka, catalog: catalog, path: path) { _ in true }
    }

    /// The row a record that did not decode becomes.
    static func row(
        error: String, statementID: String?, table: String, topic: String, partition: Int32, offset: Int64, timestamp: Int64?,
        key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?
    ) -> Row {
        [
            .int(Int64(Date().timeIntervalSince1970 * 1000) * 1000), .string(error), statementID.map(Value.string) ?? .null, .string(table),
            .string(topic), .int(Int64(partition)), .int(offset), timestamp.map { .int($0 * 1000) } ?? .null,
            key.map { .bytes(Array($0)) } ?? .null, value.map { .bytes(Array($0)) } ?? .null,
        ]
    }
}
