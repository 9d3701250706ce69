// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Testing

/// The JSON parser and serializer.
@Suite struct JSONValueTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    /// The error parsing `text` throws, or `nil` if it parses.
    func parseError(_ text: String) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(text)
            return nil
        } catch {
            return error
        }
    }

    /// JSON text is UTF-8 (RFC 8259 §8.1): invalid bytes in a string are refused with their offset, never replaced.
    @Test(arguments: [
        [0x22, 0xFF, 0x22] as [UInt8], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22],
        [0x22, 0x5C, 0x6E, 0xFE, 0x22],
    ])
    func invalidUTF8IsRefused(_ bytes: [UInt8]) throws {
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
        #expect(error?.reason == "invalid UTF-8 in a string" && error?.offset == 1)
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x7B, 0x22, 0x6B, 0x22, 0x3A] + bytes + [0x7D]) }
        #expect(try JSONValue.parse([0x22, 0xC3, 0xA9, 0x22]) == .string("é"))
    }

    // MARK: Round trips

    @Test(arguments: [
        "null", "true", "false", "0", "-1", "42", "1.5", "-0.25", "\"\"", "\"hello\"", "[]", "{}",
        "[1,2.5,\"x\",null,true,[],{}]",
        #"{"a":1,"b":[true,false,null],"c":{"d":"e/f","g":-7}}"#,
        #"{"s":"line\nbreak\ttab\r\"quote\"\\back"}"#,
        #"{"z":1,"a":2,"m":3}"#,
        #"{"emoji":"😀","accents":"é中"}"#,
        "9223372036854775807", "-9223372036854775808",
    ])
    func serializeOfParseIsIdentityForCompactInput(text: String) throws {
        let value = try parse(text)
        #expect(value.serializedString == text)
        #expect(try parse(value.serializedString) == value)
    }

    @Test func parseIgnoresInsignificantWhitespace() throws {
        let value = try parse(" \n\t{ \"a\" : [ 1 , 2 ] ,\r\n \"b\" : null } \n")
        #expect(value.serializedString == #"{"a":[1,2],"b":null}"#)
    }

    @Test func builtValuesRoundTrip() throws {
        let value: JSONValue = [
            "name": "pool",
            "tags": ["a", "b"],
            "size": 20,
            "ratio": .double(0.75),
            "nothing": nil,
            "enabled": true,
            "nested": ["deep": ["deeper": [1, 2, 3]]],
            "weird": "\u{0}\u{1F}\u{7F}\"\\/\u{1F600}",
        ]
        let reparsed = try JSONValue.parse(value.serialized())
        #expect(reparsed == value)
        #expect(reparsed.serializedString == value.serializedString)
    }

    @Test func objectsKeepMemberOrder() throws {
        let value = try parse(#"{"b":1,"a":2,"c":3}"#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.0) == ["b", "a", "c"])
        let built: JSONValue = ["z": 1, "y": 2]
        #expect(built.serializedString == #"{"z":1,"y":2}"#)
    }

    // MARK: Strings and escapes

    @Test func escapesAreDecoded() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u4E2D""#) == .string("Aé中"))
        #expect(try parse(#""a\u0000b""#) == .string("a\u{0}b"))
    }

    @Test func surrogatePairsDecodeToOneScalar() throws {
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""\uD834\uDD1E""#) == .string("\u{1D11E}"))
        #expect(try parse(#""x\ud83d\ude00y""#) == .string("x😀y"))
    }

    @Test(arguments: [
        #""\ud83d""#,  // high surrogate at the end
        #""\ud83dx""#,  // high surrogate followed by a character
        #""\ud83d\u0041""#,  // high surrogate followed by a non-surrogate
        #""\ud83d\ud83d""#,  // two high surrogates
        #""\ude00""#,  // lone low surrogate
        #""\u12""#,  // truncated
        #""\u12G4""#,  // not hex
        #""\x41""#,  // unknown escape
        #""\'""#,
    ])
    func badEscapesAreRejected(text: String) {
        #expect(parseError(text) != nil)
    }

    @Test func serializationEscapesOnlyWhatItMust() {
        #expect(JSONValue.string("a/b").serializedString == #""a/b""#, "'/' is not escaped")
        #expect(JSONValue.string("\"\\").serializedString == #""\"\\""#)
        #expect(JSONValue.string("\n\r\t").serializedString == #""\n\r\t""#)
        #expect(JSONValue.string("\u{0}\u{8}\u{C}\u{1F}").serializedString == #""\u0000\u0008\u000c\u001f""#)
        #expect(JSONValue.string("é😀").serializedString == "\"é😀\"", "non-ASCII is written as UTF-8")
        #expect(JSONValue.string("\u{7F}").serializedString == "\"\u{7F}\"")
        #expect(JSONValue.object([("k/\"", "v")]).serializedString == #"{"k/\"":"v"}"#)
    }

    @Test func controlCharactersInStringsAreRejected() throws {
        let error = try #require(parseError("\"a\nb\""))
        #expect(error.offset == 2)
        #expect(parseError("\"\u{1}\"") != nil)
    }

    // MARK: Numbers

    @Test func integersParseAsInt() throws {
        #expect(try parse("0") == .int(0))
        #expect(try parse("-0") == .int(0))
        #expect(try parse("123456789012") == .int(123_456_789_012))
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        guard case .int = try parse("7") else {
            Issue.record("7 should parse as an integer")
            return
        }
    }

    @Test func fractionsExponentsAndOverflowParseAsDouble() throws {
        for (text, expected) in [
            ("1.5", 1.5), ("-0.5", -0.5), ("1e3", 1000), ("1E-2", 0.01), ("2.5e+2", 250), ("1.0", 1.0),
            ("9223372036854775808", 9_223_372_036_854_775_808.0),
        ] {
            let value = try parse(text)
            guard case .double(let number) = value else {
                Issue.record("\(text) should parse as a double, got \(value)")
                continue
            }
            #expect(number == expected, "\(text)")
        }
    }

    @Test func intAndDoubleOfSameValueAreEqual() {
        #expect(JSONValue.int(1) == .double(1.0))
        #expect(JSONValue.double(1.0) == .int(1))
        #expect(JSONValue.int(1) != .double(1.5))
        #expect(JSONValue.int(1) != .string("1"))
    }

    @Test func numberSerialization() {
        #expect(JSONValue.int(-42).serializedString == "-42")
        #expect(JSONValue.double(1000).serializedString == "1000", "whole doubles are written without a fraction")
        #expect(JSONValue.double(-3).serializedString == "-3")
        #expect(JSONValue.double(1.5).serializedString == "1.5")
        #expect(JSONValue.double(0.1).serializedString == "0.1")
        #expect(JSONValue.double(.nan).serializedString == "null")
        #expect(JSONValue.double(.infinity).serializedString == "null")
        #expect(JSONValue.double(1e20).serializedString == "1e+20")
    }

    @Test func intValueAcceptsWholeDoublesOnly() {
        #expect(JSONValue.int(5).intValue == 5)
        #expect(JSONValue.double(5).intValue == 5)
        #expect(JSONValue.double(5.5).intValue == nil)
        #expect(JSONValue.double(1e300).intValue == nil)
        #expect(JSONValue.string("5").intValue == nil)
    }

    @Test(arguments: ["01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "--1", "1.e3", "NaN", "Infinity"])
    func malformedNumbersAreRejected(text: String) {
        #expect(parseError(text) != nil)
    }

    // MARK: Errors

    @Test func missingValueReportsOffset() throws {
        let error = try #require(parseError(#"{"a":}"#))
        #expect(error.offset == 5)
        #expect(error.description.contains("at byte 5"))
    }

    @Test func trailingGarbageReportsOffset() throws {
        let error = try #require(parseError(#"{"a":1} x"#))
        #expect(error.offset == 8)
        #expect(error.reason.contains("after the JSON value"))
        #expect(try #require(parseError("[1,2]]")).offset == 5)
        #expect(try #require(parseError("truex")).offset == 4)
        #expect(try #require(parseError("{} {}")).offset == 3)
    }

    @Test(arguments: [
        ("", 0), ("   ", 3), ("{", 1), ("[", 1), ("[1,", 3), ("[1 2]", 3), ("{\"a\" 1}", 5), ("{\"a\":1,}", 7), ("{,}", 1),
        ("{1:2}", 1), ("[1,]", 3), ("tru", 3), ("nul", 3), ("trux", 3), ("\"abc", 4), ("{\"a\":1", 6), ("'a'", 0),
    ])
    func malformedInputReportsWhereParsingStopped(text: String, offset: Int) throws {
        let error = try #require(parseError(text))
        #expect(error.offset == offset, "\(text): \(error)")
    }

    @Test func offsetsAreInBytes() throws {
        // "é" is two UTF-8 bytes, so the missing value sits at byte 6, not character 5.
        let error = try #require(parseError(#"{"é":}"#))
        #expect(error.offset == 6)
    }

    @Test func nestingUpTo512LevelsIsAccepted() throws {
        let arrays = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(parseError(arrays) == nil)
        let objects = String(repeating: #"{"a":"#, count: 511) + "[]" + String(repeating: "}", count: 511)
        #expect(parseError(objects) == nil)
    }

    @Test func nestingDeeperThan512LevelsIsRefused() throws {
        let arrays = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        let error = try #require(parseError(arrays))
        #expect(error.reason.contains("deep"))
        #expect(error.offset == 512)
        // Without the limit this would exhaust the stack.
        #expect(parseError(String(repeating: "[", count: 100_000)) != nil)
        #expect(parseError(String(repeating: #"{"a":"#, count: 100_000)) != nil)
    }

    // MARK: Equality and access

    @Test func objectEqualityIgnoresKeyOrder() throws {
        #expect(try parse(#"{"a":1,"b":[1,{"x":true,"y":null}]}"#) == parse(#"{"b":[1,{"y":null,"x":true}],"a":1}"#))
        #expect(try parse(#"{"a":1,"b":2}"#) != parse(#"{"a":1,"b":3}"#))
        #expect(try parse(#"{"a":1,"b":2}"#) != parse(#"{"a":1,"c":2}"#))
        #expect(try parse(#"{"a":1}"#) != parse(#"{"a":1,"b":2}"#))
        #expect(try parse(#"{"a":1,"b":2}"#) != parse(#"{"a":1}"#))
    }

    @Test func arrayEqualityRespectsOrder() throws {
        #expect(try parse("[1,2]") != parse("[2,1]"))
        #expect(try parse("[1,2]") == parse("[1,2.0]"))
    }

    @Test func objectEqualityIsSymmetricWithDuplicateKeys() throws {
        let duplicated = try parse(#"{"a":1,"a":1}"#)
        let distinct = try parse(#"{"a":1,"b":2}"#)
        #expect(distinct != duplicated)
        #expect(duplicated != distinct)
        #expect((duplicated == distinct) == (distinct == duplicated), "== must be symmetric")
        #expect(try parse(#"{"a":1,"a":2}"#) == parse(#"{"a":2}"#), "the last duplicate wins")
    }

    @Test func subscriptAndPaths() throws {
        let value = try parse(#"{"spec":{"owner":{"id":"u-1"}},"dup":1,"dup":2,"list":[1]}"#)
        #expect(value.value(at: "spec", "owner", "id") == "u-1")
        #expect(value.value(at: "spec", "missing", "id") == nil)
        #expect(value["dup"] == 2, "the last duplicate wins")
        #expect(value["list"]?["x"] == nil)
        #expect(value["list"]?.arrayValue?.count == 1)
        #expect(JSONValue.string("x")["a"] == nil)
        #expect(JSONValue.object(omittingNil: [("a", 1), ("b", nil), ("c", .null)]).serializedString == #"{"a":1,"c":null}"#)
        #expect(JSONValue.string(orNull: nil) == .null)
        #expect(JSONValue.null.isNull && !JSONValue.int(0).isNull)
        #expect(JSONValue.int(0).typeName == "number" && JSONValue.double(1).typeName == "number")
    }
}
