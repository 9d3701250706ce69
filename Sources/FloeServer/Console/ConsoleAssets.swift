// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import NIOCore

/// The console's static files. They live as what they are under `Console/Assets/` (`console.js`, `console.css`) and
/// SwiftPM compiles them in (`resources: [.embedInCode("Console/Assets")]` generates `PackageResources.<file_name>`),
/// so `floe` stays one self-contained file: no bundle to ship beside it, no build step, no npm.
enum ConsoleAssets {
    /// The console's only script (the Content-Security-Policy allows no inline script): delete confirmations, the
    /// wizard's show/hide and region filter, page refresh while pools provision, and the live results tables.
    static let script = ByteBuffer(bytes: PackageResources.console_js)
    /// The style sheet.
    static let style = ByteBuffer(bytes: PackageResources.console_css)
}

/// The console's Mustache templates (`Console/Assets/templates/<name>.mustache`, compiled in like ``ConsoleAssets``).
///
/// Every page extends `layout` (`{{<layout}}{{$content}}…{{/content}}{{/layout}}`); forms that change anything carry
/// the session's CSRF token as `_csrf`. Each template also declares the names its code puts in the context
/// (``contextNames``): a test checks them against the placeholders of the file both ways, and debug builds check
/// every render against them, so a placeholder renamed on one side only cannot silently render empty.
enum ConsoleTemplate: String, CaseIterable, Sendable {
    case layout, login, error, environments
    case computePools = "compute_pools", computePoolNew = "compute_pool_new", computePoolEdit = "compute_pool_edit"
    case statements, statementDetail = "statement_detail"
    case apiKeys = "api_keys", apiKeyWizard = "api_key_wizard", apiKeyCreated = "api_key_created"
    case workspace
    case kafkaClusters = "kafka_clusters"

    /// The template file's bytes.
    var source: [UInt8] {
        switch self {
        case .layout: PackageResources.layout_mustache
        case .login: PackageResources.login_mustache
        case .error: PackageResources.error_mustache
        case .environments: PackageResources.environments_mustache
        case .computePools: PackageResources.compute_pools_mustache
        case .computePoolNew: PackageResources.compute_pool_new_mustache
        case .computePoolEdit: PackageResources.compute_pool_edit_mustache
        case .statements: PackageResources.statements_mustache
        case .statementDetail: PackageResources.statement_detail_mustache
        case .apiKeys: PackageResources.api_keys_mustache
        case .apiKeyWizard: PackageResources.api_key_wizard_mustache
        case .apiKeyCreated: PackageResources.api_key_created_mustache
        case .workspace: PackageResources.workspace_mustache
        case .kafkaClusters: PackageResources.kafka_clusters_mustache
        }
    }

    /// The template's text, without the newline that ends the file (the pages ended without one before they were
    /// files; Mustache would render it after `</html>`).
    var text: String {
        var text = String(decoding: source, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// The names the code may put in this template's context besides the layout's: top-level keys, and
    /// `list.key` for the keys of the dictionaries in a list (or of a dictionary) that a section iterates.
    var contextNames: Set<String> {
        switch self {
        case .layout:
            // What ``Console/page(_:_:title:environment:tab:_:)`` sets, and what any page may add.
            [
                "title", "signed_in", "csrf", "session_principal", "session_principal_id", "refresh", "environment", "environment.id",
                "environment.name", "tab_compute_pools", "tab_statements", "tab_api_keys", "tab_workspace", "tab_kafka_clusters", "flash_notice",
                "flash_error",
            ]
        case .login: ["next", "key"]
        case .error: ["status", "detail"]
        case .environments:
            [
                "environments", "environments.id", "environments.name", "environments.package", "environments.created", "any", "can_create",
                "new_name",
            ]
        case .computePools:
            [
                "pools", "pools.id", "pools.name", "pools.cloud", "pools.region", "pools.phase", "pools.current_cfu", "pools.max_cfu",
                "pools.created", "pools.can_manage", "any", "can_manage",
            ]
        case .computePoolNew: ["name", "regions", "regions.value", "regions.label", "regions.selected", "max_cfu"]
        case .computePoolEdit: ["id", "name", "max_cfu", "cloud", "region"]
        case .statements:
            [
                "statements", "statements.name", "statements.phase", "statements.sql", "statements.pool", "statements.principal",
                "statements.created", "any", "total", "shown", "q", "phases", "phases.value", "phases.selected", "compute_pool",
            ]
        case .statementDetail:
            [
                "name", "phase", "detail", "has_detail", "sql", "pool", "principal", "created", "properties", "properties.key",
                "properties.value", "any_properties", "traits", "traits.label", "traits.value", "columns", "columns.name", "columns.type",
                "any_columns", "exceptions", "exceptions.name", "exceptions.message", "exceptions.timestamp", "any_exceptions", "can_stop",
                "can_resume", "can_delete",
            ]
        case .apiKeys:
            ["keys", "keys.id", "keys.name", "keys.description", "keys.owner", "keys.scope", "keys.created", "any"]
        case .apiKeyWizard:
            [
                "step_owner", "step_scope", "step_details", "wizard_error", "summary", "summary.label", "summary.value", "carried",
                "carried.name", "carried.value", "owner_me", "owner_sa", "offer_service_accounts", "offer_existing", "offer_new",
                "mode_existing", "mode_new", "service_accounts", "service_accounts.id", "service_accounts.name",
                "service_accounts.selected", "sa_name", "sa_description", "roles", "roles.value", "roles.label", "roles.selected",
                "clouds", "clouds.value", "clouds.label", "clouds.checked", "regions", "regions.region", "regions.cloud",
                "regions.label", "regions.selected", "name", "description",
            ]
        case .apiKeyCreated: ["notes", "key", "secret", "scope", "owner", "file", "filename"]
        case .workspace: ["pools", "pools.id", "pools.label", "any_pools", "catalog", "database"]
        case .kafkaClusters:
            [
                "clusters", "clusters.id", "clusters.name", "clusters.bootstrap", "clusters.phase", "clusters.detail", "clusters.created",
                "clusters.provisioned", "clusters.topics", "clusters.topics.name", "clusters.topics.partitions", "clusters.topics.replication",
                "clusters.topics.internal", "clusters.topics_error", "any", "can_manage",
            ]
        }
    }

    /// The names of `context` (as ``contextNames`` spells them) that neither this template nor the layout declares.
    func undeclaredNames(in context: [String: Any]) -> Set<String> {
        let declared = contextNames.union(Self.layout.contextNames)
        return Self.names(in: context).subtracting(declared)
    }

    /// Every name of a context: its keys, and `key.inner` for the keys of the dictionaries under a key (directly or
    /// in a list).
    static func names(in context: [String: Any], prefix: String = "") -> Set<String> {
        var names = Set<String>()
        for (key, value) in context {
            let name = prefix + key
            names.insert(name)
            let nested: [Any] = (value as? [Any]) ?? [value]
            for case let dictionary as [String: Any] in nested {
                names.formUnion(Self.names(in: dictionary, prefix: name + "."))
            }
        }
        return names
    }
}
