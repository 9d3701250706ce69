// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

extension AvroSchema {
    /// The Parsing Canonical Form (Avro specification, "Parsing Canonical Form for Schemas"): the schema reduced to
    /// what decoding depends on. Two schemas with the same canonical form read and write the same bytes, whatever
    /// their docs, defaults, aliases, logical types, namespace spelling, key order or whitespace.
    ///
    /// The transformations: primitives in their simple form (`"int"`, not `{"type":"int"}`); names replaced by
    /// fullnames and `namespace` dropped; only `type`, `name`, `fields`, `symbols`, `items`, `values` and `size`
    /// kept, in that key order (`name` first); a named type spelled out at its first occurrence and by fullname after
    /// that; no whitespace; strings written in UTF-8, integers without leading zeros.
    public var canonicalForm: String { canonicalJSON.serializedString }

    /// ``canonicalForm`` as a JSON value.
    public var canonicalJSON: JSONValue {
        var emitted: Set<String> = []
        return Self.canonical(root, emitted: &emitted)
    }

    private static func canonical(_ type: AvroType, emitted: inout Set<String>) -> JSONValue {
        switch type {
        case .primitive(let primitive): return .string(primitive.kind.rawValue)
        case .reference(let name): return .string(name.fullname)
        case .union(let branches): return .array(branches.map { canonical($0, emitted: &emitted) })
        case .array(let array): return ["type": "array", "items": canonical(array.items, emitted: &emitted)]
        case .map(let map): return ["type": "map", "values": canonical(map.values, emitted: &emitted)]
        case .record(let record):
            guard emitted.insert(record.name.fullname).inserted else { return .string(record.name.fullname) }
            let fields: [JSONValue] = record.fields.map { field in
                ["name": .string(field.name), "type": canonical(field.type, emitted: &emitted)]
            }
            return ["name": .string(record.name.fullname), "type": "record", "fields": .array(fields)]
        case .enumeration(let enumeration):
            guard emitted.insert(enumeration.name.fullname).inserted else { return .string(enumeration.name.fullname) }
            return ["name": .string(enumeration.name.fullname), "type": "enum", "symbols": .array(enumeration.symbols.map(JSONValue.string))]
        case .fixed(let fixed):
            guard emitted.insert(fixed.name.fullname).inserted else { return .string(fixed.name.fullname) }
            return ["name": .string(fixed.name.fullname), "type": "fixed", "size": .int(Int64(fixed.size))]
        }
    }

    /// The 64-bit Rabin fingerprint of the canonical form (the specification's "CRC-64-AVRO"), the schema identity
    /// Avro's single-object encoding uses.
    public var fingerprint64: UInt64 {
        var fingerprint = Self.emptyFingerprint
        for byte in canonicalForm.utf8 {
            fingerprint = (fingerprint >> 8) ^ Self.fingerprintTable[Int((fingerprint ^ UInt64(byte)) & 0xFF)]
        }
        return fingerprint
    }

    private static let emptyFingerprint: UInt64 = 0xc15d_213a_a4d7_a795

    private static let fingerprintTable: [UInt64] = (0..<256).map { index in
        var value = UInt64(index)
        for _ in 0..<8 { value = (value >> 1) ^ (emptyFingerprint & (0 &- (value & 1))) }
        return value
    }

    /// The schema with every attribute kept, written in one fixed way: fullnames in `name` (no `namespace`), a fixed
    /// key order, primitives without attributes in simple form, extra properties sorted by key, no whitespace.
    ///
    /// Unlike ``canonicalForm`` this keeps docs, defaults, aliases, `order`, logical types and custom properties, so it
    /// tells apart schemas that decode alike but mean different things to their users. That is what the registry's
    /// "same schema, same id" needs: Confluent's registry compares the full schema text (after its own
    /// normalization), so a changed doc or default makes a new version there too.
    public var normalizedForm: String { normalizedJSON.serializedString }

    /// ``normalizedForm`` as a JSON value.
    public var normalizedJSON: JSONValue {
        var emitted: Set<String> = []
        return Self.normalized(root, emitted: &emitted)
    }

    private static func normalized(_ type: AvroType, emitted: inout Set<String>) -> JSONValue {
        switch type {
        case .primitive(let primitive):
            if primitive.logicalType == nil, primitive.properties.isEmpty { return .string(primitive.kind.rawValue) }
            var members: [(String, JSONValue)] = [("type", .string(primitive.kind.rawValue))]
            appendLogicalType(primitive.logicalType, to: &members)
            appendProperties(primitive.properties, to: &members)
            return .object(members)
        case .reference(let name): return .string(name.fullname)
        case .union(let branches): return .array(branches.map { normalized($0, emitted: &emitted) })
        case .array(let array):
            var members: [(String, JSONValue)] = [("type", "array"), ("items", normalized(array.items, emitted: &emitted))]
            appendProperties(array.properties, to: &members)
            return .object(members)
        case .map(let map):
            var members: [(String, JSONValue)] = [("type", "map"), ("values", normalized(map.values, emitted: &emitted))]
            appendProperties(map.properties, to: &members)
            return .object(members)
        case .record(let record):
            guard emitted.insert(record.name.fullname).inserted else { return .string(record.name.fullname) }
            var members = namedHeader(record.isError ? "error" : "record", record.name, doc: record.doc, aliases: record.aliases)
            let fields: [JSONValue] = record.fields.map { field in
                var fieldMembers: [(String, JSONValue)] = [("name", .string(field.name)), ("type", normalized(field.type, emitted: &emitted))]
                if let doc = field.doc { fieldMembers.append(("doc", .string(doc))) }
                if let defaultValue = field.defaultValue { fieldMembers.append(("default", defaultValue)) }
                if field.order != .ascending { fieldMembers.append(("order", .string(field.order.rawValue))) }
                if !field.aliases.isEmpty { fieldMembers.append(("aliases", .array(field.aliases.map(JSONValue.string)))) }
                appendProperties(field.properties, to: &fieldMembers)
                return .object(fieldMembers)
            }
            members.append(("fields", .array(fields)))
            appendProperties(record.properties, to: &members)
            return .object(members)
        case .enumeration(let enumeration):
            guard emitted.insert(enumeration.name.fullname).inserted else { return .string(enumeration.name.fullname) }
            var members = namedHeader("enum", enumeration.name, doc: enumeration.doc, aliases: enumeration.aliases)
            members.append(("symbols", .array(enumeration.symbols.map(JSONValue.string))))
            if let symbol = enumeration.defaultSymbol { members.append(("default", .string(symbol))) }
            appendProperties(enumeration.properties, to: &members)
            return .object(members)
        case .fixed(let fixed):
            guard emitted.insert(fixed.name.fullname).inserted else { return .string(fixed.name.fullname) }
            var members = namedHeader("fixed", fixed.name, doc: fixed.doc, aliases: fixed.aliases)
            members.append(("size", .int(Int64(fixed.size))))
            appendLogicalType(fixed.logicalType, to: &members)
            appendProperties(fixed.properties, to: &members)
            return .object(members)
        }
    }

    private static func namedHeader(_ keyword: String, _ name: AvroName, doc: String?, aliases: [AvroName]) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [("type", .string(keyword)), ("name", .string(name.fullname))]
        if let doc { members.append(("doc", .string(doc))) }
        if !aliases.isEmpty { members.append(("aliases", .array(aliases.map { .string($0.fullname) }))) }
        return members
    }

    private static func appendLogicalType(_ logicalType: AvroLogicalType?, to members: inout [(String, JSONValue)]) {
        guard let logicalType else { return }
        members.append(("logicalType", .string(logicalType.name)))
        if case .decimal(let precision, let scale) = logicalType {
            members.append(("precision", .int(Int64(precision))))
            members.append(("scale", .int(Int64(scale))))
        }
    }

    private static func appendProperties(_ properties: AvroProperties, to members: inout [(String, JSONValue)]) {
        members.append(contentsOf: properties.members.sorted { $0.0 < $1.0 })
    }
}
