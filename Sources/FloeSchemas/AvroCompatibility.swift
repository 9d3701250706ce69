// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// One reason a reader schema cannot read what a writer schema wrote, in the terms of Avro's Java
/// `SchemaCompatibility`, which Confluent's registry runs and quotes in its 409 answers.
public struct AvroIncompatibility: Sendable, Hashable, CustomStringConvertible {
    /// The incompatibility types, spelled as Confluent's `errorType`.
    public enum Kind: String, Sendable, Hashable {
        case nameMismatch = "NAME_MISMATCH"
        case fixedSizeMismatch = "FIXED_SIZE_MISMATCH"
        case missingEnumSymbols = "MISSING_ENUM_SYMBOLS"
        case readerFieldMissingDefaultValue = "READER_FIELD_MISSING_DEFAULT_VALUE"
        case typeMismatch = "TYPE_MISMATCH"
        case missingUnionBranch = "MISSING_UNION_BRANCH"
    }

    public var kind: Kind
    /// A JSON-pointer-like location in the reader schema (`/fields/1/type/items`), `/` for the top: where to look.
    public var path: String
    /// The specifics (Confluent's `additionalInfo`): the field name, the missing symbols, the two types.
    public var detail: String

    public init(_ kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue) at \(path): \(detail)" }

    /// The entry as Confluent's registry words it in a 409 message, where `reader` and `writer` say which of the two
    /// schemas is the one being registered (`"new"`) and which the registered one (`"old"`).
    public func registryMessage(reader: String, writer: String) -> String {
        let explanation: String
        switch kind {
        case .nameMismatch: explanation = "The name of the schema has changed (path '\(path)')"
        case .fixedSizeMismatch:
            explanation = "The size of FIXED type field at path '\(path)' in the \(reader) schema does not match with the \(writer) schema"
        case .missingEnumSymbols:
            explanation = "The \(reader) schema is missing enum symbols '\(detail)' at path '\(path)' in the \(writer) schema"
        case .readerFieldMissingDefaultValue:
            explanation =
                "The field '\(detail)' at path '\(path)' in the \(reader) schema has no default value and is missing in the \(writer) schema"
        case .typeMismatch: explanation = "The type (path '\(path)') of a field in the \(reader) schema does not match with the \(writer) schema"
        case .missingUnionBranch:
            explanation = "The \(reader) schema is missing a type inside a union field at path '\(path)' in the \(writer) schema"
        }
        return "{errorType:'\(kind.rawValue)', description:'\(explanation)', additionalInfo:'\(detail)'}"
    }
}

extension AvroSchema {
    /// What stops this schema, as the reader, from reading data written with `written` (Avro specification, "Schema
    /// Resolution"); empty when it can read all of it.
    ///
    /// The rules: equal primitive types match, and the promotions int→long/float/double, long→float/double,
    /// float→double and string↔bytes are allowed; records, enums and fixed match by unqualified name or by a reader
    /// alias naming the writer's fullname; a reader field absent from the writer needs a default (writer-only fields
    /// are skipped); a writer enum symbol the reader lacks needs the reader's enum default; every branch of a writer
    /// union must be readable, and a non-union writer must be readable by some reader branch; fixed sizes must match;
    /// arrays and maps compare their element types. Every problem is reported, not just the first, as Avro's Java
    /// checker does.
    public func canRead(written writer: AvroSchema) -> [AvroIncompatibility] {
        var checker = AvroCompatibilityChecker(reader: self, writer: writer)
        checker.check(root, writer.root, depth: 0)
        return checker.problems
    }
}

/// The walk over a reader and a writer type side by side, with the path for messages and the record pairs already
/// under comparison.
///
/// Named types can be shared (a record used by two fields) and unions make the walk try several reader branches, so
/// a naive walk is exponential in the nesting depth of a hostile schema. Two memos keep it linear in the number of
/// distinct record pairs: a reporting walk visits each reader/writer record pair once (its problems are reported at
/// the first path that reaches it), and union probes remember each pair's verdict, as Avro's Java checker memoizes.
struct AvroCompatibilityChecker {
    let reader: AvroSchema
    let writer: AvroSchema
    var problems: [AvroIncompatibility] = []
    var location: [String] = []
    /// Reader/writer record fullname pairs whose comparison is under way. Meeting one again means the types are
    /// recursive; the pair is assumed compatible there (whatever is wrong with it is reported where the comparison
    /// started), which is what makes a linked list terminate.
    var inProgress: Set<[String]> = []
    /// Record pairs a reporting walk has been through.
    var walkedPairs: Set<[String]> = []
    /// Whether each record pair probed so far is compatible.
    var probeVerdicts: [[String]: Bool] = [:]
    /// A probe (choosing a union branch) only needs a yes or no, so it stops at the first problem.
    var isProbe = false

    init(reader: AvroSchema, writer: AvroSchema) {
        self.reader = reader
        self.writer = writer
    }

    var path: String { "/" + location.joined(separator: "/") }

    mutating func report(_ kind: AvroIncompatibility.Kind, _ detail: String) {
        problems.append(AvroIncompatibility(kind, path: path, detail: detail))
    }

    /// Whether `readerType` can read `writerType`, without reporting anything: for picking a reader union branch.
    mutating func canRead(_ readerType: AvroType, _ writerType: AvroType, depth: Int) -> Bool {
        var probe = AvroCompatibilityChecker(reader: reader, writer: writer)
        probe.inProgress = inProgress
        probe.probeVerdicts = probeVerdicts
        probe.isProbe = true
        probe.check(readerType, writerType, depth: depth)
        probeVerdicts = probe.probeVerdicts
        return probe.problems.isEmpty
    }

    mutating func check(_ readerType: AvroType, _ writerType: AvroType, depth: Int) {
        // Parsed schemas are at most `maximumDepth` deep, so only recursion through references gets here, and the
        // in-progress set stops that; the bound is a second line of defence.
        guard depth <= 2 * AvroSchema.maximumDepth, !(isProbe && !problems.isEmpty) else { return }
        let readerType = reader.resolved(readerType)
        let writerType = writer.resolved(writerType)

        // A writer union: each branch the writer may have chosen must be readable.
        if case .union(let writerBranches) = writerType, !Self.isUnion(readerType) {
            for (index, branch) in writerBranches.enumerated() {
                location.append(String(index))
                check(readerType, branch, depth: depth + 1)
                location.removeLast()
            }
            return
        }

        switch (readerType, writerType) {
        case (.union(let readerBranches), .union(let writerBranches)):
            for (index, branch) in writerBranches.enumerated() {
                location.append(String(index))
                checkUnionReader(readerBranches, branch, depth: depth + 1)
                location.removeLast()
            }
        case (.union(let readerBranches), _):
            checkUnionReader(readerBranches, writerType, depth: depth + 1)
        case (.primitive(let r), .primitive(let w)):
            if !Self.promotes(from: w.kind, to: r.kind) { mismatch(readerType, writerType) }
        case (.array(let r), .array(let w)):
            location.append("items")
            check(r.items, w.items, depth: depth + 1)
            location.removeLast()
        case (.map(let r), .map(let w)):
            location.append("values")
            check(r.values, w.values, depth: depth + 1)
            location.removeLast()
        case (.fixed(let r), .fixed(let w)):
            checkNames(r.name, r.aliases, w.name)
            if r.size != w.size {
                location.append("size")
                report(.fixedSizeMismatch, "expected: \(w.size), found: \(r.size)")
                location.removeLast()
            }
        case (.enumeration(let r), .enumeration(let w)):
            checkNames(r.name, r.aliases, w.name)
            // Sorted, as Avro's checker lists them.
            let missing = Set(w.symbols).subtracting(r.symbols).sorted()
            if !missing.isEmpty, r.defaultSymbol == nil {
                location.append("symbols")
                report(.missingEnumSymbols, "[" + missing.joined(separator: ", ") + "]")
                location.removeLast()
            }
        case (.record(let r), .record(let w)):
            let pair = [r.name.fullname, w.name.fullname]
            if isProbe, let verdict = probeVerdicts[pair] {
                if !verdict { report(.typeMismatch, "\(r.name) cannot read \(w.name)") }
                return
            }
            guard inProgress.insert(pair).inserted else { return }
            defer { inProgress.remove(pair) }
            guard isProbe || walkedPairs.insert(pair).inserted else { return }
            let problemsBefore = problems.count
            defer { if isProbe { probeVerdicts[pair] = problems.count == problemsBefore } }
            checkNames(r.name, r.aliases, w.name)
            for (index, readerField) in r.fields.enumerated() {
                location.append(contentsOf: ["fields", String(index)])
                // A reader field finds its writer field by name, or else by one of the reader field's aliases.
                let writerField =
                    w.fields.first { $0.name == readerField.name }
                    ?? readerField.aliases.lazy.compactMap { alias in w.fields.first { $0.name == alias } }.first
                if let writerField {
                    location.append("type")
                    check(readerField.type, writerField.type, depth: depth + 1)
                    location.removeLast()
                } else if readerField.defaultValue == nil {
                    report(.readerFieldMissingDefaultValue, readerField.name)
                }
                location.removeLast(2)
            }
        default:
            mismatch(readerType, writerType)
        }
    }

    /// A non-union writer type read through a reader union: some branch has to read it.
    mutating func checkUnionReader(_ readerBranches: [AvroType], _ writerType: AvroType, depth: Int) {
        if readerBranches.contains(where: { canRead($0, writerType, depth: depth) }) { return }
        report(.missingUnionBranch, "reader union lacking writer type: \(Self.javaTypeName(writer.resolved(writerType)))")
    }

    /// Named types match by unqualified name, or when one of the reader's aliases is the writer's fullname (the
    /// specification's rule; Avro's Java checker does the same). A mismatch is reported under `/name`, and the
    /// comparison goes on: like Avro's checker, the user hears about the fields too, not only the rename.
    mutating func checkNames(_ readerName: AvroName, _ readerAliases: [AvroName], _ writerName: AvroName) {
        if readerName.name == writerName.name || readerAliases.contains(where: { $0.fullname == writerName.fullname }) { return }
        location.append("name")
        report(.nameMismatch, "expected: \(writerName.fullname)")
        location.removeLast()
    }

    static func isUnion(_ type: AvroType) -> Bool {
        if case .union = type { return true }
        return false
    }

    mutating func mismatch(_ readerType: AvroType, _ writerType: AvroType) {
        report(.typeMismatch, "reader type: \(Self.javaTypeName(readerType)) not compatible with writer type: \(Self.javaTypeName(writerType))")
    }

    /// Whether a reader of primitive `reader` can read a value written as `writer`: the same type, or one of the
    /// specification's promotions.
    static func promotes(from writer: AvroPrimitive, to reader: AvroPrimitive) -> Bool {
        switch (writer, reader) {
        case _ where writer == reader: return true
        case (.int, .long), (.int, .float), (.int, .double), (.long, .float), (.long, .double), (.float, .double): return true
        case (.string, .bytes), (.bytes, .string): return true
        default: return false
        }
    }

    /// The type as Avro's Java `Schema.Type` names it (`INT`, `RECORD`), which Confluent's messages show.
    static func javaTypeName(_ type: AvroType) -> String {
        type.typeName.uppercased()
    }
}

/// Why a schema may not be registered under a compatibility level.
public struct AvroCompatibilityProblem: Sendable, Hashable, CustomStringConvertible {
    /// Which way the check failed.
    public enum Direction: String, Sendable, Hashable {
        /// The new schema cannot read data of the old one (BACKWARD).
        case newReadsOld
        /// The old schema cannot read data of the new one (FORWARD).
        case oldReadsNew
    }

    public var incompatibility: AvroIncompatibility
    public var direction: Direction
    /// The index in the `existing` list of the version this problem is against.
    public var existingIndex: Int

    public init(incompatibility: AvroIncompatibility, direction: Direction, existingIndex: Int) {
        self.incompatibility = incompatibility
        self.direction = direction
        self.existingIndex = existingIndex
    }

    /// The entry of the registry's 409 message.
    public var registryMessage: String {
        switch direction {
        case .newReadsOld: return incompatibility.registryMessage(reader: "new", writer: "old")
        case .oldReadsNew: return incompatibility.registryMessage(reader: "old", writer: "new")
        }
    }

    public var description: String { registryMessage }
}

extension AvroSchema {
    /// The problems that keep `new` from being registered after `existing` (the subject's versions, oldest first)
    /// under `level`; empty means it may be registered.
    ///
    /// Non-transitive levels look at the latest version only. Transitive ones go from the latest version back to the
    /// oldest and stop at the first version with problems, as Confluent's registry does: its 409 message names one
    /// old version, and the problems against that one are what the user has to fix first.
    public static func compatibilityProblems(
        of new: AvroSchema, against existing: [AvroSchema], level: CompatibilityLevel
    ) -> [AvroCompatibilityProblem] {
        guard level != .none, !existing.isEmpty else { return [] }
        let indices = level.isTransitive ? Array(existing.indices.reversed()) : [existing.count - 1]
        for index in indices {
            var problems: [AvroCompatibilityProblem] = []
            if level.checksBackward {
                problems += new.canRead(written: existing[index]).map {
                    AvroCompatibilityProblem(incompatibility: $0, direction: .newReadsOld, existingIndex: index)
                }
            }
            if level.checksForward {
                problems += existing[index].canRead(written: new).map {
                    AvroCompatibilityProblem(incompatibility: $0, direction: .oldReadsNew, existingIndex: index)
                }
            }
            if !problems.isEmpty { return problems }
        }
        return []
    }
}
