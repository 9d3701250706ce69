// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Testing

/// The registry's rules without HTTP or SQL: ids, versions, compatibility on register, deletes and levels, with
/// Confluent's error codes.
@Suite struct SchemaRegistryStateTests {
    static func record(_ fields: String) -> SchemaDefinition {
        SchemaDefinition(text: #"{"type":"record","name":"Order","namespace":"t","fields":[\#(fields)]}"#)
    }

    static let v1 = record(#"{"name":"id","type":"long"}"#)
    static let v2 = record(#"{"name":"id","type":"long"},{"name":"qty","type":"int","default":1}"#)
    static let v3 = record(
        #"{"name":"id","type":"long"},{"name":"qty","type":"int","default":1},{"name":"note","type":["null","string"],"default":null}"#)
    /// Incompatible with v1 under BACKWARD: a new field without a default.
    static let noDefault = record(#"{"name":"id","type":"long"},{"name":"price","type":"double"}"#)

    /// The registry error code `body` throws; nil when it does not throw, -1 for another error.
    func code(_ body: () throws -> Void) -> Int? {
        do {
            try body()
            return nil
        } catch {
            return (error as? SchemaRegistryError)?.errorCode ?? -1
        }
    }

    @Test func registerIsIdempotentOnTheSchemaNotItsSpelling() throws {
        var state = SchemaRegistryState()
        let first = try state.register(subject: "s", definition: Self.v1)
        #expect(first == SchemaRegistration(id: SchemaRegistryState.firstID, version: 1, existed: false))
        let respelled = SchemaDefinition(text: #"{ "namespace": "t", "name": "Order", "type": "record", "fields": [ {"type":"long","name":"id"} ] }"#)
        let again = try state.register(subject: "s", definition: respelled)
        #expect(again == SchemaRegistration(id: first.id, version: 1, existed: true))
        #expect(state.drainChanges().count == 2)
        // A changed default is a different schema: a new id and version.
        let otherDefault = Self.record(#"{"name":"id","type":"long","default":5}"#)
        let changed = try state.register(subject: "s", definition: otherDefault)
        #expect(changed.id != first.id && changed.version == 2)
    }

    @Test func idsAreSharedBetweenSubjectsAndVersionsCountPerSubject() throws {
        var state = SchemaRegistryState()
        let a = try state.register(subject: "a-value", definition: Self.v1)
        let b = try state.register(subject: "b-value", definition: Self.v2)
        let c = try state.register(subject: "c-value", definition: Self.v1)
        #expect(c.id == a.id && c.version == 1)
        #expect(b.id == a.id + 1)
        #expect(state.usages(ofSchema: a.id).map(\.subject) == ["a-value", "c-value"])
        #expect(state.subjectNames() == ["a-value", "b-value", "c-value"])
    }

    @Test func compatibilityIsCheckedAtTheSubjectsLevel() throws {
        var state = SchemaRegistryState()
        _ = try state.register(subject: "s", definition: Self.v1)
        #expect(code { _ = try state.register(subject: "s", definition: Self.noDefault) } == 40901)
        #expect(state.pendingChanges.count == 2, "a refused register records nothing")
        _ = try state.register(subject: "s", definition: Self.v2)
        // The subject's level wins over the global one; NONE lets anything through.
        try state.setLevel(.full, subject: nil)
        try state.setLevel(.none, subject: "s")
        #expect(state.effectiveLevel(of: "s") == CompatibilityLevel.none)
        #expect(try state.register(subject: "s", definition: Self.noDefault).version == 3)
        #expect(state.effectiveLevel(of: "other") == .full)
    }

    @Test func messagesNameTheVersionAndLevel() throws {
        var state = SchemaRegistryState()
        _ = try state.register(subject: "s", definition: Self.v1)
        do {
            _ = try state.register(subject: "s", definition: Self.noDefault)
            Issue.record("registered an incompatible schema")
        } catch {
            #expect(error.httpStatus == 409)
            #expect(error.message.contains(#"subject "s""#))
            #expect(error.message.contains("{oldSchemaVersion: 1}"))
            #expect(error.message.contains("{compatibility: 'BACKWARD'}"))
        }
        let messages = try state.compatibilityMessages(of: Self.noDefault, subject: "s", against: .latest)
        #expect(!messages.isEmpty)
        #expect(try state.compatibilityMessages(of: Self.v2, subject: "s", against: nil).isEmpty)
        #expect(try state.compatibilityMessages(of: Self.noDefault, subject: "new", against: nil).isEmpty)
        #expect(code { _ = try state.compatibilityMessages(of: Self.v2, subject: "new", against: .latest) } == 40401)
        #expect(code { _ = try state.compatibilityMessages(of: Self.v2, subject: "s", against: .number(9)) } == 40402)
    }

    @Test func transitiveLevelsCheckEveryLiveVersion() throws {
        var state = SchemaRegistryState()
        // Version 1 has a string id, version 2 (v1) a long one; only version 1 conflicts with v2.
        let old = Self.record(#"{"name":"id","type":"string"}"#)
        try state.setLevel(.none, subject: "s")
        _ = try state.register(subject: "s", definition: old)
        _ = try state.register(subject: "s", definition: Self.v1)
        try state.setLevel(.backward, subject: "s")
        // BACKWARD looks at the latest version only: compatible.
        #expect(try state.compatibilityMessages(of: Self.v2, subject: "s", against: nil).isEmpty)
        try state.setLevel(.backwardTransitive, subject: "s")
        // BACKWARD_TRANSITIVE also reads the string id of version 1: long cannot read string.
        let messages = try state.compatibilityMessages(of: Self.v2, subject: "s", against: nil)
        #expect(messages.contains("{oldSchemaVersion: 1}"))
        // Soft-deleted versions are not checked.
        _ = try state.deleteVersion(.number(1), of: "s", permanent: false)
        #expect(try state.compatibilityMessages(of: Self.v2, subject: "s", against: nil).isEmpty)
    }

    @Test func jsonSchemasAndTypeChanges() throws {
        var state = SchemaRegistryState()
        let closed = SchemaDefinition(
            type: .json, text: #"{"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":false}"#)
        let retyped = SchemaDefinition(
            type: .json, text: #"{"type":"object","properties":{"id":{"type":"string"}},"additionalProperties":false}"#)
        let first = try state.register(subject: "j", definition: closed)
        #expect(code { _ = try state.register(subject: "j", definition: retyped) } == 40901)
        #expect(code { _ = try state.register(subject: "j", definition: Self.v1) } == 40901, "AVRO after JSON is a type change")
        #expect(state.schemas[first.id]?.type == .json)
    }

    @Test func invalidAndUnsupportedSchemasAre42201() {
        var state = SchemaRegistryState()
        #expect(code { _ = try state.register(subject: "s", definition: SchemaDefinition(text: "{not json")) } == 42201)
        #expect(code { _ = try state.register(subject: "s", definition: SchemaDefinition(text: #"{"type":"record"}"#)) } == 42201)
        #expect(code { _ = try state.register(subject: "s", definition: SchemaDefinition(type: .json, text: "[1]")) } == 42201)
        #expect(code { _ = try state.register(subject: "s", definition: SchemaDefinition(type: .protobuf, text: "syntax = \"proto3\";")) } == 42201)
        let withReferences = SchemaDefinition(text: #""int""#, references: [SchemaReference(name: "x", subject: "y", version: 1)])
        #expect(code { _ = try state.register(subject: "s", definition: withReferences) } == 42201)
        #expect(code { _ = try state.register(subject: "", definition: Self.v1) } == 42208)
        #expect(code { _ = try state.register(subject: "a\u{0}b", definition: Self.v1) } == 42208)
        #expect(state.pendingChanges.isEmpty && state.subjects.isEmpty)
    }

    @Test func normalizeStoresTheNormalizedForm() throws {
        var state = SchemaRegistryState()
        let spaced = SchemaDefinition(text: #"{"type": "record", "name": "R", "namespace": "n", "fields": [{"name": "a", "type": {"type": "int"}}]}"#)
        let plain = try state.register(subject: "plain", definition: spaced)
        #expect(state.schemas[plain.id]?.text == #"{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":{"type":"int"}}]}"#)
        var other = SchemaRegistryState()
        let normalized = try other.register(subject: "n", definition: spaced, normalize: true)
        #expect(other.schemas[normalized.id]?.text == other.schemas[normalized.id]?.identity)
        #expect(other.schemas[normalized.id]?.text.contains("n.R") == true)
    }

    @Test func versionsAndLookups() throws {
        var state = SchemaRegistryState()
        _ = try state.register(subject: "s", definition: Self.v1)
        let second = try state.register(subject: "s", definition: Self.v2)
        #expect(try state.versions(of: "s") == [1, 2])
        #expect(try state.version(.latest, of: "s").id == second.id)
        #expect(try state.version(.number(1), of: "s").text.contains("Order"))
        #expect(code { _ = try state.version(.number(3), of: "s") } == 40402)
        #expect(code { _ = try state.versions(of: "missing") } == 40401)
        #expect(try state.lookup(subject: "s", definition: Self.v1).version == 1)
        #expect(code { _ = try state.lookup(subject: "s", definition: Self.v3) } == 40403)
        #expect(code { _ = try state.lookup(subject: "missing", definition: Self.v3) } == 40401)
        #expect(code { _ = try state.schema(id: 1) } == 40403)
        #expect(state.latest(of: "s")?.version == 2)
    }

    @Test func versionSelectorsParseLikeTheRegistry() throws {
        #expect(try VersionSelector(parsing: "latest") == .latest)
        #expect(try VersionSelector(parsing: "LATEST") == .latest)
        #expect(try VersionSelector(parsing: "-1") == .latest)
        #expect(try VersionSelector(parsing: "7") == .number(7))
        for bad in ["0", "-2", "x", "", "2147483648", "1.5"] {
            #expect(code { _ = try VersionSelector(parsing: bad) } == 42202, "\(bad)")
        }
    }

    @Test func subjectDeletesFollowConfluentsOrder() throws {
        var state = SchemaRegistryState()
        let first = try state.register(subject: "s", definition: Self.v1)
        _ = try state.register(subject: "s", definition: Self.v2)
        try state.setLevel(.full, subject: "s")
        #expect(code { _ = try state.deleteSubject("missing", permanent: false) } == 40401)
        #expect(code { _ = try state.deleteSubject("s", permanent: true) } == 40405)
        #expect(try state.deleteSubject("s", permanent: false) == [1, 2])
        #expect(code { _ = try state.deleteSubject("s", permanent: false) } == 40404)
        #expect(state.subjectNames().isEmpty && state.subjectNames(includeDeleted: true) == ["s"])
        #expect(code { _ = try state.versions(of: "s") } == 40401)
        #expect(try state.versions(of: "s", includeDeleted: true) == [1, 2])
        // Still readable by id, and re-registering makes version 3 (versions are not reused while stored).
        #expect(try state.schema(id: first.id).id == first.id)
        #expect(try state.register(subject: "s", definition: Self.v1) == SchemaRegistration(id: first.id, version: 3, existed: false))
        _ = try state.deleteSubject("s", permanent: false)
        #expect(try state.deleteSubject("s", permanent: true) == [1, 2, 3])
        #expect(state.subjects["s"] == nil && state.subjectLevels["s"] == nil)
        #expect(code { _ = try state.schema(id: first.id) } == 40403)
        // After a permanent delete versions start again at 1, and the schema keeps its id.
        #expect(try state.register(subject: "s", definition: Self.v1) == SchemaRegistration(id: first.id, version: 1, existed: false))
    }

    @Test func versionDeletesFollowConfluentsOrder() throws {
        var state = SchemaRegistryState()
        _ = try state.register(subject: "s", definition: Self.v1)
        _ = try state.register(subject: "s", definition: Self.v2)
        #expect(code { _ = try state.deleteVersion(.number(1), of: "missing", permanent: false) } == 40401)
        #expect(code { _ = try state.deleteVersion(.number(5), of: "s", permanent: false) } == 40402)
        #expect(code { _ = try state.deleteVersion(.number(1), of: "s", permanent: true) } == 40407)
        #expect(try state.deleteVersion(.latest, of: "s", permanent: false) == 2)
        #expect(code { _ = try state.deleteVersion(.number(2), of: "s", permanent: false) } == 40406)
        #expect(try state.deleteVersion(.latest, of: "s", permanent: false) == 1)
        #expect(code { _ = try state.deleteVersion(.latest, of: "s", permanent: false) } == 40406)
        #expect(try state.deleteVersion(.latest, of: "s", permanent: true) == 2)
        #expect(try state.deleteVersion(.number(1), of: "s", permanent: true) == 1)
        #expect(state.subjects.isEmpty)
    }

    @Test func levels() throws {
        var state = SchemaRegistryState()
        #expect(state.globalCompatibility == .backward)
        #expect(code { _ = try state.removeLevel(subject: "nothing") } == 40401)
        _ = try state.register(subject: "s", definition: Self.v1)
        #expect(code { _ = try state.removeLevel(subject: "s") } == 40408)
        try state.setLevel(.forwardTransitive, subject: "s")
        try state.setLevel(.full, subject: nil)
        #expect(try state.removeLevel(subject: "s") == .forwardTransitive)
        #expect(try state.removeLevel(subject: nil) == .full)
        #expect(try state.removeLevel(subject: nil) == .backward, "resetting the default again answers the default")
        // A level may be set on a subject before it has versions (CREATE TABLE sets the key subject's first).
        try state.setLevel(.fullTransitive, subject: "t-key")
        #expect(state.effectiveLevel(of: "t-key") == .fullTransitive)
    }

    @Test func limitsHold() throws {
        var state = SchemaRegistryState(limits: SchemaRegistryLimits(subjects: 2, versionsPerSubject: 2, schemaBytes: 200))
        _ = try state.register(subject: "a", definition: Self.v1)
        _ = try state.register(subject: "b", definition: Self.v1)
        #expect(code { _ = try state.register(subject: "c", definition: Self.v1) } == 42205)
        _ = try state.register(subject: "a", definition: Self.v2)
        #expect(code { _ = try state.register(subject: "a", definition: Self.v3) } == 42205)
        let huge = SchemaDefinition(text: #"{"type":"enum","name":"E","symbols":["\#(String(repeating: "A", count: 300))"]}"#)
        #expect(code { _ = try state.register(subject: "a", definition: huge) } == 42209)
        // Re-registering an existing schema is never refused by a limit.
        #expect(try state.register(subject: "a", definition: Self.v2).existed)
    }

    @Test func loadingRebuildsTheSameState() throws {
        var state = SchemaRegistryState()
        _ = try state.register(subject: "s", definition: Self.v1)
        _ = try state.register(subject: "s", definition: Self.v2)
        try state.setLevel(.full, subject: "s")
        _ = try state.deleteVersion(.number(1), of: "s", permanent: false)
        var loaded = SchemaRegistryState()
        for change in state.drainChanges() {
            switch change {
            case .schemaAdded(let schema): loaded.load(schema)
            case .versionSaved(let version): loaded.load(version)
            case .levelSaved(let subject, let level?): loaded.load(level: level, subject: subject)
            case .versionRemoved, .levelSaved: Issue.record("unexpected \(change)")
            }
        }
        #expect(loaded.subjects == state.subjects && loaded.schemas == state.schemas && loaded.subjectLevels == state.subjectLevels)
        // The next id continues after the loaded ones, and known schemas keep theirs.
        #expect(try loaded.register(subject: "t", definition: Self.v3).id == SchemaRegistryState.firstID + 2)
        #expect(try loaded.register(subject: "u", definition: Self.v1).id == SchemaRegistryState.firstID)
    }
}
