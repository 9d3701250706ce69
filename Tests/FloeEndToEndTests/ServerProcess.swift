// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeClient
import FloeCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `floe serve` process on a free port with its own data directory, for end-to-end tests.
final class ServerProcess: @unchecked Sendable {
    // @unchecked: `process` and `output` are only touched by the test that owns this instance, one call at a time.
    let port: Int
    let dataDirectory: URL
    let process: Process
    let outputFile: URL

    /// The `floe` binary: `$FLOE_BINARY`, else `.build/debug/floe` of this checkout.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["FLOE_BINARY"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/floe")
    }

    /// A new empty temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("floe-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A port that was free a moment ago.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `floe serve` and waits until `/healthz` answers.
    static func start(
        dataDirectory: URL? = nil, port: Int? = nil, arguments: [String] = ["--rate-limit", "off"], environment: [String: String] = [:]
    ) async throws -> ServerProcess {
        let directory = try dataDirectory ?? temporaryDirectory()
        let port = try port ?? freePort()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--port", String(port), "--data-dir", directory.path] + arguments
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment.removeValue(forKey: "FLOE_BOOTSTRAP_API_KEY")
        processEnvironment.removeValue(forKey: "FLOE_BOOTSTRAP_API_SECRET")
        for (key, value) in environment { processEnvironment[key] = value }
        process.environment = processEnvironment
        let outputFile = directory.appendingPathComponent("server-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let server = ServerProcess(port: port, dataDirectory: directory, process: process, outputFile: outputFile)
        try await server.waitUntilHealthy()
        return server
    }

    private init(port: Int, dataDirectory: URL, process: Process, outputFile: URL) {
        self.port = port
        self.dataDirectory = dataDirectory
        self.process = process
        self.outputFile = outputFile
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Everything the process printed so far.
    var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }

    func waitUntilHealthy() async throws {
        let client = FloeClient(baseURL: baseURL, timeout: .seconds(2))
        // Generous: a loaded machine (a parallel build, the other tests' servers) can take long to start a debug build.
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if !process.isRunning { throw ServerError.exited(process.terminationStatus, output) }
            if let response = try? await client.send("GET", "/healthz"), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServerError.notHealthy(output)
    }

    /// The admin credentials from `bootstrap.json`.
    func bootstrap() throws -> (organizationID: String, environmentID: String, userID: String, credentials: APICredentials) {
        let document = try JSONValue.parse(Array(Data(contentsOf: dataDirectory.appendingPathComponent("bootstrap.json"))))
        func field(_ name: String) throws -> String {
            guard case .string(let value)? = document[name] else { throw ServerError.badBootstrap(name) }
            return value
        }
        return (
            try field("organization_id"), try field("environment_id"), try field("user_id"),
            APICredentials(key: try field("api_key"), secret: try field("api_secret"))
        )
    }

    /// A client signed with the bootstrap administrator's key.
    func adminClient() throws -> FloeClient {
        FloeClient(baseURL: baseURL, credentials: try bootstrap().credentials)
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status.
    @discardableResult
    func stop() async -> Int32 {
        if process.isRunning { process.terminate() }
        return await waitForExit()
    }

    /// Stops the server before the test returns, with SIGKILL. For `defer`, which cannot await (a `Task` started there
    /// may run after the test process has exited, leaving the server behind). It blocks its thread, a thread of the
    /// shared cooperative pool, so it does not wait for a graceful shutdown: a killed process is gone in milliseconds,
    /// where a graceful one on a loaded machine can take seconds and starve the other tests' tasks. Tests of graceful
    /// shutdown call ``stop()``.
    func shutDown() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(1_000) }
    }

    /// Kills the process with SIGKILL (no chance to clean up) and waits for it.
    func kill9() async {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = await waitForExit()
    }

    func waitForExit() async -> Int32 {
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

enum ServerError: Error, CustomStringConvertible {
    case exited(Int32, String)
    case notHealthy(String)
    case badBootstrap(String)

    var description: String {
        switch self {
        case .exited(let status, let output): return "floe serve exited with \(status):\n\(output)"
        case .notHealthy(let output): return "floe serve did not become healthy:\n\(output)"
        case .badBootstrap(let field): return "bootstrap.json lacks \(field)"
        }
    }
}
