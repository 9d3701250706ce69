// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@testable import FloeSQL

/// The `filesystem` connector: JSON-lines and CSV files as bounded sources, and as sinks.
@Suite struct FileSystemConnectorTests {
    /// A fresh engine plus a scratch directory for data files.
    struct Scratch {
        let fixture: EngineFixture
        let files: URL

        init() throws {
            fixture = try EngineFixture()
            files = fixture.directory.appendingPathComponent("files-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let url = files.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }

        func rows(_ sql: String, _ properties: [String: String] = [:]) async throws -> [String] {
            try await fixture.run(sql, properties).1.map(EngineText.change)
        }

        func remove() { fixture.remove() }
    }

    @Test func jsonLinesReadByNameWithMissingUnknownAndNestedFields() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.write(
            "people.json",
            """
            {"id": 1, "name": "Ann", "ts": "2024-01-01 10:00:00.250", "score": 1.5, "tags": ["a", "b"], "address": {"city": "Oslo", "zip": 150}}
            {"name": "Bob \\"the\\" \\u00e9", "id": 2, "extra": {"ignored": [1, 2, {"x": "}"}]}, "ok": true}

            {"id": 3, "name": null, "amount": "12.345", "day": "2024-02-29"}
            """)
        _ = try await scratch.fixture.run(
            """
            CREATE TABLE people (id INT, name STRING, ts TIMESTAMP(3), score DOUBLE, tags ARRAY<STRING>, address ROW<city STRING, zip INT>, ok BOOLEAN, amount DECIMAL(10, 2), `day` DATE)
            WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json')
            """)
        let (traits, changes) = try await scratch.fixture.run("SELECT * FROM people")
        #expect(traits.isBounded)
        #expect(
            changes.map(EngineText.change) == [
                "+I[1, Ann, 2024-01-01 10:00:00.250, 1.5, [a, b], [Oslo, 150], NULL, NULL, NULL]",
                "+I[2, Bob \"the\" é, NULL, NULL, NULL, NULL, TRUE, NULL, NULL]",
                "+I[3, NULL, NULL, NULL, NULL, NULL, NULL, 12.35, 2024-02-29]",
            ])
    }

    @Test func directoryOfFilesIsReadInNameOrderSkippingHiddenFiles() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        _ = try scratch.write("dir/b.json", "{\"n\": 2}\n")
        _ = try scratch.write("dir/a.json", "{\"n\": 1}")
        _ = try scratch.write("dir/.hidden.json", "{\"n\": 99}\n")
        _ = try scratch.write("dir/_SUCCESS", "{\"n\": 98}\n")
        let directory = scratch.files.appendingPathComponent("dir").path
        _ = try await scratch.fixture.run(
            "CREATE TABLE t (n INT) WITH ('connector' = 'filesystem', 'path' = 'file://\(directory)', 'format' = 'json')")
        #expect(try await scratch.rows("SELECT n FROM t") == ["+I[1]", "+I[2]"])
    }

    /// The decoder's fast paths: names matched in column order, strings kept as bytes when ASCII, eight bytes scanned at
    /// a time for the closing quote. Each is checked against the slow path's answer on text that leaves it.
    @Test func jsonFastPathsAgreeWithTheGeneralDecoding() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var file = Data()
        file.append(Data(#"{"a": "0123456789abcdef\"x", "b": "Zoë — ünïcödé 🎉", "c": 7, "d": "2024-01-01 00:00:00.123"}"#.utf8))
        file.append(0x0A)
        // Invalid UTF-8 (a lone continuation byte) is replaced, as String(decoding:) does.
        file.append(Data(#"{"a": "bad "#.utf8))
        file.append(0x80)
        file.append(Data(#" byte", "c": -8, "b": "", "d": "2024-02-29T23:59:59"}"#.utf8))
        file.append(0x0A)
        // An escaped name, a name that is a prefix of another, a duplicate (the first one counts), a quote at byte 8.
        file.append(Data(#"{"\u0061": "1234567\"", "cc": 1, "c": 9, "c": 10, "b": "x", "d": "2024-03-01 12:00:00"}"#.utf8))
        file.append(0x0A)
        let path = scratch.files.appendingPathComponent("fast.json").path
        try file.write(to: URL(fileURLWithPath: path))
        _ = try await scratch.fixture.run(
            "CREATE TABLE fast (a STRING, b STRING, c BIGINT, d TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json')"
        )
        #expect(
            try await scratch.rows("SELECT a, CHAR_LENGTH(a), b, c, d FROM fast") == [
                #"+I[0123456789abcdef"x, 18, Zoë — ünïcödé 🎉, 7, 2024-01-01 00:00:00.123]"#,
                "+I[bad \u{FFFD} byte, 10, , -8, 2024-02-29 23:59:59.000]",
                #"+I[1234567", 8, x, 9, 2024-03-01 12:00:00.000]"#,
            ])
        // Strings kept as bytes compare, group and join as strings do.
        #expect(
            try await scratch.rows("SELECT b, COUNT(*) FROM fast WHERE b <> 'y' GROUP BY b") == [
                "+I[Zoë — ünïcödé 🎉, 1]", "+I[, 1]", "+I[x, 1]",
            ])
        #expect(try await scratch.rows("SELECT l.c FROM fast AS l JOIN fast AS r ON l.b = r.b AND l.c = r.c") == ["+I[7]", "+I[-8]", "+I[9]"])
    }

    /// Columns a query does not read are not converted (as with Flink's projection push-down into the format), and a
    /// join keeps only the columns read above it: a value that does not convert fails only the queries that read it.
    @Test func unreadColumnsAreNotConverted() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let people = try scratch.write(
            "people.json", "{\"id\": 1, \"age\": \"unknown\", \"name\": \"Ann\"}\n{\"id\": 2, \"age\": 40, \"name\": \"Bob\"}\n")
        let orders = try scratch.write("orders.csv", "10,1,x\n11,2,not-a-number\n12,1,7\n")
        _ = try await scratch.fixture.run(
            "CREATE TABLE people (id INT, age INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '\(people)', 'format' = 'json')")
        _ = try await scratch.fixture.run(
            "CREATE TABLE orders (id INT, person INT, amount INT) WITH ('connector' = 'filesystem', 'path' = '\(orders)', 'format' = 'csv')")
        #expect(try await scratch.rows("SELECT name FROM people") == ["+I[Ann]", "+I[Bob]"])
        // The two files are read in turn, so the join's output order is the engine's; the rows are not.
        #expect(
            try await scratch.rows("SELECT o.id, p.name FROM orders AS o JOIN people AS p ON o.person = p.id WHERE p.id > 0").sorted() == [
                "+I[10, Ann]", "+I[11, Bob]", "+I[12, Ann]",
            ])
        let counts = try await scratch.rows("SELECT p.name, COUNT(*) FROM orders AS o JOIN people AS p ON o.person = p.id GROUP BY p.name")
        #expect(counts.contains("+I[Bob, 1]") && counts.last(where: { $0.contains("Ann") }) == "+U[Ann, 2]", "\(counts)")
        await #expect(throws: SQLError.self) { _ = try await scratch.fixture.run("SELECT age FROM people") }
        await #expect(throws: SQLError.self) {
            _ = try await scratch.fixture.run("SELECT o.amount, p.name FROM orders AS o JOIN people AS p ON o.person = p.id")
        }
    }

    /// DATE_FORMAT of a TIMESTAMP column with a constant pattern formats once per day, minute, … of the pattern: the
    /// same text as formatting every value, across span boundaries, before 1970 and with NULLs.
    @Test func dateFormatOfAColumnMatchesFormattingEveryValue() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var random = SeededGenerator(seed: 5)
        var micros: [Int64?] = []
        var now: Int64 = -86_400_000_000 * 3 - 1_000
        for _ in 0..<3000 {
            now += Int64.random(in: 0...90_000_000, using: &random) / 1000 * 1000
            micros.append(Int.random(in: 0..<20, using: &random) == 0 ? nil : now)
        }
        let lines = micros.map { value in
            value.map { "{\"ts\": \"\(Temporal.formatTimestamp($0, precision: 3))\"}" } ?? "{\"ts\": null}"
        }
        let path = try scratch.write("times.json", lines.joined(separator: "\n"))
        _ = try await scratch.fixture.run(
            "CREATE TABLE times (ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json')")
        for pattern in ["yyyy-MM-dd", "HH:mm", "yyyy-MM-dd HH:mm:ss.SSS", "EEE D a hh 'at' ss"] {
            let sqlPattern = pattern.replacingOccurrences(of: "'", with: "''")
            let rows = try await scratch.rows("SELECT DATE_FORMAT(ts, '\(sqlPattern)') FROM times")
            let expected = micros.map { value in "+I[\(value.map { DateFormatting.format($0, pattern: pattern) } ?? "NULL")]" }
            let firstDifference = zip(rows, expected).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(rows.count == expected.count && firstDifference == nil, "\(pattern): \(String(describing: firstDifference))")
        }
    }

    /// Lines longer than the read chunk (1 MiB) grow the buffer, and the lines around them read as usual.
    @Test func linesLongerThanAChunkAreReadWhole() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let long = String(repeating: "abcdefgh", count: 400_000)
        let path = try scratch.write(
            "long.json", "{\"n\": 1, \"s\": \"x\"}\n{\"n\": 2, \"s\": \"\(long)\"}\n{\"n\": 3, \"s\": \"\(long)y\"}\n{\"n\": 4, \"s\": \"z\"}")
        _ = try await scratch.fixture.run(
            "CREATE TABLE long_lines (n INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json')")
        #expect(try await scratch.rows("SELECT n, CHAR_LENGTH(s) FROM long_lines") == ["+I[1, 1]", "+I[2, 3200000]", "+I[3, 3200001]", "+I[4, 1]"])
    }

    @Test func malformedJSONFailsWithTheLineOrIsSkipped() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.write("bad.json", "{\"n\": 1}\n{\"n\": \"x\"}\n{\"n\": 3\n{\"n\": 4}\n")
        _ = try await scratch.fixture.run("CREATE TABLE strict (n INT) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json')")
        await #expect(throws: SQLError.self) { _ = try await scratch.fixture.run("SELECT n FROM strict") }
        do {
            _ = try await scratch.fixture.run("SELECT n FROM strict")
        } catch let error as SQLError {
            #expect(error.message.contains("line 2"))
            #expect(error.message.contains("Failed to deserialize JSON"))
        }
        _ = try await scratch.fixture.run(
            "CREATE TABLE lenient (n INT) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json', 'json.ignore-parse-errors' = 'true')"
        )
        #expect(try await scratch.rows("SELECT n FROM lenient") == ["+I[1]", "+I[4]"])
        _ = try await scratch.fixture.run(
            "CREATE TABLE required (n INT, m INT) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json', 'json.fail-on-missing-field' = 'true')"
        )
        await #expect(throws: SQLError.self) { _ = try await scratch.fixture.run("SELECT n FROM required") }
    }

    @Test func csvWithQuotesNullsDelimitersAndComments() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.write("data.csv", "1|\"a|b\"|2024-01-01 00:00:01|\r\n# a comment\n2|\"say \"\"hi\"\"\"||\n3||n/a|7.5\n4\n")
        _ = try await scratch.fixture.run(
            """
            CREATE TABLE t (id INT, label STRING, ts TIMESTAMP(0), v DOUBLE) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'csv',
              'csv.field-delimiter' = '|', 'csv.allow-comments' = 'true', 'csv.null-literal' = 'n/a')
            """)
        #expect(
            try await scratch.rows("SELECT * FROM t") == [
                "+I[1, a|b, 2024-01-01 00:00:01, NULL]",
                "+I[2, say \"hi\", NULL, NULL]",
                "+I[3, , NULL, 7.5]",
                "+I[4, NULL, NULL, NULL]",
            ])
    }

    @Test func filesystemTablesWorkWithWindowsAndAggregates() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var lines: [String] = []
        for i in 0..<10_000 {
            lines.append("{\"k\": \(i % 7), \"ts\": \"2024-01-01 00:\(String(format: "%02d", (i / 200) % 60)):00.000\"}")
        }
        let path = try scratch.write("events.json", lines.joined(separator: "\n"))
        _ = try await scratch.fixture.run(
            "CREATE TABLE e (k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '4' SECOND) WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'json')"
        )
        let windows = try await scratch.rows(
            "SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE e, DESCRIPTOR(ts), INTERVAL '10' MINUTE)) GROUP BY window_start, window_end")
        #expect(
            windows == [
                "+I[2024-01-01 00:00:00.000, 2000]", "+I[2024-01-01 00:10:00.000, 2000]", "+I[2024-01-01 00:20:00.000, 2000]",
                "+I[2024-01-01 00:30:00.000, 2000]", "+I[2024-01-01 00:40:00.000, 2000]",
            ])
        let counts = try await scratch.rows("SELECT k, COUNT(*) AS n FROM e GROUP BY k", ["sql.snapshot.mode": "now"])
        #expect(counts.count == 7)
        #expect(counts.first == "+I[0, 1429]")
    }

    @Test func optionsAreCheckedWhenTheTableIsCreated() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let cases: [(String, String)] = [
            ("'connector' = 'filesystem', 'format' = 'json'", "path"),
            ("'connector' = 'filesystem', 'path' = '/tmp/x'", "format"),
            ("'connector' = 'filesystem', 'path' = '/tmp/x', 'format' = 'avro'", "avro"),
            ("'connector' = 'filesystem', 'path' = 'relative', 'format' = 'json'", "absolute"),
            ("'connector' = 'filesystem', 'path' = '/tmp/x', 'format' = 'json', 'json.bogus' = '1'", "json.bogus"),
            ("'connector' = 'filesystem', 'path' = '/tmp/x', 'format' = 'csv', 'csv.field-delimiter' = '||'", "single character"),
        ]
        for (options, expected) in cases {
            do {
                _ = try await scratch.fixture.run("CREATE TABLE t (n INT) WITH (\(options))")
                Issue.record("accepted \(options)")
            } catch let error as SQLError {
                #expect(error.message.contains(expected), "\(options): \(error.message)")
            }
        }
        _ = try await scratch.fixture.run(
            "CREATE TABLE missing (n INT) WITH ('connector' = 'filesystem', 'path' = '/nonexistent/floe', 'format' = 'json')")
        await #expect(throws: SQLError.self) { _ = try await scratch.fixture.run("SELECT * FROM missing") }
    }

    @Test func sinkWritesPartFilesThatReadBackAndReRunsAppendOnlyTheRest() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for format in ["json", "csv"] {
            let directory = scratch.files.appendingPathComponent("out-\(format)").path
            _ = try await scratch.fixture.run(
                """
                CREATE TABLE out_\(format) (id INT, label STRING, ok BOOLEAN, ts TIMESTAMP(3), amount DECIMAL(6, 2), tags ARRAY<INT>)
                WITH ('connector' = 'filesystem', 'path' = '\(directory)', 'format' = '\(format)')
                """)
            let insert = """
                INSERT INTO out_\(format) VALUES (1, 'plain', TRUE, TIMESTAMP '2024-01-01 10:00:00.5', 1.50, ARRAY[1, 2]),
                  (2, 'with, "quotes"', FALSE, NULL, NULL, NULL), (3, '', NULL, TIMESTAMP '2024-01-02 00:00:00', -3.25, ARRAY[3])
                """
            _ = try await scratch.fixture.run(insert, statementID: "stmt-\(format)")
            // The same statement re-run (after a restart) finds its rows written and appends nothing twice.
            _ = try await scratch.fixture.run(insert, statementID: "stmt-\(format)")
            let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(files == ["part-stmt-\(format).\(format)"])
            let rows = try await scratch.rows("SELECT * FROM out_\(format)")
            let expectedTags = ["[1, 2]", "NULL", "[3]"]
            #expect(
                rows == [
                    "+I[1, plain, TRUE, 2024-01-01 10:00:00.500, 1.50, \(expectedTags[0])]",
                    "+I[2, with, \"quotes\", FALSE, NULL, NULL, \(expectedTags[1])]",
                    "+I[3, , NULL, 2024-01-02 00:00:00.000, -3.25, \(expectedTags[2])]",
                ], "\(format)")
        }
        let json = try String(contentsOfFile: scratch.files.appendingPathComponent("out-json/part-stmt-json.json").path, encoding: .utf8)
        #expect(json.hasPrefix(#"{"id":1,"label":"plain","ok":true,"ts":"2024-01-01 10:00:00.500","amount":1.50,"tags":[1,2]}"#))
    }

    @Test func aTornAppendIsCutAndCompletedFromTheCheckpoint() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let directory = scratch.files.appendingPathComponent("out").path
        _ = try await scratch.fixture.run("CREATE TABLE o (n INT) WITH ('connector' = 'filesystem', 'path' = '\(directory)', 'format' = 'json')")
        _ = try await scratch.fixture.run("INSERT INTO o VALUES (1), (2), (3)", statementID: "s1")
        // A crash in the middle of the commit's append: one line and a half made it to the file.
        let part = "\(directory)/part-s1.json"
        try Data("{\"n\":1}\n{\"n\":".utf8).write(to: URL(fileURLWithPath: part))
        // The re-run after the restart cuts the torn line and appends the rest of the checkpoint's output.
        _ = try await scratch.fixture.run("INSERT INTO o VALUES (1), (2), (3)", statementID: "s1")
        #expect(try await scratch.rows("SELECT n FROM o") == ["+I[1]", "+I[2]", "+I[3]"])
        #expect(try String(contentsOfFile: part, encoding: .utf8) == "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n")
    }
}
