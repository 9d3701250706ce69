// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import ArgumentParser
import FloeCore
import FloeServer
import Foundation
import Logging

/// `floe serve`: runs the server. Every option can also come from an environment variable.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the Floe server (HTTP API, scheduler and embedded engine).")

    @Option(help: "Interface to listen on (env FLOE_HOST).")
    var host: String?

    @Option(help: "Port to listen on (env FLOE_PORT).")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Directory for the database and bootstrap credentials (env FLOE_DATA_DIR; default ~/.floe).")
    var dataDirectory: String?

    @Option(name: .customLong("public-url"), help: "Externally visible base URL used in self/next links and Location (env FLOE_PUBLIC_URL).")
    var publicURL: String?

    @Option(name: .customLong("rate-limit"), help: "'on' (100 concurrent, 50/s, 1000/min per client IP) or 'off' (env FLOE_RATE_LIMIT).")
    var rateLimit: String?

    @Option(help: "Comma-separated Flink regions to offer, e.g. aws.us-east-1,gcp.us-central1 (env FLOE_REGIONS).")
    var regions: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env FLOE_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .customLong("max-connections"), help: "Open connections at most; more are answered 503 (env FLOE_MAX_CONNECTIONS; default 1024).")
    var maxConnections: String?

    @Option(
        name: .customLong("idle-timeout"),
        help: "How long an idle keep-alive connection stays open, e.g. 60 or 2m (env FLOE_IDLE_TIMEOUT; default 60s).")
    var idleTimeout: String?

    @Option(
        name: .customLong("header-timeout"),
        help: "How long a new connection has to send its first request head, else 408, e.g. 10 or 10s (env FLOE_HEADER_TIMEOUT; default 10s).")
    var headerTimeout: String?

    @Option(
        name: .customLong("filesystem-root"),
        help:
            "A directory filesystem tables may read and write in; repeat for several (env FLOE_FILESYSTEM_ROOTS, separated by ':'; default none: the connector is off)."
    )
    var fileSystemRoots: [String] = []

    @Option(
        name: .customLong("statement-retention"),
        help: "How long ended statements are kept, e.g. 30d, 12h, 90m, 45s (env FLOE_STATEMENT_RETENTION; default 30d).")
    var statementRetention: String?

    @Option(
        name: .customLong("statement-results-limit"),
        help: "Results kept per statement, oldest dropped, e.g. 64MiB, 1GiB (env FLOE_STATEMENT_RESULTS_LIMIT; default 64MiB).")
    var statementResultsLimit: String?

    @Option(
        name: .customLong("flink-gateway"),
        help:
            "REGION=URL: run the statements of that region's compute pools on an Apache Flink cluster through its SQL Gateway; repeat for several (env FLOE_FLINK_GATEWAYS, comma-separated). Needs --flink-rest for the region."
    )
    var flinkGateways: [String] = []

    @Option(
        name: .customLong("flink-rest"),
        help: "REGION=URL: the REST address of that region's Flink JobManager (env FLOE_FLINK_REST, comma-separated).")
    var flinkRest: [String] = []

    @Option(
        name: .customLong("flink-savepoint-dir"),
        help:
            "REGION=DIR: where that region's Flink cluster writes the savepoints of stopped statements, e.g. file:///var/flink/savepoints or s3://bucket/savepoints (env FLOE_FLINK_SAVEPOINT_DIRS, comma-separated; default the cluster's state.savepoints.dir)."
    )
    var flinkSavepointDirs: [String] = []

    @Option(
        name: .customLong("tls-cert"),
        help: "PEM certificate chain (leaf first) to serve https with; needs --tls-key; re-read on SIGHUP (env FLOE_TLS_CERT).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert (env FLOE_TLS_KEY).")
    var tlsKey: String?

    @Option(
        name: .customLong("private-port"),
        help: "Port of the private endpoint: a second listener serving the same API; 0 picks a free one (env FLOE_PRIVATE_PORT; default none).")
    var privatePort: Int?

    @Option(name: .customLong("private-host"), help: "Interface of the private endpoint (env FLOE_PRIVATE_HOST; default --host).")
    var privateHost: String?

    @Option(name: .customLong("private-tls-cert"), help: "PEM certificate chain of the private endpoint (env FLOE_PRIVATE_TLS_CERT).")
    var privateTLSCert: String?

    @Option(name: .customLong("private-tls-key"), help: "PEM private key of --private-tls-cert (env FLOE_PRIVATE_TLS_KEY).")
    var privateTLSKey: String?

    @Option(
        name: .customLong("private-url"),
        help: "Externally visible base URL of the private endpoint, reported as regions' private_http_endpoint (env FLOE_PRIVATE_URL).")
    var privateURL: String?

    @Option(name: .customLong("log-format"), help: "text, or json for one JSON object per line (env FLOE_LOG_FORMAT; default text).")
    var logFormat: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ flag: String?, _ variable: String) -> String? {
            if let flag { return flag }
            if let value = environment[variable], !value.isEmpty { return value }
            return nil
        }
        let dataPath = setting(dataDirectory, "FLOE_DATA_DIR") ?? userHomeDirectory() + "/.floe"
        var configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: (dataPath as NSString).expandingTildeInPath))
        configuration.host = setting(host, "FLOE_HOST") ?? configuration.host
        if let portText = setting(port.map(String.init), "FLOE_PORT") {
            guard let value = Int(portText), (0...65535).contains(value) else { throw ValidationError("Invalid port '\(portText)'.") }
            configuration.port = value
        }
        configuration.publicURL = setting(publicURL, "FLOE_PUBLIC_URL")
        if let text = setting(rateLimit, "FLOE_RATE_LIMIT") {
            switch text.lowercased() {
            case "on", "true", "1": configuration.rateLimits = RateLimits()
            case "off", "false", "0": configuration.rateLimits = nil
            default: throw ValidationError("--rate-limit must be 'on' or 'off', not '\(text)'.")
            }
        }
        if let text = setting(regions, "FLOE_REGIONS") {
            guard let parsed = FlinkRegion.parseList(text) else {
                throw ValidationError("--regions must be a comma-separated list of ids such as aws.us-east-1, not '\(text)'.")
            }
            configuration.regions = parsed
        }
        if let text = setting(logLevel, "FLOE_LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: text.lowercased()) else { throw ValidationError("Unknown log level '\(text)'.") }
            configuration.logLevel = level
        }
        if let text = setting(maxConnections, "FLOE_MAX_CONNECTIONS") {
            guard let value = Int(text), value > 0 else { throw ValidationError("--max-connections must be a positive number, not '\(text)'.") }
            configuration.connections.maximumConnections = value
        }
        if let text = setting(idleTimeout, "FLOE_IDLE_TIMEOUT") {
            configuration.connections.idleTimeout = try Self.seconds(text, option: "--idle-timeout")
        }
        if let text = setting(headerTimeout, "FLOE_HEADER_TIMEOUT") {
            configuration.connections.headerTimeout = try Self.seconds(text, option: "--header-timeout")
        }
        let roots = fileSystemRoots.isEmpty ? (environment["FLOE_FILESYSTEM_ROOTS"] ?? "").split(separator: ":").map(String.init) : fileSystemRoots
        for root in roots {
            let path = (root as NSString).expandingTildeInPath
            var isDirectory: ObjCBool = false
            guard path.hasPrefix("/"), FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--filesystem-root must name an existing directory by its absolute path, not '\(root)'.")
            }
            configuration.fileSystemRoots.append(URL(fileURLWithPath: path))
        }
        if let text = setting(statementRetention, "FLOE_STATEMENT_RETENTION") {
            guard let value = Self.duration(text) else {
                throw ValidationError("--statement-retention must be a duration such as 30d, 12h, 90m or 45s, not '\(text)'.")
            }
            configuration.statementRetention = value
        }
        if let text = setting(statementResultsLimit, "FLOE_STATEMENT_RESULTS_LIMIT") {
            guard let value = Self.byteCount(text), value >= 64 << 10 else {
                throw ValidationError("--statement-results-limit must be a size of at least 64KiB, such as 64MiB or 1GiB, not '\(text)'.")
            }
            configuration.statementResultsLimit = value
        }
        func list(_ flags: [String], _ variable: String) -> [String] {
            flags.isEmpty ? (environment[variable] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty } : flags
        }
        do {
            configuration.flinkClusters = try FlinkClusterSetting.parse(
                gateways: list(flinkGateways, "FLOE_FLINK_GATEWAYS"), jobManagers: list(flinkRest, "FLOE_FLINK_REST"),
                savepointDirectories: list(flinkSavepointDirs, "FLOE_FLINK_SAVEPOINT_DIRS"), regions: configuration.regions)
        } catch {
            throw ValidationError(error.description)
        }
        configuration.tls = try Self.tlsFiles(
            certificate: setting(tlsCert, "FLOE_TLS_CERT"), key: setting(tlsKey, "FLOE_TLS_KEY"), options: ("--tls-cert", "--tls-key"))
        let privateTLS = try Self.tlsFiles(
            certificate: setting(privateTLSCert, "FLOE_PRIVATE_TLS_CERT"), key: setting(privateTLSKey, "FLOE_PRIVATE_TLS_KEY"),
            options: ("--private-tls-cert", "--private-tls-key"))
        let privateHostSetting = setting(privateHost, "FLOE_PRIVATE_HOST")
        let privateURLSetting = setting(privateURL, "FLOE_PRIVATE_URL")
        if let portText = setting(privatePort.map(String.init), "FLOE_PRIVATE_PORT") {
            guard let value = Int(portText), (0...65535).contains(value) else { throw ValidationError("Invalid --private-port '\(portText)'.") }
            configuration.privateListener = PrivateListenerSetting(host: privateHostSetting, port: value, tls: privateTLS, url: privateURLSetting)
        } else if privateHostSetting != nil || privateTLS != nil || privateURLSetting != nil {
            throw ValidationError("--private-host, --private-tls-cert, --private-tls-key and --private-url need --private-port.")
        }
        if let listener = configuration.privateListener, listener.port != 0, listener.port == configuration.port,
            (listener.host ?? configuration.host) == configuration.host
        {
            throw ValidationError("--private-port must differ from --port on the same interface.")
        }
        if let text = setting(logFormat, "FLOE_LOG_FORMAT") {
            guard let format = LogFormat(rawValue: text.lowercased()) else {
                throw ValidationError("--log-format must be 'text' or 'json', not '\(text)'.")
            }
            configuration.logFormat = format
        }
        if let key = environment["FLOE_BOOTSTRAP_API_KEY"], let secret = environment["FLOE_BOOTSTRAP_API_SECRET"], !key.isEmpty, !secret.isEmpty {
            configuration.bootstrapCredentials = (key, secret)
        }
        let level = configuration.logLevel
        switch configuration.logFormat {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, logLevel: level) }
        }
        let logger = Logger(label: "floe")
        try await FloeServer(configuration: configuration, logger: logger).run()
    }

    /// A listener's TLS files from its two options: both or neither. The files are read when the server starts, which
    /// then names the one that does not load.
    static func tlsFiles(certificate: String?, key: String?, options: (certificate: String, key: String)) throws -> TLSFiles? {
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?):
            // Absolute, so that log lines and reloads name the files unambiguously.
            func absolute(_ path: String) -> String { URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL.path }
            return TLSFiles(certificatePath: absolute(certificate), keyPath: absolute(key))
        case (nil, _): throw ValidationError("\(options.key) needs \(options.certificate).")
        case (_, nil): throw ValidationError("\(options.certificate) needs \(options.key).")
        }
    }

    /// `30d`, `12h`, `90m`, `45s` or a number of seconds (at most ten years); nil for anything else or for zero.
    static func duration(_ text: String) -> Duration? {
        guard let seconds = measured(text, units: [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]), seconds <= 3_650 * 86_400 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// `64MiB`, `1GiB`, `500KB`, `2GB` or a number of bytes.
    static func byteCount(_ text: String) -> Int? {
        let units: [(String, Double)] = [
            ("kib", 1_024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("k", 1_024), ("m", 1_048_576),
            ("g", 1_073_741_824), ("b", 1),
        ]
        guard let bytes = measured(text, units: units), bytes < 1e15 else { return nil }
        return Int(bytes)
    }

    /// A positive number with an optional unit suffix (the first of `units` that matches, case-insensitive), scaled.
    static func measured(_ text: String, units: [(suffix: String, scale: Double)]) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let unit = units.first { trimmed.hasSuffix($0.suffix) }
        let number = String(trimmed.dropLast(unit?.suffix.count ?? 0)).trimmingCharacters(in: .whitespaces)
        guard let value = Double(number), value > 0, value.isFinite else { return nil }
        return value * (unit?.scale ?? 1)
    }

    /// A timeout: a duration as ``duration(_:)`` reads it (bare numbers are seconds), at most a day.
    static func seconds(_ text: String, option: String) throws -> Duration {
        guard let value = duration(text), value <= .seconds(86_400) else {
            throw ValidationError("\(option) must be a duration of at most a day, such as 10, 2.5s or 1m, not '\(text)'.")
        }
        return value
    }
}
