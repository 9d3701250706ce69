// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// A schema stored in a registry under its id: what every version registered with that id points at.
public struct StoredSchema: Sendable, Hashable {
    public var id: Int
    public var type: SchemaType
    /// The text `GET /schemas/ids/{id}` returns: the submitted text compacted, or its normalized form when it was
    /// registered with `normalize=true`.
    public var text: String
    /// What "the same schema" means: the Avro normalized form (every attribute, one spelling) or the JSON Schema's
    /// sorted-key form. Two submissions with the same type, identity and references get one id.
    public var identity: String
    public var references: [SchemaReference]

    public init(id: Int, type: SchemaType, text: String, identity: String, references: [SchemaReference]) {
        self.id = id
        self.type = type
        self.text = text
        self.identity = identity
        self.references = references
    }
}

/// One version of a subject.
public struct SubjectVersion: Sendable, Hashable {
    public var subject: String
    public var version: Int
    public var schemaID: Int
    /// Soft-deleted: hidden unless deleted versions are asked for, no longer checked for compatibility, still
    /// readable by schema id (records written with it must stay readable).
    public var deleted: Bool

    public init(subject: String, version: Int, schemaID: Int, deleted: Bool) {
        self.subject = subject
        self.version = version
        self.schemaID = schemaID
        self.deleted = deleted
    }
}

/// A change of a registry to persist, recorded by the mutating operations of ``SchemaRegistryState``.
public enum SchemaRegistryChange: Sendable, Hashable {
    /// A schema got its id (schemas are never rewritten).
    case schemaAdded(StoredSchema)
    /// A version was added or its deleted flag changed.
    case versionSaved(SubjectVersion)
    /// A version was permanently deleted.
    case versionRemoved(subject: String, version: Int)
    /// The level of a subject (`nil`: the global level) was set, or removed when `level` is `nil`.
    case levelSaved(subject: String?, level: CompatibilityLevel?)
}

/// Which version of a subject a request names: a number, or `latest` (also spelled `-1`).
public enum VersionSelector: Sendable, Hashable {
    case latest
    case number(Int)

    /// Parses a version path segment.
    /// - Throws: 42202 for anything but `latest`, `-1` or a number in 1…2³¹−1.
    public init(parsing text: String) throws(SchemaRegistryError) {
        if text.lowercased() == "latest" || text == "-1" {
            self = .latest
        } else if let number = Int32(text), number > 0 {
            self = .number(Int(number))
        } else {
            throw .invalidVersion(text)
        }
    }
}

/// How much one registry holds, so that a client (or a loop in one) cannot grow the store without bound.
public struct SchemaRegistryLimits: Sendable, Hashable {
    /// Subjects with at least one stored version.
    public var subjects: Int
    /// Stored versions (soft-deleted ones included) per subject.
    public var versionsPerSubject: Int
    /// Bytes of one schema text.
    public var schemaBytes: Int
    /// Characters of a subject name (topic names are at most 249, plus `-value` and a context prefix).
    public var subjectLength: Int

    public init(subjects: Int = 10_000, versionsPerSubject: Int = 1_000, schemaBytes: Int = 1 << 20, subjectLength: Int = 1_024) {
        self.subjects = subjects
        self.versionsPerSubject = versionsPerSubject
        self.schemaBytes = schemaBytes
        self.subjectLength = subjectLength
    }
}

/// The rules of one Schema Registry as a value: subjects, their versions, schema ids, compatibility levels.
///
/// Ids are global to the registry and shared between subjects: registering a schema that the registry already knows
/// (same type, identity and references) under another subject reuses its id, as Confluent's registry does, so a
/// record's id names its writer schema whichever subject it came through. Versions count from 1 per subject and are
/// never reused while a version (even a soft-deleted one) is stored. Compatibility is checked on register against the
/// subject's non-deleted versions, at the subject's level, else the registry's, else BACKWARD.
///
/// Like ``ControlPlaneState``, operations either throw without changing anything or apply their change and record it
/// in ``pendingChanges``; the store persists those and only then publishes the new value.
public struct SchemaRegistryState: Sendable {
    /// Schemas by id.
    public private(set) var schemas: [Int: StoredSchema] = [:]
    /// Versions of each subject, ascending; a subject with no stored version has no entry.
    public private(set) var subjects: [String: [SubjectVersion]] = [:]
    /// Levels set on subjects.
    public private(set) var subjectLevels: [String: CompatibilityLevel] = [:]
    /// The registry-wide level, when one was set.
    public private(set) var globalLevel: CompatibilityLevel?
    public var limits: SchemaRegistryLimits
    /// Changes since the store last drained them.
    public private(set) var pendingChanges: [SchemaRegistryChange] = []
    private var idsByIdentity: [IdentityKey: Int] = [:]
    private var lastID = Self.firstID - 1

    /// The first id handed out (Confluent Cloud's registries start there too; any value would do).
    public static let firstID = 100_001
    /// The level of a registry nobody configured.
    public static let defaultLevel = CompatibilityLevel.backward

    private struct IdentityKey: Hashable {
        var type: SchemaType
        var identity: String
        var references: [SchemaReference]
    }

    public init(limits: SchemaRegistryLimits = SchemaRegistryLimits()) {
        self.limits = limits
    }

    // MARK: Loading and changes

    /// Adds a stored schema (when the store reads the database).
    public mutating func load(_ schema: StoredSchema) {
        schemas[schema.id] = schema
        idsByIdentity[IdentityKey(type: schema.type, identity: schema.identity, references: schema.references)] = schema.id
        lastID = max(lastID, schema.id)
    }

    /// Adds a stored version (in any order).
    public mutating func load(_ version: SubjectVersion) {
        var versions = subjects[version.subject] ?? []
        versions.removeAll { $0.version == version.version }
        versions.append(version)
        versions.sort { $0.version < $1.version }
        subjects[version.subject] = versions
    }

    /// Sets a stored level (`subject` nil: the global one).
    public mutating func load(level: CompatibilityLevel, subject: String?) {
        if let subject { subjectLevels[subject] = level } else { globalLevel = level }
    }

    /// Takes the recorded changes, leaving none pending.
    public mutating func drainChanges() -> [SchemaRegistryChange] {
        defer { pendingChanges = [] }
        return pendingChanges
    }

    // MARK: Reading

    /// The subjects with a non-deleted version (or any version, with `includeDeleted`), sorted.
    public func subjectNames(includeDeleted: Bool = false) -> [String] {
        subjects.filter { includeDeleted || $0.value.contains { !$0.deleted } }.keys.sorted()
    }

    /// The visible versions of `subject`.
    /// - Throws: 40401 when it has none.
    public func versions(of subject: String, includeDeleted: Bool = false) throws(SchemaRegistryError) -> [Int] {
        let versions = visibleVersions(of: subject, includeDeleted: includeDeleted).map(\.version)
        guard !versions.isEmpty else { throw .subjectNotFound(subject) }
        return versions
    }

    /// One version of a subject with its schema.
    /// - Throws: 40401 when the subject has no visible version, 40402 when it lacks this one.
    public func version(
        _ selector: VersionSelector, of subject: String, includeDeleted: Bool = false
    ) throws(SchemaRegistryError) -> RegisteredSchema {
        let versions = visibleVersions(of: subject, includeDeleted: includeDeleted)
        guard let last = versions.last else { throw .subjectNotFound(subject) }
        switch selector {
        case .latest: return registered(last)
        case .number(let number):
            guard let found = versions.first(where: { $0.version == number }) else { throw .versionNotFound(number) }
            return registered(found)
        }
    }

    /// The latest non-deleted version of `subject`, if any.
    public func latest(of subject: String) -> RegisteredSchema? {
        visibleVersions(of: subject, includeDeleted: false).last.map(registered)
    }

    /// The schema with `id`, as long as some version (soft-deleted ones included) still uses it.
    /// - Throws: 40403 otherwise.
    public func schema(id: Int) throws(SchemaRegistryError) -> StoredSchema {
        guard let schema = schemas[id], !usages(ofSchema: id, includeDeleted: true).isEmpty else { throw .schemaNotFound(id) }
        return schema
    }

    /// The versions that use schema `id`, ordered by subject and version.
    public func usages(ofSchema id: Int, includeDeleted: Bool = false) -> [SubjectVersion] {
        subjects.keys.sorted().flatMap { subject in
            subjects[subject]!.filter { $0.schemaID == id && (includeDeleted || !$0.deleted) }
        }
    }

    /// The version of `subject` whose schema is `definition` (`POST /subjects/{s}`).
    /// - Throws: 42201 for a schema that does not parse, 40401 when the subject has no visible version, 40403 when
    ///   none of them is this schema.
    public func lookup(
        subject: String, definition: SchemaDefinition, includeDeleted: Bool = false
    ) throws(SchemaRegistryError) -> RegisteredSchema {
        let candidate = try ParsedSchema(definition)
        let versions = visibleVersions(of: subject, includeDeleted: includeDeleted)
        guard !versions.isEmpty else { throw .subjectNotFound(subject) }
        guard let id = idsByIdentity[identityKey(candidate, definition)],
            let found = versions.last(where: { $0.schemaID == id })
        else { throw .schemaNotFound() }
        return registered(found)
    }

    /// The level a register under `subject` is checked at.
    public func effectiveLevel(of subject: String) -> CompatibilityLevel {
        subjectLevels[subject] ?? globalCompatibility
    }

    /// The registry-wide level.
    public var globalCompatibility: CompatibilityLevel { globalLevel ?? Self.defaultLevel }

    /// Why `definition` could not be registered under `subject` at the subject's level (`POST /compatibility/…`):
    /// checked against one version, or against the versions the level covers when `selector` is nil. Empty means
    /// compatible.
    /// - Throws: 42201 for an invalid schema; with a selector, 40401/40402 when the version does not exist.
    public func compatibilityMessages(
        of definition: SchemaDefinition, subject: String, against selector: VersionSelector?
    ) throws(SchemaRegistryError) -> [String] {
        let candidate = try ParsedSchema(definition)
        try Self.requireSupported(definition)
        let existing: [SubjectVersion]
        if let selector {
            let chosen = try version(selector, of: subject)
            existing = visibleVersions(of: subject, includeDeleted: false).filter { $0.version == chosen.version }
        } else {
            existing = visibleVersions(of: subject, includeDeleted: false)
        }
        return try problems(of: candidate, against: existing, level: effectiveLevel(of: subject))
    }

    // MARK: Registering

    /// Registers `definition` under `subject` (`POST /subjects/{s}/versions`).
    ///
    /// The same schema again (same identity, whatever its spelling) returns the version that has it. A new one is
    /// checked at the subject's level against its non-deleted versions, gets the id the registry already has for it
    /// or a new one, and the version after the highest stored one.
    /// - Parameter normalize: store the normalized form rather than the submitted text.
    /// - Throws: 42208 (subject), 42209 (size), 42201 (invalid or unsupported), 40901 (incompatible), 42205 (limits).
    public mutating func register(
        subject: String, definition: SchemaDefinition, normalize: Bool = false
    ) throws(SchemaRegistryError) -> SchemaRegistration {
        try validate(subject: subject)
        guard definition.text.utf8.count <= limits.schemaBytes else {
            throw .schemaTooLarge(definition.text.utf8.count, limit: limits.schemaBytes)
        }
        let candidate = try ParsedSchema(definition)
        try Self.requireSupported(definition)
        let key = identityKey(candidate, definition)
        let stored = subjects[subject] ?? []
        let live = stored.filter { !$0.deleted }
        if let knownID = idsByIdentity[key], let existing = live.last(where: { $0.schemaID == knownID }) {
            return SchemaRegistration(id: knownID, version: existing.version, existed: true)
        }
        let messages = try problems(of: candidate, against: live, level: effectiveLevel(of: subject))
        guard messages.isEmpty else { throw .incompatible(subject: subject, messages: messages) }
        if stored.isEmpty, subjects.count >= limits.subjects {
            throw .limitExceeded("This registry holds at most \(limits.subjects) subjects; delete subjects permanently to make room.")
        }
        guard stored.count < limits.versionsPerSubject else {
            throw .limitExceeded(
                "Subject '\(subject)' holds at most \(limits.versionsPerSubject) versions; delete versions permanently to make room.")
        }
        let id: Int
        if let knownID = idsByIdentity[key] {
            id = knownID
        } else {
            lastID += 1
            id = lastID
            let schema = StoredSchema(
                id: id, type: definition.type, text: normalize ? candidate.identity : ParsedSchema.compact(definition.text),
                identity: candidate.identity,
                references: definition.references)
            load(schema)
            pendingChanges.append(.schemaAdded(schema))
        }
        let version = SubjectVersion(subject: subject, version: (stored.last?.version ?? 0) + 1, schemaID: id, deleted: false)
        load(version)
        pendingChanges.append(.versionSaved(version))
        return SchemaRegistration(id: id, version: version.version, existed: false)
    }

    // MARK: Deleting

    /// Deletes every version of `subject` (`DELETE /subjects/{s}`): softly, or permanently after a soft delete.
    /// A permanent delete also drops the subject's level.
    /// - Returns: the versions deleted.
    /// - Throws: 40401 (no such subject), 40404 (soft delete of a soft-deleted subject), 40405 (permanent delete of a
    ///   live one).
    public mutating func deleteSubject(_ subject: String, permanent: Bool) throws(SchemaRegistryError) -> [Int] {
        guard let stored = subjects[subject], !stored.isEmpty else { throw .subjectNotFound(subject) }
        let live = stored.filter { !$0.deleted }
        if permanent {
            guard live.isEmpty else { throw .subjectNotSoftDeleted(subject) }
            subjects[subject] = nil
            for version in stored { pendingChanges.append(.versionRemoved(subject: subject, version: version.version)) }
            if subjectLevels.removeValue(forKey: subject) != nil { pendingChanges.append(.levelSaved(subject: subject, level: nil)) }
            return stored.map(\.version)
        }
        guard !live.isEmpty else { throw .subjectSoftDeleted(subject) }
        for var version in live {
            version.deleted = true
            load(version)
            pendingChanges.append(.versionSaved(version))
        }
        return live.map(\.version)
    }

    /// Deletes one version (`DELETE /subjects/{s}/versions/{v}`): softly, or permanently after a soft delete.
    /// `latest` is the latest non-deleted version for a soft delete (the latest stored one when all are deleted), the
    /// latest stored one for a permanent delete. As in Confluent's registry, a subject whose versions are all
    /// soft-deleted still exists here, so deleting one of them again is a 40406, not a 40401.
    /// - Returns: the version deleted.
    /// - Throws: 40401, 40402, 40406 (already soft-deleted), 40407 (permanent delete of a live version).
    public mutating func deleteVersion(
        _ selector: VersionSelector, of subject: String, permanent: Bool
    ) throws(SchemaRegistryError) -> Int {
        let stored = subjects[subject] ?? []
        guard let last = stored.last else { throw .subjectNotFound(subject) }
        let target: SubjectVersion
        switch selector {
        case .latest:
            target = permanent ? last : stored.last { !$0.deleted } ?? last
        case .number(let number):
            guard let found = stored.first(where: { $0.version == number }) else { throw .versionNotFound(number) }
            target = found
        }
        if permanent {
            guard target.deleted else { throw .versionNotSoftDeleted(subject: subject, version: target.version) }
            let remaining = stored.filter { $0.version != target.version }
            subjects[subject] = remaining.isEmpty ? nil : remaining
            pendingChanges.append(.versionRemoved(subject: subject, version: target.version))
        } else {
            guard !target.deleted else { throw .versionSoftDeleted(subject: subject, version: target.version) }
            var deleted = target
            deleted.deleted = true
            load(deleted)
            pendingChanges.append(.versionSaved(deleted))
        }
        return target.version
    }

    // MARK: Levels

    /// Sets the level of `subject`, or the registry's when `subject` is nil.
    public mutating func setLevel(_ level: CompatibilityLevel, subject: String?) throws(SchemaRegistryError) {
        if let subject {
            try validate(subject: subject)
            if subjectLevels[subject] == nil, subjectLevels.count >= limits.subjects {
                throw .limitExceeded("This registry holds at most \(limits.subjects) subject configurations.")
            }
        }
        load(level: level, subject: subject)
        pendingChanges.append(.levelSaved(subject: subject, level: level))
    }

    /// Removes the level of `subject` (which then follows the registry's), or resets the registry's to the default.
    /// - Returns: the level that was in effect before.
    /// - Throws: 40401 for a subject without a level and without versions, 40408 for one with versions but no level.
    public mutating func removeLevel(subject: String?) throws(SchemaRegistryError) -> CompatibilityLevel {
        guard let subject else {
            let previous = globalCompatibility
            if globalLevel != nil {
                globalLevel = nil
                pendingChanges.append(.levelSaved(subject: nil, level: nil))
            }
            return previous
        }
        guard let previous = subjectLevels.removeValue(forKey: subject) else {
            if subjects[subject] == nil { throw .subjectNotFound(subject) }
            throw .subjectLevelCompatibilityNotConfigured(subject)
        }
        pendingChanges.append(.levelSaved(subject: subject, level: nil))
        return previous
    }

    // MARK: Helpers

    private func visibleVersions(of subject: String, includeDeleted: Bool) -> [SubjectVersion] {
        (subjects[subject] ?? []).filter { includeDeleted || !$0.deleted }
    }

    private func registered(_ version: SubjectVersion) -> RegisteredSchema {
        let schema = schemas[version.schemaID]!
        return RegisteredSchema(
            id: schema.id, subject: version.subject, version: version.version, type: schema.type, text: schema.text,
            references: schema.references, deleted: version.deleted)
    }

    private func identityKey(_ parsed: ParsedSchema, _ definition: SchemaDefinition) -> IdentityKey {
        IdentityKey(type: definition.type, identity: parsed.identity, references: definition.references)
    }

    /// Subject names are free text in Confluent's registry; Floe refuses only what cannot be a name: empty, control
    /// characters, or longer than ``SchemaRegistryLimits/subjectLength``.
    private func validate(subject: String) throws(SchemaRegistryError) {
        guard !subject.isEmpty, subject.count <= limits.subjectLength,
            !subject.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw .invalidSubject(subject) }
    }

    /// References name other subjects' schemas; Floe resolves none yet, so a schema that needs them is refused
    /// rather than stored half-understood.
    static func requireSupported(_ definition: SchemaDefinition) throws(SchemaRegistryError) {
        guard definition.references.isEmpty else {
            throw .invalidSchema("schema references are not supported by Floe's Schema Registry yet; send \"references\": [].")
        }
    }

    /// The 409/`messages` lines for `candidate` against `existing` (ascending) at `level`.
    private func problems(
        of candidate: ParsedSchema, against existing: [SubjectVersion], level: CompatibilityLevel
    ) throws(SchemaRegistryError) -> [String] {
        guard level != .none, !existing.isEmpty else { return [] }
        var parsed: [ParsedSchema] = []
        for version in existing {
            let schema = schemas[version.schemaID]!
            parsed.append(try ParsedSchema(SchemaDefinition(type: schema.type, text: schema.text, references: schema.references)))
        }
        let found = candidate.problems(against: parsed, level: level)
        guard let index = found.index else { return [] }
        let old = existing[index]
        return found.messages + [
            "{oldSchemaVersion: \(old.version)}", "{oldSchema: '\(schemas[old.schemaID]!.text)'}",
            "{compatibility: '\(level.rawValue)'}",
        ]
    }
}
