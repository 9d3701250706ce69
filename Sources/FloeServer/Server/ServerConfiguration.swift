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

    /// Creates a configuration with the given data directory and defaults elsewhere.
    public init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
    }

    /// The public base URL without a trailing slash.
    public func resolvedPublicURL(boundPort: Int) -> String {
        if let publicURL, !publicURL.isEmpty {
            return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        }
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        return "http://\(shownHost.contains(":") ? "[\(shownHost)]" : shownHost):\(boundPort)"
    }
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
