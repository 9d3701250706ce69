// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Value conversions with Flink's CAST semantics.
struct Caster: Sendable {
    var renderer: ValueRenderer

    static func pow10(_ n: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<max(0, n) { result *= 10 }
        return result
    }

    /// Rescales an unscaled decimal with HALF_UP rounding.
    static func rescale(_ unscaled: Int128, from: Int, to: Int) -> Int128 {
        if to >= from { return unscaled * pow10(to - from) }
        let divisor = pow10(from - to)
        let (quotient, remainder) = unscaled.quotientAndRemainder(dividingBy: divisor)
        if remainder.magnitude * 2 >= divisor.magnitude { return quotient + (unscaled < 0 ? -1 : 1) }
        return quotient
    }

    /// Whether an unscaled value fits DECIMAL(precision, _).
    static func fits(_ unscaled: Int128, precision: Int) -> Bool { unscaled.magnitude < pow10(precision).magnitude }

    /// Parses decimal text into an unscaled value at `scale`.
    static func parseDecimal(_ text: String, scale: Int) -> Int128? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.hasPrefix("-") || s.hasPrefix("+") {
            negative = s.hasPrefix("-")
            s = s.dropFirst()
        }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let parsed = Int(s[s.index(after: e)...]) else { return nil }
            exponent = parsed
            s = s[..<e]
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !s.isEmpty, s != "." else { return nil }
        let integerDigits = parts[0]
        let fractionDigits = parts.count == 2 ? parts[1] : ""
        guard (integerDigits + fractionDigits).allSatisfy({ $0.isASCII && $0.isNumber }), integerDigits.count + fractionDigits.count <= 76
        else { return nil }
        var unscaled: Int128 = 0
        for digit in integerDigits + fractionDigits {
            let (product, overflow) = unscaled.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            unscaled = product + Int128(digit.wholeNumberValue!)
        }
        let value =
            rescale(unscaled, from: fractionDigits.count - exponent < 0 ? 0 : fractionDigits.count - exponent, to: scale)
            * (fractionDigits.count - exponent < 0 ? pow10(exponent - fractionDigits.count) : 1)
        return negative ? -value : value
    }

    /// The Double value of an unscaled decimal.
    static func double(_ unscaled: Int128, scale: Int) -> Double { Double(unscaled) / Double(pow10(scale)) }

    /// Converts a non-null value of `from` to `to`.
    /// - Throws: ``SQLError`` when the value does not convert (e.g. `CAST('abc' AS INT)`).
    func cast(_ value: Value, from: SQLType, to: SQLType) throws(SQLError) -> Value {
        if value.isNull { return .null }
        if from.kind == to.kind { return value }
        func failure() -> SQLError {
            SQLError.runtime("Cannot cast '\(renderer.string(value, from))' of type \(from.kindSQL) to \(to.kindSQL).")
        }
        switch to.kind {
        case .char(let n), .varchar(let n):
            var text = renderer.string(value, from)
            if from.isCharacter, case .char = from.kind { text = String(text.reversed().drop { $0 == " " }.reversed()) }
            if text.count > n { text = String(text.prefix(n)) }
            if case .char = to.kind, text.count < n { text += String(repeating: " ", count: n - text.count) }
            return .string(text)
        case .boolean:
            switch value {
            case .string(let s):
                switch s.trimmingCharacters(in: .whitespaces).lowercased() {
                case "true", "t", "yes", "y", "1": return .bool(true)
                case "false", "f", "no", "n", "0": return .bool(false)
                default: throw failure()
                }
            case .int(let v): return .bool(v != 0)
            case .double(let v): return .bool(v != 0)
            case .decimal(let v): return .bool(v != 0)
            default: throw failure()
            }
        case .tinyint, .smallint, .integer, .bigint:
            let bounds: ClosedRange<Int64> =
                switch to.kind {
                case .tinyint: -128...127
                case .smallint: -32768...32767
                case .integer: Int64(Int32.min)...Int64(Int32.max)
                default: Int64.min...Int64.max
                }
            switch value {
            case .int(let v):
                // Flink narrows integers as Java does: by wrapping.
                switch to.kind {
                case .tinyint: return .int(Int64(Int8(truncatingIfNeeded: v)))
                case .smallint: return .int(Int64(Int16(truncatingIfNeeded: v)))
                case .integer: return .int(Int64(Int32(truncatingIfNeeded: v)))
                default: return .int(v)
                }
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d):
                guard d.isFinite else { throw failure() }
                let truncated = d.rounded(.towardZero)
                guard truncated >= Double(bounds.lowerBound), truncated <= Double(bounds.upperBound) else { throw failure() }
                return .int(Int64(truncated))
            case .decimal(let v):
                let integer = v / Self.pow10(from.decimalShape?.scale ?? 0)
                guard let narrowed = Int64(exactly: integer), bounds.contains(narrowed) else { throw failure() }
                return .int(narrowed)
            case .string(let s):
                let trimmed = s.trimmingCharacters(in: .whitespaces)
                guard let v = Int64(trimmed), bounds.contains(v) else { throw failure() }
                return .int(v)
            default: throw failure()
            }
        case .float, .double:
            var result: Double
            switch value {
            case .int(let v): result = Double(v)
            case .double(let d): result = d
            case .decimal(let v): result = Self.double(v, scale: from.decimalShape?.scale ?? 0)
            case .bool(let b): result = b ? 1 : 0
            case .string(let s):
                let trimmed = s.trimmingCharacters(in: .whitespaces)
                guard
                    let d = Double(trimmed)
                        ?? (trimmed == "NaN" ? .nan : trimmed == "Infinity" ? .infinity : trimmed == "-Infinity" ? -.infinity : nil)
                else { throw failure() }
                result = d
            default: throw failure()
            }
            if to.kind == .float { result = Double(Float(result)) }
            return .double(result)
        case .decimal(let precision, let scale):
            let unscaled: Int128
            switch value {
            case .int(let v): unscaled = Int128(v) * Self.pow10(scale)
            case .decimal(let v): unscaled = Self.rescale(v, from: from.decimalShape?.scale ?? 0, to: scale)
            case .double(let d):
                // Java's BigDecimal.valueOf(double): the shortest text that round-trips, then HALF_UP.
                let shortest = from.kind == .float ? Float(d).description : d.description
                let text = shortest.contains("e") ? String(format: "%.17g", d) : shortest
                guard d.isFinite, let parsed = Self.parseDecimal(text, scale: scale) else { throw failure() }
                unscaled = parsed
            case .bool(let b): unscaled = b ? Self.pow10(scale) : 0
            case .string(let s):
                guard let parsed = Self.parseDecimal(s, scale: scale) else { throw failure() }
                unscaled = parsed
            default: throw failure()
            }
            // Flink returns NULL for a DECIMAL overflow.
            return Self.fits(unscaled, precision: precision) ? .decimal(unscaled) : .null
        case .date:
            switch (from.kind, value) {
            case (.char, .string(let s)), (.varchar, .string(let s)):
                guard let days = Temporal.parseDate(s) ?? Temporal.parseTimestamp(s).map({ Temporal.floorDiv($0, Temporal.microsPerDay) }) else {
                    throw failure()
                }
                return .int(days)
            case (.timestamp, .int(let micros)): return .int(Temporal.floorDiv(micros, Temporal.microsPerDay))
            case (.timestampLTZ, .int(let micros)):
                return .int(Temporal.floorDiv(Temporal.local(micros, in: renderer.zone), Temporal.microsPerDay))
            default: throw failure()
            }
        case .time(let p):
            switch (from.kind, value) {
            case (.char, .string(let s)), (.varchar, .string(let s)):
                guard let micros = Temporal.parseTime(s) else { throw failure() }
                return .int(Temporal.truncate(micros, precision: p))
            case (.timestamp, .int(let micros)): return .int(Temporal.truncate(Temporal.floorMod(micros, Temporal.microsPerDay), precision: p))
            case (.timestampLTZ, .int(let micros)):
                return .int(Temporal.truncate(Temporal.floorMod(Temporal.local(micros, in: renderer.zone), Temporal.microsPerDay), precision: p))
            case (.time, .int(let micros)): return .int(Temporal.truncate(micros, precision: p))
            default: throw failure()
            }
        case .timestamp(let p):
            switch (from.kind, value) {
            case (.char, .string(let s)), (.varchar, .string(let s)):
                guard let micros = Temporal.parseTimestamp(s) else { throw failure() }
                return .int(Temporal.truncate(micros, precision: p))
            case (.date, .int(let days)): return .int(days * Temporal.microsPerDay)
            case (.timestamp, .int(let micros)): return .int(Temporal.truncate(micros, precision: p))
            case (.timestampLTZ, .int(let micros)): return .int(Temporal.truncate(Temporal.local(micros, in: renderer.zone), precision: p))
            default: throw failure()
            }
        case .timestampLTZ(let p):
            switch (from.kind, value) {
            case (.char, .string(let s)), (.varchar, .string(let s)):
                guard let micros = Temporal.parseTimestamp(s) else { throw failure() }
                return .int(Temporal.truncate(Temporal.instant(micros, in: renderer.zone), precision: p))
            case (.date, .int(let days)): return .int(Temporal.instant(days * Temporal.microsPerDay, in: renderer.zone))
            case (.timestamp, .int(let micros)): return .int(Temporal.truncate(Temporal.instant(micros, in: renderer.zone), precision: p))
            case (.timestampLTZ, .int(let micros)): return .int(Temporal.truncate(micros, precision: p))
            case (_, .int(let seconds)) where from.isInteger: return .int(seconds * Temporal.microsPerSecond)
            default: throw failure()
            }
        case .binary(let n), .varbinary(let n):
            switch value {
            case .string(let s): return .bytes(Array(Array(s.utf8).prefix(n)))
            case .bytes(let b):
                var bytes = Array(b.prefix(n))
                if case .binary = to.kind, bytes.count < n { bytes += Array(repeating: 0, count: n - bytes.count) }
                return .bytes(bytes)
            default: throw failure()
            }
        case .array(let element):
            guard case .array(let fromElement) = from.kind, case .list(let items) = value else { throw failure() }
            var converted: [Value] = []
            for item in items { converted.append(try cast(item, from: fromElement, to: element)) }
            return .list(converted)
        case .map(let key, let valueType):
            guard case .map(let fromKey, let fromValue) = from.kind, case .list(let entries) = value else {
                if from.kind == to.kind { return value }
                throw failure()
            }
            var converted: [Value] = []
            for entry in entries {
                let pair = entry.list ?? [.null, .null]
                converted.append(.list([try cast(pair[0], from: fromKey, to: key), try cast(pair[1], from: fromValue, to: valueType)]))
            }
            return .list(converted)
        case .row(let fields):
            guard case .row(let fromFields) = from.kind, fromFields.count == fields.count, case .list(let items) = value else {
                if from.kind == to.kind { return value }
                throw failure()
            }
            var converted: [Value] = []
            for (index, item) in items.enumerated() { converted.append(try cast(item, from: fromFields[index].type, to: fields[index].type)) }
            return .list(converted)
        case .multiset, .null, .intervalDayTime, .intervalYearMonth:
            if from.kind == to.kind { return value }
            throw failure()
        }
    }
}
