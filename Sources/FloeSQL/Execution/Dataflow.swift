// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A running query: stages wired from a plan, driven from their sources, with the root's output handed out. A
/// statement set's dataflow has one root per INSERT and reads each source they share once.
///
/// The type is split by concern: ``PhysicalPlanner`` builds the stages (`PhysicalPlanner.swift`), the driver runs them
/// (`DataflowDriver.swift`: ``run(interval:checkpoint:outputs:)``), and checkpoint coordination snapshots and restores
/// them (`Checkpoints/CheckpointCoordinator.swift`); the sources it reads are the connectors' (`Connectors/`). The
/// state they share is here.
final class Dataflow {
    /// The source stages, in the order the planner built them (polled in this order; a checkpoint lists them so).
    let sources: [SourceStage]
    let roots: [Stage]
    /// A LIMIT whose satisfaction ends the whole query (only filters and projections above it).
    private(set) var terminalLimit: LimitStage?
    /// Output not handed out yet, per root.
    var pending: [[Batch]]
    var endedRoots = Set<Int>()
    var ended: Bool { endedRoots.count == roots.count }
    /// The sources that ended.
    var finishedSources = Set<ObjectIdentifier>()

    // The driver's bookkeeping (DataflowDriver.swift).

    /// Whether input was processed since the last checkpoint.
    var changedSinceCheckpoint = false
    /// When a table was last read from, per source; sources marked idle (``IdleTimeout``).
    var lastActive: [ObjectIdentifier: ContinuousClock.Instant] = [:]
    var idleSources = Set<ObjectIdentifier>()
    let idleTimeout: IdleTimeout
    /// Called each time the flow has processed every row its sources hold, handed out its output and waits for
    /// appends (``ResultReceiver/caughtUp()``).
    var onCaughtUp: (() async -> Void)?

    convenience init(plan: PlanNode, context: DataflowContext) throws(SQLError) {
        try self.init(plans: [plan], context: context)
    }

    /// A dataflow computing every plan of `plans`; with more than one, sources they have in common are shared.
    init(plans: [PlanNode], context: DataflowContext) throws(SQLError) {
        idleTimeout = context.idleTimeout
        let planner = PhysicalPlanner(planCount: plans.count)
        var roots: [Stage] = []
        for plan in plans { roots.append(try planner.build(plan, context)) }
        self.roots = roots
        sources = planner.sources
        pending = Array(repeating: [], count: roots.count)
        for (index, root) in roots.enumerated() { root.outputIndex = index }
        var stage: Stage? = roots.count == 1 ? roots[0] : nil
        while let current = stage {
            if let limit = current as? LimitStage {
                terminalLimit = limit
                break
            }
            guard current is ProjectStage || current is FilterStage else { break }
            stage = current.firstInput
        }
    }

    /// How many source stages the flow has (shared sources count once).
    var sourceCount: Int { sources.count }

    /// How many stages the flow has (shared stages count once).
    var stageCount: Int { stagesInOrder.count }
}
