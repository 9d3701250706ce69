// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// Why a text the registry received is not a JSON Schema it can store; the message goes into the registry's
/// `42201` (invalid schema) error body.
public struct JSONSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A JSON pointer (`#/properties/id/type`) to the offending keyword; `#` for the document itself.
    public var path: String
    /// What is wrong there.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "Invalid JSON Schema at \(path): \(reason)" }
}

/// The JSON types a `type` keyword names. `integer` is a subset of `number`, which the compatibility rules use.
public enum JSONSchemaType: String, Sendable, Hashable, CaseIterable, Comparable {
    case null, boolean, integer, number, string, array, object

    public static func < (lhs: JSONSchemaType, rhs: JSONSchemaType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One (sub)schema: either a boolean schema (`true` admits everything, `false` nothing) or a schema object.
///
/// The tree keeps only what Floe reasons about — the keywords that constrain instances and the annotations the
/// compatibility report mentions. The document's JSON text stays the source of truth for storage and canonical form,
/// so keywords Floe does not interpret (`connect.type`, `connect.index`, `flink.precision`, vendor extensions) are
/// never lost; they are also kept here, in ``JSONSchemaNode/extensions``, for the format code that reads them.
public indirect enum JSONSchema: Sendable, Equatable {
    case boolean(Bool)
    case node(JSONSchemaNode)

    /// Whether this schema admits every instance (`true`, or an object with no constraining keyword). Annotations
    /// such as `title` do not constrain.
    public var admitsEverything: Bool {
        switch self {
        case .boolean(let value): return value
        case .node(let node): return node.isUnconstrained
        }
    }

    /// Whether this schema admits nothing (`false`).
    public var admitsNothing: Bool { self == .boolean(false) }
}

/// A schema object, keyword by keyword. Absent keywords are `nil` (or empty), so that "not said" and "said the
/// default" stay distinguishable where the rules need it (`additionalProperties` absent is open, like `true`).
public struct JSONSchemaNode: Sendable, Equatable {
    /// A named property with its schema, in document order.
    public struct Property: Sendable, Equatable {
        public var name: String
        public var schema: JSONSchema
    }

    // Annotations.
    public var id: String?
    public var title: String?
    public var description: String?
    public var defaultValue: JSONValue?

    /// `$ref`, as written. Only document-local references (`#…`) are accepted; the document resolves them.
    public var ref: String?

    /// `type`, in document order; `nil` when absent (any type).
    public var types: [JSONSchemaType]?
    public var enumValues: [JSONValue]?
    public var constValue: JSONValue?

    // Numbers.
    public var minimum: Double?
    public var maximum: Double?
    public var exclusiveMinimum: Double?
    public var exclusiveMaximum: Double?
    public var multipleOf: Double?

    // Strings.
    public var minLength: Int?
    public var maxLength: Int?
    /// `pattern`, kept as written; Floe does not evaluate it, the compatibility check compares it textually.
    public var pattern: String?

    // Arrays.
    /// `items` as one schema for every element.
    public var items: JSONSchema?
    /// Positional item schemas: draft-07 `items` given as an array, or 2020-12 `prefixItems`.
    public var prefixItems: [JSONSchema]?
    /// Elements after the positional ones: draft-07 `additionalItems`, or 2020-12 `items` next to `prefixItems`.
    public var additionalItems: JSONSchema?
    public var minItems: Int?
    public var maxItems: Int?
    public var uniqueItems: Bool = false

    // Objects.
    public var properties: [Property] = []
    public var required: [String] = []
    /// `nil` when absent, which JSON Schema treats as `true`: the content model is open.
    public var additionalProperties: JSONSchema?
    public var minProperties: Int?
    public var maxProperties: Int?

    // Combinators.
    public var allOf: [JSONSchema]?
    public var anyOf: [JSONSchema]?
    public var oneOf: [JSONSchema]?
    public var not: JSONSchema?

    /// `definitions` (draft-07) and `$defs` (2019-09 and later), merged: references use either spelling.
    public var definitions: [String: JSONSchema] = [:]

    /// Keywords Floe does not interpret, in document order (`connect.type`, `$schema`, `patternProperties`, …).
    public var extensions: [(String, JSONValue)] = []

    public init() {}

    /// The schema of property `name`, if declared.
    public func property(_ name: String) -> JSONSchema? { properties.first { $0.name == name }?.schema }

    /// The value of a keyword Floe keeps without interpreting, such as `connect.type`.
    public func extensionValue(_ keyword: String) -> JSONValue? { extensions.last { $0.0 == keyword }?.1 }

    /// Whether no keyword constrains instances: annotations, definitions and unknown keywords do not.
    public var isUnconstrained: Bool {
        ref == nil && types == nil && enumValues == nil && constValue == nil && minimum == nil && maximum == nil
            && exclusiveMinimum == nil && exclusiveMaximum == nil && multipleOf == nil && minLength == nil
            && maxLength == nil && pattern == nil && items == nil && prefixItems == nil && additionalItems == nil
            && minItems == nil && maxItems == nil && !uniqueItems && properties.isEmpty && required.isEmpty
            && additionalProperties == nil && minProperties == nil && maxProperties == nil && allOf == nil
            && anyOf == nil && oneOf == nil && not == nil
    }

    public static func == (lhs: JSONSchemaNode, rhs: JSONSchemaNode) -> Bool {
        lhs.id == rhs.id && lhs.title == rhs.title && lhs.description == rhs.description
            && lhs.defaultValue == rhs.defaultValue && lhs.ref == rhs.ref && lhs.types == rhs.types
            && lhs.enumValues == rhs.enumValues && lhs.constValue == rhs.constValue && lhs.minimum == rhs.minimum
            && lhs.maximum == rhs.maximum && lhs.exclusiveMinimum == rhs.exclusiveMinimum
            && lhs.exclusiveMaximum == rhs.exclusiveMaximum && lhs.multipleOf == rhs.multipleOf
            && lhs.minLength == rhs.minLength && lhs.maxLength == rhs.maxLength && lhs.pattern == rhs.pattern
            && lhs.items == rhs.items && lhs.prefixItems == rhs.prefixItems && lhs.additionalItems == rhs.additionalItems
            && lhs.minItems == rhs.minItems && lhs.maxItems == rhs.maxItems && lhs.uniqueItems == rhs.uniqueItems
            && lhs.properties == rhs.properties && lhs.required == rhs.required
            && lhs.additionalProperties == rhs.additionalProperties && lhs.minProperties == rhs.minProperties
            && lhs.maxProperties == rhs.maxProperties && lhs.allOf == rhs.allOf && lhs.anyOf == rhs.anyOf
            && lhs.oneOf == rhs.oneOf && lhs.not == rhs.not && lhs.definitions == rhs.definitions
            && JSONValue.object(lhs.extensions) == JSONValue.object(rhs.extensions)
    }
}

/// A JSON Schema as the registry stores it: the parsed tree, the JSON it came from, and the resolution of its
/// local `$ref`s.
///
/// Parsing checks structure only — each keyword Floe knows has the JSON type and range the specification demands,
/// every `$ref` points inside the document — because that is what the registry must refuse with 42201. Instances are
/// never validated here; the serializers on either side do that.
public struct JSONSchemaDocument: Sendable, Equatable {
    /// How deep schemas may nest before the document is refused. Far above what generated schemas use, low enough
    /// that neither parsing nor the compatibility walk can exhaust the stack.
    public static let maximumDepth = 256

    /// The root schema.
    public let root: JSONSchema
    /// The document as parsed, with its original key order.
    public let json: JSONValue
    /// Every local `$ref` target in the document, parsed once: reference string → schema.
    let referenceTargets: [String: JSONSchema]

    /// Parses and checks the text a registry received in the `schema` field.
    public init(parsing text: String) throws(JSONSchemaError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch {
            throw JSONSchemaError(path: "#", reason: "not valid JSON: \(error.description)")
        }
        try self.init(json: json)
    }

    /// Checks an already-parsed JSON value as a schema document.
    public init(json: JSONValue) throws(JSONSchemaError) {
        switch json {
        case .bool, .object: break
        default: throw JSONSchemaError(path: "#", reason: "a schema must be a JSON object or a boolean, not \(json.typeName)")
        }
        var parser = JSONSchemaParser()
        let root = try parser.parse(json, path: "#", depth: 0)
        var targets: [String: JSONSchema] = [:]
        for (reference, path) in parser.references where targets[reference] == nil {
            guard let target = Self.resolvePointer(reference, in: json) else {
                throw JSONSchemaError(path: path, reason: "$ref '\(reference)' does not point into this document")
            }
            var targetParser = JSONSchemaParser()
            targets[reference] = try targetParser.parse(target, path: reference, depth: 0)
        }
        // A reference whose target is itself only a reference, round and round, describes no instance at all;
        // Confluent's library loops on it, Floe refuses it up front.
        for start in targets.keys {
            var seen: Set<String> = [start]
            var current = start
            while case .node(let node)? = targets[current], let next = node.ref {
                guard seen.insert(next).inserted else {
                    throw JSONSchemaError(path: "#", reason: "$ref cycle through '\(start)' never reaches a schema")
                }
                current = next
            }
        }
        if case .node(let node) = root, let first = node.ref {
            var seen: Set<String> = [first]
            var current = first
            while case .node(let target)? = targets[current], let next = target.ref {
                guard seen.insert(next).inserted else {
                    throw JSONSchemaError(path: "#", reason: "$ref cycle from the root never reaches a schema")
                }
                current = next
            }
        }
        self.root = root
        self.json = json
        self.referenceTargets = targets
    }

    /// The schema a local reference names; `nil` for one this document does not contain.
    public func resolve(_ reference: String) -> JSONSchema? { referenceTargets[reference] }

    /// The compact serialization with every object's keys sorted: two submissions that differ only in whitespace
    /// or key order have the same canonical form, which is how the registry recognizes "the same schema" when a
    /// client registers again. Array order (`enum`, `required`, `oneOf`) is kept, as JSON Schema allows it to
    /// matter for `prefixItems` and Confluent keeps it too.
    public var canonicalString: String { Self.canonical(json).serializedString }

    public static func == (lhs: JSONSchemaDocument, rhs: JSONSchemaDocument) -> Bool {
        lhs.canonicalString == rhs.canonicalString
    }

    /// `value` with object keys sorted (by UTF-8 bytes, so the order does not depend on locale or Unicode
    /// normalization) and duplicate keys reduced to the last, as JSON parsers read them.
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements): return .array(elements.map(canonical))
        case .object(let members):
            var last: [String: JSONValue] = [:]
            for (key, member) in members { last[key] = member }
            let keys = last.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            return .object(keys.map { ($0, canonical(last[$0]!)) })
        default: return value
        }
    }

    /// Resolves a local reference (`#`, `#/definitions/a`, `#/$defs/a~1b`) as a JSON pointer (RFC 6901) in the
    /// fragment. Only fragments are accepted: schemas from elsewhere arrive in the registry as `references`, which
    /// Floe does not support yet.
    static func resolvePointer(_ reference: String, in document: JSONValue) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        var fragment = String(reference.dropFirst())
        fragment = fragment.removingPercentEncodingLossy()
        if fragment.isEmpty { return document }
        guard fragment.hasPrefix("/") else { return nil }
        var current = document
        for rawToken in fragment.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = String(rawToken).replacing("~1", with: "/").replacing("~0", with: "~")
            switch current {
            case .object:
                guard let next = current[token] else { return nil }
                current = next
            case .array(let elements):
                guard let index = Int(token), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default: return nil
            }
        }
        return current
    }
}

extension String {
    /// Decodes `%XX` escapes (URI fragments may carry them); malformed escapes stay as written.
    fileprivate func removingPercentEncodingLossy() -> String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        let utf8 = Array(self.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
                let byte = UInt8(String(decoding: utf8[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Reads JSON into ``JSONSchema``, checking each known keyword's shape and recording every `$ref` for the document
/// to resolve.
struct JSONSchemaParser {
    /// Every `$ref` met, with the path where it was written (for the error message if it does not resolve).
    var references: [(String, String)] = []

    mutating func parse(_ json: JSONValue, path: String, depth: Int) throws(JSONSchemaError) -> JSONSchema {
        guard depth <= JSONSchemaDocument.maximumDepth else {
            throw JSONSchemaError(path: path, reason: "schemas nest deeper than \(JSONSchemaDocument.maximumDepth) levels")
        }
        switch json {
        case .bool(let value): return .boolean(value)
        case .object(let members): return .node(try parseNode(members, path: path, depth: depth))
        default: throw JSONSchemaError(path: path, reason: "a schema must be a JSON object or a boolean, not \(json.typeName)")
        }
    }

    private mutating func parseNode(
        _ members: [(String, JSONValue)], path: String, depth: Int
    ) throws(JSONSchemaError)
        -> JSONSchemaNode
    {
        var node = JSONSchemaNode()
        // The last of duplicate keys wins, as in the parsed JSON's own lookups.
        var seen: Set<String> = []
        let unique = members.reversed().filter { seen.insert($0.0).inserted }.reversed()
        // draft-04 spells exclusive bounds as booleans next to minimum/maximum; applied after both are read.
        var exclusiveMinimumFlag = false
        var exclusiveMaximumFlag = false
        var itemsValue: JSONValue?
        var additionalItemsValue: JSONValue?
        var prefixItemsValue: JSONValue?
        for (keyword, value) in unique {
            let at = "\(path)/\(Self.escape(keyword))"
            switch keyword {
            case "$id": node.id = try string(value, at)
            // draft-04's `id`; a non-string `id` is no identifier there, so it stays an unknown keyword.
            case "id" where value.stringValue != nil: node.id = value.stringValue
            case "$ref":
                let reference = try string(value, at)
                guard reference.hasPrefix("#") else {
                    throw JSONSchemaError(
                        path: at, reason: "$ref '\(reference)' is not local; schema references are not supported")
                }
                node.ref = reference
                references.append((reference, at))
            case "title": node.title = try string(value, at)
            case "description": node.description = try string(value, at)
            case "default": node.defaultValue = value
            case "type": node.types = try types(value, at)
            case "enum":
                guard case .array(let values) = value else { throw wrongType(at, "an array", value) }
                node.enumValues = values
            case "const": node.constValue = value
            case "minimum": node.minimum = try number(value, at)
            case "maximum": node.maximum = try number(value, at)
            case "exclusiveMinimum":
                if case .bool(let flag) = value { exclusiveMinimumFlag = flag } else { node.exclusiveMinimum = try number(value, at) }
            case "exclusiveMaximum":
                if case .bool(let flag) = value { exclusiveMaximumFlag = flag } else { node.exclusiveMaximum = try number(value, at) }
            case "multipleOf":
                let divisor = try number(value, at)
                guard divisor > 0 else { throw JSONSchemaError(path: at, reason: "multipleOf must be greater than 0") }
                node.multipleOf = divisor
            case "minLength": node.minLength = try count(value, at)
            case "maxLength": node.maxLength = try count(value, at)
            case "pattern": node.pattern = try string(value, at)
            case "items": itemsValue = value
            case "prefixItems": prefixItemsValue = value
            case "additionalItems": additionalItemsValue = value
            case "minItems": node.minItems = try count(value, at)
            case "maxItems": node.maxItems = try count(value, at)
            case "uniqueItems":
                guard case .bool(let flag) = value else { throw wrongType(at, "a boolean", value) }
                node.uniqueItems = flag
            case "properties":
                guard case .object(let properties) = value else { throw wrongType(at, "an object", value) }
                for (name, schema) in properties {
                    let parsed = try parse(schema, path: "\(at)/\(Self.escape(name))", depth: depth + 1)
                    if let index = node.properties.firstIndex(where: { $0.name == name }) {
                        node.properties[index].schema = parsed
                    } else {
                        node.properties.append(.init(name: name, schema: parsed))
                    }
                }
            case "required":
                // draft-03 put `required: true` on the property; draft-04 and later want a list of names.
                guard case .array(let names) = value else { throw wrongType(at, "an array of property names", value) }
                for (index, name) in names.enumerated() {
                    guard let name = name.stringValue else { throw wrongType("\(at)/\(index)", "a string", name) }
                    guard !node.required.contains(name) else {
                        throw JSONSchemaError(path: at, reason: "'\(name)' is listed twice")
                    }
                    node.required.append(name)
                }
            case "additionalProperties": node.additionalProperties = try parse(value, path: at, depth: depth + 1)
            case "minProperties": node.minProperties = try count(value, at)
            case "maxProperties": node.maxProperties = try count(value, at)
            case "allOf": node.allOf = try schemaList(value, at, depth: depth)
            case "anyOf": node.anyOf = try schemaList(value, at, depth: depth)
            case "oneOf": node.oneOf = try schemaList(value, at, depth: depth)
            case "not": node.not = try parse(value, path: at, depth: depth + 1)
            case "definitions", "$defs":
                guard case .object(let definitions) = value else { throw wrongType(at, "an object", value) }
                for (name, schema) in definitions {
                    node.definitions[name] = try parse(schema, path: "\(at)/\(Self.escape(name))", depth: depth + 1)
                }
            default:
                node.extensions.append((keyword, value))
            }
        }
        if exclusiveMinimumFlag {
            node.exclusiveMinimum = node.minimum
            node.minimum = nil
        }
        if exclusiveMaximumFlag {
            node.exclusiveMaximum = node.maximum
            node.maximum = nil
        }
        // `items` means "every element" unless it is an array (draft-07 tuples) or sits next to `prefixItems`
        // (2020-12, where it then means "the elements after the prefix").
        if let prefixItemsValue {
            node.prefixItems = try schemaList(prefixItemsValue, "\(path)/prefixItems", depth: depth)
            if let itemsValue { node.additionalItems = try parse(itemsValue, path: "\(path)/items", depth: depth + 1) }
        } else if case .array = itemsValue {
            node.prefixItems = try schemaList(itemsValue!, "\(path)/items", depth: depth)
            if let additionalItemsValue {
                node.additionalItems = try parse(additionalItemsValue, path: "\(path)/additionalItems", depth: depth + 1)
            }
        } else if let itemsValue {
            node.items = try parse(itemsValue, path: "\(path)/items", depth: depth + 1)
        }
        if let minimum = node.minLength, let maximum = node.maxLength, minimum > maximum {
            throw JSONSchemaError(path: "\(path)/minLength", reason: "minLength \(minimum) exceeds maxLength \(maximum)")
        }
        if let minimum = node.minItems, let maximum = node.maxItems, minimum > maximum {
            throw JSONSchemaError(path: "\(path)/minItems", reason: "minItems \(minimum) exceeds maxItems \(maximum)")
        }
        return node
    }

    private mutating func schemaList(_ value: JSONValue, _ at: String, depth: Int) throws(JSONSchemaError) -> [JSONSchema] {
        guard case .array(let elements) = value, !elements.isEmpty else { throw wrongType(at, "a non-empty array of schemas", value) }
        var schemas: [JSONSchema] = []
        for (index, element) in elements.enumerated() {
            schemas.append(try parse(element, path: "\(at)/\(index)", depth: depth + 1))
        }
        return schemas
    }

    private func types(_ value: JSONValue, _ at: String) throws(JSONSchemaError) -> [JSONSchemaType] {
        func one(_ name: JSONValue, _ at: String) throws(JSONSchemaError) -> JSONSchemaType {
            guard let text = name.stringValue else { throw wrongType(at, "a type name", name) }
            guard let type = JSONSchemaType(rawValue: text) else {
                throw JSONSchemaError(path: at, reason: "unknown type '\(text)'")
            }
            return type
        }
        switch value {
        case .string: return [try one(value, at)]
        case .array(let names):
            guard !names.isEmpty else { throw wrongType(at, "a type name or a non-empty array of them", value) }
            var result: [JSONSchemaType] = []
            for (index, name) in names.enumerated() {
                let type = try one(name, "\(at)/\(index)")
                guard !result.contains(type) else { throw JSONSchemaError(path: at, reason: "type '\(type.rawValue)' is listed twice") }
                result.append(type)
            }
            return result
        default: throw wrongType(at, "a type name or an array of them", value)
        }
    }

    private func string(_ value: JSONValue, _ at: String) throws(JSONSchemaError) -> String {
        guard let text = value.stringValue else { throw wrongType(at, "a string", value) }
        return text
    }

    private func number(_ value: JSONValue, _ at: String) throws(JSONSchemaError) -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: throw wrongType(at, "a number", value)
        }
    }

    private func count(_ value: JSONValue, _ at: String) throws(JSONSchemaError) -> Int {
        guard let number = value.intValue, number >= 0, let count = Int(exactly: number) else {
            throw wrongType(at, "a non-negative integer", value)
        }
        return count
    }

    private func wrongType(_ at: String, _ expected: String, _ value: JSONValue) -> JSONSchemaError {
        JSONSchemaError(path: at, reason: "must be \(expected), not \(value.typeName)")
    }

    /// Escapes a member name as a JSON pointer token (RFC 6901).
    static func escape(_ token: String) -> String {
        token.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}
