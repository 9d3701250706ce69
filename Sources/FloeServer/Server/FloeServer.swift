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
import UnixSignals

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
    /// - Throws: when the TLS material, the data directory or the database cannot be read, or a port cannot be bound.
    public func run() async throws {
        // TLS material first: a listener that cannot serve what it was told fails the start before anything is opened.
        let publicTLS = try configuration.tls.map { files throws(TLSMaterialError) in try ReloadableTLSContext(files: files) }
        let privateTLS = try configuration.privateListener?.tls.map { files throws(TLSMaterialError) in try ReloadableTLSContext(files: files) }
        let dataDirectory = configuration.dataDirectory
        DataDirectory.restrictNewFiles()
        let tightened = try DataDirectory.secure(dataDirectory)
        if tightened > 0 { logger.notice("made the data directory private to this user", metadata: ["entries": .stringConvertible(tightened)]) }
        let store = try SQLiteControlPlaneStore(
            path: dataDirectory.appendingPathComponent("floe.sqlite").path, resultsLimit: configuration.statementResultsLimit)
        let (bootstrapFile, created) = try await Bootstrap.run(
            store: store, dataDirectory: dataDirectory, credentials: configuration.bootstrapCredentials, logger: logger)
        announce(
            created ? "Admin credentials written to \(bootstrapFile.path)" : "Admin credentials are in \(bootstrapFile.path)",
            log: "admin credentials", metadata: ["file": .string(bootstrapFile.path)])
        try await Self.provisionSchemaRegistries(store: store, logger: logger)

        let publicURL = configuration.resolvedPublicURL(boundPort: configuration.port)
        let endpoints = ServerEndpoints(publicURL: publicURL, privateURL: configuration.resolvedPrivateURL())
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
        let routed = {
            var routed = configuration
            routed.kafkaInspector = kafkaInspector
            return routed
        }()
        let provisioner = PoolProvisioner(
            store: store, delay: configuration.poolProvisioningDelay, logger: logger, provisioned: { scheduler.wake() })
        let prober = KafkaClusterProber(store: store, inspector: kafkaInspector, timeout: configuration.kafkaProbeTimeout, logger: logger)
        let (limits, descriptors) = configuration.connections.fittingDescriptorLimit()
        if limits.maximumConnections < configuration.connections.maximumConnections {
            logger.warning(
                "fewer connections than asked: the file descriptor limit must also hold the store and the engine",
                metadata: ["max_connections": .stringConvertible(limits.maximumConnections), "descriptors": .stringConvertible(descriptors)])
        }
        let counters = (public: ConnectionCounter(limits: limits), private: ConnectionCounter(limits: limits))
        let hasPrivateListener = configuration.privateListener != nil
        let metrics = MetricsAPI(metrics: ServerMetrics()) { organizationID in
            await Self.scrapeState(
                organizationID: organizationID, store: store, scheduler: scheduler, backend: backend,
                connections: [("public", counters.public)] + (hasPrivateListener ? [("private", counters.private)] : []))
        }
        // Both listeners share the rate limiter (a client's limits hold across them), the console's sessions and the
        // metrics.
        let shared = ListenerShared(limiter: configuration.rateLimits.map { RateLimiter(limits: $0) }, metrics: metrics)
        let router = Self.makeRouter(
            store: store, configuration: routed, publicURL: publicURL, endpoints: endpoints, statements: statements,
            registries: store.schemaRegistries, shared: shared)
        var services: [any Service] = [provisioner, prober, scheduler]
        let logger = self.logger
        if let listener = configuration.privateListener, let privateURL = endpoints.privateURL {
            let privateRouter = Self.makeRouter(
                store: store, configuration: routed, publicURL: privateURL, endpoints: endpoints, networkKind: .private, statements: statements,
                registries: store.schemaRegistries, shared: shared)
            let announce = self.announce
            services.append(
                Application(
                    router: privateRouter, server: Self.serverBuilder(counters.private, tls: privateTLS),
                    configuration: .init(
                        address: .hostname(listener.host ?? configuration.host, port: listener.port), serverName: "floe",
                        availableConnectionsDelegate: MaximumAvailableConnections(limits.maximumConnections + ConnectionLimits.refusalMargin)),
                    onServerRunning: { channel in
                        // With port 0 the port is known only now, before the first request.
                        if listener.port == 0, listener.url == nil {
                            endpoints.bound(
                                .private,
                                url: ServerConfiguration.baseURL(
                                    configured: nil, host: listener.host ?? routed.host, port: channel.localAddress?.port ?? 0, tls: privateTLS != nil
                                ))
                        }
                        let privateURL = endpoints.privateURL ?? ""
                        logger.info(
                            "private endpoint serving",
                            metadata: [
                                "address": .string("\(channel.localAddress?.ipAddress ?? "?"):\(channel.localAddress?.port ?? 0)"),
                                "private_url": .string(privateURL),
                            ])
                        announce("Floe's private endpoint is serving on \(privateURL)", nil, [:])
                    },
                    logger: logger))
        }
        services.append(
            TLSReloader(
                listeners: [("public", publicTLS), ("private", privateTLS)].compactMap { name, tls in tls.map { (name, $0) } }, logger: logger))
        let announce = self.announce
        let app = Application(
            router: router,
            server: Self.serverBuilder(counters.public, tls: publicTLS),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "floe",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maximumConnections + ConnectionLimits.refusalMargin)),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                // With port 0 the port is known only now, before the first request.
                if routed.port == 0, routed.publicURL == nil { endpoints.bound(.public, url: routed.resolvedPublicURL(boundPort: port)) }
                let publicURL = endpoints.publicURL
                logger.info(
                    "floe serving",
                    metadata: ["address": .string("\(channel.localAddress?.ipAddress ?? "?"):\(port)"), "public_url": .string(publicURL)])
                announce("Floe is serving on \(publicURL)", nil, [:])
            },
            logger: logger)
        try await app.runService()
    }

    /// Tells the operator something on stdout: a plain line, or with `--log-format json` the log record `message` (nil
    /// when a log line already says it), so that every line of the output is JSON.
    @Sendable func announce(_ line: String, log message: Logger.Message?, metadata: Logger.Metadata) {
        switch configuration.logFormat {
        case .text: print(line)
        case .json: if let message { logger.notice(message, metadata: metadata) }
        }
    }

    /// What a metrics scrape reports of the server's state, for `organizationID`.
    static func scrapeState(
        organizationID: String, store: SQLiteControlPlaneStore, scheduler: StatementScheduler, backend: any ExecutionBackend,
        connections: [(String, ConnectionCounter)]
    ) async -> ScrapeState {
        var state = ScrapeState()
        let statements = store.snapshot().statements.values.filter { $0.organizationID == organizationID }
        for statement in statements { state.statementsByPhase[statement.phase, default: 0] += 1 }
        let byID = Dictionary(uniqueKeysWithValues: statements.map { ($0.id, $0) })
        for (id, statistics) in await scheduler.runStatistics() {
            guard let statement = byID[id], backend.engine(regionID: statement.regionID) == "embedded" else { continue }
            state.running.append(.init(environmentID: statement.environmentIDValue, name: statement.name, statistics: statistics))
        }
        state.resultStoreBytes = try? await store.resultStoreBytes()
        state.openConnections = connections.map { ($0.0, $0.1.openConnections) }
        return state
    }

    /// HTTP/1.1 on a listener, behind TLS when it has material.
    static func serverBuilder(_ counter: ConnectionCounter, tls: ReloadableTLSContext?) -> HTTPServerBuilder {
        let configuration = httpConfiguration(counter)
        guard let tls else { return .http1(configuration: configuration) }
        return HTTPServerBuilder { responder in
            ReloadableTLSChannel(base: HTTP1Channel(responder: responder, configuration: configuration), tls: tls)
        }
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

    /// The router of one listener of `floe serve`: every API group behind its middleware, and the web console at `/`.
    ///
    /// `publicURL` is the base URL of the listener the router serves (links point back through it); statements created
    /// through it get `networkKind`. The console answers its pages by calling the API in process, through a second
    /// router with the same groups, middleware and rate limiter (so its calls are authenticated and authorized like any
    /// other client's).
    static func makeRouter(
        store: any ControlPlaneStore, configuration: ServerConfiguration, publicURL: String, endpoints: ServerEndpoints? = nil,
        networkKind: NetworkKind = .public, statements: StatementServices? = nil, registries: SchemaRegistryStore? = nil,
        shared: ListenerShared? = nil
    ) -> Router<FloeRequestContext> {
        let shared = shared ?? ListenerShared(limiter: configuration.rateLimits.map { RateLimiter(limits: $0) })
        let links = ResourceLinks(
            endpoints: endpoints ?? ServerEndpoints(publicURL: publicURL, privateURL: networkKind == .private ? publicURL : nil),
            networkKind: networkKind)
        let router = makeAPIRouter(
            store: store, configuration: configuration, links: links, networkKind: networkKind, statements: statements, registries: registries,
            limiter: shared.limiter, metrics: shared.metrics)
        let api = makeAPIRouter(
            store: store, configuration: configuration, links: links, networkKind: networkKind, statements: statements, registries: registries,
            limiter: shared.limiter, metrics: nil)
        let console = Console(dispatcher: APIDispatcher(responder: api.buildResponder()), publicURL: publicURL, sessions: shared.consoleSessions)
        console.register(on: router)
        return router
    }

    /// The API groups behind their middleware.
    ///
    /// With `metrics`, requests are counted and `GET /metrics` is served; the console's in-process router has none.
    static func makeAPIRouter(
        store: any ControlPlaneStore, configuration: ServerConfiguration, links: ResourceLinks, networkKind: NetworkKind,
        statements: StatementServices?, registries: SchemaRegistryStore?, limiter: RateLimiter?, metrics: MetricsAPI?
    ) -> Router<FloeRequestContext> {
        let router = Router(context: FloeRequestContext.self)
        router.add(
            middleware: RequestEnvelopeMiddleware(
                styles: ErrorStyles(prefixes: [(SchemaRegistryAPI.pathPrefix, .schemaRegistry)]), metrics: metrics?.metrics))
        // The build is reported so that a user (or a deployment check) can tell which binary answers.
        router.get("healthz") { _, _ in
            JSONResponse.make(
                .ok,
                [
                    "status": "ok", "version": .string(BuildInfo.version), "commit": .string(BuildInfo.commit),
                    "build_date": .string(BuildInfo.date),
                ])
        }

        var api = APIEnvironment(store: store, links: links, regions: configuration.regions, now: { Date() })
        api.registries = registries
        api.networkKind = networkKind
        api.flinkRegions = Set(configuration.flinkClusters.map(\.regionID))
        if let statements {
            api.afterCascadingDelete = { environmentID in await statements.scheduler.afterCascadingDelete(environmentID: environmentID) }
        }
        let apiRoutes = router.group()
        if let limiter {
            apiRoutes.add(middleware: RateLimitMiddleware(limiter: limiter, metrics: metrics?.metrics))
        }
        let controlPlane = apiRoutes.group().add(middleware: AuthenticationMiddleware(store: store, scope: .cloudKeysOnly))
        OrgAPI(api: api).register(on: controlPlane.group("org/v2"))
        IdentityAPI(api: api).register(on: controlPlane.group("iam/v2"))
        APIKeysAPI(api: api).register(on: controlPlane.group("iam/v2"))
        RoleBindingsAPI(api: api).register(on: controlPlane.group("iam/v2"))
        FCPMAPI(api: api).register(on: controlPlane.group("fcpm/v2"))
        CMKAPI(api: api).register(on: controlPlane.group("cmk/v2"))
        KafkaRESTAPI(api: api, inspector: configuration.kafkaInspector ?? UnavailableKafkaInspector()).register(on: controlPlane.group("kafka/v3"))
        metrics?.register(on: controlPlane)
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

/// What the listeners of one server share.
struct ListenerShared: Sendable {
    /// Per-client limits, counted across both listeners; nil when limiting is off.
    var limiter: RateLimiter?
    /// Console logins, valid on either listener.
    var consoleSessions = ConsoleSessionStore()
    /// `GET /metrics` and the request counts behind it; nil in routers built without a server (tests).
    var metrics: MetricsAPI?
}

/// Re-reads the listeners' TLS material on SIGHUP (`systemctl reload floe`), so that a renewed certificate is served
/// without a restart; a file that does not load leaves that listener's current material in place.
struct TLSReloader: Service {
    let listeners: [(name: String, tls: ReloadableTLSContext)]
    let logger: Logger

    func run() async throws {
        // Trapped even without TLS: SIGHUP's default action would end the server.
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            if listeners.isEmpty { logger.info("SIGHUP: no TLS material to reload") }
            for (name, tls) in listeners {
                do {
                    try tls.reload()
                    logger.notice(
                        "reloaded TLS certificate", metadata: ["listener": .string(name), "certificate": .string(tls.files.certificatePath)])
                } catch {
                    logger.error("TLS certificate not reloaded", metadata: ["listener": .string(name), "error": .string(error.description)])
                }
            }
        }
    }
}
