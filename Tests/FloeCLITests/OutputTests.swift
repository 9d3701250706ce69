// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Testing

@testable import FloeCLI

struct OutputTests {
    @Test func listTablesCentreTitlesAlignNumbersAndSplitMultiLineCells() {
        let table = TextTable.columns(
            titles: ["ID", "Max CFU", "Properties"], rows: [["lfcp-1", "5", "a=1\nb=2"], ["lfcp-22", "10", ""]], numeric: [1])
        let expected = [
            "   ID    | Max CFU | Properties",
            "---------+---------+------------",
            " lfcp-1  |       5 | a=1",
            "         |         | b=2",
            " lfcp-22 |      10 |",
        ]
        #expect(table == expected.joined(separator: "\n") + "\n")
    }

    @Test func describeTablesAreBordered() {
        #expect(
            TextTable.bordered([("ID", "env-1"), ("Name", "default")]) == """
                +------+---------+
                | ID   | env-1   |
                | Name | default |
                +------+---------+

                """)
    }

    @Test func yamlQuotesWhatPlainScalarsWouldMisread() {
        #expect(YAMLWriter.scalar("plain text") == "plain text")
        #expect(YAMLWriter.scalar("") == "\"\"")
        #expect(YAMLWriter.scalar("true") == "\"true\"")
        #expect(YAMLWriter.scalar("10") == "\"10\"")
        #expect(YAMLWriter.scalar("a: b") == "\"a: b\"")
        #expect(YAMLWriter.scalar("-U") == "\"-U\"")
        #expect(YAMLWriter.scalar("line\nbreak") == "\"line\\nbreak\"")
        #expect(YAMLWriter.scalar(.int(5)) == "5")
        #expect(YAMLWriter.scalar(.bool(false)) == "false")
        #expect(YAMLWriter.scalar(.null) == "null")
    }

    @Test func yamlSequencesAndNestedMappings() {
        let records: [JSONValue] = [
            ["name": "s1", "properties": ["sql.current-catalog": "default"], "latest_offsets": .object([])],
            ["name": "s2", "properties": .object([]), "latest_offsets": .object([])],
        ]
        #expect(
            YAMLWriter.sequence(records) == """
                - name: s1
                  properties:
                    sql.current-catalog: default
                  latest_offsets: {}
                - name: s2
                  properties: {}
                  latest_offsets: {}

                """)
    }

    @Test func prettyJSONIndentsByTwoSpaces() {
        #expect(
            PrettyJSON.render(["id": "x", "n": 1, "tags": ["a"], "empty": .object([])]) == """
                {
                  "id": "x",
                  "n": 1,
                  "tags": [
                    "a"
                  ],
                  "empty": {}
                }
                """)
    }

    @Test func truncationKeepsTheWidth() {
        #expect("abcdef".truncated(to: 4) == "abc…")
        #expect("abc".truncated(to: 4) == "abc")
        #expect("abcdef".truncated(to: 4).displayWidth == 4)
    }
}
