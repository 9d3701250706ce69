// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import FloeBackends

/// A statement's run on a Flink cluster against a scripted gateway and JobManager: what is submitted, what is
/// re-attached instead, how results are delivered once, and how a stop takes a savepoint that a resumption restores.
@Suite struct FlinkExecutionTests {
    static let uid = "0f0e0d0c-0b0a-4909-8807-060504030201"
    static let insertTraits = StatementTraitsRecord(sqlKind: "INSERT_INTO", isBounded: false, isAppendOnly: true, upsertColumns: nil, schemaJSON: nil)
    static let queryTraits = StatementTraitsRecord(sqlKind: "SELECT", isBounded: true, isAppendOnly: true, upsertColumns: nil, schemaJSON: nil)

    final class Collector: ResultSink {
        private let records = Mutex<[ResultRecord]>([])
        func deliver(_ batch: [ResultRecord]) async throws { records.withLock { $0 += batch } }
        var all: [ResultRecord] { records.withLock { $0 } }
    }

    static func execution(
        _ traits: StatementTraitsRecord, url: String, records: FlinkRunRecords, sql: String = "INSERT INTO t SELECT * FROM s"
    )
        -> FlinkExecution
    {
        FlinkExecution(
            traits: traits, sql: sql, declarations: ["CREATE CATALOG `dev` WITH ('type' = 'generic_in_memory')"], statementID: uid,
            properties: [:], cluster: FlinkCluster(regionID: "aws.us-east-1", gatewayURL: url, jobManagerURL: url), records: records,
            logger: Logger(label: "test"))
    }

    static func records() throws -> (FlinkRunRecords, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floe-flink-runs-\(UUID().uuidString)")
        return (try FlinkRunRecords(directory: directory), directory)
    }

    static func job(_ state: String) -> ScriptedFlinkServer.Answer { .ok(#"{"jid":"j1","name":"floe-x","state":"\#(state)","vertices":[]}"#) }

    static let columns = #"[{"name":"x","logicalType":{"type":"INTEGER","nullable":false},"comment":null}]"#

    static func page(_ type: String, rows: [Int], next: Int?) -> ScriptedFlinkServer.Answer {
        let data = rows.map { #"{"kind":"INSERT","fields":[\#($0)]}"# }.joined(separator: ",")
        let nextURI = next.map { #","nextResultUri":"/v3/sessions/s1/operations/o1/result/\#($0)?rowFormat=JSON""# } ?? ""
        return .ok(
            #"{"resultType":"\#(type)","isQueryResult":true,"jobID":"j1","resultKind":"SUCCESS_WITH_CONTENT","results":{"columns":\#(columns),"rowFormat":"JSON","data":[\#(data)]}\#(nextURI)}"#
        )
    }

    /// What the scripted server was asked to submit.
    static func submissions(_ server: ScriptedFlinkServer) -> [ScriptedFlinkServer.Received] {
        server.received.filter { $0.method == "POST" && $0.target.hasSuffix("/statements") }
    }

    @Test func aQueryIsSubmittedInItsOwnSessionAndItsRowsDeliveredInTheEnginesEncoding() async throws {
        let (records, directory) = try Self.records()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = ScriptedFlinkServer()
        server.on("POST", "/v3/sessions", .ok(#"{"sessionHandle":"s1"}"#))
        server.on("POST", "/v3/sessions/s1/configure-session", .ok("{}"))
        server.on("POST", "/v3/sessions/s1/statements", .ok(#"{"operationHandle":"o1"}"#))
        server.on(
            "GET", "/v3/sessions/s1/operations/o1/result/0?rowFormat=JSON",
            .ok(#"{"resultType":"NOT_READY","nextResultUri":"/v3/sessions/s1/operations/o1/result/0?rowFormat=JSON"}"#),
            Self.page("PAYLOAD", rows: [], next: 1))
        server.on("GET", "/v3/sessions/s1/operations/o1/result/1?rowFormat=JSON", Self.page("PAYLOAD", rows: [1, 2], next: 2))
        server.on("GET", "/v3/sessions/s1/operations/o1/result/2?rowFormat=JSON", Self.page("EOS", rows: [], next: nil))
        server.on("DELETE", "/v3/sessions/s1", .ok(#"{"status":"CLOSED"}"#))
        let sink = Collector()
        try await server.serve { url in
            try await Self.execution(Self.queryTraits, url: url, records: records, sql: "SELECT x FROM s").run(
                deliveringTo: sink, skippingFirst: 0, control: RunControl())
        }
        #expect(sink.all == [ResultRecord(op: 0, row: ["1"]), ResultRecord(op: 0, row: ["2"])])
        let submitted = try #require(Self.submissions(server).first)
        #expect(submitted.body?["statement"]?.stringValue == "SELECT x FROM s")
        #expect(submitted.body?.value(at: "executionConfig", "pipeline.name")?.stringValue == "floe-\(Self.uid)")
        #expect(server.received.contains { $0.method == "POST" && $0.target.hasSuffix("/configure-session") })
        // Done: the session is closed, and nothing of the run is kept to re-attach to.
        #expect(server.received.last?.method == "DELETE")
        #expect(records.record(Self.uid)?.operation == nil)
    }

    @Test func aQueryReattachesToItsNextPageAndDeliversOnlyWhatWasNotStored() async throws {
        let (records, directory) = try Self.records()
        defer { try? FileManager.default.removeItem(at: directory) }
        var record = FlinkRunRecord()
        record.session = FlinkGatewayClient.SessionHandle(id: "s1")
        record.operation = FlinkGatewayClient.OperationHandle(session: record.session!, id: "o1")
        record.nextResultURI = "/v3/sessions/s1/operations/o1/result/1?rowFormat=JSON"
        record.rowsBefore = 2
        try records.save(record, for: Self.uid)
        let server = ScriptedFlinkServer()
        // The page after the two rows delivered before; a crash came after the third was stored, before the record said so.
        server.on("GET", "/v3/sessions/s1/operations/o1/result/1?rowFormat=JSON", Self.page("PAYLOAD", rows: [3, 4], next: 2))
        server.on("GET", "/v3/sessions/s1/operations/o1/result/2?rowFormat=JSON", Self.page("EOS", rows: [], next: nil))
        server.on("DELETE", "/v3/sessions/s1", .ok(#"{"status":"CLOSED"}"#))
        let sink = Collector()
        try await server.serve { url in
            try await Self.execution(Self.queryTraits, url: url, records: records).run(deliveringTo: sink, skippingFirst: 3, control: RunControl())
        }
        #expect(sink.all == [ResultRecord(op: 0, row: ["4"])])
        #expect(Self.submissions(server).isEmpty)
    }

    @Test func anInsertReattachesToItsJobAndIsNeverSubmittedAgain() async throws {
        let (records, directory) = try Self.records()
        defer { try? FileManager.default.removeItem(at: directory) }
        var record = FlinkRunRecord()
        record.session = FlinkGatewayClient.SessionHandle(id: "s1")
        record.jobID = "j1"
        try records.save(record, for: Self.uid)
        let server = ScriptedFlinkServer()
        server.on("GET", "/jobs/j1", Self.job("RUNNING"), Self.job("RUNNING"), Self.job("FINISHED"))
        server.on("DELETE", "/v3/sessions/s1", .ok(#"{"status":"CLOSED"}"#))
        try await server.serve { url in
            try await Self.execution(Self.insertTraits, url: url, records: records).run(
                deliveringTo: Collector(), skippingFirst: 0, control: RunControl())
        }
        #expect(Self.submissions(server).isEmpty)
        #expect(server.received.filter { $0.target == "/jobs/j1" }.count >= 3)
    }

    @Test func aFailedJobFailsTheStatementWithItsRootCause() async throws {
        let (records, directory) = try Self.records()
        defer { try? FileManager.default.removeItem(at: directory) }
        try records.update(Self.uid) { $0.jobID = "j1" }
        let server = ScriptedFlinkServer()
        server.on("GET", "/jobs/j1", Self.job("FAILED"))
        let trace =
            "org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat x.y(Z.java:1)\nCaused by: java.lang.ArithmeticException: / by zero\n\tat a.b(C.java:2)"
        server.on(
            "GET", "/jobs/j1/exceptions?maxExceptions=10",
            .json(
                200,
                [
                    "exceptionHistory": [
                        "entries": [["exceptionName": "org.apache.flink.runtime.JobException", "stacktrace": .string(trace), "timestamp": 5]]
                    ]
                ]))
        await #expect {
            try await server.serve { url in
                try await Self.execution(Self.insertTraits, url: url, records: records).run(
                    deliveringTo: Collector(), skippingFirst: 0, control: RunControl())
            }
        } throws: { error in
            guard let failure = error as? ExecutionFailure else { return false }
            return failure.message == "/ by zero" && failure.exceptionName == "java.lang.ArithmeticException"
        }
    }

    @Test func aStopTakesASavepointThatTheResumedRunRestoresOnce() async throws {
        let (records, directory) = try Self.records()
        defer { try? FileManager.default.removeItem(at: directory) }
        try records.update(Self.uid) { record in
            record.session = FlinkGatewayClient.SessionHandle(id: "s0")
            record.jobID = "j1"
        }
        let server = ScriptedFlinkServer()
        server.on("GET", "/jobs/j1", Self.job("RUNNING"))
        server.on("POST", "/jobs/j1/stop", .ok(#"{"request-id":"r1"}"#))
        server.on("GET", "/jobs/j1/savepoints/r1", .ok(#"{"status":{"id":"COMPLETED"},"operation":{"location":"file:/sp/savepoint-1"}}"#))
        server.on("DELETE", "/v3/sessions/s0", .ok(#"{"status":"CLOSED"}"#))
        try await server.serve { url in
            let control = RunControl()
            let execution = Self.execution(Self.insertTraits, url: url, records: records)
            let run = Task { try await execution.run(deliveringTo: Collector(), skippingFirst: 0, control: control) }
            try await Task.sleep(for: .milliseconds(300))
            control.end(.stop)
            run.cancel()
            // A stop that took its savepoint ends the run normally: the statement is STOPPED, not failed.
            try await run.value
        }
        #expect(server.received.contains { $0.method == "POST" && $0.target == "/jobs/j1/stop" })
        #expect(records.record(Self.uid)?.savepoint == "file:/sp/savepoint-1")
        #expect(records.record(Self.uid)?.jobID == nil)

        // Resumed: a new job restored from the savepoint, which is then reset so no later job restores it.
        let resumed = ScriptedFlinkServer()
        resumed.on("POST", "/v3/sessions", .ok(#"{"sessionHandle":"s1"}"#))
        resumed.on("POST", "/v3/sessions/s1/configure-session", .ok("{}"))
        resumed.on("POST", "/v3/sessions/s1/statements", .ok(#"{"operationHandle":"o1"}"#))
        resumed.on(
            "GET", "/v3/sessions/s1/operations/o1/result/0?rowFormat=JSON",
            .ok(
                #"{"resultType":"PAYLOAD","isQueryResult":false,"jobID":"j2","resultKind":"SUCCESS_WITH_CONTENT","results":{"columns":[{"name":"job id","logicalType":{"type":"VARCHAR","nullable":true,"length":2147483647}}],"rowFormat":"JSON","data":[{"kind":"INSERT","fields":["j2"]}]},"nextResultUri":"/v3/sessions/s1/operations/o1/result/1?rowFormat=JSON"}"#
            ))
        resumed.on("GET", "/jobs/j2", .ok(#"{"jid":"j2","name":"floe-x","state":"FINISHED","vertices":[]}"#))
        resumed.on("DELETE", "/v3/sessions/s1", .ok(#"{"status":"CLOSED"}"#))
        try await resumed.serve { url in
            try await Self.execution(Self.insertTraits, url: url, records: records).run(
                deliveringTo: Collector(), skippingFirst: 0, control: RunControl())
        }
        let configured = resumed.received.filter { $0.target.hasSuffix("/configure-session") }.compactMap { $0.body?["statement"]?.stringValue }
        #expect(configured.contains("SET 'execution.savepoint.path' = 'file:/sp/savepoint-1'"))
        #expect(configured.last == "RESET 'execution.savepoint.path'")
        #expect(Self.submissions(resumed).count == 1)
        #expect(records.record(Self.uid)?.savepoint == nil)
    }

    @Test func aDeletedStatementsJobIsCancelledAndItsRecordForgotten() async throws {
        let (records, directory) = try Self.records()
        defer { try? FileManager.default.removeItem(at: directory) }
        try records.update(Self.uid) { record in
            record.session = FlinkGatewayClient.SessionHandle(id: "s0")
            record.operation = FlinkGatewayClient.OperationHandle(session: record.session!, id: "o0")
            record.jobID = "j1"
        }
        let server = ScriptedFlinkServer()
        server.on("GET", "/jobs/j1", Self.job("RUNNING"))
        server.on("DELETE", "/v3/sessions/s0/operations/o0/close", .ok(#"{"status":"CLOSED"}"#))
        server.on("PATCH", "/jobs/j1?mode=cancel", .status(202, "{}"))
        server.on("DELETE", "/v3/sessions/s0", .ok(#"{"status":"CLOSED"}"#))
        try await server.serve { url in
            let control = RunControl()
            let execution = Self.execution(Self.insertTraits, url: url, records: records)
            let run = Task { try await execution.run(deliveringTo: Collector(), skippingFirst: 0, control: control) }
            try await Task.sleep(for: .milliseconds(300))
            control.end(.cancel)
            run.cancel()
            await #expect(throws: CancellationError.self) { try await run.value }
        }
        #expect(server.received.contains { $0.method == "PATCH" && $0.target == "/jobs/j1?mode=cancel" })
        #expect(records.record(Self.uid) == nil)
    }
}
