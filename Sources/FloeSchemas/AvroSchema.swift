// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// A parsed Avro schema (Avro specification 1.12, "Schema Declaration").
///
/// The registry receives schemas as text and has to answer three questions about them: is this a valid schema (42201
/// otherwise), is it the same as one already registered (same id), and can it be read by / read the versions before it
/// (the compatibility levels). All three need the schema as a model rather than as JSON, with names resolved once.
///
/// The model is a tree of ``AvroType`` values. A named type (record, enum, fixed) appears in full where the text
/// defines it, and as ``AvroType/reference(_:)`` everywhere after that — including inside its own definition, which is
/// how recursive types (a linked list) stay finite values. ``namedTypes`` maps every fullname to its definition so
/// references can be followed.
public struct AvroSchema: Sendable, Equatable {
    /// The top-level type.
    public var root: AvroType
    /// Every named type defined in the schema, by fullname.
    public var namedTypes: [String: AvroType]

    public init(root: AvroType, namedTypes: [String: AvroType]) {
        self.root = root
        self.namedTypes = namedTypes
    }

    /// The definition behind `type` when it is a reference; `type` itself otherwise (or when the name is unknown,
    /// which a parsed schema never contains).
    public func resolved(_ type: AvroType) -> AvroType {
        if case .reference(let name) = type, let definition = namedTypes[name.fullname] { return definition }
        return type
    }
}

/// One Avro type.
public indirect enum AvroType: Sendable, Equatable {
    /// `null`, `boolean`, `int`, `long`, `float`, `double`, `bytes` or `string`, with its annotations.
    case primitive(AvroPrimitiveType)
    case record(AvroRecord)
    case enumeration(AvroEnum)
    case fixed(AvroFixed)
    case array(AvroArray)
    case map(AvroMap)
    /// The branches in declaration order; the order matters (a union default is for the first branch, and readers
    /// resolve a writer's value to the first matching branch).
    case union([AvroType])
    /// A named type defined earlier in the same schema (or an enclosing record, for recursion).
    case reference(AvroName)

    /// The Avro type keyword (`"int"`, `"record"`, …); for a reference, the keyword of nothing — use
    /// ``AvroSchema/resolved(_:)`` first.
    public var typeName: String {
        switch self {
        case .primitive(let primitive): return primitive.kind.rawValue
        case .record: return "record"
        case .enumeration: return "enum"
        case .fixed: return "fixed"
        case .array: return "array"
        case .map: return "map"
        case .union: return "union"
        case .reference(let name): return name.fullname
        }
    }

    /// The name of a named type (definition or reference); `nil` for the others.
    public var name: AvroName? {
        switch self {
        case .record(let record): return record.name
        case .enumeration(let enumeration): return enumeration.name
        case .fixed(let fixed): return fixed.name
        case .reference(let name): return name
        default: return nil
        }
    }

    /// A shorthand for a primitive type without annotations.
    public static func primitive(_ kind: AvroPrimitive) -> AvroType { .primitive(AvroPrimitiveType(kind)) }
}

/// The eight primitive types, spelled as in schemas.
public enum AvroPrimitive: String, Sendable, Hashable, CaseIterable {
    case null, boolean, int, long, float, double, bytes, string
}

/// A fullname split into its parts. The namespace is empty for the null namespace.
public struct AvroName: Sendable, Hashable, CustomStringConvertible {
    /// The unqualified name.
    public var name: String
    /// The dot-separated namespace; empty when the name has none.
    public var namespace: String

    public init(name: String, namespace: String) {
        self.name = name
        self.namespace = namespace
    }

    /// Splits a fullname at its last dot.
    public init(fullname: String) {
        if let dot = fullname.lastIndex(of: ".") {
            self.init(name: String(fullname[fullname.index(after: dot)...]), namespace: String(fullname[..<dot]))
        } else {
            self.init(name: fullname, namespace: "")
        }
    }

    /// `namespace.name`, or just `name` in the null namespace.
    public var fullname: String { namespace.isEmpty ? name : "\(namespace).\(name)" }

    public var description: String { fullname }
}

/// Attributes a schema carries that Avro itself does not interpret (`connect.type`, `flink.maxLength`, `java-class`,
/// an unknown or invalid `logicalType`, …), in the order they were written. Kept because tools downstream (Kafka
/// Connect, Flink's type mapping) read them, and because the registry must hand back what it was given.
public struct AvroProperties: Sendable, Equatable {
    public var members: [(String, JSONValue)]

    public init(_ members: [(String, JSONValue)] = []) { self.members = members }

    /// The value of attribute `key`, if present.
    public subscript(key: String) -> JSONValue? { members.first { $0.0 == key }?.1 }

    public var isEmpty: Bool { members.isEmpty }

    /// Equal when they hold the same attributes, in whatever order: attribute order means nothing in a schema.
    public static func == (lhs: AvroProperties, rhs: AvroProperties) -> Bool {
        JSONValue.object(lhs.members) == JSONValue.object(rhs.members)
    }
}

/// The logical types of the Avro specification. They only annotate the underlying type: compatibility and the
/// canonical form ignore them, as the specification says, but the Flink type mapping (DECIMAL, DATE, TIMESTAMP…)
/// depends on them.
public enum AvroLogicalType: Sendable, Hashable {
    /// On `bytes` or `fixed`; `0 <= scale <= precision`.
    case decimal(precision: Int, scale: Int)
    /// On `string` (or a 16-byte `fixed`).
    case uuid
    /// On `int`: days since the Unix epoch.
    case date
    /// On `int`.
    case timeMillis
    /// On `long`.
    case timeMicros
    /// On `long`.
    case timestampMillis
    case timestampMicros
    case timestampNanos
    case localTimestampMillis
    case localTimestampMicros
    case localTimestampNanos
    /// On a 12-byte `fixed`.
    case duration

    /// The `logicalType` attribute value.
    public var name: String {
        switch self {
        case .decimal: return "decimal"
        case .uuid: return "uuid"
        case .date: return "date"
        case .timeMillis: return "time-millis"
        case .timeMicros: return "time-micros"
        case .timestampMillis: return "timestamp-millis"
        case .timestampMicros: return "timestamp-micros"
        case .timestampNanos: return "timestamp-nanos"
        case .localTimestampMillis: return "local-timestamp-millis"
        case .localTimestampMicros: return "local-timestamp-micros"
        case .localTimestampNanos: return "local-timestamp-nanos"
        case .duration: return "duration"
        }
    }
}

/// A primitive type with its annotations.
public struct AvroPrimitiveType: Sendable, Equatable {
    public var kind: AvroPrimitive
    /// A valid logical type for `kind`; an invalid or unknown one stays in ``properties`` (the specification says to
    /// ignore it and use the underlying type).
    public var logicalType: AvroLogicalType?
    public var properties: AvroProperties

    public init(_ kind: AvroPrimitive, logicalType: AvroLogicalType? = nil, properties: AvroProperties = AvroProperties()) {
        self.kind = kind
        self.logicalType = logicalType
        self.properties = properties
    }
}

/// How a field sorts (the `order` attribute); only the binary sort order uses it.
public enum AvroSortOrder: String, Sendable, Hashable {
    case ascending, descending, ignore
}

/// A record field.
public struct AvroField: Sendable, Equatable {
    public var name: String
    public var type: AvroType
    public var doc: String?
    /// The JSON default, already checked against ``type``.
    public var defaultValue: JSONValue?
    public var order: AvroSortOrder
    /// Former names of the field: a reader finds a writer's field by its name or by one of these.
    public var aliases: [String]
    public var properties: AvroProperties

    public init(
        name: String, type: AvroType, doc: String? = nil, defaultValue: JSONValue? = nil, order: AvroSortOrder = .ascending,
        aliases: [String] = [], properties: AvroProperties = AvroProperties()
    ) {
        self.name = name
        self.type = type
        self.doc = doc
        self.defaultValue = defaultValue
        self.order = order
        self.aliases = aliases
        self.properties = properties
    }
}

/// A record (or the protocol-only `error`, which Avro's Java parser accepts in schemas too).
public struct AvroRecord: Sendable, Equatable {
    public var name: AvroName
    public var doc: String?
    /// Former fullnames: a reader record matches a writer record whose fullname is one of these.
    public var aliases: [AvroName]
    public var fields: [AvroField]
    public var isError: Bool
    public var properties: AvroProperties

    public init(
        name: AvroName, doc: String? = nil, aliases: [AvroName] = [], fields: [AvroField], isError: Bool = false,
        properties: AvroProperties = AvroProperties()
    ) {
        self.name = name
        self.doc = doc
        self.aliases = aliases
        self.fields = fields
        self.isError = isError
        self.properties = properties
    }
}

/// An enum.
public struct AvroEnum: Sendable, Equatable {
    public var name: AvroName
    public var doc: String?
    public var aliases: [AvroName]
    public var symbols: [String]
    /// The symbol a reader uses for a writer symbol it does not know; this is what makes adding symbols forward
    /// compatible.
    public var defaultSymbol: String?
    public var properties: AvroProperties

    public init(
        name: AvroName, doc: String? = nil, aliases: [AvroName] = [], symbols: [String], defaultSymbol: String? = nil,
        properties: AvroProperties = AvroProperties()
    ) {
        self.name = name
        self.doc = doc
        self.aliases = aliases
        self.symbols = symbols
        self.defaultSymbol = defaultSymbol
        self.properties = properties
    }
}

/// A fixed-size byte string.
public struct AvroFixed: Sendable, Equatable {
    public var name: AvroName
    public var doc: String?
    public var aliases: [AvroName]
    public var size: Int
    public var logicalType: AvroLogicalType?
    public var properties: AvroProperties

    public init(
        name: AvroName, doc: String? = nil, aliases: [AvroName] = [], size: Int, logicalType: AvroLogicalType? = nil,
        properties: AvroProperties = AvroProperties()
    ) {
        self.name = name
        self.doc = doc
        self.aliases = aliases
        self.size = size
        self.logicalType = logicalType
        self.properties = properties
    }
}

/// An array.
public struct AvroArray: Sendable, Equatable {
    public var items: AvroType
    public var properties: AvroProperties

    public init(items: AvroType, properties: AvroProperties = AvroProperties()) {
        self.items = items
        self.properties = properties
    }
}

/// A map; keys are always strings.
public struct AvroMap: Sendable, Equatable {
    public var values: AvroType
    public var properties: AvroProperties

    public init(values: AvroType, properties: AvroProperties = AvroProperties()) {
        self.values = values
        self.properties = properties
    }
}
