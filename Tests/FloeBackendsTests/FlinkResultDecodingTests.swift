// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSQL
import Testing

@testable import FloeBackends

/// Flink's `logicalType` JSON into ``SQLType``, and the gateway's JSON fields into the results API's strings.
@Suite struct FlinkResultDecodingTests {
    static func json(_ text: String) throws -> FlinkJSONValue { try FlinkJSONValue.parse(Array(text.utf8)) }

    static func type(_ text: String) throws -> SQLType { try SQLType(flinkLogicalType: try json(text)) }

    @Test(arguments: [
        (#"{"type":"BOOLEAN","nullable":true}"#, "BOOLEAN"),
        (#"{"type":"TINYINT","nullable":false}"#, "TINYINT NOT NULL"),
        (#"{"type":"SMALLINT","nullable":true}"#, "SMALLINT"),
        (#"{"type":"INTEGER","nullable":false}"#, "INT NOT NULL"),
        (#"{"type":"BIGINT","nullable":true}"#, "BIGINT"),
        (#"{"type":"FLOAT","nullable":true}"#, "FLOAT"),
        (#"{"type":"DOUBLE","nullable":false}"#, "DOUBLE NOT NULL"),
        (#"{"type":"DECIMAL","nullable":false,"precision":5,"scale":2}"#, "DECIMAL(5, 2) NOT NULL"),
        (#"{"type":"CHAR","nullable":false,"length":1}"#, "CHAR(1) NOT NULL"),
        (#"{"type":"VARCHAR","nullable":true,"length":2147483647}"#, "STRING"),
        (#"{"type":"VARCHAR","nullable":true,"length":10}"#, "VARCHAR(10)"),
        (#"{"type":"BINARY","nullable":true,"length":3}"#, "BINARY(3)"),
        (#"{"type":"VARBINARY","nullable":true,"length":2147483647}"#, "BYTES"),
        (#"{"type":"DATE","nullable":true}"#, "DATE"),
        (#"{"type":"TIME_WITHOUT_TIME_ZONE","nullable":true,"precision":0}"#, "TIME(0)"),
        (#"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":3}"#, "TIMESTAMP(3) NOT NULL"),
        (#"{"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","nullable":true,"precision":6}"#, "TIMESTAMP_LTZ(6)"),
        (
            #"{"type":"INTERVAL_DAY_TIME","nullable":true,"precision":2,"fractionalPrecision":3,"resolution":"DAY_TO_SECOND"}"#,
            "INTERVAL DAY TO SECOND(3)"
        ),
        (#"{"type":"INTERVAL_YEAR_MONTH","nullable":true,"precision":2,"resolution":"YEAR_TO_MONTH"}"#, "INTERVAL YEAR TO MONTH"),
        (#"{"type":"NULL"}"#, "NULL"),
        (#"{"type":"ARRAY","nullable":false,"elementType":{"type":"INTEGER","nullable":false}}"#, "ARRAY<INT NOT NULL> NOT NULL"),
        (#"{"type":"MULTISET","nullable":true,"elementType":{"type":"VARCHAR","nullable":true,"length":2147483647}}"#, "MULTISET<STRING>"),
        (
            #"{"type":"MAP","nullable":true,"keyType":{"type":"VARCHAR","nullable":true,"length":2147483647},"valueType":{"type":"BIGINT","nullable":true}}"#,
            "MAP<STRING, BIGINT>"
        ),
        (
            #"{"type":"ROW","nullable":false,"fields":[{"name":"EXPR$0","fieldType":{"type":"INTEGER","nullable":false}},{"name":"b","fieldType":{"type":"CHAR","nullable":false,"length":1},"description":"a field"}]}"#,
            "ROW<`EXPR$0` INT NOT NULL, `b` CHAR(1) NOT NULL> NOT NULL"
        ),
    ])
    func logicalTypes(json: String, sql: String) throws {
        #expect(try Self.type(json).sql == sql)
    }

    @Test func logicalTypesFloeHasNoCounterpartForAreRefused() throws {
        for root in ["TIMESTAMP_WITH_TIME_ZONE", "RAW", "STRUCTURED_TYPE", "DISTINCT_TYPE", "SYMBOL", "VARIANT"] {
            #expect(throws: FlinkResultError("Flink's type \(root) has no counterpart in Floe's results")) {
                _ = try Self.type(#"{"type":"\#(root)","nullable":true,"precision":3}"#)
            }
        }
        #expect(throws: FlinkResultError("The DECIMAL logicalType has no valid 'scale'")) {
            _ = try Self.type(#"{"type":"DECIMAL","nullable":true,"precision":5}"#)
        }
        #expect(throws: FlinkResultError("The ARRAY logicalType has no 'elementType'")) { _ = try Self.type(#"{"type":"ARRAY","nullable":true}"#) }
        #expect(throws: FlinkResultError.self) { _ = try Self.type(#"{"nullable":true}"#) }
    }

    /// A field of `type` (Flink's logicalType JSON) as the gateway writes it, and the results API's string for it.
    @Test(arguments: [
        (#"{"type":"DECIMAL","nullable":false,"precision":5,"scale":2}"#, "1.5", #""1.50""#),
        (#"{"type":"DECIMAL","nullable":false,"precision":5,"scale":2}"#, "1E+2", #""100.00""#),
        (#"{"type":"DECIMAL","nullable":false,"precision":10,"scale":4}"#, "-0.05", #""-0.0500""#),
        (#"{"type":"DECIMAL","nullable":false,"precision":10,"scale":9}"#, "1.25E-7", #""0.000000125""#),
        (#"{"type":"DECIMAL","nullable":false,"precision":10,"scale":0}"#, "0", #""0""#),
        (
            #"{"type":"DECIMAL","nullable":false,"precision":38,"scale":3}"#, "-12345678901234567890123456789012345.678",
            #""-12345678901234567890123456789012345.678""#
        ),
        (#"{"type":"BIGINT","nullable":false}"#, "9007199254740993", #""9007199254740993""#),
        (#"{"type":"BIGINT","nullable":false}"#, "-9223372036854775808", #""-9223372036854775808""#),
        (#"{"type":"INTEGER","nullable":true}"#, "null", "null"),
        (#"{"type":"TINYINT","nullable":true}"#, "-7", #""-7""#),
        (#"{"type":"DOUBLE","nullable":false}"#, "4.6E307", #""4.6E307""#),
        (#"{"type":"DOUBLE","nullable":false}"#, "4.6e+307", #""4.6E307""#),
        (#"{"type":"DOUBLE","nullable":false}"#, "1.0E-5", #""1.0E-5""#),
        (#"{"type":"DOUBLE","nullable":false}"#, "100.0", #""100.0""#),
        (#"{"type":"DOUBLE","nullable":false}"#, #""NaN""#, #""NaN""#),
        (#"{"type":"DOUBLE","nullable":false}"#, #""-Infinity""#, #""-Infinity""#),
        (#"{"type":"FLOAT","nullable":false}"#, "1.1", #""1.1""#),
        (#"{"type":"BOOLEAN","nullable":false}"#, "true", #""TRUE""#),
        (#"{"type":"VARCHAR","nullable":false,"length":5}"#, #""h\u00e9\"llo""#, #""hé\"llo""#),
        (#"{"type":"VARBINARY","nullable":false,"length":2147483647}"#, #""AQL/""#, #""x'0102ff'""#),
        (#"{"type":"DATE","nullable":false}"#, #""2024-01-02""#, #""2024-01-02""#),
        (#"{"type":"DATE","nullable":false}"#, #""1969-12-31""#, #""1969-12-31""#),
        (#"{"type":"DATE","nullable":false}"#, #""+10000-01-01""#, #""10000-01-01""#),
        (#"{"type":"TIME_WITHOUT_TIME_ZONE","nullable":false,"precision":0}"#, #""03:04:05""#, #""03:04:05""#),
        (#"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":3}"#, #""2024-01-02T03:04:05.12""#, #""2024-01-02 03:04:05.120""#),
        (#"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":3}"#, #""2024-01-02T03:04:05""#, #""2024-01-02 03:04:05.000""#),
        (#"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":0}"#, #""2024-01-02T03:04""#, #""2024-01-02 03:04:00""#),
        (
            #"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":6}"#, #""1969-12-31T23:59:59.999999""#,
            #""1969-12-31 23:59:59.999999""#
        ),
        (
            #"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":9}"#, #""2024-01-02T03:04:05.123456789""#,
            #""2024-01-02 03:04:05.123456000""#
        ),
        // Shown in the session zone (Europe/Paris, UTC+1 in January).
        (#"{"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","nullable":false,"precision":3}"#, #""2024-01-02T03:04:05.1Z""#, #""2024-01-02 04:04:05.100""#),
        (
            #"{"type":"INTERVAL_DAY_TIME","nullable":false,"precision":2,"fractionalPrecision":3,"resolution":"DAY"}"#, "172800000",
            #""+2 00:00:00.000""#
        ),
        (#"{"type":"INTERVAL_YEAR_MONTH","nullable":false,"precision":2,"resolution":"YEAR_TO_MONTH"}"#, "14", #""+1-02""#),
        (#"{"type":"ARRAY","nullable":false,"elementType":{"type":"INTEGER","nullable":true}}"#, "[1,null,2]", #"["1",null,"2"]"#),
        (
            #"{"type":"MAP","nullable":false,"keyType":{"type":"CHAR","nullable":false,"length":1},"valueType":{"type":"INTEGER","nullable":false}}"#,
            #"{"x":1,"y":2}"#, #"[["x","1"],["y","2"]]"#
        ),
        (
            #"{"type":"MAP","nullable":false,"keyType":{"type":"INTEGER","nullable":true},"valueType":{"type":"DECIMAL","nullable":false,"precision":4,"scale":1}}"#,
            #"{"7":2,"null":0.5}"#, #"[["7","2.0"],[null,"0.5"]]"#
        ),
        (
            #"{"type":"MULTISET","nullable":false,"elementType":{"type":"VARCHAR","nullable":false,"length":3}}"#, #"{"a":2,"b":1}"#,
            #"[["a","2"],["b","1"]]"#
        ),
        (
            #"{"type":"ROW","nullable":false,"fields":[{"name":"EXPR$0","fieldType":{"type":"INTEGER","nullable":false}},{"name":"EXPR$1","fieldType":{"type":"CHAR","nullable":false,"length":1}}]}"#,
            #"{"EXPR$0":1,"EXPR$1":"z"}"#, #"["1","z"]"#
        ),
        (
            #"{"type":"ROW","nullable":true,"fields":[{"name":"a","fieldType":{"type":"ARRAY","nullable":true,"elementType":{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":true,"precision":2}}},{"name":"b","fieldType":{"type":"DOUBLE","nullable":true}}]}"#,
            #"{"b":null,"a":["2024-01-02T03:04:05.1",null]}"#, #"[["2024-01-02 03:04:05.10",null],null]"#
        ),
        (#"{"type":"NULL"}"#, "null", "null"),
    ])
    func values(type: String, field: String, expected: String) throws {
        let column = FlinkGatewayClient.Column(name: "c", type: try Self.type(type))
        let decoder = FlinkRowDecoder(columns: [column], localTimeZone: "Europe/Paris")
        let record = try decoder.record(.init(kind: .updateAfter, fields: [try Self.json(field)]))
        #expect(record.op == 2)
        #expect(record.row == .array([try JSONValue.parse(expected)]))
    }

    @Test func rowKindsBecomeOps() throws {
        let decoder = FlinkRowDecoder(columns: [.init(name: "k", type: SQLType(.integer))], localTimeZone: nil)
        let ops = try [RowKind.insert, .updateBefore, .updateAfter, .delete].map { try decoder.record(.init(kind: $0, fields: [.number("1")])).op }
        #expect(ops == [0, 1, 2, 3])
        #expect(
            ["INSERT", "UPDATE_BEFORE", "UPDATE_AFTER", "DELETE", "UPSERT"].map(FlinkGatewayClient.rowKind) == [
                .insert, .updateBefore, .updateAfter, .delete, nil,
            ])
    }

    @Test(arguments: [
        (#"{"type":"DECIMAL","nullable":false,"precision":5,"scale":2}"#, "1.234", "'1.234' has more fraction digits than the scale 2"),
        (#"{"type":"DECIMAL","nullable":false,"precision":38,"scale":2}"#, "1234567890123456789012345678901234567", "has more than 38 digits"),
        (#"{"type":"BIGINT","nullable":false}"#, "9223372036854775808", "is not a BIGINT NOT NULL value"),
        (#"{"type":"INTEGER","nullable":false}"#, "1.5", "is not a INT NOT NULL value"),
        (#"{"type":"INTEGER","nullable":false}"#, #""1""#, "a JSON string is not a INT NOT NULL value"),
        (#"{"type":"DATE","nullable":false}"#, #""2023-02-29""#, "is not a DATE NOT NULL value"),
        (#"{"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","nullable":false,"precision":3}"#, #""2024-01-02T03:04:05""#, "is not a TIMESTAMP_LTZ(3)"),
        (#"{"type":"VARBINARY","nullable":false,"length":4}"#, #""not base64!""#, "is not a VARBINARY(4) NOT NULL value"),
        (
            #"{"type":"ROW","nullable":false,"fields":[{"name":"a","fieldType":{"type":"INTEGER","nullable":false}}]}"#, #"{"b":1}"#,
            "the ROW value has no field 'a'"
        ),
    ])
    func malformedValuesAreRefused(type: String, field: String, reason: String) throws {
        let decoder = FlinkRowDecoder(columns: [.init(name: "c", type: try Self.type(type))], localTimeZone: nil)
        let row = FlinkGatewayClient.Row(kind: .insert, fields: [try Self.json(field)])
        do {
            _ = try decoder.record(row)
            Issue.record("\(field) must not decode as \(type)")
        } catch {
            #expect(error.message.hasPrefix("Column 'c' ("))
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    @Test func rowsMustFitTheColumns() throws {
        let decoder = FlinkRowDecoder(columns: [.init(name: "a", type: SQLType(.integer))], localTimeZone: nil)
        #expect(throws: FlinkResultError("A result row has 2 fields for 1 columns")) {
            _ = try decoder.record(.init(kind: .insert, fields: [.number("1"), .number("2")]))
        }
    }

    @Test func schemaJSONIsTheEmbeddedBackendsForm() throws {
        let columns = [
            FlinkGatewayClient.Column(name: "d", type: try Self.type(#"{"type":"DECIMAL","nullable":false,"precision":5,"scale":2}"#)),
            FlinkGatewayClient.Column(
                name: "a", type: try Self.type(#"{"type":"ARRAY","nullable":true,"elementType":{"type":"INTEGER","nullable":false}}"#)),
        ]
        #expect(
            FlinkRowDecoder.schemaJSON(columns)
                == #"{"columns":[{"name":"d","type":{"type":"DECIMAL","nullable":false,"precision":5,"scale":2}},{"name":"a","type":{"type":"ARRAY","nullable":true,"element_type":{"type":"INTEGER","nullable":false}}}]}"#
        )
    }

    @Test func jsonKeepsNumberText() throws {
        let value = try Self.json(#" {"a": [1.50, -0, 1E+2, 12345678901234567890123.4567890], "b": "\ud83d\ude00", "c": [true, false, null]} "#)
        #expect(value["a"] == .array([.number("1.50"), .number("-0"), .number("1E+2"), .number("12345678901234567890123.4567890")]))
        #expect(value["b"] == .string("😀"))
        #expect(value["c"] == .array([.bool(true), .bool(false), .null]))
        #expect(value.json == ["a": [.double(1.5), 0, .double(100), .double(12345678901234567890123.4567890)], "b": "😀", "c": [true, false, nil]])
        for bad in ["", "[1,]", "{\"a\" 1}", "01", "1.", "-", "[1] x", "\"\\x\"", "\"open", "{\"a\":1,}", "nul"] {
            #expect(throws: FlinkResultError.self, "\(bad)") { _ = try Self.json(bad) }
        }
        #expect(throws: FlinkResultError.self) { _ = try Self.json(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)) }
    }

    @Test func stackTraces() throws {
        #expect(FlinkException(stackTrace: "Internal server error.") == nil)
        let single = try #require(FlinkException(stackTrace: "org.apache.flink.table.api.TableException: Unsupported query\n\tat x.Y.z(Y.java:1)"))
        #expect(single.chain == [.init(className: "org.apache.flink.table.api.TableException", message: "Unsupported query")])
        #expect(single.description == "org.apache.flink.table.api.TableException: Unsupported query")
        let multiline = """
            org.apache.flink.table.api.SqlParserException: SQL parse failed. Encountered "FORM" at line 1, column 10.
            Was expecting one of:
                <EOF>
                "FROM" ...
            \tat org.apache.flink.table.planner.parse.CalciteParser.parseSqlList(CalciteParser.java:81)
            Caused by: java.lang.NullPointerException
            \tat x.Y.z(Y.java:1)
            """
        let parsed = try #require(FlinkException(stackTrace: multiline))
        #expect(
            parsed.chain[0].message
                == "SQL parse failed. Encountered \"FORM\" at line 1, column 10.\nWas expecting one of:\n    <EOF>\n    \"FROM\" ...")
        #expect(parsed.root == .init(className: "java.lang.NullPointerException", message: ""))
        #expect(parsed.summary == "java.lang.NullPointerException")
    }
}
