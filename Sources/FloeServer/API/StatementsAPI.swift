// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore
import FloeStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What the statements API shares with the server: the scheduler, the result logs and the backend (for dry runs).
struct StatementServices: Sendable {
    let scheduler: StatementScheduler
    let results: any StatementResultStore
    let backend: any ExecutionBackend
    let signals: ResultSignals
    /// How long a results request waits for new changes before answering with an empty page.
    let longPoll: Duration
    /// Most changes on one results page.
    let resultsPageSize: Int
    /// How long a results request for a RUNNING statement may hold a page that has rows but is not full, gathering
    /// more: a stream that trickles a row at a time would otherwise be read a row per request, and a client that
    /// follows `next` at once would run into the per-client rate limits. A bounded statement that ends meanwhile
    /// answers at once, so it is never slower to read to the end.
    var resultsGather: Duration = .milliseconds(500)
}

/// `sql/v1` (and `sql/v1beta1`): statements, their results and exceptions, in one environment.
///
/// Authentication accepts Cloud API keys and the Flink API keys of the path's environment; a Flink key must also
/// match the region of the statement's compute pool. Authorization: FlinkDeveloper and above run statements and
/// read those of the environment; FlinkAdmin, EnvironmentAdmin and OrganizationAdmin manage all of them, a
/// FlinkDeveloper only its own.
struct StatementsAPI: Sendable {
    let api: APIEnvironment
    let services: StatementServices
    var render: Representations { Representations(links: api.links) }

    /// A statement as the API returns it, with what its latest checkpoint says (offsets, state size).
    func document(_ statement: Statement) -> JSONValue {
        let checkpoint = statement.traits?.isResumable == true ? services.backend.checkpoint(statementID: statement.uid) : nil
        return render.statement(statement, checkpoint: checkpoint)
    }

    func register(on router: RouterGroup<FloeRequestContext>) {
        for version in ["sql/v1", "sql/v1beta1"] {
            let group = router.group(RouterPath("\(version)/organizations/:organization/environments/:environment"))
            group.get("statements", use: list)
            group.post("statements", use: create)
            group.get("statements/:name", use: get)
            group.put("statements/:name", use: update)
            group.patch("statements/:name", use: patch)
            group.delete("statements/:name", use: delete)
            group.get("statements/:name/results", use: results)
            group.get("statements/:name/exceptions", use: exceptions)
        }
    }

    // MARK: Scope and permissions

    /// The caller and the environment of the path, once the key is known to be valid there.
    struct Scope {
        let caller: Caller
        let environment: FloeCore.Environment
        let state: ControlPlaneState
    }

    func scope(_ context: FloeRequestContext) throws(APIError) -> Scope {
        let caller = try context.requireCaller()
        let organizationID = context.parameters.path("organization")
        let environmentID = context.parameters.path("environment")
        guard organizationID == caller.organizationID else {
            throw APIError.forbidden("The API key does not belong to organization \(organizationID).")
        }
        let state = api.store.snapshot()
        guard let environment = state.environments[environmentID], environment.organizationID == organizationID else {
            throw APIError.notFound("Environment \(environmentID) was not found.", code: "environment_not_found")
        }
        if case .flinkRegion(_, let keyEnvironment) = caller.apiKey.resource, keyEnvironment != environmentID {
            throw APIError.unauthenticated(
                "The Flink API key \(caller.apiKey.id) is scoped to environment \(keyEnvironment); it is not valid in \(environmentID).")
        }
        guard caller.policy.canSee(environment: environmentID) else {
            throw APIError.forbidden("The principal \(caller.principalID) has no role in environment \(environmentID).")
        }
        return Scope(caller: caller, environment: environment, state: state)
    }

    /// A Flink key is valid only in its own region.
    func requireKeyRegion(_ scope: Scope, regionID: String) throws(APIError) {
        guard scope.caller.keyPermits(environmentID: scope.environment.id, regionID: regionID) else {
            throw APIError.unauthenticated("The Flink API key \(scope.caller.apiKey.id) is scoped to another region; it is not valid in \(regionID).")
        }
    }

    /// The statement of the path, if the caller may read it.
    func readableStatement(_ scope: Scope, name: String) throws(APIError) -> Statement {
        guard let statement = scope.state.statement(named: name, environmentID: scope.environment.id) else {
            throw APIError.notFound("Statement resource=\(name) does not exist", code: "statement_not_found")
        }
        try requireKeyRegion(scope, regionID: statement.regionID)
        let policy = scope.caller.policy
        guard
            policy.canManageAllStatements(in: scope.environment.id) || policy.canRunStatements(in: scope.environment.id, regionID: statement.regionID)
        else {
            throw APIError.forbidden(
                "The principal \(scope.caller.principalID) has no Flink role for statements in \(scope.environment.id) and \(statement.regionID).")
        }
        return statement
    }

    /// The statement of the path, if the caller may change it (its own, or any with FlinkAdmin and above).
    func manageableStatement(_ scope: Scope, name: String) throws(APIError) -> Statement {
        let statement = try readableStatement(scope, name: name)
        let caller = scope.caller
        guard
            caller.policy.canManageAllStatements(in: scope.environment.id) || statement.creatorID == caller.principalID
                || statement.principal == caller.principalID
        else {
            throw APIError.forbidden(
                "The principal \(caller.principalID) may manage only its own statements; statement \(name) belongs to \(statement.principal). FlinkAdmin manages all statements of an environment."
            )
        }
        return statement
    }

    /// Checks that the caller may run statements as `principal`: itself, or a service account it is Assigner of.
    func requireCanActAs(_ principal: String, scope: Scope, pointer: String) throws(APIError) {
        guard principal != scope.caller.principalID else { return }
        guard scope.state.principalExists(principal, organizationID: scope.caller.organizationID) else {
            throw APIError.badRequest("The principal \(principal) does not exist.", pointer: pointer)
        }
        guard principal.hasPrefix("sa-"), scope.caller.policy.canAssign(serviceAccount: principal) else {
            throw APIError.forbidden(
                "The principal \(scope.caller.principalID) may not run statements as \(principal): that needs the Assigner role on it.")
        }
    }

    /// A compute pool of the environment the caller may use, for a new or resumed statement.
    func usablePool(_ id: String, scope: Scope, pointer: String) throws(APIError) -> ComputePool {
        guard let pool = scope.state.computePools[id], pool.environmentIDValue == scope.environment.id else {
            throw APIError(
                status: 403, code: "forbidden_access", detail: "The compute pool \(id) was not found in \(scope.environment.id).",
                source: .init(pointer: pointer))
        }
        try requireKeyRegion(scope, regionID: pool.regionID)
        guard scope.caller.policy.canUse(pool: pool) else {
            throw APIError.forbidden("The principal \(scope.caller.principalID) may not use compute pool \(id).")
        }
        return pool
    }

    // MARK: Create

    @Sendable func create(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let scope = try scope(context)
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let name = try body.requiredString("/name")
        let sql = try body.requiredString("/spec/statement")
        let properties = try Self.stringMap(body, "/spec/properties")
        let labels = try Self.stringMap(body, "/metadata/labels")
        let requestedPool = try body.string("/spec/compute_pool_id").flatMap { $0.isEmpty ? nil : $0 }
        let principal = try body.string("/spec/principal").flatMap { $0.isEmpty ? nil : $0 } ?? scope.caller.principalID
        let stopped = try body.bool("/spec/stopped") ?? false
        try ControlPlaneState.validateStatementName(name)
        try ControlPlaneState.validateStatementSpec(sql: sql, properties: properties)
        try ControlPlaneState.validateStatementLabels(labels)
        try requireCanActAs(principal, scope: scope, pointer: "/spec/principal")

        let keyRegion: String? = if case .flinkRegion(let region, _) = scope.caller.apiKey.resource { region } else { nil }
        let pool: ComputePool? = try requestedPool.map { (id: String) throws(APIError) -> ComputePool in
            try usablePool(id, scope: scope, pointer: "/spec/compute_pool_id")
        }
        let regionID = pool?.regionID ?? keyRegion
        if let regionID {
            guard scope.caller.policy.canRunStatements(in: scope.environment.id, regionID: regionID) else {
                throw APIError.forbidden("Running statements in \(scope.environment.id) and \(regionID) needs FlinkDeveloper or above.")
            }
        }

        let statementRequest = ControlPlaneState.StatementRequest(
            name: name, sql: sql, properties: properties, labels: labels, computePoolID: requestedPool ?? "", principal: principal,
            networkKind: api.networkKind)
        if properties["sql.dry-run"]?.lowercased() == "true" {
            return try await dryRun(statementRequest, scope: scope, pool: pool, regionID: regionID)
        }

        let now = api.now()
        let organizationID = scope.caller.organizationID
        let environmentID = scope.environment.id
        let regions = api.regions
        let caller = scope.caller
        let uid = IdentifierGenerator.uuid()
        let statement = try await api.mutate { state throws(APIError) in
            let target: ComputePool
            if let pool {
                target = pool
            } else {
                target = try state.defaultPool(
                    organizationID: organizationID, environmentID: environmentID, regionID: keyRegion, regions: regions, now: now)
            }
            guard caller.policy.canUse(pool: target) || caller.policy.canManageAllStatements(in: environmentID) else {
                throw APIError.forbidden("The principal \(caller.principalID) may not use compute pool \(target.id).")
            }
            guard caller.policy.canRunStatements(in: environmentID, regionID: target.regionID) else {
                throw APIError.forbidden("Running statements in \(environmentID) and \(target.regionID) needs FlinkDeveloper or above.")
            }
            var created = try state.createStatement(
                organizationID: organizationID, environmentID: environmentID, request: statementRequest, pool: target, creatorID: caller.principalID,
                credentialReach: CredentialReach(of: caller.apiKey), uid: uid, now: now)
            if stopped {
                created = try state.updateStatement(id: created.id, expectedVersion: created.resourceVersion, now: now) { $0.stopped = true }
            }
            return created
        }
        services.scheduler.wake()
        let document = self.document(statement)
        return JSONResponse.make(.created, document, headers: [.location: api.links.url(Representations.statementPath(statement))])
    }

    /// `sql.dry-run=true`: analyze only; the answer (COMPLETED with traits, or FAILED) is the POST response itself
    /// and nothing is stored. A statement that exceeds what the backend allows any statement (nesting, expansions)
    /// is a 400, as an oversized statement text is.
    func dryRun(_ request: ControlPlaneState.StatementRequest, scope: Scope, pool: ComputePool?, regionID: String?) async throws -> Response {
        let now = api.now()
        var statement = Statement(
            name: request.name, organizationID: scope.caller.organizationID, environmentID: scope.environment.id, uid: IdentifierGenerator.uuid(),
            sequence: 0, createdAt: now, labels: request.labels, sql: request.sql, properties: request.properties,
            computePoolID: pool?.id ?? request.computePoolID, regionID: regionID ?? "", principal: request.principal,
            creatorID: scope.caller.principalID)
        statement.credentialReach = CredentialReach(of: scope.caller.apiKey)
        statement.networkKind = request.networkKind
        let context = ExecutionContext(statement: statement, in: scope.state, statementID: nil)
        do throws(ExecutionFailure) {
            let prepared = try await services.backend.prepare(request.sql, in: context)
            statement.traits = prepared.traits
            statement.phase = StatementPhase.completed
            statement.endTime = now
        } catch  where error.exceedsLimit {
            throw APIError.badRequest(error.message, pointer: "/spec/statement")
        } catch {
            statement.fail(error.message, exception: error.exceptionName, now: now)
        }
        return JSONResponse.make(.created, document(statement))
    }

    /// A member that is an object of scalars, read as strings (clients send booleans and numbers for properties).
    static func stringMap(_ body: RequestDocument, _ pointer: String) throws(APIError) -> [String: String] {
        guard let value = try body.value(pointer) else { return [:] }
        guard case .object(let members) = value else { throw body.wrongType(pointer, "an object", value) }
        var map: [String: String] = [:]
        for (key, member) in members {
            switch member {
            case .string(let text): map[key] = text
            case .bool(let flag): map[key] = flag ? "true" : "false"
            case .int(let number): map[key] = String(number)
            case .double(let number): map[key] = String(number)
            case .null: continue
            default: throw body.wrongType("\(pointer)/\(key)", "a string", member)
            }
        }
        return map
    }

    // MARK: Read

    @Sendable func get(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let scope = try scope(context)
        return JSONResponse.make(.ok, document(try readableStatement(scope, name: context.parameters.path("name"))))
    }

    @Sendable func list(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let scope = try scope(context)
        let query = try ListingQuery(request, filterNames: ["spec.compute_pool_id", "label_selector", "statement_name_search_query"])
        let selector = try LabelSelector(query.filter("label_selector") ?? "")
        let pool = query.filter("spec.compute_pool_id")
        let search = query.filter("statement_name_search_query")
        let policy = scope.caller.policy
        let statements: [Statement] = scope.state.statements(inEnvironment: scope.environment.id).filter { (statement: Statement) -> Bool in
            scope.caller.keyPermits(environmentID: scope.environment.id, regionID: statement.regionID)
                && (policy.canManageAllStatements(in: scope.environment.id)
                    || policy.canRunStatements(in: scope.environment.id, regionID: statement.regionID))
                && (pool == nil || statement.computePoolID == pool)
                && (search.map { statement.name.contains($0) } ?? true)
                && selector.matches(statement.labels)
        }
        let page = query.page(statements)
        let path = "/sql/v1/organizations/\(scope.caller.organizationID)/environments/\(scope.environment.id)/statements"
        var next = ""
        if let token = page.next {
            next = api.links.url(path, query: [("page_size", String(query.pageSize)), ("page_token", token.encoded)])
        }
        let document: JSONValue = [
            "api_version": "sql/v1",
            "kind": "StatementList",
            "metadata": ["self": .string(api.links.url(path)), "next": .string(next)],
            "data": .array(page.items.map { self.document($0) }),
        ]
        return JSONResponse.make(.ok, document)
    }

    @Sendable func exceptions(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let scope = try scope(context)
        let statement = try readableStatement(scope, name: context.parameters.path("name"))
        let document: JSONValue = [
            "api_version": "sql/v1",
            "kind": "StatementExceptionList",
            "metadata": ["self": .string(api.links.url(Representations.statementPath(statement) + "/exceptions"))],
            "data": .array(
                statement.exceptions.prefix(10).map { exception in
                    [
                        "kind": "StatementException", "name": .string(exception.name), "message": .string(exception.message),
                        "timestamp": render.time(exception.timestamp),
                    ]
                }),
        ]
        return JSONResponse.make(.ok, document)
    }

    // MARK: Update

    @Sendable func update(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let scope = try scope(context)
        let current = try manageableStatement(scope, name: context.parameters.path("name"))
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let updated = try await apply(body, to: current, scope: scope)
        return JSONResponse.make(.accepted, document(updated))
    }

    @Sendable func patch(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let scope = try scope(context)
        let current = try manageableStatement(scope, name: context.parameters.path("name"))
        let body = try await RequestDocument.read(request, context: context)
        let original = document(current)
        let patched = try JSONPatch.apply(body.root, to: original)
        try Self.requirePatchable(JSONPatch.changes(from: original, to: patched))
        let updated = try await apply(RequestDocument(root: patched), to: current, scope: scope)
        return JSONResponse.make(.ok, document(updated))
    }

    /// The members a PATCH may change: `spec.stopped`, `spec.compute_pool_id`, `spec.principal`, the labels, and
    /// `metadata.resource_version` (the version the client expects). Anything else a patch changes, removes, adds or
    /// moves is refused, never silently kept as it was.
    static let patchable: Set<String> = [
        "/spec/stopped", "/spec/compute_pool_id", "/spec/principal", "/metadata/labels", "/metadata/resource_version",
    ]

    static func requirePatchable(_ changes: [JSONPatch.Change]) throws(APIError) {
        for change in changes {
            let isLabel = change.pointer.hasPrefix("/metadata/labels/")
            guard isLabel || patchable.contains(change.pointer) else {
                throw APIError.badRequest(
                    "The patch \(change.removed ? "removes" : "changes") \(change.pointer), which a PATCH cannot change; it may change spec.stopped, spec.compute_pool_id, spec.principal and metadata.labels.",
                    pointer: change.pointer)
            }
            guard isLabel || !change.removed else {
                throw APIError.badRequest(
                    "The patch removes \(change.pointer), which a statement always has; replace it instead.", pointer: change.pointer)
            }
        }
    }

    /// Applies a desired statement (a PUT body, or the patched statement) to `current`. What may change:
    /// `spec.stopped` (stop, or resume a resumable statement), and on resume or while stopped `spec.compute_pool_id`
    /// (same region) and `spec.principal`; `metadata.labels`. The SQL and properties are immutable.
    func apply(_ desired: RequestDocument, to current: Statement, scope: Scope) async throws -> Statement {
        let version = try Self.resourceVersion(desired)
        if version != current.resourceVersion {
            // Checked again atomically in the store; a stale version wins over any other complaint about the body.
            throw APIError.conflict(
                "The statement \(current.name) has been modified since it was read (resource_version \(version), now \(current.resourceVersion)); GET it, re-apply the change and retry.",
                code: "conflict")
        }
        if let name = try desired.string("/name"), name != current.name {
            throw APIError.badRequest("name is immutable (the path names \(current.name)).", pointer: "/name")
        }
        if let sql = try desired.string("/spec/statement"), sql != current.sql {
            throw APIError.badRequest("spec.statement is immutable; create a new statement instead.", pointer: "/spec/statement")
        }
        if try desired.value("/spec/properties") != nil, try Self.stringMap(desired, "/spec/properties") != current.properties {
            throw APIError.badRequest(
                "spec.properties cannot be changed on an existing statement; create a new statement instead.", pointer: "/spec/properties")
        }
        let stopped = try desired.bool("/spec/stopped") ?? current.stopped
        let poolID = try desired.string("/spec/compute_pool_id").flatMap { $0.isEmpty ? nil : $0 } ?? current.computePoolID
        let principal = try desired.string("/spec/principal").flatMap { $0.isEmpty ? nil : $0 } ?? current.principal
        let labels = try desired.value("/metadata/labels") != nil ? try Self.stringMap(desired, "/metadata/labels") : current.labels
        if labels != current.labels { try ControlPlaneState.validateStatementLabels(labels) }

        let resuming = current.stopped && !stopped
        if poolID != current.computePoolID || principal != current.principal {
            guard current.stopped else {
                throw APIError.badRequest(
                    "spec.compute_pool_id and spec.principal can change only while the statement is stopped or as it is resumed.",
                    pointer: poolID != current.computePoolID ? "/spec/compute_pool_id" : "/spec/principal")
            }
        }
        var regionID = current.regionID
        if poolID != current.computePoolID {
            let pool = try usablePool(poolID, scope: scope, pointer: "/spec/compute_pool_id")
            guard pool.regionID == current.regionID else {
                throw APIError.badRequest(
                    "The compute pool \(poolID) is in \(pool.regionID); a statement can move only to a pool of its own region (\(current.regionID)).",
                    pointer: "/spec/compute_pool_id")
            }
            regionID = pool.regionID
        }
        if principal != current.principal { try requireCanActAs(principal, scope: scope, pointer: "/spec/principal") }
        if resuming, current.phase == .failed {
            throw APIError.badRequest("A FAILED statement cannot be resumed; create a new statement instead.", pointer: "/spec/stopped")
        }
        if resuming, let traits = current.traits, !traits.isResumable, current.phase != .pending {
            throw APIError.badRequest(
                "A \(traits.sqlKind) statement cannot be resumed; only CREATE TABLE AS, INSERT INTO and EXECUTE STATEMENT SET statements can.",
                pointer: "/spec/stopped")
        }
        let now = api.now()
        let id = current.id
        let newRegionID = regionID
        // A new principal is the caller's to give: from now on the statement reaches what the caller's key reaches.
        let reach = principal != current.principal ? CredentialReach(of: scope.caller.apiKey) : current.credentialReach
        let updated = try await api.mutate { state throws(APIError) in
            try state.updateStatement(id: id, expectedVersion: version, now: now) { statement throws(APIError) in
                statement.stopped = stopped
                statement.computePoolID = poolID
                statement.regionID = newRegionID
                statement.principal = principal
                statement.credentialReach = reach
                statement.labels = labels
            }
        }
        services.scheduler.wake()
        return updated
    }

    /// `metadata.resource_version`, a string (as Floe writes it) or a number.
    static func resourceVersion(_ desired: RequestDocument) throws(APIError) -> Int64 {
        guard let value = try desired.value("/metadata/resource_version") else { throw desired.missing("/metadata/resource_version") }
        switch value {
        case .string(let text):
            guard let version = Int64(text) else {
                throw APIError.badRequest(
                    "metadata.resource_version '\(text)' is not a version of this statement.", pointer: "/metadata/resource_version")
            }
            return version
        case .int(let number): return number
        default: throw desired.wrongType("/metadata/resource_version", "a string", value)
        }
    }

    // MARK: Delete

    @Sendable func delete(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let scope = try scope(context)
        let current = try manageableStatement(scope, name: context.parameters.path("name"))
        let now = api.now()
        let deleted = try await api.mutate { state throws(APIError) in try state.deleteStatement(id: current.id, now: now) }
        services.scheduler.wake()
        if await !services.scheduler.isRunning(id: deleted.id, uid: deleted.uid) {
            try await services.results.deleteResults(statementUID: deleted.uid)
            services.backend.discardState(statementID: deleted.uid)
        }
        services.signals.forget(deleted.uid)
        return JSONResponse.empty(.accepted)
    }

    // MARK: Results

    @Sendable func results(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let arrival = ContinuousClock.now
        let scope = try scope(context)
        let name = context.parameters.path("name")
        var statement = try readableStatement(scope, name: name)
        let offset: Int64
        let tokenGiven: Bool
        if let token = request.uri.queryParameters.get("page_token"), !token.isEmpty {
            guard let value = Int64(token), value >= 0 else {
                throw APIError.invalidParameter("page_token", "The page_token '\(token)' is not a results position of this statement.")
            }
            offset = value
            tokenGiven = true
        } else {
            offset = 0
            tokenGiven = false
        }
        let limit = services.resultsPageSize
        // The order matters: the generation, then the phase, then the rows. A run stores its rows before it ends, and
        // every store or phase change advances the generation, so nothing that happens after a read is missed.
        var generation = services.signals.generation(of: statement.uid)
        if let latest = api.store.snapshot().statement(named: name, environmentID: scope.environment.id), latest.uid == statement.uid {
            statement = latest
        }
        var rows = try await services.results.results(statementUID: statement.uid, from: offset, limit: limit + 1)
        // Long poll: while there is nothing to return and more can come, wait (briefly, in all) for new changes or the
        // end, so clients that follow `next` at once neither spin nor wait longer than needed.
        let deadline = ContinuousClock.now + services.longPoll
        while rows.isEmpty && !statement.phase.isTerminal && Self.mayProduceResults(statement) && ContinuousClock.now < deadline {
            await services.signals.wait(for: statement.uid, after: generation, timeout: deadline - ContinuousClock.now)
            generation = services.signals.generation(of: statement.uid)
            guard let latest = api.store.snapshot().statement(named: name, environmentID: scope.environment.id), latest.uid == statement.uid else {
                throw APIError.notFound("Statement resource=\(name) does not exist", code: "statement_not_found")
            }
            statement = latest
            rows = try await services.results.results(statementUID: statement.uid, from: offset, limit: limit + 1)
        }
        // Gather: a page with rows but room for more, of a statement still running, waits (from the request's arrival,
        // briefly) for the page to fill or the statement to end. Only the new rows are read each time.
        let gatherUntil = arrival + services.resultsGather
        while !rows.isEmpty && rows.count <= limit && statement.phase == .running && ContinuousClock.now < gatherUntil {
            await services.signals.wait(for: statement.uid, after: generation, timeout: gatherUntil - ContinuousClock.now)
            let current = services.signals.generation(of: statement.uid)
            guard current != generation else { break }
            generation = current
            guard let latest = api.store.snapshot().statement(named: name, environmentID: scope.environment.id), latest.uid == statement.uid else {
                throw APIError.notFound("Statement resource=\(name) does not exist", code: "statement_not_found")
            }
            statement = latest
            let after = (rows.last?.position ?? offset - 1) + 1
            rows += try await services.results.results(statementUID: statement.uid, from: after, limit: limit + 1 - rows.count)
        }
        // The log keeps only its newest changes: a page that starts later than asked lost what it asked for. Without a
        // page token a reader simply starts at the oldest change kept; with one, it must hear that it missed some.
        if tokenGiven, let first = rows.first, first.position > offset {
            throw APIError.resultsDropped(statement: statement.name, asked: offset, oldestKept: first.position)
        }
        let more = rows.count > limit
        if more { rows.removeLast() }
        let nextOffset = rows.last.map { $0.position + 1 } ?? offset
        // `next` stays until nothing more can come: the statement ended (its phase was read before the rows, and a
        // run stores its rows before it ends) and this page reached the end of the log.
        let finished = (statement.phase.isTerminal || !Self.mayProduceResults(statement)) && !more
        let path = Representations.statementPath(statement) + "/results"
        let next = finished ? "" : api.links.url(path, query: [("page_token", String(nextOffset))])
        return Self.resultsResponse(
            selfURL: api.links.url(path, query: offset > 0 ? [("page_token", String(offset))] : []), next: next,
            createdAt: RFC3339.format(api.now()), rows: rows)
    }

    /// Statements without a result schema (DDL, INSERT) never produce result rows once analyzed.
    static func mayProduceResults(_ statement: Statement) -> Bool {
        guard let traits = statement.traits else { return statement.phase == .pending }
        return traits.schemaJSON != nil
    }

    /// `{"api_version":"sql/v1","kind":"StatementResult","metadata":{…},"results":{"data":[{"op":0,"row":[…]},…]}}`,
    /// with each stored row spliced in as it was serialized.
    static func resultsResponse(selfURL: String, next: String, createdAt: String, rows: [StoredResultChange]) -> Response {
        let metadata: JSONValue = ["self": .string(selfURL), "next": .string(next), "created_at": .string(createdAt)]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + rows.reduce(0) { $0 + $1.row.count + 16 })
        bytes.append(contentsOf: #"{"api_version":"sql/v1","kind":"StatementResult","metadata":"#.utf8)
        bytes.append(contentsOf: metadata.serialized())
        bytes.append(contentsOf: #","results":{"data":["#.utf8)
        for (index, row) in rows.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: #"{"op":"#.utf8)
            bytes.append(contentsOf: String(row.op).utf8)
            bytes.append(contentsOf: #","row":"#.utf8)
            bytes.append(contentsOf: row.row)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(contentsOf: "]}}".utf8)
        var headers: HTTPFields = [:]
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(bytes.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// A Kubernetes-style label selector: `k=v`, `k==v`, `k!=v`, `k` (exists), `!k` (absent), comma-separated, all must
/// hold. Statements labelled `user.confluent.io/hidden=true` are left out unless the selector names that label.
struct LabelSelector {
    enum Requirement {
        case equals(String, String)
        case notEquals(String, String)
        case exists(String)
        case absent(String)
    }

    static let hiddenLabel = "user.confluent.io/hidden"
    let requirements: [Requirement]
    let namesHidden: Bool

    init(_ text: String) throws(APIError) {
        var requirements: [Requirement] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if let range = part.range(of: "!=") {
                requirements.append(.notEquals(String(part[..<range.lowerBound]), String(part[range.upperBound...])))
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                requirements.append(.equals(String(part[..<range.lowerBound]), String(part[range.upperBound...])))
            } else if part.hasPrefix("!") {
                requirements.append(.absent(String(part.dropFirst())))
            } else {
                requirements.append(.exists(part))
            }
        }
        for requirement in requirements {
            switch requirement {
            case .equals(let key, _), .notEquals(let key, _), .exists(let key), .absent(let key):
                if key.isEmpty {
                    throw APIError.invalidParameter("label_selector", "The label_selector '\(text)' has a requirement without a label.")
                }
            }
        }
        self.requirements = requirements
        self.namesHidden = requirements.contains { requirement in
            switch requirement {
            case .equals(let key, _), .notEquals(let key, _), .exists(let key), .absent(let key): return key == Self.hiddenLabel
            }
        }
    }

    func matches(_ labels: [String: String]) -> Bool {
        if !namesHidden, labels[Self.hiddenLabel]?.lowercased() == "true" { return false }
        return requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .exists(let key): return labels[key] != nil
            case .absent(let key): return labels[key] == nil
            }
        }
    }
}

extension APIError {
    /// A results page token older than the oldest change a statement's result log still keeps.
    static func resultsDropped(statement: String, asked: Int64, oldestKept: Int64) -> APIError {
        APIError(
            status: 410, code: "results_dropped",
            detail:
                "The results of statement \(statement) before position \(oldestKept) are no longer kept (a statement keeps its newest results, up to the server's --statement-results-limit); page_token \(asked) is gone. Continue with page_token=\(oldestKept), or start again without a page_token.",
            source: .init(parameter: "page_token"))
    }
}
