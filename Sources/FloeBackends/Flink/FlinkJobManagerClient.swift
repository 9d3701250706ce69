// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
public import Foundation

/// A client of the Flink JobManager's REST API, for what the SQL Gateway does not offer over REST: a job's state,
/// stop-with-savepoint, cancel, its failures and its Kafka sources' progress.
///
/// Calls share ``FlinkGatewayClient``'s transport (one HTTP/1.1 exchange per call with a per-request timeout, bounded
/// answers, Flink's `{"errors": [...]}` bodies read into ``FlinkRESTError``).
public struct FlinkJobManagerClient: Sendable {
    let rest: FlinkREST

    /// The JobManager's REST base URL, e.g. `http://127.0.0.1:8081`.
    public var baseURL: String { rest.baseURL }

    public init(baseURL: String, timeout: Duration = .seconds(30)) {
        rest = FlinkREST(baseURL: baseURL, timeout: timeout)
    }

    // MARK: Types

    /// A job's state (Flink's `JobStatus`).
    public enum JobState: String, Sendable, Codable, CaseIterable {
        case initializing = "INITIALIZING"
        case created = "CREATED"
        case running = "RUNNING"
        case failing = "FAILING"
        case failed = "FAILED"
        case cancelling = "CANCELLING"
        case canceled = "CANCELED"
        case finished = "FINISHED"
        case restarting = "RESTARTING"
        case suspended = "SUSPENDED"
        case reconciling = "RECONCILING"

        /// Whether the job has ended for good (FINISHED, CANCELED, FAILED). SUSPENDED is not: another JobManager
        /// may take the job over.
        public var isGloballyTerminal: Bool { self == .finished || self == .canceled || self == .failed }
    }

    /// A job vertex (a chain of operators), as `/jobs/:id` lists it.
    public struct Vertex: Sendable, Equatable {
        public var id: String
        public var name: String
        public var parallelism: Int

        public init(id: String, name: String, parallelism: Int) {
            self.id = id
            self.name = name
            self.parallelism = parallelism
        }
    }

    /// What `/jobs/:id` tells of a job.
    public struct Job: Sendable, Equatable {
        public var id: String
        public var name: String
        public var state: JobState
        public var startTime: Date?
        /// When the job ended; nil while it runs.
        public var endTime: Date?
        public var vertices: [Vertex]

        public init(id: String, name: String, state: JobState, startTime: Date?, endTime: Date?, vertices: [Vertex]) {
            self.id = id
            self.name = name
            self.state = state
            self.startTime = startTime
            self.endTime = endTime
            self.vertices = vertices
        }
    }

    /// Where a triggered savepoint (or stop-with-savepoint) is.
    public enum SavepointStatus: Sendable, Equatable {
        case inProgress
        /// Written; `location` is the path to restore from (`execution.savepoint.path`).
        case completed(location: String)
        /// Not written; the job keeps running (a stop that fails does not stop it).
        case failed(FlinkException?, message: String)
    }

    /// A failure in a job's exception history.
    public struct JobFailure: Sendable, Equatable {
        public var exception: FlinkException
        public var timestamp: Date?
        /// The task that failed, when the failure was a task's.
        public var taskName: String?

        public init(exception: FlinkException, timestamp: Date?, taskName: String?) {
            self.exception = exception
            self.timestamp = timestamp
            self.taskName = taskName
        }
    }

    /// A job's Kafka sources' positions, per topic and partition.
    public struct KafkaSourceOffsets: Sendable, Equatable {
        /// The next offset each partition's reader will read: one past the last record it has read (the
        /// `currentOffset` gauge + 1). What `status.latest_offsets` shows.
        public var next: [String: [Int32: Int64]]
        /// The offsets committed back to Kafka at the last completed checkpoint (the `committedOffset` gauge, already
        /// next-to-read by Kafka's convention); only partitions with a commit appear.
        public var committed: [String: [Int32: Int64]]

        public init(next: [String: [Int32: Int64]], committed: [String: [Int32: Int64]]) {
            self.next = next
            self.committed = committed
        }
    }

    // MARK: Jobs

    /// A job's state, times and vertices.
    public func job(_ id: String) async throws -> Job {
        let path = "/jobs/" + id.flinkPathSegment
        let body = try await rest.object("GET", path)
        func malformed(_ field: String) -> FlinkRESTError { .malformedResponse(address: rest.address(path), field: field) }
        guard let state = body["state"]?.stringValue.flatMap(JobState.init(rawValue:)) else { throw malformed("state") }
        var vertices: [Vertex] = []
        for (index, vertex) in (body["vertices"]?.arrayValue ?? []).enumerated() {
            guard let vertexID = vertex["id"]?.stringValue else { throw malformed("vertices[\(index)].id") }
            vertices.append(
                Vertex(id: vertexID, name: vertex["name"]?.stringValue ?? "", parallelism: Int(vertex["parallelism"]?.intValue ?? 1)))
        }
        return Job(
            id: body["jid"]?.stringValue ?? id, name: body["name"]?.stringValue ?? "", state: state,
            startTime: Self.date(body["start-time"]), endTime: Self.date(body["end-time"]), vertices: vertices)
    }

    /// Every job the cluster knows (`GET /jobs/overview`): id, name and state, without vertices.
    public func jobs() async throws -> [Job] {
        let path = "/jobs/overview"
        let body = try await rest.object("GET", path)
        return (body["jobs"]?.arrayValue ?? []).compactMap { job in
            guard let id = job["jid"]?.stringValue, let state = job["state"]?.stringValue.flatMap(JobState.init(rawValue:)) else { return nil }
            return Job(
                id: id, name: job["name"]?.stringValue ?? "", state: state, startTime: Self.date(job["start-time"]),
                endTime: Self.date(job["end-time"]), vertices: [])
        }
    }

    /// Cancels a job (`PATCH /jobs/:id?mode=cancel`); it ends CANCELED, without a savepoint.
    public func cancel(job id: String) async throws {
        _ = try await rest.send("PATCH", "/jobs/" + id.flinkPathSegment, query: [("mode", "cancel")])
    }

    // MARK: Savepoints

    /// Starts a stop-with-savepoint (`POST /jobs/:id/stop`) and returns its request id, for
    /// ``savepointStatus(job:requestID:)``. `drain` false keeps windows and timers as they are (a later run resumes
    /// them); `targetDirectory` may be nil when the cluster has `state.savepoints.dir`.
    public func triggerStop(job id: String, targetDirectory: String? = nil, drain: Bool = false) async throws -> String {
        let path = "/jobs/" + id.flinkPathSegment + "/stop"
        var members: [(String, JSONValue)] = [("drain", .bool(drain))]
        if let targetDirectory { members.append(("targetDirectory", .string(targetDirectory))) }
        let body = try await rest.object("POST", path, json: .object(members))
        guard let requestID = body["request-id"]?.stringValue, !requestID.isEmpty else {
            throw FlinkRESTError.malformedResponse(address: rest.address(path), field: "request-id")
        }
        return requestID
    }

    /// Where a savepoint request is (`GET /jobs/:id/savepoints/:request`).
    public func savepointStatus(job id: String, requestID: String) async throws -> SavepointStatus {
        let path = "/jobs/" + id.flinkPathSegment + "/savepoints/" + requestID.flinkPathSegment
        let body = try await rest.object("GET", path)
        guard let status = body.value(at: "status", "id")?.stringValue else {
            throw FlinkRESTError.malformedResponse(address: rest.address(path), field: "status.id")
        }
        guard status == "COMPLETED" else { return .inProgress }
        let operation = body["operation"]
        if let location = operation?["location"]?.stringValue, !location.isEmpty { return .completed(location: location) }
        // A failed savepoint is COMPLETED with a `failure-cause` (a SerializedThrowable: class, stack-trace, …).
        guard let cause = operation?["failure-cause"] else {
            throw FlinkRESTError.malformedResponse(address: rest.address(path), field: "operation.location")
        }
        let exception = cause["stack-trace"]?.stringValue.flatMap(FlinkException.init(stackTrace:))
        let message =
            exception?.summary ?? cause["message"]?.stringValue ?? cause["class"]?.stringValue ?? "the savepoint failed without a cause"
        return .failed(exception, message: message)
    }

    /// Stops a job with a savepoint and waits for it: triggers the stop, then polls the request every `pollInterval`
    /// until the savepoint is written (its location) or failed, for at most `deadline`.
    /// - Throws: ``FlinkRESTError/savepointFailed(job:cause:message:)`` when Flink reports a failure (the job keeps
    ///   running), ``FlinkRESTError/deadlineExceeded(operation:after:)`` when the deadline passes first (the stop may
    ///   still complete: poll ``savepointStatus(job:requestID:)`` or the job's state), or a request's error.
    public func stopWithSavepoint(
        job id: String, targetDirectory: String? = nil, drain: Bool = false, deadline: Duration = .seconds(120),
        pollInterval: Duration = .milliseconds(100)
    ) async throws -> String {
        let clock = ContinuousClock()
        let start = clock.now
        let requestID = try await triggerStop(job: id, targetDirectory: targetDirectory, drain: drain)
        while true {
            switch try await savepointStatus(job: id, requestID: requestID) {
            case .completed(let location): return location
            case .failed(let exception, let message): throw FlinkRESTError.savepointFailed(job: id, cause: exception, message: message)
            case .inProgress:
                guard clock.now - start < deadline else {
                    throw FlinkRESTError.deadlineExceeded(operation: "The stop-with-savepoint of Flink job \(id)", after: deadline)
                }
                try await Task.sleep(for: pollInterval)
            }
        }
    }

    // MARK: Failures

    /// The latest failure of a job (`GET /jobs/:id/exceptions`, its `exceptionHistory`), with the root cause of its
    /// trace; nil when the job has not failed.
    public func rootException(job id: String) async throws -> JobFailure? {
        let path = "/jobs/" + id.flinkPathSegment + "/exceptions"
        let body = try await rest.object("GET", path, query: [("maxExceptions", "10")])
        let entries = body.value(at: "exceptionHistory", "entries")?.arrayValue ?? []
        // Entries come newest first; pick by timestamp anyway, rather than by an order the API does not promise.
        let latest = entries.enumerated().max { a, b in
            let (ta, tb) = (a.element["timestamp"]?.intValue ?? 0, b.element["timestamp"]?.intValue ?? 0)
            return ta != tb ? ta < tb : a.offset > b.offset
        }?.element
        guard let latest else { return nil }
        let trace = latest["stacktrace"]?.stringValue ?? ""
        let exception =
            FlinkException(stackTrace: trace)
            ?? FlinkException(
                chain: [FlinkException.Cause(className: latest["exceptionName"]?.stringValue ?? "java.lang.Exception", message: "")], text: trace)
        return JobFailure(exception: exception, timestamp: Self.date(latest["timestamp"]), taskName: latest["taskName"]?.stringValue)
    }

    // MARK: Kafka source offsets

    /// The positions of a job's Kafka source readers, from the `KafkaSourceReader.topic.<t>.partition.<p>.currentOffset`
    /// and `…committedOffset` gauges of its vertices (`/jobs/:id/vertices/:vid/metrics`).
    ///
    /// `next` is what `status.latest_offsets` shows: the next offset to read, as the embedded engine's checkpoints
    /// report it, so a statement's offsets can start another (`scan.startup.specific-offsets`) with no record read
    /// twice. Flink's `currentOffset` is the offset of the last record the split reader handed on (measured: 1499
    /// after records 0…1499), hence + 1. `committedOffset` is exact at checkpoints but exists only when the table
    /// commits offsets (a `properties.group.id`, checkpointing on), so it is reported beside, not instead.
    ///
    /// Flink's metric query service spells names with `.` `:` `,` and spaces replaced by `_`, so a topic `orders.v1`
    /// appears as `orders_v1`: pass the statement's `topics` to get them back under their real names (metric names
    /// that match none are kept as spelled).
    public func kafkaSourceOffsets(job id: String, topics: [String] = []) async throws -> KafkaSourceOffsets {
        let jobPath = "/jobs/" + id.flinkPathSegment
        let job = try await self.job(id)
        var next: [String: [Int32: Int64]] = [:]
        var committed: [String: [Int32: Int64]] = [:]
        let realName = Dictionary(topics.map { (Self.metricSpelling($0), $0) }, uniquingKeysWith: { first, _ in first })
        for vertex in job.vertices {
            let path = jobPath + "/vertices/" + vertex.id.flinkPathSegment + "/metrics"
            let names = try await rest.object("GET", path).arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            let offsetNames = names.filter { Self.kafkaOffsetMetric($0) != nil }
            // A few dozen names per request keeps the URL short whatever the partition count.
            for start in stride(from: 0, to: offsetNames.count, by: 40) {
                let batch = offsetNames[start..<min(start + 40, offsetNames.count)]
                let values = try await rest.object("GET", path, query: [("get", batch.joined(separator: ","))]).arrayValue ?? []
                for entry in values {
                    guard let name = entry["id"]?.stringValue, let metric = Self.kafkaOffsetMetric(name),
                        let value = entry["value"]?.stringValue.flatMap({ Int64($0) }) ?? entry["value"]?.intValue,
                        value >= 0  // -1: registered, nothing read or committed yet
                    else { continue }
                    let topic = realName[metric.topic] ?? metric.topic
                    // A partition is read by one subtask at a time; others may still report it from before a
                    // reassignment, so the furthest position wins.
                    if metric.isCommitted {
                        committed[topic, default: [:]][metric.partition] = max(committed[topic]?[metric.partition] ?? value, value)
                    } else {
                        next[topic, default: [:]][metric.partition] = max(next[topic]?[metric.partition] ?? value + 1, value + 1)
                    }
                }
            }
        }
        return KafkaSourceOffsets(next: next, committed: committed)
    }

    /// The topic, partition and gauge a vertex metric name such as
    /// `0.Source__src[4].KafkaSourceReader.topic.src.partition.0.currentOffset` names; nil for other metrics.
    static func kafkaOffsetMetric(_ name: String) -> (topic: String, partition: Int32, isCommitted: Bool)? {
        // The query service replaces `.` inside every name component, so splitting on `.` is exact.
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 6 else { return nil }
        let tail = parts.suffix(6).map(String.init)
        guard tail[0] == "KafkaSourceReader", tail[1] == "topic", tail[3] == "partition", let partition = Int32(tail[4]),
            tail[5] == "currentOffset" || tail[5] == "committedOffset", !tail[2].isEmpty
        else { return nil }
        return (tail[2], partition, tail[5] == "committedOffset")
    }

    /// How Flink's metric query service spells a name component (`MetricQueryService.replaceInvalidChars`).
    static func metricSpelling(_ component: String) -> String {
        String(component.map { " .:,".contains($0) ? "_" : $0 })
    }

    /// A millisecond timestamp; nil for a missing or negative one (Flink's -1 for "not yet").
    static func date(_ value: JSONValue?) -> Date? {
        guard let millis = value?.intValue, millis >= 0 else { return nil }
        return Date(timeIntervalSince1970: Double(millis) / 1000)
    }
}
