// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore
import FloeStore
import Foundation
import Logging
import Synchronization
import Testing

@testable import FloeServer

/// The scheduler applies ``StartOrder``: statements sent back to back to a PROVISIONING pool start in creation order,
/// and what follows a DDL is prepared only after the DDL took effect, however slowly it does.
@Suite struct StartOrderSchedulerTests {
    /// A backend with a catalog of table names, where a CREATE takes effect only when its run ends, a while after it
    /// was prepared (as the engine's DDL does), and an INSERT or SELECT is refused at preparation when its table does
    /// not exist yet. `CREATE t`, `INSERT t`, `SELECT t`.
    final class SlowCatalogBackend: ExecutionBackend {
        let tables = Mutex<Set<String>>([])
        /// The statements' SQL in the order their preparation began.
        let prepared = Mutex<[String]>([])

        func prepare(_ sql: String, in context: ExecutionContext) async throws(ExecutionFailure) -> any PreparedExecution {
            prepared.withLock { $0.append(sql) }
            let words = sql.split(separator: " ").map(String.init)
            guard words.count == 2 else { throw ExecutionFailure("SQL parse failed.") }
            let (verb, table) = (words[0], words[1])
            if verb == "CREATE" { return Run(kind: "CREATE_TABLE", effect: { [self] in self.tables.withLock { _ = $0.insert(table) } }) }
            guard tables.withLock({ $0.contains(table) }) else {
                throw ExecutionFailure("Table (or view) '\(table)' does not exist or you do not have access to it.")
            }
            return Run(kind: verb == "INSERT" ? "INSERT_INTO" : "SELECT", effect: {})
        }

        struct Run: PreparedExecution {
            let kind: String
            let effect: @Sendable () -> Void
            var traits: StatementTraitsRecord {
                StatementTraitsRecord(sqlKind: kind, isBounded: true, isAppendOnly: true, upsertColumns: nil, schemaJSON: nil)
            }

            func run(deliveringTo sink: any ResultSink, skippingFirst: Int, control: RunControl) async throws {
                if kind == "CREATE_TABLE" { try await Task.sleep(for: .milliseconds(150)) }
                effect()
            }
        }

        func dropCatalog(environmentID: String) async throws {}
        func checkpoint(statementID: String) -> CheckpointRecord? { nil }
        func discardState(statementID: String) {}
        func statementIDsWithState() -> Set<String> { [] }
    }

    @Test func ddlAndWhatFollowsItSentToAProvisioningPoolRunInOrder() async throws {
        let fixture = try await RouterFixture.make()
        let store = fixture.store
        let backend = SlowCatalogBackend()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let scheduler = StatementScheduler(store: store, results: store, backend: backend, signals: ResultSignals(), logger: logger)
        let organization = fixture.organizationID
        let environment = fixture.environmentA
        let admin = fixture.principals["admin"]!
        let pool = try await store.mutate { state in
            try state.createComputePool(
                organizationID: organization,
                request: .init(
                    displayName: "fresh", cloud: "AWS", region: "us-east-1", maxCFU: 10, environmentID: environment, enableAI: false,
                    defaultPool: false),
                regions: FlinkRegion.defaults, now: Date())
        }
        #expect(pool.phase == .provisioning)
        let script = [
            ("ddl", "CREATE orders"), ("fill", "INSERT orders"), ("totals", "SELECT orders"), ("ddl-2", "CREATE more"), ("fill-2", "INSERT more"),
        ]
        for (name, sql) in script {
            try await store.mutate { state in
                _ = try state.createStatement(
                    organizationID: organization, environmentID: environment,
                    request: .init(name: name, sql: sql, properties: [:], labels: [:], computePoolID: pool.id, principal: admin), pool: pool,
                    creatorID: admin, credentialReach: .organization, uid: UUID().uuidString, now: Date())
            }
        }
        let task = Task { await scheduler.run() }
        defer { task.cancel() }
        // Nothing starts while the pool provisions.
        try await Task.sleep(for: .milliseconds(300))
        #expect(backend.prepared.withLock { $0 }.isEmpty)
        _ = try await store.mutate { $0.markProvisioned(poolID: pool.id, now: Date()) }
        scheduler.wake()

        let deadline = ContinuousClock.now + .seconds(10)
        func phases() -> [String: StatementPhase] {
            Dictionary(uniqueKeysWithValues: store.snapshot().statements.values.map { ($0.name, $0.phase) })
        }
        while phases().values.contains(where: { !$0.isTerminal }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(phases() == ["ddl": .completed, "fill": .completed, "totals": .completed, "ddl-2": .completed, "fill-2": .completed])
        #expect(backend.prepared.withLock { $0 } == script.map(\.1))
    }
}
