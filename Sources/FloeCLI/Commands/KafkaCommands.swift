// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `floe kafka`: attached Kafka clusters (`cmk/v2`) and their topics (`kafka/v3`), as `confluent kafka` names them.
struct KafkaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka", abstract: "Manage attached Kafka clusters and list their topics.",
        subcommands: [KafkaClusterCommand.self, KafkaTopicCommand.self])
}

/// `floe kafka cluster`.
struct KafkaClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Manage Kafka clusters (Floe attaches existing brokers).",
        subcommands: [Create.self, List.self, Describe.self, Update.self, Delete.self, Use.self])

    /// `confluent kafka cluster --type` values and their `spec.config.kind`.
    static let types: [String: String] = [
        "basic": "Basic", "standard": "Standard", "enterprise": "Enterprise", "freight": "Freight", "dedicated": "Dedicated",
    ]

    /// `--availability` values and their `spec.availability`.
    static let availabilities: [String: String] = ["single-zone": "SINGLE_ZONE", "multi-zone": "MULTI_ZONE", "low": "LOW", "high": "HIGH"]

    /// The fields both `list` and `describe` print, as the confluent CLI computes them (`UP` for PROVISIONED,
    /// lower-case cloud and availability, the type in capitals).
    static func common(_ cluster: JSONValue, current: String?) -> OutputRecord {
        let id = cluster["id"]?.stringValue ?? ""
        let phase = cluster.value(at: "status", "phase")?.stringValue ?? ""
        let availability = cluster.value(at: "spec", "availability")?.stringValue ?? ""
        return [
            OutputField("is_current", "Current", .bool(id == current)),
            OutputField("id", "ID", id),
            OutputField("name", "Name", cluster.value(at: "spec", "display_name")?.stringValue),
            OutputField("type", "Type", cluster.value(at: "spec", "config", "kind")?.stringValue?.uppercased()),
            OutputField("cloud", "Cloud", cluster.value(at: "spec", "cloud")?.stringValue?.lowercased()),
            OutputField("region", "Region", cluster.value(at: "spec", "region")?.stringValue),
            OutputField("availability", "Availability", availability.lowercased().replacingOccurrences(of: "_", with: "-")),
            OutputField("status", "Status", phase == "PROVISIONED" ? "UP" : phase),
        ]
    }

    static let listColumns = [
        ("is_current", "Current"), ("id", "ID"), ("name", "Name"), ("type", "Type"), ("cloud", "Cloud"), ("region", "Region"),
        ("availability", "Availability"), ("status", "Status"),
    ]

    /// What `describe`, `create` and `update` print: the list fields with the endpoints, Floe's reason for a FAILED
    /// cluster, the size of a Dedicated one and, when known, the topic count.
    static func detail(_ cluster: JSONValue, current: String?, topicCount: Int? = nil) -> OutputRecord {
        var record = common(cluster, current: current)
        if let cku = cluster.value(at: "spec", "config", "cku") { record.insert(OutputField("cluster_size", "Cluster Size", cku), at: 4) }
        record.append(OutputField("endpoint", "Endpoint", cluster.value(at: "spec", "kafka_bootstrap_endpoint")?.stringValue))
        record.append(OutputField("rest_endpoint", "REST Endpoint", cluster.value(at: "spec", "http_endpoint")?.stringValue))
        if let detail = cluster.value(at: "status", "detail")?.stringValue, !detail.isEmpty {
            record.append(OutputField("status_detail", "Status Detail", detail))
        }
        if let topicCount { record.append(OutputField("topic_count", "Topic Count", .int(Int64(topicCount)))) }
        return record
    }

    static func clusterPath(_ id: String, environment: String) -> (String, [(String, String)]) {
        ("/cmk/v2/clusters/\(id.pathEncoded)", [("environment", environment)])
    }

    /// The cluster a command acts on: the argument, else the one chosen with `floe kafka cluster use` for the environment.
    static func clusterID(_ argument: String?, environment: String, _ session: CLISession) throws -> String {
        if let argument { return argument }
        if let id = session.context.kafkaClusterID(environment: environment) { return id }
        throw CLIError.usage("No Kafka cluster is selected. Give its id (lkc-…) or run `floe kafka cluster use <id>`.")
    }

    /// The topic count for `describe`, or nil when the topics cannot be read (an unreachable cluster has none to show).
    static func topicCount(_ cluster: JSONValue, _ session: CLISession) async -> Int? {
        guard cluster.value(at: "status", "phase")?.stringValue == "PROVISIONED", let id = cluster["id"]?.stringValue else { return nil }
        return try? await session.call("GET", "/kafka/v3/clusters/\(id.pathEncoded)/topics")["data"]?.arrayValue?.count
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attach a Kafka cluster.",
            discussion: """
                Floe runs no brokers: a cluster attaches existing ones by their bootstrap servers, which Floe checks with a \
                Metadata request (the cluster is PROVISIONING until then, UP or FAILED after). The SASL password comes from \
                --password, else FLOE_KAFKA_PASSWORD, else a prompt (never echoed), else a line of standard input.
                """)
        @Argument(help: "Name of the Kafka cluster.") var name: String
        @OptionGroup var region: RegionOptions
        @Option(help: "Availability: single-zone, multi-zone, low or high.") var availability = "single-zone"
        @Option(help: "Type: basic, standard, enterprise, freight or dedicated.") var type = "basic"
        @Option(help: "Confluent Kafka Units (dedicated only).") var cku: Int?
        @Option(name: .customLong("max-ecku"), help: "Maximum elastic CKUs (not for dedicated).") var maxECKU: Int?
        @OptionGroup var connectionOptions: KafkaConnectionOptions
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard KafkaClusterCommand.availabilities[availability] != nil else {
                throw ValidationError("invalid value \"\(availability)\" for `--availability` flag: use single-zone, multi-zone, low or high.")
            }
            guard let kind = KafkaClusterCommand.types[type.lowercased()] else {
                throw ValidationError("invalid value \"\(type)\" for `--type` flag: use basic, standard, enterprise, freight or dedicated.")
            }
            if cku != nil, kind != "Dedicated" { throw ValidationError("the `--cku` flag can only be used when creating a dedicated Kafka cluster") }
            if maxECKU != nil, kind == "Dedicated" {
                throw ValidationError("the `--max-ecku` flag can only be used when creating a Basic, Standard, Enterprise, or Freight Kafka cluster")
            }
            try connectionOptions.validate()
        }

        func run() async throws {
            let session = try CLISession.open(connection)
            guard let location = region.resolved(session) else {
                throw CLIError.usage("Give --cloud and --region, or choose a region with `floe flink region use`.")
            }
            let environmentID = try session.environmentID(environment)
            let kind = KafkaClusterCommand.types[type.lowercased()] ?? "Basic"
            let config = JSONValue.object(omittingNil: [
                ("kind", .string(kind)),
                ("cku", kind == "Dedicated" ? .int(Int64(cku ?? 1)) : nil),
                ("max_ecku", maxECKU.map { .int(Int64($0)) }),
            ])
            var spec: [(String, JSONValue)] = [
                ("display_name", .string(name)), ("availability", .string(KafkaClusterCommand.availabilities[availability] ?? "SINGLE_ZONE")),
                ("cloud", .string(location.cloud.uppercased())), ("region", .string(location.region)), ("config", config),
                ("environment", ["id": .string(environmentID)]),
            ]
            spec += try connectionOptions.specFields()
            let cluster = try await session.call("POST", "/cmk/v2/clusters", json: ["spec": .object(spec)])
            let printer = OutputPrinter(format: output.output)
            if output.output == .human { writeError("Floe is checking the brokers; the cluster is UP once they answer.\n") }
            printer.describe(KafkaClusterCommand.detail(cluster, current: session.context.kafkaClusterID(environment: environmentID)))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List Kafka clusters.")
        @Flag(help: "List clusters across all environments.") var all = false
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let environments =
                all
                ? try await session.listAll("/org/v2/environments").compactMap { $0["id"]?.stringValue } : [try session.environmentID(environment)]
            var records: [OutputRecord] = []
            for environmentID in environments {
                let clusters = try await session.listAll("/cmk/v2/clusters", query: [("environment", environmentID)])
                let current = session.context.kafkaClusterID(environment: environmentID)
                records += clusters.map { KafkaClusterCommand.common($0, current: current) }
            }
            OutputPrinter(format: output.output).list(records, columns: KafkaClusterCommand.listColumns)
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a Kafka cluster (default: the current one).")
        @Argument(help: "Kafka cluster id (lkc-…).") var id: String?
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let environmentID = try session.environmentID(environment)
            let clusterID = try KafkaClusterCommand.clusterID(id, environment: environmentID, session)
            let (path, query) = KafkaClusterCommand.clusterPath(clusterID, environment: environmentID)
            let cluster = try await session.call("GET", path, query: query)
            let count = await KafkaClusterCommand.topicCount(cluster, session)
            OutputPrinter(format: output.output).describe(
                KafkaClusterCommand.detail(cluster, current: session.context.kafkaClusterID(environment: environmentID), topicCount: count))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Update a Kafka cluster: its name, or how Floe reaches it.",
            discussion: "Changing --bootstrap, the credentials or TLS makes Floe check the brokers again.")
        @Argument(help: "Kafka cluster id (lkc-…).") var id: String
        @Option(help: "New name.") var name: String?
        @Option(help: "Confluent Kafka Units (dedicated only).") var cku: Int?
        @Option(help: "Type (only basic to standard).") var type: String?
        @OptionGroup var connectionOptions: KafkaConnectionOptions
        @Flag(name: .customLong("no-credentials"), help: "Remove the SASL credentials.") var noCredentials = false
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if name == nil, cku == nil, type == nil, !noCredentials, !connectionOptions.isGiven {
                throw ValidationError("Give --name, --cku, --type, --bootstrap, --username, --ca-location, --tls/--no-tls or --no-credentials.")
            }
            if name?.isEmpty == true { throw ValidationError("`--name` flag value must not be empty") }
            if let type, type.lowercased() != "standard" { throw ValidationError("clusters can only be upgraded from \"Basic\" to \"Standard\"") }
            if noCredentials, connectionOptions.username != nil { throw ValidationError("Give --username or --no-credentials, not both.") }
            try connectionOptions.validate()
        }

        func run() async throws {
            let session = try CLISession.open(connection)
            let environmentID = try session.environmentID(environment)
            var spec: [(String, JSONValue)] = [("environment", ["id": .string(environmentID)])]
            if let name { spec.append(("display_name", .string(name))) }
            if let cku { spec.append(("config", ["kind": "Dedicated", "cku": .int(Int64(cku))])) }
            if type != nil { spec.append(("config", ["kind": "Standard"])) }
            spec += try connectionOptions.specFields()
            if noCredentials { spec.append(("credentials", .null)) }
            let (path, query) = KafkaClusterCommand.clusterPath(id, environment: environmentID)
            let cluster = try await session.call("PATCH", path, query: query, json: ["spec": .object(spec)])
            OutputPrinter(format: output.output).describe(
                KafkaClusterCommand.detail(cluster, current: session.context.kafkaClusterID(environment: environmentID)))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Detach Kafka clusters (their brokers and topics stay).")
        @Argument(help: "Kafka cluster ids.") var ids: [String]
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @Flag(help: "Skip the confirmation prompt.") var force = false
        @OptionGroup var connection: ContextOptions

        func validate() throws { if ids.isEmpty { throw ValidationError("Give at least one Kafka cluster id.") } }

        func run() async throws {
            var session = try CLISession.open(connection)
            let environmentID = try session.environmentID(environment)
            for id in ids {
                let (path, query) = KafkaClusterCommand.clusterPath(id, environment: environmentID)
                try await session.call("GET", path, query: query)
            }
            guard try confirmDeletion(of: "Kafka cluster", ids: ids, force: force) else { return }
            for id in ids {
                let (path, query) = KafkaClusterCommand.clusterPath(id, environment: environmentID)
                try await session.call("DELETE", path, query: query)
                write("Deleted Kafka cluster \"\(id)\".\n")
                if session.context.kafkaClusterID(environment: environmentID) == id, session.isSaved {
                    session.context.setKafkaClusterID(nil, environment: environmentID)
                    try session.save()
                }
            }
        }
    }

    struct Use: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Use a Kafka cluster in later commands.")
        @Argument(help: "Kafka cluster id (lkc-…).") var id: String
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            var session = try CLISession.open(connection)
            let environmentID = try session.environmentID(environment)
            let (path, query) = KafkaClusterCommand.clusterPath(id, environment: environmentID)
            do {
                try await session.call("GET", path, query: query)
            } catch CLIError.api(status: 404, _) {
                throw CLIError.usage(
                    "Kafka cluster \"\(id)\" not found. Ensure the cluster is in the current environment (`floe kafka cluster list`).")
            }
            session.context.setKafkaClusterID(id, environment: environmentID)
            try session.save()
            writeError("Set Kafka cluster \"\(id)\" as the active cluster for environment \"\(environmentID)\".\n")
        }
    }
}

/// Floe's flags for reaching the brokers of an attached cluster.
struct KafkaConnectionOptions: ParsableArguments {
    @Option(help: "The brokers' bootstrap servers, host:port[,host:port…].") var bootstrap: String?
    @Option(name: .customLong("sasl-mechanism"), help: "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.") var saslMechanism: String?
    @Option(help: "SASL username.") var username: String?
    @Option(
        help: "SASL password (visible to other local users while the command runs: prefer FLOE_KAFKA_PASSWORD or the prompt).")
    var password: String?
    @Option(name: .customLong("ca-location"), help: "PEM file of the CA certificates to trust for TLS (implies --tls).") var caLocation: String?
    @Flag(inversion: .prefixedNo, help: "Speak TLS to the brokers.") var tls: Bool?

    var isGiven: Bool { bootstrap != nil || username != nil || caLocation != nil || tls != nil }

    func validate() throws {
        if let saslMechanism, KafkaConnection.SASL.Mechanism(rawValue: saslMechanism.uppercased()) == nil {
            throw ValidationError("--sasl-mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.")
        }
        if username == nil, saslMechanism != nil || password != nil { throw ValidationError("--sasl-mechanism and --password need --username.") }
        if caLocation != nil, tls == false { throw ValidationError("--ca-location needs TLS: drop --no-tls.") }
    }

    /// The `spec` members these flags set.
    func specFields() throws -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = []
        if let bootstrap { fields.append(("kafka_bootstrap_endpoint", .string(bootstrap))) }
        if let username {
            let secret = try password ?? KafkaConnectionOptions.readPassword(for: username)
            fields.append(
                (
                    "credentials",
                    [
                        "mechanism": .string((saslMechanism ?? "PLAIN").uppercased()), "username": .string(username), "password": .string(secret),
                    ]
                ))
        }
        if let caLocation {
            let pem: String
            do {
                pem = try String(contentsOfFile: caLocation, encoding: .utf8)
            } catch {
                throw CLIError.usage("Cannot read the CA file \(caLocation): \(error.localizedDescription)")
            }
            fields.append(("tls", ["enabled": true, "ca_pem": .string(pem)]))
        } else if let tls {
            fields.append(("tls", tls ? ["enabled": true] : .null))
        }
        return fields
    }

    /// The SASL password: `FLOE_KAFKA_PASSWORD`, else typed at a prompt with echo off, else one line of standard input.
    static func readPassword(for username: String) throws -> String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["FLOE_KAFKA_PASSWORD"], !fromEnvironment.isEmpty { return fromEnvironment }
        guard isatty(0) == 1 else {
            guard let line = readLine(), !line.isEmpty else {
                throw CLIError.usage("No SASL password: pass --password, set FLOE_KAFKA_PASSWORD, or type it at the prompt.")
            }
            return line
        }
        writeError("SASL password for \(username): ")
        var original = termios()
        tcgetattr(0, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSAFLUSH, &silent)
        let line = readLine()
        tcsetattr(0, TCSAFLUSH, &original)
        writeError("\n")
        guard let line, !line.isEmpty else { throw CLIError.usage("No SASL password was given.") }
        return line
    }
}

/// `floe kafka topic`: the topics of an attached cluster, read through Floe's Kafka REST subset.
struct KafkaTopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic", abstract: "List and describe the topics of a Kafka cluster.", subcommands: [List.self, Describe.self])

    static func record(_ topic: JSONValue) -> OutputRecord {
        [
            OutputField("name", "Name", topic["topic_name"]?.stringValue),
            OutputField("is_internal", "Internal", topic["is_internal"] ?? .bool(false)),
            OutputField("replication_factor", "Replication Factor", topic["replication_factor"] ?? .int(0)),
            OutputField("partition_count", "Partition Count", topic["partitions_count"] ?? .int(0)),
        ]
    }

    /// `--cluster` and `--environment`, resolving to the cluster's topics path.
    struct Target: ParsableArguments {
        @Option(help: "Kafka cluster id (default: the one chosen with `floe kafka cluster use`).") var cluster: String?
        @Option(help: "Environment id (default: the current one).") var environment: String?

        func topicsPath(_ session: CLISession) throws -> String {
            let clusterID: String
            if let cluster {
                clusterID = cluster
            } else {
                clusterID = try KafkaClusterCommand.clusterID(nil, environment: try session.environmentID(environment), session)
            }
            return "/kafka/v3/clusters/\(clusterID.pathEncoded)/topics"
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List Kafka topics.")
        @OptionGroup var target: Target
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let topics = try await session.call("GET", try target.topicsPath(session))["data"]?.arrayValue ?? []
            OutputPrinter(format: output.output).list(
                topics.map(KafkaTopicCommand.record),
                columns: [
                    ("name", "Name"), ("is_internal", "Internal"), ("replication_factor", "Replication Factor"),
                    ("partition_count", "Partition Count"),
                ])
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a Kafka topic.")
        @Argument(help: "Topic name.") var topic: String
        @OptionGroup var target: Target
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let found: JSONValue
            do {
                found = try await session.call("GET", try target.topicsPath(session) + "/" + topic.pathEncoded)
            } catch CLIError.api(status: 404, let detail) where detail.contains("topic-partition") {
                throw CLIError.usage("unknown topic \"\(topic)\"")
            }
            OutputPrinter(format: output.output).describe(KafkaTopicCommand.record(found))
        }
    }
}
