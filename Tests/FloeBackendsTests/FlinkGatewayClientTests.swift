// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSQL
import Testing

@testable import FloeBackends

/// The gateway client against a stand-in replaying the exchanges of a real Flink 2.1.0 SQL Gateway
/// (shared/reference/flink-sql-gateway.md).
@Suite struct FlinkGatewayClientTests {
    static let session = "b30d04e7-1dcd-4a6a-8eb1-253c7523b33b"
    static let operation = "61a61ae7-4944-41c2-bf00-c0c36ecc005f"
    static let operationPath = "/v3/sessions/\(session)/operations/\(operation)"
    static let intColumns =
        #"[{"name":"x","logicalType":{"type":"INTEGER","nullable":false},"comment":null},{"name":"y","logicalType":{"type":"INTEGER","nullable":false},"comment":null}]"#

    @Test func sessionLifecycle() async throws {
        let server = ScriptedFlinkServer()
        let s = Self.session
        server.on("GET", "/v3/info", .ok(#"{"productName":"Apache Flink","version":"2.1.0"}"#))
        server.on("POST", "/v3/sessions", .ok(#"{"sessionHandle":"\#(s)"}"#))
        server.on("POST", "/v3/sessions/\(s)/heartbeat", .ok("{}"))
        server.on("POST", "/v3/sessions/\(s)/configure-session", .ok("{}"))
        server.on(
            "GET", "/v3/sessions/\(s)",
            .ok(#"{"properties":{"execution.runtime-mode":"streaming","parallelism.default":"1","sql-gateway.session.idle-timeout":"10 min"}}"#))
        server.on("DELETE", "/v3/sessions/\(s)", .ok(#"{"status":"CLOSED"}"#))
        try await server.serve { (url: String) async throws in
            let gateway = FlinkGatewayClient(baseURL: url)
            let info = try await gateway.info()
            #expect(info.productName == "Apache Flink" && info.version == "2.1.0")
            let session = try await gateway.openSession(name: "demo", properties: ["execution.runtime-mode": "batch"])
            #expect(session.id == s)
            try await gateway.heartbeat(session)
            try await gateway.configureSession(session, statement: "SET 'execution.runtime-mode' = 'streaming'")
            let properties = try await gateway.sessionProperties(session)
            #expect(properties["execution.runtime-mode"] == "streaming")
            #expect(properties["parallelism.default"] == "1")
            try await gateway.closeSession(session)
        }
        let sent = server.received
        #expect(sent.map { "\($0.method) \($0.target)" }.count == 6)
        #expect(sent[1].body == ["sessionName": "demo", "properties": ["execution.runtime-mode": "batch"]])
        #expect(sent[3].body == ["statement": "SET 'execution.runtime-mode' = 'streaming'"])
    }

    @Test func queryPagesFollowNextResultURIThroughNotReadyToEOS() async throws {
        let server = ScriptedFlinkServer()
        let (s, op, path) = (Self.session, Self.operation, Self.operationPath)
        let job = "94adf6c4d3a337542e135486643fa2df"
        server.on("POST", "/v3/sessions/\(s)/statements", .ok(#"{"operationHandle":"\#(op)"}"#))
        server.on("GET", "\(path)/status", .ok(#"{"status":"RUNNING"}"#), .ok(#"{"status":"FINISHED"}"#))
        server.on(
            "GET", "\(path)/result/0?rowFormat=JSON",
            .ok(#"{"resultType":"NOT_READY","nextResultUri":"\#(path)/result/0?rowFormat=JSON"}"#),
            .ok(
                #"{"resultType":"PAYLOAD","isQueryResult":true,"jobID":"\#(job)","resultKind":"SUCCESS_WITH_CONTENT","results":{"columns":\#(Self.intColumns),"rowFormat":"JSON","data":[]},"nextResultUri":"\#(path)/result/1?rowFormat=JSON"}"#
            ))
        server.on(
            "GET", "\(path)/result/1?rowFormat=JSON",
            .ok(
                #"{"resultType":"PAYLOAD","isQueryResult":true,"jobID":"\#(job)","resultKind":"SUCCESS_WITH_CONTENT","results":{"columns":\#(Self.intColumns),"rowFormat":"JSON","data":[{"kind":"INSERT","fields":[1,10]},{"kind":"INSERT","fields":[2,20]},{"kind":"INSERT","fields":[3,30]}]},"nextResultUri":"\#(path)/result/2?rowFormat=JSON"}"#
            ))
        server.on(
            "GET", "\(path)/result/2?rowFormat=JSON",
            .ok(
                #"{"resultType":"EOS","isQueryResult":true,"jobID":"\#(job)","resultKind":"SUCCESS_WITH_CONTENT","results":{"columns":\#(Self.intColumns),"rowFormat":"JSON","data":[]}}"#
            ))
        server.on("DELETE", "\(path)/close", .ok(#"{"status":"CLOSED"}"#))
        try await server.serve { (url: String) async throws in
            let gateway = FlinkGatewayClient(baseURL: url)
            let session = FlinkGatewayClient.SessionHandle(id: s)
            let operation = try await gateway.submit(
                "SELECT x, x * 10 AS y FROM (VALUES (1), (2), (3)) AS t(x)", in: session, executionConfig: ["parallelism.default": "1"])
            #expect(operation == FlinkGatewayClient.OperationHandle(session: session, id: op))
            #expect(try await gateway.status(operation) == .running)
            #expect(try await gateway.status(operation) == .finished)

            var page = try await gateway.fetch(operation)
            var types: [FlinkGatewayClient.ResultType] = [page.resultType]
            var records: [ResultRecord] = []
            var columns: [FlinkGatewayClient.Column] = []
            while let next = page.nextResultURI {
                page = try await gateway.fetch(resultURI: next)
                types.append(page.resultType)
                if !page.columns.isEmpty { columns = page.columns }
                let decoder = FlinkRowDecoder(columns: columns, localTimeZone: nil)
                records += try decoder.records(page.rows)
                #expect(page.jobID == job)
                #expect(page.isQueryResult == true)
                #expect(page.resultKind == .successWithContent)
            }
            #expect(types == [.notReady, .payload, .payload, .eos])
            #expect(
                columns == [.init(name: "x", type: SQLType(.integer, nullable: false)), .init(name: "y", type: SQLType(.integer, nullable: false))])
            #expect(
                records == [ResultRecord(op: 0, row: ["1", "10"]), ResultRecord(op: 0, row: ["2", "20"]), ResultRecord(op: 0, row: ["3", "30"])])
            #expect(try await gateway.closeOperation(operation) == .closed)
        }
        #expect(
            server.received[0].body == [
                "statement": "SELECT x, x * 10 AS y FROM (VALUES (1), (2), (3)) AS t(x)", "executionConfig": ["parallelism.default": "1"],
            ])
    }

    @Test func ddlAndInsertPages() async throws {
        let server = ScriptedFlinkServer()
        let path = Self.operationPath
        let insertOperation = "/v3/sessions/\(Self.session)/operations/effd31b3-0000-0000-0000-000000000000"
        server.on(
            "GET", "\(path)/result/0?rowFormat=JSON",
            .ok(
                #"{"resultType":"PAYLOAD","isQueryResult":false,"resultKind":"SUCCESS","results":{"columns":[{"name":"result","logicalType":{"type":"VARCHAR","nullable":true,"length":2147483647},"comment":null}],"rowFormat":"JSON","data":[{"kind":"INSERT","fields":["OK"]}]},"nextResultUri":"\#(path)/result/1?rowFormat=JSON"}"#
            ))
        server.on(
            "GET", "\(insertOperation)/result/0?rowFormat=JSON",
            .ok(
                #"{"resultType":"PAYLOAD","isQueryResult":false,"jobID":"effd31b3ff4ef9a1be2123e4316771d2","resultKind":"SUCCESS_WITH_CONTENT","results":{"columns":[{"name":"job id","logicalType":{"type":"VARCHAR","nullable":false,"length":2147483647},"comment":null}],"rowFormat":"JSON","data":[{"kind":"INSERT","fields":["effd31b3ff4ef9a1be2123e4316771d2"]}]},"nextResultUri":"\#(insertOperation)/result/1?rowFormat=JSON"}"#
            ))
        try await server.serve { (url: String) async throws in
            let gateway = FlinkGatewayClient(baseURL: url)
            let session = FlinkGatewayClient.SessionHandle(id: Self.session)
            let ddl = try await gateway.fetch(.init(session: session, id: Self.operation))
            #expect(ddl.resultType == .payload && ddl.isQueryResult == false && ddl.jobID == nil && ddl.resultKind == .success)
            #expect(ddl.columns == [.init(name: "result", type: .string)])
            #expect(ddl.rows == [.init(kind: .insert, fields: [.string("OK")])])
            #expect(
                FlinkRowDecoder.schemaJSON(ddl.columns)
                    == #"{"columns":[{"name":"result","type":{"type":"VARCHAR","nullable":true,"length":2147483647}}]}"#)

            let insert = try await gateway.fetch(.init(session: session, id: "effd31b3-0000-0000-0000-000000000000"))
            #expect(insert.jobID == "effd31b3ff4ef9a1be2123e4316771d2")
            #expect(insert.isQueryResult == false && insert.resultKind == .successWithContent)
            #expect(insert.rows.first?.fields == [.string("effd31b3ff4ef9a1be2123e4316771d2")])
        }
    }

    @Test func failedStatementAnswersTheRootCause() async throws {
        let server = ScriptedFlinkServer()
        let path = Self.operationPath
        server.on("GET", "\(path)/status", .ok(#"{"status":"ERROR"}"#))
        server.on("GET", "\(path)/result/0?rowFormat=JSON", .json(500, serverSideError(unknownColumnTrace)))
        try await server.serve { (url: String) async throws in
            let gateway = FlinkGatewayClient(baseURL: url)
            let operation = FlinkGatewayClient.OperationHandle(session: .init(id: Self.session), id: Self.operation)
            #expect(try await gateway.status(operation) == .error)
            do {
                _ = try await gateway.fetch(operation)
                Issue.record("a failed statement's fetch must throw")
            } catch let FlinkRESTError.status(code, address, message, exception) {
                #expect(code == 500)
                #expect(address == url + path + "/result/0?rowFormat=JSON")
                #expect(message == "Column 'nope' not found in any table")
                let exception = try #require(exception)
                #expect(
                    exception.root
                        == .init(className: "org.apache.calcite.sql.validate.SqlValidatorException", message: "Column 'nope' not found in any table"))
                #expect(
                    exception.chain.map(\.className) == [
                        "org.apache.flink.table.gateway.api.utils.SqlGatewayException",
                        "org.apache.flink.table.gateway.api.utils.SqlGatewayException",
                        "org.apache.flink.table.gateway.service.utils.SqlExecutionException",
                        "org.apache.flink.table.api.ValidationException",
                        "org.apache.calcite.runtime.CalciteContextException",
                        "org.apache.calcite.sql.validate.SqlValidatorException",
                    ], "suppressed exceptions and their causes are not part of the chain")
                #expect(exception.chain[3].message.hasPrefix("SQL validation failed. From line 1, column 8 to line 1, column 11:"))
                #expect(exception.text.contains("FetchResultsHandler.java:91"), "the full trace stays available")
            }
        }
    }

    @Test func cancelAfterFinishedIsRefusedAndCloseStopsTheQuery() async throws {
        let server = ScriptedFlinkServer()
        let path = Self.operationPath
        let trace = """
            org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to cancelOperation.
            \tat org.apache.flink.table.gateway.rest.handler.operation.AbstractOperationHandler.handleRequest(AbstractOperationHandler.java:75)
            Caused by: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to convert the Operation Status from FINISHED to CANCELED for 61a61ae7-4944-41c2-bf00-c0c36ecc005f.
            \tat org.apache.flink.table.gateway.service.operation.OperationManager$Operation.updateState(OperationManager.java:377)
            \t... 40 more
            """
        server.on("POST", "\(path)/cancel", .json(500, serverSideError(trace)))
        server.on("DELETE", "\(path)/close", .ok(#"{"status":"CLOSED"}"#))
        try await server.serve { (url: String) async throws in
            let gateway = FlinkGatewayClient(baseURL: url)
            let operation = FlinkGatewayClient.OperationHandle(session: .init(id: Self.session), id: Self.operation)
            await #expect {
                try await gateway.cancel(operation)
            } throws: { error in
                guard case FlinkRESTError.status(500, _, let message, _) = error else { return false }
                return message == "Failed to convert the Operation Status from FINISHED to CANCELED for 61a61ae7-4944-41c2-bf00-c0c36ecc005f."
            }
            #expect(try await gateway.closeOperation(operation) == .closed)
        }
    }

    @Test func plainErrorsMalformedAnswersAndUnreachableGateways() async throws {
        let server = ScriptedFlinkServer()
        server.on("POST", "/v3/sessions/nope/heartbeat", .status(404, #"{"errors":["Session 'nope' does not exist."]}"#))
        server.on("POST", "/v3/sessions", .ok(#"{"handle":"x"}"#))
        server.on("GET", "/v3/sessions/s/operations/o/status", .ok(#"{"status":"SLEEPING"}"#))
        server.on(
            "GET", "/v3/sessions/s/operations/o/result/0?rowFormat=JSON",
            .ok(
                #"{"resultType":"PAYLOAD","results":{"columns":[{"name":"t","logicalType":{"type":"TIMESTAMP_WITH_TIME_ZONE","nullable":true,"precision":3}}],"data":[]}}"#
            ))
        try await server.serve { (url: String) async throws in
            let gateway = FlinkGatewayClient(baseURL: url)
            await #expect(
                throws: FlinkRESTError.status(
                    code: 404, address: url + "/v3/sessions/nope/heartbeat", message: "Session 'nope' does not exist.", exception: nil)
            ) {
                try await gateway.heartbeat(.init(id: "nope"))
            }
            await #expect(throws: FlinkRESTError.malformedResponse(address: url + "/v3/sessions", field: "sessionHandle")) {
                _ = try await gateway.openSession()
            }
            let operation = FlinkGatewayClient.OperationHandle(session: .init(id: "s"), id: "o")
            await #expect(throws: FlinkRESTError.malformedResponse(address: url + "/v3/sessions/s/operations/o/status", field: "status")) {
                _ = try await gateway.status(operation)
            }
            await #expect(throws: FlinkResultError("Flink's type TIMESTAMP_WITH_TIME_ZONE has no counterpart in Floe's results")) {
                _ = try await gateway.fetch(operation)
            }
        }
        // Nothing listens on port 1.
        let closed = FlinkGatewayClient(baseURL: "http://127.0.0.1:1", timeout: .seconds(5))
        await #expect {
            _ = try await closed.openSession()
        } throws: { error in
            guard case FlinkRESTError.unreachable(let address, _) = error else { return false }
            return address == "http://127.0.0.1:1/v3/sessions"
        }
    }

    @Test func requestTimeout() async throws {
        // A listener that accepts connections and never answers.
        let listener = try SilentListener()
        defer { listener.close() }
        let gateway = FlinkGatewayClient(baseURL: "http://127.0.0.1:\(listener.port)", timeout: .milliseconds(300))
        let started = ContinuousClock.now
        await #expect(throws: FlinkRESTError.timedOut(address: "http://127.0.0.1:\(listener.port)/v3/info", after: .milliseconds(300))) {
            _ = try await gateway.info()
        }
        // The error alone shows the deadline fired; the bound only catches a wait for the transport's own timeouts, and
        // is loose because the whole suite runs in parallel on two cores.
        #expect(ContinuousClock.now - started < .seconds(25))
    }
}
