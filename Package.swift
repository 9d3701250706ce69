// swift-tools-version: 6.1
import PackageDescription

let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "floe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "floe", targets: ["floe"]),
        .library(name: "FloeCore", targets: ["FloeCore"]),
        .library(name: "FloeClient", targets: ["FloeClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        // Already in the graph through Hummingbird; FloeServer names its HTTP part types (NIOHTTPTypes) directly.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        // TLS for the listeners and for FloeClient (BoringSSL, already in the graph through Hummingbird's package).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        // `GET /metrics`: swift-metrics handles (Hummingbird already depends on it) backed by a Prometheus registry.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.9.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
    ],
    targets: [
        .target(
            name: "FloeCore",
            swiftSettings: upcomingFeatures
        ),
        .target(name: "FloeSQL", dependencies: ["FloeCore", "FloeSchemas"], swiftSettings: upcomingFeatures),
        // Avro and JSON Schema: parsing, canonical forms and compatibility, for the Schema Registry (FloeServer) and
        // the Kafka formats (FloeSQL) alike.
        .target(name: "FloeSchemas", dependencies: ["FloeCore"], swiftSettings: upcomingFeatures),
        // The version, git commit and build date of the binary; the commit and date are stamped by the plugin.
        .target(name: "FloeBuildInfo", swiftSettings: upcomingFeatures, plugins: ["BuildStamp"]),
        .plugin(name: "BuildStamp", capability: .buildTool()),
        // librdkafka, loaded with dlopen on first use rather than linked: linking it would add ~3 MiB of idle RSS
        // (OpenSSL, SASL, compression libraries) to every `floe serve`, with or without Kafka (docs/architecture.md).
        .target(name: "CRdKafka", linkerSettings: [.linkedLibrary("dl")]),
        // The Kafka client: admin (metadata, topics, configs, offsets), transactional producer, assign-only consumer.
        .target(
            name: "FloeKafka",
            dependencies: ["FloeCore", "CRdKafka", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "FloeBackends",
            dependencies: [
                "FloeCore", "FloeSQL", "FloeKafka", "FloeSchemas", "FloeClient", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcomingFeatures),
        .target(
            name: "FloeStore",
            dependencies: ["FloeCore", "FloeSchemas", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "FloeServer",
            dependencies: [
                "FloeCore", "FloeStore", "FloeBackends", "FloeBuildInfo", "FloeKafka", "FloeSchemas", "FloeClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The console's script, style sheet and templates, compiled in as `PackageResources.<file_name>` byte
            // arrays: `floe` stays one file, with no resource bundle beside it.
            resources: [.embedInCode("Console/Assets")],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "FloeClient",
            dependencies: [
                "FloeCore", "FloeSchemas",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // FloeClient speaks HTTP/1.1 on NIO, which the server links anyway, with NIOSSL for https (which the server's
        // listeners need too). An HTTP client library with pooling and HTTP/2 (AsyncHTTPClient) would add megabytes of
        // text to `floe` and idle RSS to `floe serve` (see bench/README.md).
        .target(
            name: "FloeCLI",
            dependencies: [
                "FloeCore", "FloeClient", "FloeServer", "FloeBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(name: "floe", dependencies: ["FloeCLI"], swiftSettings: upcomingFeatures),
        // bench/engine: engine throughput against a hand-written baseline (not part of the floe binary).
        .executableTarget(name: "floe-engine-bench", dependencies: ["FloeSQL"], path: "bench/engine/Sources", swiftSettings: upcomingFeatures),
        // bench/codecs: the Kafka record formats alone (Avro decode into columns, encode from rows), records/s.
        .executableTarget(
            name: "floe-codec-bench", dependencies: ["FloeSQL", "FloeSchemas", "FloeCore"], path: "bench/codecs/Sources",
            swiftSettings: upcomingFeatures),
        // bench/nexmark: Nexmark queries on the embedded engine, results comparable with flink/run_query.py's.
        .executableTarget(
            name: "floe-nexmark-bench", dependencies: ["FloeSQL", "FloeCore"], path: "bench/nexmark/Sources", swiftSettings: upcomingFeatures),
        .testTarget(name: "FloeCoreTests", dependencies: ["FloeCore"], swiftSettings: upcomingFeatures),
        .testTarget(name: "FloeSchemasTests", dependencies: ["FloeSchemas", "FloeCore"], swiftSettings: upcomingFeatures),
        .testTarget(
            name: "FloeSQLTests", dependencies: ["FloeSQL", "FloeSchemas", "FloeCore"], resources: [.copy("Golden")], swiftSettings: upcomingFeatures),
        .testTarget(
            name: "FloeCLITests",
            dependencies: [
                "FloeCLI", "FloeClient", "FloeCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "FloeKafkaTests",
            dependencies: ["FloeKafka", "FloeCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "FloeStoreTests", dependencies: ["FloeStore", "FloeCore", "FloeSchemas", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: upcomingFeatures),
        .testTarget(
            name: "FloeServerTests",
            dependencies: [
                "FloeServer", "FloeStore", "FloeCore", "FloeBackends", "FloeSchemas", "FloeClient",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // The Flink SQL Gateway and JobManager clients against local stand-ins, and Flink's result decoding against
        // the embedded engine's encoding.
        .testTarget(
            name: "FloeBackendsTests",
            dependencies: [
                "FloeBackends", "FloeSQL", "FloeCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "FloeEndToEndTests",
            dependencies: ["FloeClient", "FloeCore"],
            swiftSettings: upcomingFeatures
        ),
    ]
)
