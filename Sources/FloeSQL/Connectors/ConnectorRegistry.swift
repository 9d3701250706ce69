// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// What a table is read from and written to, decided from its options by its connector's factory.
///
/// The analyzer scans it, the planner picks the sink from it, and nothing else reads a table's `connector` option:
/// adding a connector means adding a case here and a factory in ``ConnectorRegistry``.
enum TableConnector: Sendable {
    /// No `connector`: the table's own log, as a Confluent Cloud table is backed by its topic.
    case log
    /// `datagen` or `faker`: rows generated on read.
    case generated(DatagenSpec)
    /// `filesystem`: files under an allowed directory.
    case files(FileSystemSpec)
    /// `blackhole`: a sink that drops every row.
    case blackhole
    /// Apache Flink's `kafka` or `upsert-kafka`: a topic of an attached Kafka cluster (resolved against the clusters
    /// the statement may use when it is read or written, ``KafkaTable/resolve(flink:entry:in:)``).
    case kafka(FlinkKafkaOptions)

    /// Whether a scan of it ends by itself (files, and generators with a `number-of-rows`).
    var isBounded: Bool {
        switch self {
        case .log, .blackhole: false
        case .generated(let spec): spec.rowLimit != nil
        case .files: true
        case .kafka(let options): options.settings.bounded != .unbounded
        }
    }
}

/// One connector: its Flink factory identifier, what it can be used as, and how it makes a ``TableConnector`` from
/// a table's options (checking every option, so an option no connector reads fails instead of being ignored).
struct ConnectorFactory: Sendable {
    /// What a factory needs to resolve a table.
    struct Input {
        var options: [String: String]
        /// The table's physical columns.
        var columns: [(name: String, type: SQLType)]
        var primaryKey: [String]
        /// A stable seed (the table's id) for generated data.
        var seed: String
        var fileSystem: FileSystemAccess
    }

    /// Flink's factory identifier (`datagen`), or nil for the table log (a table with no `connector`).
    let identifier: String?
    let isSource: Bool
    let isSink: Bool
    /// Whether its rows carry the system column `$rowtime` (a log's append time, a generated row's creation time).
    let hasRowtime: Bool
    /// Whether it generates its rows (and so can never be written).
    let isGenerated: Bool
    /// Whether, as a sink, it takes updates and deletes whatever the table's changelog mode (a blackhole drops them).
    let takesAnyChanges: Bool
    let make: @Sendable (Input) throws(SQLError) -> TableConnector
}

/// The connectors Floe implements, by Flink factory identifier: the one place a table's `connector` option is read.
enum ConnectorRegistry {
    /// A log table reads every row it holds, from the first, and follows appends: of Confluent's table options it
    /// takes `changelog.mode`, and the startup and bounded modes only with the values that say what it does. Anything
    /// else (formats, `kafka.*`, other modes) is a Kafka table's, and fails naming it rather than being ignored.
    /// `floe.*` options are Floe's own bookkeeping.
    static let tableLog = ConnectorFactory(
        identifier: nil, isSource: true, isSink: true, hasRowtime: true, isGenerated: false, takesAnyChanges: false,
        make: { input throws(SQLError) in
            let honoured = ["scan.startup.mode": "earliest-offset", "scan.bounded.mode": "unbounded"]
            for (key, value) in honoured {
                if let given = input.options[key], given.lowercased() != value {
                    throw SQLError.unsupported(
                        "A table without a 'connector' (backed by the environment's own log) reads from its first row and follows "
                            + "appends: '\(key)' = '\(given)' is not supported for it, only '\(value)'. Other modes need a Kafka table.")
                }
            }
            let supported = ["changelog.mode"] + honoured.keys.sorted()
            let unknown = input.options.keys.filter { !supported.contains($0) && !$0.hasPrefix("floe.") }.sorted()
            guard unknown.isEmpty else {
                throw SQLError(
                    "Unsupported options found for a table without a 'connector' (backed by the environment's own log).\n\n"
                        + "Unsupported options:\n\n\(unknown.joined(separator: "\n"))\n\nSupported options:\n\n\(supported.joined(separator: "\n"))")
            }
            return .log
        })

    /// The connectors a table may name, in the order Flink lists factory identifiers.
    static let factories: [ConnectorFactory] = [
        ConnectorFactory(
            identifier: "blackhole", isSource: false, isSink: true, hasRowtime: false, isGenerated: false, takesAnyChanges: true,
            make: { input throws(SQLError) in
                let unknown = input.options.keys.filter { $0 != "connector" && !$0.hasPrefix("floe.") }.sorted()
                guard unknown.isEmpty else {
                    throw SQLError("Unsupported options found for 'blackhole'.\n\nUnsupported options:\n\n\(unknown.joined(separator: "\n"))")
                }
                return .blackhole
            }),
        ConnectorFactory(
            identifier: "datagen", isSource: true, isSink: false, hasRowtime: false, isGenerated: true, takesAnyChanges: false,
            make: { input throws(SQLError) in .generated(try DatagenSpec.datagen(options: input.options, columns: input.columns, seed: input.seed)) }),
        ConnectorFactory(
            identifier: "faker", isSource: true, isSink: false, hasRowtime: true, isGenerated: true, takesAnyChanges: false,
            make: { input throws(SQLError) in .generated(try DatagenSpec.faker(options: input.options, columns: input.columns, seed: input.seed)) }),
        ConnectorFactory(
            identifier: "filesystem", isSource: true, isSink: true, hasRowtime: false, isGenerated: false, takesAnyChanges: false,
            make: { input throws(SQLError) in
                .files(try FileSystemSpec.parse(options: input.options, columns: input.columns, access: input.fileSystem))
            }),
        ConnectorFactory(
            identifier: "kafka", isSource: true, isSink: true, hasRowtime: true, isGenerated: false, takesAnyChanges: false,
            make: { input throws(SQLError) in
                .kafka(try FlinkKafkaOptions(options: input.options, columns: input.columns, primaryKey: input.primaryKey))
            }),
        ConnectorFactory(
            identifier: "upsert-kafka", isSource: true, isSink: true, hasRowtime: true, isGenerated: false, takesAnyChanges: false,
            make: { input throws(SQLError) in
                .kafka(try FlinkKafkaOptions(options: input.options, columns: input.columns, primaryKey: input.primaryKey))
            }),
    ]

    /// The factory of a table with `options`.
    /// - Throws: a `connector` that names no connector Floe implements, in Flink's words.
    static func factory(for options: [String: String]) throws(SQLError) -> ConnectorFactory {
        guard let value = options["connector"] else { return tableLog }
        let identifier = value.lowercased()
        if let factory = factories.first(where: { $0.identifier == identifier }) { return factory }
        let available = "Available factory identifiers are:\n\n" + factories.compactMap(\.identifier).joined(separator: "\n")
        if identifier == "confluent" {
            throw SQLError(
                "Connector 'confluent' is the connector of the tables of a Kafka cluster's database (a topic is a table there); "
                    + "in other databases use 'kafka' or 'upsert-kafka' with 'properties.bootstrap.servers' of an attached cluster.\n\n\(available)")
        }
        throw SQLError(
            "Could not find any factory for identifier '\(value)' that implements "
                + "'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.\n\n\(available)")
    }

    /// What `table` is read from and written to, every option checked.
    static func connector(of table: TableEntry, fileSystem: FileSystemAccess) throws(SQLError) -> (ConnectorFactory, TableConnector) {
        try resolve(
            options: table.options, columns: table.physicalColumns.map { ($0.name, $0.type) }, primaryKey: table.primaryKey, seed: table.id,
            fileSystem: fileSystem)
    }

    /// Resolves options and physical columns (CREATE and ALTER TABLE check a table this way before storing it).
    static func resolve(
        options: [String: String], columns: [(name: String, type: SQLType)], primaryKey: [String] = [], seed: String,
        fileSystem: FileSystemAccess
    ) throws(SQLError) -> (ConnectorFactory, TableConnector) {
        let factory = try factory(for: options)
        let connector = try factory.make(
            ConnectorFactory.Input(options: options, columns: columns, primaryKey: primaryKey, seed: seed, fileSystem: fileSystem))
        return (factory, connector)
    }
}

extension ConnectorFactory {
    /// Flink's message for reading a sink-only connector.
    func requireSource() throws(SQLError) {
        guard isSource else {
            throw SQLError("Connector '\(identifier ?? "")' can only be used as a sink. It cannot be used as a source.")
        }
    }
}
