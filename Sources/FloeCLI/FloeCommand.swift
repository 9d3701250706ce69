// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import ArgumentParser

/// The root of the `floe` command tree.
public struct FloeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "floe",
        abstract: "A self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.",
        subcommands: [ServeCommand.self])

    public init() {}
}

extension FloeCommand {
    /// Parses the process arguments and runs the chosen command (the executable's entry point).
    public static func launch() async {
        await main()
    }
}
