// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Hummingbird

/// The SQL workspace: an editor whose Run creates a statement through the API, and the fetch endpoints that the
/// workspace and the statement page poll for the statement's phase and its results (the changelog is applied in the
/// browser). Every fetch carries the session's CSRF token in `X-CSRF-Token`. A results page comes with the statement's
/// summary, so a follower makes one request per page.
extension Console {
    func registerWorkspace(on router: RouterGroup<FloeRequestContext>) {
        router.get("environments/:env/flink/workspace") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let pools = try await visit.api.list("/fcpm/v2/compute-pools", query: [("environment", environment.id)]).map { pool -> [String: Any] in
                let id = pool["id"]?.stringValue ?? ""
                let name = pool.value(at: "spec", "display_name")?.stringValue ?? id
                let region = "\(pool.value(at: "spec", "cloud")?.stringValue ?? "") \(pool.value(at: "spec", "region")?.stringValue ?? "")"
                return ["id": id, "label": "\(name) (\(id), \(region))"]
            }
            return page(
                .workspace, visit, title: "SQL workspace", environment: environment, tab: "workspace",
                ["pools": pools, "any_pools": !pools.isEmpty, "catalog": environment.name, "database": "default"])
        }
        router.post("console/api/environments/:env/statements") { request, context in
            let visit = try await visit(request, context)
            let environmentID = request.parameter("env", context)
            guard let body = visit.json, let sql = body["sql"]?.stringValue, !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ConsoleError.badRequest("Write a statement to run.")
            }
            var properties: [(String, JSONValue)] = []
            if let catalog = body["catalog"]?.stringValue, !catalog.isEmpty { properties.append(("sql.current-catalog", .string(catalog))) }
            if let database = body["database"]?.stringValue, !database.isEmpty { properties.append(("sql.current-database", .string(database))) }
            var spec: [(String, JSONValue)] = [("statement", .string(sql))]
            if let pool = body["compute_pool_id"]?.stringValue, !pool.isEmpty { spec.append(("compute_pool_id", .string(pool))) }
            let name = Self.workspaceStatementName()
            // A dry run first tells what kind of statement this is before it starts (a statement's traits are known
            // only once it leaves PENDING): the workspace stops queries it lets go, never statements that write.
            let dryRun = await visit.api.send(
                .post, statementsPath(visit, environmentID),
                json: ["name": .string(name), "spec": .object(spec + [("properties", .object(properties + [("sql.dry-run", "true")]))])])
            let kind = dryRun.body?.value(at: "status", "traits", "sql_kind")?.stringValue
            let created = try await visit.api.call(
                .post, statementsPath(visit, environmentID),
                json: ["name": .string(name), "spec": .object(spec + [("properties", .object(properties))])])
            if kind == nil || kind == "SELECT" {
                sessions.addWorkspaceQuery(environmentID: environmentID, name: name, for: visit.session.id)
            }
            var summary = Self.statementSummary(created)
            if case .object(var members) = summary, let kind, created.value(at: "status", "traits", "sql_kind") == nil {
                members.set("sql_kind", .string(kind))
                summary = .object(members)
            }
            return JSONResponse.make(.created, summary)
        }
        router.get("console/api/environments/:env/statements/:name") { request, context in
            let visit = try await visit(request, context)
            let path = statementPath(visit, request.parameter("env", context), request.parameter("name", context))
            return JSONResponse.make(.ok, Self.statementSummary(try await visit.api.call(.get, path)))
        }
        router.get("console/api/environments/:env/statements/:name/results") { request, context in
            let visit = try await visit(request, context)
            let path = statementPath(visit, request.parameter("env", context), request.parameter("name", context))
            var query: [(String, String)] = []
            if let token = request.uri.queryParameters.get("page_token"), !token.isEmpty { query.append(("page_token", token)) }
            // The statement is read first: a page that ends the results was read after the phase that ended them.
            let statement = try await visit.api.call(.get, path)
            let page = try await visit.api.call(.get, path + "/results", query: query)
            let next = page.value(at: "metadata", "next")?.stringValue.flatMap(ConsoleAPIClient.pageToken(ofNext:))
            return JSONResponse.make(
                .ok,
                [
                    "data": page.value(at: "results", "data") ?? [], "next_page_token": .string(orNull: next),
                    "statement": Self.statementSummary(statement),
                ])
        }
        router.post("console/api/environments/:env/statements/:name/stop") { request, context in
            let visit = try await visit(request, context)
            let environmentID = request.parameter("env", context)
            let name = request.parameter("name", context)
            try await setStopped(visit, environmentID: environmentID, name: name, stopped: true)
            let path = statementPath(visit, environmentID, name)
            return JSONResponse.make(.ok, Self.statementSummary(try await visit.api.call(.get, path)))
        }
    }

    /// `workspace-20261124-013045-3fa9c1`: sortable, unique, and valid as a statement name.
    static func workspaceStatementName(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "workspace-\(formatter.string(from: now))-\(IdentifierGenerator.hexString(length: 6))"
    }

    /// What the browser needs of a statement: its phase, detail, result columns and upsert key.
    static func statementSummary(_ statement: JSONValue) -> JSONValue {
        let columns = (statement.value(at: "status", "traits", "schema", "columns")?.arrayValue ?? []).map { column -> JSONValue in
            ["name": column["name"] ?? "", "type": .string(ConsoleFormat.type(column["type"]))]
        }
        return [
            "name": statement["name"] ?? .null,
            "phase": statement.value(at: "status", "phase") ?? .null,
            "detail": statement.value(at: "status", "detail") ?? .null,
            "sql_kind": statement.value(at: "status", "traits", "sql_kind") ?? .null,
            "upsert_columns": statement.value(at: "status", "traits", "upsert_columns") ?? .null,
            "columns": .array(columns),
        ]
    }
}
