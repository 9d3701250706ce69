// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import ArgumentParser
import FloeBuildInfo

/// The root of the `floe` command tree.
public struct FloeCommand: AsyncParsableCommand {
    /// The top-level commands, in the order `floe --help` lists them.
    static let topLevel: [any ParsableCommand.Type] = [
        ServeCommand.self, LoginCommand.self, LogoutCommand.self, ContextCommand.self, EnvironmentCommand.self, IAMCommand.self,
        APIKeyCommand.self, FlinkCommand.self, KafkaCommand.self, CompletionCommand.self, VersionCommand.self,
    ]

    public static let configuration = CommandConfiguration(
        commandName: "floe",
        abstract: "A self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.",
        discussion: "Commands:\n" + helpTree,
        version: BuildInfo.summary,
        subcommands: topLevel)

    public init() {}

    /// The tree `floe --help` shows. It is a literal so that starting `floe serve` does not walk (and page in) every
    /// command's configuration; a unit test keeps it equal to ``commandTree(_:depth:)``.
    static let helpTree = """
          serve                        Run the Floe server (HTTP API, scheduler and em…
          login                        Log in to a Floe server with a Cloud API key.
          logout                       Log out: remove the current context and its sav…
          context                      Manage CLI contexts (a server, its credentials …
            list                       List contexts.
            describe                   Describe a context (default: the current one).
            use                        Make a context the current one.
            delete                     Delete contexts.
          environment                  Manage environments.
            create                     Create an environment.
            list                       List environments.
            describe                   Describe an environment (default: the current o…
            update                     Update an environment (default: the current one…
            delete                     Delete environments and everything in them.
            use                        Use an environment for later commands.
          iam                          Manage users, service accounts and role binding…
            service-account            Manage service accounts.
              create                   Create a service account.
              list                     List service accounts.
              describe                 Describe a service account.
              update                   Update a service account's description.
              delete                   Delete service accounts (and their API keys).
            rbac                       Manage role-based access control.
              role-binding             Manage role bindings.
                create                 Create a role binding.
                list                   List role bindings within a scope (default: the…
                delete                 Delete the role binding with this role, princip…
            user                       List and describe users.
              list                     List users.
              describe                 Describe a user.
          api-key                      Manage API keys.
            create                     Create an API key.
            list                       List API keys.
            describe                   Describe an API key.
            update                     Update an API key's description.
            delete                     Delete API keys.
            store                      Save an API key and its secret in the current c…
            use                        Use a stored API key for Flink statement comman…
          flink                        Manage Flink regions, compute pools and SQL sta…
            region                     List Flink regions and choose one.
              list                     List Flink regions.
              use                      Use a Flink region for later commands.
              unset                    Forget the chosen Flink region.
            compute-pool               Manage Flink compute pools.
              create                   Create a compute pool.
              list                     List compute pools.
              describe                 Describe a compute pool (default: the current o…
              update                   Update a compute pool (default: the current one…
              delete                   Delete compute pools (and their statements).
              use                      Use a compute pool for later statements.
              unset                    Forget the chosen compute pool.
            compute-pool-config        Describe or update the organization's compute-p…
              describe                 Describe the compute-pool settings.
              update                   Update the compute-pool settings.
            statement                  Manage Flink SQL statements.
              create                   Create a Flink SQL statement.
              list                     List Flink SQL statements.
              describe                 Describe a Flink SQL statement.
              stop                     Stop a Flink SQL statement.
              resume                   Resume a stopped Flink SQL statement.
              update                   Update a Flink SQL statement's principal, compu…
              delete                   Delete Flink SQL statements.
              exception                Show a statement's exceptions.
                list                   List a statement's exceptions, newest first.
              results                  Print a statement's result rows; follows a runn…
            shell                      Start the interactive Flink SQL shell.
          kafka                        Manage attached Kafka clusters and list their t…
            cluster                    Manage Kafka clusters (Floe attaches existing b…
              create                   Attach a Kafka cluster.
              list                     List Kafka clusters.
              describe                 Describe a Kafka cluster (default: the current …
              update                   Update a Kafka cluster: its name, or how Floe r…
              delete                   Detach Kafka clusters (their brokers and topics…
              use                      Use a Kafka cluster in later commands.
            topic                      List and describe the topics of a Kafka cluster.
              list                     List Kafka topics.
              describe                 Describe a Kafka topic.
          completion                   Print a shell completion script (bash, zsh or f…
          version                      Print the version, git commit and build date.
        """

    /// The whole command tree, one indented line per command with its abstract.
    static func commandTree(_ commands: [any ParsableCommand.Type], depth: Int) -> String {
        commands.map { command -> String in
            let configuration = command.configuration
            let name = configuration.commandName ?? String(describing: command).lowercased()
            let label = String(repeating: "  ", count: depth) + name
            // Lines stay within 80 columns so that the help printer does not wrap them.
            let line = (label.rightPadded(to: 30) + " " + configuration.abstract).truncated(to: 79) + "\n"
            return line + commandTree(configuration.subcommands, depth: depth + 1)
        }.joined()
    }
}

extension FloeCommand {
    /// Parses the process arguments and runs the chosen command (the executable's entry point).
    public static func launch() async {
        await main()
    }
}

/// `floe completion bash|zsh|fish`: prints a shell completion script.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion", abstract: "Print a shell completion script (bash, zsh or fish).",
        discussion: "Example: source <(floe completion bash)")

    @Argument(help: "Shell: bash, zsh or fish.") var shell: String

    func run() throws {
        guard let kind = CompletionShell(rawValue: shell) else { throw ValidationError("Unknown shell \"\(shell)\"; use bash, zsh or fish.") }
        print(FloeCommand.completionScript(for: kind))
    }
}

/// `floe version` (also `floe --version`): the release version, the git commit and the build date.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version, git commit and build date.")

    func run() {
        print(BuildInfo.summary)
    }
}
