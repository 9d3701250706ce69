// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore

/// `floe environment` (alias `env`): org/v2 environments.
struct EnvironmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "environment", abstract: "Manage environments.",
        subcommands: [Create.self, List.self, Describe.self, Update.self, Delete.self, Use.self],
        aliases: ["env"])

    static func record(_ environment: JSONValue, current: String?) -> OutputRecord {
        let id = environment["id"]?.stringValue ?? ""
        return [
            OutputField("is_current", "Current", .bool(id == current)),
            OutputField("id", "ID", id),
            OutputField("name", "Name", environment["display_name"]?.stringValue),
            OutputField(
                "stream_governance_package", "Stream Governance Package", environment.value(at: "stream_governance_config", "package")?.stringValue),
        ]
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an environment.")
        @Argument(help: "Name of the new environment.") var name: String
        @Option(name: .customLong("governance-package"), help: "Stream Governance package: essentials or advanced.") var governancePackage: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let body = JSONValue.object(omittingNil: [
                ("display_name", .string(name)),
                ("stream_governance_config", governancePackage.map { ["package": .string($0.uppercased())] }),
            ])
            let created = try await session.call("POST", "/org/v2/environments", json: body)
            OutputPrinter(format: output.output).describe(EnvironmentCommand.record(created, current: session.context.environmentID))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List environments.")
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let environments = try await session.listAll("/org/v2/environments")
            OutputPrinter(format: output.output).list(
                environments.map { EnvironmentCommand.record($0, current: session.context.environmentID) },
                columns: [("is_current", "Current"), ("id", "ID"), ("name", "Name"), ("stream_governance_package", "Stream Governance Package")])
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe an environment (default: the current one).")
        @Argument(help: "Environment id.") var id: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let environment = try await session.call("GET", "/org/v2/environments/\(try session.environmentID(id).pathEncoded)")
            OutputPrinter(format: output.output).describe(EnvironmentCommand.record(environment, current: session.context.environmentID))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update an environment (default: the current one).")
        @Argument(help: "Environment id.") var id: String?
        @Option(help: "New name.") var name: String?
        @Option(name: .customLong("governance-package"), help: "Stream Governance package: essentials or advanced.") var governancePackage: String?
        @Option(
            name: .customLong("schema-registry-url"),
            help: "Use this Schema Registry (an http:// URL) instead of the environment's own; an empty value goes back to its own.")
        var schemaRegistryURL: String?
        @Option(name: .customLong("schema-registry-api-key"), help: "API key for --schema-registry-url.") var schemaRegistryAPIKey: String?
        @Option(name: .customLong("schema-registry-api-secret"), help: "API secret for --schema-registry-url.") var schemaRegistryAPISecret: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if schemaRegistryURL == nil && (schemaRegistryAPIKey != nil || schemaRegistryAPISecret != nil) {
                throw ValidationError("--schema-registry-api-key and --schema-registry-api-secret need --schema-registry-url.")
            }
            if name == nil && governancePackage == nil && schemaRegistryURL == nil {
                throw ValidationError("Give --name or --governance-package (or --schema-registry-url).")
            }
        }

        func run() async throws {
            let session = try CLISession.open(connection)
            let environmentID = try session.environmentID(id)
            let body = JSONValue.object(omittingNil: [
                ("display_name", name.map(JSONValue.string)),
                ("stream_governance_config", governancePackage.map { ["package": .string($0.uppercased())] }),
                (
                    "schema_registry_config",
                    schemaRegistryURL.map { url -> JSONValue in
                        .object(omittingNil: [
                            ("url", .string(url)), ("api_key", schemaRegistryAPIKey.map(JSONValue.string)),
                            ("api_secret", schemaRegistryAPISecret.map(JSONValue.string)),
                        ])
                    }
                ),
            ])
            let updated = try await session.call("PATCH", "/org/v2/environments/\(environmentID.pathEncoded)", json: body)
            let printer = OutputPrinter(format: output.output)
            printer.message("Updated environment \"\(environmentID)\".")
            printer.describe(EnvironmentCommand.record(updated, current: session.context.environmentID))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete environments and everything in them.")
        @Argument(help: "Environment ids.") var ids: [String]
        @Flag(help: "Skip the confirmation prompt.") var force = false
        @OptionGroup var connection: ContextOptions

        func validate() throws { if ids.isEmpty { throw ValidationError("Give at least one environment id.") } }

        func run() async throws {
            var session = try CLISession.open(connection)
            for id in ids { try await session.call("GET", "/org/v2/environments/\(id.pathEncoded)") }
            guard try confirmDeletion(of: "environment", ids: ids, force: force) else { return }
            for id in ids {
                try await session.call("DELETE", "/org/v2/environments/\(id.pathEncoded)")
                write("Deleted environment \"\(id)\".\n")
                if session.context.environmentID == id, session.isSaved {
                    session.context.environmentID = nil
                    session.context.computePoolID = nil
                    try session.save()
                }
            }
        }
    }

    struct Use: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Use an environment for later commands.")
        @Argument(help: "Environment id.") var id: String
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            var session = try CLISession.open(connection)
            try await session.call("GET", "/org/v2/environments/\(id.pathEncoded)")
            if session.context.environmentID != id { session.context.computePoolID = nil }
            session.context.environmentID = id
            try session.save()
            write("Using environment \"\(id)\".\n")
        }
    }
}
