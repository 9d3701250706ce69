// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeBuildInfo
import FloeCore
import FloeKafka
import FloeStore
import Foundation
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import ServiceLifecycle

/// The `floe serve` process: the HTTP API on a store in the data directory, with its background services.
public struct FloeServer: Sendable {
    let configuration: ServerConfiguration
    let logger: Logger

    /// Creates a server; nothing starts until ``run()``.
    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens the store, bootstraps it on first start, serves until SIGINT/SIGTERM, then shuts down gracefully.
    /// - Throws: when the data directory or database cannot be opened, or the port cannot be bound.
    public func run() async throws {
        let dataDirectory = configuration.dataDirectory
        DataDirectory.restrictNewFiles()
        let tightened = try DataDirectory.secure(dataDirectory)
        if tightened > 0 { logger.notice("made the data directory private to this user", metadata: ["entries": .stringConvertible(tightened)]) }
        let store = try SQLiteControlPlaneStore(
            path: dataDirectory.appendingPathComponent("floe.sqlite").path, resultsLimit: configuration.statementResultsLimit)
        let (bootstrapFile, created) = try await Bootstrap.run(
            store: store, dataDirectory: dataDirectory, credentials: configuration.bootstrapCredentials, logger: logger)
        print(created ? "Admin credentials written to \(bootstrapFile.path)" : "Admin credentials are in \(bootstrapFile.path)")
        try await Self.provisionSchemaRegistries(store: store, logger: logger)

        let publicURL = configuration.resolvedPublicURL(boundPort: configuration.port)
        // One admin client per attached cluster, made on first use: a server with no cluster never loads librdkafka.
        let kafkaAdmins = KafkaAdminPool(logger: logger)
        let kafkaInspector = configuration.kafkaInspector ?? LibrdkafkaInspector(pool: kafkaAdmins)
        let embedded = try EmbeddedBackend(
            directory: dataDirectory.appendingPathComponent("engine"), fileSystemRoots: configuration.fileSystemRoots,
            privateDirectory: dataDirectory,
            kafkaAdmins: kafkaAdmins,
            schemaRegistries: { [directory = SchemaRegistryDirectory(store: store)] in directory.engineRegistry(environmentID: $0) })
        // Regions mapped to Flink clusters run their statements there; the others on the embedded engine.
        let flink =
            configuration.flinkClusters.isEmpty
            ? nil
            : try FlinkBackend(
                embedded: embedded,
                clusters: configuration.flinkClusters.map {
                    FlinkCluster(
                        regionID: $0.regionID, gatewayURL: $0.gatewayURL, jobManagerURL: $0.jobManagerURL, savepointDirectory: $0.savepointDirectory)
                }, directory: dataDirectory.appendingPathComponent("flink"), logger: logger)
        for cluster in configuration.flinkClusters {
            logger.info(
                "statements of this region run on Apache Flink",
                metadata: ["region": .string(cluster.regionID), "gateway": .string(cluster.gatewayURL), "jobmanager": .string(cluster.jobManagerURL)])
        }
        let backend = RegionalBackend(embedded: embedded, flink: flink)
        let signals = ResultSignals()
        let scheduler = StatementScheduler(
            store: store, results: store, backend: backend, signals: signals,
            marker: PreparationMarker(url: dataDirectory.appendingPathComponent("preparing")), retention: configuration.statementRetention,
            logger: logger)
        let statements = StatementServices(
            scheduler: scheduler, results: store, backend: backend, signals: signals, longPoll: .seconds(1), resultsPageSize: 1000)
        var routed = configuration
        routed.kafkaInspector = kafkaInspector
        let router = Self.makeRouter(
            store: store, configuration: routed, publicURL: publicURL, statements: statements, registries: store.schemaRegistries)
        let provisioner = PoolProvisioner(
            store: store, delay: configuration.poolProvisioningDelay, logger: logger, provisioned: { scheduler.wake() })
        let prober = KafkaClusterProber(store: store, inspector: kafkaInspector, timeout: configuration.kafkaProbeTimeout, logger: logger)
        let (limits, descriptors) = configuration.connections.fittingDescriptorLimit()
        if limits.maximumConnections < configuration.connections.maximumConnections {
            logger.warning(
                "fewer connections than asked: the file descriptor limit must also hold the store and the engine",
                metadata: ["max_connections": .stringConvertible(limits.maximumConnections), "descriptors": .stringConvertible(descriptors)])
        }
        let counter = ConnectionCounter(limits: limits)
        let logger = self.logger
        let app = Application(
            router: router,
            server: .http1(configuration: Self.httpConfiguration(counter)),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "floe",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maximumConnections + ConnectionLimits.refusalMargin)),
            services: [provisioner, prober, scheduler],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info(
                    "floe serving",
                    metadata: ["address": .string("\(channel.localAddress?.ipAddress ?? "?"):\(port)"), "public_url": .string(publicURL)])
                print("Floe is serving on \(publicURL)")
            },
            logger: logger)
        try await app.runService()
    }

    /// Gives environments stored before Schema Registries existed their registry, and drops the stored registries of
    /// environments that are gone (deleted while the server stopped before it could drop them).
    static func provisionSchemaRegistries(store: SQLiteControlPlaneStore, logger: Logger) async throws {
        let provisioned = try await store.mutate { state in state.ensureSchemaRegistries() }
        if !provisioned.isEmpty {
            logger.info("provisioned Schema Registries", metadata: ["environments": .string(provisioned.joined(separator: ","))])
        }
        let live = Set(store.snapshot().environments.values.compactMap(\.schemaRegistryID))
        let dropped = try await store.schemaRegistries.dropOrphans(keeping: live)
        if !dropped.isEmpty { logger.info("dropped orphaned Schema Registries", metadata: ["registries": .string(dropped.joined(separator: ","))]) }
    }

    /// HTTP/1.1 with every connection behind a ``ConnectionGuardHandler``, and idle keep-alive connections closed.
    static func httpConfiguration(_ counter: ConnectionCounter) -> HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuardHandler(counter: counter)],
            idleTimeout: TimeAmount(counter.limits.idleTimeout),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: ConnectionLimits.maximumHeadSize, maxHeaderListSize: ConnectionLimits.maximumHeadSize,
                maxHeaderFieldCount: ConnectionLimits.maximumHeaderCount))
    }

    /// The router of `floe serve`: every API group behind its middleware, and the web console at `/`.
    ///
    /// The console answers its pages by calling the API in process, through a second router with the same groups,
    /// middleware and rate limiter (so its calls are authenticated and authorized like any other client's).
    static func makeRouter(
        store: any ControlPlaneStore, configuration: ServerConfiguration, publicURL: String, statements: StatementServices? = nil,
        registries: SchemaRegistryStore? = nil, consoleSessions: ConsoleSessionStore = ConsoleSessionStore()
    ) -> Router<FloeRequestContext> {
        let limiter = configuration.rateLimits.map { RateLimiter(limits: $0) }
        let router = makeAPIRouter(
            store: store, configuration: configuration, publicURL: publicURL, statements: statements, registries: registries, limiter: limiter)
        let api = makeAPIRouter(
            store: store, configuration: configuration, publicURL: publicURL, statements: statements, registries: registries, limiter: limiter)
        let console = Console(dispatcher: APIDispatcher(responder: api.buildResponder()), publicURL: publicURL, sessions: consoleSessions)
        console.register(on: router)
        return router
    }

    /// The API groups behind their middleware.
    static func makeAPIRouter(
        store: any ControlPlaneStore, configuration: ServerConfiguration, publicURL: String, statements: StatementServices?,
        registries: SchemaRegistryStore?, limiter: RateLimiter?
    ) -> Router<FloeRequestContext> {
        let router = Router(context: FloeRequestContext.self)
        router.add(middleware: RequestEnvelopeMiddleware(styles: ErrorStyles(prefixes: [(SchemaRegistryAPI.pathPrefix, .schemaRegistry)])))
        // The build is reported so that a user (or a deployment check) can tell which binary answers.
        router.get("healthz") { _, _ in
            JSONResponse.make(
                .ok,
                [
                    "status": "ok", "version": .string(BuildInfo.version), "commit": .string(BuildInfo.commit),
                    "build_date": .string(BuildInfo.date),
                ])
        }

        var api = APIEnvironment(store: store, links: ResourceLinks(baseURL: publicURL), regions: configuration.regions, now: { Date() })
        api.registries = registries
        api.flinkRegions = Set(configuration.flinkClusters.map(\.regionID))
        if let statements {
            api.afterCascadingDelete = { environmentID in await statements.scheduler.afterCascadingDelete(environmentID: environmentID) }
        }
        let apiRoutes = router.group()
        if let limiter {
            apiRoutes.add(middleware: RateLimitMiddleware(limiter: limiter))
        }
        let controlPlane = apiRoutes.group().add(middleware: AuthenticationMiddleware(store: store, scope: .cloudKeysOnly))
        OrgAPI(api: api).register(on: controlPlane.group("org/v2"))
        IdentityAPI(api: api).register(on: controlPlane.group("iam/v2"))
        APIKeysAPI(api: api).register(on: controlPlane.group("iam/v2"))
        RoleBindingsAPI(api: api).register(on: controlPlane.group("iam/v2"))
        FCPMAPI(api: api).register(on: controlPlane.group("fcpm/v2"))
        CMKAPI(api: api).register(on: controlPlane.group("cmk/v2"))
        KafkaRESTAPI(api: api, inspector: configuration.kafkaInspector ?? UnavailableKafkaInspector()).register(on: controlPlane.group("kafka/v3"))
        if let registries {
            SRCMAPI(api: api).register(on: controlPlane.group("srcm/v3"))
            let registry = apiRoutes.group("schema-registry/:registry").add(
                middleware: AuthenticationMiddleware(store: store, scope: .schemaRegistry))
            SchemaRegistryAPI(api: api, registries: registries).register(on: registry)
        }
        if let statements {
            let flink = apiRoutes.group().add(middleware: AuthenticationMiddleware(store: store, scope: .flink))
            StatementsAPI(api: api, services: statements).register(on: flink)
        }
        return router
    }
}
