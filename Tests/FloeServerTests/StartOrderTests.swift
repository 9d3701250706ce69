// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@testable import FloeServer

/// The rule that decides which waiting statements start: creation order per pool, DDL ending before what follows it.
@Suite struct StartOrderTests {
    static let epoch = Date(timeIntervalSince1970: 1_700_000_000)

    static func pool(_ id: String = "lfcp-1", phase: ComputePoolPhase = .provisioned, maxCFU: Int = 10) -> ComputePool {
        ComputePool(
            id: id, organizationID: "org", environmentID: "env-1", displayName: id, cloud: .aws, region: "us-east-1", maxCFU: maxCFU,
            enableAI: false, defaultPool: false, phase: phase, currentCFU: 0, sequence: 1, createdAt: epoch, updatedAt: epoch)
    }

    /// A statement named `name`, created `sequence`-th, in `phase`; `kind` is the SQL kind its preparation found.
    static func statement(
        _ name: String, _ sequence: Int64, pool: String = "lfcp-1", phase: StatementPhase = .pending, kind: String? = nil, stopped: Bool = false
    ) -> Statement {
        var statement = Statement(
            name: name, organizationID: "org", environmentID: "env-1", uid: "uid-\(name)", sequence: sequence, createdAt: epoch, labels: [:],
            sql: "-- \(name)", properties: [:], computePoolID: pool, regionID: "aws.us-east-1", principal: "u-1", creatorID: "u-1")
        statement.phase = phase
        statement.stopped = stopped
        statement.traits = kind.map { StatementTraitsRecord(sqlKind: $0, isBounded: true, isAppendOnly: true, upsertColumns: nil, schemaJSON: nil) }
        return statement
    }

    static func verdicts(_ statements: [Statement], pools: [ComputePool] = [pool()]) -> [String: StartOrder.Verdict] {
        let order = StartOrder(statements: statements, pools: Dictionary(uniqueKeysWithValues: pools.map { ($0.id, $0) }))
        return Dictionary(uniqueKeysWithValues: order.queue.map { ($0.statement.name, $0.verdict) })
    }

    static func id(_ name: String) -> String { Statement.id(environmentID: "env-1", name: name) }

    @Test func statementsWaitingForAProvisioningPoolStartOneByOneInCreationOrder() {
        // The curl tour: DDL, INSERT and a query sent back to back while the new pool is PROVISIONING.
        let sent = [Self.statement("ddl", 1), Self.statement("fill", 2), Self.statement("totals", 3)]
        #expect(
            Self.verdicts(sent, pools: [Self.pool(phase: .provisioning)]) == [
                "ddl": .poolProvisioning, "fill": .poolProvisioning, "totals": .poolProvisioning,
            ])
        // Provisioned: only the first starts; the others wait behind it, not behind each other.
        #expect(Self.verdicts(sent) == ["ddl": .start, "fill": .waiting(for: Self.id("ddl")), "totals": .waiting(for: Self.id("ddl"))])
        // The DDL runs: everything after it waits until it ends.
        var ddl = Self.statement("ddl", 1, phase: .running, kind: "CREATE_TABLE")
        #expect(Self.verdicts([ddl] + sent.dropFirst()) == ["fill": .waiting(for: Self.id("ddl")), "totals": .waiting(for: Self.id("ddl"))])
        // It completed: the INSERT starts, the query waits for the INSERT to start…
        ddl.phase = .completed
        #expect(Self.verdicts([ddl] + sent.dropFirst()) == ["fill": .start, "totals": .waiting(for: Self.id("fill"))])
        // …but not for it to end: an INSERT runs beside what follows it.
        let fill = Self.statement("fill", 2, phase: .running, kind: "INSERT_INTO")
        #expect(Self.verdicts([ddl, fill, sent[2]]) == ["totals": .start])
    }

    @Test func creationOrderDecidesNotNames() {
        let order = StartOrder(
            statements: [Self.statement("a-late", 9), Self.statement("z-early", 4), Self.statement("m-middle", 7)],
            pools: ["lfcp-1": Self.pool()])
        #expect(order.queue.map(\.statement.name) == ["z-early", "m-middle", "a-late"])
        #expect(order.startable.map(\.name) == ["z-early"])
        #expect(order.verdict(on: Self.id("a-late")) == .waiting(for: Self.id("z-early")))
        #expect(order.verdict(on: Self.id("nowhere")) == nil)
    }

    @Test func aDDLThatEndedHoldsNothingBackHoweverItEnded() {
        for ending in [StatementPhase.completed, .failed, .stopped] {
            let statements = [Self.statement("ddl", 1, phase: ending, kind: "CREATE_TABLE"), Self.statement("fill", 2)]
            #expect(Self.verdicts(statements) == ["fill": .start], "after a \(ending) DDL")
        }
        // A DDL being stopped has not ended yet.
        let stopping = [Self.statement("ddl", 1, phase: .stopping, kind: "DROP_TABLE", stopped: true), Self.statement("fill", 2)]
        #expect(Self.verdicts(stopping) == ["fill": .waiting(for: Self.id("ddl"))])
    }

    @Test func aPendingStatementBeingStoppedIsNotWaitingAndHoldsNothingBack() {
        let statements = [Self.statement("cancelled", 1, stopped: true), Self.statement("next", 2)]
        #expect(Self.verdicts(statements) == ["next": .start])
    }

    @Test func runningStatementsThatAreNotDDLHoldNothingBack() {
        for kind in ["SELECT", "INSERT_INTO", "EXECUTE_STATEMENT_SET", "CREATE_TABLE_AS", "SHOW_TABLES", "EXPLAIN"] {
            let statements = [Self.statement("earlier", 1, phase: .running, kind: kind), Self.statement("later", 2)]
            #expect(Self.verdicts(statements) == ["later": .start], "behind a running \(kind)")
        }
    }

    @Test func catalogChangesAreTheKindsThatHoldBack() {
        for kind in [
            "CREATE_TABLE", "CREATE_VIEW", "CREATE_DATABASE", "DROP_TABLE", "DROP_VIEW", "DROP_DATABASE", "ALTER_TABLE", "USE", "USE_CATALOG",
        ] {
            #expect(StartOrder.holdsBackLaterStatements(sqlKind: kind), "\(kind)")
        }
        for kind in ["CREATE_TABLE_AS", "INSERT_INTO", "EXECUTE_STATEMENT_SET", "SELECT", "SHOW_TABLES", "SHOW_CREATE_TABLE", "DESCRIBE", "EXPLAIN"] {
            #expect(!StartOrder.holdsBackLaterStatements(sqlKind: kind), "\(kind)")
        }
    }

    @Test func poolsQueueApart() {
        let statements = [
            Self.statement("ddl-1", 1, pool: "lfcp-1", phase: .running, kind: "CREATE_TABLE"),
            Self.statement("fill-1", 2, pool: "lfcp-1"),
            Self.statement("fill-2", 3, pool: "lfcp-2"),
            Self.statement("query-2", 4, pool: "lfcp-2"),
        ]
        #expect(
            Self.verdicts(statements, pools: [Self.pool("lfcp-1"), Self.pool("lfcp-2")])
                == ["fill-1": .waiting(for: Self.id("ddl-1")), "fill-2": .start, "query-2": .waiting(for: Self.id("fill-2"))])
    }

    @Test func aFullPoolMarksEveryWaitingStatementExhausted() {
        let running = Self.statement("running", 1, phase: .running, kind: "INSERT_INTO")
        let waiting = [Self.statement("first", 2), Self.statement("second", 3)]
        #expect(
            Self.verdicts([running] + waiting, pools: [Self.pool(maxCFU: 1)]) == [
                "first": .poolExhausted(maxCFU: 1), "second": .poolExhausted(maxCFU: 1),
            ])
        // One CFU free: the first takes it, and the second is exhausted, not merely behind.
        #expect(Self.verdicts([running] + waiting, pools: [Self.pool(maxCFU: 2)]) == ["first": .start, "second": .poolExhausted(maxCFU: 2)])
        #expect(Self.verdicts([running] + waiting, pools: [Self.pool(maxCFU: 3)]) == ["first": .start, "second": .waiting(for: Self.id("first"))])
        // A statement being stopped still holds its CFU.
        let stopping = Self.statement("stopping", 1, phase: .stopping, kind: "SELECT", stopped: true)
        #expect(Self.verdicts([stopping, waiting[0]], pools: [Self.pool(maxCFU: 1)]) == ["first": .poolExhausted(maxCFU: 1)])
    }

    @Test func statementsOfAMissingPoolAreToldSo() {
        let statements = [Self.statement("orphan", 1, pool: "lfcp-gone"), Self.statement("orphan-2", 2, pool: "lfcp-gone")]
        #expect(Self.verdicts(statements) == ["orphan": .poolMissing, "orphan-2": .poolMissing])
    }

    /// What a restart finds: a DDL that was RUNNING resumes, and what was PENDING starts after it in creation order.
    @Test func storedStateAloneDecidesSoARestartKeepsTheOrder() {
        let stored = [
            Self.statement("old-query", 1, phase: .running, kind: "SELECT"),
            Self.statement("ddl", 2, phase: .running, kind: "CREATE_TABLE"),
            Self.statement("fill", 3),
            Self.statement("done", 4, phase: .completed, kind: "SHOW_TABLES"),
            Self.statement("totals", 5),
        ]
        #expect(Self.verdicts(stored) == ["fill": .waiting(for: Self.id("ddl")), "totals": .waiting(for: Self.id("ddl"))])
        #expect(Self.verdicts(stored.shuffled()) == Self.verdicts(stored))
    }
}
