// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Testing

@testable import FloeCLI
@testable import FloeClient

struct ShellTests {
    @Test func statementsEndAtSemicolonsOutsideQuotesAndComments() {
        let split = SQLShell.completeStatements(in: "SELECT ';' AS s; -- a comment; still a comment\nSELECT 2 /* ; */ ;\nSELECT 3")
        #expect(split.statements == ["SELECT ';' AS s;", "-- a comment; still a comment\nSELECT 2 /* ; */ ;"])
        #expect(split.remainder == "\nSELECT 3")
        #expect(SQLShell.completeStatements(in: "SELECT `a;b` FROM t;").statements == ["SELECT `a;b` FROM t;"])
        #expect(SQLShell.completeStatements(in: ";;").statements.isEmpty)
    }

    @Test func clientSideStatementsAreRecognized() throws {
        #expect(try LocalStatement.parse("SET") == .listProperties)
        #expect(try LocalStatement.parse("SET 'sql.local-time-zone' = 'Europe/Paris'") == .set("sql.local-time-zone", "Europe/Paris"))
        #expect(try LocalStatement.parse("set 'k' = 'it''s'") == .set("k", "it's"))
        #expect(try LocalStatement.parse("SET 'a=b' = 'c'") == .set("a=b", "c"))
        #expect(try LocalStatement.parse("RESET") == .reset(nil))
        #expect(try LocalStatement.parse("RESET 'sql.current-database'") == .reset("sql.current-database"))
        #expect(try LocalStatement.parse("USE CATALOG `my env`") == .useCatalog("my env"))
        #expect(try LocalStatement.parse("use `cluster.one`") == .useDatabase(catalog: nil, database: "cluster.one"))
        #expect(try LocalStatement.parse("USE env1.db1") == .useDatabase(catalog: "env1", database: "db1"))
        #expect(try LocalStatement.parse("exit") == .exit)
        #expect(try LocalStatement.parse("QUIT") == .exit)
        #expect(try LocalStatement.parse("HELP") == .help)
        #expect(try LocalStatement.parse("SELECT 1") == nil)
        #expect(try LocalStatement.parse("USE") == nil)
        #expect(throws: CLIError.self) { try LocalStatement.parse("SET 'novalue'") }
    }

    @Test func aChangelogTableAppliesRetractionsInPlace() {
        var table = ChangelogTable()
        table.apply([
            ResultChange(operation: .insert, values: ["a", "1"]),
            ResultChange(operation: .insert, values: ["b", "1"]),
            ResultChange(operation: .updateBefore, values: ["a", "1"]),
            ResultChange(operation: .updateAfter, values: ["a", "2"]),
        ])
        #expect(table.rows == [["a", "2"], ["b", "1"]], "the update keeps the row's place")
        table.apply(ResultChange(operation: .delete, values: ["b", "1"]))
        #expect(table.rows == [["a", "2"]])
        #expect(table.changeCount == 5 && table.recentChanges.count == 5)
        // A retraction of a row that is not there changes nothing.
        table.apply(ResultChange(operation: .delete, values: ["zzz", "9"]))
        #expect(table.rows == [["a", "2"]])
    }

    @Test func upsertColumnsReplaceTheRowWithTheSameKey() {
        var table = ChangelogTable(upsertColumns: [0])
        table.apply([
            ResultChange(operation: .insert, values: ["k1", "1"]),
            ResultChange(operation: .insert, values: ["k2", "1"]),
            ResultChange(operation: .updateAfter, values: ["k1", "5"]),
            ResultChange(operation: .delete, values: ["k2", "ignored"]),
        ])
        #expect(table.rows == [["k1", "5"]])
    }

    @Test func theTableIsBounded() {
        var table = ChangelogTable(capacity: 3)
        for value in 0..<10 { table.apply(ResultChange(operation: .insert, values: [.int(Int64(value))])) }
        #expect(table.rows == [[.int(7)], [.int(8)], [.int(9)]])
        #expect(table.recentChanges.count == 3 && table.changeCount == 10)
    }

    @Test func propertyFlagsSplitOnCommasAndTheFirstEquals() throws {
        let pairs = try StatementCommand.parseProperties(["a=1,b=x=y", "sql.local-time-zone=UTC"])
        #expect(pairs.map(\.0) == ["a", "b", "sql.local-time-zone"] && pairs.map(\.1) == ["1", "x=y", "UTC"])
        #expect(throws: CLIError.self) { try StatementCommand.parseProperties(["=1"]) }
        #expect(throws: CLIError.self) { try StatementCommand.parseProperties(["novalue"]) }
    }

    @Test func generatedStatementNamesFollowTheConfluentPattern() {
        let name = StatementCommand.generatedName()
        #expect(name.hasPrefix("cli-") && name.count == "cli-2026-11-23-130021-".count + 8)
        #expect(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" })
    }

    @Test func httpTargetsParseHostsPortsAndPaths() throws {
        let target = try #require(HTTPTarget(url: "http://127.0.0.1:8080/org/v2/environments?page_size=1"))
        #expect(target.host == "127.0.0.1" && target.port == 8080 && target.requestTarget == "/org/v2/environments?page_size=1")
        #expect(target.hostHeader == "127.0.0.1:8080" && !target.secure)
        let bare = try #require(HTTPTarget(url: "http://floe.local"))
        #expect(bare.port == 80 && bare.requestTarget == "/" && bare.hostHeader == "floe.local")
        let v6 = try #require(HTTPTarget(url: "http://[::1]:9000?x=1"))
        #expect(v6.host == "::1" && v6.port == 9000 && v6.requestTarget == "/?x=1" && v6.hostHeader == "[::1]:9000")
        #expect(HTTPTarget(url: "ftp://x") == nil)
        #expect(HTTPTarget(url: "http://host:notaport/") == nil)
        let secure = try #require(HTTPTarget(url: "HTTPS://confluent.cloud/org/v2/environments"))
        #expect(secure.secure && secure.port == 443 && secure.hostHeader == "confluent.cloud")
        let securePort = try #require(HTTPTarget(url: "https://127.0.0.1:8443"))
        #expect(securePort.secure && securePort.port == 8443 && securePort.hostHeader == "127.0.0.1:8443")
    }
}
