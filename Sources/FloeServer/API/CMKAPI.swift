// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import Hummingbird
import Logging

/// `cmk/v2`: the Kafka clusters of an environment. Floe runs no brokers; a cluster *attaches* an existing one.
///
/// Floe's additions to the Confluent request body, all under `spec`:
/// - `kafka_bootstrap_endpoint` (read-only on Confluent Cloud, writable here): the brokers' `host:port[,…]`;
/// - `credentials` (write-only): `{mechanism: PLAIN|SCRAM-SHA-256|SCRAM-SHA-512, username, password}`, or `null` in a
///   PATCH to remove them;
/// - `tls` (write-only CA): `{enabled, ca_pem}`; a `ca_pem` implies `enabled`; `null` in a PATCH turns TLS off.
/// Responses carry `spec.tls.enabled` but never a credential or CA, and FAILED clusters say why in `status.detail`.
struct CMKAPI: Sendable {
    let api: APIEnvironment

    func register(on router: RouterGroup<FloeRequestContext>) {
        router.get("clusters", use: list)
        router.post("clusters", use: create)
        router.get("clusters/:id", use: get)
        router.patch("clusters/:id", use: update)
        router.delete("clusters/:id", use: delete)
    }

    /// The environment `environmentID` if it is one of the caller's organization (a 403 otherwise, as for pools).
    func requireEnvironment(_ environmentID: String, caller: Caller) throws(APIError) {
        guard api.store.snapshot().environments[environmentID]?.organizationID == caller.organizationID else {
            throw APIError.forbidden("The environment \(environmentID) was not found.")
        }
    }

    /// The cluster `id` of `environmentID` if the caller may see it; a 404 otherwise (an unseen cluster is not told
    /// apart from a missing one).
    func visibleCluster(_ id: String, environmentID: String, caller: Caller) throws(APIError) -> KafkaCluster {
        try requireEnvironment(environmentID, caller: caller)
        let cluster = try api.store.snapshot().kafkaCluster(id, environmentID: environmentID)
        guard caller.policy.canUse(kafkaCluster: cluster) else {
            throw APIError.notFound("Kafka cluster \(id) was not found in environment \(environmentID).")
        }
        return cluster
    }

    func requireManager(_ environmentID: String, caller: Caller, _ action: String) throws(APIError) {
        guard caller.policy.canManageKafkaClusters(in: environmentID) else {
            throw APIError.forbidden("\(action) Kafka clusters needs EnvironmentAdmin or OrganizationAdmin in \(environmentID).")
        }
    }

    @Sendable func list(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = try ListingQuery(request, filterNames: ["environment", "spec.deletion_protection", "spec.network"])
        guard let environmentID = query.filter("environment") else {
            throw APIError.invalidParameter("environment", "The query parameter 'environment' is required.")
        }
        try requireEnvironment(environmentID, caller: caller)
        var protection: Bool?
        if let text = query.filter("spec.deletion_protection") {
            guard let flag = Bool(text) else {
                throw APIError.invalidParameter("spec.deletion_protection", "spec.deletion_protection must be true or false.")
            }
            protection = flag
        }
        // Attached clusters are reached on their own addresses, never through a Confluent network: a network filter
        // matches none of them.
        let network = query.filter("spec.network")
        let clusters = api.store.snapshot().sorted(\.kafkaClusters) { cluster in
            cluster.environmentIDValue == environmentID && caller.policy.canUse(kafkaCluster: cluster)
                && (protection == nil || cluster.deletionProtection == protection) && network == nil
        }
        let render = Representations(links: api.links)
        return JSONResponse.make(
            .ok,
            query.document(
                apiVersion: "cmk/v2", kind: "ClusterList", path: "/cmk/v2/clusters", links: api.links, page: query.page(clusters),
                next: .tokenLast, render: render.kafkaCluster))
    }

    @Sendable func create(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        guard try body.value("/spec") != nil else { throw body.missing("/spec") }
        let connection = try Self.connectionFields(body)
        let clusterRequest = ControlPlaneState.KafkaClusterRequest(
            displayName: try body.requiredString("/spec/display_name"),
            availability: try body.requiredString("/spec/availability"),
            cloud: try body.requiredString("/spec/cloud"),
            region: try body.requiredString("/spec/region"),
            config: try Self.config(body) ?? { () throws(APIError) -> KafkaClusterConfig in throw body.missing("/spec/config") }(),
            environmentID: try body.requiredString("/spec/environment/id"),
            bootstrapServers: connection.bootstrapServers ?? "",
            sasl: connection.sasl.value,
            useTLS: connection.useTLS ?? false,
            tlsCAPEM: connection.tlsCAPEM.value,
            deletionProtection: try body.bool("/spec/deletion_protection") ?? false)
        try requireEnvironment(clusterRequest.environmentID, caller: caller)
        try requireManager(clusterRequest.environmentID, caller: caller, "Creating")
        let now = api.now()
        let organizationID = caller.organizationID
        let cluster = try await api.mutate { state throws(APIError) in
            try state.createKafkaCluster(organizationID: organizationID, request: clusterRequest, now: now)
        }
        context.logger.info(
            "kafka cluster attached",
            metadata: ["cluster": .string(cluster.id), "bootstrap": .string(cluster.bootstrapServers), "phase": .string(cluster.phase.rawValue)])
        return JSONResponse.make(.accepted, Representations(links: api.links).kafkaCluster(cluster))
    }

    @Sendable func get(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let environmentID = try request.requiredQuery("environment")
        let cluster = try visibleCluster(context.parameters.path("id"), environmentID: environmentID, caller: caller)
        return JSONResponse.make(.ok, Representations(links: api.links).kafkaCluster(cluster))
    }

    @Sendable func update(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        let body = try await RequestDocument.read(request, context: context)
        try body.requireObject()
        // The environment may come as `?environment=` (as for GET and DELETE) or as `spec.environment.id` (as the
        // confluent CLI and terraform send it).
        guard let environmentID = try request.uri.queryParameters.get("environment").map({ String($0) }) ?? body.string("/spec/environment/id")
        else {
            throw APIError.invalidParameter("environment", "The query parameter 'environment' (or spec.environment.id) is required.")
        }
        let current = try visibleCluster(id, environmentID: environmentID, caller: caller)
        try requireManager(environmentID, caller: caller, "Changing")
        if let cloud = try body.string("/spec/cloud"), Cloud(caseInsensitive: cloud) != current.cloud {
            throw APIError.badRequest("spec.cloud cannot be changed.", pointer: "/spec/cloud")
        }
        if let region = try body.string("/spec/region"), region != current.region {
            throw APIError.badRequest("spec.region cannot be changed.", pointer: "/spec/region")
        }
        var update = ControlPlaneState.KafkaClusterUpdate()
        update.displayName = try body.string("/spec/display_name")
        update.availability = try body.string("/spec/availability")
        update.config = try Self.config(body)
        update.deletionProtection = try body.bool("/spec/deletion_protection")
        let connection = try Self.connectionFields(body)
        update.bootstrapServers = connection.bootstrapServers
        update.sasl = connection.sasl
        update.useTLS = connection.useTLS
        update.tlsCAPEM = connection.tlsCAPEM
        let now = api.now()
        let finalUpdate = update
        let cluster = try await api.mutate { state throws(APIError) in
            try state.updateKafkaCluster(id: id, environmentID: environmentID, update: finalUpdate, now: now)
        }
        if cluster.connectionRevision != current.connectionRevision {
            context.logger.info(
                "kafka cluster connection changed",
                metadata: ["cluster": .string(cluster.id), "bootstrap": .string(cluster.bootstrapServers), "phase": .string(cluster.phase.rawValue)])
        }
        return JSONResponse.make(.ok, Representations(links: api.links).kafkaCluster(cluster))
    }

    @Sendable func delete(_ request: Request, context: FloeRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.path("id")
        let environmentID = try request.requiredQuery("environment")
        _ = try visibleCluster(id, environmentID: environmentID, caller: caller)
        try requireManager(environmentID, caller: caller, "Deleting")
        try await api.mutate { state throws(APIError) in try state.deleteKafkaCluster(id: id, environmentID: environmentID) }
        context.logger.info("kafka cluster detached", metadata: ["cluster": .string(id)])
        return JSONResponse.empty(.noContent)
    }

    // MARK: Request parsing

    /// `spec.config`: `{kind, cku?, max_ecku?}`; nil when absent.
    static func config(_ body: RequestDocument) throws(APIError) -> KafkaClusterConfig? {
        guard let value = try body.value("/spec/config") else { return nil }
        guard case .object = value else { throw body.wrongType("/spec/config", "an object", value) }
        let kindName = try body.requiredString("/spec/config/kind")
        guard let kind = KafkaClusterConfig.Kind(rawValue: kindName) else {
            throw APIError.badRequest(
                "spec.config.kind must be one of \(KafkaClusterConfig.Kind.allCases.map(\.rawValue).joined(separator: ", ")); got '\(kindName)'.",
                pointer: "/spec/config/kind")
        }
        return KafkaClusterConfig(kind: kind, cku: try body.int("/spec/config/cku"), maxECKU: try body.int("/spec/config/max_ecku"))
    }

    /// Floe's connection fields of a create or update body.
    struct ConnectionFields {
        var bootstrapServers: String?
        var sasl: ControlPlaneState.KafkaClusterUpdate.Change<KafkaConnection.SASL> = .keep
        var useTLS: Bool?
        var tlsCAPEM: ControlPlaneState.KafkaClusterUpdate.Change<String> = .keep
    }

    static func connectionFields(_ body: RequestDocument) throws(APIError) -> ConnectionFields {
        var fields = ConnectionFields()
        fields.bootstrapServers = try body.string("/spec/kafka_bootstrap_endpoint")?.trimmingCharacters(in: .whitespaces)
        if try body.value("/spec/credentials") != nil {
            let mechanismName = try body.string("/spec/credentials/mechanism") ?? "PLAIN"
            guard let mechanism = KafkaConnection.SASL.Mechanism(rawValue: mechanismName.uppercased()) else {
                throw APIError.badRequest(
                    "spec.credentials.mechanism must be one of \(KafkaConnection.SASL.Mechanism.allCases.map(\.rawValue).joined(separator: ", ")).",
                    pointer: "/spec/credentials/mechanism")
            }
            fields.sasl = .set(
                KafkaConnection.SASL(
                    mechanism: mechanism, username: try body.requiredString("/spec/credentials/username"),
                    password: try body.requiredString("/spec/credentials/password")))
        } else if body.isExplicitNull("/spec/credentials") {
            fields.sasl = .remove
        }
        if let tls = try body.value("/spec/tls") {
            guard case .object = tls else { throw body.wrongType("/spec/tls", "an object", tls) }
            let pem = try body.string("/spec/tls/ca_pem")
            let enabled = try body.bool("/spec/tls/enabled")
            if enabled == false, pem != nil {
                throw APIError.badRequest("spec.tls.ca_pem needs TLS: drop it or set spec.tls.enabled to true.", pointer: "/spec/tls/ca_pem")
            }
            fields.useTLS = enabled ?? true
            if let pem {
                fields.tlsCAPEM = .set(pem)
            } else if enabled == false || body.isExplicitNull("/spec/tls/ca_pem") {
                fields.tlsCAPEM = .remove
            }
        } else if body.isExplicitNull("/spec/tls") {
            fields.useTLS = false
            fields.tlsCAPEM = .remove
        }
        return fields
    }
}

extension ControlPlaneState.KafkaClusterUpdate.Change {
    /// The value of a `.set`.
    var value: Value? {
        if case .set(let value) = self { return value }
        return nil
    }
}

extension RequestDocument {
    /// Whether the member at `pointer` is present with the value `null` (which a PATCH uses to remove a setting).
    func isExplicitNull(_ pointer: String) -> Bool {
        var current = root
        for component in pointer.split(separator: "/") {
            guard let next = current[String(component)] else { return false }
            current = next
        }
        return current.isNull
    }
}

extension Representations {
    /// A `cmk/v2` Cluster. The endpoints name Floe itself for HTTP (it serves the `kafka/v3` topic reads of the
    /// cluster) and the attached brokers for Kafka; credentials and the TLS CA are never part of it.
    func kafkaCluster(_ cluster: KafkaCluster) -> JSONValue {
        var config: [(String, JSONValue)] = [("kind", .string(cluster.config.kind.rawValue))]
        if let cku = cluster.config.cku { config.append(("cku", .int(Int64(cku)))) }
        if let maxECKU = cluster.config.maxECKU { config.append(("max_ecku", .int(Int64(maxECKU)))) }
        let httpEndpoint = links.baseURL
        return .object(omittingNil: [
            ("api_version", "cmk/v2"), ("kind", "Cluster"), ("id", .string(cluster.id)),
            (
                "metadata",
                [
                    "self": .string(links.url("/cmk/v2/clusters/\(cluster.id)")),
                    "resource_name": .string(CRN.kafkaCluster(cluster.organizationID, cluster.environmentIDValue, cluster.id).description),
                    "created_at": time(cluster.createdAt), "updated_at": time(cluster.updatedAt),
                ]
            ),
            (
                "spec",
                [
                    "display_name": .string(cluster.displayName), "availability": .string(cluster.availability),
                    "cloud": .string(cluster.cloud.rawValue), "region": .string(cluster.region), "config": .object(config),
                    "kafka_bootstrap_endpoint": .string(cluster.bootstrapServers), "http_endpoint": .string(httpEndpoint),
                    "api_endpoint": .string(httpEndpoint),
                    "endpoints": [
                        "PUBLIC": [
                            "kafka_bootstrap_endpoint": .string(cluster.bootstrapServers), "http_endpoint": .string(httpEndpoint),
                            "connection_type": "PUBLIC",
                        ]
                    ],
                    "deletion_protection": .bool(cluster.deletionProtection),
                    "environment": [
                        "id": .string(cluster.environmentIDValue),
                        "related": .string(links.url("/org/v2/environments/\(cluster.environmentIDValue)")),
                        "resource_name": .string(CRN.environment(cluster.organizationID, cluster.environmentIDValue).description),
                    ],
                    "tls": ["enabled": .bool(cluster.useTLS)],
                ]
            ),
            (
                "status",
                .object(omittingNil: [
                    ("phase", .string(cluster.phase.rawValue)),
                    ("cku", cluster.config.cku.map { .int(Int64($0)) }),
                    ("detail", cluster.statusDetail.map(JSONValue.string)),
                    ("kafka_cluster_id", cluster.kafkaClusterID.map(JSONValue.string)),
                    ("broker_count", cluster.brokerCount.map { .int(Int64($0)) }),
                ])
            ),
        ])
    }
}
