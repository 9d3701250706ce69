// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
public import FloeSQL
import Foundation

/// Why a column type or a value the gateway sent could not be read.
public struct FlinkResultError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

// MARK: Logical types

extension SQLType {
    /// The type a gateway column's `logicalType` names, in the form of Flink's `LogicalTypeJsonSerializer`
    /// (flink-sql-gateway): `type` is the `LogicalTypeRoot` name, `nullable` a boolean (absent for NULL), and the
    /// root's parameters `length` (CHAR, VARCHAR, BINARY, VARBINARY), `precision` and `scale` (DECIMAL), `precision`
    /// (TIME, TIMESTAMP, TIMESTAMP_LTZ), `elementType` (ARRAY, MULTISET), `keyType`/`valueType` (MAP) and
    /// `fields: [{name, fieldType, description?}]` (ROW).
    /// - Throws: ``FlinkResultError`` for a malformed type, or one Floe has no counterpart for (TIMESTAMP WITH TIME
    ///   ZONE, RAW, structured and distinct types).
    public init(flinkLogicalType json: FlinkJSONValue) throws(FlinkResultError) {
        guard let root = json["type"]?.stringValue else { throw FlinkResultError("A logicalType has no 'type': \(json.json.serializedString)") }
        let nullable = json["nullable"]?.boolValue ?? true
        func number(_ name: String) throws(FlinkResultError) -> Int {
            guard let value = json[name]?.intValue, let int = Int(exactly: value), int >= 0 else {
                throw FlinkResultError("The \(root) logicalType has no valid '\(name)'")
            }
            return int
        }
        func child(_ name: String) throws(FlinkResultError) -> SQLType {
            guard let member = json[name] else { throw FlinkResultError("The \(root) logicalType has no '\(name)'") }
            return try SQLType(flinkLogicalType: member)
        }
        let kind: Kind
        switch root {
        case "NULL": kind = .null
        case "BOOLEAN": kind = .boolean
        case "TINYINT": kind = .tinyint
        case "SMALLINT": kind = .smallint
        case "INTEGER": kind = .integer
        case "BIGINT": kind = .bigint
        case "FLOAT": kind = .float
        case "DOUBLE": kind = .double
        case "DECIMAL": kind = .decimal(precision: try number("precision"), scale: try number("scale"))
        case "CHAR": kind = .char(try number("length"))
        case "VARCHAR": kind = .varchar(try number("length"))
        case "BINARY": kind = .binary(try number("length"))
        case "VARBINARY": kind = .varbinary(try number("length"))
        case "DATE": kind = .date
        case "TIME_WITHOUT_TIME_ZONE": kind = .time(try number("precision"))
        case "TIMESTAMP_WITHOUT_TIME_ZONE": kind = .timestamp(try number("precision"))
        case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": kind = .timestampLTZ(try number("precision"))
        // Floe has one day-time and one year-month interval type (INTERVAL DAY TO SECOND(3), INTERVAL YEAR TO
        // MONTH): the `resolution` and precisions Flink adds change how a value is spelled in DDL, not the value.
        case "INTERVAL_DAY_TIME": kind = .intervalDayTime
        case "INTERVAL_YEAR_MONTH": kind = .intervalYearMonth
        case "ARRAY": kind = .array(try child("elementType"))
        case "MULTISET": kind = .multiset(try child("elementType"))
        case "MAP": kind = .map(key: try child("keyType"), value: try child("valueType"))
        case "ROW":
            guard let fields = json["fields"]?.arrayValue else { throw FlinkResultError("The ROW logicalType has no 'fields'") }
            var resolved: [RowField] = []
            for field in fields {
                guard let name = field["name"]?.stringValue, let type = field["fieldType"] else {
                    throw FlinkResultError("A ROW field has no 'name' or 'fieldType': \(field.json.serializedString)")
                }
                resolved.append(RowField(named: name, type: try SQLType(flinkLogicalType: type)))
            }
            kind = .row(resolved)
        default:
            throw FlinkResultError("Flink's type \(root) has no counterpart in Floe's results")
        }
        self.init(kind, nullable: root == "NULL" ? true : nullable)
    }
}

// MARK: Values

/// Reads the gateway's result rows (`rowFormat=JSON`) into the records the results API serves, encoded exactly as
/// the embedded engine encodes them.
///
/// The gateway writes rows with Flink's `RowDataToJsonConverters` (ISO-8601 timestamps, `null` map keys as `"null"`),
/// a form that loses what the API shows: a DECIMAL's trailing zeros (`1.50` arrives as `1.5`, `100.00` as `1E+2`),
/// a TIMESTAMP's precision (`…05.120` arrives as `…05.12`), the zone of a TIMESTAMP_LTZ (sent in UTC). So each field
/// is read back into a typed ``Value`` by its column's logical type, and ``ResultValueEncoder`` (the embedded
/// engine's own results encoding) spells it. The Flink path has no formatting of its own.
///
/// Known losses on Flink's side, which no decoding can undo: TIME values arrive without their fraction of a second
/// (the converter formats `LocalTime.ofSecondOfDay(millis / 1000)`), and a NULL map key of a string-keyed map arrives
/// as the string `"null"`. TIMESTAMP fractions beyond microseconds are truncated, as the embedded engine keeps
/// microseconds.
public struct FlinkRowDecoder: Sendable {
    /// The result's columns, in order.
    public let columns: [FlinkGatewayClient.Column]
    private let encoder: ResultValueEncoder

    /// A decoder for rows of `columns`, showing TIMESTAMP_LTZ values in `localTimeZone` (the statement's
    /// `sql.local-time-zone`).
    public init(columns: [FlinkGatewayClient.Column], localTimeZone: String?) {
        self.columns = columns
        self.encoder = ResultValueEncoder(timeZone: localTimeZone)
    }

    /// The results-API record of a row: `op` from its kind, each field typed and encoded.
    /// - Throws: ``FlinkResultError`` when the row does not fit the columns.
    public func record(_ row: FlinkGatewayClient.Row) throws(FlinkResultError) -> ResultRecord {
        let values = try self.values(row)
        return ResultRecord(op: row.kind.rawValue, row: .array(zip(values, columns).map { encoder.encode($0, as: $1.type) }))
    }

    /// The results-API records of a page's rows, in order.
    /// - Throws: ``FlinkResultError`` for the first row that does not fit the columns.
    public func records(_ rows: [FlinkGatewayClient.Row]) throws(FlinkResultError) -> [ResultRecord] {
        var records: [ResultRecord] = []
        records.reserveCapacity(rows.count)
        for row in rows { records.append(try record(row)) }
        return records
    }

    /// The typed values of a row.
    /// - Throws: ``FlinkResultError`` when the row does not fit the columns.
    public func values(_ row: FlinkGatewayClient.Row) throws(FlinkResultError) -> [Value] {
        guard row.fields.count == columns.count else {
            throw FlinkResultError("A result row has \(row.fields.count) fields for \(columns.count) columns")
        }
        var values: [Value] = []
        values.reserveCapacity(columns.count)
        for (field, column) in zip(row.fields, columns) {
            do {
                values.append(try Self.value(field, as: column.type))
            } catch {
                throw FlinkResultError("Column '\(column.name)' (\(column.type.sql)): \(error.message)")
            }
        }
        return values
    }

    /// The statement's `status.traits.schema` for a result's columns, as the embedded backend reports it:
    /// `{"columns":[{"name":…,"type":{…}}]}`.
    public static func schemaJSON(_ columns: [FlinkGatewayClient.Column]) -> String {
        let document = JSONValue.object([
            ("columns", .array(columns.map { .object([("name", .string($0.name)), ("type", $0.type.schemaType.json)]) }))
        ])
        return String(decoding: document.serialized(), as: UTF8.self)
    }

    /// The value of type `type` that a JSON field (as Flink's `RowDataToJsonConverters` writes it) holds.
    /// - Throws: ``FlinkResultError`` when the JSON does not have the form the type's converter writes.
    public static func value(_ json: FlinkJSONValue, as type: SQLType) throws(FlinkResultError) -> Value {
        if json.isNull { return .null }
        func mismatch() -> FlinkResultError { FlinkResultError("a JSON \(json.typeName) is not a \(type.sql) value: \(json.json.serializedString)") }
        switch type.kind {
        case .null: throw mismatch()
        case .boolean:
            guard let value = json.boolValue else { throw mismatch() }
            return .bool(value)
        case .tinyint, .smallint, .integer, .bigint, .intervalYearMonth:
            // Integers arrive as their exact digits (Jackson's numberNode of a long): read them as Int64, never
            // through Double, or BIGINTs beyond 2^53 would round.
            guard case .number(let text) = json, let value = Int64(text) else { throw mismatch() }
            return .int(value)
        case .intervalDayTime:
            // Flink holds day-time intervals as milliseconds; the engine as microseconds.
            guard case .number(let text) = json, let millis = Int64(text) else { throw mismatch() }
            let (micros, overflow) = millis.multipliedReportingOverflow(by: 1000)
            guard !overflow else { throw mismatch() }
            return .int(micros)
        case .float:
            guard let value = floatingPoint(json), let float = Float(value) else { throw mismatch() }
            return .double(Double(float))
        case .double:
            guard let value = floatingPoint(json), let double = Double(value) else { throw mismatch() }
            return .double(double)
        case .decimal(_, let scale):
            guard case .number(let text) = json else { throw mismatch() }
            return .decimal(try unscaledDecimal(text, scale: scale))
        case .char, .varchar:
            guard let text = json.stringValue else { throw mismatch() }
            return .string(text)
        case .binary, .varbinary:
            // Jackson writes byte arrays as standard Base64 with padding.
            guard let text = json.stringValue, let data = Data(base64Encoded: text) else { throw mismatch() }
            return .bytes([UInt8](data))
        case .date:
            guard let text = json.stringValue, let days = date(Substring(text)) else { throw mismatch() }
            return .int(days)
        case .time:
            guard let text = json.stringValue, let micros = time(Substring(text)) else { throw mismatch() }
            return .int(micros)
        case .timestamp:
            guard let text = json.stringValue, let micros = timestamp(Substring(text)) else { throw mismatch() }
            return .int(micros)
        case .timestampLTZ:
            // An instant, written in UTC with a `Z`.
            guard let text = json.stringValue, text.hasSuffix("Z"), let micros = timestamp(Substring(text).dropLast()) else {
                throw mismatch()
            }
            return .int(micros)
        case .array(let element):
            guard let items = json.arrayValue else { throw mismatch() }
            var values: [Value] = []
            for item in items { values.append(try value(item, as: element)) }
            return .list(values)
        case .multiset(let element):
            // A multiset is written as a map from element to its count.
            guard case .object(let members) = json else { throw mismatch() }
            var values: [Value] = []
            for (key, count) in members {
                guard let times = count.intValue, times >= 0, times <= 1_000_000 else { throw mismatch() }
                let item = try mapKey(key, as: element)
                values.append(contentsOf: repeatElement(item, count: Int(times)))
            }
            return .list(values)
        case .map(let keyType, let valueType):
            guard case .object(let members) = json else { throw mismatch() }
            var entries: [Value] = []
            for (key, member) in members {
                entries.append(.list([try mapKey(key, as: keyType), try value(member, as: valueType)]))
            }
            return .list(entries)
        case .row(let fields):
            // A row is an object keyed by field name, in field order.
            guard case .object = json else { throw mismatch() }
            var values: [Value] = []
            for field in fields {
                guard let member = json[field.name] else { throw FlinkResultError("the ROW value has no field '\(field.name)'") }
                values.append(try value(member, as: field.type))
            }
            return .list(values)
        }
    }

    /// A FLOAT or DOUBLE's text: a number, or Jackson's quoted `NaN`, `Infinity`, `-Infinity`.
    private static func floatingPoint(_ json: FlinkJSONValue) -> String? {
        switch json {
        case .number(let text): text
        case .string(let text) where ["NaN", "Infinity", "-Infinity"].contains(text):
            text == "Infinity" ? "inf" : text == "-Infinity" ? "-inf" : "nan"
        default: nil
        }
    }

    /// A map key (always a JSON string) read by the key's type. Flink's JSON writer writes a NULL key as `"null"`.
    private static func mapKey(_ key: String, as type: SQLType) throws(FlinkResultError) -> Value {
        switch type.kind {
        case .char, .varchar: return .string(key)
        case _ where key == "null": return .null
        case .boolean:
            guard key == "true" || key == "false" else { throw FlinkResultError("'\(key)' is not a BOOLEAN map key") }
            return .bool(key == "true")
        case .tinyint, .smallint, .integer, .bigint, .intervalYearMonth, .intervalDayTime, .float, .double, .decimal:
            return try value(.number(key), as: type)
        default: return try value(.string(key), as: type)
        }
    }

    /// The unscaled value at `scale` of a decimal number's text (`-12.5`, `1E+2`, `1.25E-7`), computed exactly.
    /// - Throws: when the number has non-zero digits beyond the scale or more than 38 digits at it.
    static func unscaledDecimal(_ text: String, scale: Int) throws(FlinkResultError) -> Int128 {
        var rest = Substring(text)
        let negative = rest.hasPrefix("-")
        if negative { rest = rest.dropFirst() }
        var exponent = 0
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(rest[rest.index(after: e)...].drop { $0 == "+" }), abs(value) <= 1000 else {
                throw FlinkResultError("'\(text)' is not a decimal number")
            }
            exponent = value
            rest = rest[..<e]
        }
        let point = rest.firstIndex(of: ".")
        let integerDigits = point.map { rest[..<$0] } ?? rest
        let fractionDigits = point.map { rest[rest.index(after: $0)...] } ?? ""
        var digits = Substring(String(integerDigits) + fractionDigits)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw FlinkResultError("'\(text)' is not a decimal number") }
        // The value is digits × 10^(exponent − fraction digits); at `scale` its unscaled value is digits × 10^shift.
        let shift = scale + exponent - fractionDigits.count
        digits = digits.drop { $0 == "0" }
        if shift < 0 {
            let dropped = digits.suffix(-shift)
            guard dropped.allSatisfy({ $0 == "0" }) else {
                throw FlinkResultError("'\(text)' has more fraction digits than the scale \(scale)")
            }
            digits = digits.dropLast(-shift)
        }
        let zeros = max(shift, 0)
        guard digits.isEmpty || digits.count + zeros <= 38, var unscaled = Int128(digits.isEmpty ? "0" : String(digits)) else {
            throw FlinkResultError("'\(text)' has more than 38 digits at scale \(scale)")
        }
        for _ in 0..<(digits.isEmpty ? 0 : zeros) { unscaled *= 10 }
        return negative ? -unscaled : unscaled
    }

    /// Days since 1970-01-01 of `[+|-]YYYY-MM-DD` (ISO_LOCAL_DATE: years beyond 9999 carry a sign).
    static func date(_ text: Substring) -> Int64? {
        var rest = text
        var sign: Int64 = 1
        if rest.first == "+" || rest.first == "-" {
            sign = rest.first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count >= 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let yearDigits = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]), (1...12).contains(month)
        else { return nil }
        let year = sign * yearDigits
        let isLeap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays: [Int64] = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day >= 1, day <= monthDays[Int(month) - 1] else { return nil }
        // Days from the civil date (proleptic Gregorian), counting years from March so that leap days come last.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Microseconds of the day of `HH:mm[:ss[.fffffffff]]` (ISO_LOCAL_TIME; digits beyond microseconds truncated).
    static func time(_ text: Substring) -> Int64? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts[0].count == 2, parts[1].count == 2,
            let hour = Int64(parts[0]), let minute = Int64(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        var micros = (hour * 3600 + minute * 60) * 1_000_000
        if parts.count == 3 {
            let second = parts[2].split(separator: ".", omittingEmptySubsequences: false)
            guard second.count <= 2, second[0].count == 2, let seconds = Int64(second[0]), (0..<60).contains(seconds) else { return nil }
            micros += seconds * 1_000_000
            if second.count == 2 {
                let fraction = second[1]
                guard (1...9).contains(fraction.count), fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
                    let sixDigits = Int64(String((fraction + "00000").prefix(6)))
                else { return nil }
                micros += sixDigits
            }
        }
        return micros
    }

    /// Microseconds since the epoch of `<date>T<time>` (ISO_LOCAL_DATE_TIME).
    static func timestamp(_ text: Substring) -> Int64? {
        guard let separator = text.firstIndex(of: "T"), let days = date(text[..<separator]),
            let micros = time(text[text.index(after: separator)...])
        else { return nil }
        return days * 86_400_000_000 + micros
    }
}
