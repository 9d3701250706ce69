// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Testing

/// Parsing and printing CRNs, and which resources a CRN pattern covers.
@Suite struct CRNTests {
    static let org = "0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b"

    // MARK: Parse and print

    @Test(arguments: [
        "crn://confluent.cloud",
        "crn://confluent.cloud/organization=0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b",
        "crn://confluent.cloud/organization=o/environment=env-abc123",
        "crn://confluent.cloud/organization=o/environment=env-a/flink-region=aws.us-east-1/compute-pool=lfcp-x7rgx1",
        "crn://api.confluent.cloud/organization=o/environment=env-a/flink-region=gcp.us-central1",
        "crn://confluent.cloud/organization=o/environment=*/compute-pool=lfcp-*",
        "crn://confluent.cloud/organization=o/kafka=lkc-1/topic=a=b",
    ])
    func parseThenPrintIsIdentity(text: String) throws {
        let crn = try #require(CRN(parsing: text))
        #expect(crn.description == text)
        #expect(CRN(parsing: crn.description) == crn)
    }

    @Test func parsesAuthorityAndElements() throws {
        let crn = try #require(CRN(parsing: "crn://api.confluent.cloud/organization=o/environment=env-a/flink-region=aws.us-east-1"))
        #expect(crn.authority == "api.confluent.cloud")
        #expect(crn.elements == [.init("organization", "o"), .init("environment", "env-a"), .init("flink-region", "aws.us-east-1")])
        #expect(crn.value(of: "environment") == "env-a")
        #expect(crn.value(of: "flink-region") == "aws.us-east-1")
        #expect(crn.value(of: "compute-pool") == nil)
    }

    @Test func valueMayContainEqualsSign() throws {
        let crn = try #require(CRN(parsing: "crn://confluent.cloud/organization=o/topic=a=b"))
        #expect(crn.elements.last == .init("topic", "a=b"))
    }

    @Test(arguments: [
        "",
        "confluent.cloud/organization=o",
        "http://confluent.cloud/organization=o",
        "CRN://confluent.cloud/organization=o",
        "crn:/confluent.cloud/organization=o",
        "crn://",
        "crn:///organization=o",
        "crn://confluent.cloud/",
        "crn://confluent.cloud/organization=o/",
        "crn://confluent.cloud//organization=o",
        "crn://confluent.cloud/organization",
        "crn://confluent.cloud/organization=",
        "crn://confluent.cloud/=o",
        "crn://confluent.cloud/organization=o/environment",
        "crn://confluent.cloud/organization=o/=env-a",
    ])
    func rejectsMalformed(text: String) {
        #expect(CRN(parsing: text) == nil)
        #expect(CRNPattern(text) == nil)
    }

    @Test func buildersProduceTheDocumentedPaths() {
        #expect(CRN.organization("o").description == "crn://confluent.cloud/organization=o")
        #expect(CRN.environment("o", "env-a").description == "crn://confluent.cloud/organization=o/environment=env-a")
        #expect(
            CRN.flinkRegion("o", "env-a", "aws.us-east-1").description
                == "crn://confluent.cloud/organization=o/environment=env-a/flink-region=aws.us-east-1")
        #expect(
            CRN.computePool("o", "env-a", "aws.us-east-1", "lfcp-1").description
                == "crn://confluent.cloud/organization=o/environment=env-a/flink-region=aws.us-east-1/compute-pool=lfcp-1")
        #expect(
            CRN.statement("o", "env-a", "aws.us-east-1", "s1").description
                == "crn://confluent.cloud/organization=o/environment=env-a/flink-region=aws.us-east-1/statement=s1")
        #expect(CRN.serviceAccount("o", "sa-1").description == "crn://confluent.cloud/organization=o/service-account=sa-1")
        #expect(CRN.user("o", "u-1").description == "crn://confluent.cloud/organization=o/user=u-1")
        #expect(CRN.organization("o").appending("environment", "env-a") == CRN.environment("o", "env-a"))
    }

    // MARK: Patterns

    func pattern(_ text: String) throws -> CRNPattern { try #require(CRNPattern(text)) }

    @Test func patternCoversItselfAndEverythingNarrower() throws {
        let environment = try pattern("crn://confluent.cloud/organization=o/environment=env-a")
        #expect(environment.covers(.environment("o", "env-a")))
        #expect(environment.covers(.flinkRegion("o", "env-a", "aws.us-east-1")))
        #expect(environment.covers(.computePool("o", "env-a", "aws.us-east-1", "lfcp-1")))
        #expect(environment.covers(.statement("o", "env-a", "gcp.us-central1", "s")))
    }

    @Test func patternDoesNotCoverSiblingsOrOtherOrganizations() throws {
        let environment = try pattern("crn://confluent.cloud/organization=o/environment=env-a")
        #expect(!environment.covers(.environment("o", "env-b")))
        #expect(!environment.covers(.environment("o", "env-ab")), "no implicit prefix match")
        #expect(!environment.covers(.environment("o", "env-")))
        #expect(!environment.covers(.environment("p", "env-a")))
        #expect(!environment.covers(.computePool("o", "env-b", "aws.us-east-1", "lfcp-1")))
        #expect(!environment.covers(.serviceAccount("o", "env-a")), "element types must match")
    }

    @Test func narrowerNeverCoversWider() throws {
        let chain: [CRN] = [
            .organization("o"), .environment("o", "env-a"), .flinkRegion("o", "env-a", "aws.us-east-1"),
            .computePool("o", "env-a", "aws.us-east-1", "lfcp-1"),
        ]
        for (i, narrow) in chain.enumerated() {
            for (j, other) in chain.enumerated() {
                #expect(CRNPattern(narrow).covers(other) == (i <= j), "\(narrow) covers \(other)?")
            }
        }
        // Even a wildcard at the narrow end does not reach up.
        #expect(!(try pattern("crn://confluent.cloud/organization=o/environment=*")).covers(.organization("o")))
    }

    @Test func starMatchesAnyValue() throws {
        let anyEnvironment = try pattern("crn://confluent.cloud/organization=o/environment=*")
        #expect(anyEnvironment.covers(.environment("o", "env-a")))
        #expect(anyEnvironment.covers(.computePool("o", "env-zz", "aws.us-east-1", "lfcp-1")))
        #expect(!anyEnvironment.covers(.environment("p", "env-a")))
        #expect(!anyEnvironment.covers(.serviceAccount("o", "sa-1")))

        let anyPool = try pattern("crn://confluent.cloud/organization=o/environment=env-a/flink-region=aws.us-east-1/compute-pool=*")
        #expect(anyPool.covers(.computePool("o", "env-a", "aws.us-east-1", "lfcp-1")))
        #expect(!anyPool.covers(.computePool("o", "env-a", "aws.us-west-2", "lfcp-1")))
        #expect(!anyPool.covers(.flinkRegion("o", "env-a", "aws.us-east-1")))
    }

    @Test func trailingStarMatchesPrefix() throws {
        let topics = try pattern("crn://confluent.cloud/organization=o/kafka=lkc-1/topic=orders-*")
        let base = CRN.organization("o").appending("kafka", "lkc-1")
        #expect(topics.covers(base.appending("topic", "orders-eu")))
        #expect(topics.covers(base.appending("topic", "orders-")))
        #expect(!topics.covers(base.appending("topic", "orders")))
        #expect(!topics.covers(base.appending("topic", "payments-eu")))
        #expect(!topics.covers(base.appending("topic", "xorders-eu")))

        let pools = try pattern("crn://confluent.cloud/organization=o/environment=env-*")
        #expect(pools.covers(.environment("o", "env-a")))
        #expect(!pools.covers(.environment("o", "dev-a")))
    }

    @Test func starIsLiteralInTheResource() throws {
        let exact = try pattern("crn://confluent.cloud/organization=o/environment=env-a")
        #expect(!exact.covers(.environment("o", "*")), "a '*' in the resource is not a wildcard")
    }

    @Test func authorityIsIgnored() throws {
        let api = try pattern("crn://api.confluent.cloud/organization=o/environment=env-a")
        #expect(api.covers(.flinkRegion("o", "env-a", "aws.us-east-1")))
        let resource = try #require(CRN(parsing: "crn://api.confluent.cloud/organization=o/environment=env-a/flink-region=aws.us-east-1"))
        #expect(CRNPattern(.organization("o")).covers(resource))
        #expect(try pattern("crn://example.com/organization=o").covers(.organization("o")))
    }

    @Test func patternDescriptionIsItsText() throws {
        let text = "crn://confluent.cloud/organization=o/environment=env-*"
        #expect(try pattern(text).description == text)
        #expect(CRNPattern(.environment("o", "env-a")).description == CRN.environment("o", "env-a").description)
    }
}
