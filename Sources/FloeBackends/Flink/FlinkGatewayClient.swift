// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
public import FloeSQL
import Foundation

/// A client of the Flink SQL Gateway's REST API (v3, as Flink 2.1 serves it): sessions, statements, their status and
/// result pages.
///
/// Each call is one HTTP/1.1 exchange through ``FloeClient`` with the client's per-request timeout; an answer is at
/// most FloeClient's response limit (64 MiB). The exchanges follow what a real 2.1.0 gateway answered
/// (docs in `shared/reference/flink-sql-gateway.md`): results are paged by token and a client follows each page's
/// `nextResultUri` until a page has none (EOS); a failed statement shows as HTTP 500 on the fetch, whose stack trace's
/// root cause is the message (``FlinkRESTError/status(code:address:message:exception:)``).
public struct FlinkGatewayClient: Sendable {
    let rest: FlinkREST

    /// The gateway's base URL, e.g. `http://127.0.0.1:8083`.
    public var baseURL: String { rest.baseURL }

    /// A client of the gateway at `baseURL` (`http://` only); each request may take up to `timeout`.
    public init(baseURL: String, timeout: Duration = .seconds(30)) {
        rest = FlinkREST(baseURL: baseURL, timeout: timeout)
    }

    /// The API version every path uses.
    static let version = "/v3"

    // MARK: Types

    /// A gateway session (it holds the catalog, the configuration and the operations). Codable so that a statement's
    /// run can be stored and re-attached after a restart.
    public struct SessionHandle: Sendable, Hashable, Codable {
        public var id: String

        public init(id: String) { self.id = id }

        var path: String { FlinkGatewayClient.version + "/sessions/" + id.flinkPathSegment }
    }

    /// A statement submitted in a session.
    public struct OperationHandle: Sendable, Hashable, Codable {
        public var session: SessionHandle
        public var id: String

        public init(session: SessionHandle, id: String) {
            self.session = session
            self.id = id
        }

        var path: String { session.path + "/operations/" + id.flinkPathSegment }
    }

    /// An operation's status, as Flink's `OperationStatus` names it.
    public enum OperationStatus: String, Sendable, Codable, CaseIterable {
        /// Created, not yet submitted to the executor.
        case initialized = "INITIALIZED"
        /// Submitted, waiting for a worker.
        case pending = "PENDING"
        /// Executing. A SELECT leaves this state as soon as its job is submitted (then FINISHED, though its rows keep
        /// coming through the result pages).
        case running = "RUNNING"
        /// The statement's execution ended (for a query: its job was submitted and its results can be fetched).
        case finished = "FINISHED"
        /// Cancelled by the client.
        case canceled = "CANCELED"
        /// Closed by the client; its resources are released.
        case closed = "CLOSED"
        /// Failed; fetching its result answers the exception.
        case error = "ERROR"
        /// Ran longer than its execution timeout.
        case timeout = "TIMEOUT"

        /// Whether the operation can no longer change status (every state but INITIALIZED, PENDING and RUNNING).
        public var isTerminal: Bool { ![.initialized, .pending, .running].contains(self) }
    }

    /// How the gateway writes row fields: JSON values (`RowDataToJsonConverters`) or their `toString` text.
    public enum RowFormat: String, Sendable, Codable {
        case json = "JSON"
        case plainText = "PLAIN_TEXT"
    }

    /// What a result page holds.
    public enum ResultType: String, Sendable, Codable {
        /// No rows yet: fetch the same `nextResultUri` again later.
        case notReady = "NOT_READY"
        /// Rows (maybe none), and a `nextResultUri` for the next page.
        case payload = "PAYLOAD"
        /// The end of the result: no next page.
        case eos = "EOS"
    }

    /// Whether a statement has rows to show (Flink's `ResultKind`).
    public enum ResultKind: String, Sendable, Codable {
        /// DDL and other statements whose only row is `OK`.
        case success = "SUCCESS"
        /// Queries, SHOW, INSERT (its job id), …
        case successWithContent = "SUCCESS_WITH_CONTENT"
    }

    /// A result column: its name and type (from the gateway's `logicalType`).
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: SQLType
        public var comment: String?

        public init(name: String, type: SQLType, comment: String? = nil) {
            self.name = name
            self.type = type
            self.comment = comment
        }
    }

    /// One change of a result: its kind and its fields as the gateway wrote them (numbers keep their text).
    public struct Row: Sendable, Equatable {
        public var kind: RowKind
        public var fields: [FlinkJSONValue]

        public init(kind: RowKind, fields: [FlinkJSONValue]) {
            self.kind = kind
            self.fields = fields
        }
    }

    /// One page of an operation's result.
    public struct ResultPage: Sendable, Equatable {
        public var resultType: ResultType
        /// Whether the statement is a query (its rows are its result) rather than DDL, SHOW or INSERT; nil on a
        /// NOT_READY page, which says nothing else.
        public var isQueryResult: Bool?
        /// The Flink job the statement started (queries and INSERTs), if any.
        public var jobID: String?
        public var resultKind: ResultKind?
        /// The result's columns (empty on a NOT_READY page).
        public var columns: [Column]
        public var rowFormat: RowFormat?
        public var rows: [Row]
        /// The path (or URL) of the next page to fetch; nil at the end (EOS).
        public var nextResultURI: String?

        public init(
            resultType: ResultType, isQueryResult: Bool? = nil, jobID: String? = nil, resultKind: ResultKind? = nil, columns: [Column] = [],
            rowFormat: RowFormat? = nil, rows: [Row] = [], nextResultURI: String? = nil
        ) {
            self.resultType = resultType
            self.isQueryResult = isQueryResult
            self.jobID = jobID
            self.resultKind = resultKind
            self.columns = columns
            self.rowFormat = rowFormat
            self.rows = rows
            self.nextResultURI = nextResultURI
        }
    }

    // MARK: Calls

    /// The gateway's product name and version (`GET /v3/info`), e.g. ("Apache Flink", "2.1.0").
    public func info() async throws -> (productName: String, version: String) {
        let path = Self.version + "/info"
        let body = try await rest.object("GET", path)
        return (try string(body, "productName", path), try string(body, "version", path))
    }

    /// Opens a session with `properties` (Flink configuration, e.g. `execution.runtime-mode`).
    public func openSession(name: String? = nil, properties: [String: String] = [:]) async throws -> SessionHandle {
        let path = Self.version + "/sessions"
        var members: [(String, JSONValue)] = []
        if let name { members.append(("sessionName", .string(name))) }
        members.append(("properties", .object(properties.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        let body = try await rest.object("POST", path, json: .object(members))
        return SessionHandle(id: try string(body, "sessionHandle", path))
    }

    /// Keeps a session alive: the gateway closes sessions idle for longer than `sql-gateway.session.idle-timeout`.
    public func heartbeat(_ session: SessionHandle) async throws {
        _ = try await rest.object("POST", session.path + "/heartbeat")
    }

    /// Runs a SET, RESET or DDL statement that changes the session itself (`configure-session`).
    public func configureSession(_ session: SessionHandle, statement: String, executionTimeout: Duration? = nil) async throws {
        var members: [(String, JSONValue)] = [("statement", .string(statement))]
        if let executionTimeout { members.append(("executionTimeout", .int(Self.milliseconds(executionTimeout)))) }
        _ = try await rest.object("POST", session.path + "/configure-session", json: .object(members))
    }

    /// The session's effective configuration.
    public func sessionProperties(_ session: SessionHandle) async throws -> [String: String] {
        let body = try await rest.object("GET", session.path)
        guard case .object(let members)? = body["properties"] else {
            throw FlinkRESTError.malformedResponse(address: rest.address(session.path), field: "properties")
        }
        var properties: [String: String] = [:]
        for (key, value) in members {
            switch value {
            case .string(let text): properties[key] = text
            case .null: continue
            default: properties[key] = value.serializedString
            }
        }
        return properties
    }

    /// Closes a session and its operations.
    public func closeSession(_ session: SessionHandle) async throws {
        _ = try await rest.object("DELETE", session.path)
    }

    /// Submits a statement. `executionConfig` overrides the session's configuration for this statement only.
    public func submit(
        _ statement: String, in session: SessionHandle, executionConfig: [String: String] = [:], executionTimeout: Duration? = nil
    ) async throws -> OperationHandle {
        let path = session.path + "/statements"
        var members: [(String, JSONValue)] = [("statement", .string(statement))]
        if let executionTimeout { members.append(("executionTimeout", .int(Self.milliseconds(executionTimeout)))) }
        if !executionConfig.isEmpty {
            members.append(("executionConfig", .object(executionConfig.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        let body = try await rest.object("POST", path, json: .object(members))
        return OperationHandle(session: session, id: try string(body, "operationHandle", path))
    }

    /// An operation's status.
    public func status(_ operation: OperationHandle) async throws -> OperationStatus {
        try await statusCall("GET", operation.path + "/status")
    }

    /// The page of an operation's result at `token` (0 is the first).
    public func fetch(_ operation: OperationHandle, token: Int64 = 0, rowFormat: RowFormat = .json) async throws -> ResultPage {
        try await fetch(resultURI: operation.path + "/result/\(token)?rowFormat=\(rowFormat.rawValue)")
    }

    /// The page at a previous page's `nextResultUri` (a path on the gateway, or an absolute URL).
    /// - Throws: ``FlinkRESTError`` (a failed statement answers HTTP 500 with its exception), or
    ///   ``FlinkResultError`` for a column type Floe cannot represent.
    public func fetch(resultURI: String) async throws -> ResultPage {
        let body = try await rest.send("GET", resultURI)
        let address = rest.address(resultURI)
        guard let page = try? FlinkJSONValue.parse(body) else { throw FlinkRESTError.malformedResponse(address: address, field: "(body)") }
        return try Self.page(page, address: address)
    }

    /// Asks the gateway to cancel an operation. Once an operation is FINISHED (which a query is as soon as its job
    /// runs) the gateway refuses with HTTP 500; ``closeOperation(_:)`` is what stops a query's job.
    @discardableResult
    public func cancel(_ operation: OperationHandle) async throws -> OperationStatus {
        try await statusCall("POST", operation.path + "/cancel")
    }

    /// Closes an operation, cancelling its job if it still runs, and releases its results.
    @discardableResult
    public func closeOperation(_ operation: OperationHandle) async throws -> OperationStatus {
        try await statusCall("DELETE", operation.path + "/close")
    }

    // MARK: Reading answers

    private func statusCall(_ method: String, _ path: String) async throws -> OperationStatus {
        let body = try await rest.object(method, path)
        guard let status = body["status"]?.stringValue.flatMap(OperationStatus.init(rawValue:)) else {
            throw FlinkRESTError.malformedResponse(address: rest.address(path), field: "status")
        }
        return status
    }

    private func string(_ body: JSONValue, _ field: String, _ path: String) throws(FlinkRESTError) -> String {
        guard let value = body[field]?.stringValue, !value.isEmpty else {
            throw FlinkRESTError.malformedResponse(address: rest.address(path), field: field)
        }
        return value
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Reads a result page (`FetchResultsResponseBody`).
    static func page(_ body: FlinkJSONValue, address: String) throws -> ResultPage {
        func malformed(_ field: String) -> FlinkRESTError { .malformedResponse(address: address, field: field) }
        guard let resultType = body["resultType"]?.stringValue.flatMap(ResultType.init(rawValue:)) else { throw malformed("resultType") }
        var page = ResultPage(resultType: resultType)
        if let next = body["nextResultUri"], !next.isNull {
            guard let uri = next.stringValue else { throw malformed("nextResultUri") }
            page.nextResultURI = uri
        }
        guard resultType != .notReady else { return page }
        page.isQueryResult = body["isQueryResult"]?.boolValue
        page.jobID = body["jobID"]?.stringValue
        if let kind = body["resultKind"], !kind.isNull {
            guard let resultKind = kind.stringValue.flatMap(ResultKind.init(rawValue:)) else { throw malformed("resultKind") }
            page.resultKind = resultKind
        }
        guard let results = body["results"], !results.isNull else { return page }
        if let format = results["rowFormat"], !format.isNull {
            guard let rowFormat = format.stringValue.flatMap(RowFormat.init(rawValue:)) else { throw malformed("results.rowFormat") }
            page.rowFormat = rowFormat
        }
        for (index, column) in (results["columns"]?.arrayValue ?? []).enumerated() {
            guard let name = column["name"]?.stringValue else { throw malformed("results.columns[\(index)].name") }
            guard let logicalType = column["logicalType"] else { throw malformed("results.columns[\(index)].logicalType") }
            page.columns.append(Column(name: name, type: try SQLType(flinkLogicalType: logicalType), comment: column["comment"]?.stringValue))
        }
        for (index, row) in (results["data"]?.arrayValue ?? []).enumerated() {
            guard let kind = row["kind"]?.stringValue.flatMap(Self.rowKind) else { throw malformed("results.data[\(index)].kind") }
            guard let fields = row["fields"]?.arrayValue else { throw malformed("results.data[\(index)].fields") }
            page.rows.append(Row(kind: kind, fields: fields))
        }
        return page
    }

    /// Flink's `RowKind` names.
    static func rowKind(_ name: String) -> RowKind? {
        switch name {
        case "INSERT": .insert
        case "UPDATE_BEFORE": .updateBefore
        case "UPDATE_AFTER": .updateAfter
        case "DELETE": .delete
        default: nil
        }
    }
}
