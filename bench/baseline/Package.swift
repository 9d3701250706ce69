// swift-tools-version: 6.1
// The bare Hummingbird endpoint that bench/http/run.sh measures Floe against.
// A separate package so that it builds into its own .build and never touches the main package's.
import PackageDescription

let package = Package(
    name: "floe-bench-baseline",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: [])
    ],
    targets: [
        .executableTarget(
            name: "baseline",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        )
    ]
)
