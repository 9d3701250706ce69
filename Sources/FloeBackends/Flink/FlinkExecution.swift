// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Logging
import Synchronization

/// A query, INSERT or statement set that runs as a job on a Flink cluster.
///
/// A run opens the statement's own gateway session, declares there what the statement names (``FlinkDeclarations``),
/// submits it and follows its results (a query) or its job (an INSERT) to the end. Every step that matters after a
/// restart is written to the statement's ``FlinkRunRecord`` first, so that a run started again re-attaches to the
/// same operation or job rather than submit the statement twice.
struct FlinkExecution: PreparedExecution {
    let traits: StatementTraitsRecord
    let sql: String
    /// What the session is told before the statement (CREATE CATALOG …, CREATE TABLE …, USE …).
    let declarations: [String]
    /// The statement's uid: the job's name is `floe-<uid>`.
    let statementID: String
    let properties: [String: String]
    let cluster: FlinkCluster
    let records: FlinkRunRecords
    let logger: Logger

    /// Whether the statement's results are its rows (a query), rather than what its job writes.
    var isQuery: Bool { traits.sqlKind == "SELECT" }

    /// The name Floe gives the statement's job, by which it is found again if its id was never read.
    var jobName: String { "floe-\(statementID)" }

    func run(deliveringTo sink: any ResultSink, skippingFirst: Int, control: RunControl) async throws {
        let heartbeat = Heartbeat()
        defer { heartbeat.stop() }
        do {
            try await drive(sink: sink, skipping: skippingFirst, heartbeat: heartbeat)
        } catch {
            guard Task.isCancelled || error is CancellationError else { throw Self.failure(error, cluster: cluster) }
            // The run's own requests are cancelled with it: end it in a task of its own.
            let ending = control.ending ?? .detach
            try await Task { try await self.end(ending) }.value
            return
        }
        try await finish()
    }

    // MARK: Running

    private func drive(sink: any ResultSink, skipping: Int, heartbeat: Heartbeat) async throws {
        let record = records.record(statementID) ?? FlinkRunRecord()
        if let session = record.session { heartbeat.start(cluster.gateway, session) }
        // Re-attach: to the job of an INSERT, to the result pages of a query.
        if !isQuery, let jobID = record.jobID {
            logger.info("re-attached to its Flink job", metadata: ["statement": .string(statementID), "job": .string(jobID)])
            return try await watch(job: jobID)
        }
        if !isQuery, record.operation != nil, let job = try await runningJob() {
            // Submitted, but the job id was never read back: it is the job with the statement's name.
            try records.update(statementID) { $0.jobID = job }
            return try await watch(job: job)
        }
        if isQuery, let operation = record.operation, let next = record.nextResultURI {
            do {
                try await follow(operation, from: next, rowsBefore: record.rowsBefore, sink: sink, skipping: skipping, resetSavepoint: false)
                return
            } catch let error as FlinkRESTError where Self.isGone(error) {
                // The gateway forgot the session (it expired, or the gateway restarted): compute the results again,
                // without delivering those already stored.
                logger.notice(
                    "the gateway no longer has the query's session; submitting it again",
                    metadata: ["statement": .string(statementID), "reason": .string(error.description)])
            }
        }
        try await submit(sink: sink, skipping: skipping, heartbeat: heartbeat)
    }

    private func submit(sink: any ResultSink, skipping: Int, heartbeat: Heartbeat) async throws {
        let gateway = cluster.gateway
        let previous = records.record(statementID) ?? FlinkRunRecord()
        if let session = previous.session { try? await gateway.closeSession(session) }
        let session = try await gateway.openSession(name: jobName, properties: sessionProperties)
        try records.update(statementID) { record in
            record = record.detached
            record.session = session
        }
        heartbeat.start(gateway, session)
        for declaration in declarations { try await gateway.configureSession(session, statement: declaration) }
        let savepoint = previous.savepoint
        if let savepoint { try await gateway.configureSession(session, statement: "SET 'execution.savepoint.path' = '\(Self.literal(savepoint))'") }
        let operation = try await gateway.submit(sql, in: session, executionConfig: ["pipeline.name": jobName])
        let first = operation.path + "/result/0?rowFormat=JSON"
        try records.update(statementID) { record in
            record.operation = operation
            record.nextResultURI = first
            record.rowsBefore = 0
        }
        logger.info("submitted to Flink", metadata: ["statement": .string(statementID), "savepoint": .string(savepoint ?? "none")])
        try await follow(operation, from: first, rowsBefore: 0, sink: sink, skipping: skipping, resetSavepoint: savepoint != nil)
        if !isQuery {
            guard let job = records.record(statementID)?.jobID else {
                throw ExecutionFailure("The Flink SQL Gateway accepted the statement but named no job for it.")
            }
            try await watch(job: job)
        }
    }

    /// Reads the operation's result pages from `uri` on, delivering a query's rows (all but the first `skipping` of
    /// them, already stored before a restart). Returns at the end of the results (for an INSERT: once its job id is
    /// known, which is all its result says).
    private func follow(
        _ operation: FlinkGatewayClient.OperationHandle, from uri: String, rowsBefore: Int, sink: any ResultSink, skipping: Int,
        resetSavepoint: Bool
    ) async throws {
        let gateway = cluster.gateway
        var uri = uri
        var index = rowsBefore
        var decoder: FlinkRowDecoder?
        var pause = Duration.milliseconds(20)
        var resetPending = resetSavepoint
        let clock = ContinuousClock()
        var lastWrite = clock.now
        while true {
            try Task.checkCancellation()
            let page = try await gateway.fetch(resultURI: uri)
            if let job = page.jobID, records.record(statementID)?.jobID != job {
                try records.update(statementID) { $0.jobID = job }
            }
            if resetPending, page.jobID != nil || page.resultType != .notReady {
                let session = operation.session
                // The savepoint restores this job only: a later job of the session must not restore it too.
                try await gateway.configureSession(session, statement: "RESET 'execution.savepoint.path'")
                try records.update(statementID) { $0.savepoint = nil }
                resetPending = false
            }
            switch page.resultType {
            case .notReady:
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(500))
                uri = page.nextResultURI ?? uri
            case .payload:
                if decoder == nil || !page.columns.isEmpty {
                    decoder = FlinkRowDecoder(columns: page.columns, localTimeZone: properties["sql.local-time-zone"])
                }
                let rowsArrived = !page.rows.isEmpty
                if isQuery, rowsArrived, let decoder {
                    let changes = try decoder.records(page.rows)
                    let fresh = changes.enumerated().filter { index + $0.offset >= skipping }.map(\.element)
                    try await sink.deliver(fresh)
                    index += changes.count
                }
                guard let next = page.nextResultURI else { return }
                uri = next
                // The position is kept in memory at every page, and on disk when rows came or once a second: a running
                // query's gateway answers an empty page every poll, and a write per page would cost more than the rows.
                // After a crash a position a few empty pages old is refused by the gateway, and the query is computed
                // again without delivering what was stored (see `drive`).
                let durable = rowsArrived || clock.now - lastWrite >= .seconds(1)
                let rows = index
                try records.update(statementID, durable: durable) { record in
                    record.nextResultURI = next
                    record.rowsBefore = rows
                }
                if durable { lastWrite = clock.now }
                if !isQuery, records.record(statementID)?.jobID != nil { return }
                if rowsArrived {
                    pause = .milliseconds(20)
                } else {
                    try await Task.sleep(for: pause)
                    pause = min(pause * 2, .milliseconds(500))
                }
            case .eos:
                return
            }
        }
    }

    /// Follows an INSERT's job until it ends, reading its Kafka sources' offsets now and then.
    private func watch(job id: String) async throws {
        let jobs = cluster.jobManager
        let clock = ContinuousClock()
        // The first read after two seconds: a job's sources register their offset gauges once they run.
        var offsetsReadAt = clock.now - .seconds(3)
        while true {
            try Task.checkCancellation()
            let job: FlinkJobManagerClient.Job
            do {
                job = try await jobs.job(id)
            } catch let error as FlinkRESTError where Self.isGone(error) {
                throw ExecutionFailure(
                    "The Flink job \(id) of this statement no longer exists on the cluster of region \(cluster.regionID) (\(cluster.jobManager.baseURL)).",
                    exceptionName: "org.apache.flink.runtime.messages.FlinkJobNotFoundException")
            }
            switch job.state {
            case .finished: return
            case .failed:
                let failure = try? await jobs.rootException(job: id)
                throw ExecutionFailure(
                    failure?.exception.summary ?? "The Flink job \(id) failed.", exceptionName: failure?.exception.root.className)
            case .canceled:
                throw ExecutionFailure("The Flink job \(id) of this statement was cancelled outside Floe.")
            default:
                break
            }
            if clock.now - offsetsReadAt > .seconds(5) {
                offsetsReadAt = clock.now
                await readOffsets(job: id)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Keeps the job's Kafka source positions as `status.latest_offsets` (best effort: a job without Kafka sources,
    /// or whose metrics are not there yet, shows none).
    private func readOffsets(job id: String) async {
        do {
            let offsets = try await cluster.jobManager.kafkaSourceOffsets(job: id).next
            guard !offsets.isEmpty else { return }
            let shown = offsets.mapValues { partitions in
                partitions.sorted { $0.key < $1.key }.map { "partition:\($0.key),offset:\($0.value)" }.joined(separator: ";")
            }
            try records.update(statementID) { record in
                record.latestOffsets = shown
                record.offsetsReadAt = Date()
            }
        } catch {
            logger.debug("could not read a Flink job's Kafka offsets", metadata: ["job": .string(id), "error": .string("\(error)")])
        }
    }

    /// The running job with the statement's name, if there is one.
    private func runningJob() async throws -> String? {
        try await cluster.jobManager.jobs().first { $0.name == jobName && !$0.state.isGloballyTerminal }?.id
    }

    // MARK: Ending

    /// After the statement ended by itself: its session goes, what a resumption needs stays.
    private func finish() async throws {
        let record = records.record(statementID) ?? FlinkRunRecord()
        if let session = record.session { try? await cluster.gateway.closeSession(session) }
        try records.save(record.detached, for: statementID)
    }

    /// Ends a run the scheduler cancelled, as `ending` says. Returns for a stop that took a savepoint (the statement is
    /// STOPPED and resumes from it); throws `CancellationError` otherwise.
    private func end(_ ending: RunEnding) async throws {
        let gateway = cluster.gateway
        let record = records.record(statementID) ?? FlinkRunRecord()
        switch ending {
        case .detach:
            // The server shuts down: the job runs on, and the record says where to find it.
            try records.flush(statementID)
            throw CancellationError()
        case .cancel:
            if let operation = record.operation { _ = try? await gateway.closeOperation(operation) }
            if !isQuery, let job = record.jobID { try? await cluster.jobManager.cancel(job: job) }
            if let session = record.session { try? await gateway.closeSession(session) }
            records.remove(statementID)
            throw CancellationError()
        case .stop:
            if !isQuery, let job = record.jobID {
                try await stopWithSavepoint(job: job, record: record)
                return
            }
            if let operation = record.operation { _ = try? await gateway.closeOperation(operation) }
            if let session = record.session { try? await gateway.closeSession(session) }
            try records.save(record.detached, for: statementID)
            throw CancellationError()
        }
    }

    /// Stops the job with a savepoint and records it for the resumption.
    func stopWithSavepoint(job: String, record: FlinkRunRecord) async throws {
        let jobs = cluster.jobManager
        do {
            if try await jobs.job(job).state.isGloballyTerminal == false {
                // The positions its sources reached are what the STOPPED statement shows as `latest_offsets`.
                await readOffsets(job: job)
                let location = try await jobs.stopWithSavepoint(job: job, targetDirectory: cluster.savepointDirectory)
                logger.info("stopped with a savepoint", metadata: ["statement": .string(statementID), "savepoint": .string(location)])
                var stopped = (records.record(statementID) ?? record).detached
                stopped.savepoint = location
                try records.save(stopped, for: statementID)
            } else {
                try records.save(record.detached, for: statementID)
            }
        } catch {
            throw ExecutionFailure(
                "The statement could not be stopped with a savepoint: \(Self.failure(error, cluster: cluster).message)", failedToStop: true)
        }
        if let session = record.session { try? await cluster.gateway.closeSession(session) }
    }

    // MARK: Support

    /// The session's configuration from the statement's properties, in Flink's terms.
    var sessionProperties: [String: String] {
        var configuration = ["execution.checkpointing.interval": FlinkCluster.checkpointInterval]
        if let zone = properties["sql.local-time-zone"] { configuration["table.local-time-zone"] = zone }
        if let ttl = properties["sql.state-ttl"] { configuration["table.exec.state.ttl"] = ttl }
        // A snapshot query reads what the tables hold now and ends: Flink's batch mode.
        if properties["sql.snapshot.mode"]?.lowercased() == "now" { configuration["execution.runtime-mode"] = "batch" }
        return configuration
    }

    /// Whether a REST error says the session, operation or job is unknown (expired, or the other side restarted).
    static func isGone(_ error: FlinkRESTError) -> Bool {
        guard case .status(let code, _, let message, _) = error else { return false }
        return code == 404 || message.contains("does not exist") || message.contains("Can not find") || message.contains("could not be found")
            || message.contains("Expecting token to be")
    }

    static func literal(_ text: String) -> String { text.replacingOccurrences(of: "'", with: "''") }

    /// What a failure of a Flink call says to the user.
    static func failure(_ error: any Error, cluster: FlinkCluster) -> ExecutionFailure {
        switch error {
        case let failure as ExecutionFailure: return failure
        case let rest as FlinkRESTError:
            if case .status(_, _, let message, let exception) = rest { return ExecutionFailure(message, exceptionName: exception?.root.className) }
            return ExecutionFailure("The Flink cluster of region \(cluster.regionID): \(rest.description)")
        case let decoding as FlinkResultError: return ExecutionFailure("A result row from Flink could not be read: \(decoding.message)")
        default: return ExecutionFailure(String(describing: error))
        }
    }
}

/// Keeps a gateway session alive while its statement runs (the gateway closes idle sessions: 10 minutes by default).
final class Heartbeat: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)
    static let interval: Duration = .seconds(30)

    func start(_ gateway: FlinkGatewayClient, _ session: FlinkGatewayClient.SessionHandle) {
        let beating = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                guard !Task.isCancelled else { return }
                try? await gateway.heartbeat(session)
            }
        }
        task.withLock { previous in
            previous?.cancel()
            previous = beating
        }
    }

    func stop() { task.withLock { $0?.cancel() } }
}
