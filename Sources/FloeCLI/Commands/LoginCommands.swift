// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeClient
import FloeCore
import Foundation

/// `floe login`: checks a server and a Cloud API key, then saves them as the current context.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a Floe server with a Cloud API key.",
        discussion: """
            The key and secret come from --api-key/--api-secret, else FLOE_API_KEY/FLOE_API_SECRET. Against a server on \
            this machine with neither given, the administrator key of the server's data directory (bootstrap.json) is used.
            """)

    @Option(help: "Server URL (env FLOE_URL; default http://127.0.0.1:8080).")
    var url: String?

    @Option(name: .customLong("api-key"), help: "Cloud API key (env FLOE_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("api-secret"), help: "Cloud API secret (env FLOE_API_SECRET).")
    var apiSecret: String?

    @Option(
        name: .customLong("data-dir"), help: "Data directory of a local server, to read bootstrap.json from (env FLOE_DATA_DIR; default ~/.floe).")
    var dataDirectory: String?

    @Option(name: .customLong("context-name"), help: "Name for the saved context (default login-<key>-<url>).")
    var contextName: String?

    @Option(
        name: .customLong("ca-cert"),
        help: "PEM file of CA certificates to trust besides the system's, for an https server with a private CA's certificate (env FLOE_CA_CERT).")
    var caCert: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ flag: String?, _ variable: String) -> String? {
            flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        }
        var serverURL = setting(url, "FLOE_URL") ?? "http://127.0.0.1:8080"
        while serverURL.hasSuffix("/") { serverURL.removeLast() }
        guard let parsed = URL(string: serverURL), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
            throw CLIError.usage("--url must be an http(s) URL such as http://127.0.0.1:8080, not \"\(serverURL)\".")
        }
        var key = setting(apiKey, "FLOE_API_KEY")
        var secret = setting(apiSecret, "FLOE_API_SECRET")
        var bootstrapEnvironment: String?
        var bootstrapFile: URL?
        if (key == nil) != (secret == nil) { throw CLIError.usage("Give both an API key and its secret.") }
        if key == nil {
            guard ["127.0.0.1", "localhost", "::1", "[::1]"].contains(parsed.host ?? "") else {
                throw CLIError.usage("Give --api-key and --api-secret (bootstrap.json is only read for a server on this machine).")
            }
            let directory = setting(dataDirectory, "FLOE_DATA_DIR") ?? userHomeDirectory() + "/.floe"
            let file = URL(fileURLWithPath: (directory as NSString).expandingTildeInPath).appendingPathComponent("bootstrap.json")
            guard let data = FileManager.default.contents(atPath: file.path), let document = try? JSONValue.parse(Array(data)),
                let bootKey = document["api_key"]?.stringValue, let bootSecret = document["api_secret"]?.stringValue
            else {
                throw CLIError.usage(
                    "No API key given and no readable \(file.path). If the server runs with `floe serve --data-dir <dir>`, log in with "
                        + "`floe login --data-dir <dir>` (or FLOE_DATA_DIR=<dir>) to use the key in <dir>/bootstrap.json; else pass --api-key and --api-secret."
                )
            }
            key = bootKey
            secret = bootSecret
            bootstrapEnvironment = document["environment_id"]?.stringValue
            bootstrapFile = file
        }
        guard let key, let secret else { return }
        var context = CLIContext(
            name: contextName ?? "login-\(key)-\(serverURL)", url: serverURL, credentials: StoredAPIKey(key: key, secret: secret, resource: "cloud"))
        if let caCert = setting(caCert, "FLOE_CA_CERT") {
            let path = URL(fileURLWithPath: (caCert as NSString).expandingTildeInPath).standardizedFileURL.path
            guard FileManager.default.isReadableFile(atPath: path) else { throw CLIError.usage("--ca-cert: cannot read \"\(path)\".") }
            context.caCertificate = path
        }
        let session = CLISession(configuration: try CLIConfiguration.load(), context: context, isSaved: false)
        let organizations: [JSONValue]
        do {
            organizations = try await session.listAll("/org/v2/organizations")
        } catch CLIError.api(let status, _) where status == 401 && bootstrapFile != nil {
            // The key of a bootstrap.json from another data directory than the server's (a server started with --data-dir).
            throw CLIError.api(
                status: status,
                detail: "The server at \(serverURL) refused the key of \(bootstrapFile?.path ?? "bootstrap.json"): that is not its data directory. "
                    + "Log in with `floe login --data-dir <dir>` naming the directory the server was started with (`floe serve --data-dir <dir>`), "
                    + "or pass --api-key and --api-secret.")
        }
        guard let organization = organizations.first?["id"]?.stringValue else {
            throw CLIError.usage("The server lists no organization for this key.")
        }
        context.organizationID = organization
        if let described = try? await session.call("GET", "/iam/v2/api-keys/\(key.pathEncoded)") {
            context.principal = described.value(at: "spec", "owner", "id")?.stringValue
        }
        if let bootstrapEnvironment {
            context.environmentID = bootstrapEnvironment
        } else if let environments = try? await session.listAll("/org/v2/environments") {
            let preferred = environments.first { $0["display_name"]?.stringValue == "default" } ?? environments.first
            context.environmentID = preferred?["id"]?.stringValue
        }
        var configuration = try CLIConfiguration.load()
        if let previous = configuration.context(named: context.name) {
            // Logging in again keeps the defaults chosen before.
            context.cloud = previous.cloud
            context.region = previous.region
            context.computePoolID = previous.computePoolID
            context.storedKeys = previous.storedKeys
            context.flinkAPIKey = previous.flinkAPIKey
            context.environmentID = previous.environmentID ?? context.environmentID
        }
        configuration.upsert(context)
        configuration.currentContext = context.name
        try configuration.save()
        write("Logged in to \(serverURL) as \(context.principal ?? key) (context \"\(context.name)\").\n")
        if let environmentID = context.environmentID { write("Using environment \"\(environmentID)\".\n") }
    }
}

/// `floe logout`: forgets the current context's credentials.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out: remove the current context and its saved keys.")

    func run() async throws {
        var configuration = try CLIConfiguration.load()
        guard let name = configuration.currentContext else {
            write("You are not logged in.\n")
            return
        }
        configuration.contexts.removeAll { $0.name == name }
        configuration.currentContext = nil
        try configuration.save()
        write("You are now logged out (context \"\(name)\" removed).\n")
    }
}

/// `floe context`: the saved contexts.
struct ContextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context", abstract: "Manage CLI contexts (a server, its credentials and chosen defaults).",
        subcommands: [List.self, Describe.self, Use.self, Delete.self],
        aliases: ["ctx"])

    static func record(_ context: CLIContext, current: String?) -> OutputRecord {
        [
            OutputField("is_current", "Current", .bool(context.name == current)),
            OutputField("name", "Name", context.name),
            OutputField("platform", "Platform", context.url),
            OutputField("credential", "Credential", context.credentials.key),
        ]
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List contexts.")
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let configuration = try CLIConfiguration.load()
            let records = configuration.contexts.map { ContextCommand.record($0, current: configuration.currentContext) }
            OutputPrinter(format: output.output).list(
                records, columns: [("is_current", "Current"), ("name", "Name"), ("platform", "Platform"), ("credential", "Credential")])
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a context (default: the current one).")
        @Argument(help: "Context name.") var name: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let configuration = try CLIConfiguration.load()
            guard let context = configuration.context(named: name) else {
                throw CLIError.usage(name.map { "Context \"\($0)\" does not exist." } ?? "There is no current context.")
            }
            let record =
                ContextCommand.record(context, current: configuration.currentContext) + [
                    OutputField("organization", "Organization", context.organizationID),
                    OutputField("environment", "Environment", context.environmentID),
                    OutputField("flink_region", "Flink Region", context.cloud.flatMap { cloud in context.region.map { "\(cloud).\($0)" } }),
                    OutputField("compute_pool", "Compute Pool", context.computePoolID),
                    OutputField("flink_api_key", "Flink API Key", context.flinkAPIKey),
                ]
            OutputPrinter(format: output.output).describe(record)
        }
    }

    struct Use: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a context the current one.")
        @Argument(help: "Context name.") var name: String

        func run() async throws {
            var configuration = try CLIConfiguration.load()
            guard configuration.context(named: name) != nil else { throw CLIError.usage("Context \"\(name)\" does not exist.") }
            configuration.currentContext = name
            try configuration.save()
            write("Using context \"\(name)\".\n")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete contexts.")
        @Argument(help: "Context names.") var names: [String]
        @Flag(help: "Skip the confirmation prompt.") var force = false

        func validate() throws { if names.isEmpty { throw ValidationError("Give at least one context name.") } }

        func run() async throws {
            var configuration = try CLIConfiguration.load()
            for name in names where configuration.context(named: name) == nil { throw CLIError.usage("Context \"\(name)\" does not exist.") }
            guard try confirmDeletion(of: "context", ids: names, force: force) else { return }
            configuration.contexts.removeAll { names.contains($0.name) }
            if let current = configuration.currentContext, names.contains(current) { configuration.currentContext = nil }
            try configuration.save()
            for name in names { write("Deleted context \"\(name)\".\n") }
        }
    }
}
