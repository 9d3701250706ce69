// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore

/// `floe flink`: regions, compute pools, statements and the SQL shell.
struct FlinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flink", abstract: "Manage Flink regions, compute pools and SQL statements, or open the SQL shell.",
        subcommands: [RegionCommand.self, ComputePoolCommand.self, ComputePoolConfigCommand.self, StatementCommand.self, ShellCommand.self])
}

/// `--cloud` and `--region` (defaulting to the region chosen with `floe flink region use`).
struct RegionOptions: ParsableArguments {
    @Option(help: "Cloud provider: aws, gcp or azure.") var cloud: String?
    @Option(help: "Cloud region, e.g. us-east-1.") var region: String?

    /// The flags, else the context's region, if both parts are known.
    func resolved(_ session: CLISession) -> (cloud: String, region: String)? {
        if let cloud, let region { return (cloud.lowercased(), region) }
        if cloud == nil, region == nil, let cloud = session.context.cloud, let region = session.context.region { return (cloud, region) }
        return nil
    }
}

/// `floe flink region`.
struct RegionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region", abstract: "List Flink regions and choose one.", subcommands: [List.self, Use.self, Unset.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List Flink regions.")
        @Option(help: "Only this cloud provider: aws, gcp or azure.") var cloud: String?
        @Option(help: "Only this region name, e.g. us-east-1.") var region: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            var query: [(String, String)] = []
            if let cloud { query.append(("cloud", cloud.uppercased())) }
            if let region { query.append(("region_name", region)) }
            let regions = try await session.listAll("/fcpm/v2/regions", query: query)
            let current = session.context.cloud.flatMap { cloud in session.context.region.map { "\(cloud).\($0)" } }
            let records: [OutputRecord] = regions.map { region in
                [
                    OutputField("is_current", "Current", .bool(region["id"]?.stringValue == current)),
                    OutputField("name", "Name", region["display_name"]?.stringValue),
                    OutputField("cloud", "Cloud", region["cloud"]?.stringValue),
                    OutputField("region", "Region", region["region_name"]?.stringValue),
                ]
            }
            OutputPrinter(format: output.output).list(
                records, columns: [("is_current", "Current"), ("name", "Name"), ("cloud", "Cloud"), ("region", "Region")])
        }
    }

    struct Use: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Use a Flink region for later commands.")
        @Option(help: "Cloud provider: aws, gcp or azure.") var cloud: String
        @Option(help: "Cloud region, e.g. us-east-1.") var region: String
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            var session = try CLISession.open(connection)
            let regions = try await session.listAll("/fcpm/v2/regions", query: [("cloud", cloud.uppercased()), ("region_name", region)])
            guard let found = regions.first else { throw CLIError.usage("The server offers no Flink region \(cloud.lowercased()).\(region).") }
            session.context.cloud = cloud.lowercased()
            session.context.region = region
            try session.save()
            write("Using Flink region \"\(found["display_name"]?.stringValue ?? region)\".\n")
        }
    }

    struct Unset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget the chosen Flink region.")
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            var session = try CLISession.open(connection)
            session.context.cloud = nil
            session.context.region = nil
            try session.save()
            write("Unset the current Flink cloud provider and region.\n")
        }
    }
}

/// `floe flink compute-pool`.
struct ComputePoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compute-pool", abstract: "Manage Flink compute pools.",
        subcommands: [Create.self, List.self, Describe.self, Update.self, Delete.self, Use.self, Unset.self])

    static func record(_ pool: JSONValue, current: String?) -> OutputRecord {
        let id = pool["id"]?.stringValue ?? ""
        var record: OutputRecord = [
            OutputField("is_current", "Current", .bool(id == current)),
            OutputField("id", "ID", id),
            OutputField("name", "Name", pool.value(at: "spec", "display_name")?.stringValue),
            OutputField("cloud", "Cloud", pool.value(at: "spec", "cloud")?.stringValue),
            OutputField("environment", "Environment", pool.value(at: "spec", "environment", "id")?.stringValue),
            OutputField("max_cfu", "Max CFU", pool.value(at: "spec", "max_cfu") ?? .int(0)),
            OutputField("region", "Region", pool.value(at: "spec", "region")?.stringValue),
            // "currrent_cfu" (sic) is the key the confluent CLI prints.
            OutputField("currrent_cfu", "Current CFU", pool.value(at: "status", "current_cfu") ?? .int(0)),
            OutputField("status", "Status", pool.value(at: "status", "phase")?.stringValue),
            OutputField("default_pool", "Default Pool", pool.value(at: "spec", "default_pool") ?? .bool(false)),
        ]
        // Floe's own: a pool whose statements run on its region's Apache Flink cluster says so. Other pools print
        // exactly the confluent CLI's fields, which scripts parse.
        if let engine = pool.value(at: "status", "engine")?.stringValue, engine != "embedded" {
            record.append(OutputField("engine", "Engine", engine))
        }
        return record
    }

    static let columns = [
        ("is_current", "Current"), ("id", "ID"), ("name", "Name"), ("cloud", "Cloud"), ("environment", "Environment"), ("max_cfu", "Max CFU"),
        ("region", "Region"), ("currrent_cfu", "Current CFU"), ("status", "Status"), ("default_pool", "Default Pool"),
    ]

    static func poolPath(_ id: String, environment: String) -> (String, [(String, String)]) {
        ("/fcpm/v2/compute-pools/\(id.pathEncoded)", [("environment", environment)])
    }

    static func poolID(_ argument: String?, _ session: CLISession) throws -> String {
        if let argument { return argument }
        if let id = session.context.computePoolID { return id }
        throw CLIError.usage("No compute pool is selected. Give its id or run `floe flink compute-pool use <id>`.")
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a compute pool.")
        @Argument(help: "Name of the compute pool.") var name: String
        @OptionGroup var region: RegionOptions
        @Option(name: .customLong("max-cfu"), help: "Maximum CFUs: 5, 10, 20, 30, 40 or 50.") var maxCFU: Int = 5
        @Flag(name: .customLong("default-pool"), help: "Make it the environment's default pool.") var defaultPool = false
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @Flag(help: "Wait until the pool is provisioned.") var wait = false
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            guard let location = region.resolved(session) else {
                throw CLIError.usage("Give --cloud and --region, or choose a region with `floe flink region use`.")
            }
            let environmentID = try session.environmentID(environment)
            var pool = try await session.call(
                "POST", "/fcpm/v2/compute-pools",
                json: [
                    "spec": [
                        "display_name": .string(name), "cloud": .string(location.cloud.uppercased()), "region": .string(location.region),
                        "max_cfu": .int(Int64(maxCFU)), "default_pool": .bool(defaultPool), "environment": ["id": .string(environmentID)],
                    ]
                ])
            if wait, let id = pool["id"]?.stringValue {
                let progress = ProgressLine()
                let (path, query) = ComputePoolCommand.poolPath(id, environment: environmentID)
                while pool.value(at: "status", "phase")?.stringValue == "PROVISIONING" {
                    progress.update("Waiting for compute pool \"\(id)\" (PROVISIONING)")
                    try await Task.sleep(for: .milliseconds(250))
                    pool = try await session.call("GET", path, query: query)
                }
                progress.finish()
            }
            OutputPrinter(format: output.output).describe(ComputePoolCommand.record(pool, current: session.context.computePoolID))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List compute pools.")
        @Option(help: "Only pools in this region name, e.g. us-east-1.") var region: String?
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            var pools = try await session.listAll("/fcpm/v2/compute-pools", query: [("environment", try session.environmentID(environment))])
            if let region { pools = pools.filter { $0.value(at: "spec", "region")?.stringValue == region } }
            OutputPrinter(format: output.output).list(
                pools.map { ComputePoolCommand.record($0, current: session.context.computePoolID) }, columns: ComputePoolCommand.columns)
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a compute pool (default: the current one).")
        @Argument(help: "Compute pool id (lfcp-…).") var id: String?
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let (path, query) = ComputePoolCommand.poolPath(
                try ComputePoolCommand.poolID(id, session), environment: try session.environmentID(environment))
            let pool = try await session.call("GET", path, query: query)
            OutputPrinter(format: output.output).describe(ComputePoolCommand.record(pool, current: session.context.computePoolID))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update a compute pool (default: the current one).")
        @Argument(help: "Compute pool id (lfcp-…).") var id: String?
        @Option(help: "New name.") var name: String?
        @Option(name: .customLong("max-cfu"), help: "Maximum CFUs: 5, 10, 20, 30, 40 or 50.") var maxCFU: Int?
        @Option(name: .customLong("default-pool"), help: "Whether it is the environment's default pool (true or false).") var defaultPool: Bool?
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if name == nil && maxCFU == nil && defaultPool == nil { throw ValidationError("Give --name, --max-cfu or --default-pool.") }
        }

        func run() async throws {
            let session = try CLISession.open(connection)
            let poolID = try ComputePoolCommand.poolID(id, session)
            let environmentID = try session.environmentID(environment)
            var spec: [(String, JSONValue)] = [("environment", ["id": .string(environmentID)])]
            if let name { spec.append(("display_name", .string(name))) }
            if let maxCFU { spec.append(("max_cfu", .int(Int64(maxCFU)))) }
            if let defaultPool { spec.append(("default_pool", .bool(defaultPool))) }
            let updated = try await session.call("PATCH", "/fcpm/v2/compute-pools/\(poolID.pathEncoded)", json: ["spec": .object(spec)])
            let printer = OutputPrinter(format: output.output)
            printer.message("Updated Flink compute pool \"\(poolID)\".")
            printer.describe(ComputePoolCommand.record(updated, current: session.context.computePoolID))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete compute pools (and their statements).")
        @Argument(help: "Compute pool ids.") var ids: [String]
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @Flag(help: "Skip the confirmation prompt.") var force = false
        @OptionGroup var connection: ContextOptions

        func validate() throws { if ids.isEmpty { throw ValidationError("Give at least one compute pool id.") } }

        func run() async throws {
            var session = try CLISession.open(connection)
            let environmentID = try session.environmentID(environment)
            for id in ids {
                let (path, query) = ComputePoolCommand.poolPath(id, environment: environmentID)
                try await session.call("GET", path, query: query)
            }
            guard try confirmDeletion(of: "Flink compute pool", ids: ids, force: force) else { return }
            for id in ids {
                let (path, query) = ComputePoolCommand.poolPath(id, environment: environmentID)
                try await session.call("DELETE", path, query: query)
                write("Requested to delete Flink compute pool \"\(id)\".\n")
                if session.context.computePoolID == id, session.isSaved {
                    session.context.computePoolID = nil
                    try session.save()
                }
            }
        }
    }

    struct Use: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Use a compute pool for later statements.")
        @Argument(help: "Compute pool id (lfcp-…).") var id: String
        @Option(help: "Environment id (default: the current one).") var environment: String?
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            var session = try CLISession.open(connection)
            let (path, query) = ComputePoolCommand.poolPath(id, environment: try session.environmentID(environment))
            let pool = try await session.call("GET", path, query: query)
            session.context.computePoolID = id
            if let cloud = pool.value(at: "spec", "cloud")?.stringValue, let region = pool.value(at: "spec", "region")?.stringValue {
                session.context.cloud = cloud.lowercased()
                session.context.region = region
            }
            try session.save()
            write("Using Flink compute pool \"\(id)\".\n")
        }
    }

    struct Unset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget the chosen compute pool.")
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            var session = try CLISession.open(connection)
            let previous = session.context.computePoolID
            session.context.computePoolID = nil
            try session.save()
            write(previous.map { "Unset the current Flink compute pool \"\($0)\".\n" } ?? "No Flink compute pool was set.\n")
        }
    }
}

/// `floe flink compute-pool-config`: the organization's default-pool settings.
struct ComputePoolConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compute-pool-config", abstract: "Describe or update the organization's compute-pool settings.",
        subcommands: [Describe.self, Update.self])

    static func record(_ config: JSONValue) -> OutputRecord {
        [
            OutputField("organization_id", "Organization Id", config["organization_id"]?.stringValue),
            OutputField("default_pool_enabled", "Default Pool Enabled", config.value(at: "spec", "default_pool_enabled") ?? .bool(false)),
            OutputField("default_pool_max_cfu", "Default Pool Max CFU", config.value(at: "spec", "default_pool_max_cfu") ?? .int(0)),
        ]
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe the compute-pool settings.")
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            OutputPrinter(format: output.output).describe(
                ComputePoolConfigCommand.record(try await session.call("GET", "/fcpm/v2/compute-pool-config")))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update the compute-pool settings.")
        @Option(name: .customLong("default-pool"), help: "Whether statements without a pool get a default pool (true or false).") var defaultPool:
            Bool?
        @Option(name: .customLong("max-cfu"), help: "Maximum CFUs of default pools: 5, 10, 20, 30, 40 or 50.") var maxCFU: Int?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func validate() throws { if defaultPool == nil && maxCFU == nil { throw ValidationError("Give --default-pool or --max-cfu.") } }

        func run() async throws {
            let session = try CLISession.open(connection)
            var spec: [(String, JSONValue)] = []
            if let defaultPool { spec.append(("default_pool_enabled", .bool(defaultPool))) }
            if let maxCFU { spec.append(("default_pool_max_cfu", .int(Int64(maxCFU)))) }
            let updated = try await session.call("PATCH", "/fcpm/v2/compute-pool-config", json: ["spec": .object(spec)])
            OutputPrinter(format: output.output).describe(ComputePoolConfigCommand.record(updated))
        }
    }
}
