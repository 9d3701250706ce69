// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Testing

@Suite struct JSONSchemaDocumentTests {
    /// Texts the registry must refuse with 42201, and the path the message points at.
    @Test(arguments: [
        ("[1,2]", "#"),
        ("\"string\"", "#"),
        ("{\"type\":", "#"),
        (#"{"type":"strin"}"#, "#/type"),
        (#"{"type":5}"#, "#/type"),
        (#"{"type":[]}"#, "#/type"),
        (#"{"type":["string","string"]}"#, "#/type"),
        (#"{"properties":[]}"#, "#/properties"),
        (#"{"properties":{"a":3}}"#, "#/properties/a"),
        (#"{"required":"a"}"#, "#/required"),
        (#"{"required":["a",1]}"#, "#/required/1"),
        (#"{"minLength":-1}"#, "#/minLength"),
        (#"{"maxItems":1.5}"#, "#/maxItems"),
        (#"{"minItems":3,"maxItems":1}"#, "#/minItems"),
        (#"{"multipleOf":0}"#, "#/multipleOf"),
        (#"{"oneOf":[]}"#, "#/oneOf"),
        (#"{"allOf":[{"type":"nope"}]}"#, "#/allOf/0/type"),
        (#"{"items":[{"type":"string"},7]}"#, "#/items/1"),
        (#"{"additionalProperties":"no"}"#, "#/additionalProperties"),
        (#"{"enum":"a"}"#, "#/enum"),
        (#"{"pattern":1}"#, "#/pattern"),
        (##"{"properties":{"a":{"$ref":"#/definitions/missing"}}}"##, "#/properties/a/$ref"),
        (#"{"$ref":"http://example.com/other.json"}"#, "#/$ref"),
        (##"{"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}}}"##, "#"),
        (##"{"$ref":"#"}"##, "#"),
    ])
    func invalidSchemasAreRefusedWithAPath(_ text: String, _ path: String) {
        let error = #expect(throws: JSONSchemaError.self) { try JSONSchemaDocument(parsing: text) }
        #expect(error?.path == path, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("Invalid JSON Schema at \(path): ") == true)
    }

    @Test func nestingIsBounded() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: #"{"items":"#, count: depth) + "{}" + String(repeating: "}", count: depth)
        }
        _ = try JSONSchemaDocument(parsing: nested(JSONSchemaDocument.maximumDepth))
        #expect(throws: JSONSchemaError.self) { try JSONSchemaDocument(parsing: nested(JSONSchemaDocument.maximumDepth + 1)) }
    }

    @Test func validSchemasParseWithEveryKeywordAndUnknownOnesKept() throws {
        #expect(try JSONSchemaDocument(parsing: "true").root == .boolean(true))
        #expect(try JSONSchemaDocument(parsing: "false").root.admitsNothing)
        #expect(try JSONSchemaDocument(parsing: "{}").root.admitsEverything)
        #expect(try JSONSchemaDocument(parsing: #"{"title":"only an annotation","connect.type":"int8"}"#).root.admitsEverything)

        let document = try JSONSchemaDocument(
            parsing: #"""
                {"$schema":"http://json-schema.org/draft-07/schema#","type":"object","title":"Record",
                 "properties":{
                   "id":{"type":"number","connect.type":"int64","minimum":0},
                   "tags":{"type":"array","items":{"type":"string","maxLength":8},"uniqueItems":true},
                   "pair":{"type":"array","prefixItems":[{"type":"string"}],"items":false},
                   "kind":{"enum":["a","b"],"default":"a"},
                   "amount":{"title":"org.apache.kafka.connect.data.Decimal","connect.parameters":{"scale":"2"},"type":"number"},
                   "next":{"$ref":"#/$defs/node"}},
                 "required":["id"],"additionalProperties":false,
                 "$defs":{"node":{"oneOf":[{"type":"null"},{"$ref":"#"}]}}}
                """#)
        guard case .node(let root) = document.root else {
            Issue.record("the root is not an object schema")
            return
        }
        #expect(root.types == [.object])
        #expect(root.title == "Record")
        #expect(root.required == ["id"])
        #expect(root.additionalProperties == .boolean(false))
        #expect(root.properties.map(\.name) == ["id", "tags", "pair", "kind", "amount", "next"])
        #expect(root.extensionValue("$schema") == "http://json-schema.org/draft-07/schema#")
        guard case .node(let id)? = root.property("id"), case .node(let pair)? = root.property("pair"),
            case .node(let tags)? = root.property("tags"), case .node(let amount)? = root.property("amount")
        else {
            Issue.record("properties are not object schemas")
            return
        }
        #expect(id.extensionValue("connect.type") == "int64")
        #expect(id.minimum == 0)
        #expect(pair.prefixItems?.count == 1)
        #expect(pair.additionalItems == .boolean(false))
        #expect(tags.uniqueItems)
        #expect(amount.extensionValue("connect.parameters") == ["scale": "2"])
        #expect(document.resolve("#/$defs/node") != nil)
        #expect(document.resolve("#") == document.root)
    }

    @Test func referencesMayUseEscapedPointers() throws {
        let document = try JSONSchemaDocument(parsing: ##"{"definitions":{"a/b":{"type":"string"}},"$ref":"#/definitions/a~1b"}"##)
        guard case .node(let target)? = document.resolve("#/definitions/a~1b") else {
            Issue.record("the reference did not resolve")
            return
        }
        #expect(target.types == [.string])
    }
}

@Suite struct JSONSchemaCanonicalFormTests {
    @Test func keyOrderAndWhitespaceDoNotMatter() throws {
        let a = try JSONSchemaDocument(parsing: #"{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}"#)
        let b = try JSONSchemaDocument(
            parsing: """
                {
                  "properties": { "a": { "type": "integer" }, "b": { "type": "string" } },
                  "type": "object"
                }
                """)
        #expect(a.canonicalString == b.canonicalString)
        #expect(a == b)
        #expect(a.canonicalString == #"{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}"#)
    }

    @Test func numbersAndEscapesAreSpelledOneWay() throws {
        let a = try JSONSchemaDocument(parsing: #"{"maximum":10.0,"title":"\u0041"}"#)
        let b = try JSONSchemaDocument(parsing: #"{"title":"A","maximum":10}"#)
        #expect(a.canonicalString == b.canonicalString)
    }

    @Test func theLastOfDuplicateKeysWins() throws {
        let a = try JSONSchemaDocument(parsing: #"{"type":"string","type":"integer"}"#)
        #expect(a.canonicalString == #"{"type":"integer"}"#)
        guard case .node(let node) = a.root else {
            Issue.record("not an object schema")
            return
        }
        #expect(node.types == [.integer])
    }

    @Test func valuesAndArrayOrderDoMatter() throws {
        let ab = try JSONSchemaDocument(parsing: #"{"enum":["a","b"]}"#)
        let ba = try JSONSchemaDocument(parsing: #"{"enum":["b","a"]}"#)
        let other = try JSONSchemaDocument(parsing: #"{"enum":["a","c"]}"#)
        #expect(ab.canonicalString != ba.canonicalString)
        #expect(ab != other)
        #expect(try JSONSchemaDocument(parsing: "true").canonicalString == "true")
    }
}
