// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Testing

@testable import FloeSQL

@Suite struct KafkaTableOptionsTests {
    @Test func durationsParseAsFlinkAndPrintAsConfluent() throws {
        #expect(try ConfigValues.durationMillis("7 d", key: "k") == 604_800_000)
        #expect(try ConfigValues.durationMillis("1000", key: "k") == 1000)
        #expect(try ConfigValues.durationMillis("90s", key: "k") == 90_000)
        #expect(try ConfigValues.durationMillis("2 hours", key: "k") == 7_200_000)
        #expect(try ConfigValues.durationMillis("5 min", key: "k") == 300_000)
        #expect(throws: SQLError.self) { try ConfigValues.durationMillis("7 weeks", key: "k") }
        #expect(throws: SQLError.self) { try ConfigValues.durationMillis("d", key: "k") }
        #expect(throws: SQLError.self) { try ConfigValues.durationMillis("99999999999999999 d", key: "k") }
        #expect(ConfigValues.formatDuration(millis: 604_800_000) == "7 d")
        #expect(ConfigValues.formatDuration(millis: 90_000) == "90 s")
        #expect(ConfigValues.formatDuration(millis: 1500) == "1500 ms")
        #expect(ConfigValues.formatDuration(millis: 0) == "0 ms")
    }

    @Test func memorySizesParseInPowersOf1024() throws {
        #expect(try ConfigValues.memoryBytes("2097164 bytes", key: "k") == 2_097_164)
        #expect(try ConfigValues.memoryBytes("1 kb", key: "k") == 1024)
        #expect(try ConfigValues.memoryBytes("8m", key: "k") == 8 << 20)
        #expect(try ConfigValues.memoryBytes("0", key: "k") == 0)
        #expect(throws: SQLError.self) { try ConfigValues.memoryBytes("1 pb", key: "k") }
        #expect(ConfigValues.formatMemory(bytes: 0) == "0 bytes")
    }

    @Test func partitionOffsetsRoundTripInTheStatusFormat() throws {
        let parsed = try PartitionOffsets.parse("partition:1,offset:200;partition:0,offset:100", key: "k")
        #expect(parsed == [0: 100, 1: 200])
        #expect(PartitionOffsets.format(parsed) == "partition:0,offset:100;partition:1,offset:200")
        #expect(throws: SQLError.self) { try PartitionOffsets.parse("partition:0,offset:1;partition:0,offset:2", key: "k") }
        #expect(throws: SQLError.self) { try PartitionOffsets.parse("0:1", key: "k") }
        #expect(throws: SQLError.self) { try PartitionOffsets.parse("partition:-1,offset:1", key: "k") }
        #expect(throws: SQLError.self) { try PartitionOffsets.parse("", key: "k") }
    }

    @Test func defaultsFollowConfluent() throws {
        let append = try ConfluentTableOptions([:], hasPrimaryKey: false)
        #expect(append.changelogMode == .append)
        #expect(append.keyFormat == .avroRegistry && append.valueFormat == .avroRegistry)
        #expect(append.startup == .earliest && append.bounded == .unbounded)
        #expect(append.isolation == .readCommitted && append.errorHandling == .fail)
        #expect(append.topic == TopicSettings())
        #expect(try ConfluentTableOptions([:], hasPrimaryKey: true).changelogMode == .upsert)
    }

    @Test func everyOptionIsUnderstoodOrRefusedByName() throws {
        let options = try ConfluentTableOptions(
            [
                "connector": "confluent", "changelog.mode": "retract", "kafka.cleanup-policy": "delete-compact", "kafka.retention.time": "0",
                "kafka.retention.size": "1 gb", "value.format": "json-registry", "key.format": "raw", "scan.startup.mode": "specific-offsets",
                "scan.startup.specific-offsets": "partition:0,offset:3", "scan.bounded.mode": "timestamp",
                "scan.bounded.timestamp-millis": "1700000000000",
                "error-handling.mode": "log", "kafka.consumer.isolation-level": "read-uncommitted",
            ], hasPrimaryKey: false)
        #expect(options.changelogMode == .retract)
        #expect(options.valueFormat == .jsonRegistry && options.keyFormat == .raw)
        #expect(options.startup == .specificOffsets([0: 3]))
        #expect(options.bounded == .timestamp(1_700_000_000_000))
        #expect(options.topic.kafkaConfigs["cleanup.policy"] == "compact,delete")
        #expect(options.topic.kafkaConfigs["retention.ms"] == "-1")
        #expect(options.topic.kafkaConfigs["retention.bytes"] == String(1 << 30))

        func message(_ options: [String: String], key: Bool = false) -> String {
            do {
                _ = try ConfluentTableOptions(options, hasPrimaryKey: key)
                return "accepted"
            } catch { return error.message }
        }
        #expect(message(["topic": "x"]).contains("Unsupported options:\n\ntopic"))
        #expect(message(["value.format": "proto-registry"]).contains("'proto-registry'"))
        #expect(message(["value.format": "avro"]).contains("Could not find any format factory for identifier 'avro'"))
        #expect(message(["value.format.schema-context": ".ctx"]).contains("not supported yet"))
        #expect(message(["changelog.mode": "upsert"]).contains("PRIMARY KEY"))
        #expect(message(["scan.startup.mode": "timestamp"]).contains("needs 'scan.startup.timestamp-millis'"))
        #expect(message(["scan.startup.timestamp-millis": "5"]).contains("only allowed with"))
        #expect(message(["scan.startup.mode": "group-offsets"]).contains("Supported values are"))
        #expect(message(["kafka.partitions": "0"]).contains("partition count"))
        #expect(message(["key.fields-prefix": "k_", "value.fields-include": "all"]).contains("except-key"))
    }

    @Test func topicSettingsReadBackFromKafkaConfigs() {
        var settings = TopicSettings()
        settings.cleanupPolicy = .compact
        settings.retentionMillis = 0
        settings.maxMessageBytes = 1_000_000
        #expect(TopicSettings(kafkaConfigs: settings.kafkaConfigs) == settings)
        #expect(TopicSettings(kafkaConfigs: ["cleanup.policy": "delete,compact"]).cleanupPolicy == .deleteCompact)
        #expect(TopicSettings().tableOptions["kafka.retention.time"] == "7 d")
        #expect(TopicSettings().tableOptions["kafka.max-message-size"] == "2097164 bytes")
    }
}
