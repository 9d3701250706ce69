// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Testing

private typealias Kind = JSONSchemaDifference.Kind

private func schema(_ text: String) throws -> JSONSchemaDocument { try JSONSchemaDocument(parsing: text) }

/// One evolution step: data written with `writer`, read with `reader`. `kind` must appear at `path` among the
/// differences and decide the verdict; `reverseKind` is what the same pair shows the other way round (nil when the
/// reverse has no difference at all).
struct EvolutionCase: CustomTestStringConvertible, Sendable {
    var name: String
    var writer: String
    var reader: String
    var kind: JSONSchemaDifference.Kind
    var path: String = "#"
    var reverseKind: JSONSchemaDifference.Kind?
    var reversePath: String?

    var testDescription: String { name }
}

private let cases: [EvolutionCase] = [
    // Types.
    .init(
        name: "integer widened to number", writer: #"{"type":"integer"}"#, reader: #"{"type":"number"}"#, kind: .typeExtended,
        reverseKind: .typeNarrowed),
    .init(
        name: "a type removed from a type array", writer: #"{"type":["string","null"]}"#, reader: #"{"type":"string"}"#,
        kind: .typeNarrowed, reverseKind: .typeExtended),
    .init(
        name: "string changed to boolean", writer: #"{"type":"string"}"#, reader: #"{"type":"boolean"}"#, kind: .typeChanged,
        reverseKind: .typeChanged),
    .init(
        name: "a type constraint added to an unconstrained schema", writer: #"{}"#, reader: #"{"type":"string"}"#, kind: .typeNarrowed,
        reverseKind: nil),
    .init(name: "a reader that admits nothing", writer: #"{"type":"string"}"#, reader: "false", kind: .typeChanged, reverseKind: nil),
    // Strings.
    .init(
        name: "maxLength decreased", writer: #"{"type":"string","maxLength":10}"#, reader: #"{"type":"string","maxLength":5}"#,
        kind: .maxLengthDecreased, reverseKind: .maxLengthIncreased),
    .init(
        name: "maxLength added", writer: #"{"type":"string"}"#, reader: #"{"type":"string","maxLength":5}"#, kind: .maxLengthAdded,
        reverseKind: .maxLengthRemoved),
    .init(
        name: "minLength increased", writer: #"{"type":"string","minLength":1}"#, reader: #"{"type":"string","minLength":3}"#,
        kind: .minLengthIncreased, reverseKind: .minLengthDecreased),
    .init(
        name: "minLength added", writer: #"{"type":"string"}"#, reader: #"{"type":"string","minLength":3}"#, kind: .minLengthAdded,
        reverseKind: .minLengthRemoved),
    .init(
        name: "pattern added", writer: #"{"type":"string"}"#, reader: #"{"type":"string","pattern":"^a"}"#, kind: .patternAdded,
        reverseKind: .patternRemoved),
    .init(
        name: "pattern changed", writer: #"{"type":"string","pattern":"^a"}"#, reader: #"{"type":"string","pattern":"^b"}"#,
        kind: .patternChanged, reverseKind: .patternChanged),
    // Numbers.
    .init(
        name: "minimum increased", writer: #"{"type":"number","minimum":0}"#, reader: #"{"type":"number","minimum":10}"#,
        kind: .minimumIncreased, reverseKind: .minimumDecreased),
    .init(
        name: "maximum decreased", writer: #"{"type":"number","maximum":100}"#, reader: #"{"type":"number","maximum":50}"#,
        kind: .maximumDecreased, reverseKind: .maximumIncreased),
    .init(
        name: "minimum added", writer: #"{"type":"integer"}"#, reader: #"{"type":"integer","minimum":0}"#, kind: .minimumAdded,
        reverseKind: .minimumRemoved),
    .init(
        name: "exclusiveMinimum added", writer: #"{"type":"number"}"#, reader: #"{"type":"number","exclusiveMinimum":0}"#,
        kind: .exclusiveMinimumAdded, reverseKind: .exclusiveMinimumRemoved),
    .init(
        name: "draft-04 boolean exclusiveMaximum read as a bound", writer: #"{"type":"number","maximum":10,"exclusiveMaximum":true}"#,
        reader: #"{"type":"number","exclusiveMaximum":20}"#, kind: .exclusiveMaximumIncreased, reverseKind: .exclusiveMaximumDecreased),
    .init(
        name: "multipleOf reduced to a divisor", writer: #"{"type":"integer","multipleOf":10}"#, reader: #"{"type":"integer","multipleOf":5}"#,
        kind: .multipleOfReduced, reverseKind: .multipleOfExpanded),
    .init(
        name: "multipleOf changed", writer: #"{"type":"integer","multipleOf":3}"#, reader: #"{"type":"integer","multipleOf":5}"#,
        kind: .multipleOfChanged, reverseKind: .multipleOfChanged),
    // Enumerations.
    .init(
        name: "enum extended", writer: #"{"enum":["a","b"]}"#, reader: #"{"enum":["a","b","c"]}"#, kind: .enumArrayExtended,
        reverseKind: .enumArrayNarrowed),
    .init(
        name: "enum changed", writer: #"{"enum":["a","b"]}"#, reader: #"{"enum":["a","c"]}"#, kind: .enumArrayChanged, reverseKind: .enumArrayChanged),
    .init(
        name: "const widened to an enum", writer: #"{"const":"a"}"#, reader: #"{"enum":["a","b"]}"#, kind: .enumArrayExtended,
        reverseKind: .enumArrayNarrowed),
    // Arrays.
    .init(
        name: "minItems increased", writer: #"{"type":"array","minItems":1}"#, reader: #"{"type":"array","minItems":2}"#,
        kind: .minItemsIncreased, reverseKind: .minItemsDecreased),
    .init(
        name: "maxItems added", writer: #"{"type":"array"}"#, reader: #"{"type":"array","maxItems":2}"#, kind: .maxItemsAdded,
        reverseKind: .maxItemsRemoved),
    .init(
        name: "uniqueItems added", writer: #"{"type":"array"}"#, reader: #"{"type":"array","uniqueItems":true}"#, kind: .uniqueItemsAdded,
        reverseKind: .uniqueItemsRemoved),
    .init(
        name: "item type widened", writer: #"{"type":"array","items":{"type":"integer"}}"#, reader: #"{"type":"array","items":{"type":"number"}}"#,
        kind: .typeExtended, path: "#/items", reverseKind: .typeNarrowed),
    .init(
        name: "a position added to a closed tuple", writer: #"{"type":"array","prefixItems":[{"type":"string"}],"items":false}"#,
        reader: #"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}"#,
        kind: .itemAddedToClosedContentModel, path: "#/items/1", reverseKind: .itemRemovedFromClosedContentModel),
    .init(
        name: "a position added to an open draft-07 tuple", writer: #"{"type":"array","items":[{"type":"string"}]}"#,
        reader: #"{"type":"array","items":[{"type":"string"},{"type":"integer"}]}"#,
        kind: .itemAddedToOpenContentModel, path: "#/items/1", reverseKind: .itemRemovedFromOpenContentModel),
    // Objects: content models.
    .init(
        name: "a closed object opened", writer: #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
        reader: #"{"type":"object","properties":{"a":{"type":"string"}}}"#,
        kind: .additionalPropertiesAdded, path: "#/additionalProperties", reverseKind: .additionalPropertiesRemoved),
    .init(
        name: "a partially open object opened", writer: #"{"type":"object","additionalProperties":{"type":"string"}}"#,
        reader: #"{"type":"object","additionalProperties":true}"#,
        kind: .additionalPropertiesExtended, path: "#/additionalProperties", reverseKind: .additionalPropertiesNarrowed),
    .init(
        name: "a property removed from an open object", writer: #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}}}"#,
        reader: #"{"type":"object","properties":{"a":{"type":"string"}}}"#,
        kind: .propertyRemovedFromOpenContentModel, path: "#/properties/b", reverseKind: .propertyAddedToOpenContentModel),
    .init(
        name: "a property removed from a closed object",
        writer: #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":false}"#,
        reader: #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
        kind: .propertyRemovedFromClosedContentModel, path: "#/properties/b", reverseKind: .optionalPropertyAddedToUnopenContentModel),
    .init(
        name: "a required property added to a closed object",
        writer: #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
        reader: #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["b"],"additionalProperties":false}"#,
        kind: .requiredPropertyAddedToUnopenContentModel, path: "#/properties/b", reverseKind: .propertyRemovedFromClosedContentModel),
    .init(
        name: "a required property with a default added to a closed object",
        writer: #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
        reader:
            #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string","default":"x"}},"required":["b"],"additionalProperties":false}"#,
        kind: .requiredPropertyWithDefaultAddedToUnopenContentModel, path: "#/properties/b", reverseKind: .propertyRemovedFromClosedContentModel),
    .init(
        name: "an existing property made required", writer: #"{"type":"object","properties":{"a":{"type":"string"}}}"#,
        reader: #"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}"#,
        kind: .requiredAttributeAdded, path: "#/required/a", reverseKind: .requiredAttributeRemoved),
    .init(
        name: "a property with an empty schema added to an open object", writer: #"{"type":"object","properties":{"a":{"type":"string"}}}"#,
        reader: #"{"type":"object","properties":{"a":{"type":"string"},"b":{}}}"#,
        kind: .propertyWithEmptySchemaAddedToOpenContentModel, path: "#/properties/b", reverseKind: .propertyRemovedFromOpenContentModel),
    .init(
        name: "a property added that the partially open model covers",
        writer: #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}"#,
        reader: #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":{"type":"string"}}"#,
        kind: .propertyAddedIsCoveredByPartiallyOpenContentModel, path: "#/properties/b",
        reverseKind: .propertyRemovedIsCoveredByPartiallyOpenContentModel),
    .init(
        name: "a property added that the partially open model does not cover",
        writer: #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}"#,
        reader: #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":{"type":"string"}}"#,
        kind: .propertyAddedNotCoveredByPartiallyOpenContentModel, path: "#/properties/b",
        reverseKind: .propertyRemovedNotCoveredByPartiallyOpenContentModel),
    .init(
        name: "minProperties increased", writer: #"{"type":"object","minProperties":1}"#, reader: #"{"type":"object","minProperties":2}"#,
        kind: .minPropertiesIncreased, reverseKind: .minPropertiesDecreased),
    .init(
        name: "a nested property's type changed", writer: #"{"properties":{"p":{"properties":{"q":{"type":"integer"}}}}}"#,
        reader: #"{"properties":{"p":{"properties":{"q":{"type":"string"}}}}}"#,
        kind: .typeChanged, path: "#/properties/p/properties/q", reverseKind: .typeChanged),
    // Combinators.
    .init(
        name: "a type made nullable", writer: #"{"type":"string"}"#, reader: #"{"oneOf":[{"type":"null"},{"type":"string"}]}"#,
        kind: .combinedTypeExtended, reverseKind: .typeNarrowed),
    .init(
        name: "a oneOf branch added", writer: #"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#,
        reader: #"{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"boolean"}]}"#, kind: .sumTypeExtended, reverseKind: .sumTypeNarrowed),
    .init(
        name: "a oneOf branch replaced", writer: #"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#,
        reader: #"{"oneOf":[{"type":"string"},{"type":"boolean"}]}"#, kind: .combinedTypeSubschemasChanged,
        reverseKind: .combinedTypeSubschemasChanged),
    .init(
        name: "oneOf switched to anyOf", writer: #"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#,
        reader: #"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#, kind: .combinedTypeChanged, reverseKind: .combinedTypeChanged),
    .init(
        name: "an allOf conjunct dropped", writer: #"{"allOf":[{"type":"object"},{"required":["a"]}]}"#,
        reader: #"{"allOf":[{"type":"object"}]}"#, kind: .productTypeNarrowed, reverseKind: .productTypeExtended),
    .init(
        name: "not excludes more", writer: #"{"not":{"type":"string"}}"#, reader: #"{"not":{"type":["string","integer"]}}"#,
        kind: .notTypeExtended, reverseKind: .notTypeNarrowed),
    // References.
    .init(
        name: "a referenced definition changed type",
        writer: ##"{"definitions":{"x":{"type":"integer"}},"properties":{"a":{"$ref":"#/definitions/x"}}}"##,
        reader: ##"{"$defs":{"x":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/x"}}}"##,
        kind: .typeChanged, path: "#/properties/a", reverseKind: .typeChanged),
    .init(
        name: "a recursive schema widened", writer: ##"{"properties":{"v":{"type":"integer"},"next":{"$ref":"#"}}}"##,
        reader: ##"{"properties":{"v":{"type":"number"},"next":{"$ref":"#"}}}"##,
        kind: .typeExtended, path: "#/properties/v", reverseKind: .typeNarrowed),
    // Annotations.
    .init(
        name: "a title changed", writer: #"{"type":"string","title":"A"}"#, reader: #"{"type":"string","title":"B"}"#, kind: .titleChanged,
        reverseKind: .titleChanged),
]

@Suite struct JSONSchemaCompatibilityTests {
    @Test(arguments: cases) func evolution(_ evolution: EvolutionCase) throws {
        let writer = try schema(evolution.writer)
        let reader = try schema(evolution.reader)

        let forward = JSONSchemaCompatibility.differences(reader: reader, writer: writer)
        #expect(forward.contains(JSONSchemaDifference(evolution.kind, at: evolution.path)), "\(forward)")
        #expect(JSONSchemaCompatibility.isBackwardCompatible(reader: reader, writer: writer) == evolution.kind.isCompatible, "\(forward)")

        let backward = JSONSchemaCompatibility.differences(reader: writer, writer: reader)
        if let reverseKind = evolution.reverseKind {
            let reverse = JSONSchemaDifference(reverseKind, at: evolution.reversePath ?? evolution.path)
            #expect(backward.contains(reverse), "\(backward)")
            #expect(JSONSchemaCompatibility.isBackwardCompatible(reader: writer, writer: reader) == reverseKind.isCompatible, "\(backward)")
        } else {
            #expect(backward.isEmpty, "\(backward)")
        }
    }

    @Test func identicalSchemasHaveNoDifferences() throws {
        let text = #"{"type":"object","properties":{"a":{"oneOf":[{"type":"null"},{"type":"string"}]}},"required":["a"]}"#
        #expect(JSONSchemaCompatibility.differences(reader: try schema(text), writer: try schema(text)).isEmpty)
    }

    @Test func theCompatibilityOfEveryKindIsConfluents() {
        // A few anchors from Confluent's list of compatible changes, and the opposite of each.
        #expect(Kind.optionalPropertyAddedToUnopenContentModel.isCompatible)
        #expect(Kind.propertyRemovedFromOpenContentModel.isCompatible)
        #expect(!Kind.propertyAddedToOpenContentModel.isCompatible)
        #expect(!Kind.propertyRemovedFromClosedContentModel.isCompatible)
        #expect(Kind.combinedTypeExtended.isCompatible)
        #expect(!Kind.combinedTypeSubschemasChanged.isCompatible)
        #expect(JSONSchemaDifference(.typeChanged, at: "#/properties/a").description == "Difference{jsonPath='#/properties/a', type=TYPE_CHANGED}")
    }

    @Test func pathologicallyNestedSumsAreRefusedNotComputed() throws {
        var text = #"{"type":"string"}"#
        for _ in 0..<8 { text = #"{"oneOf":[\#(text),\#(text),\#(text)]}"# }
        let document = try schema(text)
        let found = JSONSchemaCompatibility.incompatibilities(reader: document, writer: document)
        #expect(found.contains { $0.kind == .schemaTooComplex })
    }
}

/// The schemas Flink's `json-registry` format registers: numbers with `connect.type`, nullable columns as
/// `oneOf` null/T, rows as objects.
@Suite struct FlinkJSONRegistryEvolutionTests {
    static func row(_ columns: [(String, String, Bool)], closed: Bool) -> String {
        let properties = columns.map { name, type, nullable in
            nullable ? #""\#(name)":{"oneOf":[{"type":"null"},\#(type)]}"# : #""\#(name)":\#(type)"#
        }
        let required = columns.filter { !$0.2 }.map { #""\#($0.0)""# }
        let closing = closed ? #","additionalProperties":false"# : ""
        return
            #"{"type":"object","title":"Record","properties":{\#(properties.joined(separator: ","))},"required":[\#(required.joined(separator: ","))]\#(closing)}"#
    }
    static let int = #"{"type":"number","connect.type":"int32"}"#
    static let bigint = #"{"type":"number","connect.type":"int64"}"#
    static let string = #"{"type":"string"}"#
    static let date = #"{"type":"number","connect.type":"int32","title":"org.apache.kafka.connect.data.Date"}"#

    @Test func addingANullableColumnToAClosedRowIsBackwardCompatible() throws {
        let v1 = try schema(Self.row([("id", Self.int, false), ("day", Self.date, true)], closed: true))
        let v2 = try schema(Self.row([("id", Self.int, false), ("day", Self.date, true), ("name", Self.string, true)], closed: true))
        let differences = JSONSchemaCompatibility.differences(reader: v2, writer: v1)
        #expect(differences == [JSONSchemaDifference(.optionalPropertyAddedToUnopenContentModel, at: "#/properties/name")])
        #expect(JSONSchemaCompatibility.check(v2, against: [v1], level: .backward).isEmpty)
        // FORWARD fails: the old closed reader refuses records that carry the new column.
        let forward = JSONSchemaCompatibility.check(v2, against: [v1], level: .forward)
        #expect(forward.map(\.direction) == [.existingCannotReadNew])
        #expect(forward.first?.differences == [JSONSchemaDifference(.propertyRemovedFromClosedContentModel, at: "#/properties/name")])
    }

    @Test func addingANullableColumnToAnOpenRowFollowsConfluentsOpenContentRule() throws {
        let v1 = try schema(Self.row([("id", Self.int, false)], closed: false))
        let v2 = try schema(Self.row([("id", Self.int, false), ("name", Self.string, true)], closed: false))
        #expect(
            JSONSchemaCompatibility.incompatibilities(reader: v2, writer: v1)
                == [JSONSchemaDifference(.propertyAddedToOpenContentModel, at: "#/properties/name")])
        // The other way an open reader simply ignores the column.
        #expect(JSONSchemaCompatibility.check(v2, against: [v1], level: .forward).isEmpty)
    }

    @Test func intToBigintIsCompatibleBothWaysAsConfluentIgnoresConnectType() throws {
        let v1 = try schema(Self.row([("id", Self.int, false), ("n", Self.int, true)], closed: true))
        let v2 = try schema(Self.row([("id", Self.bigint, false), ("n", Self.bigint, true)], closed: true))
        #expect(JSONSchemaCompatibility.differences(reader: v2, writer: v1).isEmpty)
        #expect(JSONSchemaCompatibility.check(v2, against: [v1], level: .fullTransitive).isEmpty)
        // The annotation is kept for the format layer, which needs it to choose INT or BIGINT.
        guard case .node(let root) = v2.root, case .node(let id)? = root.property("id") else {
            Issue.record("not an object schema")
            return
        }
        #expect(id.extensionValue("connect.type") == "int64")
    }

    @Test func makingANullableColumnNotNullIsIncompatible() throws {
        let v1 = try schema(Self.row([("id", Self.int, true)], closed: true))
        let v2 = try schema(Self.row([("id", Self.int, false)], closed: true))
        let found = JSONSchemaCompatibility.incompatibilities(reader: v2, writer: v1)
        #expect(found.contains(JSONSchemaDifference(.typeNarrowed, at: "#/properties/id")))
        #expect(found.contains(JSONSchemaDifference(.requiredAttributeAdded, at: "#/required/id")))
    }
}

@Suite struct JSONSchemaCompatibilityLevelTests {
    static let closed = #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#
    static let withDefault =
        #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer","default":0}},"required":["b"],"additionalProperties":false}"#
    static let withoutDefault =
        #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["b"],"additionalProperties":false}"#

    @Test func onlyTheTransitiveCheckSeesTheFirstVersion() throws {
        // v2 adds `b` as required with a default (compatible with v1); v3 drops the default (compatible with v2,
        // whose records always carry `b`) — but v1's records lack `b` and v3 has no default to fill in.
        let v1 = try schema(Self.closed)
        let v2 = try schema(Self.withDefault)
        let v3 = try schema(Self.withoutDefault)
        #expect(JSONSchemaCompatibility.check(v2, against: [v1], level: .backward).isEmpty)
        #expect(JSONSchemaCompatibility.check(v3, against: [v1, v2], level: .backward).isEmpty)
        let problems = JSONSchemaCompatibility.check(v3, against: [v1, v2], level: .backwardTransitive)
        #expect(problems.count == 1)
        #expect(problems.first?.existingIndex == 0)
        #expect(problems.first?.direction == .newCannotReadExisting)
        #expect(problems.first?.differences == [JSONSchemaDifference(.requiredPropertyAddedToUnopenContentModel, at: "#/properties/b")])
        #expect(problems.first?.description.contains("Found incompatible change: Difference{jsonPath='#/properties/b'") == true)
    }

    @Test func levelsCheckTheirDirections() throws {
        let narrow = try schema(#"{"type":"integer"}"#)
        let wide = try schema(#"{"type":"number"}"#)
        // wide after narrow: wide reads narrow's data, narrow cannot read wide's.
        #expect(JSONSchemaCompatibility.check(wide, against: [narrow], level: .backward).isEmpty)
        #expect(JSONSchemaCompatibility.check(wide, against: [narrow], level: .forward).map(\.direction) == [.existingCannotReadNew])
        #expect(JSONSchemaCompatibility.check(wide, against: [narrow], level: .full).map(\.direction) == [.existingCannotReadNew])
        #expect(JSONSchemaCompatibility.check(narrow, against: [wide], level: .backward).map(\.direction) == [.newCannotReadExisting])
        #expect(JSONSchemaCompatibility.check(narrow, against: [wide], level: .forward).isEmpty)
        #expect(JSONSchemaCompatibility.check(narrow, against: [wide], level: .none).isEmpty)
        #expect(JSONSchemaCompatibility.check(narrow, against: [], level: .fullTransitive).isEmpty)
    }

    @Test func nonTransitiveLevelsLookOnlyAtTheLatestVersion() throws {
        let string = try schema(#"{"type":"string"}"#)
        let number = try schema(#"{"type":"number"}"#)
        #expect(JSONSchemaCompatibility.check(number, against: [string, number], level: .full).isEmpty)
        let transitive = JSONSchemaCompatibility.check(number, against: [string, number], level: .fullTransitive)
        #expect(transitive.map(\.existingIndex) == [0, 0])
        #expect(Set(transitive.map(\.direction)) == [.newCannotReadExisting, .existingCannotReadNew])
        #expect(JSONSchemaCompatibility.Level(rawValue: "FORWARD_TRANSITIVE") == .forwardTransitive)
    }

    @Test func transitiveChecksReportTheNewestVersionWithProblems() throws {
        let string = try schema(#"{"type":"string"}"#)
        let boolean = try schema(#"{"type":"boolean"}"#)
        let number = try schema(#"{"type":"number"}"#)
        let problems = JSONSchemaCompatibility.check(number, against: [string, boolean], level: .backwardTransitive)
        #expect(problems.map(\.existingIndex) == [1])
        #expect(problems.first?.differences == [JSONSchemaDifference(.typeChanged, at: "#")])
    }
}

@Suite struct JSONSchemaCombinatorEdgeTests {
    @Test func aReaderAnyOfNextToOneOfMustNotChange() throws {
        let writer = try JSONSchemaDocument(parsing: #"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#)
        let reader = try JSONSchemaDocument(
            parsing: #"{"oneOf":[{"type":"string"},{"type":"integer"}],"anyOf":[{"type":"string"}]}"#)
        #expect(
            JSONSchemaCompatibility.incompatibilities(reader: reader, writer: writer)
                == [JSONSchemaDifference(.combinedTypeChanged, at: "#")])
        #expect(JSONSchemaCompatibility.isBackwardCompatible(reader: writer, writer: reader))
    }
}
