// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Event time: watermark strategies, window TVFs and window aggregations.
extension QueryAnalyzer {
    /// A table's `WATERMARK FOR … AS expr`, bound over its columns.
    func watermarkStrategy(_ text: String, over fields: [PlanField], table: String) throws(SQLError) -> BoundExpression {
        let parsed: Expression
        do { parsed = try Parser.parseExpression(text) } catch { throw SQLError("Invalid watermark strategy of table \(table): \(error)") }
        let bound = try bind(parsed, Scope(fields: fields))
        try Self.requireWatermarkType(bound.type)
        return bound
    }

    static func requireWatermarkType(_ type: SQLType) throws(SQLError) {
        switch type.kind {
        case .timestamp(let p) where p <= 3: return
        case .timestampLTZ(let p) where p <= 3: return
        default:
            throw SQLError(
                "Invalid data type of time field for watermark definition. The field must be of type TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the watermark expression type is \(type.sql)"
            )
        }
    }

    /// `TUMBLE(TABLE t, DESCRIPTOR(ts), size [, offset])`, `HOP(TABLE t, DESCRIPTOR(ts), slide, size [, offset])`,
    /// `CUMULATE(TABLE t, DESCRIPTOR(ts), step, size [, offset])`, positional or with named parameters
    /// (`DATA =>`, `TIMECOL =>`, `SIZE =>`, `SLIDE =>`, `STEP =>`, `OFFSET =>`).
    func windowFunction(_ call: Expression) throws(SQLError) -> QueryPlan {
        guard case .function(let name, let arguments, _, nil) = call else { throw SQLError("TABLE(…) needs a table function call.") }
        let function = name.name.uppercased()
        guard case .windowTable(let parameters)? = library.registry[function]?.binding else {
            throw SQLError("No match found for function signature \(name.name)(). Floe supports the window table functions TUMBLE, HOP and CUMULATE.")
        }
        var given: [String: Expression] = [:]
        for (position, argument) in arguments.enumerated() {
            if case .namedArgument(let parameter, let value) = argument {
                let key = parameter.uppercased()
                guard parameters.contains(key) else {
                    throw SQLError("\(function) has no parameter named '\(parameter)'; its parameters are \(parameters.joined(separator: ", ")).")
                }
                given[key] = value
            } else {
                guard position < parameters.count else { throw SQLError("Too many arguments for \(function): at most \(parameters.count).") }
                given[parameters[position]] = argument
            }
        }
        for required in parameters.dropLast() where given[required] == nil {
            throw SQLError("Missing argument \(required) of \(function)(\(parameters.dropLast().joined(separator: ", "))[, OFFSET]).")
        }
        guard case .tableArgument(let tableName) = given["DATA"]! else {
            throw SQLError("The first argument of \(function) must be a table: TABLE name.")
        }
        guard case .descriptor(let columns) = given["TIMECOL"]!, columns.count == 1 else {
            throw SQLError("The time column of \(function) must be given as DESCRIPTOR(column).")
        }
        var input = try tableReference(.named(tableName, alias: nil, asOf: nil))
        for i in input.fields.indices { input.fields[i].qualifier = nil }
        guard let timeColumn = input.fields.firstIndex(where: { $0.name == columns[0] }) else {
            throw SQLError(
                "Unknown column '\(columns[0])' in the DESCRIPTOR of \(function); the table has \(input.fields.map(\.name).joined(separator: ", ")).")
        }
        let time = input.fields[timeColumn]
        let isLocal: Bool
        switch time.type.kind {
        case .timestamp: isLocal = false
        case .timestampLTZ: isLocal = true
        default:
            throw SQLError("The window function requires the timecol is a time attribute type, but is \(time.type.sql).")
        }
        if !isSnapshot && !input.isBounded && !time.isRowtime {
            throw SQLError(
                "The window function requires the timecol is a time attribute type, but is \(time.type.sql). Declare a WATERMARK on '\(time.name)' in the table."
            )
        }
        guard input.isAppendOnly else {
            throw SQLError("\(function) window table function requires an insert-only input; the input of this window produces updates.")
        }
        func length(_ parameter: String) throws(SQLError) -> Int64? {
            guard let expression = given[parameter] else { return nil }
            let bound = try bind(expression, Scope(fields: []))
            guard bound.type.kind == .intervalDayTime, case .int(let micros)? = bound.constant else {
                throw SQLError("The \(parameter) of \(function) must be a constant INTERVAL of days, hours, minutes or seconds.")
            }
            return micros
        }
        let kind: WindowKind
        switch function {
        case "TUMBLE": kind = .tumble(size: try length("SIZE")!)
        case "HOP": kind = .hop(slide: try length("SLIDE")!, size: try length("SIZE")!)
        default: kind = .cumulate(step: try length("STEP")!, size: try length("SIZE")!)
        }
        switch kind {
        case .tumble(let size) where size <= 0, .hop(_, let size) where size <= 0, .cumulate(_, let size) where size <= 0:
            throw SQLError("\(function) window requires a positive size.")
        case .hop(let slide, _) where slide <= 0:
            throw SQLError("HOP window requires a positive slide.")
        case .cumulate(let step, let size):
            guard step > 0 else { throw SQLError("CUMULATE window requires a positive step.") }
            guard size % step == 0 else {
                throw SQLError(
                    "CUMULATE table function based aggregate requires maxSize must be an integral multiple of step, but got maxSize \(size / 1000) ms and step \(step / 1000) ms"
                )
            }
        default: break
        }
        let spec = WindowSpec(
            kind: kind, offset: try length("OFFSET") ?? 0, timeColumn: timeColumn,
            localZone: isLocal ? sessionZone : nil)
        var fields = input.fields.map { field in
            var plain = field
            // After the TVF the time column is a plain timestamp; `window_time` is the time attribute.
            plain.isRowtime = false
            plain.windowRole = nil
            return plain
        }
        let added = WindowSpec.addedTypes(isLocal: isLocal)
        fields.append(PlanField(name: "window_start", type: added[0], qualifier: nil, windowRole: .start))
        fields.append(PlanField(name: "window_end", type: added[1], qualifier: nil, windowRole: .end))
        fields.append(PlanField(name: "window_time", type: added[2], qualifier: nil, isRowtime: time.isRowtime, windowRole: .time))
        return QueryPlan(node: .window(input.node, spec), fields: fields, isBounded: input.isBounded, isAppendOnly: true, upsertKeys: nil)
    }

    /// When a GROUP BY over a window TVF's output groups by `window_start` and `window_end` on a time attribute in
    /// streaming mode, the position of the `window_end` key (and the zone of LTZ windows): a window aggregation.
    /// The session's time zone (`sql.local-time-zone`), in which LTZ windows are aligned.
    var sessionZone: String { Temporal.zone(resolver.session.properties["sql.local-time-zone"]).identifier }

    func windowAggregation(_ aggregation: AggregationContext, input: QueryPlan) throws(SQLError) -> (startKey: Int, endKey: Int, localZone: String?)?
    {
        guard !isSnapshot else { return nil }
        var startKey: Int?
        var endKey: Int?
        for (position, key) in aggregation.boundKeys.enumerated() {
            guard let column = key.columnIndex else { continue }
            switch input.fields[column].windowRole {
            case .start: startKey = position
            case .end: endKey = position
            default: break
            }
        }
        guard let startKey, let endKey else { return nil }
        // Windowed rows keep their window columns' roles through projections, window aggregations (which need not
        // select `window_time`: a cascaded window aggregation groups on the bounds alone) and window ranks and joins;
        // a `window_time` that lost its time attribute means the rows are no longer in watermark order.
        let windowTime = input.fields.first(where: { $0.windowRole == .time })
        if let windowTime, !windowTime.isRowtime { return nil }
        guard input.isAppendOnly else { throw SQLError("Window aggregation requires an insert-only input.") }
        if let windowTime, case .timestampLTZ = windowTime.type.kind {
            return (startKey, endKey, sessionZone)
        }
        return (startKey, endKey, nil)
    }
}
