// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSchemas

/// A topic of an attached Kafka cluster as a table (kafka-tables.md §1): its physical columns come from the latest
/// schemas of the `<topic>-key` and `<topic>-value` subjects, or are the raw `key`/`val` bytes without them; what DDL
/// added (computed and metadata columns, a watermark, a primary key, options) is kept by the catalog per cluster and
/// topic (``CatalogSnapshot/kafkaTables``), Confluent's "regional metastore".
struct KafkaTable: Sendable {
    var database: KafkaDatabase
    var topic: KafkaTopicInfo
    /// The table as the rest of the engine sees it: columns, key, watermark, distribution and every option as SHOW
    /// CREATE TABLE prints it (`connector` = `confluent`).
    var entry: TableEntry
    /// What its source and sink do.
    var settings: KafkaTableSettings
    /// Where each physical column comes from (key, value or both).
    var layout: InferredTable
    /// The columns the record key holds, in the key's field order.
    var keyColumns: [String]
    /// The latest registered key and value schemas (nil: the part is raw bytes).
    var keySchema: RegisteredSchema?
    var valueSchema: RegisteredSchema?

    /// The columns the record key holds, in its field order.
    var keyPart: [InferredTable.Column] { keyColumns.compactMap { name in layout.columns.first { $0.name == name } } }
    /// The columns the record value holds, in column order.
    var valuePart: [InferredTable.Column] { layout.columns.filter { $0.origin != .key } }

    static func keySubject(_ topic: String) -> String { "\(topic)-key" }
    /// The option CREATE TABLE leaves in the overrides of the tables it makes (options `floe.*` are never shown).
    static let createdByDDL = "floe.created-by-ddl"

    /// `layout` with the raw parts of a table CREATE TABLE declared: its declared key and value columns (or no key).
    static func declaredRawParts(_ layout: InferredTable, declared: TableEntry, hasKeySchema: Bool, hasValueSchema: Bool) -> InferredTable {
        var layout = layout
        let keyNames = declared.primaryKey.isEmpty ? declared.distributedBy : declared.primaryKey
        let physical = declared.physicalColumns
        if !hasKeySchema {
            layout.columns.removeAll { $0.origin == .key }
            let keys = keyNames.compactMap { name in physical.first { $0.name == name } }
            layout.columns.insert(contentsOf: keys.map { InferredTable.Column(name: $0.name, type: $0.type, origin: .key, fieldName: nil) }, at: 0)
            layout.distributionKey = keys.map(\.name)
            if keys.isEmpty { layout.options["key.format"] = nil }
        }
        if !hasValueSchema {
            layout.columns.removeAll { $0.origin == .value }
            let values = physical.filter { !keyNames.contains($0.name) }
            layout.columns += values.map { InferredTable.Column(name: $0.name, type: $0.type, origin: .value, fieldName: nil) }
        }
        return layout
    }
    static func valueSubject(_ topic: String) -> String { "\(topic)-value" }

    /// The table `topic` is, with the DDL overrides the catalog keeps for it.
    static func resolve(_ topic: KafkaTopicInfo, in database: KafkaDatabase, overrides: TableEntry?) throws(SQLError) -> KafkaTable {
        let registry = database.registry.map(RegistryAccess.init)
        let keySchema = try registry?.latest(keySubject(topic.name))
        let valueSchema = try registry?.latest(valueSubject(topic.name))
        let parsedKey = try keySchema.map(parse)
        let parsedValue = try valueSchema.map(parse)
        var layout: InferredTable
        do {
            layout = try RegistryTableInference.infer(key: parsedKey, value: parsedValue)
        } catch {
            throw SQLError.runtime("Topic '\(topic.name)' of Kafka cluster '\(database.name)' cannot be a table: \(error.message)")
        }
        if let overrides, overrides.options[Self.createdByDDL] != nil {
            // A table CREATE TABLE made: its raw parts are the columns it declared (a raw part registers no schema),
            // and a table declared without a key has none.
            layout = Self.declaredRawParts(layout, declared: overrides, hasKeySchema: keySchema != nil, hasValueSchema: valueSchema != nil)
        }
        var columns = layout.columns.map { ColumnEntry(name: $0.name, type: $0.type) }
        for column in overrides?.columns ?? [] where !column.isPhysical { columns.append(column) }
        for index in columns.indices {
            columns[index].comment = overrides?.columns.first { $0.name == columns[index].name }?.comment
        }
        let settings = TopicSettings(kafkaConfigs: topic.configs)
        // A compacted topic with a key and no declared changelog is an upsert table keyed by its key (CT).
        let inferredUpsert =
            (overrides?.primaryKey.isEmpty ?? true) && overrides?.options["changelog.mode"] == nil && settings.cleanupPolicy == .compact
            && !layout.distributionKey.isEmpty && layout.options["value.fields-include"] == nil
        let declared = inferredUpsert ? layout.distributionKey : overrides?.primaryKey ?? []
        let primaryKey = declared.filter { key in columns.contains { $0.name == key && $0.isPhysical } }
        for key in primaryKey {
            if let index = columns.firstIndex(where: { $0.name == key }) { columns[index].type = columns[index].type.notNull }
        }
        // Options: the topic's settings as `kafka.*`, the formats the schemas imply, what DDL set, then the defaults.
        var given = settings.tableOptions
        for (key, value) in layout.options { given[key] = value }
        for (key, value) in overrides?.options ?? [:] where !key.hasPrefix("floe.") && key != "connector" { given[key] = value }
        let options = try ConfluentTableOptions(given, hasPrimaryKey: !primaryKey.isEmpty)
        var shown = given
        shown["connector"] = "confluent"
        shown["changelog.mode"] = options.changelogMode.rawValue
        shown["scan.startup.mode"] = shown["scan.startup.mode"] ?? "earliest-offset"
        shown["scan.bounded.mode"] = shown["scan.bounded.mode"] ?? "unbounded"
        shown["value.format"] = shown["value.format"] ?? options.valueFormat.rawValue
        if layout.distributionKey.isEmpty { shown["key.format"] = nil }
        let entry = TableEntry(
            id: "\(database.id)/\(topic.name)", name: topic.name, columns: columns, primaryKey: primaryKey,
            watermarkColumn: overrides?.watermarkColumn, watermarkExpression: overrides?.watermarkExpression,
            distributedBy: layout.distributionKey, bucketCount: topic.partitions, comment: overrides?.comment, options: shown)
        return KafkaTable(
            database: database, topic: topic, entry: entry, settings: options.settings, layout: layout,
            keyColumns: layout.columns.filter { $0.origin != .value }.map(\.name), keySchema: keySchema, valueSchema: valueSchema)
    }

    /// The table an Apache Flink `kafka` or `upsert-kafka` table `entry` (of any database) is: a topic of the attached
    /// cluster its `properties.bootstrap.servers` name, among `databases` (the clusters the statement may use).
    ///
    /// Its columns are the ones declared; `avro-confluent` parts are read with each record's writer schema resolved
    /// to them, and written with their own schema, registered under the part's subject by the sink.
    static func resolve(flink options: FlinkKafkaOptions, entry: TableEntry, in databases: [KafkaDatabase]) throws(SQLError) -> KafkaTable {
        let wanted = Set(options.bootstrapServers)
        guard let database = databases.first(where: { !wanted.isDisjoint(with: $0.bootstrapServers) }) else {
            throw SQLError(
                "'properties.bootstrap.servers' = '\(options.bootstrapServers.joined(separator: ","))' of table '\(entry.name)' is not a Kafka cluster "
                    + "attached to an environment this statement may use. Attach it first (`floe kafka cluster create … --bootstrap …`); "
                    + "Floe connects only to attached clusters, with their credentials.")
        }
        for (option, url) in options.registryURLs where !database.namesRegistry(url) {
            throw SQLError(
                "'\(option)' = '\(url)' of table '\(entry.name)' is not the Schema Registry of the environment of Kafka cluster "
                    + "'\(database.name)'\(database.registryAddresses.isEmpty ? " (it has none)" : ", \(database.registryAddresses.joined(separator: " or "))")."
            )
        }
        guard let topic = try database.cluster.describeTopic(options.topic) else {
            throw SQLError.runtime(
                "Topic '\(options.topic)' of table '\(entry.name)' does not exist in Kafka cluster '\(database.name)'. Create it first, "
                    + "with a Kafka client or `CREATE TABLE` in the cluster's database.")
        }
        return KafkaTable(
            database: database, topic: topic, entry: entry, settings: options.settings, layout: options.layout, keyColumns: options.keyColumns,
            keySchema: nil, valueSchema: nil)
    }

    /// A registered schema parsed for the formats.
    static func parse(_ schema: RegisteredSchema) throws(SQLError) -> TopicSchema {
        switch schema.type {
        case .avro:
            do { return .avro(try AvroSchema(parsing: schema.text)) } catch {
                throw SQLError.runtime("Schema \(schema.id) of subject '\(schema.subject)' is not valid Avro: \(error.message)")
            }
        case .json:
            do { return .json(try JSONSchemaDocument(parsing: schema.text)) } catch {
                throw SQLError.runtime("Schema \(schema.id) of subject '\(schema.subject)' is not a valid JSON Schema: \(error.description)")
            }
        case .protobuf:
            throw SQLError.unsupported("Subject '\(schema.subject)' holds a Protobuf schema; the 'proto-registry' format is not supported yet.")
        }
    }
}
