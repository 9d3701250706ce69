// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Hummingbird

/// The Statements tab: the list with a filter, a statement's detail page, and stop, resume and delete.
extension Console {
    static let statementPhases = ["PENDING", "RUNNING", "COMPLETED", "STOPPING", "STOPPED", "DELETING", "FAILED", "DEGRADED"]

    func registerStatements(on router: RouterGroup<FloeRequestContext>) {
        router.get("environments/:env/flink/statements") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let filter = try FormBody(encoded: request.uri.query ?? "")
            let text = filter["q"]?.lowercased()
            let phase = filter["phase"]?.uppercased()
            let pool = filter["compute_pool"]
            var query: [(String, String)] = []
            if let pool { query.append(("spec.compute_pool_id", pool)) }
            let statements = try await visit.api.list(statementsPath(visit, environment.id), query: query)
            let rows = statements.filter { statement in
                let name = statement["name"]?.stringValue ?? ""
                let sql = statement.value(at: "spec", "statement")?.stringValue ?? ""
                if let text, !name.lowercased().contains(text), !sql.lowercased().contains(text) { return false }
                if let phase, statement.value(at: "status", "phase")?.stringValue != phase { return false }
                return true
            }.sorted {
                ($0.value(at: "metadata", "created_at")?.stringValue ?? "") > ($1.value(at: "metadata", "created_at")?.stringValue ?? "")
            }.map { statement -> [String: Any] in
                let sql = statement.value(at: "spec", "statement")?.stringValue ?? ""
                return [
                    "name": statement["name"]?.stringValue ?? "",
                    "phase": statement.value(at: "status", "phase")?.stringValue ?? "",
                    "pool": statement.value(at: "spec", "compute_pool_id")?.stringValue ?? "",
                    "principal": statement.value(at: "spec", "principal")?.stringValue ?? "",
                    "created": ConsoleFormat.time(statement.value(at: "metadata", "created_at")),
                    "sql": sql.count > 90 ? String(sql.prefix(90)) + "…" : sql,
                ]
            }
            let phases = Self.statementPhases.map { ["value": $0, "selected": $0 == phase] as [String: Any] }
            return page(
                .statements, visit, title: "Statements", environment: environment, tab: "statements",
                [
                    "statements": rows, "any": !rows.isEmpty, "total": statements.count, "shown": rows.count, "q": filter["q"] ?? "",
                    "phases": phases, "compute_pool": pool ?? "",
                ])
        }
        router.get("environments/:env/flink/statements/:name") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let name = request.parameter("name", context)
            let path = statementPath(visit, environment.id, name)
            let statement = try await visit.api.call(.get, path)
            let exceptions = (try? await visit.api.call(.get, path + "/exceptions"))?["data"]?.arrayValue ?? []
            let phase = statement.value(at: "status", "phase")?.stringValue ?? ""
            let properties: [[String: Any]] =
                if case .object(let members)? = statement.value(at: "spec", "properties") {
                    members.map { ["key": $0.0, "value": ConsoleFormat.value($0.1)] }
                } else { [] }
            let traits = statement.value(at: "status", "traits")
            let columns = (traits?.value(at: "schema", "columns")?.arrayValue ?? []).map { column -> [String: Any] in
                ["name": column["name"]?.stringValue ?? "", "type": ConsoleFormat.type(column["type"])]
            }
            let traitRows: [[String: Any]] = [
                ("SQL kind", traits?["sql_kind"]), ("Bounded", traits?["is_bounded"]), ("Append only", traits?["is_append_only"]),
                ("Upsert columns", traits?["upsert_columns"]),
            ].compactMap { label, value in
                guard let value, !value.isNull else { return nil }
                return ["label": label, "value": ConsoleFormat.value(value)]
            }
            let canManage =
                visit.policy.canManageAllStatements(in: environment.id)
                || statement.value(at: "spec", "principal")?.stringValue == visit.session.principalID
            let detail = statement.value(at: "status", "detail")?.stringValue ?? ""
            return page(
                .statementDetail, visit, title: "Statement \(name)", environment: environment, tab: "statements",
                [
                    "name": name, "phase": phase, "detail": detail, "has_detail": !detail.isEmpty,
                    "sql": statement.value(at: "spec", "statement")?.stringValue ?? "",
                    "pool": statement.value(at: "spec", "compute_pool_id")?.stringValue ?? "",
                    "principal": statement.value(at: "spec", "principal")?.stringValue ?? "",
                    "created": ConsoleFormat.time(statement.value(at: "metadata", "created_at")),
                    "properties": properties, "any_properties": !properties.isEmpty, "traits": traitRows, "columns": columns,
                    "any_columns": !columns.isEmpty,
                    "exceptions": exceptions.map { exception -> [String: Any] in
                        [
                            "name": exception["name"]?.stringValue ?? "", "message": exception["message"]?.stringValue ?? "",
                            "timestamp": ConsoleFormat.time(exception["timestamp"]),
                        ]
                    },
                    "any_exceptions": !exceptions.isEmpty,
                    "can_stop": canManage && ["PENDING", "RUNNING", "DEGRADED"].contains(phase),
                    "can_resume": canManage && phase == "STOPPED"
                        && StatementTraitsRecord.resumableKinds.contains(traits?["sql_kind"]?.stringValue ?? ""),
                    "can_delete": canManage,
                ])
        }
        for action in ["stop", "resume"] {
            router.post("environments/:env/flink/statements/:name/\(action)") { request, context in
                let visit = try await visit(request, context)
                let environmentID = request.parameter("env", context)
                let name = request.parameter("name", context)
                let detail = "/environments/\(FormBody.encode(environmentID))/flink/statements/\(FormBody.encode(name))"
                let changed: Bool
                do {
                    changed = try await setStopped(visit, environmentID: environmentID, name: name, stopped: action == "stop")
                } catch ConsoleError.api(_, let message), ConsoleError.rateLimited(_, let message) {
                    return redirect(visit, to: detail, error: "The statement was not \(action == "stop" ? "stopped" : "resumed"): \(message)")
                }
                guard changed else { return redirect(visit, to: detail, notice: "Statement \(name) had already ended.") }
                return redirect(visit, to: detail, notice: action == "stop" ? "Stopping statement \(name)." : "Resuming statement \(name).")
            }
        }
        router.post("environments/:env/flink/statements/:name/delete") { request, context in
            let visit = try await visit(request, context)
            let environmentID = request.parameter("env", context)
            let name = request.parameter("name", context)
            let list = "/environments/\(FormBody.encode(environmentID))/flink/statements"
            let reply = try await visit.api.reply(.delete, statementPath(visit, environmentID, name))
            guard (200..<300).contains(reply.status) else {
                return redirect(visit, to: "\(list)/\(FormBody.encode(name))", error: "The statement was not deleted: \(reply.errorDetail)")
            }
            return redirect(visit, to: list, notice: "Deleted statement \(name).")
        }
    }

    /// `/sql/v1/organizations/{org}/environments/{env}/statements`.
    func statementsPath(_ visit: ConsoleVisit, _ environmentID: String) -> String {
        "/sql/v1/organizations/\(FormBody.encode(visit.organizationID))/environments/\(FormBody.encode(environmentID))/statements"
    }

    /// `/sql/v1/organizations/{org}/environments/{env}/statements/{name}`.
    func statementPath(_ visit: ConsoleVisit, _ environmentID: String, _ name: String) -> String {
        statementsPath(visit, environmentID) + "/" + FormBody.encode(name)
    }

    /// Sets `spec.stopped` with the API's GET → change → PUT, retried when another writer got in between (409).
    /// - Returns: `false` when asked to stop a statement that had already ended (nothing was changed).
    @discardableResult
    func setStopped(_ visit: ConsoleVisit, environmentID: String, name: String, stopped: Bool) async throws(ConsoleError) -> Bool {
        let path = statementPath(visit, environmentID, name)
        for attempt in 1...5 {
            let current = try await visit.api.call(.get, path)
            // Stopping what has ended would only relabel it (a COMPLETED query would show as STOPPED).
            if stopped, ["COMPLETED", "FAILED", "STOPPED"].contains(current.value(at: "status", "phase")?.stringValue ?? "") { return false }
            guard case .object(var members) = current, case .object(var spec)? = current["spec"] else {
                throw ConsoleError.api(status: 500, detail: "The API sent an unreadable statement.")
            }
            spec.set("stopped", .bool(stopped))
            members.set("spec", .object(spec))
            let reply = try await visit.api.reply(.put, path, json: .object(members))
            if (200..<300).contains(reply.status) { return true }
            if reply.status != 409 || attempt == 5 { throw ConsoleError.api(status: reply.status, detail: reply.errorDetail) }
            try? await Task.sleep(for: .milliseconds(50 * attempt))
        }
        return true
    }
}
