// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import Foundation
import Testing

/// Every `floe` CLI command against a real `floe serve`: parsing, the three output formats, and error exits.
@Suite(.serialized)
struct CLIEndToEndTests {
    /// A server, and a CLI logged in to it with the bootstrap administrator key.
    static func loggedIn() async throws -> (ServerProcess, CLI) {
        let server = try await ServerProcess.start()
        let cli = try CLI()
        let login = try await cli.ok("login", "--url", server.baseURL, "--data-dir", server.dataDirectory.path)
        #expect(login.stdout.contains("Logged in to \(server.baseURL)"))
        return (server, cli)
    }

    @Test func loginContextsAndTheirErrors() async throws {
        let server = try await ServerProcess.start()
        defer { server.shutDown() }
        let cli = try CLI()
        try await cli.fails("environment", "list", detail: "You are not logged in")
        try await cli.fails("login", "--url", "not a url", detail: "--url must be an http(s) URL")
        try await cli.fails("login", "--url", server.baseURL, "--api-key", "NOPE", "--api-secret", "wrong", detail: "Error:")
        #expect(!FileManager.default.fileExists(atPath: cli.configFile.path), "a failed login saves nothing")

        let bootstrap = try server.bootstrap()
        try await cli.ok(
            "login", "--url", server.baseURL, "--api-key", bootstrap.credentials.key, "--api-secret", bootstrap.credentials.secret,
            "--context-name", "local")
        let attributes = try FileManager.default.attributesOfItem(atPath: cli.configFile.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let saved = try JSONValue.parse(Array(Data(contentsOf: cli.configFile)))
        #expect(saved["current_context"]?.stringValue == "local")
        #expect(saved["contexts"]?.arrayValue?.first?["environment_id"]?.stringValue == bootstrap.environmentID)
        #expect(saved["contexts"]?.arrayValue?.first?["principal"]?.stringValue == bootstrap.userID)

        // A second context from bootstrap.json; switch between them.
        try await cli.ok("login", "--url", server.baseURL, "--data-dir", server.dataDirectory.path)
        let contexts = try await cli.threeFormats(
            ["context", "list"], keys: ["is_current", "name", "platform", "credential"], titles: ["Current", "Name", "Platform", "Credential"])
        #expect(contexts.arrayValue?.count == 2)
        #expect(contexts.arrayValue?.filter { $0["is_current"]?.boolValue == true }.count == 1)
        try await cli.ok("context", "use", "local")
        let described = try await cli.ok("context", "describe", "-o", "json")
        #expect(try described.json()["name"]?.stringValue == "local")
        #expect(try described.json()["environment"]?.stringValue == bootstrap.environmentID)
        try await cli.fails("context", "use", "nope", detail: "Context \"nope\" does not exist.")
        let other = try #require(contexts.arrayValue?.compactMap { $0["name"]?.stringValue }.first { $0 != "local" })
        try await cli.ok("context", "delete", other, "--force")
        #expect(try await cli.ok("context", "list", "-o", "json").json().arrayValue?.count == 1)

        // Environment variables override the saved key; a wrong secret is refused with the server's 401 detail.
        let wrong = try await cli.run(
            ["environment", "list"], extraEnvironment: ["FLOE_API_KEY": bootstrap.credentials.key, "FLOE_API_SECRET": "wrong"])
        #expect(wrong.status == 1 && wrong.stderr.contains("Error:") && wrong.stderr.contains("floe login"), "\(wrong)")
        // Without any saved context, FLOE_URL/FLOE_API_KEY/FLOE_API_SECRET are enough.
        let bare = try CLI()
        let fromEnvironment = try await bare.run(
            ["environment", "list", "-o", "json"],
            extraEnvironment: [
                "FLOE_URL": server.baseURL, "FLOE_API_KEY": bootstrap.credentials.key, "FLOE_API_SECRET": bootstrap.credentials.secret,
            ])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment)")
        #expect(try fromEnvironment.json().arrayValue?.first?["name"]?.stringValue == "default")

        // Argument errors exit 64 with usage, as argument parsers do.
        let usage = try await cli.run(["environment", "list", "--no-such-flag"])
        #expect(usage.status == 64 && usage.stderr.contains("Unknown option"), "\(usage)")
        try await cli.ok("logout")
        try await cli.fails("environment", "list", detail: "You are not logged in")
    }

    @Test func environmentsUsersServiceAccountsAndRoleBindings() async throws {
        let (server, cli) = try await Self.loggedIn()
        defer { server.shutDown() }
        let bootstrap = try server.bootstrap()

        // Environments.
        let created = try await cli.ok("environment", "create", "staging", "--governance-package", "advanced", "-o", "json").json()
        let environmentID = try #require(created["id"]?.stringValue)
        #expect(created["stream_governance_package"]?.stringValue == "ADVANCED")
        let environments = try await cli.threeFormats(
            ["environment", "list"], keys: ["is_current", "id", "name", "stream_governance_package"],
            titles: ["ID", "Name", "Stream Governance Package"])
        #expect(Set(environments.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == ["default", "staging"])
        try await cli.threeFormats(
            ["environment", "describe", environmentID], keys: ["is_current", "id", "name", "stream_governance_package"], titles: ["Name"])
        let updated = try await cli.ok("environment", "update", environmentID, "--name", "stage")
        #expect(updated.stdout.contains("Updated environment \"\(environmentID)\"") && updated.stdout.contains("stage"))
        try await cli.ok("environment", "use", environmentID)
        #expect(try await cli.ok("environment", "describe", "-o", "json").json()["name"]?.stringValue == "stage")
        #expect(
            try await cli.ok("environment", "list", "-o", "json").json().arrayValue?.first { $0["id"]?.stringValue == environmentID }?["is_current"]
                == true)
        try await cli.fails("environment", "describe", "env-nope00", detail: "Error:")
        try await cli.fails("environment", "update", environmentID, detail: "Give --name or --governance-package", status: 64)
        // An external Schema Registry: srcm/v3 shows its URL (never the secret); an empty URL goes back to the own one.
        let admin = FloeClient(baseURL: server.baseURL, credentials: bootstrap.credentials)
        try await cli.ok(
            "environment", "update", environmentID, "--schema-registry-url", "http://registry.test:8081", "--schema-registry-api-key", "SRKEY",
            "--schema-registry-api-secret", "sr-secret")
        let external = try await admin.send("GET", "/srcm/v3/clusters", query: [("environment", environmentID)])
        #expect(external.json?["data"]?.arrayValue?.first?.value(at: "spec", "http_endpoint")?.stringValue == "http://registry.test:8081")
        #expect(!String(decoding: external.body, as: UTF8.self).contains("sr-secret"))
        try await cli.fails("environment", "update", environmentID, "--schema-registry-url", "https://psrc.example", detail: "https")
        try await cli.fails(
            "environment", "update", environmentID, "--schema-registry-api-key", "K", detail: "need --schema-registry-url", status: 64)
        try await cli.ok("environment", "update", environmentID, "--schema-registry-url", "")
        let own = try await admin.send("GET", "/srcm/v3/clusters", query: [("environment", environmentID)])
        #expect(own.json?["data"]?.arrayValue?.first?.value(at: "spec", "http_endpoint")?.stringValue?.hasPrefix(server.baseURL) == true)
        // Declining the prompt deletes nothing; --force deletes.
        let declined = try await cli.run(["environment", "delete", environmentID], input: "n\n")
        #expect(declined.status == 0 && declined.stderr.contains("Are you sure you want to delete environment"), "\(declined)")
        try await cli.ok("environment", "describe", environmentID)
        let deleted = try await cli.ok("environment", "delete", environmentID, input: "y\n")
        #expect(deleted.stdout.contains("Deleted environment \"\(environmentID)\"."))
        try await cli.fails("environment", "describe", environmentID, detail: "Error:")
        try await cli.ok("environment", "use", bootstrap.environmentID)

        // Users.
        let users = try await cli.threeFormats(
            ["iam", "user", "list"], keys: ["id", "email", "name", "auth_type"], titles: ["ID", "Email", "Authentication Type"])
        #expect(users.arrayValue?.first?["id"]?.stringValue == bootstrap.userID)
        try await cli.threeFormats(["iam", "user", "describe", bootstrap.userID], keys: ["id", "email", "name", "auth_type"], titles: ["Email"])
        try await cli.fails("iam", "user", "describe", "u-nope00", detail: "Error:")

        // Service accounts.
        try await cli.fails("iam", "service-account", "create", "robot", detail: "Missing expected argument '--description", status: 64)
        let account = try await cli.ok("iam", "sa", "create", "robot", "--description", "CI robot", "-o", "json").json()
        let accountID = try #require(account["id"]?.stringValue)
        try await cli.threeFormats(["iam", "service-account", "list"], keys: ["id", "name", "description"], titles: ["ID", "Name", "Description"])
        #expect(try await cli.ok("iam", "sa", "list", "--display-name", "robot", "-o", "json").json().arrayValue?.count == 1)
        #expect(try await cli.ok("iam", "sa", "list", "--display-name", "nobody", "-o", "json").json().arrayValue?.count == 0)
        try await cli.ok("iam", "sa", "update", accountID, "--description", "The CI robot")
        #expect(try await cli.ok("iam", "sa", "describe", accountID, "-o", "json").json()["description"]?.stringValue == "The CI robot")
        try await cli.threeFormats(["iam", "sa", "describe", accountID], keys: ["id", "name", "description"], titles: ["Description"])

        // Role bindings: environment scope, Flink region scope, a compute pool resource.
        let binding = try await cli.ok(
            "iam", "rbac", "role-binding", "create", "--principal", "User:\(accountID)", "--role", "FlinkDeveloper", "--current-environment", "-o",
            "json"
        ).json()
        #expect(binding["environment"]?.stringValue == bootstrap.environmentID && binding["role"]?.stringValue == "FlinkDeveloper")
        let bindingKeys = ["id", "principal", "role", "environment", "flink_region", "resource_type", "name", "pattern_type"]
        let listed = try await cli.threeFormats(
            ["iam", "rbac", "rb", "list", "--principal", "User:\(accountID)"], keys: bindingKeys, titles: ["Principal", "Role", "Environment"])
        #expect(listed.arrayValue?.count == 1)
        try await cli.ok(
            "iam", "rbac", "rb", "create", "--principal", "User:\(accountID)", "--role", "FlinkAdmin", "--environment", bootstrap.environmentID,
            "--flink-region", "aws.us-east-1", "--resource", "ComputePool:lfcp-abc123")
        let scoped = try await cli.ok("iam", "rbac", "rb", "list", "--principal", "User:\(accountID)", "--role", "FlinkAdmin", "-o", "json").json()
        #expect(
            scoped.arrayValue?.first?["resource_type"]?.stringValue == "ComputePool"
                && scoped.arrayValue?.first?["name"]?.stringValue == "lfcp-abc123")
        try await cli.fails(
            "iam", "rbac", "rb", "create", "--principal", "User:\(accountID)", "--role", "FlinkAdmin", "--resource", "ComputePool:lfcp-1",
            detail: "needs --environment")
        try await cli.fails(
            "iam", "rbac", "rb", "create", "--principal", "User:\(accountID)", "--role", "NoSuchRole", "--current-environment", detail: "Error:")
        let removed = try await cli.ok(
            "iam", "rbac", "rb", "delete", "--principal", "User:\(accountID)", "--role", "FlinkDeveloper", "--current-environment", "--force")
        #expect(removed.stdout.contains("Deleted role binding"))
        #expect(
            try await cli.ok("iam", "rbac", "rb", "list", "--principal", "User:\(accountID)", "--role", "FlinkDeveloper", "-o", "json").json()
                .arrayValue?.isEmpty == true)
        try await cli.fails(
            "iam", "rbac", "rb", "delete", "--principal", "User:\(accountID)", "--role", "FlinkDeveloper", "--current-environment", "--force",
            detail: "No role binding")

        try await cli.ok("iam", "sa", "delete", accountID, "--force")
        try await cli.fails("iam", "sa", "describe", accountID, detail: "Error:")
    }

    @Test func apiKeysRegionsComputePoolsAndTheirConfig() async throws {
        let (server, cli) = try await Self.loggedIn()
        defer { server.shutDown() }
        let bootstrap = try server.bootstrap()

        // Regions.
        let regionKeys = ["is_current", "name", "cloud", "region"]
        let regions = try await cli.threeFormats(
            ["flink", "region", "list", "--cloud", "aws"], keys: regionKeys, titles: ["Name", "Cloud", "Region"])
        #expect(regions.arrayValue?.allSatisfy { $0["cloud"]?.stringValue == "AWS" } == true)
        #expect(try await cli.ok("flink", "region", "list", "--cloud", "gcp", "--region", "us-central1", "-o", "json").json().arrayValue?.count == 1)
        try await cli.fails("flink", "region", "use", "--cloud", "aws", "--region", "mars-1", detail: "no Flink region aws.mars-1")
        let used = try await cli.ok("flink", "region", "use", "--cloud", "aws", "--region", "us-east-1")
        #expect(used.stdout.contains("Using Flink region \"N. Virginia (us-east-1)\"."))
        #expect(
            try await cli.ok("flink", "region", "list", "-o", "json").json().arrayValue?.first { $0["is_current"] == true }?["region"]?.stringValue
                == "us-east-1")

        // Compute pools (the region comes from `region use`).
        let poolKeys = ["is_current", "id", "name", "cloud", "environment", "max_cfu", "region", "currrent_cfu", "status", "default_pool"]
        let pool = try await cli.ok("flink", "compute-pool", "create", "etl", "--max-cfu", "10", "--wait", "-o", "json").json()
        let poolID = try #require(pool["id"]?.stringValue)
        #expect(pool["status"]?.stringValue == "PROVISIONED" && pool["max_cfu"]?.intValue == 10 && pool["region"]?.stringValue == "us-east-1")
        try await cli.fails("flink", "compute-pool", "create", "etl", detail: "Error:")
        try await cli.fails("flink", "compute-pool", "create", "odd", "--max-cfu", "7", detail: "Error:")
        try await cli.threeFormats(["flink", "compute-pool", "list"], keys: poolKeys, titles: ["ID", "Max CFU", "Current CFU", "Status"])
        try await cli.threeFormats(["flink", "compute-pool", "describe", poolID], keys: poolKeys, titles: ["Default Pool"])
        let updated = try await cli.ok("flink", "compute-pool", "update", poolID, "--max-cfu", "20", "--name", "etl-2")
        #expect(updated.stdout.contains("Updated Flink compute pool \"\(poolID)\"."))
        try await cli.ok("flink", "compute-pool", "use", poolID)
        let current = try await cli.ok("flink", "compute-pool", "describe", "-o", "json").json()
        #expect(current["name"]?.stringValue == "etl-2" && current["max_cfu"]?.intValue == 20 && current["is_current"] == true)
        try await cli.fails("flink", "compute-pool", "describe", "lfcp-nope00", detail: "Error:")

        // The organization's compute-pool settings.
        let configKeys = ["organization_id", "default_pool_enabled", "default_pool_max_cfu"]
        try await cli.threeFormats(
            ["flink", "compute-pool-config", "describe"], keys: configKeys, titles: ["Organization Id", "Default Pool Enabled"])
        let config = try await cli.ok("flink", "compute-pool-config", "update", "--default-pool", "true", "--max-cfu", "10", "-o", "json").json()
        #expect(config["default_pool_enabled"] == true && config["default_pool_max_cfu"]?.intValue == 10)
        try await cli.fails("flink", "compute-pool-config", "update", "--max-cfu", "3", detail: "Error:")

        // API keys: a Flink key for a new service account, as the seed walks it.
        let account = try await cli.ok("iam", "sa", "create", "flink-app", "--description", "app", "-o", "json").json()
        let accountID = try #require(account["id"]?.stringValue)
        try await cli.ok("iam", "rbac", "rb", "create", "--principal", "User:\(accountID)", "--role", "FlinkDeveloper", "--current-environment")
        let created = try await cli.ok(
            "api-key", "create", "--resource", "flink", "--cloud", "aws", "--region", "us-east-1", "--environment", bootstrap.environmentID,
            "--service-account", accountID, "--description", "app key", "-o", "json")
        #expect(created.stderr.contains("Save the API key and secret. The secret is not retrievable later."))
        let keyDocument = try created.json()
        let key = try #require(keyDocument["api_key"]?.stringValue)
        let secret = try #require(keyDocument["api_secret"]?.stringValue)
        #expect(keyDocument.objectMembers.map(\.0) == ["api_key", "api_secret"] && secret.count == 64)
        let keyKeys = ["is_current", "key", "description", "owner", "owner_email", "resource_type", "resource", "created"]
        let flinkKeys = try await cli.threeFormats(
            ["api-key", "list", "--resource", "flink"], keys: keyKeys, titles: ["Key", "Owner", "Resource Type"])
        #expect(flinkKeys.arrayValue?.map { $0["key"]?.stringValue } == [key])
        #expect(flinkKeys.arrayValue?.first?["resource"]?.stringValue == "aws.us-east-1")
        #expect(try await cli.ok("api-key", "list", "--service-account", accountID, "-o", "json").json().arrayValue?.count == 1)
        let describedKey = try await cli.ok("api-key", "describe", key, "-o", "json").json()
        #expect(describedKey.arrayValue?.count == 1 && describedKey.arrayValue?.first?["description"]?.stringValue == "app key")
        try await cli.ok("api-key", "update", key, "--description", "renamed")
        #expect(try await cli.ok("api-key", "describe", key, "-o", "yaml").stdout.contains("description: renamed"))
        try await cli.fails("api-key", "create", "--resource", "kafka", detail: "--resource must be flink or cloud", status: 64)
        try await cli.fails("api-key", "use", key, detail: "is not stored")
        try await cli.ok("api-key", "store", key, secret)
        try await cli.fails("api-key", "store", key, secret, detail: "already stored")
        let using = try await cli.ok("api-key", "use", key)
        #expect(using.stdout.contains("Using API Key \"\(key)\"."))
        #expect(try await cli.ok("api-key", "list", "-o", "json").json().arrayValue?.first { $0["key"]?.stringValue == key }?["is_current"] == true)
        // The key really works on sql/v1 (the statement commands use it now).
        #expect(try await cli.ok("flink", "statement", "list", "-o", "json").json().arrayValue != nil)
        try await cli.ok("api-key", "delete", key, "--force")
        try await cli.fails("api-key", "describe", key, detail: "Error:")
        // A cloud key for the logged-in user.
        let cloudKey = try await cli.ok("api-key", "create", "--resource", "cloud", "-o", "json").json()
        #expect(cloudKey["api_key"]?.stringValue?.count == 16)
        // A Schema Registry key for the environment's registry (its id from srcm/v3), as `confluent api-key create
        // --resource lsrc-…` makes one; it works on that registry's data plane.
        let admin = FloeClient(baseURL: server.baseURL, credentials: bootstrap.credentials)
        let clusters = try await admin.send("GET", "/srcm/v3/clusters", query: [("environment", bootstrap.environmentID)]).json
        let registry = try #require(clusters?["data"]?.arrayValue?.first?["id"]?.stringValue)
        let registryKey = try await cli.ok("api-key", "create", "--resource", registry, "-o", "json").json()
        let registryCredentials = APICredentials(
            key: try #require(registryKey["api_key"]?.stringValue), secret: try #require(registryKey["api_secret"]?.stringValue))
        let subjects = try await admin.with(credentials: registryCredentials).send("GET", "/schema-registry/\(registry)/subjects")
        #expect(subjects.status == 200 && subjects.json == [])
        let registryKeys = try await cli.ok("api-key", "list", "--resource", registry, "-o", "json").json()
        #expect(registryKeys.arrayValue?.first?["resource_type"]?.stringValue == "schema-registry")
        try await cli.fails("api-key", "create", "--resource", registry, "--use", detail: "cannot run them", status: 64)

        try await cli.ok("flink", "compute-pool", "unset")
        try await cli.ok("flink", "region", "unset")
        let deleted = try await cli.ok("flink", "compute-pool", "delete", poolID, "--force")
        #expect(deleted.stdout.contains("Requested to delete Flink compute pool \"\(poolID)\"."))
    }

    @Test func statementsFromCreateToResults() async throws {
        let (server, cli) = try await Self.loggedIn()
        defer { server.shutDown() }
        let pool = try await cli.ok("flink", "compute-pool", "create", "sql", "--cloud", "aws", "--region", "us-east-1", "--wait", "-o", "json")
            .json()
        let poolID = try #require(pool["id"]?.stringValue)
        try await cli.ok("flink", "compute-pool", "use", poolID)

        let table = try await cli.ok(
            "flink", "statement", "create", "ddl", "--sql", "CREATE TABLE words (word STRING, n INT);", "--wait", "-o", "json"
        ).json()
        // --wait waits while PENDING, as the confluent CLI does, and a bounded statement until it is done.
        #expect(table["status"]?.stringValue == "COMPLETED" && table["compute_pool"]?.stringValue == poolID, "\(table)")
        try await cli.ok("flink", "statement", "create", "fill", "--sql", "INSERT INTO words VALUES ('a', 1), ('b', 2), ('a', 3);", "--wait")
        try await cli.fails(
            "flink", "statement", "create", "ddl", "--sql", "SELECT 1;",
            detail: "failed to create Flink SQL statement \"ddl\" in the environment \"default\"")
        try await cli.fails(
            "flink", "statement", "create", "bad-prop", "--sql", "SELECT 1;", "--property", "novalue", detail: "--property must be key=value")

        let statementKeys = ["creation_date", "name", "statement", "compute_pool", "status", "status_detail"]
        let listed = try await cli.threeFormats(
            ["flink", "statement", "list"], keys: statementKeys, titles: ["Creation Date", "Statement", "Status"])
        let listedNames = Set(listed.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        #expect(listedNames.isSuperset(of: ["ddl", "fill"]))
        #expect(
            try await cli.ok("flink", "statement", "list", "--status", "completed", "--compute-pool", poolID, "-o", "json").json().arrayValue?.count
                == 2)
        #expect(try await cli.ok("flink", "statement", "list", "--status", "running", "-o", "json").json().arrayValue?.count == 0)
        let described = try await cli.threeFormats(
            ["flink", "statement", "describe", "fill"],
            keys: statementKeys + ["latest_offsets", "latest_offsets_timestamp", "properties", "principal"],
            titles: ["Properties", "Principal"])
        #expect(described.value(at: "properties", "sql.current-catalog")?.stringValue == "default")

        // A bounded query: its rows in all three formats; the default name follows the confluent pattern.
        let query = try await cli.ok(
            "flink", "statement", "create", "--sql", "SELECT word, n FROM words WHERE n > 1;", "--property", "sql.snapshot.mode=now", "--wait", "-o",
            "json"
        ).json()
        let queryName = try #require(query["name"]?.stringValue)
        #expect(queryName.hasPrefix("cli-") && queryName.count > 20)
        let rows = try await cli.ok("flink", "statement", "results", queryName)
        #expect(rows.stdout.contains("word") && rows.stdout.contains(" b ") && rows.stdout.contains(" a ") && !rows.stdout.contains("Op"), "\(rows)")
        let jsonRows = try await cli.ok("flink", "statement", "results", queryName, "-o", "json")
        let changes = try jsonRows.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(Set(changes.compactMap { $0.value(at: "row", "word")?.stringValue }) == ["a", "b"] && changes.allSatisfy { $0["op"] == "+I" })
        #expect(try await cli.ok("flink", "statement", "results", queryName, "-o", "yaml").stdout.contains("- op: +I"))

        // A failing statement: --wait exits 1 with the detail; its exceptions.
        try await cli.fails("flink", "statement", "create", "broken", "--sql", "SELECT nope FROM words;", "--wait", detail: "nope")
        let exceptions = try await cli.threeFormats(
            ["flink", "statement", "exception", "list", "broken"], keys: ["timestamp", "name", "message"], titles: ["Timestamp", "Message"])
        #expect(exceptions.arrayValue?.first?["message"]?.stringValue?.contains("nope") == true)

        // An unbounded aggregation, followed by `results` until interrupted; its changes include updates.
        try await cli.ok("flink", "statement", "create", "counts", "--sql", "SELECT word, COUNT(*) AS c FROM words GROUP BY word;", "--wait")
        let follow = try await cli.run(["flink", "statement", "results", "counts"], interruptAfter: .seconds(3))
        #expect(follow.stdout.contains("Op") && follow.stdout.contains("-U") && follow.stdout.contains("+U"), "\(follow)")
        let snapshot = try await cli.ok("flink", "statement", "results", "counts", "--no-follow", "-o", "json")
        #expect(snapshot.stdout.split(separator: "\n").count == 4, "\(snapshot)")

        // A resumable INSERT INTO … SELECT: stop and resume through the GET → PUT loop.
        try await cli.ok("flink", "statement", "create", "words-copy", "--sql", "CREATE TABLE copy (word STRING, n INT);", "--wait")
        try await cli.ok("flink", "statement", "create", "copier", "--sql", "INSERT INTO copy SELECT word, n FROM words;", "--wait")
        let stop = try await cli.ok("flink", "statement", "stop", "copier")
        #expect(stop.stdout.contains("Requested to stop Flink SQL statement \"copier\"."))
        try await eventually { try await cli.ok("flink", "statement", "describe", "copier", "-o", "json").json()["status"]?.stringValue == "STOPPED" }
        let resume = try await cli.ok("flink", "statement", "resume", "copier")
        #expect(resume.stdout.contains("Requested to resume Flink SQL statement \"copier\"."))
        try await eventually { try await cli.ok("flink", "statement", "describe", "copier", "-o", "json").json()["status"]?.stringValue == "RUNNING" }
        try await cli.ok("flink", "statement", "update", "copier", "--stopped", "true")
        try await eventually { try await cli.ok("flink", "statement", "describe", "copier", "-o", "json").json()["status"]?.stringValue == "STOPPED" }
        // Only INSERT INTO, CREATE TABLE AS and statement sets resume, as on Confluent Cloud.
        try await cli.ok("flink", "statement", "stop", "counts")
        try await eventually { try await cli.ok("flink", "statement", "describe", "counts", "-o", "json").json()["status"]?.stringValue == "STOPPED" }
        try await cli.fails("flink", "statement", "resume", "counts", detail: "Error:")
        try await cli.fails("flink", "statement", "stop", "nope", detail: "Error:")

        let deleted = try await cli.ok("flink", "statement", "delete", "broken", "counts", "--force")
        #expect(
            deleted.stdout.contains("Deleted Flink SQL statement \"broken\".") && deleted.stdout.contains("Deleted Flink SQL statement \"counts\"."))
        try await cli.fails("flink", "statement", "describe", "broken", detail: "Error:")
        try await cli.fails("flink", "statement", "delete", "nope", "--force", detail: "Error:")
    }

    @Test func helpShowsTheTreeAndCompletionScriptsAreGenerated() async throws {
        let cli = try CLI()
        let help = try await cli.ok("--help")
        for line in [
            "serve", "login", "environment", "service-account", "role-binding", "api-key", "compute-pool", "statement", "exception", "results",
            "shell", "completion",
        ] {
            #expect(help.stdout.contains(line), "floe --help lacks \(line)")
        }
        #expect(try await cli.ok("completion", "bash").stdout.contains("_floe"))
        #expect(try await cli.ok("completion", "zsh").stdout.contains("#compdef floe"))
        #expect(try await cli.ok("completion", "fish").stdout.contains("complete -c 'floe'"))
        try await cli.fails("completion", "tcsh", detail: "Unknown shell", status: 64)
    }

    @Test func shellReadsStatementsFromAPipe() async throws {
        let (server, cli) = try await Self.loggedIn()
        defer { server.shutDown() }
        let script = """
            CREATE TABLE t (k STRING, v INT);
            INSERT INTO t VALUES ('x', 1), ('y', 2);
            SET 'sql.snapshot.mode' = 'now';
            SET;
            SELECT k, v * 10 AS ten
              FROM t;
            USE CATALOG default;
            RESET 'sql.snapshot.mode';
            SELEC broken;
            """
        let result = try await cli.ok("flink", "shell", input: script)
        #expect(result.stdout.contains("Config \"sql.snapshot.mode\" has been set to \"now\"."), "\(result)")
        #expect(result.stdout.contains("sql.current-catalog") && result.stdout.contains("sql.snapshot.mode"))
        #expect(result.stdout.contains(" x | 10") && result.stdout.contains(" y | 20"), "\(result)")
        #expect(result.stdout.contains("Config \"sql.snapshot.mode\" has been reset."))
        #expect(result.stdout.contains("Error: SQL parse failed"), "\(result)")
        // DDL and a bounded INSERT are waited for: the shell reports how they ended.
        #expect(result.stdout.components(separatedBy: "Statement phase is COMPLETED.").count == 3, "\(result)")
    }
}

/// Retries `condition` for up to 20 s.
func eventually(_ condition: () async throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("condition never became true", sourceLocation: sourceLocation)
}
