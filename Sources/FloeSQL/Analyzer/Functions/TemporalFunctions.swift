// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Date and time functions: the current time, parsing and formatting, fields, arithmetic in calendar units, and the
/// watermark.
enum TemporalFunctions {
    static let definitions: [FunctionDefinition] = [
        // MARK: Now
        FunctionDefinition(
            name: "CURRENT_TIMESTAMP", signature: "",
            binding: .scalar { call throws(SQLError) in
                try now(call)
            }, isNiladic: true, isVolatile: true, examples: [.init("CURRENT_TIMESTAMP > TO_TIMESTAMP_LTZ(0, 3)", "TRUE")]),
        FunctionDefinition(
            name: "NOW", signature: "",
            binding: .scalar { call throws(SQLError) in
                try now(call)
            }, isVolatile: true, examples: [.init("NOW() > TO_TIMESTAMP_LTZ(0, 3)", "TRUE")]),
        FunctionDefinition(
            name: "LOCALTIMESTAMP", signature: "",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(0...0)
                let zone = call.zone
                return call.function(SQLType(.timestamp(3), nullable: false)) { _ throws(SQLError) in
                    .int(Temporal.truncate(Temporal.local(Temporal.nowMicros(), in: zone), precision: 3))
                }
            }, isNiladic: true, isVolatile: true, examples: [.init("LOCALTIMESTAMP > TIMESTAMP '2000-01-01 00:00:00'", "TRUE")]),
        FunctionDefinition(
            name: "CURRENT_DATE", signature: "",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(0...0)
                let zone = call.zone
                return call.function(SQLType(.date, nullable: false)) { _ throws(SQLError) in
                    .int(Temporal.floorDiv(Temporal.local(Temporal.nowMicros(), in: zone), Temporal.microsPerDay))
                }
            }, isNiladic: true, isVolatile: true, examples: [.init("CURRENT_DATE > DATE '2000-01-01'", "TRUE")]),
        FunctionDefinition(
            name: "CURRENT_TIME", signature: "",
            binding: .scalar { call throws(SQLError) in
                try timeOfDay(call)
            }, isNiladic: true, isVolatile: true, examples: [.init("CURRENT_TIME IS NOT NULL", "TRUE")]),
        FunctionDefinition(
            name: "LOCALTIME", signature: "",
            binding: .scalar { call throws(SQLError) in
                try timeOfDay(call)
            }, isNiladic: true, isVolatile: true, examples: [.init("LOCALTIME IS NOT NULL", "TRUE")]),
        // UNIX_TIMESTAMP() is the current epoch second; UNIX_TIMESTAMP(text[, format]) parses text in the session's
        // zone (Long.MIN_VALUE when it does not parse, as Flink).
        FunctionDefinition(
            name: "UNIX_TIMESTAMP", signature: "[<CHARACTER>[, <CHARACTER>]]",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(0...2)
                let zone = call.zone
                return call.function(SQLType(.bigint, nullable: false)) { v throws(SQLError) in
                    guard let text = v.first?.string else { return .int(Temporal.floorDiv(Temporal.nowMicros(), Temporal.microsPerSecond)) }
                    let format = v.count == 2 ? (v[1].string ?? "") : "yyyy-MM-dd HH:mm:ss"
                    guard let local = DateFormatting.parse(text, format: format) else { return .int(Int64.min) }
                    return .int(Temporal.floorDiv(Temporal.instant(local, in: zone), Temporal.microsPerSecond))
                }
            }, isVolatile: true,
            examples: [
                .init("UNIX_TIMESTAMP() > 0", "TRUE"),
                .init("UNIX_TIMESTAMP('1970-01-02 00:00:00') - UNIX_TIMESTAMP('1970-01-01 00:00:00')", "86400"),
            ]),

        // MARK: Parsing and formatting
        FunctionDefinition(
            name: "FROM_UNIXTIME", signature: "<NUMERIC>[, <CHARACTER>]",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...2)
                let zone = call.zone
                return call.function(SQLType.string) { v throws(SQLError) in
                    let local = Temporal.local((v[0].int ?? 0) * Temporal.microsPerSecond, in: zone)
                    return .string(DateFormatting.format(local, pattern: v.count == 2 ? (v[1].string ?? "") : "yyyy-MM-dd HH:mm:ss"))
                }
            }, examples: [.init("CHAR_LENGTH(FROM_UNIXTIME(0)), FROM_UNIXTIME(0, 'ss')", "19, 00")]),
        FunctionDefinition(
            name: "DATE_FORMAT", signature: "<TIMESTAMP>, <CHARACTER>",
            binding: .scalar { call throws(SQLError) in
                try dateFormat(call)
            }, isSpelledWhole: true,
            examples: [
                .init("DATE_FORMAT(TIMESTAMP '2024-03-05 14:07:09', 'yyyy/MM/dd HH:mm')", "2024/03/05 14:07"),
                .init("DATE_FORMAT('2024-03-05 14:07:09', 'dd.MM.yyyy')", "05.03.2024"),
            ]),
        FunctionDefinition(
            name: "TO_TIMESTAMP", signature: "<CHARACTER>[, <CHARACTER>]",
            binding: .scalar { call throws(SQLError) in
                try parse(call, SQLType(.timestamp(3))) { local, _ in .int(Temporal.truncate(local, precision: 3)) }
            },
            examples: [
                .init("TO_TIMESTAMP('2024-03-05 14:07:09.123')", "2024-03-05 14:07:09.123"),
                .init("TO_TIMESTAMP('05/03/2024', 'dd/MM/yyyy'), TO_TIMESTAMP('nope')", "2024-03-05 00:00:00.000, NULL"),
            ]),
        FunctionDefinition(
            name: "TO_TIMESTAMP_LTZ", signature: "<CHARACTER>[, <CHARACTER>]",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...2)
                if call.arguments[0].type.isNumeric {
                    // TO_TIMESTAMP_LTZ(epoch[, precision]): seconds for precision 0, milliseconds otherwise.
                    let precision = Int(call.arguments.count == 2 ? (call.arguments[1].constant?.int ?? 3) : 3)
                    let epoch = call.arguments[0].casted(to: SQLType(.bigint, nullable: call.arguments[0].type.nullable))
                    return call.function(SQLType(.timestampLTZ(3)), arguments: [epoch]) { v throws(SQLError) in
                        let raw = v[0].int ?? 0
                        return .int(precision == 0 ? raw * Temporal.microsPerSecond : raw * 1000)
                    }
                }
                return try parse(call, SQLType(.timestampLTZ(3))) { local, zone in .int(Temporal.instant(local, in: zone)) }
            },
            examples: [
                .init("TO_TIMESTAMP_LTZ(1, 0) = TO_TIMESTAMP_LTZ(1000, 3)", "TRUE"),
                .init("TO_TIMESTAMP_LTZ('1970-01-01 00:00:00') = TO_TIMESTAMP_LTZ('1970-01-01 00:00:01') - INTERVAL '1' SECOND", "TRUE"),
            ]),
        FunctionDefinition(
            name: "TO_DATE", signature: "<CHARACTER>[, <CHARACTER>]",
            binding: .scalar { call throws(SQLError) in
                try parse(call, SQLType(.date), dateOnly: true) { local, _ in .int(Temporal.floorDiv(local, Temporal.microsPerDay)) }
            }, examples: [.init("TO_DATE('2024-03-05'), TO_DATE('05032024', 'ddMMyyyy')", "2024-03-05, 2024-03-05")]),

        // MARK: Fields
        field("YEAR", unit: "YEAR", example: "2024"),
        field("QUARTER", unit: "QUARTER", example: "1"),
        field("MONTH", unit: "MONTH", example: "3"),
        field("WEEK", unit: "WEEK", example: "10"),
        field("DAYOFYEAR", unit: "DOY", example: "65"),
        field("DAYOFMONTH", unit: "DAY", example: "5"),
        field("DAYOFWEEK", unit: "DOW", example: "3"),
        field("HOUR", unit: "HOUR", example: "14"),
        field("MINUTE", unit: "MINUTE", example: "7"),
        field("SECOND", unit: "SECOND", example: "9"),
        // EXTRACT(unit FROM value) has a grammar of its own; the parser gives the unit apart.
        FunctionDefinition(
            name: "EXTRACT", signature: "<DATETIME_INTERVAL_SYMBOL> FROM <DATETIME>",
            binding: .scalar { call throws(SQLError) in
                guard let unit = call.unit, call.arguments.count == 1 else { throw call.mismatch() }
                return try extract(unit: unit, from: call.arguments[0], zone: call.zone)
            }, examples: [.init("EXTRACT(DOY FROM DATE '2024-03-05'), EXTRACT(EPOCH FROM TIMESTAMP '1970-01-02 00:00:00')", "65, 86400")]),

        // MARK: Arithmetic
        FunctionDefinition(
            name: "TIMESTAMPADD", signature: "<TIME_UNIT>, <INTEGER>, <DATETIME>",
            binding: .scalar { call throws(SQLError) in
                guard let unit = call.unit, call.arguments.count == 2, call.arguments[0].type.isInteger, call.arguments[1].type.isTemporal else {
                    throw call.mismatch()
                }
                let type = call.arguments[1].type
                return call.function(type) { v throws(SQLError) in .int(add(unit: unit, amount: v[0].int ?? 0, to: v[1].int ?? 0, type: type)) }
            }, unitArgument: 0, examples: [.init("TIMESTAMPADD(MONTH, 1, DATE '2024-01-31')", "2024-02-29")]),
        FunctionDefinition(
            name: "TIMESTAMPDIFF", signature: "<TIME_UNIT>, <DATETIME>, <DATETIME>",
            binding: .scalar { call throws(SQLError) in
                guard let unit = call.unit, call.arguments.count == 2, call.arguments.allSatisfy(\.type.isTemporal) else { throw call.mismatch() }
                let (startType, endType) = (call.arguments[0].type, call.arguments[1].type)
                return call.function(SQLType(.integer, nullable: false)) { v throws(SQLError) in
                    .int(difference(unit: unit, from: micros(v[0].int ?? 0, startType), to: micros(v[1].int ?? 0, endType)))
                }
            }, unitArgument: 0, examples: [.init("TIMESTAMPDIFF(DAY, DATE '2024-01-01', DATE '2024-03-01')", "60")]),

        // MARK: Watermarks
        // CURRENT_WATERMARK(rowtime): the watermark of the operator evaluating it, NULL before the first one; of the
        // rowtime's type at millisecond precision. Its kernel reads the stage's watermark cell.
        FunctionDefinition(
            name: CurrentWatermark.name, signature: "<TIMESTAMP>",
            binding: .scalar { call throws(SQLError) in
                try currentWatermark(call)
            }, isVolatile: true,
            examples: [
                .init(
                    setup: [
                        "CREATE TABLE t (v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)",
                        "INSERT INTO t VALUES (1, TIMESTAMP '2024-01-01 10:00:05')", "INSERT INTO t VALUES (2, TIMESTAMP '2024-01-01 10:00:09')",
                    ],
                    query: "SELECT v, CURRENT_WATERMARK(ts) FROM t", "1, NULL; 2, 2024-01-01 10:00:05.000")
            ]),
    ]

    // MARK: Bindings

    private static func now(_ call: ScalarCall) throws(SQLError) -> BoundExpression {
        try call.expectCount(0...0)
        return call.function(SQLType(.timestampLTZ(3), nullable: false)) { _ throws(SQLError) in
            .int(Temporal.truncate(Temporal.nowMicros(), precision: 3))
        }
    }

    private static func timeOfDay(_ call: ScalarCall) throws(SQLError) -> BoundExpression {
        try call.expectCount(0...0)
        let zone = call.zone
        return call.function(SQLType(.time(0), nullable: false)) { _ throws(SQLError) in
            .int(Temporal.truncate(Temporal.floorMod(Temporal.local(Temporal.nowMicros(), in: zone), Temporal.microsPerDay), precision: 0))
        }
    }

    /// YEAR(d), MONTH(d), …: EXTRACT of one unit.
    private static func field(_ name: String, unit: String, example: String) -> FunctionDefinition {
        FunctionDefinition(
            name: name, signature: "<DATETIME>",
            binding: .scalar { call throws(SQLError) in
                try call.expectCount(1...1)
                return try extract(unit: unit, from: call.arguments[0], zone: call.zone)
            }, examples: [.init("\(name)(TIMESTAMP '2024-03-05 14:07:09')", example), .init("\(name)(CAST(NULL AS TIMESTAMP(3)))", "NULL")])
    }

    /// TO_TIMESTAMP, TO_TIMESTAMP_LTZ, TO_DATE of text, in the default format or a given one; NULL when it does not
    /// parse. `convert` turns the parsed local time (microseconds) into the result.
    private static func parse(
        _ call: ScalarCall, _ type: SQLType, dateOnly: Bool = false,
        _ convert: @escaping @Sendable (Int64, TimeZone) -> Value
    ) throws(SQLError) -> BoundExpression {
        try call.expectCount(1...2)
        try call.requireCharacter(0)
        let zone = call.zone
        return call.function(type.withNullable(true)) { v throws(SQLError) in
            let text = v[0].string ?? ""
            let parsed: Int64?
            if v.count == 2 {
                parsed = DateFormatting.parse(text, format: v[1].string ?? "")
            } else {
                parsed = dateOnly ? Temporal.parseDate(text).map { $0 * Temporal.microsPerDay } : Temporal.parseTimestamp(text)
            }
            guard let local = parsed else { return .null }
            return convert(local, zone)
        }
    }

    /// DATE_FORMAT of a date, time or text. With a constant pattern over a TIMESTAMP (the usual case) it compiles to
    /// a kernel that formats once per span of the pattern's resolution (consecutive rows of a stream mostly fall in
    /// the same day or minute) into a typed string column; otherwise a row at a time.
    private static func dateFormat(_ call: ScalarCall) throws(SQLError) -> BoundExpression {
        try call.expectCount(2...2)
        let sourceType = call.arguments[0].type
        guard sourceType.isTemporal || sourceType.isCharacter else { throw call.mismatch() }
        // A constant pattern is split into its parts once, not once per row.
        let constantPattern = call.arguments[1].constant?.string.map(DateFormatting.Pattern.init)
        if let constantPattern, sourceType.kind.isTimestampWithoutZone {
            return call.kernel(SQLType.string) { arguments, _ in formatKernel(arguments[0], pattern: constantPattern) }
        }
        let zone = call.zone
        return call.function(SQLType.string) { v throws(SQLError) in
            let micros: Int64
            switch (sourceType.kind, v[0]) {
            case (.timestampLTZ, .int(let instant)): micros = Temporal.local(instant, in: zone)
            case (.date, .int(let days)): micros = days * Temporal.microsPerDay
            case (_, .int(let value)): micros = value
            case (_, .string(let text)):
                guard let parsed = Temporal.parseTimestamp(text) else { return .null }
                micros = parsed
            default: return .null
            }
            return .string(DateFormatting.format(micros, pattern: constantPattern ?? DateFormatting.Pattern(v[1].string ?? "")))
        }
    }

    /// The DATE_FORMAT kernel over a TIMESTAMP column.
    private static func formatKernel(_ timestamps: @escaping CompiledExpression, pattern: DateFormatting.Pattern) -> CompiledExpression {
        { batch throws(SQLError) in
            let column = try timestamps(batch)
            let typed: [Int64]? = if case .int(let micros) = column.data { micros } else { nil }
            var appender = ColumnAppender(.string, capacity: batch.count)
            var lastSpan: Int64?
            var lastText = ""
            for i in 0..<batch.count {
                guard let micros = typed.map({ column.isNull(i) ? nil : $0[i] }) ?? column.value(at: i).int else {
                    appender.appendNull()
                    continue
                }
                let span = Temporal.floorDiv(micros, pattern.resolution)
                if span != lastSpan {
                    lastText = DateFormatting.format(micros, pattern: pattern)
                    lastSpan = span
                }
                appender.appendString(lastText)
            }
            return appender.column()
        }
    }

    private static func currentWatermark(_ call: ScalarCall) throws(SQLError) -> BoundExpression {
        guard call.raw.count == 1, case .column(let name) = call.raw[0] else {
            throw SQLError("Invalid number of arguments to function 'CURRENT_WATERMARK'. Was expecting 1 arguments: a rowtime attribute")
        }
        guard let field = call.argumentFields.first ?? nil, field.isRowtime else {
            throw SQLError(
                "Invalid argument type: CURRENT_WATERMARK expects a rowtime attribute, but '\(name.parts.joined(separator: "."))' is not one (declare WATERMARK FOR it, or use $rowtime)."
            )
        }
        let type: SQLType
        if case .timestampLTZ = field.type.kind {
            type = SQLType(.timestampLTZ(3), nullable: true)
        } else {
            type = SQLType(.timestamp(3), nullable: true)
        }
        // No arguments: the value is the stage's, not the row's, and the column is not read.
        return call.kernel(type, arguments: [], strict: false) { _, context in
            let physical = type.physical
            let cell = context.watermark
            return { batch in
                guard let value = cell?.value, value != .min else { return Column.constant(.null, count: batch.count, physical: physical) }
                return Column.constant(.int(value), count: batch.count, physical: physical)
            }
        }
    }

    // MARK: Implementations

    /// Microseconds on a common axis for DATE and TIMESTAMP values.
    static func micros(_ value: Int64, _ type: SQLType) -> Int64 { type.kind == .date ? value * Temporal.microsPerDay : value }

    static func add(unit: String, amount: Int64, to value: Int64, type: SQLType) -> Int64 {
        let isDate = type.kind == .date
        let micros = isDate ? value * Temporal.microsPerDay : value
        var result: Int64
        switch unit {
        case "YEAR", "QUARTER", "MONTH":
            let months = amount * (unit == "YEAR" ? 12 : unit == "QUARTER" ? 3 : 1)
            let day = Temporal.floorDiv(micros, Temporal.microsPerDay)
            let time = Temporal.floorMod(micros, Temporal.microsPerDay)
            let date = Temporal.civil(day)
            let total = date.year * 12 + (date.month - 1) + months
            let year = Temporal.floorDiv(total, 12)
            let month = Temporal.floorMod(total, 12) + 1
            let dayOfMonth = min(date.day, Temporal.daysInMonth(year, month))
            result = Temporal.days(Temporal.CivilDate(year: year, month: month, day: dayOfMonth)) * Temporal.microsPerDay + time
        case "WEEK": result = micros + amount * 7 * Temporal.microsPerDay
        case "DAY": result = micros + amount * Temporal.microsPerDay
        case "HOUR": result = micros + amount * 3_600_000_000
        case "MINUTE": result = micros + amount * 60_000_000
        case "SECOND": result = micros + amount * Temporal.microsPerSecond
        case "MILLISECOND": result = micros + amount * 1000
        default: result = micros + amount
        }
        return isDate ? Temporal.floorDiv(result, Temporal.microsPerDay) : result
    }

    static func difference(unit: String, from a: Int64, to b: Int64) -> Int64 {
        switch unit {
        case "YEAR", "QUARTER", "MONTH":
            let (start, end) = (
                Temporal.civil(Temporal.floorDiv(a, Temporal.microsPerDay)), Temporal.civil(Temporal.floorDiv(b, Temporal.microsPerDay))
            )
            var months = (end.year - start.year) * 12 + (end.month - start.month)
            let startRest = (start.day, Temporal.floorMod(a, Temporal.microsPerDay))
            let endRest = (end.day, Temporal.floorMod(b, Temporal.microsPerDay))
            if months > 0, endRest < startRest { months -= 1 }
            if months < 0, endRest > startRest { months += 1 }
            return unit == "YEAR" ? months / 12 : unit == "QUARTER" ? months / 3 : months
        case "WEEK": return (b - a) / (7 * Temporal.microsPerDay)
        case "DAY": return (b - a) / Temporal.microsPerDay
        case "HOUR": return (b - a) / 3_600_000_000
        case "MINUTE": return (b - a) / 60_000_000
        case "SECOND": return (b - a) / Temporal.microsPerSecond
        case "MILLISECOND": return (b - a) / 1000
        default: return b - a
        }
    }

    /// `FLOOR(t TO unit)` / `CEIL(t TO unit)`.
    static func floor(_ isFloor: Bool, _ operand: BoundExpression, unit: String, name: String, zone: TimeZone) throws(SQLError) -> BoundExpression {
        guard operand.type.isTemporal else { throw FunctionLibrary.mismatch(name, [operand], expected: "<DATETIME> TO <TIME_UNIT>") }
        let type = operand.type
        return FunctionLibrary.function(name, [operand], type) { v throws(SQLError) in
            let raw = v[0].int ?? 0
            var micros = Self.micros(raw, type)
            if case .timestampLTZ = type.kind { micros = Temporal.local(raw, in: zone) }
            let floored: Int64
            switch unit {
            case "YEAR", "QUARTER", "MONTH":
                let date = Temporal.civil(Temporal.floorDiv(micros, Temporal.microsPerDay))
                let month = unit == "YEAR" ? 1 : unit == "QUARTER" ? (date.month - 1) / 3 * 3 + 1 : date.month
                floored = Temporal.days(Temporal.CivilDate(year: date.year, month: month, day: 1)) * Temporal.microsPerDay
            case "WEEK":
                let day = Temporal.floorDiv(micros, Temporal.microsPerDay)
                floored = (day - Temporal.floorMod(day + 4, 7)) * Temporal.microsPerDay  // weeks start on Sunday
            default:
                let size: Int64 =
                    switch unit {
                    case "DAY": Temporal.microsPerDay
                    case "HOUR": 3_600_000_000
                    case "MINUTE": 60_000_000
                    case "SECOND": Temporal.microsPerSecond
                    default: 1000
                    }
                floored = Temporal.floorDiv(micros, size) * size
            }
            var result = floored
            if !isFloor, floored != micros { result = add(unit: unit, amount: 1, to: floored, type: SQLType(.timestamp(6))) }
            if case .timestampLTZ = type.kind { result = Temporal.instant(result, in: zone) }
            return .int(type.kind == .date ? Temporal.floorDiv(result, Temporal.microsPerDay) : result)
        }
    }

    /// `EXTRACT(unit FROM value)`.
    static func extract(unit: String, from operand: BoundExpression, zone: TimeZone) throws(SQLError) -> BoundExpression {
        let type = operand.type
        guard type.isTemporal || type.isNull else {
            throw FunctionLibrary.mismatch("EXTRACT", [operand], expected: "<DATETIME_INTERVAL_SYMBOL> FROM <DATETIME>")
        }
        return FunctionLibrary.function("EXTRACT", [operand], SQLType(.bigint, nullable: false)) { v throws(SQLError) in
            let raw = v[0].int ?? 0
            var micros: Int64
            switch type.kind {
            case .date: micros = raw * Temporal.microsPerDay
            case .timestampLTZ: micros = Temporal.local(raw, in: zone)
            default: micros = raw
            }
            let timeOfDay = Temporal.floorMod(micros, Temporal.microsPerDay)
            let day = Temporal.floorDiv(micros, Temporal.microsPerDay)
            let date = Temporal.civil(day)
            switch unit {
            case "YEAR": return .int(date.year)
            case "MONTH": return .int(date.month)
            case "DAY": return .int(date.day)
            case "QUARTER": return .int((date.month - 1) / 3 + 1)
            case "HOUR": return .int(timeOfDay / 3_600_000_000)
            case "MINUTE": return .int(timeOfDay / 60_000_000 % 60)
            case "SECOND": return .int(timeOfDay / Temporal.microsPerSecond % 60)
            case "MILLISECOND": return .int(timeOfDay / 1000 % 60_000)
            case "MICROSECOND": return .int(timeOfDay % 60_000_000)
            case "DOW": return .int(Temporal.floorMod(day + 4, 7) + 1)
            case "ISODOW": return .int(Temporal.floorMod(day + 3, 7) + 1)
            case "DOY": return .int(day - Temporal.days(Temporal.CivilDate(year: date.year, month: 1, day: 1)) + 1)
            case "WEEK": return .int(isoWeek(day))
            case "EPOCH": return .int(Temporal.floorDiv(micros, Temporal.microsPerSecond))
            case "DECADE": return .int(Temporal.floorDiv(date.year, 10))
            case "CENTURY": return .int(date.year > 0 ? (date.year + 99) / 100 : -((-date.year + 99) / 100))
            case "MILLENNIUM": return .int(date.year > 0 ? (date.year + 999) / 1000 : -((-date.year + 999) / 1000))
            default: throw SQLError("EXTRACT does not support the unit \(unit).")
            }
        }
    }

    /// The ISO-8601 week number of a day.
    static func isoWeek(_ day: Int64) -> Int64 {
        let weekday = Temporal.floorMod(day + 3, 7)  // Monday = 0
        let thursday = day - weekday + 3
        let year = Temporal.civil(thursday).year
        let firstDay = Temporal.days(Temporal.CivilDate(year: year, month: 1, day: 1))
        return (thursday - firstDay) / 7 + 1
    }
}

extension SQLType.Kind {
    /// TIMESTAMP (not TIMESTAMP_LTZ): wall-clock microseconds, formatted without a time zone.
    var isTimestampWithoutZone: Bool { if case .timestamp = self { true } else { false } }
}
