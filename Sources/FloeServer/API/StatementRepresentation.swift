// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeBackends
import FloeCore
import Foundation

extension Representations {
    /// The path of a statement under `sql/v1`.
    static func statementPath(_ statement: Statement) -> String {
        "/sql/v1/organizations/\(statement.organizationID)/environments/\(statement.environmentIDValue)/statements/\(statement.name)"
    }

    /// A statement as `sql/v1` returns it. `status.traits` is present once the statement was analyzed (every
    /// phase but PENDING and FAILED-at-analysis), as the clients require.
    ///
    /// `checkpoint` is the statement's latest checkpoint: a STOPPED statement shows its offsets in `latest_offsets`
    /// (as on Confluent Cloud, only stopped statements carry them), and `state_limit_status` reports the size of the
    /// checkpointed state.
    func statement(_ statement: Statement, checkpoint: CheckpointRecord? = nil, at now: Date = Date()) -> JSONValue {
        var status: [(String, JSONValue?)] = [
            ("phase", .string(statement.phase.rawValue)),
            ("detail", .string(statement.detail)),
            ("traits", statement.traits.map(traits)),
            (
                "warnings",
                .array(
                    statement.warnings.map { warning in
                        [
                            "severity": .string(warning.severity), "created_at": time(warning.createdAt), "reason": .string(warning.reason),
                            "message": .string(warning.message),
                        ]
                    })
            ),
            ("scaling_status", ["scaling_state": .string(statement.scalingState), "last_updated": time(statement.scalingUpdatedAt)]),
            ("network_kind", .string((statement.networkKind ?? .public).rawValue)),
        ]
        if statement.phase == .stopped, let checkpoint {
            status.append(("latest_offsets", .object(checkpoint.latestOffsets.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
            status.append(("latest_offsets_timestamp", time(checkpoint.takenAt)))
        } else {
            status.append(("latest_offsets", .object([])))
        }
        if let checkpoint {
            status.append(
                (
                    "state_limit_status",
                    [
                        "state_limit_state": "OK", "last_updated": time(checkpoint.takenAt),
                        "detail": .string(
                            "The statement is within state limits: \(checkpoint.stateBytes) bytes of operator state at the last checkpoint."),
                    ]
                ))
        }
        if let endTime = statement.endTime { status.append(("end_time", time(endTime))) }
        if let startedAt = statement.startedAt {
            status.append(("duration", .string(Self.isoDuration((statement.endTime ?? now).timeIntervalSince(startedAt)))))
        }
        let snapshot = statement.properties["sql.snapshot.mode"]?.lowercased() == "now"
        return .object(omittingNil: [
            ("api_version", "sql/v1"),
            ("kind", "Statement"),
            ("organization_id", .string(statement.organizationID)),
            ("environment_id", .string(statement.environmentIDValue)),
            ("name", .string(statement.name)),
            (
                "metadata",
                [
                    "self": .string(links.url(Self.statementPath(statement))),
                    "created_at": time(statement.createdAt),
                    "updated_at": time(statement.updatedAt),
                    "uid": .string(statement.uid),
                    "resource_version": .string(String(statement.resourceVersion)),
                    "labels": .object(statement.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }),
                ]
            ),
            (
                "spec",
                [
                    "statement": .string(statement.sql),
                    "properties": .object(statement.properties.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }),
                    "compute_pool_id": .string(statement.computePoolID),
                    "principal": .string(statement.principal),
                    "stopped": .bool(statement.stopped),
                    "execution_mode": .string(snapshot ? "snapshot" : "streaming"),
                ]
            ),
            ("status", .object(omittingNil: status)),
        ])
    }

    func traits(_ traits: StatementTraitsRecord) -> JSONValue {
        var members: [(String, JSONValue?)] = [
            ("sql_kind", .string(traits.sqlKind)),
            ("is_bounded", .bool(traits.isBounded)),
            ("is_append_only", .bool(traits.isAppendOnly)),
            ("upsert_columns", traits.upsertColumns.map { .array($0.map { .int(Int64($0)) }) }),
        ]
        if let schema = traits.schemaJSON, let parsed = try? JSONValue.parse(schema) {
            members.append(("schema", parsed))
        }
        return .object(omittingNil: members)
    }

    /// An ISO-8601 duration such as `PT2H30M` or `PT0.125S`.
    static func isoDuration(_ seconds: TimeInterval) -> String {
        let total = max(0, seconds)
        let hours = Int(total / 3600)
        let minutes = Int(total.truncatingRemainder(dividingBy: 3600) / 60)
        let rest = total.truncatingRemainder(dividingBy: 60)
        var text = "PT"
        if hours > 0 { text += "\(hours)H" }
        if minutes > 0 { text += "\(minutes)M" }
        let millis = Int((rest * 1000).rounded())
        if millis > 0 || text == "PT" {
            text += millis % 1000 == 0 ? "\(millis / 1000)S" : "\(millis / 1000).\(String(String(millis % 1000 + 1000).dropFirst()))S"
        }
        return text
    }
}
