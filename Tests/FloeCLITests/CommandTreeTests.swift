// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import Testing

@testable import FloeCLI

struct CommandTreeTests {
    @Test func theHelpTreeLiteralMatchesTheCommands() throws {
        let generated = FloeCommand.commandTree(FloeCommand.topLevel, depth: 1)
        if FloeCommand.helpTree + "\n" != generated {
            try? generated.write(toFile: "/tmp/floe-help-tree.txt", atomically: true, encoding: .utf8)
        }
        #expect(FloeCommand.helpTree + "\n" == generated, "update FloeCommand.helpTree (generated copy in /tmp/floe-help-tree.txt)")
    }
}
