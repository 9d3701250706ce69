// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas

/// DDL in a database that is an attached Kafka cluster: a table is a topic with its `-key` and `-value` subjects
/// (kafka-tables.md §1), so CREATE TABLE creates them and DROP TABLE deletes them.
extension StatementPlanner {
    /// The default partition count of a new topic (Confluent Cloud's).
    static let defaultPartitions = 6

    /// What CREATE TABLE makes in a Kafka database, checked before anything is made.
    struct KafkaTableCreation: Sendable {
        /// What the catalog keeps besides the topic and its schemas.
        var overrides: TableEntry
        var partitions: Int
        var configs: [String: String]
        var keySchema: SchemaDefinition?
        var valueSchema: SchemaDefinition?
        var options: ConfluentTableOptions
        /// Where each physical column goes, in column order.
        var layout: InferredTable

        /// Creates the topic and registers its schemas (a registry refusal deletes the topic again), then records the
        /// overrides. Returns false when the topic exists and `ifExists` says to leave it.
        func make(
            in kafka: KafkaDatabase, catalog: CatalogStore, path: ObjectPath, ifExists: (KafkaTopicInfo) throws(SQLError) -> Bool
        )
            throws(SQLError)
        {
            let cluster = kafka.cluster
            let topicName = path.name
            if catalog.snapshot.kafkaViews?[kafka.id]?[topicName] != nil { throw StatementPlanner.exists(path) }
            if let existing = try cluster.describeTopic(topicName) {
                if try ifExists(existing) { return }
                throw StatementPlanner.exists(path)
            }
            try cluster.createTopic(topicName, partitions: partitions, configs: configs)
            let registry = kafka.registry.map(RegistryAccess.init)
            do throws(SQLError) {
                if let keySchema, let registry {
                    let subject = KafkaTable.keySubject(topicName)
                    // Confluent Cloud requires a key subject to be FULL or FULL_TRANSITIVE; one set before is kept.
                    if try registry.compatibility(subject) == nil { try registry.setCompatibility(.fullTransitive, subject) }
                    _ = try registry.register(subject, keySchema)
                }
                if let valueSchema, let registry { _ = try registry.register(KafkaTable.valueSubject(topicName), valueSchema) }
            } catch {
                // The topic must not outlive a table that could not be created.
                try? cluster.deleteTopic(topicName)
                throw error
            }
            let kept = overrides
            try catalog.update { snapshot throws(SQLError) in
                var tables = snapshot.kafkaTables ?? [:]
                tables[kafka.id, default: [:]][topicName] = kept
                snapshot.kafkaTables = tables
            }
            if options.errorHandling == .log {
                try DeadLetterTable.ensure(options.errorLogTarget, for: topicName, in: kafka, catalog: catalog)
            }
        }
    }

    /// CREATE TABLE in a Kafka database: the topic (`INTO n BUCKETS`, default 6, with the `kafka.*` settings), the key
    /// subject when the table has a key (primary or distribution key), the value subject, and what the catalog keeps
    /// besides (computed and metadata columns, the watermark, the key, the options given).
    func createKafkaTable(_ create: CreateTable, path: ObjectPath, in kafka: KafkaDatabase) throws(SQLError) -> any PreparedStatement {
        if create.asQuery != nil { return try createKafkaTableAs(create, path: path, in: kafka) }
        guard create.like == nil else { throw SQLError.unsupported("CREATE TABLE … LIKE is not supported in a Kafka cluster yet.") }
        let columns = try columnEntries(create.columns, scopeBase: [])
        let creation = try kafkaTableCreation(create, path: path, columns: columns, in: kafka)
        let catalog = services.catalog
        let ifNotExists = create.ifNotExists
        return ddl("CREATE_TABLE") { () throws(SQLError) in
            try creation.make(in: kafka, catalog: catalog, path: path) { _ in ifNotExists }
        }
    }

    /// Checks a new Kafka table and works out its topic, schemas and overrides.
    func kafkaTableCreation(
        _ create: CreateTable, path: ObjectPath, columns: [ColumnEntry], in kafka: KafkaDatabase
    ) throws(SQLError)
        -> KafkaTableCreation
    {
        guard !columns.isEmpty else { throw SQLError("A table needs at least one column.") }
        try KafkaScanSpec.checkMetadataColumns(columns, table: path.display)
        var table = try tableEntry(create, path: path, columns: columns, checkConnector: false)
        if let connector = table.options["connector"], connector.lowercased() != "confluent" {
            throw SQLError(
                "A table of Kafka cluster '\(kafka.name)' is a topic of it ('connector' = 'confluent'); '\(connector)' tables belong in a database of their own."
            )
        }
        table.options["connector"] = nil
        let options = try ConfluentTableOptions(table.options, hasPrimaryKey: !table.primaryKey.isEmpty)
        if options.errorHandling == .log, options.errorLogTarget == path.name {
            throw SQLError("'error-handling.log.target' of table '\(path.name)' names the table itself: a dead-letter table is another table.")
        }
        if let count = options.partitions, let buckets = create.bucketCount, count != buckets {
            throw SQLError("'kafka.partitions' = '\(count)' contradicts INTO \(buckets) BUCKETS.")
        }
        let partitions = create.bucketCount ?? options.partitions ?? Self.defaultPartitions
        guard (1...TopicSettings.maxPartitions).contains(partitions) else {
            throw SQLError("A topic has from 1 to \(TopicSettings.maxPartitions) partitions, not \(partitions).")
        }
        // The key: the primary key, else the distribution key; an upsert table's bucket key must be its primary key.
        if !table.primaryKey.isEmpty, !create.distributedBy.isEmpty, create.distributedBy != table.primaryKey {
            throw SQLError("The bucket key of a table with a primary key must be its primary key (\(table.primaryKey.joined(separator: ", "))).")
        }
        let keyNames = table.primaryKey.isEmpty ? create.distributedBy : table.primaryKey
        let physical = table.physicalColumns
        let keyColumns = keyNames.compactMap { name in physical.first { $0.name == name } }
        let valueColumns =
            options.valueFieldsInclude == .all ? physical : physical.filter { column in !keyNames.contains(column.name) }
        guard !valueColumns.isEmpty else {
            throw SQLError("Every column of '\(path.name)' is a key column: a Kafka table needs a value column, or 'value.fields-include' = 'all'.")
        }
        let keyPart = try keyColumns.isEmpty ? nil : Self.subjectSchema(keyColumns, format: options.keyFormat, table: path.name, isKey: true)
        let valuePart = try Self.subjectSchema(valueColumns, format: options.valueFormat, table: path.name, isKey: false)
        if kafka.registry == nil, keyPart != nil || valuePart != nil {
            throw SQLError("The environment of Kafka cluster '\(kafka.name)' has no Schema Registry, so its tables can only be 'raw'.")
        }
        // The catalog keeps what the topic and its schemas do not say.
        var overrides = table
        overrides.id = "\(kafka.id)/\(path.name)"
        overrides.bucketCount = nil
        overrides.distributedBy = keyNames
        overrides.options[KafkaTable.createdByDDL] = "true"
        let layout = InferredTable(
            columns: physical.map { column in
                let origin: InferredTable.Origin =
                    keyNames.contains(column.name) ? (options.valueFieldsInclude == .all ? .keyAndValue : .key) : .value
                return InferredTable.Column(name: column.name, type: column.type, origin: origin, fieldName: column.name)
            }, options: [:], distributionKey: keyNames)
        return KafkaTableCreation(
            overrides: overrides, partitions: partitions, configs: options.topic.kafkaConfigs, keySchema: keyPart, valueSchema: valuePart,
            options: options, layout: layout)
    }

    /// CREATE TABLE … AS SELECT in a Kafka database (how dbt and Confluent Cloud users make tables): the table's columns
    /// are the declared ones and then the query's, by name; the topic and schemas are made when the statement starts
    /// (a re-run after a restart finds the topic it made itself), then the query's rows flow into it exactly once.
    func createKafkaTableAs(_ create: CreateTable, path: ObjectPath, in kafka: KafkaDatabase) throws(SQLError) -> any PreparedStatement {
        guard create.like == nil else { throw SQLError("CREATE TABLE AS cannot also be CREATE TABLE … LIKE.") }
        _ = try resolver.path(create.name, for: [.manage, .write])
        let source = try analyzer.analyze(create.asQuery!)
        var columns = try columnEntries(create.columns, scopeBase: [])
        for field in source.fields where !field.isSystem && !columns.contains(where: { $0.name == field.name }) {
            columns.append(ColumnEntry(name: field.name, type: field.type))
        }
        var creation = try kafkaTableCreation(create, path: path, columns: columns, in: kafka)
        let key = writerKey()
        creation.overrides.options["floe.created-by"] = key
        let entry = creation.overrides
        try requireAppendOnly(source, into: entry, sink: path, isKafka: true)
        // The query's columns map by name onto the table's physical columns.
        let scope = Scope(fields: source.fields)
        var expressions: [BoundExpression] = []
        let physical = entry.physicalColumns
        for (position, column) in physical.enumerated() {
            if let index = try? scope.resolve(QualifiedName([column.name])) {
                expressions.append(
                    try assignment(
                        BoundExpression(.column(index), source.fields[index].type), to: column, at: position, sink: path,
                        query: source.fields, sinkColumns: physical))
            } else {
                expressions.append(.literal(.null, column.type.withNullable(true)))
            }
        }
        var plan = source
        plan.node = .project(source.node, expressions)
        let table = KafkaTable(
            database: kafka, topic: KafkaTopicInfo(name: path.name, partitions: creation.partitions), entry: entry,
            settings: creation.options.settings, layout: creation.layout, keyColumns: creation.layout.distributionKey, keySchema: nil,
            valueSchema: nil)
        let catalog = services.catalog
        let ifNotExists = create.ifNotExists
        let made = creation
        return InsertStatement(
            traits: StatementTraits(sqlKind: "CREATE_TABLE_AS", isBounded: source.isBounded, isAppendOnly: true), plan: plan,
            target: .kafka(table, keys: try SinkTarget.keyPositions(entry)), session: session, caster: caster, isSnapshot: isSnapshot,
            services: services, writerKey: key,
            before: { () throws(SQLError) in
                try made.make(in: kafka, catalog: catalog, path: path) { _ throws(SQLError) in
                    // A re-run after a restart finds the table it made itself.
                    ifNotExists || catalog.snapshot.kafkaTables?[kafka.id]?[path.name]?.options["floe.created-by"] == key
                }
            })
    }

    /// The schema a key or value part registers, nil for `raw` (which registers nothing and holds one column).
    static func subjectSchema(
        _ columns: [ColumnEntry], format: ConfluentTableOptions.Format, table: String, isKey: Bool
    ) throws(SQLError) -> SchemaDefinition? {
        let part = isKey ? "key" : "value"
        let fields = columns.map { SQLType.RowField($0.name, $0.type) }
        do {
            switch format {
            case .raw:
                guard columns.count == 1, columns[0].type.isBinary || columns[0].type.isCharacter else {
                    throw SQLError(
                        "A 'raw' \(part) is one BYTES or STRING column, but the \(part) of '\(table)' is \(columns.map { "\($0.name) \($0.type.sql)" }.joined(separator: ", "))."
                    )
                }
                return nil
            case .avroRegistry:
                let schema =
                    isKey
                    ? try AvroSchemaGenerator.keySchema(table: table, columns: fields)
                    : try AvroSchemaGenerator.valueSchema(table: table, columns: fields)
                return SchemaDefinition(type: .avro, text: schema.serializedString)
            case .jsonRegistry:
                let schema =
                    isKey
                    ? try JSONSchemaMapping.keySchema(table: table, columns: fields)
                    : try JSONSchemaMapping.valueSchema(table: table, columns: fields)
                return SchemaDefinition(type: .json, text: schema.serializedString)
            }
        } catch let error as SQLError {
            throw error
        } catch {
            throw SQLError("The \(part) of '\(table)' has no \(format.rawValue) schema: \(error)")
        }
    }

    /// DROP TABLE in a Kafka database: deletes the topic, soft-deletes its `-key` and `-value` subjects (they can be
    /// restored, and do not block a new table of the same name), and forgets what the catalog kept for it.
    func dropKafkaTable(_ name: QualifiedName, path: ObjectPath, in kafka: KafkaDatabase, ifExists: Bool) throws(SQLError) -> any PreparedStatement {
        let cluster = kafka.cluster
        let registry = kafka.registry.map(RegistryAccess.init)
        let catalog = services.catalog
        let topicName = path.name
        let kafkaID = kafka.id
        return ddl("DROP_TABLE") { () throws(SQLError) in
            guard let topic = try cluster.describeTopic(topicName), topic.isTable else {
                if ifExists { return }
                throw SQLError("Table (or view) '\(name.parts.joined(separator: "."))' does not exist or you do not have access to it.")
            }
            try cluster.deleteTopic(topic.name)
            for subject in [KafkaTable.keySubject(topicName), KafkaTable.valueSubject(topicName)] {
                if let registry, try registry.latest(subject) != nil { try registry.deleteSubject(subject) }
            }
            try catalog.update { snapshot throws(SQLError) in
                guard snapshot.kafkaTables?[kafkaID]?[topicName] != nil else { return }
                snapshot.kafkaTables![kafkaID]![topicName] = nil
            }
        }
    }

    /// ALTER TABLE of a Kafka table: metadata and computed columns may be added and options set or reset (Confluent's
    /// rules: physical columns change only by evolving the registered schemas). `kafka.*` options reconfigure the
    /// topic itself; the others are kept by the catalog.
    func alterKafkaTable(_ name: QualifiedName, _ action: AlterTableAction, in kafka: KafkaDatabase) throws(SQLError) -> any PreparedStatement {
        guard case .kafkaTopic(_, let table) = try resolver.object(name) else {
            throw SQLError("Table (or view) '\(name.parts.joined(separator: "."))' does not exist or you do not have access to it.")
        }
        let topicName = table.topic.name
        var overrides =
            services.catalog.snapshot.kafkaOverrides(cluster: kafka.id, topic: topicName)
            ?? TableEntry(
                id: table.entry.id, name: topicName, columns: [], primaryKey: [], watermarkColumn: nil, watermarkExpression: nil, distributedBy: [],
                bucketCount: nil, comment: nil, options: [:])
        var topicOptions: [String: String?] = [:]
        switch action {
        case .addColumns(let definitions):
            let added = try columnEntries(definitions, scopeBase: table.entry.columns)
            if let physical = added.first(where: \.isPhysical) {
                throw SQLError(
                    "Column '\(physical.name)' would be a physical column: those of a Kafka table come from its registered schemas and change by evolving them. Add a computed or metadata column instead."
                )
            }
            try KafkaScanSpec.checkMetadataColumns(added, table: "`\(kafka.name)`.`\(topicName)`")
            overrides.columns += added
        case .setOptions(let options):
            for (key, value) in options {
                if key.hasPrefix("kafka.") { topicOptions[key] = .some(value) } else { overrides.options[key] = value }
            }
        case .resetOptions(let keys):
            for key in keys {
                if key.hasPrefix("kafka.") { topicOptions[key] = .some(nil) } else { overrides.options[key] = nil }
            }
        case .modifyColumns, .renameColumn, .dropColumns, .rename:
            throw SQLError.unsupported("This ALTER TABLE action is not supported for Kafka tables.")
        }
        // The new settings of the topic: its current ones with the changed `kafka.*` options (reset: the default).
        var settingOptions = TopicSettings(kafkaConfigs: table.topic.configs).tableOptions
        for (key, value) in topicOptions { settingOptions[key] = value ?? TopicSettings().tableOptions[key] }
        let settings = try TopicSettings(settingOptions)
        if topicOptions.keys.contains("kafka.partitions") {
            throw SQLError.unsupported("The partition count of an existing topic cannot be changed with 'kafka.partitions'.")
        }
        // Checked as the table will read: options, columns and key.
        var topic = table.topic
        if !topicOptions.isEmpty { topic.configs = settings.kafkaConfigs }
        let altered = try KafkaTable.resolve(topic, in: kafka, overrides: overrides)
        let deadLetters = altered.settings.deadLetterTarget
        if let deadLetters, deadLetters == topicName {
            throw SQLError("'error-handling.log.target' of table '\(topicName)' names the table itself: a dead-letter table is another table.")
        }
        let cluster = kafka.cluster
        let catalog = services.catalog
        let kept = overrides
        let kafkaID = kafka.id
        let configs = topicOptions.isEmpty ? nil : settings.kafkaConfigs
        return ddl("ALTER_TABLE") { () throws(SQLError) in
            if let configs { try cluster.alterTopicConfigs(topicName, configs) }
            // As on Confluent Cloud, setting the mode makes the dead-letter table now.
            if let deadLetters { try DeadLetterTable.ensure(deadLetters, for: topicName, in: kafka, catalog: catalog) }
            try catalog.update { snapshot throws(SQLError) in
                var tables = snapshot.kafkaTables ?? [:]
                tables[kafkaID, default: [:]][topicName] = kept
                snapshot.kafkaTables = tables
            }
        }
    }
}
