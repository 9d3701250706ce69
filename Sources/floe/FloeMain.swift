// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCLI

/// The `floe` executable: every face of Floe is a subcommand of ``FloeCommand``.
@main
struct FloeMain {
    static func main() async {
        await FloeCommand.launch()
    }
}
