// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

@testable import FloeBackends

/// The JobManager client against a stand-in answering as Flink 2.1's REST API did in the measurements of
/// notes/issue18-plan.md §5.
@Suite struct FlinkJobManagerClientTests {
    static let job = "effd31b3ff4ef9a1be2123e4316771d2"
    static let request = "44374453fc4eb19fe9194cc3a16f89e1"
    static let source = "cbc357ccb763df2852fee8c4fc7d55f2"
    static let sink = "9dd63673dd41ea021b896d5203f3ba7c"

    static let jobBody = #"""
        {"jid":"\#(job)","name":"insert-into_default_catalog.default_database.out_print","isStoppable":false,"state":"RUNNING",
         "start-time":1765131181000,"end-time":-1,"duration":5000,"maxParallelism":-1,"now":1765131186000,
         "timestamps":{"RUNNING":1765131181100,"CREATED":1765131181000},
         "vertices":[{"id":"\#(source)","name":"Source: src[4] -> Calc[5]","maxParallelism":128,"parallelism":2,"status":"RUNNING"},
                     {"id":"\#(sink)","name":"Sink: out_print[6]","maxParallelism":128,"parallelism":1,"status":"RUNNING"}],
         "status-counts":{"RUNNING":2},"plan":{"jid":"\#(job)","name":"x","type":"STREAMING","nodes":[]}}
        """#

    @Test func jobStateAndTimes() async throws {
        let server = ScriptedFlinkServer()
        server.on("GET", "/jobs/\(Self.job)", .ok(Self.jobBody))
        server.on("GET", "/jobs/ffff", .status(404, #"{"errors":["Job ffff not found"]}"#))
        try await server.serve { (url: String) async throws in
            let client = FlinkJobManagerClient(baseURL: url)
            let job = try await client.job(Self.job)
            #expect(job.state == .running && !job.state.isGloballyTerminal)
            #expect(job.startTime == Date(timeIntervalSince1970: 1_765_131_181))
            #expect(job.endTime == nil, "-1 means the job has not ended")
            #expect(job.vertices.map(\.id) == [Self.source, Self.sink])
            #expect(job.vertices.first?.parallelism == 2)
            await #expect(throws: FlinkRESTError.status(code: 404, address: url + "/jobs/ffff", message: "Job ffff not found", exception: nil)) {
                _ = try await client.job("ffff")
            }
        }
    }

    @Test func everyJobStateIsKnown() {
        let states = "CREATED RUNNING FAILING FAILED CANCELLING CANCELED FINISHED RESTARTING SUSPENDED RECONCILING INITIALIZING"
        for name in states.split(separator: " ") {
            #expect(FlinkJobManagerClient.JobState(rawValue: String(name)) != nil, "\(name)")
        }
        #expect(FlinkJobManagerClient.JobState.allCases.filter(\.isGloballyTerminal) == [.failed, .canceled, .finished])
    }

    @Test func stopWithSavepointPollsUntilTheLocation() async throws {
        let server = ScriptedFlinkServer()
        let (job, request) = (Self.job, Self.request)
        server.on("POST", "/jobs/\(job)/stop", .ok(#"{"request-id":"\#(request)"}"#))
        server.on(
            "GET", "/jobs/\(job)/savepoints/\(request)", .ok(#"{"status":{"id":"IN_PROGRESS"},"operation":null}"#),
            .ok(#"{"status":{"id":"IN_PROGRESS"}}"#),
            .ok(#"{"status":{"id":"COMPLETED"},"operation":{"location":"file:/var/flink/savepoints/savepoint-effd31-e0db430b5510"}}"#))
        try await server.serve { (url: String) async throws in
            let client = FlinkJobManagerClient(baseURL: url)
            let location = try await client.stopWithSavepoint(
                job: job, targetDirectory: "file:/var/flink/savepoints", pollInterval: .milliseconds(10))
            #expect(location == "file:/var/flink/savepoints/savepoint-effd31-e0db430b5510")
        }
        let sent = server.received
        #expect(sent.first?.body == ["drain": false, "targetDirectory": "file:/var/flink/savepoints"])
        #expect(sent.filter { $0.target == "/jobs/\(job)/savepoints/\(request)" }.count == 3)
    }

    @Test func failedSavepointCarriesItsCause() async throws {
        let server = ScriptedFlinkServer()
        let (job, request) = (Self.job, Self.request)
        let trace = """
            java.util.concurrent.CompletionException: org.apache.flink.runtime.checkpoint.CheckpointException: Failure to finalize checkpoint.
            \tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:332)
            Caused by: org.apache.flink.runtime.checkpoint.CheckpointException: Failure to finalize checkpoint.
            \tat org.apache.flink.runtime.checkpoint.CheckpointCoordinator.finalizeCheckpoint(CheckpointCoordinator.java:1476)
            Caused by: java.io.IOException: Target file file:/var/flink/savepoints/savepoint-effd31 already exists.
            \t... 12 more
            """
        server.on("POST", "/jobs/\(job)/stop", .ok(#"{"request-id":"\#(request)"}"#))
        server.on(
            "GET", "/jobs/\(job)/savepoints/\(request)",
            .json(
                200,
                [
                    "status": ["id": "COMPLETED"],
                    "operation": [
                        "failure-cause": [
                            "class": "java.util.concurrent.CompletionException", "stack-trace": .string(trace), "serialized-throwable": "rO0ABXNy",
                        ]
                    ],
                ]))
        try await server.serve { (url: String) async throws in
            let client = FlinkJobManagerClient(baseURL: url)
            do {
                _ = try await client.stopWithSavepoint(job: job, pollInterval: .milliseconds(10))
                Issue.record("a failed savepoint must throw")
            } catch let FlinkRESTError.savepointFailed(failedJob, cause, message) {
                #expect(failedJob == job)
                #expect(message == "Target file file:/var/flink/savepoints/savepoint-effd31 already exists.")
                #expect(cause?.root.className == "java.io.IOException")
            }
        }
        #expect(server.received.first?.body == ["drain": false])
    }

    @Test func stopWithSavepointGivesUpAtItsDeadline() async throws {
        let server = ScriptedFlinkServer()
        let (job, request) = (Self.job, Self.request)
        server.on("POST", "/jobs/\(job)/stop", .ok(#"{"request-id":"\#(request)"}"#))
        server.on("GET", "/jobs/\(job)/savepoints/\(request)", .ok(#"{"status":{"id":"IN_PROGRESS"}}"#))
        try await server.serve { (url: String) async throws in
            let client = FlinkJobManagerClient(baseURL: url)
            await #expect {
                _ = try await client.stopWithSavepoint(job: job, deadline: .milliseconds(200), pollInterval: .milliseconds(20))
            } throws: { error in
                guard case FlinkRESTError.deadlineExceeded(_, let after) = error else { return false }
                return after == .milliseconds(200)
            }
            // The request stays observable after the deadline.
            #expect(try await client.savepointStatus(job: job, requestID: request) == .inProgress)
        }
    }

    @Test func cancelPatchesTheJob() async throws {
        let server = ScriptedFlinkServer()
        server.on("PATCH", "/jobs/\(Self.job)?mode=cancel", .status(202, "{}"))
        try await server.serve { (url: String) async throws in
            try await FlinkJobManagerClient(baseURL: url).cancel(job: Self.job)
        }
        #expect(server.received.map { "\($0.method) \($0.target)" } == ["PATCH /jobs/\(Self.job)?mode=cancel"])
    }

    @Test func rootExceptionIsTheLatestFailuresRootCause() async throws {
        let server = ScriptedFlinkServer()
        let older = """
            org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy
            \tat org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(ExecutionFailureHandler.java:180)
            Caused by: java.lang.ArithmeticException: / by zero
            \tat StreamExecCalc$7.processElement(Unknown Source)
            """
        let latest = """
            org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy
            \tat org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(ExecutionFailureHandler.java:180)
            Caused by: org.apache.kafka.common.KafkaException: Unexpected error in InitProducerIdResponse; The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).
            \tat org.apache.kafka.clients.producer.internals.TransactionManager$InitProducerIdHandler.handleResponse(TransactionManager.java:1418)
            """
        let body: JSONValue = [
            "exceptionHistory": [
                "entries": [
                    [
                        "exceptionName": "org.apache.flink.runtime.JobException", "stacktrace": .string(older), "timestamp": 1_765_131_100_000,
                        "taskName": "Calc[5]",
                    ],
                    [
                        "exceptionName": "org.apache.flink.runtime.JobException", "stacktrace": .string(latest), "timestamp": 1_765_131_200_000,
                        "taskName": "Sink: dst[6]",
                    ],
                ],
                "truncated": false,
            ]
        ]
        server.on("GET", "/jobs/\(Self.job)/exceptions?maxExceptions=10", .json(200, body))
        server.on("GET", "/jobs/aaaa/exceptions?maxExceptions=10", .ok(#"{"exceptionHistory":{"entries":[],"truncated":false}}"#))
        try await server.serve { (url: String) async throws in
            let client = FlinkJobManagerClient(baseURL: url)
            let failure = try #require(try await client.rootException(job: Self.job))
            #expect(failure.exception.root.className == "org.apache.kafka.common.KafkaException")
            #expect(failure.exception.summary.hasPrefix("Unexpected error in InitProducerIdResponse; The transaction timeout is larger"))
            #expect(failure.taskName == "Sink: dst[6]")
            #expect(failure.timestamp == Date(timeIntervalSince1970: 1_765_131_200))
            #expect(try await client.rootException(job: "aaaa") == nil)
        }
    }

    @Test func kafkaSourceOffsetsFromMetricNames() async throws {
        let server = ScriptedFlinkServer()
        let (job, source, sink) = (Self.job, Self.source, Self.sink)
        let prefix0 = "0.Source__src[4].KafkaSourceReader"
        let prefix1 = "1.Source__src[4].KafkaSourceReader"
        let names = [
            "0.numRecordsIn", "0.Source__src[4].numRecordsOut", "\(prefix0).commitsSucceeded",
            "\(prefix0).topic.src.partition.0.currentOffset", "\(prefix0).topic.src.partition.0.committedOffset",
            "\(prefix1).topic.src.partition.1.currentOffset", "\(prefix1).topic.src.partition.1.committedOffset",
            "\(prefix1).topic.orders_v1.partition.0.currentOffset", "\(prefix1).topic.orders_v1.partition.0.committedOffset",
            "\(prefix0).KafkaConsumer.records-consumed-total",
        ]
        let offsetNames = names.filter { $0.hasSuffix("Offset") }
        server.on("GET", "/jobs/\(job)", .ok(Self.jobBody))
        server.on("GET", "/jobs/\(job)/vertices/\(source)/metrics", .json(200, .array(names.map { ["id": .string($0)] })))
        server.on("GET", "/jobs/\(job)/vertices/\(sink)/metrics", .ok(#"[{"id":"0.numRecordsIn"}]"#))
        let values = ["1499", "1500", "41", "-1", "7", "-1"]
        server.on(
            "GET", "/jobs/\(job)/vertices/\(source)/metrics?get=" + Self.queryValue(offsetNames.joined(separator: ",")),
            .json(200, .array(zip(offsetNames, values).map { ["id": .string($0), "value": .string($1)] })))
        try await server.serve { (url: String) async throws in
            let client = FlinkJobManagerClient(baseURL: url)
            let offsets = try await client.kafkaSourceOffsets(job: job, topics: ["src", "orders.v1"])
            #expect(offsets.next == ["src": [0: 1500, 1: 42], "orders.v1": [0: 8]], "the next offset to read: the last read + 1")
            #expect(offsets.committed == ["src": [0: 1500]], "-1: nothing committed yet")
        }
    }

    /// A query value percent-encoded as FloeClient encodes it (everything but RFC 3986's unreserved characters).
    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    @Test func kafkaOffsetMetricNames() {
        let parse = FlinkJobManagerClient.kafkaOffsetMetric
        #expect(parse("0.Source__src[4].KafkaSourceReader.topic.src.partition.0.currentOffset")! == ("src", 0, false))
        #expect(parse("3.Source__t[1].KafkaSourceReader.topic.a-b_c.partition.12.committedOffset")! == ("a-b_c", 12, true))
        #expect(parse("0.Source__src[4].KafkaSourceReader.commitsSucceeded") == nil)
        #expect(parse("0.Source__src[4].KafkaSourceReader.topic.src.partition.x.currentOffset") == nil)
        #expect(parse("KafkaSourceReader.topic.src.partition.0.pendingRecords") == nil)
        #expect(FlinkJobManagerClient.metricSpelling("orders.v1:x y,z") == "orders_v1_x_y_z")
    }
}
