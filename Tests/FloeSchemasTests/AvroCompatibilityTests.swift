// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSchemas
import Testing

/// A record schema `name` with the given field declarations (JSON objects, written out).
private func record(_ fields: String..., name: String = "R", extra: String = "") -> String {
    #"{"type":"record","name":"\#(name)"\#(extra),"fields":[\#(fields.joined(separator: ","))]}"#
}

/// One registration attempt: the subject's versions (oldest first), the schema being registered, the level, and the
/// incompatibility kinds expected (empty: compatible).
struct CompatibilityCase: CustomTestStringConvertible, Sendable {
    let name: String
    let level: CompatibilityLevel
    let versions: [String]
    let new: String
    let expected: [AvroIncompatibility.Kind]

    init(_ name: String, _ level: CompatibilityLevel, _ versions: [String], _ new: String, _ expected: [AvroIncompatibility.Kind] = []) {
        self.name = name
        self.level = level
        self.versions = versions
        self.new = new
        self.expected = expected
    }

    var testDescription: String { "\(name) [\(level.rawValue)]" }
}

private let a = #"{"name":"a","type":"int"}"#
private let bNoDefault = #"{"name":"b","type":"string"}"#
private let bDefault = #"{"name":"b","type":"string","default":"x"}"#
private let v1 = record(a)

private func enumSchema(_ symbols: [String], default symbol: String? = nil) -> String {
    let list = symbols.map { "\"\($0)\"" }.joined(separator: ",")
    let defaultPart = symbol.map { #","default":"\#($0)""# } ?? ""
    return record(#"{"name":"e","type":{"type":"enum","name":"E","symbols":[\#(list)]\#(defaultPart)}}"#)
}

private func fieldOfType(_ type: String) -> String { record(#"{"name":"f","type":\#(type)}"#) }

private func linkedList(_ valueType: String, extraField: String = "") -> String {
    #"{"type":"record","name":"Node","fields":[{"name":"value","type":"\#(valueType)"},{"name":"next","type":["null","Node"],"default":null}\#(extraField)]}"#
}

private let cases: [CompatibilityCase] = [
    // Adding and removing fields.
    .init("add a field with a default", .backward, [v1], record(a, bDefault)),
    .init("add a field without a default", .backward, [v1], record(a, bNoDefault), [.readerFieldMissingDefaultValue]),
    .init("add a field without a default", .forward, [v1], record(a, bNoDefault)),
    .init("add a field with a default", .forward, [v1], record(a, bDefault)),
    .init("add a field with a default", .full, [v1], record(a, bDefault)),
    .init("add a field without a default", .full, [v1], record(a, bNoDefault), [.readerFieldMissingDefaultValue]),
    .init("remove a field without a default", .backward, [record(a, bNoDefault)], v1),
    .init("remove a field without a default", .forward, [record(a, bNoDefault)], v1, [.readerFieldMissingDefaultValue]),
    .init("remove a field that had a default", .forward, [record(a, bDefault)], v1),
    .init("remove a field that had a default", .full, [record(a, bDefault)], v1),
    // Promotions.
    .init("int to long", .backward, [fieldOfType(#""int""#)], fieldOfType(#""long""#)),
    .init("int to long", .forward, [fieldOfType(#""int""#)], fieldOfType(#""long""#), [.typeMismatch]),
    .init("long to int", .backward, [fieldOfType(#""long""#)], fieldOfType(#""int""#), [.typeMismatch]),
    .init("long to int", .forward, [fieldOfType(#""long""#)], fieldOfType(#""int""#)),
    .init("int to double", .backward, [fieldOfType(#""int""#)], fieldOfType(#""double""#)),
    .init("float to double", .backward, [fieldOfType(#""float""#)], fieldOfType(#""double""#)),
    .init("long to float", .backward, [fieldOfType(#""long""#)], fieldOfType(#""float""#)),
    .init("double to float", .backward, [fieldOfType(#""double""#)], fieldOfType(#""float""#), [.typeMismatch]),
    .init("string to bytes", .full, [fieldOfType(#""string""#)], fieldOfType(#""bytes""#)),
    .init("int to string", .backward, [fieldOfType(#""int""#)], fieldOfType(#""string""#), [.typeMismatch]),
    .init("boolean to int", .full, [fieldOfType(#""boolean""#)], fieldOfType(#""int""#), [.typeMismatch, .typeMismatch]),
    .init("a logical type added to long", .full, [fieldOfType(#""long""#)], fieldOfType(#"{"type":"long","logicalType":"timestamp-millis"}"#)),
    // Enums.
    .init("add an enum symbol", .backward, [enumSchema(["A", "B"])], enumSchema(["A", "B", "C"])),
    .init("add an enum symbol", .forward, [enumSchema(["A", "B"])], enumSchema(["A", "B", "C"]), [.missingEnumSymbols]),
    .init("add an enum symbol, old has a default", .forward, [enumSchema(["A", "B"], default: "A")], enumSchema(["A", "B", "C"])),
    .init("remove an enum symbol", .backward, [enumSchema(["A", "B", "C"])], enumSchema(["A", "B"]), [.missingEnumSymbols]),
    .init("remove an enum symbol, new has a default", .backward, [enumSchema(["A", "B", "C"])], enumSchema(["A", "B"], default: "A")),
    .init(
        "rename an enum", .backward, [enumSchema(["A"])], record(#"{"name":"e","type":{"type":"enum","name":"F","symbols":["A"]}}"#), [.nameMismatch]),
    // Unions and nullability.
    .init("widen a union", .backward, [fieldOfType(#"["null","int"]"#)], fieldOfType(#"["null","int","string"]"#)),
    .init("widen a union", .forward, [fieldOfType(#"["null","int"]"#)], fieldOfType(#"["null","int","string"]"#), [.missingUnionBranch]),
    .init("narrow a union", .backward, [fieldOfType(#"["null","int","string"]"#)], fieldOfType(#"["null","int"]"#), [.missingUnionBranch]),
    .init("reorder a union", .full, [fieldOfType(#"["null","int"]"#)], fieldOfType(#"["int","null"]"#)),
    .init("a union branch promoted", .backward, [fieldOfType(#"["null","int"]"#)], fieldOfType(#"["null","long"]"#)),
    .init("make a field nullable", .backward, [fieldOfType(#""int""#)], fieldOfType(#"["null","int"]"#)),
    .init("make a field nullable", .forward, [fieldOfType(#""int""#)], fieldOfType(#"["null","int"]"#), [.typeMismatch]),
    .init("make a field non-nullable", .backward, [fieldOfType(#"["null","int"]"#)], fieldOfType(#""int""#), [.typeMismatch]),
    .init("make a field non-nullable", .forward, [fieldOfType(#"["null","int"]"#)], fieldOfType(#""int""#)),
    // Names and aliases.
    .init("rename the record", .backward, [record(a, name: "R")], record(a, name: "S"), [.nameMismatch]),
    .init(
        "rename the record and retype a field", .backward, [record(a, name: "R")], record(#"{"name":"a","type":"string"}"#, name: "S"),
        [.nameMismatch, .typeMismatch]),
    .init("make the whole value nullable", .backward, [v1], "[\"null\",\(v1)]"),
    .init("make the whole value nullable", .forward, [v1], "[\"null\",\(v1)]", [.typeMismatch]),
    .init("rename the record with an alias", .backward, [record(a, name: "R")], record(a, name: "S", extra: #","aliases":["R"]"#)),
    .init("rename the record with an alias", .forward, [record(a, name: "R")], record(a, name: "S", extra: #","aliases":["R"]"#), [.nameMismatch]),
    .init("change only the namespace", .full, [record(a, name: "x.R")], record(a, name: "y.R")),
    .init("rename a field with an alias", .backward, [v1], record(#"{"name":"a2","type":"int","aliases":["a"]}"#)),
    .init("rename a field without an alias", .backward, [v1], record(#"{"name":"a2","type":"int"}"#), [.readerFieldMissingDefaultValue]),
    // Nested and recursive records.
    .init(
        "add a field without a default to a nested record", .backward,
        [record(#"{"name":"n","type":\#(record(a, name: "N"))}"#)],
        record(#"{"name":"n","type":\#(record(a, bNoDefault, name: "N"))}"#), [.readerFieldMissingDefaultValue]),
    .init(
        "add a field with a default to a nested record", .full,
        [record(#"{"name":"n","type":\#(record(a, name: "N"))}"#)],
        record(#"{"name":"n","type":\#(record(a, bDefault, name: "N"))}"#)),
    .init("add a field with a default to a linked list", .full, [linkedList("int")], linkedList("int", extraField: "," + bDefault)),
    .init("change a linked list's value type", .backward, [linkedList("int")], linkedList("string"), [.typeMismatch]),
    .init("widen a linked list's value type", .backward, [linkedList("int")], linkedList("long")),
    // Arrays, maps and fixed.
    .init("promote array items", .backward, [fieldOfType(#"{"type":"array","items":"int"}"#)], fieldOfType(#"{"type":"array","items":"long"}"#)),
    .init(
        "promote array items", .forward, [fieldOfType(#"{"type":"array","items":"int"}"#)], fieldOfType(#"{"type":"array","items":"long"}"#),
        [.typeMismatch]),
    .init(
        "change map values", .backward, [fieldOfType(#"{"type":"map","values":"string"}"#)], fieldOfType(#"{"type":"map","values":"int"}"#),
        [.typeMismatch]),
    .init(
        "array to map", .backward, [fieldOfType(#"{"type":"array","items":"int"}"#)], fieldOfType(#"{"type":"map","values":"int"}"#), [.typeMismatch]),
    .init(
        "change a fixed size", .backward, [fieldOfType(#"{"type":"fixed","name":"F","size":4}"#)],
        fieldOfType(#"{"type":"fixed","name":"F","size":8}"#),
        [.fixedSizeMismatch]),
    .init(
        "rename a fixed", .backward, [fieldOfType(#"{"type":"fixed","name":"F","size":4}"#)], fieldOfType(#"{"type":"fixed","name":"G","size":4}"#),
        [.nameMismatch]),
    // Top-level non-record schemas.
    .init("top-level int to long", .backward, [#""int""#], #""long""#),
    .init("top-level string to int", .backward, [#""string""#], #""int""#, [.typeMismatch]),
    // Transitive levels: three versions where only the oldest conflicts.
    .init("a default dropped after two versions", .backward, [v1, record(a, bDefault)], record(a, bNoDefault)),
    .init(
        "a default dropped after two versions", .backwardTransitive, [v1, record(a, bDefault)], record(a, bNoDefault),
        [.readerFieldMissingDefaultValue]),
    .init("a field removed after gaining a default", .forward, [record(a, #"{"name":"b","type":"int"}"#), record(a, bDefault)], v1),
    .init(
        "a field removed after gaining a default", .forwardTransitive, [record(a, #"{"name":"b","type":"int"}"#), record(a, bDefault)], v1,
        [.readerFieldMissingDefaultValue]),
    .init("a default dropped after two versions", .full, [v1, record(a, bDefault)], record(a, bNoDefault)),
    .init(
        "a default dropped after two versions", .fullTransitive, [v1, record(a, bDefault)], record(a, bNoDefault),
        [.readerFieldMissingDefaultValue]),
    // NONE and the first version.
    .init("anything goes", .none, [fieldOfType(#""int""#)], fieldOfType(#""string""#)),
    .init("the first version", .fullTransitive, [], fieldOfType(#""string""#)),
]

@Suite struct AvroCompatibilityTests {
    @Test(arguments: cases)
    func registryLevels(_ testCase: CompatibilityCase) throws {
        let versions = try testCase.versions.map { (text: String) throws(AvroSchemaError) in try AvroSchema(parsing: text) }
        let new = try AvroSchema(parsing: testCase.new)
        let problems = AvroSchema.compatibilityProblems(of: new, against: versions, level: testCase.level)
        #expect(problems.map(\.incompatibility.kind) == testCase.expected, "\(problems)")
    }

    @Test func theTableIsLargeEnough() {
        #expect(cases.count >= 40)
    }

    @Test func aMissingDefaultIsReportedAtTheReaderFieldsPath() throws {
        let reader = try AvroSchema(parsing: record(a, bNoDefault))
        let problems = reader.canRead(written: try AvroSchema(parsing: v1))
        #expect(problems == [AvroIncompatibility(.readerFieldMissingDefaultValue, path: "/fields/1", detail: "b")])
        #expect(
            problems[0].registryMessage(reader: "new", writer: "old")
                == "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the new schema has no "
                + "default value and is missing in the old schema', additionalInfo:'b'}")
    }

    @Test func nestedPathsAndDetailsFollowAvrosChecker() throws {
        let writer = try AvroSchema(
            parsing: record(
                #"{"name":"n","type":\#(record(a, #"{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}}"#, name: "N"))}"#))
        let reader = try AvroSchema(
            parsing: record(
                #"{"name":"n","type":\#(record(#"{"name":"a","type":"string"}"#, #"{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}"#, name: "N"))}"#
            ))
        #expect(
            reader.canRead(written: writer) == [
                AvroIncompatibility(
                    .typeMismatch, path: "/fields/0/type/fields/0/type", detail: "reader type: STRING not compatible with writer type: INT"),
                AvroIncompatibility(.missingEnumSymbols, path: "/fields/0/type/fields/1/type/symbols", detail: "[B, C]"),
            ])
    }

    @Test func everyWriterUnionBranchIsChecked() throws {
        let reader = try AvroSchema(parsing: #""string""#)
        let writer = try AvroSchema(parsing: #"["null","string","int"]"#)
        #expect(reader.canRead(written: writer).map(\.path) == ["/0", "/2"])
        let union = try AvroSchema(parsing: #"["null","int"]"#)
        #expect(
            union.canRead(written: try AvroSchema(parsing: #""string""#)) == [
                AvroIncompatibility(.missingUnionBranch, path: "/", detail: "reader union lacking writer type: STRING")
            ])
    }

    @Test func mutuallyRecursiveRecordsTerminate() throws {
        func tree(weight: String) -> String {
            #"""
            {"type":"record","name":"Tree","fields":[
              {"name":"children","type":{"type":"array","items":{"type":"record","name":"Branch","fields":[
                {"name":"weight","type":"\#(weight)"},{"name":"subtree","type":"Tree"}]}}}]}
            """#
        }
        let old = try AvroSchema(parsing: tree(weight: "int"))
        let new = try AvroSchema(parsing: tree(weight: "long"))
        #expect(new.canRead(written: old).isEmpty)
        #expect(old.canRead(written: new).map(\.kind) == [.typeMismatch])
    }

    /// A chain of records where each level uses the next one twice (once where it is defined, once by name), optionally
    /// through nullable unions: 2^depth paths, but only `depth` record pairs. A walk without memos would not finish.
    @Test(arguments: [false, true])
    func sharedNamedTypesAreComparedOnce(throughUnions: Bool) throws {
        let depth = 40
        func level(_ index: Int, leaf: String) -> String {
            if index == depth { return #"{"type":"record","name":"N\#(index)","fields":[{"name":"v","type":"\#(leaf)"}]}"# }
            let inner = level(index + 1, leaf: leaf)
            let (first, second) = throughUnions ? (#"["null",\#(inner)]"#, #"["null","N\#(index + 1)"]"#) : (inner, #""N\#(index + 1)""#)
            return #"{"type":"record","name":"N\#(index)","fields":[{"name":"x","type":\#(first)},{"name":"y","type":\#(second)}]}"#
        }
        let narrow = try AvroSchema(parsing: level(0, leaf: "int"))
        let wide = try AvroSchema(parsing: level(0, leaf: "long"))
        #expect(wide.canRead(written: narrow).isEmpty)
        let problems = narrow.canRead(written: wide)
        if throughUnions {
            // Each of the top record's two unions misses the writer's N1 branch; nothing deeper is reported twice.
            #expect(problems.map(\.kind) == [.missingUnionBranch, .missingUnionBranch])
            #expect(problems.map(\.path) == ["/fields/0/type/1", "/fields/1/type/1"])
        } else {
            #expect(problems.map(\.kind) == [.typeMismatch])
            #expect(problems.first?.path == "/" + Array(repeating: "fields/0/type", count: depth + 1).joined(separator: "/"))
        }
    }

    @Test func transitiveChecksStopAtTheNewestConflictingVersion() throws {
        let versions = try [v1, record(a, #"{"name":"b","type":"int"}"#), record(a, bDefault)].map {
            (text: String) throws(AvroSchemaError) in try AvroSchema(parsing: text)
        }
        let problems = AvroSchema.compatibilityProblems(
            of: try AvroSchema(parsing: record(a, bNoDefault)), against: versions, level: .backwardTransitive)
        #expect(problems.map(\.existingIndex) == [1])
        #expect(problems.map(\.direction) == [.newReadsOld])
        #expect(problems.map(\.incompatibility.kind) == [.typeMismatch])
    }

    @Test func levelsParseAsClientsSendThem() {
        #expect(CompatibilityLevel(registryName: "full_transitive") == .fullTransitive)
        #expect(CompatibilityLevel(registryName: "SIDEWAYS") == nil)
        #expect(CompatibilityLevel.full.checksBackward && CompatibilityLevel.full.checksForward && !CompatibilityLevel.full.isTransitive)
    }
}
