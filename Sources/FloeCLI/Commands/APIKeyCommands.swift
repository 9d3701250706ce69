// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore

/// `floe api-key`: Cloud and Flink API keys.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-key", abstract: "Manage API keys.",
        subcommands: [Create.self, List.self, Describe.self, Update.self, Delete.self, Store.self, Use.self])

    static func record(_ key: JSONValue, current: String?, emails: [String: String]) -> OutputRecord {
        let id = key["id"]?.stringValue ?? ""
        let owner = key.value(at: "spec", "owner", "id")?.stringValue ?? ""
        let kind = key.value(at: "spec", "resource", "kind")?.stringValue
        return [
            OutputField("is_current", "Current", .bool(id == current)),
            OutputField("key", "Key", id),
            OutputField("description", "Description", key.value(at: "spec", "description")?.stringValue),
            OutputField("owner", "Owner", owner),
            OutputField("owner_email", "Owner Email", emails[owner] ?? ""),
            OutputField("resource_type", "Resource Type", resourceType(kind)),
            OutputField("resource", "Resource", key.value(at: "spec", "resource", "id")?.stringValue),
            OutputField("created", "Created", key.value(at: "metadata", "created_at")?.stringValue),
        ]
    }

    /// The Resource Type column, as the confluent CLI names resource kinds.
    static func resourceType(_ kind: String?) -> String {
        switch kind {
        case "Region": return "flink"
        case "SchemaRegistry": return "schema-registry"
        default: return "cloud"
        }
    }

    static let columns = [
        ("is_current", "Current"), ("key", "Key"), ("description", "Description"), ("owner", "Owner"), ("owner_email", "Owner Email"),
        ("resource_type", "Resource Type"), ("resource", "Resource"), ("created", "Created"),
    ]

    /// E-mail addresses of users, for the Owner Email column (empty if the caller may not list users).
    static func emails(_ session: CLISession) async -> [String: String] {
        guard let users = try? await session.listAll("/iam/v2/users") else { return [:] }
        var result: [String: String] = [:]
        for user in users { if let id = user["id"]?.stringValue { result[id] = user["email"]?.stringValue } }
        return result
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key.",
            discussion:
                "Example: floe api-key create --resource flink --cloud aws --region us-east-1 --environment env-123456 --service-account sa-123456")
        @Option(
            help: "What the key is for: flink (a Flink region of an environment), cloud (resource management) or a Schema Registry id (lsrc-…)."
        ) var resource: String
        @OptionGroup var region: RegionOptions
        @Option(help: "Environment of a Flink key (default: the current one).") var environment: String?
        @Option(name: .customLong("service-account"), help: "Owner of the key (default: the logged-in principal).") var serviceAccount: String?
        @Option(help: "Description of the key.") var description: String?
        @Flag(help: "Save the key and use it for later Flink statement commands.") var use = false
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard ["flink", "cloud"].contains(resource.lowercased()) || resource.hasPrefix("lsrc-") else {
                throw ValidationError("--resource must be flink or cloud, or a Schema Registry id (lsrc-…).")
            }
            if use, resource.hasPrefix("lsrc-") {
                throw ValidationError("--use stores a key for Flink statement commands; a Schema Registry key cannot run them.")
            }
            if (region.cloud == nil) != (region.region == nil) { throw ValidationError("--cloud and --region go together.") }
        }

        func run() async throws {
            var session = try CLISession.open(connection)
            guard let owner = serviceAccount ?? session.context.principal else {
                throw CLIError.usage("The logged-in principal is unknown; pass --service-account.")
            }
            var resourceObject: JSONValue = ["id": "cloud"]
            var environmentID: String?
            var regionID: String?
            if resource.lowercased() == "flink" {
                guard let location = region.resolved(session) else {
                    throw CLIError.usage("A Flink API key needs --cloud and --region (or a region chosen with `floe flink region use`).")
                }
                environmentID = try session.environmentID(environment)
                regionID = "\(location.cloud).\(location.region)"
                resourceObject = ["id": .string(regionID!), "environment": .string(environmentID!)]
            } else if resource.hasPrefix("lsrc-") {
                // The registry implies its environment; --environment, when given, must be that one.
                resourceObject = .object(omittingNil: [("id", .string(resource)), ("environment", environment.map(JSONValue.string))])
            }
            let created = try await session.call(
                "POST", "/iam/v2/api-keys",
                json: [
                    "spec": .object(omittingNil: [
                        ("display_name", .string("")), ("description", description.map(JSONValue.string)),
                        ("owner", ["id": .string(owner)]), ("resource", resourceObject),
                    ])
                ])
            let key = created["id"]?.stringValue ?? ""
            let secret = created.value(at: "spec", "secret")?.stringValue ?? ""
            writeError(
                "It may take a couple of minutes for the API key to be ready.\nSave the API key and secret. The secret is not retrievable later.\n")
            OutputPrinter(format: output.output).describe([OutputField("api_key", "API Key", key), OutputField("api_secret", "API Secret", secret)])
            if use {
                session.context.storedKeys.removeAll { $0.key == key }
                session.context.storedKeys.append(StoredAPIKey(key: key, secret: secret, resource: regionID ?? "cloud", environment: environmentID))
                session.context.flinkAPIKey = key
                try session.save()
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys.")
        @Option(help: "Only keys for this resource: flink, cloud or a region id such as aws.us-east-1.") var resource: String?
        @Flag(name: .customLong("current-user"), help: "Only keys of the logged-in principal.") var currentUser = false
        @Option(name: .customLong("service-account"), help: "Only keys of this service account.") var serviceAccount: String?
        @Option(help: "Only Flink keys of this environment.") var environment: String?
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            var query: [(String, String)] = []
            if currentUser {
                guard let principal = session.context.principal else { throw CLIError.usage("The logged-in principal is unknown.") }
                query.append(("spec.owner", principal))
            } else if let serviceAccount {
                query.append(("spec.owner", serviceAccount))
            }
            if let resource, !["flink", "cloud"].contains(resource.lowercased()) { query.append(("spec.resource", resource)) }
            var keys = try await session.listAll("/iam/v2/api-keys", query: query)
            if let resource, ["flink", "cloud"].contains(resource.lowercased()) {
                let wanted = resource.lowercased() == "flink" ? "Region" : "Cloud"
                keys = keys.filter { $0.value(at: "spec", "resource", "kind")?.stringValue == wanted }
            }
            if let environment { keys = keys.filter { $0.value(at: "spec", "resource", "environment")?.stringValue == environment } }
            let emails = await APIKeyCommand.emails(session)
            OutputPrinter(format: output.output).list(
                keys.map { APIKeyCommand.record($0, current: session.context.flinkAPIKey, emails: emails) }, columns: APIKeyCommand.columns)
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe an API key.")
        @Argument(help: "API key.") var key: String
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let described = try await session.call("GET", "/iam/v2/api-keys/\(key.pathEncoded)")
            let record = APIKeyCommand.record(described, current: session.context.flinkAPIKey, emails: await APIKeyCommand.emails(session))
            let printer = OutputPrinter(format: output.output)
            // Like the confluent CLI, JSON and YAML describe a key as a list of one.
            if output.output == .human { printer.describe(record) } else { printer.list([record]) }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update an API key's description.")
        @Argument(help: "API key.") var key: String
        @Option(help: "New description.") var description: String
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            try await session.call("PATCH", "/iam/v2/api-keys/\(key.pathEncoded)", json: ["spec": ["description": .string(description)]])
            write("Updated API key \"\(key)\".\n")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete API keys.")
        @Argument(help: "API keys.") var keys: [String]
        @Flag(help: "Skip the confirmation prompt.") var force = false
        @OptionGroup var connection: ContextOptions

        func validate() throws { if keys.isEmpty { throw ValidationError("Give at least one API key.") } }

        func run() async throws {
            var session = try CLISession.open(connection)
            for key in keys { try await session.call("GET", "/iam/v2/api-keys/\(key.pathEncoded)") }
            guard try confirmDeletion(of: "API key", ids: keys, force: force) else { return }
            for key in keys {
                try await session.call("DELETE", "/iam/v2/api-keys/\(key.pathEncoded)")
                write("Deleted API key \"\(key)\".\n")
            }
            if session.isSaved, session.context.storedKeys.contains(where: { keys.contains($0.key) }) {
                session.context.storedKeys.removeAll { keys.contains($0.key) }
                if let inUse = session.context.flinkAPIKey, keys.contains(inUse) { session.context.flinkAPIKey = nil }
                try session.save()
            }
        }
    }

    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save an API key and its secret in the current context.")
        @Argument(help: "API key.") var key: String
        @Argument(help: "API secret.") var secret: String
        @Option(help: "What the key is for (informational): cloud or a region id such as aws.us-east-1.") var resource: String?
        @Flag(name: [.short, .long], help: "Replace a key already stored.") var force = false
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            var session = try CLISession.open(connection)
            if session.context.storedKeys.contains(where: { $0.key == key }) && !force {
                throw CLIError.usage("API key \"\(key)\" is already stored; use --force to replace it.")
            }
            session.context.storedKeys.removeAll { $0.key == key }
            session.context.storedKeys.append(StoredAPIKey(key: key, secret: secret, resource: resource))
            try session.save()
            write("Stored secret for API key \"\(key)\".\n")
        }
    }

    struct Use: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Use a stored API key for Flink statement commands (sql/v1); `none` goes back to the login key.")
        @Argument(help: "API key (stored with `floe api-key store` or created with --use), or none.") var key: String
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            var session = try CLISession.open(connection)
            if key == "none" {
                session.context.flinkAPIKey = nil
                try session.save()
                write("Using the login API key for Flink statements.\n")
                return
            }
            guard session.context.storedKeys.contains(where: { $0.key == key }) else {
                throw CLIError.usage("The secret of API key \"\(key)\" is not stored. Run `floe api-key store \(key) <secret>` first.")
            }
            session.context.flinkAPIKey = key
            try session.save()
            write("Using API Key \"\(key)\".\n")
        }
    }
}
