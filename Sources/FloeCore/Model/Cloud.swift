// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// A cloud provider, spelled as the Confluent API spells it (`AWS`, `GCP`, `AZURE`).
public enum Cloud: String, Codable, Sendable, CaseIterable {
    case aws = "AWS"
    case gcp = "GCP"
    case azure = "AZURE"

    /// Parses a provider name in any case (`aws`, `AWS`, `Azure`).
    public init?(caseInsensitive text: String) {
        self.init(rawValue: text.uppercased())
    }

    /// The lower-case form used in region ids and endpoints (`aws`).
    public var lowercased: String { rawValue.lowercased() }
}

/// A Flink region: where compute pools run and the scope of a Flink API key.
public struct FlinkRegion: Codable, Sendable, Hashable {
    /// The provider.
    public var cloud: Cloud
    /// The provider's region name, e.g. `us-east-1`.
    public var regionName: String
    /// A human name, e.g. `N. Virginia (us-east-1)`.
    public var displayName: String

    /// Creates a region.
    public init(cloud: Cloud, regionName: String, displayName: String? = nil) {
        self.cloud = cloud
        self.regionName = regionName
        self.displayName = displayName ?? Self.knownDisplayNames[Self.makeID(cloud, regionName)] ?? regionName
    }

    /// The region id as the API uses it: `aws.us-east-1`.
    public var id: String { Self.makeID(cloud, regionName) }

    static func makeID(_ cloud: Cloud, _ regionName: String) -> String { "\(cloud.lowercased).\(regionName)" }

    /// Parses a region id such as `aws.us-east-1` (the provider in any case).
    public static func parseID(_ id: String) -> (cloud: Cloud, regionName: String)? {
        guard let dot = id.firstIndex(of: ".") else { return nil }
        guard let cloud = Cloud(caseInsensitive: String(id[..<dot])) else { return nil }
        let name = String(id[id.index(after: dot)...])
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return nil }
        return (cloud, name)
    }

    /// Parses a comma-separated list of region ids (`aws.us-east-1,gcp.us-central1`).
    public static func parseList(_ text: String) -> [FlinkRegion]? {
        var regions: [FlinkRegion] = []
        for item in text.split(separator: ",") {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let (cloud, name) = parseID(trimmed) else { return nil }
            regions.append(FlinkRegion(cloud: cloud, regionName: name))
        }
        return regions.isEmpty ? nil : regions
    }

    static let knownDisplayNames: [String: String] = [
        "aws.us-east-1": "N. Virginia (us-east-1)",
        "aws.us-east-2": "Ohio (us-east-2)",
        "aws.us-west-2": "Oregon (us-west-2)",
        "aws.eu-central-1": "Frankfurt (eu-central-1)",
        "aws.eu-west-1": "Ireland (eu-west-1)",
        "aws.ap-southeast-1": "Singapore (ap-southeast-1)",
        "gcp.us-central1": "Iowa (us-central1)",
        "gcp.us-east1": "South Carolina (us-east1)",
        "gcp.europe-west1": "Belgium (europe-west1)",
        "gcp.asia-southeast1": "Singapore (asia-southeast1)",
        "azure.eastus": "Virginia (eastus)",
        "azure.eastus2": "Virginia (eastus2)",
        "azure.westeurope": "Netherlands (westeurope)",
        "azure.centralus": "Iowa (centralus)",
    ]

    /// The regions a server offers when none are configured: a few per provider.
    public static let defaults: [FlinkRegion] = [
        "aws.us-east-1", "aws.us-east-2", "aws.us-west-2", "aws.eu-central-1", "aws.eu-west-1", "aws.ap-southeast-1",
        "gcp.us-central1", "gcp.us-east1", "gcp.europe-west1", "gcp.asia-southeast1",
        "azure.eastus", "azure.eastus2", "azure.westeurope", "azure.centralus",
    ].map { id in
        let (cloud, name) = parseID(id)!
        return FlinkRegion(cloud: cloud, regionName: name)
    }
}
