// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The `connector` values a table of the embedded engine may name. A table that names none is backed by its own log,
/// as a Confluent Cloud table is backed by its topic; a table that names any other is refused at CREATE and ALTER,
/// never quietly taken for a log table (a `'connector' = 'kafka'` table that is not a Kafka topic would be a lie).
enum ConnectorIdentifier {
    /// The connectors the embedded engine implements, in the order Flink lists factory identifiers.
    static let known = ["blackhole", "datagen", "faker", "filesystem"]

    /// The connectors that are Kafka topics, which need a Kafka cluster attached to the environment.
    static let kafka = ["confluent", "kafka", "upsert-kafka"]

    /// Refuses a `connector` option that names no connector Floe implements, in Flink's words.
    static func check(_ options: [String: String]) throws(SQLError) {
        guard let value = options["connector"] else { return }
        let identifier = value.lowercased()
        guard !known.contains(identifier) else { return }
        let available = "Available factory identifiers are:\n\n" + known.joined(separator: "\n")
        if kafka.contains(identifier) {
            throw SQLError.unsupported(
                "Connector '\(value)' needs a Kafka cluster attached to the environment, and this Floe cannot attach one yet. "
                    + "A table without a 'connector' option is backed by the environment's own log.\n\n\(available)")
        }
        throw SQLError(
            "Could not find any factory for identifier '\(value)' that implements "
                + "'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.\n\n\(available)")
    }
}
