// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore

/// The results API's form of a typed value: what the embedded engine delivers for its SELECTs, offered to other
/// backends so that every backend's results read the same.
///
/// A backend that gets values from elsewhere (the Flink SQL Gateway's JSON rows) turns them into ``Value``s of the
/// column's ``SQLType`` and encodes them here. Keeping one encoder means a DECIMAL keeps its scale, a TIMESTAMP(p)
/// its precision, a DOUBLE Java's spelling and a TIMESTAMP_LTZ the session's zone whichever engine computed it.
public struct ResultValueEncoder: Sendable {
    private let renderer: ValueRenderer

    /// An encoder that shows TIMESTAMP_LTZ values in `timeZone` (the statement's `sql.local-time-zone`; UTC when
    /// absent or unknown, as the embedded engine does).
    public init(timeZone: String?) {
        renderer = ValueRenderer(zone: Temporal.zone(timeZone))
    }

    /// The results-API form of `value`, a value of `type`: scalars as strings, NULL as `null`, ARRAY, MAP, MULTISET
    /// and ROW as nested arrays.
    public func encode(_ value: Value, as type: SQLType) -> JSONValue {
        renderer.json(value, type)
    }
}

extension SQLType.RowField {
    /// A field of a ROW type: public so that a backend can build the types its engine reports (the gateway's
    /// `logicalType`s) and encode their values here.
    public init(named name: String, type: SQLType) {
        self.name = name
        self.type = type
    }
}
