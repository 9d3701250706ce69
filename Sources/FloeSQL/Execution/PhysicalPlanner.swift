// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// What a dataflow needs from the engine to build its sources.
struct DataflowContext {
    var compiler: ExpressionCompiler
    /// Batch semantics: sources stop at their current end and operators emit final results only.
    var isSnapshot: Bool
    var snapshot: CatalogSnapshot
    var catalogs: [CatalogIdentity]
    /// The Kafka clusters attached as databases of those catalogs.
    var kafkaDatabases: [KafkaDatabase] = []
    var openLog: (String) throws(SQLError) -> TableLog
    /// Tables read under a watermark assigner: read a log record at a time.
    var recordAtATime: Set<String> = []
    /// When a silent table is marked idle.
    var idleTimeout = IdleTimeout.progressive
    /// The statement's id (nil for one without identity).
    var statementID: String?

    func withRecordAtATime(_ tables: Set<String>) -> DataflowContext {
        var context = self
        context.recordAtATime.formUnion(tables)
        return context
    }
}

/// Physical planning: turns a plan (``PlanNode``) into the stages that compute it, wired child to parent, and its
/// leaves into source stages (the connectors' readers, `Connectors/`). It decides what is built once and read by
/// several consumers (Flink's source and sub-plan reuse) and which columns each stage must compute (projection
/// push-down); the ``Dataflow`` it builds for only drives the stages.
///
/// One planner builds one dataflow: the sharing it decides holds among the plans it is given.
final class PhysicalPlanner {
    /// The source stages built so far, in the order they were built: the order the driver polls them in and the
    /// order a checkpoint lists them in.
    private(set) var sources: [SourceStage] = []
    /// The shared stages built so far, by what they read or compute (``shareKey(_:_:)``, ``subplanKey(_:_:)``).
    private var shared: [String: Stage] = [:]
    /// Whether shared scans keep every column (statement sets) rather than being shared per column set.
    private let sharesWholeTables: Bool

    /// A planner for a dataflow of `planCount` roots: several plans (a statement set) share their common scans whole;
    /// one plan shares the scans its self-joins read with the same columns (as Flink's source reuse does), each stage
    /// keeping only those columns.
    init(planCount: Int) { sharesWholeTables = planCount > 1 }

    /// Wires `child` into `parent`'s input `slot`. A child that already has a parent is a shared stage: it feeds this
    /// one too (``Stage/sharedWith``).
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
    func build(_ node: PlanNode, _ context: DataflowContext, live: Set<Int>? = nil) throws(SQLError) -> Stage {
        if let tableKey = Self.shareKey(node, context) {
            let columns = sharesWholeTables ? nil : live
            let key = columns.map { tableKey + " columns:" + $0.sorted().map(String.init).joined(separator: ",") } ?? tableKey
            if let stage = shared[key] { return stage }
            let stage = try buildStage(node, context, live: columns)
            shared[key] = stage
            return stage
        }
        if let key = Self.subplanKey(node, context) {
            if let stage = shared[key] { return stage }
            let stage = try buildStage(node, context, live: live)
            shared[key] = stage
            return stage
        }
        return try buildStage(node, context, live: live)
    }

    private func buildStage(_ node: PlanNode, _ context: DataflowContext, live: Set<Int>?) throws(SQLError) -> Stage {
        func single(_ stage: Stage, _ input: PlanNode, live: Set<Int>? = nil) throws(SQLError) -> Stage {
            let child = try build(input, context, live: live)
            Self.attach(child, to: stage, slot: 0)
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
            let batch = Batch(
                columns: types.indices.map { ColumnBuilder.column(columns[$0], physical: types[$0].physical) },
                kinds: Array(repeating: .insert, count: rows.count))
            let source = ConstantSource([batch])
            sources.append(source)
            return source
        case .systemTable(let table, let catalogID):
            let rows = try SystemTables.rows(
                table, catalogID: catalogID, catalogs: context.catalogs, kafkaDatabases: context.kafkaDatabases, snapshot: context.snapshot)
            let source = ConstantSource(
                rows.isEmpty ? [] : [Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: SystemTables.types(table))])
            sources.append(source)
            return source
        case .tableScan(let tableID, let name, let types):
            let source = LogSource(
                log: try context.openLog(tableID), types: types, tableName: name, snapshot: context.isSnapshot,
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
        case .kafkaScan(let spec, _, let types):
            let source = try KafkaSource(spec, types: types, idleTimeout: context.idleTimeout, statementID: context.statementID)
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
            let inputTypes = try Self.outputTypes(of: input)
            let outputTypes = Array(inputTypes.prefix(keyCount)) + aggregates.map(\.type)
            return try single(
                AggregateStage(keyCount: keyCount, calls: aggregates, final: context.isSnapshot, outputTypes: outputTypes), input,
                live: Self.aggregateInputs(keyCount: keyCount, aggregates))
        case .sort(let input, let keys, let limit, let offset):
            let types = try Self.outputTypes(of: input)
            // A bounded input is sorted once at its end; an unbounded one keeps a Top-N.
            let incremental = !context.isSnapshot && !Self.isBounded(input)
            return try single(SortStage(keys: keys, limit: limit, offset: offset, incremental: incremental, types: types), input)
        case .limit(let input, let limit, let offset):
            return try single(LimitStage(limit: limit, offset: offset), input)
        case .watermark(let input, let rowtime, let expression, let perRecord):
            let inner = perRecord ? context.withRecordAtATime(Self.scannedTables(input)) : context
            let stage = WatermarkAssignerStage(context.compiler.compile(expression))
            let built = try build(input, inner, live: live?.union(expression.referencedColumns).union([rowtime]))
            // A Kafka table's SOURCE_WATERMARK() is its source's, per partition.
            var cursor: Stage? = built
            while let below = cursor {
                if let kafka = below as? KafkaSource, kafka.spec.sourceWatermark {
                    stage.source = kafka
                    break
                }
                cursor = below.firstInput
            }
            Self.attach(built, to: stage, slot: 0)
            return stage
        case .window(let input, let spec):
            // The input's columns read above, and the time the windows are assigned by.
            let inputCount = try Self.outputTypes(of: input).count
            return try single(WindowAssignStage(spec: spec), input, live: live.map { Set($0.filter { $0 < inputCount }).union([spec.timeColumn]) })
        case .changelogNormalize(let input, let keys, let ignoring):
            return try single(
                ChangelogNormalizeStage(keys: keys, ignoring: ignoring, final: context.isSnapshot, types: try Self.outputTypes(of: input)), input)
        case .rank(let input, let partitionKeys, let sortKeys, let limit, let insertOnlyInput):
            let outputTypes = try Self.outputTypes(of: input) + [SQLType(.bigint, nullable: false)]
            return try single(
                RankStage(
                    partitionKeys: partitionKeys, sortKeys: sortKeys, limit: limit, insertOnlyInput: insertOnlyInput,
                    final: context.isSnapshot, outputTypes: outputTypes), input)
        case .overAggregate(let input, let window):
            let outputTypes = try Self.outputTypes(of: input) + window.aggregates.map(\.type)
            return try single(OverAggregateStage(window: window, outputTypes: outputTypes), input)
        case .windowAggregate(let input, let keyCount, let aggregates, let windowStart, let windowEnd, let localZone):
            let outputTypes = Array(try Self.outputTypes(of: input).prefix(keyCount)) + aggregates.map(\.type)
            return try single(
                WindowAggregateStage(
                    keyCount: keyCount, calls: aggregates, outputTypes: outputTypes, windowStart: windowStart,
                    windowEnd: windowEnd, localZone: localZone), input,
                live: Self.aggregateInputs(keyCount: keyCount, aggregates))
        case .union(let inputs):
            let stage = UnionStage(inputs: inputs.count)
            for (slot, input) in inputs.enumerated() { Self.attach(try build(input, context), to: stage, slot: slot) }
            return stage
        case .intervalJoin(let left, let right, let spec):
            let keys = JoinKeys.of(spec.condition, leftCount: spec.leftTypes.count, types: spec.leftTypes + spec.rightTypes)
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            let stage = IntervalJoinStage(spec: spec, keys: keys, residual: keys.residual.map(compiler.compile))
            stage.residualPredicate = keys.residual.flatMap { JoinPredicate.compile($0, leftCount: spec.leftTypes.count) }
            stage.watermarkCell = cell
            Self.attach(try build(left, context), to: stage, slot: 0)
            Self.attach(try build(right, context), to: stage, slot: 1)
            return stage
        case .windowJoin(let left, let right, let spec):
            let keys = JoinKeys.of(spec.condition, leftCount: spec.leftTypes.count, types: spec.leftTypes + spec.rightTypes)
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            let stage = WindowJoinStage(spec: spec, keys: keys, residual: keys.residual.map(compiler.compile))
            stage.watermarkCell = cell
            Self.attach(try build(left, context), to: stage, slot: 0)
            Self.attach(try build(right, context), to: stage, slot: 1)
            return stage
        case .windowRank(let input, let partitionKeys, let sortKeys, let limit, let windowEnd, let localZone):
            let outputTypes = try Self.outputTypes(of: input) + [SQLType(.bigint, nullable: false)]
            return try single(
                WindowRankStage(
                    partitionKeys: partitionKeys, sortKeys: sortKeys, limit: limit, windowEnd: windowEnd, localZone: localZone,
                    outputTypes: outputTypes), input)
        case .temporalJoin(let left, let right, let spec):
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            let stage = TemporalJoinStage(spec: spec, condition: compiler.compile(spec.condition))
            stage.conditionPredicate = JoinPredicate.compile(spec.condition, leftCount: spec.leftTypes.count)
            stage.watermarkCell = cell
            Self.attach(try build(left, context), to: stage, slot: 0)
            Self.attach(try build(right, context), to: stage, slot: 1)
            return stage
        case .join(let left, let right, let kind, let condition, let leftTypes, let rightTypes):
            let keys = JoinKeys.of(condition, leftCount: leftTypes.count, types: leftTypes + rightTypes)
            let (compiler, cell) = Self.watermarkReading(context.compiler)
            // Each side keeps the columns read above the join and by its condition.
            let needed = live?.union(condition?.referencedColumns ?? [])
            let leftLive = needed.map { Set($0.filter { $0 < leftTypes.count }) }
            let rightLive = needed.map { Set($0.filter { $0 >= leftTypes.count }.map { $0 - leftTypes.count }) }
            let stage = JoinStage(
                kind: kind, keys: keys, residual: keys.residual.map(compiler.compile), leftTypes: leftTypes,
                rightTypes: rightTypes, final: context.isSnapshot,
                leftLive: leftLive.map { set in leftTypes.indices.map(set.contains) },
                rightLive: rightLive.map { set in rightTypes.indices.map(set.contains) })
            stage.residualPredicate = keys.residual.flatMap { JoinPredicate.compile($0, leftCount: leftTypes.count) }
            stage.watermarkCell = cell
            Self.attach(try build(left, context, live: leftLive), to: stage, slot: 0)
            Self.attach(try build(right, context, live: rightLive), to: stage, slot: 1)
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
        case .values, .systemTable, .generated, .files, .kafkaScan: []
        case .filter(let input, _), .project(let input, _), .aggregate(let input, _, _), .sort(let input, _, _, _), .limit(let input, _, _),
            .watermark(let input, _, _, _), .window(let input, _), .windowAggregate(let input, _, _, _, _, _), .rank(let input, _, _, _, _),
            .overAggregate(let input, _), .changelogNormalize(let input, _, _), .windowRank(let input, _, _, _, _, _):
            scannedTables(input)
        case .union(let inputs): inputs.reduce(into: Set<String>()) { $0.formUnion(scannedTables($1)) }
        case .join(let l, let r, _, _, _, _), .intervalJoin(let l, let r, _), .temporalJoin(let l, let r, _), .windowJoin(let l, let r, _):
            scannedTables(l).union(scannedTables(r))
        }
    }

    /// Whether a plan ends by itself (every source it reads is bounded).
    static func isBounded(_ node: PlanNode) -> Bool {
        switch node {
        case .values, .systemTable, .files: true
        case .tableScan: false
        case .generated(let spec, _): spec.rowLimit != nil
        case .kafkaScan(let spec, _, _): spec.isSnapshot || spec.table.settings.bounded != .unbounded
        case .filter(let input, _), .project(let input, _), .aggregate(let input, _, _), .sort(let input, _, _, _), .limit(let input, _, _),
            .watermark(let input, _, _, _), .window(let input, _), .windowAggregate(let input, _, _, _, _, _), .rank(let input, _, _, _, _),
            .overAggregate(let input, _), .changelogNormalize(let input, _, _), .windowRank(let input, _, _, _, _, _):
            isBounded(input)
        case .union(let inputs): inputs.allSatisfy(isBounded)
        case .join(let l, let r, _, _, _, _), .intervalJoin(let l, let r, _), .temporalJoin(let l, let r, _), .windowJoin(let l, let r, _):
            isBounded(l) && isBounded(r)
        }
    }

    /// The types of the rows a plan node produces.
    static func outputTypes(of node: PlanNode) throws(SQLError) -> [SQLType] {
        switch node {
        case .values(_, let types), .tableScan(_, _, let types), .kafkaScan(_, _, let types): return types
        case .generated(let spec, _): return spec.types
        case .files(let spec, _): return spec.fields.map(\.type)
        case .systemTable(let table, _): return SystemTables.types(table)
        case .filter(let input, _), .sort(let input, _, _, _), .limit(let input, _, _), .watermark(let input, _, _, _),
            .changelogNormalize(let input, _, _):
            return try outputTypes(of: input)
        case .window(let input, let spec):
            return try outputTypes(of: input) + WindowSpec.addedTypes(isLocal: spec.localZone != nil)
        case .windowAggregate(let input, let keyCount, let aggregates, _, _, _):
            return Array(try outputTypes(of: input).prefix(keyCount)) + aggregates.map(\.type)
        case .rank(let input, _, _, _, _), .windowRank(let input, _, _, _, _, _):
            return try outputTypes(of: input) + [SQLType(.bigint, nullable: false)]
        case .windowJoin(_, _, let spec):
            return spec.leftTypes.map { $0.withNullable($0.nullable || spec.kind == .right || spec.kind == .full) }
                + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left || spec.kind == .full) }
        case .overAggregate(let input, let window):
            return try outputTypes(of: input) + window.aggregates.map(\.type)
        case .project(_, let expressions): return expressions.map(\.type)
        case .aggregate(let input, let keyCount, let aggregates): return Array(try outputTypes(of: input).prefix(keyCount)) + aggregates.map(\.type)
        case .union(let inputs): return try inputs.first.map(outputTypes(of:)) ?? []
        case .join(_, _, _, _, let l, let r): return l + r
        case .temporalJoin(_, _, let spec):
            return spec.leftTypes + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left) }
        case .intervalJoin(_, _, let spec):
            return spec.leftTypes.map { $0.withNullable($0.nullable || spec.kind == .right || spec.kind == .full) }
                + spec.rightTypes.map { $0.withNullable($0.nullable || spec.kind == .left || spec.kind == .full) }
        }
    }
}
