// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// How one part (key or value) of a Kafka table's records is encoded.
enum KafkaPartFormat: Sendable, Equatable {
    /// Confluent's `avro-registry`: Confluent's wire format; the table's schema is the subject's latest, writes use it.
    case avroRegistry
    /// Confluent's `json-registry`, as `avroRegistry` with JSON Schema.
    case jsonRegistry
    /// One BYTES or STRING column, the record's bytes as they are.
    case raw
    /// Apache Flink's `avro-confluent`: Confluent's wire format; records are read with their writer schema (by id)
    /// resolved to the table's columns, and written with the schema of the table's columns, which the sink registers
    /// under `subject` (Flink's default `<topic>-key` / `<topic>-value`) as Flink does.
    case avroConfluent(subject: String)
    /// Apache Flink's `json` or `csv`: a record is one row of text, without a schema id.
    case text(TextFormat)

    var name: String {
        switch self {
        case .avroRegistry: "avro-registry"
        case .jsonRegistry: "json-registry"
        case .raw: "raw"
        case .avroConfluent: "avro-confluent"
        case .text(let text): text.format.rawValue
        }
    }
}

/// What a Kafka table's source and sink do, whichever connector declared it: Confluent's `confluent`
/// (``ConfluentTableOptions``) or Apache Flink's `kafka` and `upsert-kafka` (``FlinkKafkaOptions``).
struct KafkaTableSettings: Sendable, Equatable {
    var changelogMode: ChangelogMode
    var keyFormat: KafkaPartFormat
    var valueFormat: KafkaPartFormat
    var startup: KafkaOffsetBound
    var bounded: KafkaOffsetBound
    var readCommitted: Bool
    var errorHandling: ConfluentTableOptions.ErrorHandling
    /// Where records that do not decode go under `error-handling.mode` = `log`: a table of the same Kafka database.
    var deadLetterTarget: String?
    /// The consumer group whose committed offsets `scan.startup.mode` = `group-offsets` starts from.
    var groupID: String?
    /// Where a partition the group has no committed offset for starts (`properties.auto.offset.reset`); nil fails the
    /// statement, as Flink does by default.
    var groupFallback: KafkaOffsetBound?
    /// The first part of the writers' transactional ids, `<prefix>-<writer>` (`sink.transactional-id-prefix`).
    var transactionalIDPrefix = "floe"
    /// The producer's `compression.type`.
    var compression = "none"
}

extension ConfluentTableOptions {
    /// What a `confluent` table's source and sink do.
    var settings: KafkaTableSettings {
        func part(_ format: Format) -> KafkaPartFormat {
            switch format {
            case .avroRegistry: .avroRegistry
            case .jsonRegistry: .jsonRegistry
            case .raw: .raw
            }
        }
        return KafkaTableSettings(
            changelogMode: changelogMode, keyFormat: part(keyFormat), valueFormat: part(valueFormat), startup: startup, bounded: bounded,
            readCommitted: isolation == .readCommitted, errorHandling: errorHandling,
            deadLetterTarget: errorHandling == .log ? errorLogTarget : nil, compression: compression)
    }
}
