// Floe benchmark baseline: a bare Hummingbird 2 server with one JSON endpoint.
//
// `baseline --port 8081 [--host 127.0.0.1]` serves `GET /json`, a ~650-byte object shaped like a Floe
// compute pool, encoded with a fresh JSONEncoder on every request (as Hummingbird's default context does),
// with the output options Floe uses. No middleware, no auth, no store: the ceiling Floe is compared to.

import Foundation
import Hummingbird

struct Pool: ResponseEncodable {
    struct Metadata: Codable {
        var `self`: String
        var resource_name: String
        var created_at: Date
        var updated_at: Date
    }
    struct EnvironmentRef: Codable {
        var id: String
        var related: String
    }
    struct Spec: Codable {
        var display_name: String
        var cloud: String
        var region: String
        var max_cfu: Int
        var enable_ai: Bool
        var default_pool: Bool
        var environment: EnvironmentRef
    }
    struct Status: Codable {
        var phase: String
        var current_cfu: Int
    }

    var api_version = "fcpm/v2"
    var kind = "ComputePool"
    var id: String
    var metadata: Metadata
    var spec: Spec
    var status: Status

    static func sample(now: Date) -> Pool {
        let env = "env-a1b2c3"
        let id = "lfcp-x7rgx1"
        return Pool(
            id: id,
            metadata: .init(
                self: "https://api.confluent.cloud/fcpm/v2/compute-pools/\(id)",
                resource_name: "crn://confluent.cloud/organization=9f2c6a1e-0b7d-4c55-8a1f-3d2e4b6c8a90/environment=\(env)"
                    + "/flink-region=aws.us-east-1/compute-pool=\(id)",
                created_at: now,
                updated_at: now
            ),
            spec: .init(
                display_name: "bench",
                cloud: "AWS",
                region: "us-east-1",
                max_cfu: 10,
                enable_ai: false,
                default_pool: false,
                environment: .init(
                    id: env,
                    related: "https://api.confluent.cloud/org/v2/environments/\(env)"
                )
            ),
            status: .init(phase: "PROVISIONED", current_cfu: 0)
        )
    }
}

/// Request context whose encoder matches what a real Floe handler uses (sorted keys, unescaped slashes).
struct BenchContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
    var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

@main
struct Baseline {
    static func main() async {
        var host = "127.0.0.1"
        var port = 8081
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let arg = args.next() {
            switch arg {
            case "--port":
                guard let value = args.next().flatMap(Int.init) else { usage() }
                port = value
            case "--host":
                guard let value = args.next() else { usage() }
                host = value
            default:
                usage()
            }
        }

        let created = Date()
        let router = Router(context: BenchContext.self)
        router.get("/json") { _, _ in Pool.sample(now: created) }

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "baseline")
        )
        do {
            try await app.runService()
        } catch {
            FileHandle.standardError.write(Data("baseline: \(error)\n".utf8))
            exit(1)
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: baseline [--port N] [--host ADDR]\n".utf8))
        exit(2)
    }
}
