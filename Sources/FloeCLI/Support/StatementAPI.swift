// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// A changelog operation of a result row (`op` in sql/v1 results: 0 `+I`, 1 `-U`, 2 `+U`, 3 `-D`).
enum ChangeOperation: Int, Sendable {
    case insert = 0, updateBefore = 1, updateAfter = 2, delete = 3

    /// Flink's short spelling.
    var symbol: String {
        switch self {
        case .insert: return "+I"
        case .updateBefore: return "-U"
        case .updateAfter: return "+U"
        case .delete: return "-D"
        }
    }

    /// Whether the row joins the result (`+I`, `+U`) rather than leaves it.
    var isAccumulate: Bool { self == .insert || self == .updateAfter }
}

/// One row of a statement's results.
struct ResultChange: Sendable {
    var operation: ChangeOperation
    var values: [JSONValue]
}

/// One page of results and where the next one is (`nil` once the statement can produce nothing more).
struct ResultPage: Sendable {
    var changes: [ResultChange]
    var next: String?
}

/// The statements of one environment, through `sql/v1`, as the CLI and the shell use them.
struct StatementAPI {
    let session: CLISession
    let environmentID: String
    let base: String

    init(session: CLISession, environmentID: String) async throws {
        self.session = session
        self.environmentID = environmentID
        self.base = try await session.sqlBase(environment: environmentID) + "/statements"
    }

    func path(_ name: String) -> String { base + "/" + name.pathEncoded }

    func create(_ body: JSONValue) async throws -> JSONValue { try await session.call("POST", base, json: body, statements: true) }

    func get(_ name: String) async throws -> JSONValue { try await session.call("GET", path(name), statements: true) }

    /// ``get(_:)`` for loops that poll a statement: a 429 is waited out (its `Retry-After`, a few times) rather than
    /// ending the wait, since it says nothing about the statement.
    func poll(_ name: String) async throws -> JSONValue {
        var attempt = 0
        while true {
            do {
                return try await get(name)
            } catch CLIError.rateLimited(let retryAfter, _) where attempt < 3 {
                attempt += 1
                try await Task.sleep(for: retryAfter ?? .seconds(1))
            }
        }
    }

    func list(computePool: String?) async throws -> [JSONValue] {
        try await session.listAll(base, query: computePool.map { [("spec.compute_pool_id", $0)] } ?? [], statements: true)
    }

    func delete(_ name: String) async throws { try await session.call("DELETE", path(name), statements: true) }

    func exceptions(_ name: String) async throws -> [JSONValue] {
        try await session.call("GET", path(name) + "/exceptions", statements: true)["data"]?.arrayValue ?? []
    }

    /// The GET → modify → PUT loop: re-reads and retries when another writer got in between (409).
    @discardableResult
    func update(_ name: String, _ change: (inout [(String, JSONValue)]) -> Void) async throws -> JSONValue {
        var attempt = 0
        while true {
            attempt += 1
            let current = try await get(name)
            guard case .object(var members) = current, case .object(var spec)? = current["spec"] else {
                throw CLIError.usage("The server sent an unreadable statement.")
            }
            change(&spec)
            if let index = members.firstIndex(where: { $0.0 == "spec" }) { members[index].1 = .object(spec) }
            do {
                return try await session.call("PUT", path(name), json: .object(members), statements: true)
            } catch CLIError.api(let status, _) where status == 409 && attempt < 10 {
                try await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
    }

    /// Sets `spec.stopped`.
    func setStopped(_ name: String, _ stopped: Bool, principal: String? = nil, computePool: String? = nil) async throws {
        try await update(name) { spec in
            spec.set("stopped", .bool(stopped))
            if let principal { spec.set("principal", .string(principal)) }
            if let computePool { spec.set("compute_pool_id", .string(computePool)) }
        }
    }

    /// Polls until the statement leaves PENDING, showing progress. With `settleBounded`, a bounded statement (DDL,
    /// a bounded query or INSERT) is also waited for while RUNNING, so that what follows can rely on its effect.
    func waitWhilePending(
        _ name: String, timeout: Duration = .seconds(60), settleBounded: Bool = false, progress: ProgressLine? = nil
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        var statement = try await poll(name)
        var delay = Duration.milliseconds(100)
        func waiting(_ statement: JSONValue) -> Bool {
            let phase = statement.value(at: "status", "phase")?.stringValue
            if phase == "PENDING" { return true }
            return settleBounded && phase == "RUNNING" && statement.value(at: "status", "traits", "is_bounded")?.boolValue == true
        }
        while waiting(statement), ContinuousClock.now < deadline {
            progress?.update("Waiting for statement \"\(name)\" (\(statement.value(at: "status", "phase")?.stringValue ?? "PENDING"))")
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(1))
            statement = try await poll(name)
        }
        progress?.finish()
        return statement
    }

    /// Why a FAILED statement failed: `status.detail`, else its newest exception's message.
    func failureDetail(_ statement: JSONValue) async -> String {
        if let detail = statement.value(at: "status", "detail")?.stringValue, !detail.isEmpty { return detail }
        let name = statement["name"]?.stringValue ?? ""
        return (try? await exceptions(name).first?["message"]?.stringValue) ?? "the server gave no detail."
    }

    /// One page of results: the first when `next` is `nil`, else the page at `next` (a `metadata.next` URL).
    func results(_ name: String, next: String?) async throws -> ResultPage {
        let page = try await session.call("GET", next ?? path(name) + "/results", statements: true)
        let changes = (page.value(at: "results", "data")?.arrayValue ?? []).map { item -> ResultChange in
            let operation = item["op"]?.intValue.flatMap { ChangeOperation(rawValue: Int($0)) } ?? .insert
            return ResultChange(operation: operation, values: item["row"]?.arrayValue ?? [])
        }
        let following = page.value(at: "metadata", "next")?.stringValue
        return ResultPage(changes: changes, next: following?.isEmpty == false ? following : nil)
    }

    /// Follows the results of `name` from `next` (the first page when `nil`), pacing the requests with a
    /// ``ResultPollPacer``, and hands every page to `onPage` until the statement can produce nothing more or `onPage`
    /// returns `false`. A 429 or a server that cannot be reached for a moment is waited out, never reported as the
    /// statement failing; after too many failures in a row the last one is thrown (``CLIError/transport(url:reason:)``
    /// or a 5xx ``CLIError/api(status:detail:)``). Other refusals (404 once the statement is deleted, 410) are thrown
    /// at once. Cancelling the task ends the wait between requests.
    func follow(
        _ name: String, from next: String? = nil, pacer: ResultPollPacer = ResultPollPacer(),
        onPage: (ResultPage) async throws -> Bool
    ) async throws {
        var pacer = pacer
        var next = next
        let clock = ContinuousClock()
        while true {
            let started = clock.now
            let delay: Duration
            do {
                let page = try await results(name, next: next)
                guard try await onPage(page), let following = page.next else { return }
                next = following
                delay = pacer.delay(after: .page(changes: page.changes.count, elapsed: clock.now - started))
            } catch CLIError.rateLimited(let retryAfter, _) {
                delay = pacer.delay(after: .rateLimited(retryAfter: retryAfter))
            } catch let error as CLIError where error.isUnreachable {
                delay = pacer.delay(after: .unreachable)
                if pacer.shouldGiveUp { throw error }
            }
            if delay > .zero { try await Task.sleep(for: delay) } else { try Task.checkCancellation() }
        }
    }
}

extension CLIError {
    /// Whether the failure says nothing about the request itself: the server could not be reached, or failed (5xx).
    var isUnreachable: Bool {
        switch self {
        case .transport: return true
        case .api(let status, _): return status >= 500
        case .rateLimited, .usage: return false
        }
    }
}

/// The result columns of a statement (`status.traits.schema.columns[*].name`).
func resultColumnNames(_ statement: JSONValue) -> [String] {
    (statement.value(at: "status", "traits", "schema", "columns")?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
}

/// A result value as text: strings bare, `NULL` for null, nested rows and collections in brackets.
func resultText(_ value: JSONValue) -> String {
    switch value {
    case .null: return "NULL"
    case .string(let text): return text
    case .array(let elements): return "[" + elements.map(resultText).joined(separator: ", ") + "]"
    case .object(let members): return "{" + members.map { "\($0.0)=\(resultText($0.1))" }.joined(separator: ", ") + "}"
    default: return value.serializedString
    }
}
