// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Hummingbird

/// The Compute pools tab: list with phase and CFU, create, edit, delete.
extension Console {
    func registerComputePools(on router: RouterGroup<FloeRequestContext>) {
        router.get("environments/:env/flink/compute-pools") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let pools = try await visit.api.list("/fcpm/v2/compute-pools", query: [("environment", environment.id)])
            let canManage = visit.policy.canManageComputePools(in: environment.id)
            let rows = pools.map { pool -> [String: Any] in
                [
                    "id": pool["id"]?.stringValue ?? "",
                    "name": pool.value(at: "spec", "display_name")?.stringValue ?? "",
                    "cloud": pool.value(at: "spec", "cloud")?.stringValue ?? "",
                    "region": pool.value(at: "spec", "region")?.stringValue ?? "",
                    "phase": pool.value(at: "status", "phase")?.stringValue ?? "",
                    "current_cfu": pool.value(at: "status", "current_cfu")?.intValue ?? 0,
                    "max_cfu": pool.value(at: "spec", "max_cfu")?.intValue ?? 0,
                    "created": ConsoleFormat.time(pool.value(at: "metadata", "created_at")),
                    "can_manage": canManage,
                ]
            }
            let provisioning = pools.contains { $0.value(at: "status", "phase")?.stringValue == "PROVISIONING" }
            return page(
                .computePools, visit, title: "Compute pools", environment: environment, tab: "compute_pools",
                ["pools": rows, "any": !rows.isEmpty, "can_manage": canManage, "refresh": provisioning])
        }
        router.get("environments/:env/flink/compute-pools/new") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            guard visit.policy.canManageComputePools(in: environment.id) else {
                throw ConsoleError.forbidden("Creating compute pools needs FlinkAdmin, EnvironmentAdmin or OrganizationAdmin in \(environment.name).")
            }
            return try await newPoolForm(visit, environment)
        }
        router.post("environments/:env/flink/compute-pools") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let name = visit.form["display_name"]
            let region = visit.form["region"] ?? ""
            let parts = region.split(separator: "/", maxSplits: 1).map(String.init)
            guard let name, parts.count == 2 else {
                return try await newPoolForm(
                    visit, environment, name: name, region: region, maxCFU: visit.form["max_cfu"], error: "Give the pool a name and choose a region.")
            }
            guard let maxCFU = visit.form["max_cfu"].flatMap(Int64.init) else {
                return try await newPoolForm(
                    visit, environment, name: name, region: region, maxCFU: visit.form["max_cfu"], error: "The maximum CFU must be a whole number.")
            }
            let reply = try await visit.api.reply(
                .post, "/fcpm/v2/compute-pools",
                json: [
                    "spec": [
                        "display_name": .string(name), "cloud": .string(parts[0].uppercased()), "region": .string(parts[1]),
                        "max_cfu": .int(maxCFU), "environment": ["id": .string(environment.id)],
                    ]
                ])
            guard (200..<300).contains(reply.status), let id = reply.body?["id"]?.stringValue else {
                return try await newPoolForm(
                    visit, environment, name: name, region: region, maxCFU: String(maxCFU),
                    error: "The compute pool was not created: \(reply.errorDetail)",
                    status: reply.status)
            }
            return redirect(
                visit, to: "/environments/\(FormBody.encode(environment.id))/flink/compute-pools", notice: "Created compute pool \(name) (\(id)).")
        }
        router.get("environments/:env/flink/compute-pools/:id/edit") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            return try await editPoolForm(visit, environment, id: request.parameter("id", context))
        }
        router.post("environments/:env/flink/compute-pools/:id") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let id = request.parameter("id", context)
            var spec: [(String, JSONValue)] = [("environment", ["id": .string(environment.id)])]
            if let name = visit.form["display_name"] { spec.append(("display_name", .string(name))) }
            if let text = visit.form["max_cfu"] {
                guard let maxCFU = Int64(text) else {
                    return try await editPoolForm(visit, environment, id: id, entered: visit.form, error: "The maximum CFU must be a whole number.")
                }
                spec.append(("max_cfu", .int(maxCFU)))
            }
            let reply = try await visit.api.reply(.patch, "/fcpm/v2/compute-pools/\(FormBody.encode(id))", json: ["spec": .object(spec)])
            guard (200..<300).contains(reply.status) else {
                return try await editPoolForm(
                    visit, environment, id: id, entered: visit.form, error: "The compute pool was not changed: \(reply.errorDetail)",
                    status: reply.status)
            }
            return redirect(visit, to: "/environments/\(FormBody.encode(environment.id))/flink/compute-pools", notice: "Saved compute pool \(id).")
        }
        router.post("environments/:env/flink/compute-pools/:id/delete") { request, context in
            let visit = try await visit(request, context)
            let environmentID = request.parameter("env", context)
            let id = request.parameter("id", context)
            let list = "/environments/\(FormBody.encode(environmentID))/flink/compute-pools"
            let reply = try await visit.api.reply(.delete, "/fcpm/v2/compute-pools/\(FormBody.encode(id))", query: [("environment", environmentID)])
            guard (200..<300).contains(reply.status) else {
                return redirect(visit, to: list, error: "The compute pool was not deleted: \(reply.errorDetail)")
            }
            return redirect(visit, to: list, notice: "Deleted compute pool \(id).")
        }
    }

    /// The create form, again with what was entered when something was wrong.
    func newPoolForm(
        _ visit: ConsoleVisit, _ environment: ConsoleEnvironment, name: String? = nil, region: String? = nil, maxCFU: String? = nil,
        error: String? = nil,
        status: Int = 400
    ) async throws(ConsoleError) -> Response {
        // The options as the form shows them (the wizard's region list also tells each region's cloud).
        let regions = try await regionOptions(visit, selected: region).map { $0.filter { ["value", "label", "selected"].contains($0.key) } }
        var values: [String: Any] = ["regions": regions, "name": name ?? "", "max_cfu": maxCFU ?? "10"]
        if let error { values["flash_error"] = error }
        var response = page(.computePoolNew, visit, title: "Add compute pool", environment: environment, tab: "compute_pools", values)
        if error != nil { response.status = HTTPResponse.Status(code: status) }
        return response
    }

    /// The edit form: the pool as the API has it, or what was entered when saving failed.
    func editPoolForm(
        _ visit: ConsoleVisit, _ environment: ConsoleEnvironment, id: String, entered: FormBody? = nil, error: String? = nil, status: Int = 400
    ) async throws(ConsoleError) -> Response {
        guard visit.policy.canManageComputePools(in: environment.id) else {
            throw ConsoleError.forbidden("Changing compute pools needs FlinkAdmin, EnvironmentAdmin or OrganizationAdmin in \(environment.name).")
        }
        let pool = try await visit.api.call(.get, "/fcpm/v2/compute-pools/\(FormBody.encode(id))", query: [("environment", environment.id)])
        var values: [String: Any] = [
            "id": id, "name": entered?.raw("display_name") ?? pool.value(at: "spec", "display_name")?.stringValue ?? "",
            "max_cfu": entered?.raw("max_cfu") ?? pool.value(at: "spec", "max_cfu")?.intValue.map(String.init) ?? "",
            "cloud": pool.value(at: "spec", "cloud")?.stringValue ?? "", "region": pool.value(at: "spec", "region")?.stringValue ?? "",
        ]
        if let error { values["flash_error"] = error }
        var response = page(.computePoolEdit, visit, title: "Edit compute pool", environment: environment, tab: "compute_pools", values)
        if error != nil { response.status = HTTPResponse.Status(code: status) }
        return response
    }

    /// A cloud provider as Confluent Cloud names it.
    static func cloudName(_ cloud: String) -> String {
        ["aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"][cloud.lowercased()] ?? cloud.uppercased()
    }

    /// The regions the API offers, as `<select>` options (`aws/us-east-1`), AWS us-east-1 first selected.
    func regionOptions(_ visit: ConsoleVisit, selected: String? = nil) async throws(ConsoleError) -> [[String: Any]] {
        try await visit.api.list("/fcpm/v2/regions").enumerated().map { index, region -> [String: Any] in
            let cloud = (region["cloud"]?.stringValue ?? "").lowercased()
            let name = region["region_name"]?.stringValue ?? ""
            let value = "\(cloud)/\(name)"
            return [
                "value": value, "cloud": cloud, "region": name,
                "label": "\(Self.cloudName(cloud)) · \(region["display_name"]?.stringValue ?? name)",
                "selected": selected.map { $0 == value } ?? (index == 0),
            ]
        }
    }
}
