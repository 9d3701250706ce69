// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import HTTPTypes
import Testing

@testable import FloeServer

/// `--flink-gateway`, `--flink-rest` and `--flink-savepoint-dir`: which regions run on Flink, and what a pool says.
@Suite struct FlinkClusterSettingTests {
    static let regions = FlinkRegion.parseList("aws.us-east-1,gcp.us-central1")!

    static func parse(_ gateways: [String], _ rest: [String], _ savepoints: [String] = []) -> Result<[FlinkClusterSetting], FlinkClusterSettingError>
    {
        Result { () throws(FlinkClusterSettingError) in
            try FlinkClusterSetting.parse(gateways: gateways, jobManagers: rest, savepointDirectories: savepoints, regions: regions)
        }
    }

    static func refusal(_ gateways: [String], _ rest: [String], _ savepoints: [String] = []) -> String {
        if case .failure(let error) = parse(gateways, rest, savepoints) { return error.description }
        return "accepted"
    }

    @Test func aRegionMapsToItsGatewayJobManagerAndSavepoints() throws {
        let settings = try Self.parse(
            ["aws.us-east-1=http://gw:8083"], ["aws.us-east-1 = http://jm:8081"], ["aws.us-east-1=s3://bucket/savepoints"]
        ).get()
        #expect(
            settings == [
                FlinkClusterSetting(
                    regionID: "aws.us-east-1", gatewayURL: "http://gw:8083", jobManagerURL: "http://jm:8081",
                    savepointDirectory: "s3://bucket/savepoints")
            ])
        #expect(try Self.parse([], []).get().isEmpty)
    }

    @Test func incompleteOrUnknownSettingsAreRefusedSayingWhy() {
        #expect(Self.refusal(["aws.us-east-1=http://gw:8083"], []).contains("--flink-rest aws.us-east-1="))
        #expect(Self.refusal([], ["aws.us-east-1=http://jm:8081"]).contains("no --flink-gateway"))
        #expect(Self.refusal(["azure.westeurope=http://gw"], ["azure.westeurope=http://jm"]).contains("does not offer"))
        #expect(Self.refusal(["http://gw:8083"], []).contains("REGION=VALUE"))
        #expect(Self.refusal(["aws.us-east-1=http://a", "aws.us-east-1=http://b"], ["aws.us-east-1=http://jm"]).contains("twice"))
        #expect(Self.refusal(["aws.us-east-1=https://gw"], ["aws.us-east-1=http://jm"]).contains("not an http://"))
        #expect(Self.refusal(["aws.us-east-1="], ["aws.us-east-1=http://jm"]).contains("no value"))
    }

    @Test func poolsShowWhichEngineRunsTheirStatements() async throws {
        var fixture = try await RouterFixture.make()
        fixture.flinkClusters = [FlinkClusterSetting(regionID: "aws.us-east-1", gatewayURL: "http://gw:8083", jobManagerURL: "http://jm:8081")]
        func pool(_ region: String, _ name: String) -> String {
            #"{"spec":{"display_name":"\#(name)","cloud":"\#(region.hasPrefix("aws") ? "AWS" : "GCP")","region":"\#(region.split(separator: ".", maxSplits: 1)[1])","max_cfu":5,"environment":{"id":"\#(fixture.environmentA)"}}}"#
        }
        let flink = try await fixture.call(.post, "/fcpm/v2/compute-pools", body: pool("aws.us-east-1", "on-flink"))
        #expect(flink.status == 202)
        #expect(flink.json?.value(at: "status", "engine")?.stringValue == "flink")
        let embedded = try await fixture.call(.post, "/fcpm/v2/compute-pools", body: pool("aws.us-west-2", "embedded"))
        #expect(embedded.status == 202, "\(String(describing: embedded.json))")
        #expect(embedded.json?.value(at: "status", "engine")?.stringValue == "embedded")
    }
}
