// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import FloeStore
import Foundation
import Hummingbird

/// The Schema Registry data plane of each environment, at `/schema-registry/{lsrc-…}`: Confluent's Schema Registry
/// API as its clients (confluent-kafka's `SchemaRegistryClient` and serializers, Flink's `avro-confluent`) call it.
///
/// The rules live in ``SchemaRegistryState``; this type parses requests, checks who may do what, and renders the
/// registry's JSON. Clients differ from Confluent Cloud's own in small ways the handlers absorb: Python sends booleans
/// as `False`, subjects arrive percent-encoded (`safe=''`), `schemaType` may be absent or present for AVRO, id lookups
/// carry a `subject` parameter. Errors are the registry's `{"error_code", "message"}` (``ErrorStyle/schemaRegistry``).
///
/// Who: Cloud API keys, and Schema Registry keys of this registry. FlinkDeveloper and above in the environment read
/// and register (tables of the environment register their schemas); EnvironmentAdmin and above change levels and
/// delete.
struct SchemaRegistryAPI: Sendable {
    let api: APIEnvironment
    let registries: SchemaRegistryStore

    /// The path prefix of every registry (`spec.http_endpoint` is the public URL followed by it and the id).
    static let pathPrefix = "/schema-registry/"

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("", use: root)
        router.get("subjects", use: listSubjects)
        router.get("subjects/:subject/versions", use: listVersions)
        router.post("subjects/:subject/versions", use: registerSchema)
        router.get("subjects/:subject/versions/:version", use: getVersion)
        router.get("subjects/:subject/versions/:version/schema", use: getVersionSchema)
        router.get("subjects/:subject/versions/:version/referencedby", use: referencedBy)
        router.delete("subjects/:subject/versions/:version", use: deleteVersion)
        router.post("subjects/:subject", use: lookup)
        router.delete("subjects/:subject", use: deleteSubject)
        router.get("schemas/types", use: schemaTypes)
        router.get("schemas/ids/:id", use: schemaByID)
        router.get("schemas/ids/:id/schema", use: schemaTextByID)
        router.get("schemas/ids/:id/subjects", use: subjectsByID)
        router.get("schemas/ids/:id/versions", use: versionsByID)
        router.get("config", use: getGlobalConfig)
        router.put("config", use: setGlobalConfig)
        router.delete("config", use: deleteGlobalConfig)
        router.get("config/:subject", use: getSubjectConfig)
        router.put("config/:subject", use: setSubjectConfig)
        router.delete("config/:subject", use: deleteSubjectConfig)
        router.post("compatibility/subjects/:subject/versions", use: checkCompatibilityWithAll)
        router.post("compatibility/subjects/:subject/versions/:version", use: checkCompatibilityWithVersion)
        router.get("mode", use: getMode)
        router.put("mode", use: setMode)
        router.get("mode/:subject", use: getMode)
        router.put("mode/:subject", use: setMode)
        router.get("contexts", use: contexts)
        router.get("associations/resources/:namespace/:name", use: associations)
    }

    // MARK: Access

    /// Who calls which registry.
    struct Access {
        let registryID: String
        let environmentID: String
        let caller: Caller
    }

    /// What an operation needs.
    enum Need {
        /// Read and register.
        case use
        /// Change levels, delete.
        case manage
    }

    /// The registry of the path, once the caller's key is valid for it and its roles allow `need`.
    func access(_ context: FloeRequestContext, _ need: Need) throws(APIError) -> Access {
        let caller = try context.requireCaller()
        let registryID = context.parameters.path("registry")
        let state = api.store.snapshot()
        guard let environment = state.environment(ofSchemaRegistry: registryID), environment.organizationID == caller.organizationID else {
            throw APIError.notFound("Schema Registry \(registryID) was not found.")
        }
        if case .schemaRegistry(let keyRegistry, _) = caller.apiKey.resource, keyRegistry != registryID {
            throw APIError.unauthenticated("API key \(caller.apiKey.id) is for Schema Registry \(keyRegistry); it is not valid on \(registryID).")
        }
        switch need {
        case .use:
            guard caller.policy.canUseSchemaRegistry(in: environment.id) else {
                throw APIError.forbidden(
                    "User \(caller.principalID) is denied operation on \(registryID): reading and registering schemas needs FlinkDeveloper or above in \(environment.id)."
                )
            }
        case .manage:
            guard caller.policy.canManageSchemaRegistry(in: environment.id) else {
                throw APIError.forbidden(
                    "User \(caller.principalID) is denied operation on \(registryID): changing compatibility and deleting needs EnvironmentAdmin or above in \(environment.id)."
                )
            }
        }
        return Access(registryID: registryID, environmentID: environment.id, caller: caller)
    }

    // MARK: Request parsing

    /// A path parameter, percent-decoded (clients encode subjects with `safe=''`, so `/` arrives as `%2F`).
    static func decodedPath(_ context: FloeRequestContext, _ name: String) -> String {
        let raw = context.parameters.path(name)
        return raw.removingPercentEncoding ?? raw
    }

    /// A boolean query parameter the way Confluent's registry (Java's `Boolean.parseBoolean`) reads one: `true` in any
    /// case is true, anything else false. Python clients send `False`/`True`.
    static func flag(_ request: Request, _ name: String) -> Bool {
        request.uri.queryParameters.get(name)?.lowercased() == "true"
    }

    static func version(_ context: FloeRequestContext) throws(SchemaRegistryError) -> VersionSelector {
        try VersionSelector(parsing: decodedPath(context, "version"))
    }

    static func schemaID(_ context: FloeRequestContext) throws(SchemaRegistryError) -> Int {
        let text = context.parameters.path("id")
        guard let id = Int32(text), id > 0 else { throw SchemaRegistryError.schemaNotFound() }
        return Int(id)
    }

    /// The schema of a register, lookup or compatibility body: `schema` (required), `schemaType` (absent: AVRO) and
    /// `references`.
    static func definition(_ request: Request, context: FloeRequestContext) async throws -> SchemaDefinition {
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        guard let text = try body.string("/schema"), !text.isEmpty else { throw SchemaRegistryError.invalidSchema("the schema field is empty.") }
        let typeName = try body.string("/schemaType")
        guard let type = SchemaType(registryName: typeName) else {
            throw SchemaRegistryError.invalidSchema("unknown schemaType '\(typeName ?? "")'; the types are AVRO, JSON and PROTOBUF.")
        }
        var references: [SchemaReference] = []
        if let list = try body.value("/references") {
            guard let entries = list.arrayValue else { throw SchemaRegistryError.invalidSchema("references must be an array.") }
            for entry in entries {
                guard let name = entry["name"]?.stringValue, let subject = entry["subject"]?.stringValue,
                    let version = entry["version"]?.intValue
                else { throw SchemaRegistryError.invalidSchema("each reference needs a name, a subject and a version.") }
                references.append(SchemaReference(name: name, subject: subject, version: Int(version)))
            }
        }
        return SchemaDefinition(type: type, text: text, references: references)
    }

    /// The level of a `PUT /config` body (`{"compatibility": "FULL"}`; `compatibilityLevel` is accepted too).
    static func level(_ request: Request, context: FloeRequestContext) async throws -> CompatibilityLevel {
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let text = try body.string("/compatibility") ?? body.string("/compatibilityLevel") ?? ""
        guard let level = CompatibilityLevel(registryName: text) else { throw SchemaRegistryError.invalidCompatibilityLevel(text) }
        return level
    }

    // MARK: Rendering

    /// A version as `GET /subjects/{s}/versions/{v}` returns it; `schemaType` is omitted for AVRO and `references`
    /// when empty, as Confluent's registry does.
    static func render(_ schema: RegisteredSchema) -> JSONValue {
        .object(omittingNil: [
            ("subject", .string(schema.subject)), ("version", .int(Int64(schema.version))), ("id", .int(Int64(schema.id))),
            ("schemaType", schema.type == .avro ? nil : .string(schema.type.rawValue)),
            ("references", schema.references.isEmpty ? nil : Optional(render(schema.references))),
            ("schema", .string(schema.text)),
        ])
    }

    static func render(_ references: [SchemaReference]) -> JSONValue {
        .array(references.map { ["name": .string($0.name), "subject": .string($0.subject), "version": .int(Int64($0.version))] })
    }

    func ok(_ body: JSONValue) -> Response { SchemaRegistryResponse.make(.ok, body) }

    // MARK: Subjects and versions

    @Sendable func root(_ request: Request, context: FloeRequestContext) async throws -> Response {
        _ = try access(context, .use)
        return ok([:])
    }

    @Sendable func listSubjects(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let state = registries.snapshot(access.registryID)
        var names = state.subjectNames(includeDeleted: Self.flag(request, "deleted"))
        if let prefix = request.uri.queryParameters.get("subjectPrefix"), !prefix.isEmpty, prefix != ":*:" {
            names = names.filter { $0.hasPrefix(prefix) }
        }
        return ok(.array(names.map(JSONValue.string)))
    }

    @Sendable func listVersions(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let versions = try registries.snapshot(access.registryID).versions(
            of: Self.decodedPath(context, "subject"), includeDeleted: Self.flag(request, "deleted"))
        return ok(.array(versions.map { .int(Int64($0)) }))
    }

    @Sendable func getVersion(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let found = try registries.snapshot(access.registryID).version(
            Self.version(context), of: Self.decodedPath(context, "subject"), includeDeleted: Self.flag(request, "deleted"))
        return ok(Self.render(found))
    }

    @Sendable func getVersionSchema(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let found = try registries.snapshot(access.registryID).version(
            Self.version(context), of: Self.decodedPath(context, "subject"), includeDeleted: Self.flag(request, "deleted"))
        return SchemaRegistryResponse.raw(.ok, Array(found.text.utf8))
    }

    /// No schema references another in Floe's registry (references are refused), so the answer is always empty once
    /// the version exists.
    @Sendable func referencedBy(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        _ = try registries.snapshot(access.registryID).version(Self.version(context), of: Self.decodedPath(context, "subject"))
        return ok([])
    }

    @Sendable func registerSchema(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let subject = Self.decodedPath(context, "subject")
        let definition = try await Self.definition(request, context: context)
        let normalize = Self.flag(request, "normalize")
        let registration = try await registries.mutate(access.registryID) { state in
            try state.register(subject: subject, definition: definition, normalize: normalize)
        }
        return ok(["id": .int(Int64(registration.id)), "version": .int(Int64(registration.version))])
    }

    @Sendable func lookup(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let subject = Self.decodedPath(context, "subject")
        let definition = try await Self.definition(request, context: context)
        let found = try registries.snapshot(access.registryID).lookup(
            subject: subject, definition: definition, includeDeleted: Self.flag(request, "deleted"))
        return ok(Self.render(found))
    }

    @Sendable func deleteSubject(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .manage)
        let subject = Self.decodedPath(context, "subject")
        let permanent = Self.flag(request, "permanent")
        let versions = try await registries.mutate(access.registryID) { state in try state.deleteSubject(subject, permanent: permanent) }
        return ok(.array(versions.map { .int(Int64($0)) }))
    }

    @Sendable func deleteVersion(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .manage)
        let subject = Self.decodedPath(context, "subject")
        let selector = try Self.version(context)
        let permanent = Self.flag(request, "permanent")
        let version = try await registries.mutate(access.registryID) { state in
            try state.deleteVersion(selector, of: subject, permanent: permanent)
        }
        return ok(.int(Int64(version)))
    }

    // MARK: Schemas by id

    @Sendable func schemaTypes(_ request: Request, context: FloeRequestContext) async throws -> Response {
        _ = try access(context, .use)
        return ok([.string(SchemaType.json.rawValue), .string(SchemaType.avro.rawValue)])
    }

    /// `GET /schemas/ids/{id}`; the `subject` parameter deserializers send names a context in Confluent's registry,
    /// and Floe's has only the default context, so it does not change the answer.
    @Sendable func schemaByID(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let schema = try registries.snapshot(access.registryID).schema(id: Self.schemaID(context))
        return ok(
            .object(omittingNil: [
                ("schemaType", schema.type == .avro ? nil : .string(schema.type.rawValue)),
                ("references", schema.references.isEmpty ? nil : Optional(Self.render(schema.references))),
                ("schema", .string(schema.text)),
            ]))
    }

    @Sendable func schemaTextByID(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let schema = try registries.snapshot(access.registryID).schema(id: Self.schemaID(context))
        return SchemaRegistryResponse.raw(.ok, Array(schema.text.utf8))
    }

    @Sendable func subjectsByID(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let state = registries.snapshot(access.registryID)
        let id = try Self.schemaID(context)
        _ = try state.schema(id: id)
        var subjects: [String] = []
        for usage in state.usages(ofSchema: id, includeDeleted: Self.flag(request, "deleted")) where subjects.last != usage.subject {
            subjects.append(usage.subject)
        }
        return ok(.array(subjects.map(JSONValue.string)))
    }

    @Sendable func versionsByID(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let state = registries.snapshot(access.registryID)
        let id = try Self.schemaID(context)
        _ = try state.schema(id: id)
        let usages = state.usages(ofSchema: id, includeDeleted: Self.flag(request, "deleted"))
        return ok(.array(usages.map { ["subject": .string($0.subject), "version": .int(Int64($0.version))] }))
    }

    // MARK: Compatibility levels

    @Sendable func getGlobalConfig(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        return ok(["compatibilityLevel": .string(registries.snapshot(access.registryID).globalCompatibility.rawValue)])
    }

    @Sendable func setGlobalConfig(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .manage)
        let level = try await Self.level(request, context: context)
        try await registries.mutate(access.registryID) { state in try state.setLevel(level, subject: nil) }
        return ok(["compatibility": .string(level.rawValue)])
    }

    /// Answers the level that was in effect, as a bare JSON string (the registry's `deleteTopLevelConfig`).
    @Sendable func deleteGlobalConfig(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .manage)
        let previous = try await registries.mutate(access.registryID) { state in try state.removeLevel(subject: nil) }
        return ok(.string(previous.rawValue))
    }

    @Sendable func getSubjectConfig(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .use)
        let subject = Self.decodedPath(context, "subject")
        let state = registries.snapshot(access.registryID)
        if let level = state.subjectLevels[subject] { return ok(["compatibilityLevel": .string(level.rawValue)]) }
        guard Self.flag(request, "defaultToGlobal") else { throw SchemaRegistryError.subjectLevelCompatibilityNotConfigured(subject) }
        return ok(["compatibilityLevel": .string(state.globalCompatibility.rawValue)])
    }

    @Sendable func setSubjectConfig(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .manage)
        let subject = Self.decodedPath(context, "subject")
        let level = try await Self.level(request, context: context)
        try await registries.mutate(access.registryID) { state in try state.setLevel(level, subject: subject) }
        return ok(["compatibility": .string(level.rawValue)])
    }

    @Sendable func deleteSubjectConfig(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let access = try access(context, .manage)
        let subject = Self.decodedPath(context, "subject")
        let previous = try await registries.mutate(access.registryID) { state in try state.removeLevel(subject: subject) }
        return ok(.string(previous.rawValue))
    }

    // MARK: Compatibility checks

    @Sendable func checkCompatibilityWithAll(_ request: Request, context: FloeRequestContext) async throws -> Response {
        try await checkCompatibility(request, context: context, against: nil)
    }

    @Sendable func checkCompatibilityWithVersion(_ request: Request, context: FloeRequestContext) async throws -> Response {
        try await checkCompatibility(request, context: context, against: Self.version(context))
    }

    /// `{"is_compatible": …}`, with the reasons in `messages` when `verbose=true`.
    func checkCompatibility(_ request: Request, context: FloeRequestContext, against selector: VersionSelector?) async throws -> Response {
        let access = try access(context, .use)
        let subject = Self.decodedPath(context, "subject")
        let definition = try await Self.definition(request, context: context)
        let messages = try registries.snapshot(access.registryID).compatibilityMessages(of: definition, subject: subject, against: selector)
        var body: [(String, JSONValue)] = [("is_compatible", .bool(messages.isEmpty))]
        if Self.flag(request, "verbose") { body.set("messages", .array(messages.map(JSONValue.string))) }
        return ok(.object(body))
    }

    // MARK: Mode, contexts, associations

    /// Floe's registry is always READWRITE (no import mode, no read-only replicas).
    @Sendable func getMode(_ request: Request, context: FloeRequestContext) async throws -> Response {
        _ = try access(context, .use)
        return ok(["mode": "READWRITE"])
    }

    /// Setting READWRITE is accepted (it is the mode); any other mode is a 42204.
    @Sendable func setMode(_ request: Request, context: FloeRequestContext) async throws -> Response {
        _ = try access(context, .manage)
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        let mode = try body.string("/mode") ?? ""
        guard mode.uppercased() == "READWRITE" else { throw SchemaRegistryError.invalidMode(mode) }
        return ok(["mode": "READWRITE"])
    }

    @Sendable func contexts(_ request: Request, context: FloeRequestContext) async throws -> Response {
        _ = try access(context, .use)
        return ok(["."])
    }

    /// Floe keeps no associations between topics and subjects. confluent-kafka 2.16's serializers ask here first and
    /// fall back to the topic-name strategy on a 404 — any other answer makes them fail.
    @Sendable func associations(_ request: Request, context: FloeRequestContext) async throws -> Response {
        _ = try access(context, .use)
        let name = Self.decodedPath(context, "name")
        throw SchemaRegistryError(errorCode: 40401, message: "No associations found for resource '\(name)'.")
    }
}
