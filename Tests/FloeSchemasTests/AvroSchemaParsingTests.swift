// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Testing

/// A schema text that must be refused, and the kind of error it must be refused with.
struct InvalidSchemaCase: CustomTestStringConvertible, Sendable {
    let name: String
    let text: String
    let kind: AvroSchemaError.Kind

    init(_ name: String, _ text: String, _ kind: AvroSchemaError.Kind) {
        self.name = name
        self.text = text
        self.kind = kind
    }

    var testDescription: String { name }
}

private let invalidCases: [InvalidSchemaCase] = [
    .init("not JSON", #"{"type":"record""#, .invalidJSON),
    .init("a number", "42", .invalidAttribute),
    .init("a name starting with a digit", #"{"type":"record","name":"1abc","fields":[]}"#, .invalidName),
    .init("a name with a dash", #"{"type":"enum","name":"a-b","symbols":["A"]}"#, .invalidName),
    .init("an empty namespace part", #"{"type":"fixed","name":"F","namespace":"com..x","size":1}"#, .invalidName),
    .init("a bad field name", #"{"type":"record","name":"R","fields":[{"name":"my field","type":"int"}]}"#, .invalidName),
    .init("a bad enum symbol", #"{"type":"enum","name":"E","symbols":["ok","not ok"]}"#, .invalidName),
    .init("a duplicate enum symbol", #"{"type":"enum","name":"E","symbols":["A","B","A"]}"#, .duplicateSymbol),
    .init("an enum default that is no symbol", #"{"type":"enum","name":"E","symbols":["A"],"default":"B"}"#, .invalidDefault),
    .init("a duplicate field", #"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}"#, .duplicateField),
    .init("a string default for an int", #"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}"#, .invalidDefault),
    .init("an int default out of range", #"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":4294967296}]}"#, .invalidDefault),
    .init("a fraction for a long", #"{"type":"record","name":"R","fields":[{"name":"a","type":"long","default":1.5}]}"#, .invalidDefault),
    .init("a null default for a string", #"{"type":"record","name":"R","fields":[{"name":"a","type":"string","default":null}]}"#, .invalidDefault),
    .init(
        "a union default for the second branch", #"{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"],"default":1}]}"#,
        .invalidDefault),
    .init(
        "a record default missing a member without default",
        #"{"type":"record","name":"R","fields":[{"name":"p","type":{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]},"default":{}}]}"#,
        .invalidDefault),
    .init(
        "a fixed default of the wrong length",
        #"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":2},"default":"abc"}]}"#, .invalidDefault),
    .init(
        "an array default with a wrong element",
        #"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"int"},"default":[1,"x"]}]}"#,
        .invalidDefault),
    .init("a nested union", #"["null",["int","string"]]"#, .invalidUnion),
    .init("a duplicate union branch", #"["int","string","int"]"#, .invalidUnion),
    .init("two ints in a union, one a date", #"["int",{"type":"int","logicalType":"date"}]"#, .invalidUnion),
    .init("two arrays in a union", #"[{"type":"array","items":"int"},{"type":"array","items":"string"}]"#, .invalidUnion),
    .init("an unknown type", #"{"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}"#, .undefinedName),
    .init("a type keyword that is not one", #"{"type":"integer"}"#, .undefinedName),
    .init(
        "a reference before the definition",
        #"{"type":"record","name":"R","fields":[{"name":"a","type":"E"},{"name":"b","type":{"type":"enum","name":"E","symbols":["A"]}}]}"#,
        .undefinedName),
    .init(
        "a name defined twice",
        #"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"enum","name":"E","symbols":["A"]}},{"name":"b","type":{"type":"fixed","name":"E","size":1}}]}"#,
        .redefinedName),
    .init("a primitive name redefined", #"{"type":"fixed","name":"int","size":4}"#, .redefinedName),
    .init("a record without fields", #"{"type":"record","name":"R"}"#, .invalidAttribute),
    .init("a record without a name", #"{"type":"record","fields":[]}"#, .invalidAttribute),
    .init("a fixed without a size", #"{"type":"fixed","name":"F"}"#, .invalidAttribute),
    .init("an array without items", #"{"type":"array"}"#, .invalidAttribute),
    .init("a bad field order", #"{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"sideways"}]}"#, .invalidAttribute),
    .init("too deep", String(repeating: #"{"type":"array","items":"#, count: 300) + #""int""# + String(repeating: "}", count: 300), .tooDeep),
]

@Suite struct AvroSchemaParsingTests {
    @Test(arguments: invalidCases)
    func invalidSchemasAreRefused(_ testCase: InvalidSchemaCase) {
        #expect {
            _ = try AvroSchema(parsing: testCase.text)
        } throws: { error in
            (error as? AvroSchemaError)?.kind == testCase.kind
        }
    }

    @Test func errorsSayWhere() {
        #expect {
            _ = try AvroSchema(parsing: #"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"Nope"}]}"#)
        } throws: { error in
            (error as? AvroSchemaError)?.message == #"Undefined name: "Nope" at /fields/1/type"#
        }
    }

    @Test func namespacesAreInheritedAndNamesResolved() throws {
        let schema = try AvroSchema(
            parsing: #"""
                {"type":"record","name":"Outer","namespace":"com.example","fields":[
                  {"name":"inner","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}},
                  {"name":"again","type":"Inner"},
                  {"name":"qualified","type":"com.example.Inner"},
                  {"name":"other","type":{"type":"enum","name":"org.other.Color","namespace":"ignored","symbols":["RED"]}},
                  {"name":"nullNamespace","type":{"type":"fixed","name":"Hash","namespace":"","size":16}},
                  {"name":"hashAgain","type":"Hash"},
                  {"name":"colorAgain","type":"org.other.Color"}]}
                """#)
        #expect(Set(schema.namedTypes.keys) == ["com.example.Outer", "com.example.Inner", "org.other.Color", "Hash"])
        guard case .record(let outer) = schema.root else {
            Issue.record("not a record")
            return
        }
        #expect(
            outer.fields.map(\.type.name?.fullname) == [
                "com.example.Inner", "com.example.Inner", "com.example.Inner", "org.other.Color", "Hash", "Hash", "org.other.Color",
            ])
        guard case .reference = outer.fields[1].type, case .record = schema.resolved(outer.fields[1].type) else {
            Issue.record("a later use of a name must be a reference that resolves to the definition")
            return
        }
    }

    @Test func aRecursiveSchemaRefersToItself() throws {
        let schema = try AvroSchema(
            parsing:
                #"{"type":"record","name":"LinkedList","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","LinkedList"],"default":null}]}"#
        )
        guard case .record(let list) = schema.root, case .union(let branches) = list.fields[1].type else {
            Issue.record("unexpected shape")
            return
        }
        #expect(branches == [.primitive(.null), .reference(AvroName(name: "LinkedList", namespace: ""))])
    }

    @Test func logicalTypesAndExtraAttributesAreKept() throws {
        let schema = try AvroSchema(
            parsing: #"""
                {"type":"record","name":"R","fields":[
                  {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
                  {"name":"day","type":{"type":"int","logicalType":"date"}},
                  {"name":"at","type":{"type":"long","logicalType":"local-timestamp-micros"}},
                  {"name":"tiny","type":{"type":"int","connect.type":"int8"}},
                  {"name":"name","type":{"type":"string","flink.maxLength":20},"doc":"who"},
                  {"name":"bad","type":{"type":"bytes","logicalType":"decimal","precision":2,"scale":5}},
                  {"name":"wrongBase","type":{"type":"string","logicalType":"date"}},
                  {"name":"span","type":{"type":"fixed","name":"D","size":12,"logicalType":"duration"}}]}
                """#)
        guard case .record(let record) = schema.root else {
            Issue.record("not a record")
            return
        }
        func primitive(_ index: Int) -> AvroPrimitiveType? {
            if case .primitive(let primitive) = record.fields[index].type { return primitive }
            return nil
        }
        #expect(primitive(0)?.logicalType == .decimal(precision: 10, scale: 2))
        #expect(primitive(1)?.logicalType == .date)
        #expect(primitive(2)?.logicalType == .localTimestampMicros)
        #expect(primitive(3)?.properties["connect.type"] == "int8")
        #expect(primitive(4)?.properties["flink.maxLength"] == 20)
        #expect(record.fields[4].doc == "who")
        // An invalid logical type is ignored, as the specification says, but its attributes survive.
        #expect(primitive(5)?.logicalType == nil)
        #expect(primitive(5)?.properties["logicalType"] == "decimal")
        #expect(primitive(6)?.logicalType == nil)
        guard case .fixed(let fixed) = record.fields[7].type else {
            Issue.record("not a fixed")
            return
        }
        #expect(fixed.logicalType == .duration)
    }

    @Test func validDefaultsAreAccepted() throws {
        let schema = try AvroSchema(
            parsing: #"""
                {"type":"record","name":"R","fields":[
                  {"name":"a","type":["null","string"],"default":null},
                  {"name":"b","type":["string","null"],"default":"x"},
                  {"name":"c","type":"double","default":1},
                  {"name":"d","type":"bytes","default":"\u00ff\u0000"},
                  {"name":"e","type":{"type":"map","values":"long"},"default":{"k":1}},
                  {"name":"f","type":{"type":"record","name":"P","fields":[{"name":"x","type":"int","default":0},{"name":"y","type":"int"}]},"default":{"y":2}},
                  {"name":"g","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"},"default":"B"},
                  {"name":"h","type":"float","default":"NaN"}]}
                """#)
        guard case .record(let record) = schema.root else {
            Issue.record("not a record")
            return
        }
        #expect(record.fields.map(\.defaultValue) == [.null, "x", 1, "\u{ff}\u{0}", ["k": 1], ["y": 2], "B", "NaN"])
    }

    @Test func aliasesResolveAgainstTheirNamespace() throws {
        let schema = try AvroSchema(parsing: #"{"type":"record","name":"R","namespace":"a.b","aliases":["Old","x.y.Older"],"fields":[]}"#)
        guard case .record(let record) = schema.root else {
            Issue.record("not a record")
            return
        }
        #expect(record.aliases.map(\.fullname) == ["a.b.Old", "x.y.Older"])
    }

    @Test func deepButBoundedSchemasParse() throws {
        let depth = 200
        let text = String(repeating: #"{"type":"array","items":"#, count: depth) + #""int""# + String(repeating: "}", count: depth)
        let schema = try AvroSchema(parsing: text)
        #expect(schema.canRead(written: schema).isEmpty)
        #expect(schema.canonicalForm.count > depth)
    }
}
