// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation

/// Prints values as Flink prints them: in results (every scalar a JSON string) and in CASTs to strings.
struct ValueRenderer: Sendable {
    /// The zone TIMESTAMP_LTZ values are shown in (`sql.local-time-zone`).
    var zone: TimeZone

    /// The results-API form of a value of `type`.
    func json(_ value: Value, _ type: SQLType) -> JSONValue {
        if value.isNull { return .null }
        switch type.kind {
        case .array(let element):
            return .array((value.list ?? []).map { json($0, element) })
        case .row(let fields):
            return .array(zip(value.list ?? [], fields).map { json($0, $1.type) })
        case .map(let key, let valueType):
            return .array(
                (value.list ?? []).map { entry in
                    let pair = entry.list ?? [.null, .null]
                    return .array([json(pair[0], key), json(pair[1], valueType)])
                })
        case .multiset(let element):
            var counts: [(Value, Int)] = []
            for item in value.list ?? [] {
                if let index = counts.firstIndex(where: { $0.0 == item }) { counts[index].1 += 1 } else { counts.append((item, 1)) }
            }
            return .array(counts.map { .array([json($0.0, element), .string(String($0.1))]) })
        default:
            return .string(string(value, type))
        }
    }

    /// The text of a non-null scalar value, as `CAST(x AS STRING)` gives it.
    func string(_ value: Value, _ type: SQLType) -> String {
        switch (type.kind, value) {
        case (_, .null): return "NULL"
        case (.boolean, .bool(let b)): return b ? "TRUE" : "FALSE"
        case (.date, .int(let days)): return Temporal.formatDate(days)
        case (.time(let p), .int(let micros)): return Temporal.formatTime(micros, precision: p)
        case (.timestamp(let p), .int(let micros)): return Temporal.formatTimestamp(micros, precision: p)
        case (.timestampLTZ(let p), .int(let micros)): return Temporal.formatTimestamp(Temporal.local(micros, in: zone), precision: p)
        case (.intervalDayTime, .int(let micros)): return Self.dayTimeInterval(micros)
        case (.intervalYearMonth, .int(let months)):
            // Calcite's intervalYearMonthToString(YEAR_TO_MONTH): the months take two digits.
            let rest = abs(months) % 12
            return (months < 0 ? "-" : "+") + "\(abs(months) / 12)-" + (rest < 10 ? "0" : "") + "\(rest)"
        case (.decimal(_, let scale), .decimal(let unscaled)): return Self.decimal(unscaled, scale: scale)
        case (.float, .double(let d)): return Self.javaFloat(d)
        case (_, .double(let d)): return Self.javaDouble(d)
        case (_, .int(let v)): return String(v)
        case (_, .string(let s)): return s
        case (_, .bytes(let bytes)): return "x'" + bytes.map { Self.hex($0) }.joined() + "'"
        case (_, .bool(let b)): return b ? "TRUE" : "FALSE"
        case (_, .decimal(let v)): return String(v)
        // Flink's CAST of constructed types to STRING: [a, b], {k=v}, (f0, f1).
        case (.array(let element), .list(let items)): return "[" + items.map { string($0, element) }.joined(separator: ", ") + "]"
        case (.map(let key, let valueType), .list(let entries)):
            return "{"
                + entries.map { entry in
                    let pair = entry.list ?? [.null, .null]
                    return string(pair[0], key) + "=" + string(pair[1], valueType)
                }.joined(separator: ", ") + "}"
        case (.row(let fields), .list(let items)): return "(" + zip(items, fields).map { string($0, $1.type) }.joined(separator: ", ") + ")"
        case (_, .list):
            return json(value, type).serializedString
        }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    /// `+D HH:MM:SS.fff`.
    static func dayTimeInterval(_ micros: Int64) -> String {
        let sign = micros < 0 ? "-" : "+"
        let magnitude = abs(micros)
        let millis = magnitude / 1000
        let seconds = millis / 1000
        return
            "\(sign)\(seconds / 86400) \(Temporal.pad(seconds / 3600 % 24, 2)):\(Temporal.pad(seconds / 60 % 60, 2)):\(Temporal.pad(seconds % 60, 2)).\(Temporal.pad(millis % 1000, 3))"
    }

    /// A DECIMAL's unscaled value printed with exactly `scale` fraction digits.
    static func decimal(_ unscaled: Int128, scale: Int) -> String {
        let digits = String(unscaled.magnitude)
        let sign = unscaled < 0 ? "-" : ""
        guard scale > 0 else { return sign + digits }
        let padded = digits.count <= scale ? String(repeating: "0", count: scale - digits.count + 1) + digits : digits
        let split = padded.index(padded.endIndex, offsetBy: -scale)
        return sign + padded[..<split] + "." + padded[split...]
    }

    /// Java's `Double.toString`: plain between 10⁻³ and 10⁷, otherwise `d.dddE±n`.
    static func javaDouble(_ d: Double) -> String { javaStyle(shortest: d.description, isNaN: d.isNaN, isInfinite: d.isInfinite, value: d) }

    /// Java's `Float.toString` for a FLOAT value held as a Double.
    static func javaFloat(_ d: Double) -> String {
        let f = Float(d)
        return javaStyle(shortest: f.description, isNaN: f.isNaN, isInfinite: f.isInfinite, value: Double(f))
    }

    private static func javaStyle(shortest: String, isNaN: Bool, isInfinite: Bool, value: Double) -> String {
        if isNaN { return "NaN" }
        if isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        // Split Swift's shortest round-trip text into sign, significant digits and a decimal exponent.
        var text = Substring(shortest)
        let negative = text.hasPrefix("-")
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...].replacingOccurrences(of: "+", with: "")) ?? 0
            text = text[..<e]
        }
        let point = text.firstIndex(of: ".") ?? text.endIndex
        let integerPart = text[..<point]
        let fractionPart = point == text.endIndex ? "" : text[text.index(after: point)...]
        var digits = String(integerPart) + fractionPart
        var pointPosition = integerPart.count + exponent  // digits before the decimal point
        while digits.hasPrefix("0"), digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0"), digits.count > 1 { digits.removeLast() }
        let magnitude = abs(value)
        let body: String
        if magnitude >= 1e-3 && magnitude < 1e7 {
            if pointPosition <= 0 {
                body = "0." + String(repeating: "0", count: -pointPosition) + digits
            } else if pointPosition >= digits.count {
                body = digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
            } else {
                let split = digits.index(digits.startIndex, offsetBy: pointPosition)
                body = digits[..<split] + "." + digits[split...]
            }
        } else {
            let first = digits.prefix(1)
            let rest = digits.dropFirst()
            body = first + "." + (rest.isEmpty ? "0" : rest) + "E" + String(pointPosition - 1)
        }
        return (negative ? "-" : "") + body
    }
}
