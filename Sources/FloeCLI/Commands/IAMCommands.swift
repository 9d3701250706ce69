// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore

/// `floe iam`: users, service accounts and role bindings.
struct IAMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iam", abstract: "Manage users, service accounts and role bindings.",
        subcommands: [ServiceAccountCommand.self, RBACCommand.self, UserCommand.self])
}

/// `floe iam user`.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "List and describe users.", subcommands: [List.self, Describe.self])

    static func record(_ user: JSONValue) -> OutputRecord {
        [
            OutputField("id", "ID", user["id"]?.stringValue),
            OutputField("email", "Email", user["email"]?.stringValue),
            OutputField("name", "Name", user["full_name"]?.stringValue),
            OutputField("auth_type", "Authentication Type", user["auth_type"]?.stringValue),
        ]
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            OutputPrinter(format: output.output).list(
                try await session.listAll("/iam/v2/users").map(UserCommand.record),
                columns: [("id", "ID"), ("email", "Email"), ("name", "Name"), ("auth_type", "Authentication Type")])
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a user.")
        @Argument(help: "User id (u-…).") var id: String
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            OutputPrinter(format: output.output).describe(UserCommand.record(try await session.call("GET", "/iam/v2/users/\(id.pathEncoded)")))
        }
    }
}

/// `floe iam service-account` (alias `sa`).
struct ServiceAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service-account", abstract: "Manage service accounts.",
        subcommands: [Create.self, List.self, Describe.self, Update.self, Delete.self],
        aliases: ["sa"])

    static func record(_ account: JSONValue) -> OutputRecord {
        [
            OutputField("id", "ID", account["id"]?.stringValue),
            OutputField("name", "Name", account["display_name"]?.stringValue),
            OutputField("description", "Description", account["description"]?.stringValue),
        ]
    }

    static let columns = [("id", "ID"), ("name", "Name"), ("description", "Description")]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a service account.")
        @Argument(help: "Name of the service account.") var name: String
        @Option(help: "Description (required).") var description: String
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let created = try await session.call(
                "POST", "/iam/v2/service-accounts", json: ["display_name": .string(name), "description": .string(description)])
            OutputPrinter(format: output.output).describe(ServiceAccountCommand.record(created))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List service accounts.")
        @Option(name: .customLong("display-name"), help: "Only service accounts with this name (repeatable).") var displayNames: [String] = []
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let accounts = try await session.listAll("/iam/v2/service-accounts", query: displayNames.map { ("display_name", $0) })
            OutputPrinter(format: output.output).list(accounts.map(ServiceAccountCommand.record), columns: ServiceAccountCommand.columns)
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a service account.")
        @Argument(help: "Service account id (sa-…).") var id: String
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let account = try await session.call("GET", "/iam/v2/service-accounts/\(id.pathEncoded)")
            OutputPrinter(format: output.output).describe(ServiceAccountCommand.record(account))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update a service account's description.")
        @Argument(help: "Service account id (sa-…).") var id: String
        @Option(help: "New description (required).") var description: String
        @OptionGroup var connection: ContextOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            try await session.call("PATCH", "/iam/v2/service-accounts/\(id.pathEncoded)", json: ["description": .string(description)])
            write("Updated the description of service account \"\(id)\" to \"\(description)\".\n")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete service accounts (and their API keys).")
        @Argument(help: "Service account ids.") var ids: [String]
        @Flag(help: "Skip the confirmation prompt.") var force = false
        @OptionGroup var connection: ContextOptions

        func validate() throws { if ids.isEmpty { throw ValidationError("Give at least one service account id.") } }

        func run() async throws {
            let session = try CLISession.open(connection)
            for id in ids { try await session.call("GET", "/iam/v2/service-accounts/\(id.pathEncoded)") }
            guard try confirmDeletion(of: "service account", ids: ids, force: force) else { return }
            for id in ids {
                try await session.call("DELETE", "/iam/v2/service-accounts/\(id.pathEncoded)")
                write("Deleted service account \"\(id)\".\n")
            }
        }
    }
}

/// `floe iam rbac`.
struct RBACCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbac", abstract: "Manage role-based access control.", subcommands: [RoleBindingCommand.self])
}

/// The scope flags shared by role-binding commands; they build the binding's `crn_pattern`.
struct RoleBindingScope: ParsableArguments {
    @Option(help: "Environment id of the scope.") var environment: String?
    @Flag(name: .customLong("current-environment"), help: "Use the current environment as the scope.") var currentEnvironment = false
    @Option(name: .customLong("flink-region"), help: "Flink region of the scope, e.g. aws.us-east-1.") var flinkRegion: String?
    @Option(help: "Resource of the scope as Prefix:ID, e.g. ComputePool:lfcp-123456, ServiceAccount:sa-123456 or Statement:name.")
    var resource: String?

    /// The CRN pattern for these flags inside `organization`.
    func crnPattern(organization: String, session: CLISession) throws -> String {
        var crn = CRN.organization(organization)
        let environmentID = currentEnvironment ? try session.environmentID(nil) : environment
        if let environmentID { crn = crn.appending("environment", environmentID) }
        if let flinkRegion {
            guard environmentID != nil else { throw CLIError.usage("--flink-region needs --environment or --current-environment.") }
            crn = crn.appending("flink-region", flinkRegion)
        }
        if let resource {
            let parts = resource.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else { throw CLIError.usage("--resource must be Prefix:ID, such as ComputePool:lfcp-123456.") }
            switch parts[0].lowercased() {
            case "computepool":
                guard environmentID != nil, flinkRegion != nil else {
                    throw CLIError.usage("A ComputePool resource needs --environment (or --current-environment) and --flink-region.")
                }
                crn = crn.appending("compute-pool", parts[1])
            case "statement":
                guard environmentID != nil, flinkRegion != nil else {
                    throw CLIError.usage("A Statement resource needs --environment (or --current-environment) and --flink-region.")
                }
                crn = crn.appending("statement", parts[1])
            case "serviceaccount":
                guard environmentID == nil else { throw CLIError.usage("A ServiceAccount resource is organization-wide; drop --environment.") }
                crn = crn.appending("service-account", parts[1])
            default:
                throw CLIError.usage("Unknown resource type \"\(parts[0])\" (use ComputePool, Statement or ServiceAccount).")
            }
        }
        return crn.description
    }
}

/// `floe iam rbac role-binding` (alias `rb`).
struct RoleBindingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role-binding", abstract: "Manage role bindings.", subcommands: [Create.self, List.self, Delete.self], aliases: ["rb"])

    static func record(_ binding: JSONValue) -> OutputRecord {
        let pattern = binding["crn_pattern"]?.stringValue ?? ""
        let elements = CRN(parsing: pattern)?.elements ?? []
        func element(_ type: String) -> String? { elements.last { $0.type == type }?.value }
        let last = elements.last
        let resourceTypes = [
            "compute-pool": "ComputePool", "statement": "Statement", "service-account": "ServiceAccount", "flink-region": "FlinkRegion",
        ]
        let resourceType = last.flatMap { resourceTypes[$0.type] }
        return [
            OutputField("id", "ID", binding["id"]?.stringValue),
            OutputField("principal", "Principal", binding["principal"]?.stringValue),
            OutputField("role", "Role", binding["role_name"]?.stringValue),
            OutputField("environment", "Environment", element("environment")),
            OutputField("flink_region", "Flink Region", element("flink-region")),
            OutputField("resource_type", "Resource Type", resourceType),
            OutputField("name", "Name", resourceType == nil ? nil : last?.value),
            OutputField("pattern_type", "Pattern Type", resourceType == nil ? nil : "LITERAL"),
        ]
    }

    static let columns = [
        ("id", "ID"), ("principal", "Principal"), ("role", "Role"), ("environment", "Environment"), ("flink_region", "Flink Region"),
        ("resource_type", "Resource Type"), ("name", "Name"), ("pattern_type", "Pattern Type"),
    ]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a role binding.",
            discussion: "Example: floe iam rbac role-binding create --principal User:sa-123456 --role FlinkDeveloper --environment env-123456")
        @Option(help: "Role name: OrganizationAdmin, EnvironmentAdmin, FlinkAdmin, FlinkDeveloper or Assigner.") var role: String
        @Option(help: "Principal, e.g. User:u-123456 or User:sa-123456.") var principal: String
        @OptionGroup var scope: RoleBindingScope
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let pattern = try scope.crnPattern(organization: try await session.organizationID(), session: session)
            let created = try await session.call(
                "POST", "/iam/v2/role-bindings",
                json: ["principal": .string(principal), "role_name": .string(role), "crn_pattern": .string(pattern)])
            OutputPrinter(format: output.output).describe(RoleBindingCommand.record(created))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List role bindings within a scope (default: the organization).")
        @Option(help: "Only bindings of this principal.") var principal: String?
        @Flag(name: .customLong("current-user"), help: "Only bindings of the logged-in principal.") var currentUser = false
        @Option(help: "Only bindings of this role.") var role: String?
        @OptionGroup var scope: RoleBindingScope
        @OptionGroup var connection: ContextOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try CLISession.open(connection)
            let pattern = try scope.crnPattern(organization: try await session.organizationID(), session: session)
            var query = [("crn_pattern", pattern)]
            if currentUser {
                guard let principal = session.context.principal else { throw CLIError.usage("The logged-in principal is unknown; pass --principal.") }
                query.append(("principal", "User:\(principal)"))
            } else if let principal {
                query.append(("principal", principal))
            }
            if let role { query.append(("role_name", role)) }
            let bindings = try await session.listAll("/iam/v2/role-bindings", query: query)
            OutputPrinter(format: output.output).list(bindings.map(RoleBindingCommand.record), columns: RoleBindingCommand.columns)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete the role binding with this role, principal and scope (or by --id).")
        @Option(help: "Role binding id (rb-…), instead of role, principal and scope.") var id: String?
        @Option(help: "Role name.") var role: String?
        @Option(help: "Principal, e.g. User:sa-123456.") var principal: String?
        @OptionGroup var scope: RoleBindingScope
        @Flag(help: "Skip the confirmation prompt.") var force = false
        @OptionGroup var connection: ContextOptions

        func validate() throws {
            if id == nil && (role == nil || principal == nil) {
                throw ValidationError("Give --role and --principal (with the scope flags), or --id.")
            }
        }

        func run() async throws {
            let session = try CLISession.open(connection)
            let bindingID: String
            if let id {
                try await session.call("GET", "/iam/v2/role-bindings/\(id.pathEncoded)")
                bindingID = id
            } else if let role, let principal {
                let pattern = try scope.crnPattern(organization: try await session.organizationID(), session: session)
                let candidates = try await session.listAll(
                    "/iam/v2/role-bindings", query: [("crn_pattern", pattern), ("principal", principal), ("role_name", role)])
                guard let match = candidates.first(where: { $0["crn_pattern"]?.stringValue == pattern })?["id"]?.stringValue else {
                    throw CLIError.usage("No role binding of \(role) for \(principal) on \(pattern).")
                }
                bindingID = match
            } else {
                return
            }
            guard try confirmDeletion(of: "role binding", ids: [bindingID], force: force) else { return }
            try await session.call("DELETE", "/iam/v2/role-bindings/\(bindingID.pathEncoded)")
            write("Deleted role binding \"\(bindingID)\".\n")
        }
    }
}
