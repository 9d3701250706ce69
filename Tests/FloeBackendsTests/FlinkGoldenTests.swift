// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSQL
import Foundation
import Synchronization
import Testing

@testable import FloeBackends

/// The same values through both backends: a SELECT run by the embedded engine, and the page the Flink SQL Gateway
/// answers for it (its columns' `logicalType`s and `rowFormat=JSON` fields, written out here as Flink's converters
/// write them), must give the same result records and the same schema.
@Suite struct FlinkGoldenTests {
    /// One expression: its SQL, the `logicalType` Flink reports for it, and the JSON field Flink sends.
    struct Case: Sendable, CustomTestStringConvertible {
        var sql: String
        var logicalType: String
        var field: String
        var properties: [String: String] = [:]

        var testDescription: String { sql }
    }

    static let cases: [Case] = [
        Case(sql: "CAST(1.50 AS DECIMAL(5,2))", logicalType: #"{"type":"DECIMAL","nullable":false,"precision":5,"scale":2}"#, field: "1.5"),
        Case(sql: "CAST(100 AS DECIMAL(5,2))", logicalType: #"{"type":"DECIMAL","nullable":false,"precision":5,"scale":2}"#, field: "1E+2"),
        Case(sql: "CAST(-0.05 AS DECIMAL(10,4))", logicalType: #"{"type":"DECIMAL","nullable":false,"precision":10,"scale":4}"#, field: "-0.05"),
        Case(
            sql: "CAST('-1234567890123456789012345678901234.5678' AS DECIMAL(38,4))",
            logicalType: #"{"type":"DECIMAL","nullable":true,"precision":38,"scale":4}"#, field: "-1234567890123456789012345678901234.5678"),
        Case(
            sql: "TIMESTAMP '2024-01-02 03:04:05.120'", logicalType: #"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":3}"#,
            field: #""2024-01-02T03:04:05.12""#),
        Case(
            sql: "TIMESTAMP '2024-01-02 03:04:00'", logicalType: #"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":0}"#,
            field: #""2024-01-02T03:04:00""#),
        Case(
            sql: "CAST('1960-05-06 07:08:09.000001' AS TIMESTAMP(6))",
            logicalType: #"{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":false,"precision":6}"#, field: #""1960-05-06T07:08:09.000001""#),
        Case(sql: "CAST(9007199254740993 AS BIGINT)", logicalType: #"{"type":"BIGINT","nullable":false}"#, field: "9007199254740993"),
        Case(sql: "CAST(-5 AS TINYINT)", logicalType: #"{"type":"TINYINT","nullable":false}"#, field: "-5"),
        Case(sql: "4.6e307", logicalType: #"{"type":"DOUBLE","nullable":false}"#, field: "4.6E307"),
        Case(sql: "CAST(0.00001 AS DOUBLE)", logicalType: #"{"type":"DOUBLE","nullable":false}"#, field: "1.0E-5"),
        Case(sql: "CAST(1.1 AS FLOAT)", logicalType: #"{"type":"FLOAT","nullable":false}"#, field: "1.1"),
        Case(sql: "1 = 1", logicalType: #"{"type":"BOOLEAN","nullable":false}"#, field: "true"),
        Case(sql: "'héllo'", logicalType: #"{"type":"CHAR","nullable":false,"length":5}"#, field: #""héllo""#),
        Case(sql: "CAST('ab' AS BYTES)", logicalType: #"{"type":"VARBINARY","nullable":false,"length":2147483647}"#, field: #""YWI=""#),
        Case(sql: "DATE '2024-01-02'", logicalType: #"{"type":"DATE","nullable":false}"#, field: #""2024-01-02""#),
        Case(sql: "TIME '03:04:05'", logicalType: #"{"type":"TIME_WITHOUT_TIME_ZONE","nullable":false,"precision":0}"#, field: #""03:04:05""#),
        Case(
            sql: "TO_TIMESTAMP_LTZ(1704164645100, 3)", logicalType: #"{"type":"TIMESTAMP_WITH_LOCAL_TIME_ZONE","nullable":true,"precision":3}"#,
            field: #""2024-01-02T03:04:05.1Z""#, properties: ["sql.local-time-zone": "Asia/Kolkata"]),
        Case(
            sql: "ARRAY[1,2]", logicalType: #"{"type":"ARRAY","nullable":false,"elementType":{"type":"INTEGER","nullable":false}}"#, field: "[1,2]"),
        Case(
            sql: "MAP['x',1]",
            logicalType:
                #"{"type":"MAP","nullable":false,"keyType":{"type":"CHAR","nullable":false,"length":1},"valueType":{"type":"INTEGER","nullable":false}}"#,
            field: #"{"x":1}"#),
        Case(
            sql: "ROW(1,'z')",
            logicalType:
                #"{"type":"ROW","nullable":false,"fields":[{"name":"EXPR$0","fieldType":{"type":"INTEGER","nullable":false}},{"name":"EXPR$1","fieldType":{"type":"CHAR","nullable":false,"length":1}}]}"#,
            field: #"{"EXPR$0":1,"EXPR$1":"z"}"#),
        Case(sql: "CAST(NULL AS INT)", logicalType: #"{"type":"INTEGER","nullable":true}"#, field: "null"),
    ]

    /// Collects what a backend delivers.
    final class Collector: ResultSink {
        private let records = Mutex<[ResultRecord]>([])

        func deliver(_ batch: [ResultRecord]) async throws { records.withLock { $0.append(contentsOf: batch) } }

        var collected: [ResultRecord] { records.withLock { $0 } }
    }

    @Test(arguments: cases)
    func sameRecordsAndSchemaAsTheEmbeddedEngine(_ testCase: Case) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floe-flink-golden-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = try EmbeddedBackend(directory: directory)
        let context = ExecutionContext(
            environment: (id: "env-1", name: "dev"), catalogs: [(id: "env-1", name: "dev", access: .all)], properties: testCase.properties)
        let prepared = try await backend.prepare("SELECT \(testCase.sql) AS v", in: context)
        let collector = Collector()
        try await prepared.run(deliveringTo: collector, skippingFirst: 0, control: RunControl())

        // The page the gateway answers for the same statement.
        let page = try FlinkGatewayClient.page(
            try FlinkJSONValue.parse(
                Array(
                    #"""
                    {"resultType":"PAYLOAD","isQueryResult":true,"jobID":"94adf6c4d3a337542e135486643fa2df","resultKind":"SUCCESS_WITH_CONTENT",
                     "results":{"columns":[{"name":"v","logicalType":\#(testCase.logicalType),"comment":null}],"rowFormat":"JSON",
                                "data":[{"kind":"INSERT","fields":[\#(testCase.field)]}]},
                     "nextResultUri":"/v3/sessions/s/operations/o/result/2?rowFormat=JSON"}
                    """#.utf8)),
            address: "test")
        let decoder = FlinkRowDecoder(columns: page.columns, localTimeZone: testCase.properties["sql.local-time-zone"])
        let flinkRecords = try page.rows.map { try decoder.record($0) }

        #expect(flinkRecords == collector.collected)
        #expect(FlinkRowDecoder.schemaJSON(page.columns) == prepared.traits.schemaJSON)
    }
}
