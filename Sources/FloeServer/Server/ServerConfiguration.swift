// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

public import FloeCore
import FloeStore
public import Foundation
public import Logging

/// Everything `floe serve` can be told.
public struct ServerConfiguration: Sendable {
    /// Interface to bind (default 127.0.0.1).
    public var host: String = "127.0.0.1"
    /// Port to bind (default 8080; 0 picks a free one).
    public var port: Int = 8080
    /// Where the database, table logs and `bootstrap.json` live.
    public var dataDirectory: URL
    /// The externally visible base URL used in every `self`, `next`, `Location` and `http_endpoint`;
    /// `nil` means `http://host:port`.
    public var publicURL: String?
    /// Per-client-IP request limits; `nil` turns limiting off.
    public var rateLimits: RateLimits? = RateLimits()
    /// The Flink regions the server offers.
    public var regions: [FlinkRegion] = FlinkRegion.defaults
    /// How long a new compute pool stays PROVISIONING.
    public var poolProvisioningDelay: Duration = .milliseconds(500)
    /// Credentials for the bootstrap administrator key on first start (`FLOE_BOOTSTRAP_API_KEY`/`_SECRET`).
    public var bootstrapCredentials: (key: String, secret: String)?
    /// Minimum level of log lines.
    public var logLevel: Logger.Level = .info
    /// The directories filesystem tables may read and write in (none: the filesystem connector is off).
    public var fileSystemRoots: [URL] = []
    /// Connection cap and timeouts.
    public var connections = ConnectionLimits()
    /// How long a statement stays after it ended before it is deleted with its results (Confluent Cloud: 30 days).
    public var statementRetention: Duration = StatementScheduler.defaultRetention
    /// The most bytes of results kept per statement; the oldest are dropped beyond it.
    public var statementResultsLimit = SQLiteControlPlaneStore.defaultResultsLimit
    /// How the server reaches attached Kafka clusters (to probe them and list their topics); nil for librdkafka
    /// (``LibrdkafkaInspector``) through the server's admin pool. Tests put a fake here.
    public var kafkaInspector: (any KafkaClusterInspector)?
    /// How long the probe of an attached Kafka cluster may take.
    public var kafkaProbeTimeout: Duration = .seconds(10)
    /// The regions whose compute pools run their statements on an Apache Flink cluster, and how to reach it.
    public var flinkClusters: [FlinkClusterSetting] = []
    /// The public listener's TLS material; nil serves plain HTTP.
    public var tls: TLSFiles?
    /// The second listener (Confluent Cloud's private networking); nil for none.
    public var privateListener: PrivateListenerSetting?
    /// How log lines are written.
    public var logFormat = LogFormat.text

    /// Creates a configuration with the given data directory and defaults elsewhere.
    public init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
    }

    /// The public base URL without a trailing slash.
    public func resolvedPublicURL(boundPort: Int) -> String {
        Self.baseURL(configured: publicURL, host: host, port: boundPort, tls: tls != nil)
    }

    /// The private listener's base URL without a trailing slash; nil without a private listener.
    public func resolvedPrivateURL() -> String? {
        privateListener.map { Self.baseURL(configured: $0.url, host: $0.host ?? host, port: $0.port, tls: $0.tls != nil) }
    }

    /// `configured` without its trailing slash, else `http[s]://host:port` (a wildcard host shown as loopback).
    static func baseURL(configured: String?, host: String, port: Int, tls: Bool) -> String {
        if let configured, !configured.isEmpty {
            return configured.hasSuffix("/") ? String(configured.dropLast()) : configured
        }
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        return "\(tls ? "https" : "http")://\(shownHost.contains(":") ? "[\(shownHost)]" : shownHost):\(port)"
    }
}

/// The private endpoint: a second listener serving the same API (`--private-port`, `--private-host`,
/// `--private-tls-cert`/`--private-tls-key`, `--private-url`). Statements created through it are `network_kind`
/// PRIVATE, and regions report its URL as `private_http_endpoint`.
public struct PrivateListenerSetting: Sendable, Equatable {
    /// The interface; nil for the public listener's.
    public var host: String?
    public var port: Int
    /// Its own TLS material; nil serves plain HTTP.
    public var tls: TLSFiles?
    /// Its externally visible base URL; nil for `http[s]://host:port`.
    public var url: String?

    public init(host: String? = nil, port: Int, tls: TLSFiles? = nil, url: String? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
        self.url = url
    }
}

/// `--log-format`: Swift Log's text lines, or one JSON object per line for log collectors.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// Request limits per client IP address, as Confluent Cloud states them for its APIs.
public struct RateLimits: Sendable, Equatable {
    /// Requests in flight at once.
    public var concurrentRequests: Int = 100
    /// Requests per second.
    public var perSecond: Int = 50
    /// Requests per minute.
    public var perMinute: Int = 1000

    public init(concurrentRequests: Int = 100, perSecond: Int = 50, perMinute: Int = 1000) {
        self.concurrentRequests = concurrentRequests
        self.perSecond = perSecond
        self.perMinute = perMinute
    }
}

/// A region mapped to an Apache Flink cluster (`--flink-gateway`, `--flink-rest`, `--flink-savepoint-dir`).
public struct FlinkClusterSetting: Sendable, Equatable {
    public var regionID: String
    /// The SQL Gateway's REST address (`http://host:8083`).
    public var gatewayURL: String
    /// The JobManager's REST address (`http://host:8081`).
    public var jobManagerURL: String
    /// Where savepoints go (`file:///…`, `s3://…`); nil for the cluster's `state.savepoints.dir`.
    public var savepointDirectory: String?

    public init(regionID: String, gatewayURL: String, jobManagerURL: String, savepointDirectory: String? = nil) {
        self.regionID = regionID
        self.gatewayURL = gatewayURL
        self.jobManagerURL = jobManagerURL
        self.savepointDirectory = savepointDirectory
    }

    /// The settings the three options give, each a list of `region=value`, checked against the server's regions:
    /// every gateway needs its JobManager address, and no option names a region without a gateway or twice.
    /// - Throws: the message that says what is wrong.
    public static func parse(
        gateways: [String], jobManagers: [String], savepointDirectories: [String], regions: [FlinkRegion]
    ) throws(FlinkClusterSettingError) -> [FlinkClusterSetting] {
        func pairs(_ items: [String], _ option: String) throws(FlinkClusterSettingError) -> [String: String] {
            var result: [String: String] = [:]
            for item in items {
                guard let equals = item.firstIndex(of: "=") else {
                    throw FlinkClusterSettingError("\(option) takes REGION=VALUE (e.g. aws.us-east-1=http://flink:8083), not '\(item)'.")
                }
                let region = item[..<equals].trimmingCharacters(in: .whitespaces)
                let value = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                guard regions.contains(where: { $0.id == region }) else {
                    throw FlinkClusterSettingError(
                        "\(option) names region '\(region)', which the server does not offer (--regions: \(regions.map(\.id).joined(separator: ",")))."
                    )
                }
                guard !value.isEmpty else { throw FlinkClusterSettingError("\(option) gives region '\(region)' no value.") }
                guard result.updateValue(value, forKey: region) == nil else {
                    throw FlinkClusterSettingError("\(option) names region '\(region)' twice.")
                }
                result[region] = value
            }
            return result
        }
        let gateway = try pairs(gateways, "--flink-gateway")
        let rest = try pairs(jobManagers, "--flink-rest")
        let savepoints = try pairs(savepointDirectories, "--flink-savepoint-dir")
        for url in Array(gateway.values) + Array(rest.values) {
            guard url.lowercased().hasPrefix("http://") else {
                throw FlinkClusterSettingError("'\(url)' is not an http:// address of a Flink REST endpoint.")
            }
        }
        for region in Set(rest.keys).union(savepoints.keys) where gateway[region] == nil {
            throw FlinkClusterSettingError("Region '\(region)' has Flink settings but no --flink-gateway.")
        }
        return try gateway.keys.sorted().map { region throws(FlinkClusterSettingError) in
            guard let jobManager = rest[region] else {
                throw FlinkClusterSettingError(
                    "Region '\(region)' needs the JobManager's REST address too (--flink-rest \(region)=http://jobmanager:8081): stops with savepoints, job states and failures are read there."
                )
            }
            return FlinkClusterSetting(
                regionID: region, gatewayURL: gateway[region]!, jobManagerURL: jobManager, savepointDirectory: savepoints[region])
        }
    }
}

/// Why the Flink cluster settings were refused.
public struct FlinkClusterSettingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
