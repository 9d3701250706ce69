// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Where a Kafka source starts (`scan.startup.mode`) or stops (`scan.bounded.mode`).
enum KafkaOffsetBound: Sendable, Equatable {
    case earliest
    case latest
    /// Records with a timestamp at or after this (epoch milliseconds).
    case timestamp(Int64)
    /// The offset per partition; partitions not named use the earliest offset (start) or are unbounded (stop).
    case specificOffsets([Int32: Int64])
    /// The committed offsets of `properties.group.id` (Apache Flink's `kafka` connector default).
    case groupOffsets
    /// Never stops (bounded mode only).
    case unbounded
}

/// The per-partition offsets string of `scan.startup.specific-offsets` and of `status.latest_offsets`:
/// `partition:0,offset:42;partition:1,offset:7`.
enum PartitionOffsets {
    /// Parses the string; partitions may come in any order but only once.
    static func parse(_ text: String, key: String) throws(SQLError) -> [Int32: Int64] {
        var offsets: [Int32: Int64] = [:]
        for entry in text.split(separator: ";", omittingEmptySubsequences: true) {
            let fields = entry.split(separator: ",").map { $0.split(separator: ":", maxSplits: 1).map { String($0).trimmingSpaces } }
            guard fields.count == 2, fields.allSatisfy({ $0.count == 2 }), fields[0][0] == "partition", fields[1][0] == "offset",
                let partition = Int32(fields[0][1]), partition >= 0, let offset = Int64(fields[1][1]), offset >= 0
            else {
                throw SQLError(
                    "Invalid properties '\(key)' should follow the format 'partition:0,offset:42;partition:1,offset:300', but is '\(text)'.")
            }
            guard offsets.updateValue(offset, forKey: partition) == nil else {
                throw SQLError("Option '\(key)' names partition \(partition) twice: '\(text)'.")
            }
        }
        guard !offsets.isEmpty else { throw SQLError("Option '\(key)' names no partition: '\(text)'.") }
        return offsets
    }

    /// The string of `offsets`, by partition.
    static func format(_ offsets: [Int32: Int64]) -> String {
        offsets.sorted { $0.key < $1.key }.map { "partition:\($0.key),offset:\($0.value)" }.joined(separator: ";")
    }
}

/// The options of a `'connector' = 'confluent'` table, a topic of a Kafka cluster attached as a database, parsed and
/// checked as Confluent Cloud documents them (kafka-tables.md §2).
///
/// Every key is either understood or refused naming it: options Floe does not implement yet (schema contexts, subject
/// name strategies, Protobuf, Debezium) fail as unsupported rather than being ignored. The `kafka.*` options are the
/// topic's settings (``TopicSettings``): CREATE TABLE creates the topic with them, SHOW CREATE TABLE reads them back.
struct ConfluentTableOptions: Sendable, Equatable {
    /// A key or value format.
    enum Format: String, Sendable, CaseIterable {
        case avroRegistry = "avro-registry"
        case jsonRegistry = "json-registry"
        case raw
    }

    enum FieldsInclude: String, Sendable {
        case all = "all"
        case exceptKey = "except-key"
    }

    enum IsolationLevel: String, Sendable {
        case readCommitted = "read-committed"
        case readUncommitted = "read-uncommitted"
    }

    enum ErrorHandling: String, Sendable {
        case fail, ignore, log
    }

    var changelogMode: ChangelogMode
    var keyFormat: Format
    var valueFormat: Format
    var keyFieldsPrefix: String
    var valueFieldsInclude: FieldsInclude
    var startup: KafkaOffsetBound
    var bounded: KafkaOffsetBound
    var isolation: IsolationLevel
    var errorHandling: ErrorHandling
    /// The dead-letter table of `error-handling.mode` = `log` (`error-handling.log.target`, `error_log` by default).
    var errorLogTarget: String
    /// `kafka.producer.compression.type`: librdkafka's `compression.type`.
    var compression: String
    /// The `kafka.*` options that are the topic's configuration.
    var topic: TopicSettings
    /// `kafka.partitions`, an alias of `INTO n BUCKETS` that public examples use.
    var partitions: Int?

    /// The keys a confluent table takes.
    static let supportedKeys: [String] = [
        "changelog.mode", "connector", "error-handling.log.target", "error-handling.mode", "kafka.cleanup-policy", "kafka.compaction.time",
        "kafka.consumer.isolation-level", "kafka.max-message-size", "kafka.message-timestamp-type", "kafka.partitions",
        "kafka.producer.compression.type", "kafka.retention.size", "kafka.retention.time", "key.fields-prefix", "key.format",
        "scan.bounded.mode", "scan.bounded.specific-offsets", "scan.bounded.timestamp-millis", "scan.startup.mode",
        "scan.startup.specific-offsets", "scan.startup.timestamp-millis", "value.fields-include", "value.format",
    ]

    /// Keys Confluent documents that Floe does not implement yet.
    static let unsupportedKeys: [String] = [
        "key.format.schema-context", "value.format.schema-context", "key.avro-registry.subject-names", "value.avro-registry.subject-names",
        "key.json-registry.subject-names", "value.json-registry.subject-names",
    ]

    /// Parses `options` (with the table's primary key deciding the default changelog mode).
    init(_ options: [String: String], hasPrimaryKey: Bool) throws(SQLError) {
        let unsupported = options.keys.filter { Self.unsupportedKeys.contains($0) }.sorted()
        guard unsupported.isEmpty else {
            throw SQLError.unsupported("Option '\(unsupported[0])' is not supported yet for 'confluent' tables.")
        }
        let unknown = options.keys.filter { !Self.supportedKeys.contains($0) && !$0.hasPrefix("floe.") }.sorted()
        guard unknown.isEmpty else {
            throw SQLError(
                "Unsupported options found for 'confluent'.\n\nUnsupported options:\n\n\(unknown.joined(separator: "\n"))\n\n"
                    + "Supported options:\n\n\(Self.supportedKeys.joined(separator: "\n"))")
        }
        func choice<T: RawRepresentable<String>>(_ key: String, _ fallback: T, _ all: [T]) throws(SQLError) -> T {
            guard let text = options[key] else { return fallback }
            guard let value = all.first(where: { $0.rawValue == text.lowercased() }) else {
                throw SQLError(
                    "Invalid value for option '\(key)': '\(text)'. Supported values are \(all.map { "'\($0.rawValue)'" }.joined(separator: ", ")).")
            }
            return value
        }
        changelogMode = try choice("changelog.mode", hasPrimaryKey ? .upsert : .append, ChangelogMode.allCases)
        if changelogMode == .upsert, !hasPrimaryKey {
            throw SQLError("A 'changelog.mode' = 'upsert' table needs a PRIMARY KEY (…) NOT ENFORCED: its key is the Kafka record key.")
        }
        keyFormat = try Self.format(options["key.format"], key: "key.format")
        valueFormat = try Self.format(options["value.format"], key: "value.format")
        keyFieldsPrefix = options["key.fields-prefix"] ?? ""
        valueFieldsInclude = try choice("value.fields-include", .exceptKey, [FieldsInclude.all, .exceptKey])
        if !keyFieldsPrefix.isEmpty, valueFieldsInclude == .all {
            throw SQLError("'key.fields-prefix' needs 'value.fields-include' = 'except-key': with 'all' the key fields are value fields too.")
        }
        startup = try Self.bound(
            options, prefix: "scan.startup", fallback: .earliest, allowed: ["earliest-offset", "latest-offset", "timestamp", "specific-offsets"])
        bounded = try Self.bound(
            options, prefix: "scan.bounded", fallback: .unbounded, allowed: ["unbounded", "latest-offset", "timestamp", "specific-offsets"])
        isolation = try choice("kafka.consumer.isolation-level", .readCommitted, [IsolationLevel.readCommitted, .readUncommitted])
        errorHandling = try choice("error-handling.mode", .fail, [ErrorHandling.fail, .ignore, .log])
        errorLogTarget = options["error-handling.log.target"] ?? DeadLetterTable.defaultName
        try DeadLetterTable.checkName(errorLogTarget)
        let codecs = ["none", "gzip", "snappy", "lz4", "zstd"]
        compression = options["kafka.producer.compression.type"]?.lowercased() ?? "none"
        guard codecs.contains(compression) else {
            throw SQLError(
                "Invalid value for option 'kafka.producer.compression.type': '\(compression)'. Supported values are \(codecs.map { "'\($0)'" }.joined(separator: ", "))."
            )
        }
        topic = try TopicSettings(options)
        if let text = options["kafka.partitions"] {
            guard let count = Int(text.trimmingSpaces), (1...TopicSettings.maxPartitions).contains(count) else {
                throw SQLError(
                    "Invalid value for option 'kafka.partitions': '\(text)'. It is a partition count from 1 to \(TopicSettings.maxPartitions).")
            }
            partitions = count
        }
    }

    private static func format(_ text: String?, key: String) throws(SQLError) -> Format {
        guard let text else { return .avroRegistry }
        if let format = Format(rawValue: text.lowercased()) { return format }
        switch text.lowercased() {
        case "proto-registry":
            throw SQLError.unsupported("Format 'proto-registry' ('\(key)') is not supported yet; use 'avro-registry', 'json-registry' or 'raw'.")
        case "avro-debezium-registry", "json-debezium-registry", "proto-debezium-registry":
            throw SQLError.unsupported("Format '\(text)' ('\(key)') is not supported yet; use 'avro-registry', 'json-registry' or 'raw'.")
        default:
            throw SQLError(
                "Could not find any format factory for identifier '\(text)' ('\(key)'). Available formats: avro-registry, json-registry, raw.")
        }
    }

    /// `<prefix>.mode` with its `timestamp-millis` or `specific-offsets` companion (required by that mode, refused by
    /// the others).
    static func bound(
        _ options: [String: String], prefix: String, fallback: KafkaOffsetBound, allowed: [String]
    ) throws(SQLError) -> KafkaOffsetBound {
        let modeKey = "\(prefix).mode"
        let timestampKey = "\(prefix).timestamp-millis"
        let offsetsKey = "\(prefix).specific-offsets"
        let mode = options[modeKey]?.lowercased()
        if let mode, !allowed.contains(mode) {
            throw SQLError(
                "Invalid value for option '\(modeKey)': '\(options[modeKey]!)'. Supported values are \(allowed.map { "'\($0)'" }.joined(separator: ", "))."
            )
        }
        if mode != "timestamp", options[timestampKey] != nil {
            throw SQLError("Option '\(timestampKey)' is only allowed with '\(modeKey)' = 'timestamp'.")
        }
        if mode != "specific-offsets", options[offsetsKey] != nil {
            throw SQLError("Option '\(offsetsKey)' is only allowed with '\(modeKey)' = 'specific-offsets'.")
        }
        switch mode {
        case nil: return fallback
        case "earliest-offset": return .earliest
        case "latest-offset": return .latest
        case "unbounded": return .unbounded
        case "group-offsets": return .groupOffsets
        case "timestamp":
            guard let text = options[timestampKey] else { throw SQLError("'\(modeKey)' = 'timestamp' needs '\(timestampKey)'.") }
            guard let millis = Int64(text.trimmingSpaces), millis >= 0 else {
                throw SQLError("Could not parse value '\(text)' for key '\(timestampKey)': epoch milliseconds expected.")
            }
            return .timestamp(millis)
        default:
            guard let text = options[offsetsKey] else { throw SQLError("'\(modeKey)' = 'specific-offsets' needs '\(offsetsKey)'.") }
            return .specificOffsets(try PartitionOffsets.parse(text, key: offsetsKey))
        }
    }
}

/// A Kafka topic's settings as `kafka.*` table options, and the topic configs they stand for.
struct TopicSettings: Sendable, Equatable {
    enum CleanupPolicy: String, Sendable, CaseIterable {
        case delete
        case compact
        case deleteCompact = "delete-compact"

        /// Kafka's `cleanup.policy`.
        var kafkaValue: String {
            switch self {
            case .delete: "delete"
            case .compact: "compact"
            case .deleteCompact: "compact,delete"
            }
        }
    }

    enum TimestampType: String, Sendable, CaseIterable {
        case createTime = "create-time"
        case logAppendTime = "log-append-time"

        /// Kafka's `message.timestamp.type`.
        var kafkaValue: String { self == .createTime ? "CreateTime" : "LogAppendTime" }
    }

    static let maxPartitions = 10_000
    static let defaultRetentionMillis: Int64 = 7 * 86_400_000
    static let defaultMaxMessageBytes: Int64 = 2_097_164

    var cleanupPolicy: CleanupPolicy = .delete
    /// `kafka.retention.time`: 0 is infinite.
    var retentionMillis: Int64 = defaultRetentionMillis
    /// `kafka.retention.size`: 0 is unlimited.
    var retentionBytes: Int64 = 0
    var maxMessageBytes: Int64 = defaultMaxMessageBytes
    /// `kafka.compaction.time`: how long a record stays uncompacted (`min.compaction.lag.ms`).
    var compactionMillis: Int64 = 0
    var timestampType: TimestampType = .createTime

    init() {}

    /// The settings `options` give, defaults for the rest.
    init(_ options: [String: String]) throws(SQLError) {
        if let text = options["kafka.cleanup-policy"] {
            guard let policy = CleanupPolicy(rawValue: text.lowercased()) else {
                throw SQLError(
                    "Invalid value for option 'kafka.cleanup-policy': '\(text)'. Supported values are 'delete', 'compact', 'delete-compact'.")
            }
            cleanupPolicy = policy
        }
        if let text = options["kafka.retention.time"] { retentionMillis = try ConfigValues.durationMillis(text, key: "kafka.retention.time") }
        if let text = options["kafka.retention.size"] { retentionBytes = try ConfigValues.memoryBytes(text, key: "kafka.retention.size") }
        if let text = options["kafka.max-message-size"] {
            maxMessageBytes = try ConfigValues.memoryBytes(text, key: "kafka.max-message-size")
            guard maxMessageBytes > 0, maxMessageBytes <= Int64(Int32.max) else {
                throw SQLError("Invalid value for option 'kafka.max-message-size': '\(text)'. It must be from 1 byte to 2 gb.")
            }
        }
        if let text = options["kafka.compaction.time"] { compactionMillis = try ConfigValues.durationMillis(text, key: "kafka.compaction.time") }
        if let text = options["kafka.message-timestamp-type"] {
            guard let type = TimestampType(rawValue: text.lowercased()) else {
                throw SQLError(
                    "Invalid value for option 'kafka.message-timestamp-type': '\(text)'. Supported values are 'create-time', 'log-append-time'.")
            }
            timestampType = type
        }
    }

    /// The settings of an existing topic, from its Kafka configs (absent ones are Kafka's defaults).
    init(kafkaConfigs configs: [String: String]) {
        switch configs["cleanup.policy"]?.lowercased().split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).sorted() {
        case ["compact"]?: cleanupPolicy = .compact
        case ["compact", "delete"]?: cleanupPolicy = .deleteCompact
        default: cleanupPolicy = .delete
        }
        if let ms = configs["retention.ms"].flatMap({ Int64($0) }) { retentionMillis = ms < 0 ? 0 : ms }
        if let bytes = configs["retention.bytes"].flatMap({ Int64($0) }) { retentionBytes = bytes < 0 ? 0 : bytes }
        if let bytes = configs["max.message.bytes"].flatMap({ Int64($0) }) { maxMessageBytes = bytes }
        if let ms = configs["min.compaction.lag.ms"].flatMap({ Int64($0) }) { compactionMillis = ms }
        timestampType = configs["message.timestamp.type"] == "LogAppendTime" ? .logAppendTime : .createTime
    }

    /// The topic configs these settings stand for (Kafka's names; infinite retention is -1).
    var kafkaConfigs: [String: String] {
        [
            "cleanup.policy": cleanupPolicy.kafkaValue,
            "retention.ms": String(retentionMillis == 0 ? -1 : retentionMillis),
            "retention.bytes": String(retentionBytes == 0 ? -1 : retentionBytes),
            "max.message.bytes": String(maxMessageBytes),
            "min.compaction.lag.ms": String(compactionMillis),
            "message.timestamp.type": timestampType.kafkaValue,
        ]
    }

    /// The `kafka.*` options as SHOW CREATE TABLE prints them.
    var tableOptions: [String: String] {
        [
            "kafka.cleanup-policy": cleanupPolicy.rawValue,
            "kafka.compaction.time": ConfigValues.formatDuration(millis: compactionMillis),
            "kafka.max-message-size": ConfigValues.formatMemory(bytes: maxMessageBytes),
            "kafka.message-timestamp-type": timestampType.rawValue,
            "kafka.retention.size": ConfigValues.formatMemory(bytes: retentionBytes),
            "kafka.retention.time": ConfigValues.formatDuration(millis: retentionMillis),
        ]
    }
}
