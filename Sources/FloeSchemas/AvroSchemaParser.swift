// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// Why a text is not a valid Avro schema. The registry answers these with 42201 and ``message``; ``kind`` lets
/// callers and tests tell the cases apart without matching on words.
public struct AvroSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The text is not JSON.
        case invalidJSON
        /// A name, namespace, alias or enum symbol breaks the naming rules.
        case invalidName
        /// A named type is defined twice, or a primitive type name is redefined.
        case redefinedName
        /// A type name that is neither a primitive, a complex type keyword nor an earlier-defined named type.
        case undefinedName
        /// A field name appears twice in a record.
        case duplicateField
        /// A symbol appears twice in an enum.
        case duplicateSymbol
        /// A default value that does not fit its type.
        case invalidDefault
        /// A union inside a union, or two branches of the same unnamed type (or the same name).
        case invalidUnion
        /// A required attribute is missing or has the wrong JSON type.
        case invalidAttribute
        /// The schema nests deeper than ``AvroSchema/maximumDepth``.
        case tooDeep
    }

    public var kind: Kind
    /// What is wrong, with the JSON pointer of the place it is wrong when that is not the top.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension AvroSchema {
    /// How deep types may nest. Schemas come from users over HTTP; the parser, the canonical form and the
    /// compatibility check all recurse, so a bound here keeps a hostile schema from exhausting the stack. Real schemas
    /// nest a handful of levels.
    public static let maximumDepth = 256

    /// Parses a schema as the registry receives it: the JSON text of a primitive name (`"string"`), an object, or a
    /// union array.
    public init(parsing text: String) throws(AvroSchemaError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch {
            throw AvroSchemaError(.invalidJSON, "Invalid JSON: \(error.description)")
        }
        try self.init(json: json)
    }

    /// Parses a schema already read as JSON.
    public init(json: JSONValue) throws(AvroSchemaError) {
        var parser = AvroSchemaParser()
        let root = try parser.parse(json, namespace: "", depth: 0, path: "")
        self.init(root: root, namedTypes: parser.definitions)
    }

    /// Whether `name` is a valid Avro name: `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isNameStart(first) else { return false }
        return name.utf8.dropFirst().allSatisfy { isNameStart($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || byte == UInt8(ascii: "_")
    }
}

/// The recursive-descent reader from JSON to ``AvroType``, carrying what the specification makes contextual: the
/// enclosing namespace (passed down) and the names defined so far (a name may only be used after its definition, and
/// defined once).
struct AvroSchemaParser {
    /// Completed definitions by fullname.
    var definitions: [String: AvroType] = [:]
    /// Every fullname defined so far, complete or not: a record's name is usable inside its own fields.
    var definedNames: Set<String> = []

    static let primitiveNames = Set(AvroPrimitive.allCases.map(\.rawValue))

    // MARK: Types

    mutating func parse(_ json: JSONValue, namespace: String, depth: Int, path: String) throws(AvroSchemaError) -> AvroType {
        guard depth <= AvroSchema.maximumDepth else {
            throw AvroSchemaError(.tooDeep, "Schema nests deeper than \(AvroSchema.maximumDepth) levels at \(at(path))")
        }
        switch json {
        case .string(let name):
            return try typeNamed(name, namespace: namespace, path: path)
        case .array(let branches):
            return try parseUnion(branches, namespace: namespace, depth: depth, path: path)
        case .object:
            return try parseObject(json, namespace: namespace, depth: depth, path: path)
        default:
            throw AvroSchemaError(
                .invalidAttribute, "A schema must be a type name, an object or a union array, not a \(json.typeName), at \(at(path))")
        }
    }

    /// A type given by name: a primitive or an earlier-defined named type. The name is looked up in the enclosing
    /// namespace first and then as written, as Avro's Java parser does (so a type in the null namespace stays
    /// reachable from inside a namespaced record).
    func typeNamed(_ name: String, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        if let primitive = AvroPrimitive(rawValue: name) { return .primitive(primitive) }
        if !name.contains("."), !namespace.isEmpty, definedNames.contains("\(namespace).\(name)") {
            return .reference(AvroName(name: name, namespace: namespace))
        }
        if definedNames.contains(name) { return .reference(AvroName(fullname: name)) }
        throw AvroSchemaError(.undefinedName, "Undefined name: \"\(name)\" at \(at(path))")
    }

    mutating func parseUnion(_ branches: [JSONValue], namespace: String, depth: Int, path: String) throws(AvroSchemaError) -> AvroType {
        var types: [AvroType] = []
        var seen: Set<String> = []
        for (index, branch) in branches.enumerated() {
            let type = try parse(branch, namespace: namespace, depth: depth + 1, path: "\(path)/\(index)")
            if case .union = type {
                throw AvroSchemaError(.invalidUnion, "Nested union at \(at("\(path)/\(index)")): a union may not immediately contain another union")
            }
            // Named types are told apart by fullname, the others by type keyword: two `int` branches (even with
            // different logical types), two arrays or two maps could not be resolved when reading.
            let key = type.name?.fullname ?? type.typeName
            guard seen.insert(key).inserted else {
                throw AvroSchemaError(.invalidUnion, "Duplicate in union: \(key) at \(at("\(path)/\(index)"))")
            }
            types.append(type)
        }
        return .union(types)
    }

    mutating func parseObject(_ json: JSONValue, namespace: String, depth: Int, path: String) throws(AvroSchemaError) -> AvroType {
        guard let typeAttribute = json["type"] else {
            throw AvroSchemaError(.invalidAttribute, "No type at \(at(path))")
        }
        guard case .string(let type) = typeAttribute else {
            // `{"type": {...}}` and `{"type": [...]}` are not schemas under the specification (only a field's type
            // may be one); refusing them keeps "the same schema" unambiguous.
            throw AvroSchemaError(.invalidAttribute, "The type attribute must be a string, not a \(typeAttribute.typeName), at \(at(path))")
        }
        switch type {
        case "record", "error": return try parseRecord(json, isError: type == "error", namespace: namespace, depth: depth, path: path)
        case "enum": return try parseEnum(json, namespace: namespace, path: path)
        case "fixed": return try parseFixed(json, namespace: namespace, path: path)
        case "array":
            guard let items = json["items"] else { throw AvroSchemaError(.invalidAttribute, "Array has no items at \(at(path))") }
            let itemType = try parse(items, namespace: namespace, depth: depth + 1, path: "\(path)/items")
            return .array(AvroArray(items: itemType, properties: Self.properties(of: json, excluding: ["type", "items"])))
        case "map":
            guard let values = json["values"] else { throw AvroSchemaError(.invalidAttribute, "Map has no values at \(at(path))") }
            let valueType = try parse(values, namespace: namespace, depth: depth + 1, path: "\(path)/values")
            return .map(AvroMap(values: valueType, properties: Self.properties(of: json, excluding: ["type", "values"])))
        default:
            if let primitive = AvroPrimitive(rawValue: type) { return .primitive(Self.annotatedPrimitive(primitive, json)) }
            // `{"type": "com.example.Known"}` refers to an earlier named type; any other attributes are dropped, as
            // a reference cannot re-annotate a definition.
            return try typeNamed(type, namespace: namespace, path: path)
        }
    }

    // MARK: Named types

    /// Reads the `name`/`namespace` pair of a named type and reserves the fullname.
    ///
    /// A name with dots is a fullname and its `namespace` attribute is ignored; otherwise the `namespace` attribute
    /// (an empty string meaning the null namespace) or else the enclosing namespace applies.
    mutating func defineName(_ json: JSONValue, enclosing namespace: String, kind: String, path: String) throws(AvroSchemaError) -> AvroName {
        guard let nameValue = json["name"] else { throw AvroSchemaError(.invalidAttribute, "No name in \(kind) at \(at(path))") }
        guard case .string(let written) = nameValue else {
            throw AvroSchemaError(.invalidAttribute, "The name of a \(kind) must be a string at \(at(path))")
        }
        var name = AvroName(fullname: written)
        if !written.contains(".") {
            switch json["namespace"] {
            case .string(let declared)?: name.namespace = declared
            case .null?, nil: name.namespace = namespace
            case let other?: throw AvroSchemaError(.invalidAttribute, "The namespace must be a string, not a \(other.typeName), at \(at(path))")
            }
        }
        try Self.validate(name, path: path)
        if name.namespace.isEmpty, Self.primitiveNames.contains(name.name) {
            throw AvroSchemaError(.redefinedName, "Can't redefine: \(name.name) (a primitive type) at \(at(path))")
        }
        guard definedNames.insert(name.fullname).inserted else {
            throw AvroSchemaError(.redefinedName, "Can't redefine: \(name.fullname) at \(at(path))")
        }
        return name
    }

    static func validate(_ name: AvroName, path: String) throws(AvroSchemaError) {
        guard AvroSchema.isValidName(name.name) else {
            throw AvroSchemaError(.invalidName, "Illegal name: \"\(name.name)\" at \(at(path)) (names match [A-Za-z_][A-Za-z0-9_]*)")
        }
        if !name.namespace.isEmpty {
            for part in name.namespace.split(separator: ".", omittingEmptySubsequences: false) where !AvroSchema.isValidName(String(part)) {
                throw AvroSchemaError(.invalidName, "Illegal namespace: \"\(name.namespace)\" at \(at(path))")
            }
        }
    }

    /// Aliases of a named type, resolved against its own namespace as the specification says.
    static func namedAliases(_ json: JSONValue, namespace: String, path: String) throws(AvroSchemaError) -> [AvroName] {
        try stringArray(json["aliases"], attribute: "aliases", path: path).map { (alias: String) throws(AvroSchemaError) -> AvroName in
            let name = alias.contains(".") ? AvroName(fullname: alias) : AvroName(name: alias, namespace: namespace)
            try validate(name, path: "\(path)/aliases")
            return name
        }
    }

    mutating func parseRecord(_ json: JSONValue, isError: Bool, namespace: String, depth: Int, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try defineName(json, enclosing: namespace, kind: "record", path: path)
        let aliases = try Self.namedAliases(json, namespace: name.namespace, path: path)
        guard case .array(let fieldValues)? = json["fields"] else {
            throw AvroSchemaError(.invalidAttribute, "Record \(name) has no fields array at \(at(path))")
        }
        var fields: [AvroField] = []
        var fieldNames: Set<String> = []
        for (index, fieldValue) in fieldValues.enumerated() {
            let fieldPath = "\(path)/fields/\(index)"
            // Field types inherit the record's namespace, not the one around the record.
            let field = try parseField(fieldValue, namespace: name.namespace, depth: depth + 1, path: fieldPath)
            guard fieldNames.insert(field.name).inserted else {
                throw AvroSchemaError(.duplicateField, "Duplicate field \(field.name) in record \(name) at \(at(fieldPath))")
            }
            fields.append(field)
        }
        let record = AvroType.record(
            AvroRecord(
                name: name, doc: json["doc"]?.stringValue, aliases: aliases, fields: fields, isError: isError,
                properties: Self.properties(of: json, excluding: ["type", "name", "namespace", "doc", "aliases", "fields"])))
        definitions[name.fullname] = record
        return record
    }

    mutating func parseField(_ json: JSONValue, namespace: String, depth: Int, path: String) throws(AvroSchemaError) -> AvroField {
        guard case .object = json else { throw AvroSchemaError(.invalidAttribute, "A field must be an object at \(at(path))") }
        guard case .string(let name)? = json["name"] else { throw AvroSchemaError(.invalidAttribute, "A field has no name at \(at(path))") }
        guard AvroSchema.isValidName(name) else {
            throw AvroSchemaError(.invalidName, "Illegal field name: \"\(name)\" at \(at(path)) (names match [A-Za-z_][A-Za-z0-9_]*)")
        }
        guard let typeValue = json["type"] else { throw AvroSchemaError(.invalidAttribute, "Field \(name) has no type at \(at(path))") }
        let type = try parse(typeValue, namespace: namespace, depth: depth + 1, path: "\(path)/type")
        let defaultValue = json["default"]
        if let defaultValue, !isValidDefault(defaultValue, for: type, depth: 0) {
            throw AvroSchemaError(
                .invalidDefault, "Invalid default for field \(name): \(defaultValue.serializedString) is not a \(describe(type)) at \(at(path))")
        }
        var order = AvroSortOrder.ascending
        if let orderValue = json["order"] {
            guard let text = orderValue.stringValue, let parsed = AvroSortOrder(rawValue: text) else {
                throw AvroSchemaError(.invalidAttribute, "Field \(name) has an invalid order \(orderValue.serializedString) at \(at(path))")
            }
            order = parsed
        }
        let aliases = try Self.stringArray(json["aliases"], attribute: "aliases", path: path)
        for alias in aliases where !AvroSchema.isValidName(alias) {
            throw AvroSchemaError(.invalidName, "Illegal field alias: \"\(alias)\" at \(at(path))")
        }
        return AvroField(
            name: name, type: type, doc: json["doc"]?.stringValue, defaultValue: defaultValue, order: order, aliases: aliases,
            properties: Self.properties(of: json, excluding: ["name", "type", "doc", "default", "order", "aliases"]))
    }

    mutating func parseEnum(_ json: JSONValue, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try defineName(json, enclosing: namespace, kind: "enum", path: path)
        let aliases = try Self.namedAliases(json, namespace: name.namespace, path: path)
        guard json["symbols"]?.arrayValue != nil else {
            throw AvroSchemaError(.invalidAttribute, "Enum \(name) has no symbols array at \(at(path))")
        }
        let symbols = try Self.stringArray(json["symbols"], attribute: "symbols", path: path)
        var seen: Set<String> = []
        for symbol in symbols {
            guard AvroSchema.isValidName(symbol) else {
                throw AvroSchemaError(.invalidName, "Illegal enum symbol: \"\(symbol)\" in \(name) at \(at(path))")
            }
            guard seen.insert(symbol).inserted else {
                throw AvroSchemaError(.duplicateSymbol, "Duplicate enum symbol: \(symbol) in \(name) at \(at(path))")
            }
        }
        var defaultSymbol: String?
        if let value = json["default"] {
            guard let symbol = value.stringValue, seen.contains(symbol) else {
                throw AvroSchemaError(
                    .invalidDefault, "The default \(value.serializedString) of enum \(name) is not one of its symbols at \(at(path))")
            }
            defaultSymbol = symbol
        }
        let enumeration = AvroType.enumeration(
            AvroEnum(
                name: name, doc: json["doc"]?.stringValue, aliases: aliases, symbols: symbols, defaultSymbol: defaultSymbol,
                properties: Self.properties(of: json, excluding: ["type", "name", "namespace", "doc", "aliases", "symbols", "default"])))
        definitions[name.fullname] = enumeration
        return enumeration
    }

    mutating func parseFixed(_ json: JSONValue, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try defineName(json, enclosing: namespace, kind: "fixed", path: path)
        let aliases = try Self.namedAliases(json, namespace: name.namespace, path: path)
        guard let size = json["size"]?.intValue, size >= 0, size <= Int64(Int32.max) else {
            throw AvroSchemaError(.invalidAttribute, "Fixed \(name) needs a non-negative integer size at \(at(path))")
        }
        var excluded: Set<String> = ["type", "name", "namespace", "doc", "aliases", "size"]
        let logicalType = Self.logicalType(of: json, fixedSize: Int(size), excluded: &excluded)
        let fixed = AvroType.fixed(
            AvroFixed(
                name: name, doc: json["doc"]?.stringValue, aliases: aliases, size: Int(size), logicalType: logicalType,
                properties: Self.properties(of: json, excluding: excluded)))
        definitions[name.fullname] = fixed
        return fixed
    }

    // MARK: Annotations

    static func annotatedPrimitive(_ kind: AvroPrimitive, _ json: JSONValue) -> AvroPrimitiveType {
        var excluded: Set<String> = ["type"]
        let logicalType = logicalType(of: json, primitive: kind, excluded: &excluded)
        return AvroPrimitiveType(kind, logicalType: logicalType, properties: properties(of: json, excluding: excluded))
    }

    /// The logical type of a primitive, if its `logicalType` is known and valid on `kind`. The attributes it
    /// consumed are added to `excluded`; an unknown or invalid one stays an ordinary property.
    static func logicalType(of json: JSONValue, primitive kind: AvroPrimitive, excluded: inout Set<String>) -> AvroLogicalType? {
        guard let name = json["logicalType"]?.stringValue else { return nil }
        let logicalType: AvroLogicalType?
        switch (name, kind) {
        case ("decimal", .bytes): logicalType = decimal(json, maximumPrecision: nil)
        case ("uuid", .string): logicalType = .uuid
        case ("date", .int): logicalType = .date
        case ("time-millis", .int): logicalType = .timeMillis
        case ("time-micros", .long): logicalType = .timeMicros
        case ("timestamp-millis", .long): logicalType = .timestampMillis
        case ("timestamp-micros", .long): logicalType = .timestampMicros
        case ("timestamp-nanos", .long): logicalType = .timestampNanos
        case ("local-timestamp-millis", .long): logicalType = .localTimestampMillis
        case ("local-timestamp-micros", .long): logicalType = .localTimestampMicros
        case ("local-timestamp-nanos", .long): logicalType = .localTimestampNanos
        default: logicalType = nil
        }
        if logicalType != nil { excluded.formUnion(["logicalType", "precision", "scale"]) }
        return logicalType
    }

    static func logicalType(of json: JSONValue, fixedSize size: Int, excluded: inout Set<String>) -> AvroLogicalType? {
        guard let name = json["logicalType"]?.stringValue else { return nil }
        let logicalType: AvroLogicalType?
        switch name {
        case "decimal":
            // The largest precision a two's-complement number of `size` bytes can hold: floor(log10(2^(8·size−1) − 1)).
            let maximum = size == 0 ? 0 : Int((Double(8 * size - 1) * 0.30102999566398119521).rounded(.down))
            logicalType = decimal(json, maximumPrecision: maximum)
        case "uuid" where size == 16: logicalType = .uuid
        case "duration" where size == 12: logicalType = .duration
        default: logicalType = nil
        }
        if logicalType != nil { excluded.formUnion(["logicalType", "precision", "scale"]) }
        return logicalType
    }

    static func decimal(_ json: JSONValue, maximumPrecision: Int?) -> AvroLogicalType? {
        guard let precision = json["precision"]?.intValue, precision > 0 else { return nil }
        let scale = json["scale"].map { $0.intValue ?? -1 } ?? 0
        guard scale >= 0, scale <= precision else { return nil }
        if let maximumPrecision, precision > maximumPrecision { return nil }
        return .decimal(precision: Int(precision), scale: Int(scale))
    }

    /// Every attribute of `json` not in `excluded`, in written order.
    static func properties(of json: JSONValue, excluding excluded: Set<String>) -> AvroProperties {
        guard case .object(let members) = json else { return AvroProperties() }
        return AvroProperties(members.filter { !excluded.contains($0.0) })
    }

    static func stringArray(_ value: JSONValue?, attribute: String, path: String) throws(AvroSchemaError) -> [String] {
        guard let value else { return [] }
        guard case .array(let elements) = value else {
            throw AvroSchemaError(.invalidAttribute, "\(attribute) must be an array of strings at \(at(path))")
        }
        var strings: [String] = []
        for element in elements {
            guard let string = element.stringValue else {
                throw AvroSchemaError(.invalidAttribute, "\(attribute) must be an array of strings at \(at(path))")
            }
            strings.append(string)
        }
        return strings
    }

    // MARK: Defaults

    /// Whether `value` is a valid default for `type` (specification, "Complex Types / Records", the table of default
    /// values): bytes and fixed are strings of code points 0–255, a union's default is one for its first branch, a
    /// record's is an object whose missing members have defaults of their own. A reference to a record still being
    /// defined (a recursive default) is accepted, as its fields are not all known yet.
    func isValidDefault(_ value: JSONValue, for type: AvroType, depth: Int) -> Bool {
        guard depth <= AvroSchema.maximumDepth else { return false }
        switch type {
        case .primitive(let primitive):
            switch primitive.kind {
            case .null: return value.isNull
            case .boolean: return value.boolValue != nil
            case .int: return value.intValue.map { Int32(exactly: $0) != nil } ?? false
            case .long: return value.intValue != nil
            case .float, .double:
                switch value {
                case .int, .double: return true
                // Avro's Java writer spells non-finite defaults as strings.
                case .string(let text): return ["NaN", "Infinity", "-Infinity"].contains(text)
                default: return false
                }
            case .string: return value.stringValue != nil
            case .bytes: return value.stringValue.map(Self.isByteString) ?? false
            }
        case .fixed(let fixed):
            guard let text = value.stringValue, Self.isByteString(text) else { return false }
            return text.unicodeScalars.count == fixed.size
        case .enumeration(let enumeration):
            return value.stringValue.map(enumeration.symbols.contains) ?? false
        case .array(let array):
            guard let elements = value.arrayValue else { return false }
            return elements.allSatisfy { isValidDefault($0, for: array.items, depth: depth + 1) }
        case .map(let map):
            guard case .object(let members) = value else { return false }
            return members.allSatisfy { isValidDefault($0.1, for: map.values, depth: depth + 1) }
        case .record(let record):
            guard case .object = value else { return false }
            return record.fields.allSatisfy { field in
                if let member = value[field.name] { return isValidDefault(member, for: field.type, depth: depth + 1) }
                return field.defaultValue != nil
            }
        case .union(let branches):
            guard let first = branches.first else { return false }
            return isValidDefault(value, for: first, depth: depth + 1)
        case .reference(let name):
            guard let definition = definitions[name.fullname] else { return true }
            return isValidDefault(value, for: definition, depth: depth + 1)
        }
    }

    static func isByteString(_ text: String) -> Bool { text.unicodeScalars.allSatisfy { $0.value <= 0xFF } }

    func describe(_ type: AvroType) -> String {
        if case .union(let branches) = type, let first = branches.first { return "\(describe(first)) (the union's first branch)" }
        return "\"\(type.typeName)\""
    }
}

/// A JSON pointer for messages; the empty pointer (the whole schema) reads as `/`.
private func at(_ path: String) -> String { path.isEmpty ? "/" : path }
