// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSchemas
import Testing

/// A schema text and its Parsing Canonical Form.
struct CanonicalCase: CustomTestStringConvertible, Sendable {
    let text: String
    let canonical: String

    init(_ text: String, _ canonical: String) {
        self.text = text
        self.canonical = canonical
    }

    var testDescription: String { text }
}

/// Inputs and canonical forms in the manner of the Avro specification's examples and its `schema-tests.txt`
/// vectors: simple forms for primitives, fullnames, the fixed key order, stripped attributes, later uses by name.
private let canonicalCases: [CanonicalCase] = [
    .init(#""null""#, #""null""#),
    .init(#"{"type":"null"}"#, #""null""#),
    .init(#"{"type":"int","logicalType":"date"}"#, #""int""#),
    .init(#"{"type":"string","connect.type":"x","doc":"d"}"#, #""string""#),
    .init(#"{"type":"fixed","name":"foo","size":1}"#, #"{"name":"foo","type":"fixed","size":1}"#),
    .init(#"{"type":"fixed","name":"foo","namespace":"x.y","size":1}"#, #"{"name":"x.y.foo","type":"fixed","size":1}"#),
    .init(#"{"type":"fixed","name":"a.foo","namespace":"x.y","size":1}"#, #"{"name":"a.foo","type":"fixed","size":1}"#),
    .init(#"{"size":1,"type":"fixed","name":"foo","aliases":["bar"],"doc":"d"}"#, #"{"name":"foo","type":"fixed","size":1}"#),
    .init(#"{"type":"enum","name":"e","symbols":["A","B"],"default":"A"}"#, #"{"name":"e","type":"enum","symbols":["A","B"]}"#),
    .init(#"{"type":"array","items":"int","extra":1}"#, #"{"type":"array","items":"int"}"#),
    .init(#"{"values":{"type":"long"},"type":"map"}"#, #"{"type":"map","values":"long"}"#),
    .init(#"["null", {"type":"string"}]"#, #"["null","string"]"#),
    .init(
        #"{"type":"record","name":"foo","fields":[{"name":"f1","type":"boolean","default":true,"doc":"x","order":"descending"}]}"#,
        #"{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}"#),
    // The specification's example: the enum is spelled out once, then named by fullname.
    .init(
        #"""
        {"type": "record", "name": "PCF", "namespace": "org.apache.avro",
         "fields": [{"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
                    {"name": "b", "type": "E"}]}
        """#,
        #"{"name":"org.apache.avro.PCF","type":"record","fields":[{"name":"a","type":{"name":"org.apache.avro.E","type":"enum","symbols":["A"]}},{"name":"b","type":"org.apache.avro.E"}]}"#
    ),
    .init(
        #"{"type":"record","name":"Node","namespace":"ll","fields":[{"name":"next","type":["null","Node"],"default":null}]}"#,
        #"{"name":"ll.Node","type":"record","fields":[{"name":"next","type":["null","ll.Node"]}]}"#),
    .init(#""\u0069nt""#, #""int""#),
]

@Suite struct AvroCanonicalFormTests {
    @Test(arguments: canonicalCases)
    func parsingCanonicalForm(_ testCase: CanonicalCase) throws {
        #expect(try AvroSchema(parsing: testCase.text).canonicalForm == testCase.canonical)
    }

    @Test func twoSpellingsOfOneSchemaHaveOneCanonicalForm() throws {
        let first = try AvroSchema(
            parsing: #"""
                {"type":"record","name":"Order","namespace":"shop","doc":"An order",
                 "fields":[{"name":"id","type":{"type":"long"}},
                           {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","DONE"]}},
                           {"name":"previous","type":["null","Status"],"default":null}]}
                """#)
        let second = try AvroSchema(
            parsing:
                #"{"fields":[{"type":"long","name":"id"},{"name":"status","type":{"symbols":["NEW","DONE"],"name":"shop.Status","type":"enum"}},{"type":["null","shop.Status"],"name":"previous"}],"name":"shop.Order","type":"record"}"#
        )
        #expect(first.canonicalForm == second.canonicalForm)
        #expect(first.fingerprint64 == second.fingerprint64)
        // The doc and the default make them different registered schemas all the same.
        #expect(first.normalizedForm != second.normalizedForm)
    }

    @Test func theFingerprintIsAvrosRabinFingerprint() throws {
        // From Avro's schema-tests.txt: the fingerprint of "null".
        #expect(try AvroSchema(parsing: #""null""#).fingerprint64 == 7_195_948_357_588_979_594)
        #expect(try AvroSchema(parsing: #""int""#).fingerprint64 != (try AvroSchema(parsing: #""long""#).fingerprint64))
    }

    @Test func theNormalizedFormKeepsEverythingInOneOrder() throws {
        let spelled = #"""
            {"namespace":"n","name":"R","type":"record","doc":"d","aliases":["Old"],"fields":[
              {"type":{"type":"string","flink.maxLength":5,"connect.type":"x"},"name":"s","default":"a","doc":"f"},
              {"name":"t","type":{"logicalType":"timestamp-millis","type":"long"},"order":"ignore"},
              {"name":"m","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":1}}],
             "custom":true}
            """#
        let schema = try AvroSchema(parsing: spelled)
        #expect(
            schema.normalizedForm
                == #"{"type":"record","name":"n.R","doc":"d","aliases":["n.Old"],"fields":["#
                + #"{"name":"s","type":{"type":"string","connect.type":"x","flink.maxLength":5},"doc":"f","default":"a"},"#
                + #"{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"},"order":"ignore"},"#
                + #"{"name":"m","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":1}}],"custom":true}"#)
        // The normalized form is itself a schema that parses back to the same model.
        #expect(try AvroSchema(parsing: schema.normalizedForm) == schema)
        #expect(try AvroSchema(parsing: schema.canonicalForm).canonicalForm == schema.canonicalForm)
    }
}
