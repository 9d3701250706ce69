// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Hummingbird

/// The API keys tab: the environment's Flink API keys, delete, and the Add API key wizard as Confluent Cloud walks it:
/// owner (My account, or a service account, existing or new) → resource scope (cloud provider and region) → name and
/// description → the key and its secret, shown once, with a "Download API key" file.
///
/// The wizard's steps are forms posted with the CSRF token; each carries the earlier answers as hidden fields and is
/// validated again at the end. Nothing changes until the last step, which creates the service account (when new),
/// grants it the chosen role in this environment, and creates the key, all through the API.
extension Console {
    /// What the wizard has been told so far.
    struct KeyWizard: Sendable {
        static let fields = [
            "owner", "sa_mode", "service_account_id", "sa_name", "sa_description", "sa_role", "cloud", "region", "name", "description",
        ]
        static let roles = ["FlinkDeveloper", "FlinkAdmin", "none"]
        var values: [String: String]

        init(_ form: FormBody) {
            values = [:]
            for field in Self.fields { if let value = form[field] { values[field] = value } }
        }

        subscript(_ name: String) -> String? { values[name] }
        var forServiceAccount: Bool { values["owner"] == "service-account" }
        var newServiceAccount: Bool { forServiceAccount && values["sa_mode"] == "new" }

        /// Hidden inputs for every answer except those the current step asks.
        func carried(except asked: Set<String>) -> [[String: Any]] {
            Self.fields.filter { !asked.contains($0) }.compactMap { name in values[name].map { ["name": name, "value": $0] } }
        }
    }

    func registerAPIKeys(on router: RouterGroup<FloeRequestContext>) {
        router.get("environments/:env/flink/api-keys") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let keys = try await visit.api.list("/iam/v2/api-keys").filter {
                $0.value(at: "spec", "resource", "environment")?.stringValue == environment.id
            }
            let rows = keys.map { key -> [String: Any] in
                [
                    "id": key["id"]?.stringValue ?? "",
                    "name": key.value(at: "spec", "display_name")?.stringValue ?? "",
                    "description": key.value(at: "spec", "description")?.stringValue ?? "",
                    "owner": key.value(at: "spec", "owner", "id")?.stringValue ?? "",
                    "scope": key.value(at: "spec", "resource", "id")?.stringValue ?? "",
                    "created": ConsoleFormat.time(key.value(at: "metadata", "created_at")),
                ]
            }
            return page(
                .apiKeys, visit, title: "API keys", environment: environment, tab: "api_keys", ["keys": rows, "any": !rows.isEmpty])
        }
        router.get("environments/:env/flink/api-keys/new") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            return try await wizardStep("owner", visit, environment, KeyWizard(FormBody()))
        }
        router.post("environments/:env/flink/api-keys/new") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            let wizard = KeyWizard(visit.form)
            let step = visit.form["step"] ?? "owner"
            if visit.form["direction"] == "back" {
                return try await wizardStep(step == "details" ? "scope" : "owner", visit, environment, wizard)
            }
            let order = ["owner", "scope", "details"]
            guard let index = order.firstIndex(of: step) else { throw ConsoleError.badRequest("Unknown wizard step \(step).") }
            // Re-check every answer up to the submitted step; the first problem sends the user back to its step.
            for earlier in order[...index] {
                if let problem = try await wizardProblem(earlier, visit, environment, wizard) {
                    return try await wizardStep(earlier, visit, environment, wizard, error: problem)
                }
            }
            return try await wizardStep(order[min(index + 1, order.count - 1)], visit, environment, wizard)
        }
        router.post("environments/:env/flink/api-keys") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            return try await createKey(visit, environment, KeyWizard(visit.form))
        }
        router.get("environments/:env/flink/api-keys/created") { request, context in
            let visit = try await visit(request, context)
            let environment = try await visit.environment(request.parameter("env", context))
            // Shown once: the secret leaves the session's memory as it is rendered.
            guard let created = sessions.takeCreatedKey(for: visit.session.id, environmentID: environment.id) else {
                return redirect(
                    visit, to: "/environments/\(FormBody.encode(environment.id))/flink/api-keys",
                    notice: "An API key's secret is shown only once, right after the key is created.")
            }
            return createdKeyPage(visit, environment, created)
        }
        router.post("environments/:env/flink/api-keys/:id/delete") { request, context in
            let visit = try await visit(request, context)
            let environmentID = request.parameter("env", context)
            let id = request.parameter("id", context)
            let list = "/environments/\(FormBody.encode(environmentID))/flink/api-keys"
            let reply = try await visit.api.reply(.delete, "/iam/v2/api-keys/\(FormBody.encode(id))")
            guard (200..<300).contains(reply.status) else {
                return redirect(visit, to: list, error: "The API key was not deleted: \(reply.errorDetail)")
            }
            return redirect(visit, to: list, notice: "Deleted API key \(id).")
        }
    }

    /// The service accounts the principal may create Flink keys for (it may act as them; the API also refuses an
    /// account that holds roles the principal does not).
    func assignableServiceAccounts(_ visit: ConsoleVisit, _ environmentID: String) async throws(ConsoleError) -> [JSONValue] {
        guard visit.policy.isMember else { return [] }
        return try await visit.api.list("/iam/v2/service-accounts").filter { account in
            // The principal's own account is "My account", not a service account to choose.
            guard let id = account["id"]?.stringValue, id != visit.session.principalID else { return false }
            return visit.policy.canAssign(serviceAccount: id)
        }
    }

    /// What is wrong with the answers of `step`, if anything.
    func wizardProblem(
        _ step: String, _ visit: ConsoleVisit, _ environment: ConsoleEnvironment, _ wizard: KeyWizard
    ) async throws(ConsoleError)
        -> String?
    {
        switch step {
        case "owner":
            guard wizard["owner"] == "me" || wizard.forServiceAccount else { return "Choose My account or Service account." }
            guard wizard.forServiceAccount else { return nil }
            if wizard.newServiceAccount {
                guard visit.policy.isOrganizationAdmin else { return "Only an OrganizationAdmin may create service accounts." }
                guard wizard["sa_name"] != nil else { return "Give the new service account a name." }
                // An OrganizationAdmin may grant every role offered here, so the role needs no further check.
                guard KeyWizard.roles.contains(wizard["sa_role"] ?? "none") else { return "Choose a role for the new service account." }
                return nil
            }
            guard wizard["sa_mode"] == "existing" else { return "Choose an existing service account or create a new one." }
            guard let id = wizard["service_account_id"] else { return "Choose a service account." }
            let accounts = try await assignableServiceAccounts(visit, environment.id)
            guard accounts.contains(where: { $0["id"]?.stringValue == id }) else { return "You may not create API keys for \(id)." }
            return nil
        case "scope":
            guard let cloud = wizard["cloud"], let region = wizard["region"] else { return "Choose a cloud provider and a region." }
            let regions = try await regionOptions(visit)
            guard regions.contains(where: { $0["value"] as? String == "\(cloud)/\(region)" }) else {
                return "\(Self.cloudName(cloud)) has no Flink region \(region)."
            }
            return nil
        default:
            return nil
        }
    }

    /// Renders one step of the wizard with the answers so far.
    func wizardStep(
        _ step: String, _ visit: ConsoleVisit, _ environment: ConsoleEnvironment, _ wizard: KeyWizard, error: String? = nil
    )
        async throws(ConsoleError) -> Response
    {
        var values: [String: Any] = ["step_" + step: true]
        if let error { values["wizard_error"] = error }
        switch step {
        case "owner":
            let accounts = try await assignableServiceAccounts(visit, environment.id)
            let canCreate = visit.policy.isOrganizationAdmin
            values["owner_me"] = !wizard.forServiceAccount
            values["owner_sa"] = wizard.forServiceAccount
            values["offer_service_accounts"] = !accounts.isEmpty || canCreate
            values["offer_existing"] = !accounts.isEmpty
            values["offer_new"] = canCreate
            values["mode_new"] = wizard.newServiceAccount || accounts.isEmpty
            values["mode_existing"] = !(wizard.newServiceAccount || accounts.isEmpty)
            values["service_accounts"] = accounts.map { account -> [String: Any] in
                let id = account["id"]?.stringValue ?? ""
                return ["id": id, "name": account["display_name"]?.stringValue ?? id, "selected": wizard["service_account_id"] == id]
            }
            values["sa_name"] = wizard["sa_name"] ?? ""
            values["sa_description"] = wizard["sa_description"] ?? ""
            values["roles"] = KeyWizard.roles.map { role -> [String: Any] in
                ["value": role, "label": role == "none" ? "No role" : role, "selected": (wizard["sa_role"] ?? "FlinkDeveloper") == role]
            }
            values["carried"] = wizard.carried(except: ["owner", "sa_mode", "service_account_id", "sa_name", "sa_description", "sa_role"])
        case "scope":
            let regions = try await regionOptions(visit)
            let chosenCloud = wizard["cloud"] ?? "aws"
            var clouds: [String] = []
            for region in regions { if let cloud = region["cloud"] as? String, !clouds.contains(cloud) { clouds.append(cloud) } }
            values["clouds"] = clouds.map { ["value": $0, "label": Self.cloudName($0), "checked": $0 == chosenCloud] as [String: Any] }
            values["regions"] = regions.map { region -> [String: Any] in
                var option = region.filter { ["cloud", "region", "label"].contains($0.key) }
                option["selected"] = (region["cloud"] as? String) == chosenCloud && (region["region"] as? String) == (wizard["region"] ?? "")
                return option
            }
            values["carried"] = wizard.carried(except: ["cloud", "region"])
        default:
            values["name"] = wizard["name"] ?? ""
            values["description"] = wizard["description"] ?? ""
            values["carried"] = wizard.carried(except: ["name", "description"])
        }
        values["summary"] = wizardSummary(wizard)
        return page(.apiKeyWizard, visit, title: "Add API key", environment: environment, tab: "api_keys", values)
    }

    func wizardSummary(_ wizard: KeyWizard) -> [[String: Any]] {
        var rows: [[String: Any]] = []
        if wizard["owner"] == "me" { rows.append(["label": "Owner", "value": "My account"]) }
        if wizard.newServiceAccount {
            rows.append(["label": "Owner", "value": "New service account \(wizard["sa_name"] ?? "")"])
            rows.append(["label": "Role in this environment", "value": wizard["sa_role"] == "none" ? "none" : wizard["sa_role"] ?? ""])
        } else if wizard.forServiceAccount {
            rows.append(["label": "Owner", "value": "Service account \(wizard["service_account_id"] ?? "")"])
        }
        if let cloud = wizard["cloud"], let region = wizard["region"] {
            rows.append(["label": "Resource scope", "value": "Flink · \(Self.cloudName(cloud)) \(region)"])
        }
        return rows
    }

    /// The wizard's last step: the service account (when new) and its role, then the key.
    func createKey(_ visit: ConsoleVisit, _ environment: ConsoleEnvironment, _ wizard: KeyWizard) async throws(ConsoleError) -> Response {
        for step in ["owner", "scope"] {
            if let problem = try await wizardProblem(step, visit, environment, wizard) {
                return try await wizardStep(step, visit, environment, wizard, error: problem)
            }
        }
        guard let cloud = wizard["cloud"], let region = wizard["region"] else { throw ConsoleError.badRequest("The resource scope is missing.") }
        var ownerID = visit.session.principalID
        var ownerLabel = "My account (\(visit.session.principalName))"
        var notes: [String] = []
        if wizard.newServiceAccount, let name = wizard["sa_name"] {
            let reply = try await visit.api.reply(
                .post, "/iam/v2/service-accounts", json: ["display_name": .string(name), "description": .string(wizard["sa_description"] ?? "")])
            guard (200..<300).contains(reply.status), let id = reply.body?["id"]?.stringValue else {
                return try await wizardStep("owner", visit, environment, wizard, error: "The service account was not created: \(reply.errorDetail)")
            }
            ownerID = id
            ownerLabel = "Service account \(name) (\(id))"
            notes.append("Created service account \(name) (\(id)).")
            if let role = wizard["sa_role"], role != "none" {
                let binding = try await visit.api.reply(
                    .post, "/iam/v2/role-bindings",
                    json: [
                        "principal": .string("User:\(id)"), "role_name": .string(role),
                        "crn_pattern": .string(CRN.environment(visit.organizationID, environment.id).description),
                    ])
                if (200..<300).contains(binding.status) {
                    notes.append("Granted \(role) in \(environment.name).")
                } else {
                    notes.append("The role \(role) was not granted: \(binding.errorDetail)")
                }
            }
        } else if wizard.forServiceAccount, let id = wizard["service_account_id"] {
            ownerID = id
            ownerLabel = "Service account \(id)"
        }
        let resourceID = "\(cloud).\(region)"
        let reply = try await visit.api.reply(
            .post, "/iam/v2/api-keys",
            json: [
                "spec": [
                    "display_name": .string(wizard["name"] ?? ""), "description": .string(wizard["description"] ?? ""),
                    "owner": ["id": .string(ownerID)], "resource": ["id": .string(resourceID), "environment": .string(environment.id)],
                ]
            ])
        guard (200..<300).contains(reply.status), let key = reply.body?["id"]?.stringValue,
            let secret = reply.body?.value(at: "spec", "secret")?.stringValue
        else {
            let problem = (notes + ["The API key was not created: \(reply.errorDetail)"]).joined(separator: " ")
            var retry = wizard
            if wizard.newServiceAccount {
                // The account exists now: trying again must not create a second one.
                retry.values["sa_mode"] = "existing"
                retry.values["service_account_id"] = ownerID
            }
            return try await wizardStep("details", visit, environment, retry, error: problem)
        }
        let created = CreatedAPIKey(
            environmentID: environment.id, key: key, secret: secret,
            scope: "Flink region \(resourceID) in environment \(environment.name) (\(environment.id))", owner: ownerLabel, notes: notes)
        // Post → redirect → get: reloading the page that shows the secret must not create another key.
        sessions.setCreatedKey(created, for: visit.session.id)
        return ConsolePages.redirect(to: "/environments/\(FormBody.encode(environment.id))/flink/api-keys/created")
    }

    /// The wizard's last page: the key and its secret, and the "Download API key" file (built by the script from the
    /// page, as a `blob:` URL, so the secret is not kept in a URL in the browser's download history).
    func createdKeyPage(_ visit: ConsoleVisit, _ environment: ConsoleEnvironment, _ created: CreatedAPIKey) -> Response {
        let file = """
            === Confluent Cloud API key: \(created.scope) ===

            API key:
            \(created.key)

            API secret:
            \(created.secret)

            Resource scope:
            \(created.scope)

            Owner:
            \(created.owner)

            """
        return page(
            .apiKeyCreated, visit, title: "API key created", environment: environment, tab: "api_keys",
            [
                "key": created.key, "secret": created.secret, "scope": created.scope, "owner": created.owner, "notes": created.notes,
                "file": file, "filename": "api-key-\(created.key).txt",
            ])
    }
}
