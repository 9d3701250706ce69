// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// Which waiting statements may start now, and what holds back the others: the one place that decides the order in
/// which statements start.
///
/// The statements of one compute pool start one after another in the order they were created (their `sequence`):
/// a statement waits until every earlier statement of its pool has started, and until every earlier statement of its
/// pool that changes the catalog (CREATE, ALTER, DROP, USE: see ``holdsBackLaterStatements(sqlKind:)``) has ended.
/// On Confluent Cloud DDL completes synchronously, so scripts send a `CREATE TABLE` and the `INSERT` into it back to
/// back; here DDL takes effect when it runs, and without this rule the INSERT could be analyzed against a catalog that
/// does not have the table yet (typically when both wait for a PROVISIONING pool and then start together). An earlier
/// statement that ended holds nothing back, however it ended: a failed CREATE TABLE lets the INSERT start and fail
/// with its own reason.
///
/// The rule reads only stored state, so the first reconciliation after a restart applies it as every other does:
/// statements left PENDING start in creation order, behind any DDL that resumes running.
struct StartOrder: Sendable {
    enum Verdict: Sendable, Equatable {
        /// The statement may start now: its pool is provisioned with a CFU free, and nothing earlier holds it back.
        case start
        /// Its compute pool no longer exists, so it never will start.
        case poolMissing
        /// Its compute pool is still PROVISIONING.
        case poolProvisioning
        /// Its compute pool runs `maxCFU` statements already.
        case poolExhausted(maxCFU: Int)
        /// The earlier statement of its pool with this id must start (or, being DDL, end) first.
        case waiting(for: String)
    }

    /// The statements waiting to start (PENDING and not being stopped), in creation order, each with its verdict.
    let queue: [(statement: Statement, verdict: Verdict)]

    init(_ state: ControlPlaneState) {
        self.init(statements: state.statements.values, pools: state.computePools)
    }

    init(statements: some Collection<Statement>, pools: [String: ComputePool]) {
        var queue: [(statement: Statement, verdict: Verdict)] = []
        for (poolID, ofPool) in Dictionary(grouping: statements, by: \.computePoolID) {
            let pool = pools[poolID]
            var inUse = ofPool.count(where: { $0.phase == .running || $0.phase == .stopping })
            // The earliest statement of the pool that holds back the ones after it, met so far.
            var holding: String?
            for statement in ofPool.sorted(by: { $0.sequence < $1.sequence }) {
                switch statement.phase {
                case .pending where !statement.stopped:
                    let verdict: Verdict
                    if let pool {
                        if pool.phase != .provisioned {
                            verdict = .poolProvisioning
                        } else if inUse >= pool.maxCFU {
                            verdict = .poolExhausted(maxCFU: pool.maxCFU)
                        } else if let holding {
                            verdict = .waiting(for: holding)
                        } else {
                            verdict = .start
                            inUse += 1
                        }
                    } else {
                        verdict = .poolMissing
                    }
                    queue.append((statement, verdict))
                    holding = holding ?? statement.id
                case .running, .stopping:
                    if let kind = statement.traits?.sqlKind, Self.holdsBackLaterStatements(sqlKind: kind) { holding = holding ?? statement.id }
                case .pending, .completed, .stopped, .failed:
                    break
                }
            }
        }
        self.queue = queue.sorted { $0.statement.sequence < $1.statement.sequence }
    }

    /// The statements that may start now, in creation order (at most one per pool: the next in its queue).
    var startable: [Statement] { queue.filter { $0.verdict == .start }.map(\.statement) }

    /// The verdict on the waiting statement `id`; nil when it is not waiting to start.
    func verdict(on id: String) -> Verdict? { queue.first { $0.statement.id == id }?.verdict }

    /// Whether a running statement of this kind holds back the later statements of its pool until it ends: the
    /// statements that change the catalog or the session (DDL), which Confluent Cloud completes before answering.
    /// CREATE TABLE AS is not among them: it runs on as an INSERT, possibly for ever.
    static func holdsBackLaterStatements(sqlKind: String) -> Bool {
        guard sqlKind != "CREATE_TABLE_AS" else { return false }
        return sqlKind.hasPrefix("CREATE_") || sqlKind.hasPrefix("DROP_") || sqlKind.hasPrefix("ALTER_") || sqlKind == "USE"
            || sqlKind.hasPrefix("USE_")
    }
}
