// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// Schema evolution rules for JSON Schema, in the manner of Confluent's JSON Schema compatibility checker.
///
/// The one principle: a reader schema is compatible with a writer schema when every instance the writer admits, the
/// reader admits too. Deciding that exactly is undecidable in general (patterns, combinators), so, like Confluent,
/// Floe compares the two schemas *structurally*, keyword by keyword, and names each difference. A difference is
/// compatible when it can only make the reader accept more (a bound loosened, a type added, a property removed from
/// an open object) and incompatible otherwise. Where the structural comparison cannot tell, it answers
/// "incompatible": a registry that refuses a harmless schema costs a user a retry, one that admits a harmful schema
/// breaks consumers.
///
/// **Content models.** An object is *open* when `additionalProperties` is absent or `true`: the writer may have put
/// anything under a name it does not declare. It is *closed* with `additionalProperties: false`, and *partially
/// open* with a schema there. Hence Confluent's rules, kept here:
/// - adding a property to the reader is incompatible when the writer is open (old data may carry that name with any
///   value) unless the new property's schema admits everything; when the writer is closed, adding an optional
///   property is fine and adding a required one is not, unless it has a `default` (Confluent's rule: the default
///   is what a consumer fills in);
/// - removing a property from the reader is fine when the reader is open and incompatible when it is closed (old
///   data carries the property and the reader now forbids it);
/// - with a partially open model, the `additionalProperties` schema must cover the property added or removed.
///
/// **Judgement calls**, where Confluent's behaviour is not documented:
/// - Keywords Floe does not interpret (`connect.type`, `connect.index`, `flink.precision`, `patternProperties`,
///   `format`, …) take no part, as in Confluent's checker. So Flink's INT (`connect.type: int32`) to BIGINT
///   (`int64`) is compatible, and so is the reverse; the format layer must range-check values it narrows.
/// - `$ref` siblings are ignored (draft-07 semantics) and references are followed; a pair of references already
///   being compared is assumed compatible (the comparison is co-inductive over recursive schemas).
/// - `oneOf` and `anyOf` are both "sums": the reader must have, for each writer branch, its own branch that reads it
///   (a one-to-one matching). Switching between `oneOf` and `anyOf` is `COMBINED_TYPE_CHANGED`, as in Confluent.
///   A schema with both `oneOf` and `anyOf` is compared on its `oneOf`; a reader's `anyOf` next to it must then be
///   the writer's, unchanged (rare; generated schemas never do it).
/// - A single schema becoming a sum that has a branch reading it is `COMBINED_TYPE_EXTENDED` (how `T` becomes the
///   nullable `oneOf [null, T]`); a sum becoming a single schema that cannot read every branch is `TYPE_NARROWED`
///   (the nullable column made `NOT NULL`).
public enum JSONSchemaCompatibility {
    /// The registry's compatibility levels, shared with Avro.
    public typealias Level = CompatibilityLevel

    /// Why a new schema is refused under a level: which existing version it conflicts with, in which direction,
    /// and the incompatible differences.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public enum Direction: String, Sendable, Hashable {
            /// The new schema cannot read data written with the existing one (BACKWARD).
            case newCannotReadExisting
            /// The existing schema cannot read data written with the new one (FORWARD).
            case existingCannotReadNew
        }

        /// Index into the `existing` list given to ``check(_:against:level:)`` (oldest first).
        public var existingIndex: Int
        public var direction: Direction
        /// The incompatible differences only; never empty.
        public var differences: [JSONSchemaDifference]

        public var description: String {
            let reader = direction == .newCannotReadExisting ? "the new schema" : "existing schema \(existingIndex)"
            let writer = direction == .newCannotReadExisting ? "existing schema \(existingIndex)" : "the new schema"
            let found = differences.map { "Found incompatible change: \($0)" }.joined(separator: "; ")
            return "\(reader) cannot read data written with \(writer): \(found)"
        }
    }

    /// Checks `new` against the subject's `existing` versions (oldest first) under `level`; an empty result means
    /// the new schema may be registered. Non-transitive levels look at the latest version only; transitive ones go
    /// from the latest back to the oldest and stop at the first version with problems, as Confluent's registry does
    /// (its 409 names one version, and that one is what the user fixes first; the Avro check does the same).
    public static func check(_ new: JSONSchemaDocument, against existing: [JSONSchemaDocument], level: Level) -> [Problem] {
        guard level != .none, !existing.isEmpty else { return [] }
        let indices = level.isTransitive ? Array(existing.indices.reversed()) : [existing.count - 1]
        for index in indices {
            var problems: [Problem] = []
            if level.checksBackward {
                let found = incompatibilities(reader: new, writer: existing[index])
                if !found.isEmpty { problems.append(Problem(existingIndex: index, direction: .newCannotReadExisting, differences: found)) }
            }
            if level.checksForward {
                let found = incompatibilities(reader: existing[index], writer: new)
                if !found.isEmpty { problems.append(Problem(existingIndex: index, direction: .existingCannotReadNew, differences: found)) }
            }
            if !problems.isEmpty { return problems }
        }
        return []
    }

    /// The incompatible differences that keep `reader` from reading data written with `writer`; empty when the
    /// reader is backward compatible with the writer.
    public static func incompatibilities(reader: JSONSchemaDocument, writer: JSONSchemaDocument) -> [JSONSchemaDifference] {
        differences(reader: reader, writer: writer).filter { !$0.isCompatible }
    }

    /// Whether `reader` reads everything `writer` admits.
    public static func isBackwardCompatible(reader: JSONSchemaDocument, writer: JSONSchemaDocument) -> Bool {
        incompatibilities(reader: reader, writer: writer).isEmpty
    }

    /// Every difference, compatible or not, from `writer` to `reader`, in document order, without repeats.
    public static func differences(reader: JSONSchemaDocument, writer: JSONSchemaDocument) -> [JSONSchemaDifference] {
        var comparison = JSONSchemaComparison(writerDocument: writer, readerDocument: reader)
        comparison.compare(writer: writer.root, reader: reader.root, path: "#")
        var seen: Set<JSONSchemaDifference> = []
        return comparison.differences.filter { seen.insert($0).inserted }
    }
}

/// One walk over a writer and a reader schema, collecting differences.
struct JSONSchemaComparison {
    /// Comparison steps allowed for one pair of documents. Matching sum branches compares every pair of branches,
    /// so nested sums multiply; real schemas use a few hundred steps.
    static let stepBudget = 50_000

    let writerDocument: JSONSchemaDocument
    let readerDocument: JSONSchemaDocument
    var differences: [JSONSchemaDifference] = []
    /// Pairs of references being compared further up the stack: "writer ref|reader ref".
    var inProgress: Set<String> = []
    var steps = 0

    init(writerDocument: JSONSchemaDocument, readerDocument: JSONSchemaDocument) {
        self.writerDocument = writerDocument
        self.readerDocument = readerDocument
    }

    mutating func add(_ kind: JSONSchemaDifference.Kind, _ path: String) {
        differences.append(JSONSchemaDifference(kind, at: path))
    }

    /// Follows a chain of `$ref`s to the schema it names; returns the last reference followed, which identifies the
    /// target for cycle detection.
    func resolve(_ schema: JSONSchema, in document: JSONSchemaDocument) -> (JSONSchema, String?) {
        var current = schema
        var reference: String?
        var hops = 0
        while case .node(let node) = current, let next = node.ref, let target = document.resolve(next),
            hops <= JSONSchemaDocument.maximumDepth
        {
            reference = next
            current = target
            hops += 1
        }
        return (current, reference)
    }

    /// Whether `reader` reads everything `writer` admits, without recording the differences: used to match
    /// combinator branches and partially open content models.
    mutating func reads(_ reader: JSONSchema, _ writer: JSONSchema, path: String) -> Bool {
        let saved = differences
        differences = []
        compare(writer: writer, reader: reader, path: path)
        let compatible = differences.allSatisfy(\.isCompatible)
        let tooComplex = differences.contains { $0.kind == .schemaTooComplex }
        differences = saved
        if tooComplex { add(.schemaTooComplex, path) }
        return compatible
    }

    mutating func compare(writer: JSONSchema, reader: JSONSchema, path: String) {
        steps += 1
        guard steps <= Self.stepBudget else {
            if steps == Self.stepBudget + 1 { add(.schemaTooComplex, path) }
            return
        }
        let (writer, writerRef) = resolve(writer, in: writerDocument)
        let (reader, readerRef) = resolve(reader, in: readerDocument)
        var pairKey: String?
        if let writerRef, let readerRef {
            let key = "\(writerRef)|\(readerRef)"
            guard !inProgress.contains(key) else { return }
            inProgress.insert(key)
            pairKey = key
        }
        defer { if let pairKey { inProgress.remove(pairKey) } }

        if writer.admitsNothing || reader.admitsEverything { return }
        if reader.admitsNothing {
            add(.typeChanged, path)
            return
        }
        compareNodes(writer: writer.asNode, reader: reader.asNode, path: path)
    }

    // MARK: - Combinators

    mutating func compareNodes(writer: JSONSchemaNode, reader: JSONSchemaNode, path: String) {
        let writerSum = writer.oneOf ?? writer.anyOf
        let readerSum = reader.oneOf ?? reader.anyOf
        let writerOwn = writer.withoutCombinators
        let readerOwn = reader.withoutCombinators
        // Only `oneOf` is matched when both are present; ignoring a reader's extra `anyOf` could admit a reader
        // that refuses the writer's data, so it must not have changed.
        if reader.oneOf != nil, reader.anyOf != nil, reader.anyOf != writer.anyOf { add(.combinedTypeChanged, path) }

        // A sum becoming a plain schema (nullable → NOT NULL): each writer branch must be readable by the reader.
        if let writerSum, writerOwn.isUnconstrained, readerSum == nil, reader.allOf == nil, reader.not == nil {
            compareAnnotations(writer: writer, reader: reader, path: path)
            let readable = writerSum.indices.filter { reads(.node(reader), writerSum[$0], path: path) }.count
            if readable == 0 {
                add(.typeChanged, path)
            } else if readable < writerSum.count {
                add(.typeNarrowed, path)
            }
            return
        }
        // A plain schema becoming a sum (NOT NULL → nullable): some reader branch must read the writer.
        if let readerSum, readerOwn.isUnconstrained, writerSum == nil, reader.allOf == nil, reader.not == nil {
            compareAnnotations(writer: writer, reader: reader, path: path)
            let criterion = reader.oneOf != nil ? "oneOf" : "anyOf"
            let readable = readerSum.indices.contains { reads(readerSum[$0], .node(writer), path: "\(path)/\(criterion)/\($0)") }
            add(readable ? .combinedTypeExtended : .typeChanged, path)
            return
        }

        compareOwn(writer: writerOwn, reader: readerOwn, path: path)

        switch (writerSum, readerSum) {
        case (let writerBranches?, let readerBranches?):
            let writerCriterion = writer.oneOf != nil ? "oneOf" : "anyOf"
            let readerCriterion = reader.oneOf != nil ? "oneOf" : "anyOf"
            guard writerCriterion == readerCriterion else {
                add(.combinedTypeChanged, path)
                break
            }
            if readerBranches.count > writerBranches.count { add(.sumTypeExtended, path) }
            if readerBranches.count < writerBranches.count { add(.sumTypeNarrowed, path) }
            let matched = matchBranches(writerBranches, readerBranches, path: "\(path)/\(readerCriterion)")
            if !matched { add(.combinedTypeSubschemasChanged, path) }
        case (nil, let readerBranches?):
            // The reader now also demands one of its branches; the writer's data is readable if a branch reads it.
            let criterion = reader.oneOf != nil ? "oneOf" : "anyOf"
            let readable = readerBranches.indices.contains {
                reads(readerBranches[$0], .node(writer), path: "\(path)/\(criterion)/\($0)")
            }
            add(readable ? .combinedTypeExtended : .combinedTypeChanged, path)
        case (_?, nil), (nil, nil):
            // The writer's sum only narrows what it writes; the reader's own keywords were compared above.
            break
        }

        if let readerAll = reader.allOf {
            let writerAll = writer.allOf ?? []
            if readerAll.count > writerAll.count { add(.productTypeExtended, path) }
            if readerAll.count < writerAll.count { add(.productTypeNarrowed, path) }
            // Each reader conjunct must accept the writer's data: the writer's own keywords or one of its conjuncts
            // must be enough for it.
            let writerParts = [JSONSchema.node(writerOwn)] + writerAll
            for (index, conjunct) in readerAll.enumerated() {
                let readable = writerParts.contains { reads(conjunct, $0, path: "\(path)/allOf/\(index)") }
                if !readable {
                    add(.combinedTypeSubschemasChanged, path)
                    break
                }
            }
        } else if let writerAll = writer.allOf, !writerAll.isEmpty {
            add(.productTypeNarrowed, path)
        }

        switch (writer.not, reader.not) {
        case (let writerNot?, let readerNot?):
            // not A ⊆ not B exactly when B ⊆ A: the writer's excluded set must read the reader's.
            if !reads(writerNot, readerNot, path: "\(path)/not") {
                add(.notTypeExtended, path)
            } else if writerNot != readerNot {
                add(.notTypeNarrowed, path)
            }
        case (nil, _?): add(.notTypeExtended, path)
        case (_?, nil): add(.notTypeNarrowed, path)
        case (nil, nil): break
        }
    }

    /// Whether every writer branch can be given its own reader branch that reads it (a bipartite matching, found
    /// by augmenting paths; sums are small).
    mutating func matchBranches(_ writerBranches: [JSONSchema], _ readerBranches: [JSONSchema], path: String) -> Bool {
        var readable: [[Bool]] = []
        for writerBranch in writerBranches {
            readable.append(readerBranches.indices.map { reads(readerBranches[$0], writerBranch, path: "\(path)/\($0)") })
        }
        var owner = [Int?](repeating: nil, count: readerBranches.count)
        func augment(_ writer: Int, _ visited: inout [Bool]) -> Bool {
            for reader in readerBranches.indices where readable[writer][reader] && !visited[reader] {
                visited[reader] = true
                if owner[reader] == nil || augment(owner[reader]!, &visited) {
                    owner[reader] = writer
                    return true
                }
            }
            return false
        }
        for writer in writerBranches.indices {
            var visited = [Bool](repeating: false, count: readerBranches.count)
            if !augment(writer, &visited) { return false }
        }
        return true
    }

    // MARK: - Keywords of one schema object

    mutating func compareAnnotations(writer: JSONSchemaNode, reader: JSONSchemaNode, path: String) {
        if writer.id != reader.id { add(.idChanged, path) }
        if writer.title != reader.title { add(.titleChanged, path) }
        if writer.description != reader.description { add(.descriptionChanged, path) }
        if writer.defaultValue != reader.defaultValue { add(.defaultChanged, path) }
    }

    mutating func compareOwn(writer: JSONSchemaNode, reader: JSONSchemaNode, path: String) {
        compareAnnotations(writer: writer, reader: reader, path: path)
        compareTypes(writer: writer.types, reader: reader.types, path: path)
        compareEnums(writer: writer, reader: reader, path: path)

        func both(_ types: JSONSchemaType...) -> Bool {
            let writerMay = writer.types.map { !Set($0).isDisjoint(with: types) } ?? true
            let readerMay = reader.types.map { !Set($0).isDisjoint(with: types) } ?? true
            return writerMay && readerMay
        }
        if both(.number, .integer) { compareNumbers(writer: writer, reader: reader, path: path) }
        if both(.string) { compareStrings(writer: writer, reader: reader, path: path) }
        if both(.array) { compareArrays(writer: writer, reader: reader, path: path) }
        if both(.object) { compareObjects(writer: writer, reader: reader, path: path) }
    }

    /// `integer` is a subset of `number`: a writer integer is read by a reader number (widening, as Flink's INT to
    /// DOUBLE), a writer number only partly by a reader integer.
    mutating func compareTypes(writer: [JSONSchemaType]?, reader: [JSONSchemaType]?, path: String) {
        guard let reader else {
            if writer != nil { add(.typeExtended, path) }
            return
        }
        guard let writer else {
            add(.typeNarrowed, path)
            return
        }
        let readerTypes = Set(reader)
        var covered = 0
        var partly = 0
        for type in Set(writer) {
            if readerTypes.contains(type) || (type == .integer && readerTypes.contains(.number)) {
                covered += 1
            } else if type == .number && readerTypes.contains(.integer) {
                partly += 1
            }
        }
        if covered == Set(writer).count {
            if readerTypes != Set(writer) { add(.typeExtended, path) }
        } else if covered + partly == 0 {
            add(.typeChanged, path)
        } else {
            add(.typeNarrowed, path)
        }
    }

    mutating func compareEnums(writer: JSONSchemaNode, reader: JSONSchemaNode, path: String) {
        let writerValues = writer.enumValues ?? writer.constValue.map { [$0] }
        let readerValues = reader.enumValues ?? reader.constValue.map { [$0] }
        switch (writerValues, readerValues) {
        case (nil, nil): return
        case (_?, nil): add(.enumArrayExtended, path)
        case (nil, _?): add(.enumArrayNarrowed, path)
        case (let writerValues?, let readerValues?):
            let readerHasAll = writerValues.allSatisfy { readerValues.contains($0) }
            let writerHasAll = readerValues.allSatisfy { writerValues.contains($0) }
            switch (readerHasAll, writerHasAll) {
            case (true, true): return
            case (true, false): add(.enumArrayExtended, path)
            case (false, true): add(.enumArrayNarrowed, path)
            case (false, false): add(.enumArrayChanged, path)
            }
        }
    }

    /// Compares one bound; the caller's kinds say whether moving it up or down loosens it.
    mutating func compareBound<Value: Comparable>(
        _ writer: Value?, _ reader: Value?, path: String,
        added: JSONSchemaDifference.Kind, removed: JSONSchemaDifference.Kind,
        increased: JSONSchemaDifference.Kind, decreased: JSONSchemaDifference.Kind
    ) {
        switch (writer, reader) {
        case (nil, nil): return
        case (_?, nil): add(removed, path)
        case (nil, _?): add(added, path)
        case (let writer?, let reader?):
            if reader > writer { add(increased, path) }
            if reader < writer { add(decreased, path) }
        }
    }

    mutating func compareNumbers(writer: JSONSchemaNode, reader: JSONSchemaNode, path: String) {
        compareBound(
            writer.maximum, reader.maximum, path: path, added: .maximumAdded, removed: .maximumRemoved,
            increased: .maximumIncreased, decreased: .maximumDecreased)
        compareBound(
            writer.minimum, reader.minimum, path: path, added: .minimumAdded, removed: .minimumRemoved,
            increased: .minimumIncreased, decreased: .minimumDecreased)
        compareBound(
            writer.exclusiveMaximum, reader.exclusiveMaximum, path: path, added: .exclusiveMaximumAdded,
            removed: .exclusiveMaximumRemoved, increased: .exclusiveMaximumIncreased, decreased: .exclusiveMaximumDecreased)
        compareBound(
            writer.exclusiveMinimum, reader.exclusiveMinimum, path: path, added: .exclusiveMinimumAdded,
            removed: .exclusiveMinimumRemoved, increased: .exclusiveMinimumIncreased, decreased: .exclusiveMinimumDecreased)
        switch (writer.multipleOf, reader.multipleOf) {
        case (nil, nil): break
        case (_?, nil): add(.multipleOfRemoved, path)
        case (nil, _?): add(.multipleOfAdded, path)
        case (let writerDivisor?, let readerDivisor?):
            // Every multiple of the writer's divisor is a multiple of the reader's when the reader's divides it.
            if writerDivisor == readerDivisor { break }
            if Self.divides(readerDivisor, writerDivisor) {
                add(.multipleOfReduced, path)
            } else if Self.divides(writerDivisor, readerDivisor) {
                add(.multipleOfExpanded, path)
            } else {
                add(.multipleOfChanged, path)
            }
        }
    }

    static func divides(_ divisor: Double, _ value: Double) -> Bool {
        let quotient = value / divisor
        return quotient.isFinite && abs(quotient - quotient.rounded()) < 1e-9
    }

    mutating func compareStrings(writer: JSONSchemaNode, reader: JSONSchemaNode, path: String) {
        compareBound(
            writer.maxLength, reader.maxLength, path: path, added: .maxLengthAdded, removed: .maxLengthRemoved,
            increased: .maxLengthIncreased, decreased: .maxLengthDecreased)
        compareBound(
            writer.minLength, reader.minLength, path: path, added: .minLengthAdded, removed: .minLengthRemoved,
            increased: .minLengthIncreased, decreased: .minLengthDecreased)
        switch (writer.pattern, reader.pattern) {
        case (nil, nil): break
        case (_?, nil): add(.patternRemoved, path)
        case (nil, _?): add(.patternAdded, path)
        case (let writerPattern?, let readerPattern?): if writerPattern != readerPattern { add(.patternChanged, path) }
        }
    }

    mutating func compareArrays(writer: JSONSchemaNode, reader: JSONSchemaNode, path: String) {
        compareBound(
            writer.maxItems, reader.maxItems, path: path, added: .maxItemsAdded, removed: .maxItemsRemoved,
            increased: .maxItemsIncreased, decreased: .maxItemsDecreased)
        compareBound(
            writer.minItems, reader.minItems, path: path, added: .minItemsAdded, removed: .minItemsRemoved,
            increased: .minItemsIncreased, decreased: .minItemsDecreased)
        if writer.uniqueItems != reader.uniqueItems { add(reader.uniqueItems ? .uniqueItemsAdded : .uniqueItemsRemoved, path) }

        guard writer.prefixItems != nil || reader.prefixItems != nil else {
            compare(writer: writer.items ?? .boolean(true), reader: reader.items ?? .boolean(true), path: "\(path)/items")
            return
        }
        // Tuples: positions present on both sides compare one to one; a position on one side only is governed by
        // the other side's schema for the elements after its prefix (its content model).
        let writerPrefix = writer.prefixItems ?? []
        let readerPrefix = reader.prefixItems ?? []
        let writerTail = (writer.prefixItems != nil ? writer.additionalItems : writer.items) ?? .boolean(true)
        let readerTail = (reader.prefixItems != nil ? reader.additionalItems : reader.items) ?? .boolean(true)
        for index in 0..<max(writerPrefix.count, readerPrefix.count) {
            let at = "\(path)/items/\(index)"
            if index < writerPrefix.count, index < readerPrefix.count {
                compare(writer: writerPrefix[index], reader: readerPrefix[index], path: at)
            } else if index < writerPrefix.count {
                if readerTail.admitsEverything {
                    add(.itemRemovedFromOpenContentModel, at)
                } else if readerTail.admitsNothing {
                    add(.itemRemovedFromClosedContentModel, at)
                } else {
                    let covered = reads(readerTail, writerPrefix[index], path: at)
                    add(covered ? .itemRemovedIsCoveredByPartiallyOpenContentModel : .itemRemovedNotCoveredByPartiallyOpenContentModel, at)
                }
            } else {
                if writerTail.admitsNothing {
                    add(.itemAddedToClosedContentModel, at)
                } else if writerTail.admitsEverything {
                    add(
                        readerPrefix[index].admitsEverything ? .itemWithEmptySchemaAddedToOpenContentModel : .itemAddedToOpenContentModel,
                        at)
                } else {
                    let covered = reads(readerPrefix[index], writerTail, path: at)
                    add(covered ? .itemAddedIsCoveredByPartiallyOpenContentModel : .itemAddedNotCoveredByPartiallyOpenContentModel, at)
                }
            }
        }
        compareContentModel(
            writer: writerTail, reader: readerTail, path: "\(path)/additionalItems", added: .additionalItemsAdded,
            removed: .additionalItemsRemoved, extended: .additionalItemsExtended, narrowed: .additionalItemsNarrowed)
    }

    /// Compares what two schemas allow beyond their declared properties or positions: open (`true`), closed
    /// (`false`) or partially open (a schema).
    mutating func compareContentModel(
        writer: JSONSchema, reader: JSONSchema, path: String,
        added: JSONSchemaDifference.Kind, removed: JSONSchemaDifference.Kind,
        extended: JSONSchemaDifference.Kind, narrowed: JSONSchemaDifference.Kind
    ) {
        if writer.admitsEverything {
            if reader.admitsEverything { return }
            add(reader.admitsNothing ? removed : narrowed, path)
        } else if writer.admitsNothing {
            if !reader.admitsNothing { add(added, path) }
        } else if reader.admitsEverything {
            add(extended, path)
        } else if reader.admitsNothing {
            add(removed, path)
        } else {
            compare(writer: writer, reader: reader, path: path)
        }
    }

    mutating func compareObjects(writer: JSONSchemaNode, reader: JSONSchemaNode, path: String) {
        compareBound(
            writer.maxProperties, reader.maxProperties, path: path, added: .maxPropertiesAdded,
            removed: .maxPropertiesRemoved, increased: .maxPropertiesIncreased, decreased: .maxPropertiesDecreased)
        compareBound(
            writer.minProperties, reader.minProperties, path: path, added: .minPropertiesAdded,
            removed: .minPropertiesRemoved, increased: .minPropertiesIncreased, decreased: .minPropertiesDecreased)

        let writerRest = writer.additionalProperties ?? .boolean(true)
        let readerRest = reader.additionalProperties ?? .boolean(true)
        compareContentModel(
            writer: writerRest, reader: readerRest, path: "\(path)/additionalProperties", added: .additionalPropertiesAdded,
            removed: .additionalPropertiesRemoved, extended: .additionalPropertiesExtended, narrowed: .additionalPropertiesNarrowed)

        // Names whose requiredness the content-model rules below already judged.
        var judgedRequired: Set<String> = []
        var names = writer.properties.map(\.name)
        names += reader.properties.map(\.name).filter { writer.property($0) == nil }
        for name in names {
            let at = "\(path)/properties/\(JSONSchemaParser.escape(name))"
            switch (writer.property(name), reader.property(name)) {
            case (let writerSchema?, let readerSchema?):
                compare(writer: writerSchema, reader: readerSchema, path: at)
            case (let writerSchema?, nil):
                // Data written under the old schema may carry the property; the reader must still take it.
                if readerRest.admitsEverything {
                    add(.propertyRemovedFromOpenContentModel, at)
                } else if readerRest.admitsNothing {
                    add(.propertyRemovedFromClosedContentModel, at)
                } else {
                    let covered = reads(readerRest, writerSchema, path: at)
                    add(covered ? .propertyRemovedIsCoveredByPartiallyOpenContentModel : .propertyRemovedNotCoveredByPartiallyOpenContentModel, at)
                }
            case (nil, let readerSchema?):
                // Old data may carry the name only if the writer's model was open (or partially open).
                if writerRest.admitsEverything {
                    add(
                        readerSchema.admitsEverything ? .propertyWithEmptySchemaAddedToOpenContentModel : .propertyAddedToOpenContentModel, at)
                    continue
                }
                if !writerRest.admitsNothing {
                    let covered = reads(readerSchema, writerRest, path: at)
                    add(covered ? .propertyAddedIsCoveredByPartiallyOpenContentModel : .propertyAddedNotCoveredByPartiallyOpenContentModel, at)
                }
                if reader.required.contains(name) {
                    judgedRequired.insert(name)
                    add(
                        readerSchema.hasDefault ? .requiredPropertyWithDefaultAddedToUnopenContentModel : .requiredPropertyAddedToUnopenContentModel,
                        at)
                } else {
                    add(.optionalPropertyAddedToUnopenContentModel, at)
                }
            case (nil, nil): break
            }
        }

        for name in reader.required where !writer.required.contains(name) && !judgedRequired.contains(name) {
            let at = "\(path)/required/\(JSONSchemaParser.escape(name))"
            add(reader.property(name)?.hasDefault == true ? .requiredAttributeWithDefaultAdded : .requiredAttributeAdded, at)
        }
        for name in writer.required where !reader.required.contains(name) {
            add(.requiredAttributeRemoved, "\(path)/required/\(JSONSchemaParser.escape(name))")
        }
    }
}

extension JSONSchema {
    /// The schema as an object: `true` is the empty object; `false` is `{"not": {}}`.
    var asNode: JSONSchemaNode {
        switch self {
        case .node(let node): return node
        case .boolean(true): return JSONSchemaNode()
        case .boolean(false):
            var node = JSONSchemaNode()
            node.not = .boolean(true)
            return node
        }
    }

    /// Whether the schema (after no reference resolution) carries a `default`.
    var hasDefault: Bool {
        if case .node(let node) = self { return node.defaultValue != nil }
        return false
    }
}

extension JSONSchemaNode {
    /// The schema without `allOf`, `anyOf`, `oneOf` and `not`: what it says about instances directly.
    var withoutCombinators: JSONSchemaNode {
        var own = self
        own.allOf = nil
        own.anyOf = nil
        own.oneOf = nil
        own.not = nil
        return own
    }
}
