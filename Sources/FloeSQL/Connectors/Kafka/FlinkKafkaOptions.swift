// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A table with Apache Flink's `'connector' = 'kafka'` or `'upsert-kafka'`, in any database: a topic of the Kafka
/// cluster `properties.bootstrap.servers` names, with Flink's options, checked as Flink checks them.
///
/// Floe connects only to clusters attached to an environment the statement may use (``KafkaTable/resolve(flink:entry:in:)``
/// finds the cluster by its bootstrap servers, and reaches it with the attached cluster's credentials); connection
/// settings in `properties.*` are therefore refused rather than ignored, and so are options Floe does not implement.
struct FlinkKafkaOptions: Sendable {
    enum Connector: String, Sendable {
        case kafka
        case upsertKafka = "upsert-kafka"
    }

    var connector: Connector
    var topic: String
    /// `properties.bootstrap.servers`, as `host:port` entries.
    var bootstrapServers: [String]
    /// Where each physical column lives (key, value or both), in column order.
    var layout: InferredTable
    /// The key columns in the key's field order (`key.fields`, or the primary key of an `upsert-kafka` table).
    var keyColumns: [String]
    var settings: KafkaTableSettings
    /// The `avro-confluent.url` options of the key and value formats (the option as given, and its URL): they must
    /// name the Schema Registry of the cluster's environment.
    var registryURLs: [(option: String, url: String)]

    /// The `properties.*` keys Floe understands; the connection itself is the attached cluster's.
    static let properties: Set<String> = [
        "properties.bootstrap.servers", "properties.group.id", "properties.auto.offset.reset", "properties.isolation.level",
        "properties.client.id", "properties.transaction.timeout.ms", "properties.commit.offsets.on.checkpoint",
    ]

    static let sharedKeys: Set<String> = [
        "connector", "topic", "key.format", "key.fields-prefix", "value.format", "value.fields-include", "sink.delivery-guarantee",
        "sink.transactional-id-prefix", "sink.parallelism",
    ]
    static let kafkaKeys: Set<String> = [
        "format", "key.fields", "scan.startup.mode", "scan.startup.specific-offsets", "scan.startup.timestamp-millis", "scan.bounded.mode",
        "scan.bounded.specific-offsets", "scan.bounded.timestamp-millis", "sink.partitioner", "sink.semantic",
    ]
    /// Options Flink has that Floe does not implement: refused naming them.
    static let unimplemented: [String: String] = [
        "topic-pattern": "a table reads one topic, named by 'topic'",
        "scan.topic-partition-discovery.interval": "a statement reads the partitions its topic has when it starts",
        "sink.buffer-flush.max-rows": "the sink writes each checkpoint's rows in one transaction",
        "sink.buffer-flush.interval": "the sink writes each checkpoint's rows in one transaction",
        "scan.parallelism": "a statement reads each topic with one reader",
    ]

    /// Parses and checks a table's options against its physical columns and primary key.
    init(options: [String: String], columns: [(name: String, type: SQLType)], primaryKey: [String]) throws(SQLError) {
        guard let connector = options["connector"].flatMap({ Connector(rawValue: $0.lowercased()) }) else {
            throw SQLError("Connector '\(options["connector"] ?? "")' is not 'kafka' or 'upsert-kafka'.")
        }
        self.connector = connector
        let identifier = connector.rawValue
        for (key, reason) in Self.unimplemented.sorted(by: { $0.key < $1.key }) where options[key] != nil {
            throw SQLError.unsupported("Option '\(key)' of connector '\(identifier)' is not supported: \(reason).")
        }

        // Formats first: their option keys are part of what this table may set.
        var formatKeys: Set<String> = []
        var registryURLs: [(option: String, url: String)] = []
        func partFormat(_ name: String, prefix: String, fields: [TextFormat.Field], part: String) throws(SQLError) -> KafkaPartFormat {
            switch name.lowercased() {
            case "raw":
                let charset = prefix + "raw.charset"
                let endianness = prefix + "raw.endianness"
                formatKeys.formUnion([charset, endianness])
                if let value = options[charset], value.uppercased().replacingOccurrences(of: "-", with: "") != "UTF8" {
                    throw SQLError.unsupported("'\(charset)' = '\(value)' is not supported: Floe's 'raw' format reads and writes UTF-8.")
                }
                if let value = options[endianness], value.lowercased() != "big-endian" {
                    throw SQLError.unsupported("'\(endianness)' = '\(value)' is not supported: Floe's 'raw' format is big-endian.")
                }
                guard fields.count == 1 else {
                    throw SQLError("The 'raw' format supports only one physical column in the \(part), but there are \(fields.count).")
                }
                return .raw
            case "json", "csv":
                let kind = TextFormat.Kind(rawValue: name.lowercased())!
                formatKeys.formUnion(TextFormat.optionKeys(kind).map { prefix + $0 })
                return .text(try TextFormat.parse(kind, fields: fields, options: options, prefix: prefix))
            case "avro-confluent":
                let known = ["url", "schema-registry.url", "subject"].map { prefix + "avro-confluent." + $0 }
                formatKeys.formUnion(known)
                for key in options.keys.sorted() where key.hasPrefix(prefix + "avro-confluent.") && !known.contains(key) {
                    throw SQLError.unsupported(
                        "Option '\(key)' is not supported: Floe reaches the Schema Registry of the cluster's environment itself, "
                            + "with the statement's authority; only 'url' and 'subject' are taken.")
                }
                guard
                    let option = [prefix + "avro-confluent.url", prefix + "avro-confluent.schema-registry.url"].first(where: { options[$0] != nil })
                else {
                    throw SQLError("Missing required options are:\n\n\(prefix)avro-confluent.url")
                }
                registryURLs.append((option, options[option]!))
                let subject = options[prefix + "avro-confluent.subject"] ?? "\(options["topic"] ?? "")-\(part)"
                return .avroConfluent(subject: subject)
            case "avro", "debezium-json", "debezium-avro-confluent", "canal-json", "maxwell-json", "ogg-json", "protobuf", "parquet", "orc":
                throw SQLError.unsupported(
                    "Format '\(name)' of connector '\(identifier)' is not supported yet; use 'avro-confluent', 'json', 'csv' or 'raw'.")
            default:
                throw SQLError(
                    "Could not find any format factory for identifier '\(name)' in the classpath. Available formats: avro-confluent, csv, json, raw.")
            }
        }

        guard let topic = options["topic"], !topic.isEmpty else { throw SQLError("Missing required options are:\n\ntopic") }
        guard !topic.contains(";") else {
            throw SQLError.unsupported("Option 'topic' names several topics ('\(topic)'); a Floe table reads and writes one topic.")
        }
        self.topic = topic
        guard let servers = options["properties.bootstrap.servers"], !servers.isEmpty else {
            throw SQLError("Missing required options are:\n\nproperties.bootstrap.servers")
        }
        bootstrapServers = Self.servers(servers)

        // Which columns are the key, and which the value.
        let physical = columns.map(\.name)
        let prefix = options["key.fields-prefix"] ?? ""
        let include = options["value.fields-include"]?.uppercased() ?? "ALL"
        guard include == "ALL" || include == "EXCEPT_KEY" else {
            throw SQLError(
                "Invalid value for option 'value.fields-include': '\(options["value.fields-include"]!)'. Supported values are [ALL, EXCEPT_KEY].")
        }
        if !prefix.isEmpty, include == "ALL" {
            throw SQLError(
                "A key prefix is not allowed when option 'value.fields-include' is set to 'ALL'. Set it to 'EXCEPT_KEY' instead to avoid field overlaps."
            )
        }
        switch connector {
        case .kafka:
            if !primaryKey.isEmpty {
                throw SQLError(
                    "The Kafka table with '\(options["value.format"] ?? options["format"] ?? "")' format doesn't support defining PRIMARY KEY constraint on the table, because it can't guarantee the semantic of primary key."
                )
            }
            keyColumns = (options["key.fields"] ?? "").split(separator: ";").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            if options["key.format"] == nil, !keyColumns.isEmpty {
                throw SQLError("The option 'key.fields' can only be declared if a key format is defined using 'key.format'.")
            }
            if options["key.format"] != nil, keyColumns.isEmpty {
                throw SQLError("A key format 'key.format' requires the declaration of one or more of key fields using 'key.fields'.")
            }
        case .upsertKafka:
            guard !primaryKey.isEmpty else {
                throw SQLError(
                    "'upsert-kafka' tables require to define a PRIMARY KEY constraint. The PRIMARY KEY specifies which columns should be read from or write to the Kafka message key. The PRIMARY KEY also defines records in the 'upsert-kafka' table should update or delete on which keys."
                )
            }
            guard options["key.format"] != nil else { throw SQLError("Missing required options are:\n\nkey.format") }
            guard options["value.format"] != nil else { throw SQLError("Missing required options are:\n\nvalue.format") }
            keyColumns = primaryKey
        }
        for key in keyColumns {
            guard physical.contains(key) else {
                throw SQLError(
                    "Could not find the field '\(key)' in the table schema for usage in the key format. A key field must be a regular, physical column. The following columns can be selected in the 'key.fields' option:\n\(physical)"
                )
            }
            guard key.hasPrefix(prefix) else {
                throw SQLError(
                    "All fields in 'key.fields' must be prefixed with '\(prefix)' when option 'key.fields-prefix' is set but field '\(key)' is not prefixed."
                )
            }
        }
        let keyColumns = keyColumns
        var layoutColumns: [InferredTable.Column] = []
        for (name, type) in columns {
            let isKey = keyColumns.contains(name)
            let origin: InferredTable.Origin = isKey ? (include == "ALL" ? .keyAndValue : .key) : .value
            let field = isKey && include != "ALL" ? String(name.dropFirst(prefix.count)) : name
            layoutColumns.append(InferredTable.Column(name: name, type: type, origin: origin, fieldName: field))
        }
        layout = InferredTable(columns: layoutColumns, options: [:], distributionKey: keyColumns)
        let keyFields = keyColumns.map { name in
            TextFormat.Field(name: String(name.dropFirst(prefix.count)), type: columns.first { $0.name == name }!.type)
        }
        let valueFields = layoutColumns.filter { $0.origin != .key }.map { TextFormat.Field(name: $0.fieldName ?? $0.name, type: $0.type) }

        // Formats: `format` (the value's, with options `<format>.…`), or `key.format` and `value.format` (options
        // `key.<format>.…`, `value.<format>.…`).
        let keyFormat: KafkaPartFormat
        let valueFormat: KafkaPartFormat
        if let format = options["format"] {
            guard options["value.format"] == nil else {
                throw SQLError("Options 'format' and 'value.format' cannot both be set: 'format' is the value format.")
            }
            valueFormat = try partFormat(format, prefix: "", fields: valueFields, part: "value")
        } else if let format = options["value.format"] {
            valueFormat = try partFormat(format, prefix: "value.", fields: valueFields, part: "value")
        } else {
            throw SQLError("Could not find required sink format 'value.format'.")
        }
        if let format = options["key.format"] {
            keyFormat = try partFormat(format, prefix: "key.", fields: keyFields, part: "key")
        } else {
            keyFormat = .raw
        }
        self.registryURLs = registryURLs

        // Reading.
        let startup: KafkaOffsetBound
        let bounded: KafkaOffsetBound
        if connector == .kafka {
            startup = try ConfluentTableOptions.bound(
                options, prefix: "scan.startup", fallback: .groupOffsets,
                allowed: ["earliest-offset", "latest-offset", "group-offsets", "timestamp", "specific-offsets"])
            bounded = try ConfluentTableOptions.bound(
                options, prefix: "scan.bounded", fallback: .unbounded, allowed: ["unbounded", "latest-offset", "timestamp", "specific-offsets"])
        } else {
            // An upsert-kafka table is the whole topic, compacted or not: it always reads from the first offset.
            startup = .earliest
            bounded = .unbounded
        }
        var readCommitted = true
        if let level = options["properties.isolation.level"] {
            switch level.lowercased() {
            case "read_committed": readCommitted = true
            case "read_uncommitted": readCommitted = false
            default:
                throw SQLError(
                    "Invalid value for option 'properties.isolation.level': '\(level)'. Supported values are 'read_committed', 'read_uncommitted'.")
            }
        }
        var fallback: KafkaOffsetBound?
        switch options["properties.auto.offset.reset"]?.lowercased() {
        case nil, "none": fallback = nil
        case "earliest": fallback = .earliest
        case "latest": fallback = .latest
        case let other?:
            throw SQLError("Invalid value for option 'properties.auto.offset.reset': '\(other)'. Supported values are 'earliest', 'latest', 'none'.")
        }
        if let commit = options["properties.commit.offsets.on.checkpoint"], commit.lowercased() != "false" {
            throw SQLError.unsupported(
                "'properties.commit.offsets.on.checkpoint' = '\(commit)' is not supported: a statement keeps its offsets in its checkpoints and does not commit them to its group."
            )
        }

        // Writing.
        if let partitioner = options["sink.partitioner"], partitioner.lowercased() != "default" {
            throw SQLError.unsupported(
                "'sink.partitioner' = '\(partitioner)' is not supported: Floe partitions by the key's murmur2 hash as Kafka's producers do ('default')."
            )
        }
        for key in ["sink.delivery-guarantee", "sink.semantic"] {
            guard let guarantee = options[key]?.lowercased().replacingOccurrences(of: "_", with: "-") else { continue }
            guard ["none", "at-least-once", "exactly-once"].contains(guarantee) else {
                throw SQLError("Invalid value for option '\(key)': '\(options[key]!)'. Supported values are 'none', 'at-least-once', 'exactly-once'.")
            }
        }
        if let parallelism = options["sink.parallelism"], parallelism.trimmingSpaces != "1" {
            throw SQLError.unsupported("'sink.parallelism' = '\(parallelism)' is not supported: a statement writes each table with one writer.")
        }
        var prefixID = "floe"
        if let given = options["sink.transactional-id-prefix"] {
            guard !given.isEmpty, given.utf8.count <= 200 else {
                throw SQLError("Option 'sink.transactional-id-prefix' must be 1 to 200 characters, not '\(given)'.")
            }
            prefixID = given
        }
        settings = KafkaTableSettings(
            changelogMode: connector == .upsertKafka ? .upsert : .append, keyFormat: keyFormat, valueFormat: valueFormat, startup: startup,
            bounded: bounded, readCommitted: readCommitted, errorHandling: .fail, groupID: options["properties.group.id"],
            groupFallback: fallback, transactionalIDPrefix: prefixID)

        // Every key is now known or refused.
        let allowed = Self.sharedKeys.union(Self.properties).union(connector == .kafka ? Self.kafkaKeys : []).union(formatKeys)
        let unknown = options.keys.filter { !allowed.contains($0) && !$0.hasPrefix("floe.") }.sorted()
        guard unknown.isEmpty else {
            let connection = unknown.filter { $0.hasPrefix("properties.") }
            let hint =
                connection.isEmpty
                ? ""
                : "\n\nFloe connects with the settings of the Kafka cluster attached to the environment (its credentials and TLS); remove the 'properties.*' keys above."
            throw SQLError(
                "Unsupported options found for '\(identifier)'.\n\nUnsupported options:\n\n\(unknown.joined(separator: "\n"))\(hint)\n\n"
                    + "Supported options:\n\n\(allowed.sorted().joined(separator: "\n"))")
        }
    }

    /// `host:port` entries of a bootstrap list, lowercased, without blanks or a `PLAINTEXT://`-style scheme.
    static func servers(_ list: String) -> [String] {
        list.split(separator: ",").map { entry in
            var server = String(entry).trimmingSpaces.lowercased()
            if let scheme = server.range(of: "://") { server = String(server[scheme.upperBound...]) }
            return server
        }.filter { !$0.isEmpty }
    }
}
