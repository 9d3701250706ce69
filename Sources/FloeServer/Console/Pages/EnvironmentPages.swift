// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird

/// The environments list and the create form (organization admins only, as the API requires).
extension Console {
    func registerEnvironments(on router: RouterGroup<FloeRequestContext>) {
        router.get("environments") { request, context in
            try await environmentsPage(try await visit(request, context))
        }
        router.post("environments") { request, context in
            let visit = try await visit(request, context)
            guard let name = visit.form["display_name"] else {
                return try await environmentsPage(visit, error: "Give the environment a name.")
            }
            let package = visit.form["package"] ?? "ESSENTIALS"
            let reply = try await visit.api.reply(
                .post, "/org/v2/environments", json: ["display_name": .string(name), "stream_governance_config": ["package": .string(package)]])
            guard reply.status == 201, let id = reply.body?["id"]?.stringValue else {
                return try await environmentsPage(
                    visit, name: name, error: "The environment was not created: \(reply.errorDetail)", status: reply.status)
            }
            return redirect(visit, to: "/environments", notice: "Created environment \(name) (\(id)).")
        }
        router.get("environments/:env") { request, context in
            ConsolePages.redirect(to: "/environments/\(FormBody.encode(request.parameter("env", context)))/flink/compute-pools")
        }
        router.get("environments/:env/flink") { request, context in
            ConsolePages.redirect(to: "/environments/\(FormBody.encode(request.parameter("env", context)))/flink/compute-pools")
        }
    }
}

extension Console {
    /// The environments list with the create form (filled in again, with the problem, when creating failed).
    func environmentsPage(
        _ visit: ConsoleVisit, name: String = "", error: String? = nil, status: Int = 400
    ) async throws(ConsoleError)
        -> Response
    {
        let environments = try await visit.api.list("/org/v2/environments").map { environment -> [String: Any] in
            [
                "id": environment["id"]?.stringValue ?? "",
                "name": environment["display_name"]?.stringValue ?? "",
                "package": environment.value(at: "stream_governance_config", "package")?.stringValue ?? "",
                "created": ConsoleFormat.time(environment.value(at: "metadata", "created_at")),
            ]
        }
        var values: [String: Any] = [
            "environments": environments, "any": !environments.isEmpty, "can_create": visit.policy.isOrganizationAdmin, "new_name": name,
        ]
        if let error { values["flash_error"] = error }
        var response = page(.environments, visit, title: "Environments", values)
        if error != nil { response.status = HTTPResponse.Status(code: status) }
        return response
    }
}

/// Formatting of API values for pages.
enum ConsoleFormat {
    /// An RFC 3339 time as `2026-11-24 01:02:03 UTC`; empty when absent.
    static func time(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue, text.count >= 19 else { return "" }
        let characters = Array(text)
        return String(characters[0..<10]) + " " + String(characters[11..<19]) + " UTC"
    }

    /// A Flink SQL type as written in the schema (`VARCHAR(2147483647) NOT NULL`, `ROW<…>` members by name).
    static func type(_ value: JSONValue?) -> String {
        guard let value, let base = value["type"]?.stringValue else { return "" }
        var text = base
        if let length = value["length"]?.intValue {
            text += "(\(length))"
        } else if let precision = value["precision"]?.intValue {
            text += value["scale"]?.intValue.map { "(\(precision), \($0))" } ?? "(\(precision))"
        }
        if let element = value["element_type"] {
            text = "\(base)<\(type(element))>"
        } else if let key = value["key_type"], let item = value["value_type"] {
            text = "\(base)<\(type(key)), \(type(item))>"
        } else if case .array(let fields)? = value["fields"] {
            text = "\(base)<" + fields.map { "\($0["name"]?.stringValue ?? "") \(type($0["field_type"]))" }.joined(separator: ", ") + ">"
        }
        if value["nullable"]?.boolValue == false { text += " NOT NULL" }
        return text
    }

    /// A JSON value in a table cell.
    static func value(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .bool(let flag)?: return flag ? "true" : "false"
        case .int(let number)?: return String(number)
        case .double(let number)?: return String(number)
        case let other?: return String(decoding: other.serialized(), as: UTF8.self)
        }
    }
}
