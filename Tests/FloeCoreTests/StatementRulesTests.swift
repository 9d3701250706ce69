// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@Suite struct StatementRulesTests {
    @Test(arguments: ["a", "dbapi-0b8c2f7e-1d4a-4e1b-9f55-0d7c4b0f9a11", "dbt-project-model-1a2b3c", "x.y-1", String(repeating: "a", count: 100)])
    func validNames(_ name: String) throws {
        try ControlPlaneState.validateStatementName(name)
    }

    @Test(arguments: ["", "-a", "a-", "A", "under_score", "sp ace", "ü", String(repeating: "a", count: 101)])
    func invalidNames(_ name: String) {
        #expect(throws: APIError.self) { try ControlPlaneState.validateStatementName(name) }
    }

    @Test func specLimits() throws {
        try ControlPlaneState.validateStatementSpec(sql: String(repeating: "x", count: 131_072), properties: [:])
        #expect(throws: APIError.self) { try ControlPlaneState.validateStatementSpec(sql: String(repeating: "x", count: 131_073), properties: [:]) }
        #expect(throws: APIError.self) { try ControlPlaneState.validateStatementSpec(sql: "  \n", properties: [:]) }
        let many = Dictionary(uniqueKeysWithValues: (0...8_192).map { ("k\($0)", "v") })
        #expect(throws: APIError.self) { try ControlPlaneState.validateStatementSpec(sql: "SELECT 1", properties: many) }
    }

    @Test func exceptionsKeepTheTenNewestFirst() {
        var statement = Statement(
            name: "s", organizationID: "o", environmentID: "env-1", uid: "u", sequence: 1, createdAt: Date(), labels: [:], sql: "SELECT 1",
            properties: [:], computePoolID: "lfcp-1", regionID: "aws.us-east-1", principal: "u-1", creatorID: "u-1")
        for index in 0..<12 {
            statement.record(exception: StatementException(name: "E", message: "m\(index)", timestamp: Date()))
        }
        #expect(statement.exceptions.count == 10)
        #expect(statement.exceptions.first?.message == "m11")
        #expect(statement.exceptions.last?.message == "m2")
        statement.fail("broken", now: Date())
        #expect(statement.phase == .failed && statement.detail == "broken" && statement.exceptions.first?.message == "broken")
    }
}

@Suite struct JSONPatchTests {
    let document: JSONValue = ["spec": ["stopped": false, "labels": ["a": "1"]], "list": [1, 2]]

    @Test func operationsInAnyCase() throws {
        let patched = try JSONPatch.apply(
            try JSONValue.parse(
                #"[{"op":"REPLACE","path":"/spec/stopped","value":true},{"op":"add","path":"/spec/labels/b","value":"2"},{"op":"Remove","path":"/spec/labels/a"},{"op":"add","path":"/list/-","value":3},{"op":"copy","from":"/list/0","path":"/first"},{"op":"move","from":"/first","path":"/moved"},{"op":"test","path":"/moved","value":1}]"#
            ),
            to: document)
        #expect(patched.value(at: "spec", "stopped") == .bool(true))
        #expect(patched.value(at: "spec", "labels") == ["b": "2"])
        #expect(patched["list"] == [1, 2, 3])
        #expect(patched["first"] == nil)
        #expect(patched["moved"] == 1)
    }

    @Test func escapedPointers() throws {
        let patched = try JSONPatch.apply(
            try JSONValue.parse(#"[{"op":"add","path":"/spec/labels/user.confluent.io~1hidden","value":"true"}]"#), to: document)
        #expect(patched.value(at: "spec", "labels", "user.confluent.io/hidden") == "true")
    }

    @Test func failures() throws {
        let cases: [(String, Int)] = [
            (#"{"op":"replace"}"#, 400),
            (#"[{"op":"replace","path":"/spec/missing","value":1}]"#, 400),
            (#"[{"op":"replace","path":"spec","value":1}]"#, 400),
            (#"[{"op":"add","path":"/spec/stopped"}]"#, 400),
            (#"[{"op":"fly","path":"/spec"}]"#, 400),
            (#"[{"op":"test","path":"/spec/stopped","value":true}]"#, 409),
            (#"[{"op":"remove","path":"/list/7"}]"#, 400),
        ]
        for (patch, status) in cases {
            do {
                _ = try JSONPatch.apply(try JSONValue.parse(patch), to: document)
                Issue.record("\(patch) was applied")
            } catch let error as APIError {
                #expect(error.status == status, "\(patch)")
            }
        }
    }
}
