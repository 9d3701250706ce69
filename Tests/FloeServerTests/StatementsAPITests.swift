// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore
import FloeStore
import Foundation
import HTTPTypes
import Logging
import Testing

@testable import FloeServer

/// The router fixture serving `sql/v1` on the scripted backend, with its scheduler running and one provisioned
/// compute pool (`pool`, aws.us-east-1, 5 CFUs) in environment A.
struct StatementsFixture {
    var base: RouterFixture
    let scheduler: StatementScheduler
    let schedulerTask: Task<Void, Never>
    let pool: String
    let backend: ScriptedBackend

    static func make(
        maxCFU: Int = 5, resultsLimit: Int = SQLiteControlPlaneStore.defaultResultsLimit, retention: Duration = StatementScheduler.defaultRetention
    ) async throws -> StatementsFixture {
        var base = try await RouterFixture.make(resultsLimit: resultsLimit)
        let signals = ResultSignals()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let backend = ScriptedBackend()
        let scheduler = StatementScheduler(
            store: base.store, results: base.store, backend: backend, signals: signals, retention: retention, logger: logger)
        base.statements = StatementServices(
            scheduler: scheduler, results: base.store, backend: backend, signals: signals, longPoll: .milliseconds(300),
            resultsPageSize: 1000)
        let environment = base.environmentA
        let organization = base.organizationID
        let pool = try await base.store.mutate { state in
            let pool = try state.createComputePool(
                organizationID: organization,
                request: .init(
                    displayName: "pool", cloud: "AWS", region: "us-east-1", maxCFU: maxCFU, environmentID: environment, enableAI: false,
                    defaultPool: false),
                regions: FlinkRegion.defaults, now: Date())
            state.markProvisioned(poolID: pool.id, now: Date())
            return pool.id
        }
        let task = Task { await scheduler.run() }
        return StatementsFixture(base: base, scheduler: scheduler, schedulerTask: task, pool: pool, backend: backend)
    }

    func stop() { schedulerTask.cancel() }

    var statementsPath: String { "/sql/v1/organizations/\(base.organizationID)/environments/\(base.environmentA)/statements" }

    func call(
        _ method: HTTPRequest.Method, _ uri: String, as who: String? = "admin", body: String? = nil, headers: HTTPFields = [:]
    )
        async throws -> (status: Int, headers: HTTPFields, json: JSONValue?)
    {
        try await base.call(method, uri, as: who, body: body, headers: headers)
    }

    /// Creates a statement and returns the response.
    @discardableResult
    func create(
        _ name: String, _ sql: String, as who: String = "admin", pool: String? = nil, extra: String = ""
    )
        async throws -> (status: Int, headers: HTTPFields, json: JSONValue?)
    {
        let poolMember = (pool ?? self.pool).isEmpty ? "" : #","compute_pool_id":"\#(pool ?? self.pool)""#
        return try await call(.post, statementsPath, as: who, body: #"{"name":"\#(name)","spec":{"statement":"\#(sql)"\#(poolMember)\#(extra)}}"#)
    }

    /// Polls the statement until its phase is `phase` (or fails after 20 s: a deadline for a hung statement, not a
    /// measure of speed, so generous enough for a 2-core machine running the end-to-end suites beside this one).
    @discardableResult
    func waitFor(_ name: String, phase: String, as who: String = "admin") async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(20)
        var last: JSONValue?
        while Date() < deadline {
            last = try await call(.get, "\(statementsPath)/\(name)", as: who).json
            if last?.value(at: "status", "phase")?.stringValue == phase { return last! }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("statement \(name) did not reach \(phase); last: \(String(describing: last?.value(at: "status")))")
        throw CancellationError()
    }
}

@Suite struct StatementsAPITests {
    /// A statement keeps its newest results: a reader without a token starts at the oldest kept, and a token that fell
    /// out of the window is a 410 naming where to continue.
    @Test func resultsBeyondTheLimitDropTheOldestPages() async throws {
        let fixture = try await StatementsFixture.make(resultsLimit: 64 << 10)
        defer { fixture.stop() }
        try await fixture.create("many", "ROWS 20000")
        try await fixture.waitFor("many", phase: "COMPLETED")
        let path = "\(fixture.statementsPath)/many/results"
        let first = try await fixture.call(.get, path)
        #expect(first.status == 200)
        let rows = first.json?.value(at: "results", "data")?.arrayValue ?? []
        #expect(!rows.isEmpty && rows.count < 2000, "\(rows.count) rows kept")
        let oldest = try #require(Int(rows.first?["row"]?.arrayValue?.first?.stringValue ?? ""))
        #expect(oldest > 0)
        #expect(rows.last?["row"]?.arrayValue?.first?.stringValue == "19999")
        let gone = try await fixture.call(.get, "\(path)?page_token=0")
        #expect(gone.status == 410)
        let error = gone.json?["errors"]?.arrayValue?.first
        #expect(error?["code"]?.stringValue == "results_dropped")
        #expect(error?["detail"]?.stringValue?.contains("page_token=\(oldest)") == true)
        #expect(error?.value(at: "source", "parameter")?.stringValue == "page_token")
        #expect(try await fixture.call(.get, "\(path)?page_token=\(oldest)").status == 200)
    }

    /// Statements that ended are deleted after the retention period, with their results.
    @Test func endedStatementsAreDeletedAfterTheirRetention() async throws {
        let fixture = try await StatementsFixture.make(retention: .seconds(1))
        defer { fixture.stop() }
        try await fixture.create("short-lived", "ROWS 3")
        try await fixture.create("running", "STREAM")
        try await fixture.waitFor("short-lived", phase: "COMPLETED")
        try await fixture.waitFor("running", phase: "RUNNING")
        let deadline = ContinuousClock.now + .seconds(10)
        var status = 200
        while status == 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            status = try await fixture.call(.get, "\(fixture.statementsPath)/short-lived").status
        }
        #expect(status == 404)
        #expect(try await fixture.base.store.resultLogUIDs().count <= 1)
        // A running statement stays, however old.
        #expect(try await fixture.call(.get, "\(fixture.statementsPath)/running").status == 200)
    }

    @Test func boundedQueryRunsToCompletionAndPagesItsResults() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        let created = try await fixture.create("rows", "ROWS 2500")
        #expect(created.status == 201)
        #expect(created.headers[.location] == "http://floe.test\(fixture.statementsPath)/rows")
        #expect(created.json?.value(at: "status", "phase") == "PENDING")
        #expect(created.json?.value(at: "metadata", "resource_version") == "1")
        #expect(created.json?["api_version"] == "sql/v1")
        #expect(created.json?["kind"] == "Statement")
        let done = try await fixture.waitFor("rows", phase: "COMPLETED")
        #expect(done.value(at: "status", "traits", "sql_kind") == "SELECT")
        #expect(done.value(at: "status", "traits", "is_bounded") == .bool(true))
        #expect(done.value(at: "status", "traits", "schema", "columns")?.arrayValue?.first?.value(at: "type", "type") == "INTEGER")
        #expect(done.value(at: "status", "end_time") != nil)
        #expect((done.value(at: "metadata", "resource_version")?.stringValue).flatMap { Int($0) } ?? 0 >= 3)

        var next = "\(fixture.statementsPath)/rows/results"
        var values: [String] = []
        var pages = 0
        while !next.isEmpty {
            let page = try await fixture.call(.get, next.replacingOccurrences(of: "http://floe.test", with: ""))
            #expect(page.status == 200)
            #expect(page.json?["kind"] == "StatementResult")
            for change in page.json?.value(at: "results", "data")?.arrayValue ?? [] {
                #expect(change["op"] == .int(0))
                values.append(change["row"]?.arrayValue?.first?.stringValue ?? "?")
            }
            next = page.json?.value(at: "metadata", "next")?.stringValue ?? ""
            if !next.isEmpty { #expect(next.hasPrefix("http://floe.test/") && next.contains("page_token=")) }
            pages += 1
        }
        #expect(pages == 3)
        #expect(values == (0..<2500).map(String.init))
    }

    /// A page of a running stream that has rows but room for more is held to gather rows (a stream trickling a row
    /// every 10 ms gives one page of many rows, not a page per row); a bounded statement that ends meanwhile answers
    /// at once.
    @Test func runningPagesGatherRowsAndBoundedOnesAnswerWhenTheyEnd() async throws {
        var fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        // Long enough that "answers at once" stays clear of it on a loaded machine (the suite runs tests in parallel).
        fixture.base.statements?.resultsGather = .seconds(4)
        try await fixture.create("stream", "STREAM")
        try await fixture.waitFor("stream", phase: "RUNNING")
        let clock = ContinuousClock()
        let started = clock.now
        let page = try await fixture.call(.get, "\(fixture.statementsPath)/stream/results")
        let held = clock.now - started
        let rows = page.json?.value(at: "results", "data")?.arrayValue?.count ?? 0
        #expect(held >= .milliseconds(3900) && rows >= 5, "\(rows) rows after \(held)")
        #expect(page.json?.value(at: "metadata", "next")?.stringValue?.isEmpty == false)

        let boundedStart = clock.now
        try await fixture.create("few", "ROWS 3")
        var next = "\(fixture.statementsPath)/few/results"
        var values: [JSONValue] = []
        while !next.isEmpty {
            let json = try await fixture.call(.get, next.replacingOccurrences(of: "http://floe.test", with: "")).json
            values += json?.value(at: "results", "data")?.arrayValue ?? []
            next = json?.value(at: "metadata", "next")?.stringValue ?? ""
        }
        #expect(values.count == 3)
        #expect(clock.now - boundedStart < .milliseconds(3000), "a bounded statement waited for the gathering: \(clock.now - boundedStart)")
    }

    @Test func unboundedQueryKeepsNextUntilStoppedAndIsNotResumable() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        try await fixture.create("stream", "STREAM")
        let running = try await fixture.waitFor("stream", phase: "RUNNING")
        #expect(running.value(at: "status", "traits", "is_bounded") == .bool(false))
        let first = try await fixture.call(.get, "\(fixture.statementsPath)/stream/results")
        #expect(first.json?.value(at: "metadata", "next")?.stringValue?.isEmpty == false)
        let stop = try await fixture.call(
            .patch, "\(fixture.statementsPath)/stream", body: #"[{"op":"REPLACE","path":"/spec/stopped","value":true}]"#,
            headers: [.contentType: "application/json-patch+json"])
        #expect(stop.status == 200)
        #expect(stop.json?.value(at: "spec", "stopped") == .bool(true))
        let stopped = try await fixture.waitFor("stream", phase: "STOPPED")
        // The results end once the statement can produce nothing more.
        var next = "\(fixture.statementsPath)/stream/results"
        var reads = 0
        while !next.isEmpty && reads < 100 {
            next =
                try await fixture.call(.get, next.replacingOccurrences(of: "http://floe.test", with: "")).json?.value(at: "metadata", "next")?
                .stringValue ?? ""
            reads += 1
        }
        #expect(next.isEmpty)
        // A SELECT is not resumable.
        let version = try #require(stopped.value(at: "metadata", "resource_version")?.stringValue)
        let resume = try await fixture.call(
            .put, "\(fixture.statementsPath)/stream", body: #"{"metadata":{"resource_version":"\#(version)"},"spec":{"stopped":false}}"#)
        #expect(resume.status == 400)
        #expect(resume.json?.value(at: "errors")?.arrayValue?.first?["detail"]?.stringValue?.contains("cannot be resumed") == true)
    }

    @Test func insertStopsAndResumesWithOptimisticConcurrency() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        try await fixture.create("sink", "INSERT")
        let running = try await fixture.waitFor("sink", phase: "RUNNING")
        // Only a stopped statement shows its offsets.
        #expect(running.value(at: "status", "latest_offsets") == .object([]))
        #expect(running.value(at: "status", "latest_offsets_timestamp") == nil)
        var document = try #require(running.value(at: "metadata", "resource_version")?.stringValue)
        // Stop with the full object, as cc-clients sends it.
        let full = running.serializedString.replacingOccurrences(of: #""stopped":false"#, with: #""stopped":true"#)
        let stop = try await fixture.call(.put, "\(fixture.statementsPath)/sink", body: full)
        #expect(stop.status == 202)
        // The PUT answers with the version it was given (cc-clients' update loop relies on it).
        #expect(stop.json?.value(at: "metadata", "resource_version")?.stringValue == document)
        let stopped = try await fixture.waitFor("sink", phase: "STOPPED")
        let offset = try #require(stopped.value(at: "status", "latest_offsets", "ticks")?.stringValue)
        #expect(offset.hasPrefix("partition:0,offset:") && offset != "partition:0,offset:0", "\(offset)")
        #expect(stopped.value(at: "status", "latest_offsets_timestamp")?.stringValue?.hasSuffix("Z") == true)
        #expect(stopped.value(at: "status", "state_limit_status", "state_limit_state") == "OK")
        let stale = try await fixture.call(
            .put, "\(fixture.statementsPath)/sink", body: #"{"metadata":{"resource_version":"\#(document)"},"spec":{"stopped":false}}"#)
        #expect(stale.status == 409)
        #expect(try await fixture.call(.get, "\(fixture.statementsPath)/sink").json?.value(at: "status", "phase") == "STOPPED")
        document = try #require(stopped.value(at: "metadata", "resource_version")?.stringValue)
        let resume = try await fixture.call(
            .put, "\(fixture.statementsPath)/sink", body: #"{"metadata":{"resource_version":"\#(document)"},"spec":{"stopped":false}}"#)
        #expect(resume.status == 202)
        let resumed = try await fixture.waitFor("sink", phase: "RUNNING")
        #expect(resumed.value(at: "status", "latest_offsets") == .object([]))
        // Deleting the statement deletes its checkpoints.
        let uid = try #require(resumed.value(at: "metadata", "uid")?.stringValue)
        #expect(try await fixture.call(.delete, "\(fixture.statementsPath)/sink").status == 202)
        for _ in 0..<200 where fixture.backend.checkpoint(statementID: uid) != nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(fixture.backend.checkpoint(statementID: uid) == nil)
    }

    @Test func invalidSQLFailsWithTheReasonAndAnException() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        try await fixture.create("bad", "BAD")
        let failed = try await fixture.waitFor("bad", phase: "FAILED")
        #expect(failed.value(at: "status", "detail")?.stringValue?.contains("SQL parse failed") == true)
        #expect(failed.value(at: "status", "traits") == nil)
        let exceptions = try await fixture.call(.get, "\(fixture.statementsPath)/bad/exceptions")
        #expect(exceptions.json?["kind"] == "StatementExceptionList")
        #expect(exceptions.json?["data"]?.arrayValue?.first?["message"] == failed.value(at: "status", "detail"))
        try await fixture.create("boom", "BOOM")
        let boom = try await fixture.waitFor("boom", phase: "FAILED")
        #expect(boom.value(at: "status", "detail") == "java.lang.ArithmeticException: Division by zero")
        #expect(boom.value(at: "status", "traits", "sql_kind") == "SELECT")
    }

    @Test func dryRunAnswersInThePostResponseAndStoresNothing() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        let dry = try await fixture.create("dry", "ROWS 3", extra: #","properties":{"sql.dry-run":true}"#)
        #expect(dry.status == 201)
        #expect(dry.json?.value(at: "status", "phase") == "COMPLETED")
        #expect(dry.json?.value(at: "status", "traits", "schema", "columns")?.arrayValue?.count == 1)
        #expect(dry.json?.value(at: "spec", "properties", "sql.dry-run") == "true")
        #expect(try await fixture.call(.get, "\(fixture.statementsPath)/dry").status == 404)
        let bad = try await fixture.create("dry-bad", "BAD", extra: #","properties":{"sql.dry-run":"true"}"#)
        #expect(bad.json?.value(at: "status", "phase") == "FAILED")
        #expect(fixture.base.store.snapshot().statements.isEmpty)
    }

    @Test func ddlCompletesWithoutSchemaAndItsResultsEndAtOnce() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        try await fixture.create("ddl", "DDL")
        let done = try await fixture.waitFor("ddl", phase: "COMPLETED")
        #expect(done.value(at: "status", "traits", "sql_kind") == "CREATE_TABLE")
        #expect(done.value(at: "status", "traits", "schema") == nil)
        let results = try await fixture.call(.get, "\(fixture.statementsPath)/ddl/results")
        #expect(results.json?.value(at: "results", "data")?.arrayValue?.isEmpty == true)
        #expect(results.json?.value(at: "metadata", "next") == "")
    }

    @Test func poolCapacityHoldsStatementsPendingUntilAFreeCFU() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        for index in 0..<5 { try await fixture.create("s\(index)", "STREAM") }
        for index in 0..<5 { try await fixture.waitFor("s\(index)", phase: "RUNNING") }
        try await fixture.create("waiting", "STREAM")
        let deadline = Date().addingTimeInterval(5)
        var waiting: JSONValue?
        while Date() < deadline {
            waiting = try await fixture.call(.get, "\(fixture.statementsPath)/waiting").json
            if waiting?.value(at: "status", "scaling_status", "scaling_state") == "POOL_EXHAUSTED" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(waiting?.value(at: "status", "phase") == "PENDING")
        #expect(waiting?.value(at: "status", "scaling_status", "scaling_state") == "POOL_EXHAUSTED")
        #expect(waiting?.value(at: "status", "warnings")?.arrayValue?.first?["reason"] == "POOL_EXHAUSTED")
        let poolDocument = try await fixture.call(.get, "/fcpm/v2/compute-pools/\(fixture.pool)?environment=\(fixture.base.environmentA)")
        #expect(poolDocument.json?.value(at: "status", "current_cfu") == .int(5))
        #expect(try await fixture.call(.delete, "\(fixture.statementsPath)/s0").status == 202)
        #expect(try await fixture.call(.get, "\(fixture.statementsPath)/s0").status == 404)
        let started = try await fixture.waitFor("waiting", phase: "RUNNING")
        #expect(started.value(at: "status", "scaling_status", "scaling_state") == "OK")
        #expect(started.value(at: "status", "warnings")?.arrayValue?.isEmpty == true)
    }

    @Test func deleteRemovesTheStatementAndItsResults() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        try await fixture.create("gone", "ROWS 10")
        let done = try await fixture.waitFor("gone", phase: "COMPLETED")
        let uid = try #require(done.value(at: "metadata", "uid")?.stringValue)
        #expect(try await fixture.base.store.resultCount(statementUID: uid) == 10)
        #expect(try await fixture.call(.delete, "\(fixture.statementsPath)/gone").status == 202)
        for path in ["", "/results", "/exceptions"] {
            #expect(try await fixture.call(.get, "\(fixture.statementsPath)/gone\(path)").status == 404)
        }
        #expect(try await fixture.call(.delete, "\(fixture.statementsPath)/gone").status == 404)
        #expect(try await fixture.base.store.resultCount(statementUID: uid) == 0)
        // The name is free again, with a new uid and an empty result log.
        let again = try await fixture.create("gone", "ROWS 1")
        #expect(again.status == 201)
        #expect(again.json?.value(at: "metadata", "uid")?.stringValue != uid)
    }

    @Test func deletingThePoolDeletesItsStatementsAndTheirResults() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        try await fixture.create("done", "ROWS 10")
        let done = try await fixture.waitFor("done", phase: "COMPLETED")
        try await fixture.create("live", "STREAM")
        let live = try await fixture.waitFor("live", phase: "RUNNING")
        let uids = [done, live].compactMap { $0.value(at: "metadata", "uid")?.stringValue }
        #expect(try await fixture.call(.delete, "/fcpm/v2/compute-pools/\(fixture.pool)?environment=\(fixture.base.environmentA)").status == 204)
        #expect(try await fixture.call(.get, "\(fixture.statementsPath)/done").status == 404)
        #expect(try await fixture.call(.get, "\(fixture.statementsPath)/live").status == 404)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, try await !fixture.base.store.resultLogUIDs().isDisjoint(with: uids) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let remaining = try await fixture.base.store.resultLogUIDs()
        #expect(remaining.isDisjoint(with: uids), "\(remaining) \(uids)")
        #expect(await fixture.scheduler.isRunning(id: "\(fixture.base.environmentA)/live", uid: uids[1]) == false)
    }

    @Test func listPagesFiltersAndHidesHiddenStatements() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        for index in 0..<5 { try await fixture.create("ddl-\(index)", "DDL") }
        #expect(try await fixture.create("labelled", "DDL").status == 201)
        let hidden =
            #"{"name":"hidden","metadata":{"labels":{"user.confluent.io/hidden":"true"}},"spec":{"statement":"DDL","compute_pool_id":"\#(fixture.pool)"}}"#
        #expect(try await fixture.call(.post, fixture.statementsPath, body: hidden).status == 201)
        let tagged =
            #"{"name":"tagged","metadata":{"labels":{"user.confluent.io/dbt":"true"}},"spec":{"statement":"DDL","compute_pool_id":"\#(fixture.pool)"}}"#
        #expect(try await fixture.call(.post, fixture.statementsPath, body: tagged).status == 201)

        var names: [String] = []
        var next = "\(fixture.statementsPath)?page_size=2"
        while !next.isEmpty {
            let page = try await fixture.call(.get, next.replacingOccurrences(of: "http://floe.test", with: ""))
            #expect(page.json?["kind"] == "StatementList")
            #expect(page.json?.value(at: "metadata", "self") != nil)
            names += page.json?["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            next = page.json?.value(at: "metadata", "next")?.stringValue ?? ""
            if !next.isEmpty {
                // cc-clients cuts the token after "&page_token=": it must come last, after '&'.
                #expect(next.split(separator: "&").last?.hasPrefix("page_token=") == true)
            }
        }
        #expect(names == ["ddl-0", "ddl-1", "ddl-2", "ddl-3", "ddl-4", "labelled", "tagged"])
        let selected = try await fixture.call(.get, "\(fixture.statementsPath)?label_selector=user.confluent.io/dbt=true")
        #expect(selected.json?["data"]?.arrayValue?.map { $0["name"] } == ["tagged"])
        let hiddenOnes = try await fixture.call(.get, "\(fixture.statementsPath)?label_selector=user.confluent.io/hidden=true")
        #expect(hiddenOnes.json?["data"]?.arrayValue?.map { $0["name"] } == ["hidden"])
        let byPool = try await fixture.call(.get, "\(fixture.statementsPath)?spec.compute_pool_id=lfcp-none")
        #expect(byPool.json?["data"]?.arrayValue?.isEmpty == true)
        let search = try await fixture.call(.get, "\(fixture.statementsPath)?statement_name_search_query=ddl-3&time_ordered=true")
        #expect(search.json?["data"]?.arrayValue?.map { $0["name"] } == ["ddl-3"])
    }

    @Test func badRequestsAreRefusedPreciselyAndChangeNothing() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        try await fixture.create("existing", "DDL")
        try await fixture.waitFor("existing", phase: "COMPLETED")
        let before = fixture.base.store.snapshot().statements
        let path = fixture.statementsPath
        let cases: [(String, Int, String?)] = [
            (#"{"name":"x","spec":"#, 400, nil),
            (#"{"name":"x","spec":{"statement":42}}"#, 400, "/spec/statement"),
            (#"{"name":"Bad_Name","spec":{"statement":"DDL"}}"#, 400, "/name"),
            (#"{"spec":{"statement":"DDL"}}"#, 400, "/name"),
            (#"{"name":"x"}"#, 400, "/spec/statement"),
            (#"{"name":"x","spec":{"statement":"DDL","properties":{"a":[1]}}}"#, 400, "/spec/properties/a"),
            (#"{"name":"x","spec":{"statement":"DDL","compute_pool_id":"lfcp-nope00"}}"#, 403, "/spec/compute_pool_id"),
            (#"{"name":"existing","spec":{"statement":"DDL","compute_pool_id":"\#(fixture.pool)"}}"#, 409, nil),
            (#"{"name":"x","spec":{"statement":"\#(String(repeating: "a", count: 131_073))"}}"#, 400, "/spec/statement"),
            (#"{"name":"x","spec":{"statement":"DDL","properties":{"big":"\#(String(repeating: "a", count: 300_000))"}}}"#, 400, "/spec/properties"),
            (
                #"{"name":"x","metadata":{"labels":{\#((0..<300).map { "\"l\($0)\":\"v\"" }.joined(separator: ","))}},"spec":{"statement":"DDL"}}"#,
                400, "/metadata/labels"
            ),
        ]
        for (body, status, pointer) in cases {
            let response = try await fixture.call(.post, path, body: body)
            #expect(response.status == status, "\(body.prefix(80))")
            let error = response.json?["errors"]?.arrayValue?.first
            #expect(error?["status"]?.stringValue == String(status))
            if let pointer { #expect(error?.value(at: "source", "pointer")?.stringValue == pointer, "\(body.prefix(80))") }
        }
        let existing = "\(path)/existing"
        #expect(try await fixture.call(.put, existing, body: #"{"spec":{"stopped":true}}"#).status == 400)
        #expect(try await fixture.call(.put, existing, body: #"{"metadata":{"resource_version":"1"},"spec":{"statement":"other"}}"#).status == 409)
        let version = before.values.first!.resourceVersion
        #expect(
            try await fixture.call(.put, existing, body: #"{"metadata":{"resource_version":"\#(version)"},"spec":{"statement":"other"}}"#).status
                == 400)
        #expect(
            try await fixture.call(.put, existing, body: #"{"metadata":{"resource_version":\#(version)},"spec":{"properties":{"a":"b"}}}"#).status
                == 400)
        #expect(try await fixture.call(.patch, existing, body: #"{"op":"replace"}"#).status == 400)
        #expect(try await fixture.call(.patch, existing, body: #"[{"op":"jump","path":"/spec/stopped"}]"#).status == 400)
        #expect(try await fixture.call(.patch, existing, body: #"[{"op":"test","path":"/spec/stopped","value":true}]"#).status == 409)
        // A patch that changes what a PATCH cannot change is refused, naming it, instead of answering 200 and changing nothing.
        let refusedPatches: [(String, String)] = [
            (#"[{"op":"remove","path":"/spec"}]"#, "/spec"),
            (#"[{"op":"remove","path":"/spec/stopped"}]"#, "/spec/stopped"),
            (#"[{"op":"move","from":"/spec/stopped","path":"/spec/halted"}]"#, "/spec/stopped"),
            (#"[{"op":"copy","from":"/spec/statement","path":"/spec/other"}]"#, "/spec/other"),
            (#"[{"op":"replace","path":"/spec/statement","value":"SELECT 2"}]"#, "/spec/statement"),
            (#"[{"op":"replace","path":"/status/detail","value":"patched"}]"#, "/status/detail"),
            (#"[{"op":"add","path":"/spec/unknown","value":1}]"#, "/spec/unknown"),
        ]
        for (patch, pointer) in refusedPatches {
            let response = try await fixture.call(.patch, existing, body: patch)
            #expect(response.status == 400, "\(patch)")
            #expect(response.json?["errors"]?.arrayValue?.first?.value(at: "source", "pointer")?.stringValue == pointer, "\(patch)")
        }
        for method in [HTTPRequest.Method.get, .delete] {
            #expect(try await fixture.call(method, "\(path)/missing").status == 404)
        }
        #expect(try await fixture.call(.put, "\(path)/missing", body: "{}").status == 404)
        #expect(try await fixture.call(.get, "\(path)/missing/results").status == 404)
        #expect(try await fixture.call(.get, "\(path)/existing/results?page_token=abc").status == 400)
        #expect(try await fixture.call(.get, "/sql/v1/organizations/\(fixture.base.organizationID)/environments/env-nope00/statements").status == 404)
        #expect(fixture.base.store.snapshot().statements == before)
    }

    @Test func credentialsAndRolesAreCheckedOnEveryRoute() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        let path = fixture.statementsPath
        #expect(try await fixture.call(.get, path, as: nil).status == 401)
        #expect(try await fixture.call(.get, path, as: "nobody").status == 403)
        #expect(try await fixture.create("nobodys", "DDL", as: "nobody").status == 403)
        // A FlinkDeveloper runs its own statements, with its Cloud key or its Flink key for env A + aws.us-east-1.
        #expect(try await fixture.create("dev", "DDL", as: "developerA").status == 201)
        #expect(try await fixture.create("dev-flink", "DDL", as: "flinkA").status == 201)
        try await fixture.waitFor("dev", phase: "COMPLETED")
        #expect(try await fixture.call(.get, "\(path)/dev", as: "flinkA").status == 200)
        // …but not an admin's.
        try await fixture.create("admins", "DDL")
        try await fixture.waitFor("admins", phase: "COMPLETED")
        #expect(try await fixture.call(.get, "\(path)/admins", as: "developerA").status == 200)
        #expect(try await fixture.call(.delete, "\(path)/admins", as: "developerA").status == 403)
        #expect(try await fixture.call(.delete, "\(path)/admins", as: "flinkAdminA").status == 202)
        // A developer may not run statements as someone else.
        let other = try #require(fixture.base.principals["envAdminA"])
        let asOther = #"{"name":"as-other","spec":{"statement":"DDL","compute_pool_id":"\#(fixture.pool)","principal":"\#(other)"}}"#
        #expect(try await fixture.call(.post, path, as: "developerA", body: asOther).status == 403)
        // The Flink key is valid only in its environment…
        let otherEnvironment = "/sql/v1/organizations/\(fixture.base.organizationID)/environments/\(fixture.base.environmentB)/statements"
        #expect(try await fixture.call(.get, otherEnvironment, as: "flinkA").status == 401)
        // …and its region.
        let organization = fixture.base.organizationID
        let environment = fixture.base.environmentA
        let westPool = try await fixture.base.store.mutate { state in
            let pool = try state.createComputePool(
                organizationID: organization,
                request: .init(
                    displayName: "west", cloud: "AWS", region: "us-west-2", maxCFU: 5, environmentID: environment, enableAI: false, defaultPool: false
                ),
                regions: FlinkRegion.defaults, now: Date())
            state.markProvisioned(poolID: pool.id, now: Date())
            return pool.id
        }
        #expect(try await fixture.create("west", "DDL", as: "flinkA", pool: westPool).status == 401)
        #expect(try await fixture.create("west", "DDL", pool: westPool).status == 201)
        #expect(try await fixture.call(.get, "\(path)/west", as: "flinkA").status == 401)
        let listed = try await fixture.call(.get, path, as: "flinkA")
        #expect(listed.json?["data"]?.arrayValue?.contains { $0["name"] == "west" } == false)
    }

    @Test func statementWithoutPoolGoesToTheEnvironmentsOnlyPool() async throws {
        let fixture = try await StatementsFixture.make()
        defer { fixture.stop() }
        let created = try await fixture.create("no-pool", "DDL", pool: "")
        #expect(created.status == 201)
        #expect(created.json?.value(at: "spec", "compute_pool_id")?.stringValue == fixture.pool)
        #expect(created.json?.value(at: "spec", "principal")?.stringValue == fixture.base.admin)
    }
}

extension JSONValue {
    var serializedString: String { String(decoding: serialized(), as: UTF8.self) }
}
