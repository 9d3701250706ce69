// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A leaf of a dataflow: it produces batches until it is exhausted (bounded) or forever (following a log).
class SourceStage: Stage {
    /// The next batch available now, or nil.
    func poll() throws(SQLError) -> Batch? { nil }
    /// Whether the source will produce nothing more.
    var isExhausted: Bool { true }
    /// The log and offset to wait on when nothing is available (nil for sources that never wait).
    var waitTarget: (log: TableLog, offset: TableLog.Offset)? { nil }
    /// When a paced source has its next row due (nil for sources that do not wait on time).
    var wakeDeadline: ContinuousClock.Instant? { nil }
    override var inputCount: Int { 0 }
    /// The table (topic) this source reads and how many of its rows it consumed, for `status.latest_offsets`; nil
    /// for sources that are not table logs.
    var consumedOffset: (table: String, rows: Int64)? { nil }
}

/// Batches known up front (VALUES, INFORMATION_SCHEMA rows).
final class ConstantSource: SourceStage {
    private var batches: [Batch]

    init(_ batches: [Batch]) { self.batches = batches }

    override func poll() throws(SQLError) -> Batch? { batches.isEmpty ? nil : batches.removeFirst() }
    override var isExhausted: Bool { batches.isEmpty }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.int(batches.count)
    }

    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        let remaining = try reader.count()
        guard remaining <= batches.count else { throw StateReader.malformed() }
        batches.removeFirst(batches.count - remaining)
    }
}

/// Reads a table's log from the start: up to the end at start time (snapshot), or following appends.
final class LogSource: SourceStage {
    let log: TableLog
    let types: [SQLType]
    let tableName: String
    /// Where a snapshot read stops; nil to follow the log forever.
    private(set) var stopAt: TableLog.Offset?
    /// Whether each batch is one log record (one appended batch), so that watermarks advance at the same points on
    /// every read of the log.
    let recordAtATime: Bool
    private var offset: TableLog.Offset = 0
    /// Rows read so far (the Kafka-style offset of the next row).
    private var rowsRead: Int64 = 0

    init(log: TableLog, types: [SQLType], tableName: String, snapshot: Bool, recordAtATime: Bool = false) {
        self.log = log
        self.types = types
        self.tableName = tableName
        self.stopAt = snapshot ? log.end : nil
        self.recordAtATime = recordAtATime
    }

    override func poll() throws(SQLError) -> Batch? {
        if log.isClosed { throw SQLError("Table '\(tableName)' was dropped.") }
        if let stopAt, offset >= stopAt { return nil }
        let (rows, kinds, appendedAt, next) = try log.read(from: offset, maxBytes: recordAtATime ? 1 : 1 << 20)
        guard next > offset else { return nil }
        offset = next
        rowsRead += Int64(rows.count)
        // Rows written before a column was added are padded with NULLs; `$rowtime` (the last column) is the append
        // time at millisecond precision.
        let width = types.count - 1
        var fitted: [Row] = []
        fitted.reserveCapacity(rows.count)
        for (row, appendedAt) in zip(rows, appendedAt) {
            var full = row.count == width ? row : Array((row + Array(repeating: Value.null, count: max(0, width - row.count))).prefix(width))
            full.append(.int(appendedAt - appendedAt % 1000))
            fitted.append(full)
        }
        return Batch(rows: fitted, kinds: kinds, types: types)
    }

    override var isExhausted: Bool { stopAt.map { offset >= $0 } ?? false }
    override var waitTarget: (log: TableLog, offset: TableLog.Offset)? { (log, offset) }
    /// The table's topic is its own name (the last part of the qualified name).
    override var consumedOffset: (table: String, rows: Int64)? {
        (tableName.split(separator: ".").last.map(String.init) ?? tableName, rowsRead)
    }

    override func saveState(into writer: inout StateWriter) {
        super.saveState(into: &writer)
        writer.string(log.url.lastPathComponent)
        writer.int(offset)
        writer.int(rowsRead)
        writer.bool(stopAt != nil)
        writer.int(stopAt ?? 0)
    }

    /// Continues after the rows read before. A table dropped and created again since is a new log (a new topic):
    /// it is read from its start.
    override func restoreState(from reader: inout StateReader) throws(SQLError) {
        try super.restoreState(from: &reader)
        let file = try reader.string()
        let savedOffset = try reader.int()
        let savedRows = try reader.int()
        let bounded = try reader.bool()
        let end = try reader.int()
        guard bounded == (stopAt != nil) else { throw StateReader.malformed() }
        guard file == log.url.lastPathComponent else { return }
        guard savedOffset >= 0, savedOffset <= log.end, savedRows >= 0 else {
            throw SQLError("Table '\(tableName)' holds fewer rows than the statement had read when it was checkpointed.")
        }
        offset = savedOffset
        rowsRead = savedRows
        if bounded { stopAt = end }
    }
}

/// What a dataflow needs from the engine to build its sources.
struct DataflowContext {
    var compiler: ExpressionCompiler
    /// Batch semantics: sources stop at their current end and operators emit final results only.
    var isSnapshot: Bool
    var snapshot: CatalogSnapshot
    var catalogs: [CatalogIdentity]
    var openLog: (String) throws(SQLError) -> TableLog
    /// Tables read under a watermark assigner: read a log record at a time.
    var recordAtATime: Set<String> = []
    /// When a silent table is marked idle.
    var idleTimeout = IdleTimeout.progressive

    func withRecordAtATime(_ tables: Set<String>) -> DataflowContext {
        var context = self
        context.recordAtATime.formUnion(tables)
        return context
    }
}

/// How a running dataflow checkpoints: when (``CheckpointPolicy``) and what to do with its snapshot.
struct CheckpointSchedule {
    let policy: CheckpointPolicy
    /// Takes the checkpoint: called between batches with the output handed out; the dataflow is there to snapshot.
    let take: (Dataflow) async throws -> Void
}

/// A running query: stages wired from a plan, driven from their sources, with the root's output handed out. A
/// statement set's dataflow has one root per INSERT and reads each source they share once.
final class Dataflow {
    private var sources: [SourceStage] = []
    private var roots: [Stage]
    /// A LIMIT whose satisfaction ends the whole query (only filters and projections above it).
    private var terminalLimit: LimitStage?
    /// Output not handed out yet, per root.
    private var pending: [[Batch]]
    private var endedRoots = Set<Int>()
    private var ended: Bool { endedRoots.count == roots.count }
    /// The sources that ended.
    private var finishedSources = Set<ObjectIdentifier>()
    /// Whether input was processed since the last checkpoint.
    private var changedSinceCheckpoint = false
    /// When a table was last read from, per source; sources marked idle (``IdleTimeout``).
    private var lastActive: [ObjectIdentifier: ContinuousClock.Instant] = [:]
    private var idleSources = Set<ObjectIdentifier>()
    private let idleTimeout: IdleTimeout
    /// Called each time the flow has processed every row its sources hold, handed out its output and waits for
    /// appends (``ResultReceiver/caughtUp()``).
    var onCaughtUp: (() async -> Void)?

    convenience init(plan: PlanNode, context: DataflowContext) throws(SQLError) {
        try self.init(plans: [plan], context: context)
    }

    /// A dataflow computing every plan of `plans`; with more than one, sources they have in common are shared.
    init(plans: [PlanNode], context: DataflowContext) throws(SQLError) {
        var sources: [SourceStage] = []
        idleTimeout = context.idleTimeout
        // Several plans (a statement set) share their common scans whole; one plan shares the scans its self-joins
        // read with the same columns (as Flink's source reuse does), each stage keeping only those columns.
        let shared = SharedStages(wholeTables: plans.count > 1)
        var roots: [Stage] = []
        for plan in plans { roots.append(try Self.build(plan, context, &sources, shared)) }
        self.roots = roots
        self.sources = sources
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

    /// The scan stages built so far, by what they read, for sharing.
    private final class SharedStages {
        var stages: [String: Stage] = [:]
        /// Whether shared scans keep every column (statement sets) rather than being shared per column set.
        let wholeTables: Bool

        init(wholeTables: Bool) { self.wholeTables = wholeTables }
    }

    private static func attach(_ child: Stage, to parent: Stage, slot: Int) {
        if slot == 0 { parent.firstInput = child } else { parent.otherInputs.append(child) }
        if child.parent != nil {
            child.sharedWith.append(SharedConsumer(stage: parent, slot: slot))
            return
        }
        child.parent = parent
        child.slot = slot
    }

    /// What identifies a source subtree that several plans can read through one stage (nil: not shareable).
    private static func shareKey(_ node: PlanNode, _ context: DataflowContext) -> String? {
        switch node {
        case .tableScan(let id, _, _): "scan:\(id):\(context.recordAtATime.contains(id))"
        case .generated(_, let name): "generated:\(name)"
        case .files(_, let name): "files:\(name)"
        case .watermark(let input, let rowtime, _, let perRecord):
            shareKey(input, perRecord ? context.withRecordAtATime(scannedTables(input)) : context).map { "watermark:\(rowtime):\(perRecord):" + $0 }
        default: nil
        }
    }

    /// The input columns an aggregation reads: its keys and its calls' arguments.
    private static func aggregateInputs(keyCount: Int, _ aggregates: [AggregateCall]) -> Set<Int> {
        Set(0..<keyCount).union(aggregates.compactMap(\.argument)).union(aggregates.compactMap(\.filter))
    }

    /// What identifies an aggregation subtree that consumers reading the same aggregation (a self-join of a
    /// windowed count, as in Nexmark q5) can share, as Flink's sub-plan reuse does: the whole subtree, spelled out.
    /// An aggregation computes its output whatever columns its consumers read, so they do not count. Nil for other
    /// nodes and for subtrees calling a function outside `functionsSpelledWhole` (volatile ones, whose copies must
    /// differ, and those whose spelling hides what they compute).
    private static func subplanKey(_ node: PlanNode, _ context: DataflowContext) -> String? {
        switch node {
        case .aggregate, .windowAggregate: break
        default: return nil
        }
        let text = String(reflecting: node)
        // A function's spelling shows its name and arguments, not what its implementation captured (EXTRACT's unit, a
        // ROW field's position): only functions whose result follows from those may be in a shared subtree.
        var rest = Substring(text)
        while let found = rest.range(of: "function(name: \"") {
            rest = rest[found.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { return nil }
            guard Self.functionsSpelledWhole.contains(String(rest[..<end])) else { return nil }
        }
        return "subplan:\(context.recordAtATime.sorted()):" + text
    }

    /// Functions determined by their name, argument expressions and types (what `String(reflecting:)` spells): the
    /// temporal `+`/`-` of intervals and the registry's functions marked so. None is volatile.
    private static let functionsSpelledWhole: Set<String> = FunctionRegistry.builtIn.spelledWholeNames.union(["+", "-"])

    /// Builds the stages of `node`. `live` is the set of the node's output columns that what consumes it reads (nil:
    /// all of them): a stage may leave the other columns NULL instead of computing them, a file source skips
    /// converting them and a join does not keep them, as Flink's projection push-down spares them. Nodes that do not
    /// narrow it pass nil (all columns) to their inputs. A scan shared by the plans of a statement set keeps all
    /// columns; within one plan, only consumers that read the same columns share a scan.
    private static func build(_ node: PlanNode, _ context: DataflowContext, _ sources: inout [SourceStage],
                              _ shared: SharedStages, live: Set<Int>? = nil) throws(SQLError) -> Stage {
        if let tableKey = shareKey(node, context) {
            let columns = shared.wholeTables ? nil : live
            let key = columns.map { tableKey + " columns:" + $0.sorted().map(String.init).joined(separator: ",") } ?? tableKey
            if let stage = shared.stages[key] { return stage }
            let stage = try buildStage(node, context, &sources, shared, live: columns)
            shared.stages[key] = stage
            return stage
        }
        if let key = subplanKey(node, context) {
            if let stage = shared.stages[key] { return stage }
            let stage = try buildStage(node, context, &sources, shared, live: live)
            shared.stages[key] = stage
            return stage
        }
        return try buildStage(node, context, &sources, shared, live: live)
    }

    private static func buildStage(_ node: PlanNode, _ context: DataflowContext, _ sources: inout [SourceStage],
                                   _ shared: SharedStages, live: Set<Int>?) throws(SQLError) -> Stage {
        func build(_ node: PlanNode, _ context: DataflowContext, _ sources: inout [SourceStage], live: Set<Int>? = nil) throws(SQLError) -> Stage {
            try Self.build(node, context, &sources, shared, live: live)
        }
        func single(_ stage: Stage, _ input: PlanNode, live: Set<Int>? = nil) throws(SQLError) -> Stage {
            let child = try build(input, context, &sources, live: live)
            attach(child, to: stage, slot: 0)
            return stage
        }
        switch node {
        case .values(let rows, let types):
            let empty = Batch(columns: [], kinds: [.insert])
            var columns: [[Value]] = Array(repeating: [], count: types.count)
            for row in rows {
                for (index, expression) in row.enumerated() {
                    columns[index].append(try context.compiler.compile(expression)(empty).value(at: 0))
                }
            }
            let batch = Batch(columns: types.indices.map { ColumnBuilder.column(columns[$0], physical: types[$0].physical) },
                              kinds: Array(repeating: .insert, count: rows.count))
            let source = ConstantSource([batch])
            sources.append(source)
            return source
        case .systemTable(let table, let catalogID):
            let rows = SystemTables.rows(table, catalogID: catalogID, catalogs: context.catalogs, snapshot: context.snapshot)
            let source = ConstantSource(rows.isEmpty ? [] : [Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: SystemTables.types(table))])
            sources.append(source)
            return source
        case .tableScan(let tableID, let name, let types):
            let source = LogSource(log: try context.openLog(tableID), types: types, tableName: name, snapshot: context.isSnapshot,
                                   recordAtATime: context.recordAtATime.contains(tableID))
            sources.append(source)
            return source
        case .generated(let spec, _):
            let source = DatagenSource(spec: spec)
            sources.append(source)
            return source
        case .files(let spec, _):
            let source = FileSource(spec: spec, live: live)
            sources.append(source)
            return source
        case .filter(let input, let condition):
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            let stage = FilterStage(compiler.compile(condition))
            stage.watermarkCell = cell
            return try single(stage, input, live: live?.union(condition.referencedColumns))
        case .project(let input, let expressions):
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            // Columns nobody reads are NULL rather than computed.
            let computed = expressions.enumerated().map { index, expression in
                live == nil || live!.contains(index) ? expression : BoundExpression.literal(.null, expression.type)
            }
            let stage = ProjectStage(computed.map(compiler.compile))
            stage.watermarkCell = cell
            return try single(stage, input, live: computed.reduce(into: Set<Int>()) { $0.formUnion($1.referencedColumns) })
        case .aggregate(let input, let keyCount, let aggregates):
            let inputTypes = try inputTypesOf(input)
            let outputTypes = Array(inputTypes.prefix(keyCount)) + aggregates.map(\.type)
            return try single(AggregateStage(keyCount: keyCount, calls: aggregates, final: context.isSnapshot, outputTypes: outputTypes), input,
                              live: Self.aggregateInputs(keyCount: keyCount, aggregates))
        case .sort(let input, let keys, let limit, let offset):
            let types = try inputTypesOf(input)
            // A bounded input is sorted once at its end; an unbounded one keeps a Top-N.
            let incremental = !context.isSnapshot && !Self.isBounded(input)
            return try single(SortStage(keys: keys, limit: limit, offset: offset, incremental: incremental, types: types), input)
        case .limit(let input, let limit, let offset):
            return try single(LimitStage(limit: limit, offset: offset), input)
        case .watermark(let input, let rowtime, let expression, let perRecord):
            let inner = perRecord ? context.withRecordAtATime(Self.scannedTables(input)) : context
            let stage = WatermarkAssignerStage(context.compiler.compile(expression))
            attach(try build(input, inner, &sources, live: live?.union(expression.referencedColumns).union([rowtime])), to: stage, slot: 0)
            return stage
        case .window(let input, let spec):
            // The input's columns read above, and the time the windows are assigned by.
            let inputCount = try inputTypesOf(input).count
            return try single(WindowAssignStage(spec: spec), input, live: live.map { Set($0.filter { $0 < inputCount }).union([spec.timeColumn]) })
        case .changelogNormalize(let input, let keys, let ignoring):
            return try single(ChangelogNormalizeStage(keys: keys, ignoring: ignoring, final: context.isSnapshot, types: try inputTypesOf(input)), input)
        case .rank(let input, let partitionKeys, let sortKeys, let limit, let insertOnlyInput):
            let outputTypes = try inputTypesOf(input) + [SQLType(.bigint, nullable: false)]
            return try single(RankStage(partitionKeys: partitionKeys, sortKeys: sortKeys, limit: limit, insertOnlyInput: insertOnlyInput,
                                        final: context.isSnapshot, outputTypes: outputTypes), input)
        case .overAggregate(let input, let window):
            let outputTypes = try inputTypesOf(input) + window.aggregates.map(\.type)
            return try single(OverAggregateStage(window: window, outputTypes: outputTypes), input)
        case .windowAggregate(let input, let keyCount, let aggregates, let windowStart, let windowEnd, let localZone):
            let outputTypes = Array(try inputTypesOf(input).prefix(keyCount)) + aggregates.map(\.type)
            return try single(WindowAggregateStage(keyCount: keyCount, calls: aggregates, outputTypes: outputTypes, windowStart: windowStart,
                                                        windowEnd: windowEnd, localZone: localZone), input,
                              live: Self.aggregateInputs(keyCount: keyCount, aggregates))
        case .union(let inputs):
            let stage = UnionStage(inputs: inputs.count)
            for (slot, input) in inputs.enumerated() { attach(try build(input, context, &sources), to: stage, slot: slot) }
            return stage
        case .intervalJoin(let left, let right, let spec):
            let keys = JoinKeys.of(spec.condition, leftCount: spec.leftTypes.count, types: spec.leftTypes + spec.rightTypes)
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            let stage = IntervalJoinStage(spec: spec, keys: keys, residual: keys.residual.map(compiler.compile))
            stage.residualPredicate = keys.residual.flatMap { JoinPredicate.compile($0, leftCount: spec.leftTypes.count) }
            stage.watermarkCell = cell
            attach(try build(left, context, &sources), to: stage, slot: 0)
            attach(try build(right, context, &sources), to: stage, slot: 1)
            return stage
        case .windowJoin(let left, let right, let spec):
            let keys = JoinKeys.of(spec.condition, leftCount: spec.leftTypes.count, types: spec.leftTypes + spec.rightTypes)
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            let stage = WindowJoinStage(spec: spec, keys: keys, residual: keys.residual.map(compiler.compile))
            stage.watermarkCell = cell
            attach(try build(left, context, &sources), to: stage, slot: 0)
            attach(try build(right, context, &sources), to: stage, slot: 1)
            return stage
        case .windowRank(let input, let partitionKeys, let sortKeys, let limit, let windowEnd, let localZone):
            let outputTypes = try inputTypesOf(input) + [SQLType(.bigint, nullable: false)]
            return try single(WindowRankStage(partitionKeys: partitionKeys, sortKeys: sortKeys, limit: limit, windowEnd: windowEnd, localZone: localZone,
                                              outputTypes: outputTypes), input)
        case .temporalJoin(let left, let right, let spec):
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            let stage = TemporalJoinStage(spec: spec, condition: compiler.compile(spec.condition))
            stage.conditionPredicate = JoinPredicate.compile(spec.condition, leftCount: spec.leftTypes.count)
            stage.watermarkCell = cell
            attach(try build(left, context, &sources), to: stage, slot: 0)
            attach(try build(right, context, &sources), to: stage, slot: 1)
            return stage
        case .join(let left, let right, let kind, let condition, let leftTypes, let rightTypes):
            let keys = JoinKeys.of(condition, leftCount: leftTypes.count, types: leftTypes + rightTypes)
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            // Each side keeps the columns read above the join and by its condition.
            let needed = live?.union(condition?.referencedColumns ?? [])
            let leftLive = needed.map { Set($0.filter { $0 < leftTypes.count }) }
            let rightLive = needed.map { Set($0.filter { $0 >= leftTypes.count }.map { $0 - leftTypes.count }) }
            let stage = JoinStage(kind: kind, keys: keys, residual: keys.residual.map(compiler.compile), leftTypes: leftTypes,
                                  rightTypes: rightTypes, final: context.isSnapshot,
                                  leftLive: leftLive.map { set in leftTypes.indices.map(set.contains) },
                                  rightLive: rightLive.map { set in rightTypes.indices.map(set.contains) })
            stage.residualPredicate = keys.residual.flatMap { JoinPredicate.compile($0, leftCount: leftTypes.count) }
            stage.watermarkCell = cell
            attach(try build(left, context, &sources, live: leftLive), to: stage, slot: 0)
            attach(try build(right, context, &sources, live: rightLive), to: stage, slot: 1)
            return stage
        }
    }

    /// A compiler whose `CURRENT_WATERMARK` reads a new cell, for a stage to keep up to date.
    private static func watermarkReading(_ compiler: ExpressionCompiler) -> (ExpressionCompiler, WatermarkCell) {
        var reading = compiler
        let cell = WatermarkCell()
        reading.watermark = cell
        return (reading, cell)
    }

    /// The ids of the tables a plan reads.
    static func scannedTables(_ node: PlanNode) -> Set<String> {
        switch node {
        case .tableScan(let id, _, _): [id]
        case .values, .systemTable, .generated, .files: []
        case .filter(let input, _), .project(let input, _), .aggregate(let input, _, _), .sort(let input, _, _, _), .limit(let input, _, _),
            .watermark(let input, _, _, _), .window(let input, _), .windowAggregate(let input, _, _, _, _, _), .rank(let input, _, _, _, _),
            .overAggregate(let input, _), .changelogNormalize(let input, _, _), .windowRank(let input, _, _, _, _, _):
            scannedTables(input)
        case .union(let inputs): inputs.reduce(into: Set<String>()) { $0.formUnion(scannedTables($1)) }
        case .join(let l, let r, _, _, _, _), .intervalJoin(let l, let r, _), .temporalJoin(let l, let r, _), .windowJoin(let l, let r, _):
            scannedTables(l).union(scannedTables(r))
        }
    }

    static func isBounded(_ node: PlanNode) -> Bool {
        switch node {
        case .values, .systemTable, .files: true
        case .tableScan: false
        case .generated(let spec, _): spec.rowLimit != nil
        case .filter(let input, _), .project(let input, _), .aggregate(let input, _, _), .sort(let input, _, _, _), .limit(let input, _, _),
            .watermark(let input, _, _, _), .window(let input, _), .windowAggregate(let input, _, _, _, _, _), .rank(let input, _, _, _, _),
            .overAggregate(let input, _), .changelogNormalize(let input, _, _), .windowRank(let input, _, _, _, _, _):
            isBounded(input)
        case .union(let inputs): inputs.allSatisfy(isBounded)
        case .join(let l, let r, _, _, _, _), .intervalJoin(let l, let r, _), .temporalJoin(let l, let r, _), .windowJoin(let l, let r, _):
            isBounded(l) && isBounded(r)
        }
    }

    /// The output types of a plan node.
    static func inputTypesOf(_ node: PlanNode) throws(SQLError) -> [SQLType] {
        switch node {
        case .values(_, let types), .tableScan(_, _, let types): return types
        case .generated(let spec, _): return spec.types
        case .files(let spec, _): return spec.fields.map(\.type)
        case .systemTable(let table, _): return SystemTables.types(table)
        case .filter(let input, _), .sort(let input, _, _, _), .limit(let input, _, _), .watermark(let input, _, _, _), .changelogNormalize(let input, _, _):
            return try inputTypesOf(input)
        case .window(let input, let spec):
            return try inputTypesOf(input) + WindowSpec.addedTypes(isLocal: spec.localZone != nil)
        case .windowAggregate(let input, let keyCount, let aggregates, _, _, _):
            return Array(try inputTypesOf(input).prefix(keyCount)) + aggregates.map(\.type)
        case .rank(let input, _, _, _, _), .windowRank(let input, _, _, _, _, _):
            return try inputTypesOf(input) + [SQLType(.bigint, nullable: false)]
        case .windowJoin(_, _, let spec):
            return spec.leftTypes.map { $0.withNullable($0.nullable || spec.kind == .right || spec.kind == .full) }
                + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left || spec.kind == .full) }
        case .overAggregate(let input, let window):
            return try inputTypesOf(input) + window.aggregates.map(\.type)
        case .project(_, let expressions): return expressions.map(\.type)
        case .aggregate(let input, let keyCount, let aggregates): return Array(try inputTypesOf(input).prefix(keyCount)) + aggregates.map(\.type)
        case .union(let inputs): return try inputs.first.map(inputTypesOf) ?? []
        case .join(_, _, _, _, let l, let r): return l + r
        case .temporalJoin(_, _, let spec):
            return spec.leftTypes + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left) }
        case .intervalJoin(_, _, let spec):
            return spec.leftTypes.map { $0.withNullable($0.nullable || spec.kind == .right || spec.kind == .full) }
                + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left || spec.kind == .full) }
        }
    }

    // MARK: Driving

    /// Calls `body` with every stage `stage` feeds and the slot it feeds there (more than one for a shared source),
    /// without building a list on this hot path.
    private func forEachConsumer(of stage: Stage, _ body: (Stage, Int) throws(SQLError) -> Void) throws(SQLError) {
        guard let parent = stage.parent else { return }
        try body(parent, stage.slot)
        for consumer in stage.sharedWith {
            if let shared = consumer.stage { try body(shared, consumer.slot) }
        }
    }

    private func push(_ batches: [Batch], from stage: Stage) throws(SQLError) {
        if let index = stage.outputIndex { pending[index].append(contentsOf: batches.filter { $0.count > 0 }) }
        try forEachConsumer(of: stage) { parent, slot throws(SQLError) in
            for batch in batches where batch.count > 0 {
                try push(try parent.process(batch, from: slot), from: parent)
                if let watermark = parent.takeGeneratedWatermark() {
                    let (fired, forward) = try parent.advanceWatermark(to: watermark)
                    try push(fired, from: parent)
                    if let forward { try pushWatermark(forward, from: parent) }
                }
            }
        }
    }

    /// Hands `stage`'s new watermark to its parents, then whatever that completes, then their watermarks upward.
    private func pushWatermark(_ watermark: Int64, from stage: Stage) throws(SQLError) {
        try forEachConsumer(of: stage) { parent, slot throws(SQLError) in
            let (fired, forward) = try parent.receiveWatermark(watermark, from: slot)
            try push(fired, from: parent)
            if let forward { try pushWatermark(forward, from: parent) }
        }
    }

    /// Hands a change of `stage`'s idleness to its parents, then what that releases, up the flow.
    private func pushIdleness(_ idle: Bool, from stage: Stage) throws(SQLError) {
        try forEachConsumer(of: stage) { parent, slot throws(SQLError) in
            let (fired, forward, changed) = try parent.inputIdleness(idle, from: slot)
            try push(fired, from: parent)
            if let forward { try pushWatermark(forward, from: parent) }
            if let changed { try pushIdleness(changed, from: parent) }
        }
    }

    private func end(_ stage: Stage) throws(SQLError) {
        if let index = stage.outputIndex { endedRoots.insert(index) }
        try forEachConsumer(of: stage) { parent, slot throws(SQLError) in
            let wasFinished = parent.isFinished
            try push(try parent.inputFinished(slot), from: parent)
            if !wasFinished, parent.isFinished { try end(parent) }
        }
    }

    // MARK: Checkpoints

    /// Every stage once, each before its inputs: a fixed order for given plans.
    private var stagesInOrder: [Stage] {
        var stages: [Stage] = []
        var seen = Set<ObjectIdentifier>()
        func visit(_ stage: Stage) {
            guard seen.insert(ObjectIdentifier(stage)).inserted else { return }
            stages.append(stage)
            if let first = stage.firstInput { visit(first) }
            stage.otherInputs.forEach(visit)
        }
        roots.forEach(visit)
        return stages
    }

    /// The state of every stage (sources' positions included), tagged with the stage kinds so that it restores only
    /// into a dataflow of the same plan. Taken between batches, with no output pending.
    func snapshot() -> [UInt8] {
        precondition(pending.allSatisfy(\.isEmpty), "a snapshot is taken after the output was handed out")
        var writer = StateWriter()
        writer.bool(ended)
        writer.array(sources.indices.filter { finishedSources.contains(ObjectIdentifier(sources[$0])) }) { $0.int($1) }
        writer.array(stagesInOrder) { writer, stage in
            writer.string(String(describing: type(of: stage)))
            writer.section { stage.saveState(into: &$0) }
        }
        if roots.count > 1 { writer.array(endedRoots.sorted()) { $0.int($1) } }
        return writer.bytes
    }

    /// Restores a ``snapshot()`` into this freshly built dataflow.
    func restore(_ bytes: [UInt8]) throws(SQLError) {
        var reader = StateReader(bytes)
        if try reader.bool() { endedRoots = Set(roots.indices) }
        let finished = try reader.array { reader throws(SQLError) in try reader.count() }
        guard finished.allSatisfy({ $0 < sources.count }) else { throw StateReader.malformed() }
        finishedSources = Set(finished.map { ObjectIdentifier(sources[$0]) })
        let stages = stagesInOrder
        guard try reader.count() == stages.count else { throw Self.planChanged() }
        for stage in stages {
            guard try reader.string() == String(describing: type(of: stage)) else { throw Self.planChanged() }
            try reader.section { reader throws(SQLError) in try stage.restoreState(from: &reader) }
        }
        if roots.count > 1 {
            let ended = try reader.array { reader throws(SQLError) in try reader.count() }
            guard ended.allSatisfy({ $0 < roots.count }) else { throw StateReader.malformed() }
            endedRoots = Set(ended)
        }
        guard reader.isAtEnd else { throw StateReader.malformed() }
    }

    private static func planChanged() -> SQLError {
        SQLError("The statement's checkpoint was taken for a different plan (the tables it reads changed since) and cannot be restored.")
    }

    /// How many source stages the flow has (shared sources count once).
    var sourceCount: Int { sources.count }

    /// How many stages the flow has (shared stages count once).
    var stageCount: Int { stagesInOrder.count }

    /// Rows consumed per source table (the largest count when a table is read twice).
    var consumedOffsets: [(table: String, rows: Int64)] {
        var offsets: [String: Int64] = [:]
        for source in sources {
            if let (table, rows) = source.consumedOffset { offsets[table] = max(offsets[table] ?? 0, rows) }
        }
        return offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Runs until the sources are exhausted (or a terminal LIMIT is met), handing output batches to `output` at
    /// least every `interval` while rows flow; unbounded flows run until the task is cancelled.
    ///
    /// With a `checkpoint` schedule, the flow checkpoints between batches once its spacing has passed since the last
    /// checkpoint and input was processed since, also while it waits for input; when the task is cancelled (a stop, a
    /// shutdown) it hands out its pending output and checkpoints a last time before the cancellation propagates.
    func run(interval: Duration = .milliseconds(50), checkpoint: CheckpointSchedule? = nil, output: ([Batch]) async throws -> Void) async throws {
        try await run(interval: interval, checkpoint: checkpoint, outputs: { try await output($0[0]) })
    }

    /// ``run(interval:checkpoint:output:)`` for several roots: `outputs` gets the batches of every root, by root.
    func run(interval: Duration = .milliseconds(50), checkpoint: CheckpointSchedule? = nil, outputs: ([[Batch]]) async throws -> Void) async throws {
        let clock = ContinuousClock()
        var lastFlush = clock.now
        var lastCheckpoint = clock.now
        func flush(force: Bool) async throws {
            let rows = pending.reduce(0) { total, batches in batches.reduce(total) { $0 + $1.count } }
            guard rows > 0, force || clock.now - lastFlush >= interval || rows >= 4096 else { return }
            let batches = pending
            pending = Array(repeating: [], count: roots.count)
            lastFlush = clock.now
            try await outputs(batches)
        }
        /// When the next checkpoint is due, if there is anything to checkpoint.
        func checkpointDue() -> ContinuousClock.Instant? {
            guard let checkpoint, changedSinceCheckpoint else { return nil }
            return lastCheckpoint + checkpoint.policy.spacing
        }
        func takeCheckpoint() async throws {
            guard let checkpoint else { return }
            try await flush(force: true)
            let started = clock.now
            try await checkpoint.take(self)
            lastCheckpoint = clock.now
            checkpoint.policy.record(cost: lastCheckpoint - started)
            changedSinceCheckpoint = false
        }
        do {
            try await drive(clock: clock, flush: { try await flush(force: $0) }, checkpointDue: checkpointDue, takeCheckpoint: takeCheckpoint)
        } catch {
            // Stopped between batches: what was processed is checkpointed, so a resume continues right after it.
            if checkpoint != nil, error is CancellationError || Task.isCancelled, !(error is SQLError) { try await takeCheckpoint() }
            throw error
        }
    }

    /// The driving loop of ``run(interval:checkpoint:output:)``.
    /// How long a dataflow computes before it lets the other statements on the engine's threads run.
    static let timeSlice: Duration = .milliseconds(20)

    private func drive(clock: ContinuousClock, flush: (_ force: Bool) async throws -> Void, checkpointDue: () -> ContinuousClock.Instant?,
                       takeCheckpoint: () async throws -> Void) async throws {
        let started = clock.now
        /// When a table that has been silent since `last` goes idle (nil: never).
        func idleDeadline(_ last: ContinuousClock.Instant) -> ContinuousClock.Instant? {
            // The progressive timeout is that of the statement's age when the table went silent, so it does not recede.
            idleTimeout.timeout(age: last - started).map { last + $0 }
        }
        // Statements share the engine's threads: one that computes for long without waiting lets the others run
        // every time slice.
        var sliceStarted = clock.now
        while true {
            try Task.checkCancellation()
            var progressed = false
            for source in sources where !finishedSources.contains(ObjectIdentifier(source)) {
                let id = ObjectIdentifier(source)
                while let batch = try source.poll() {
                    if clock.now - sliceStarted > Self.timeSlice {
                        await Task.yield()
                        sliceStarted = clock.now
                    }
                    progressed = true
                    changedSinceCheckpoint = true
                    if source.waitTarget != nil {
                        lastActive[id] = clock.now
                        // A table that produces again is active: it holds the watermark back again.
                        if idleSources.remove(id) != nil { try pushIdleness(false, from: source) }
                    }
                    try push([batch], from: source)
                    if terminalLimit?.isSatisfied == true { break }
                    try await flush(false)
                    if let due = checkpointDue(), clock.now >= due { try await takeCheckpoint() }
                    try Task.checkCancellation()
                }
                if source.isExhausted {
                    changedSinceCheckpoint = true
                    finishedSources.insert(ObjectIdentifier(source))
                    // A bounded input's end is the end of time for it: every window it fed can fire.
                    try pushWatermark(.max, from: source)
                    try end(source)
                }
                if terminalLimit?.isSatisfied == true { break }
            }
            if ended || terminalLimit?.isSatisfied == true || sources.isEmpty {
                try await flush(true)
                return
            }
            if sources.count > 1 {
                // Tables silent for the idle timeout stop holding back the watermark of the joins and unions they
                // feed (which may fire windows); only a flow of several sources has such stages.
                for source in sources where source.waitTarget != nil && !finishedSources.contains(ObjectIdentifier(source)) {
                    let id = ObjectIdentifier(source)
                    let last = lastActive[id] ?? started
                    guard !idleSources.contains(id), let due = idleDeadline(last), clock.now >= due else { continue }
                    idleSources.insert(id)
                    try pushIdleness(true, from: source)
                }
            }
            try await flush(!progressed)
            if let due = checkpointDue(), clock.now >= due { try await takeCheckpoint() }
            if !progressed {
                let waiting = sources.filter { !finishedSources.contains(ObjectIdentifier($0)) }
                let targets = waiting.compactMap(\.waitTarget)
                // Idle with uncommitted work: wake when the checkpoint that commits it is due.
                let deadline = (waiting.compactMap(\.wakeDeadline) + [checkpointDue()].compactMap { $0 }).min()
                guard !targets.isEmpty || deadline != nil else { continue }
                // Everything the logs hold is processed and handed out, and nothing waits on a clock (the idle
                // timeouts of silent tables aside).
                if deadline == nil { await onCaughtUp?() }
                // Only a flow that can tell (a join or union of several sources) waits for its tables to go idle.
                let idleWake = sources.count > 1
                    ? waiting.filter { $0.waitTarget != nil && !idleSources.contains(ObjectIdentifier($0)) }
                        .compactMap { idleDeadline(lastActive[ObjectIdentifier($0)] ?? started) }.min()
                    : nil
                let wake = [deadline, idleWake].compactMap { $0 }.min()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for target in targets {
                        let (log, offset) = target
                        group.addTask { try await log.waitForAppend(beyond: offset) }
                    }
                    if let wake { group.addTask { try await Task.sleep(until: wake, clock: .continuous) } }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}
