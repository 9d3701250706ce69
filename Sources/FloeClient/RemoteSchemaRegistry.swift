// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
public import FloeSchemas
import Foundation

/// A Schema Registry reached over HTTP (Confluent's registry API, with HTTP Basic credentials): how Floe uses a
/// registry it does not serve, behind the same ``SchemaRegistry`` calls as its own.
///
/// Registry errors come back as ``SchemaRegistryError`` with the remote `error_code` and `message`, so callers branch
/// on the same codes whichever registry answers; "not found" answers of the lookups are `nil`, as the protocol says.
/// The transport is ``FloeClient``'s HTTP/1.1, so the URL must be `http://` (no TLS yet).
public struct RemoteSchemaRegistry: SchemaRegistry {
    let client: FloeClient

    /// A registry at `url` (its base, e.g. `http://host:8081` or Floe's `…/schema-registry/lsrc-…`).
    public init(url: String, credentials: APICredentials?, timeout: Duration = .seconds(30)) {
        self.client = FloeClient(baseURL: url, credentials: credentials, timeout: timeout)
    }

    static let mediaType = "application/vnd.schemaregistry.v1+json"

    /// A path segment with everything but unreserved characters percent-encoded (subjects may hold `/`).
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// One call; the parsed body of a 2xx answer.
    /// - Throws: ``SchemaRegistryError`` for an error answer (a body without `error_code` becomes the HTTP status as
    ///   the code), or a transport error.
    func call(_ method: String, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil) async throws -> JSONValue {
        let response = try await client.send(
            method, "/" + path, query: query, json: json,
            headers: [("Accept", "\(Self.mediaType), application/vnd.schemaregistry+json, application/json")])
        let body = response.json
        guard (200..<300).contains(response.status) else {
            let code = body?["error_code"]?.intValue.map(Int.init) ?? response.status
            let message = body?["message"]?.stringValue ?? "HTTP \(response.status) from the Schema Registry"
            throw SchemaRegistryError(errorCode: code, message: message)
        }
        guard let body else { throw SchemaRegistryError(errorCode: 50001, message: "The Schema Registry answered without a JSON body") }
        return body
    }

    /// `call`, with the given "not found" codes turned into `nil`.
    func optional(_ codes: Set<Int>, _ body: () async throws -> JSONValue) async throws -> JSONValue? {
        do {
            return try await body()
        } catch let error as SchemaRegistryError where codes.contains(error.errorCode) {
            return nil
        }
    }

    static func references(_ value: JSONValue?) -> [SchemaReference] {
        (value?.arrayValue ?? []).compactMap { entry in
            guard let name = entry["name"]?.stringValue, let subject = entry["subject"]?.stringValue, let version = entry["version"]?.intValue
            else { return nil }
            return SchemaReference(name: name, subject: subject, version: Int(version))
        }
    }

    static func schemaType(_ value: JSONValue?) throws -> SchemaType {
        guard let type = SchemaType(registryName: value?.stringValue) else {
            throw SchemaRegistryError(errorCode: 50001, message: "The Schema Registry answered an unknown schemaType \(value?.stringValue ?? "")")
        }
        return type
    }

    public func latestVersion(subject: String) async throws -> RegisteredSchema? {
        guard
            let body = try await optional([40401, 40402], { try await call("GET", "subjects/\(Self.segment(subject))/versions/latest") }),
            let id = body["id"]?.intValue, let version = body["version"]?.intValue, let text = body["schema"]?.stringValue
        else { return nil }
        return RegisteredSchema(
            id: Int(id), subject: body["subject"]?.stringValue ?? subject, version: Int(version), type: try Self.schemaType(body["schemaType"]),
            text: text, references: Self.references(body["references"]))
    }

    public func schema(id: Int) async throws -> RegisteredSchema? {
        guard let body = try await optional([40403], { try await call("GET", "schemas/ids/\(id)") }),
            let text = body["schema"]?.stringValue
        else { return nil }
        // The id answer carries no subject; the oldest registration names one, as Floe's own registry does.
        let usages = try await optional([40403], { try await call("GET", "schemas/ids/\(id)/versions") })?.arrayValue ?? []
        let first = usages.compactMap { usage -> (String, Int)? in
            guard let subject = usage["subject"]?.stringValue, let version = usage["version"]?.intValue else { return nil }
            return (subject, Int(version))
        }.min { $0 < $1 }
        return RegisteredSchema(
            id: id, subject: first?.0 ?? "", version: first?.1 ?? 0, type: try Self.schemaType(body["schemaType"]), text: text,
            references: Self.references(body["references"]))
    }

    public func register(subject: String, schema: SchemaDefinition, normalize: Bool) async throws -> SchemaRegistration {
        var members: [(String, JSONValue)] = [("schema", .string(schema.text)), ("schemaType", .string(schema.type.rawValue))]
        members.append(
            (
                "references",
                .array(
                    schema.references.map { ["name": .string($0.name), "subject": .string($0.subject), "version": .int(Int64($0.version))] })
            ))
        // Whether the subject had the schema already is what a lookup answers; ask first, as serializers with
        // auto-registration off do, so that `existed` is right and a known schema costs no write.
        let known = try await optional([40401, 40403]) {
            try await call("POST", "subjects/\(Self.segment(subject))", query: [("normalize", String(normalize))], json: .object(members))
        }
        if let known, let id = known["id"]?.intValue, let version = known["version"]?.intValue {
            return SchemaRegistration(id: Int(id), version: Int(version), existed: true)
        }
        let body = try await call(
            "POST", "subjects/\(Self.segment(subject))/versions", query: [("normalize", String(normalize))], json: .object(members))
        guard let id = body["id"]?.intValue else {
            throw SchemaRegistryError(errorCode: 50001, message: "The Schema Registry's register answer has no id")
        }
        if let version = body["version"]?.intValue { return SchemaRegistration(id: Int(id), version: Int(version), existed: false) }
        // Older registries answer only the id; the lookup names the version.
        let found = try await call("POST", "subjects/\(Self.segment(subject))", query: [("normalize", String(normalize))], json: .object(members))
        return SchemaRegistration(id: Int(id), version: Int(found["version"]?.intValue ?? 0), existed: false)
    }

    @discardableResult
    public func deleteSubject(_ subject: String, permanent: Bool) async throws -> [Int] {
        let body = try await call("DELETE", "subjects/\(Self.segment(subject))", query: [("permanent", String(permanent))])
        return (body.arrayValue ?? []).compactMap { $0.intValue.map(Int.init) }
    }

    public func compatibility(subject: String) async throws -> CompatibilityLevel? {
        guard let body = try await optional([40401, 40408], { try await call("GET", "config/\(Self.segment(subject))") }) else { return nil }
        return (body["compatibilityLevel"] ?? body["compatibility"])?.stringValue.flatMap(CompatibilityLevel.init(registryName:))
    }

    public func setCompatibility(_ level: CompatibilityLevel, subject: String) async throws {
        _ = try await call("PUT", "config/\(Self.segment(subject))", json: ["compatibility": .string(level.rawValue)])
    }
}
