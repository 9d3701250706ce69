// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import ArgumentParser

/// The root of the `floe` command tree.
public struct FloeCommand: AsyncParsableCommand {
    /// The top-level commands, in the order `floe --help` lists them.
    static let topLevel: [any ParsableCommand.Type] = [
        ServeCommand.self, LoginCommand.self, LogoutCommand.self, ContextCommand.self, EnvironmentCommand.self, IAMCommand.self,
        APIKeyCommand.self, FlinkCommand.self, CompletionCommand.self,
    ]

    public static let configuration = CommandConfiguration(
        commandName: "floe",
        abstract: "A self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.",
        discussion: "Commands:\n" + commandTree(topLevel, depth: 1),
        subcommands: topLevel)

    public init() {}

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
