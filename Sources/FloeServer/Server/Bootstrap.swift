// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation
import Logging

/// First-start set-up: the organization, the `default` environment, an OrganizationAdmin user and its Cloud API key,
/// whose secret is written to `<data-dir>/bootstrap.json` (mode 0600) and nowhere else.
enum Bootstrap {
    /// The bootstrap file's location.
    static func fileURL(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("bootstrap.json") }

    /// Creates the initial resources if the store is empty and writes the credentials file.
    /// - Returns: the path of the credentials file, and whether this start created it.
    /// - Throws: ``APIError`` for unusable `FLOE_BOOTSTRAP_*` credentials, or a store/file error.
    static func run(
        store: any ControlPlaneStore, dataDirectory: URL, credentials: (key: String, secret: String)?, logger: Logger
    ) async throws -> (URL, Bool) {
        let file = fileURL(in: dataDirectory)
        guard store.snapshot().organizations.isEmpty else { return (file, false) }
        let keyID: String
        let secret: String
        if let credentials {
            guard !credentials.key.isEmpty, !credentials.key.contains(":"), credentials.key.count <= 128,
                !credentials.secret.isEmpty, credentials.secret.count <= 256
            else {
                throw APIError.badRequest("FLOE_BOOTSTRAP_API_KEY must be non-empty without ':' and FLOE_BOOTSTRAP_API_SECRET non-empty.")
            }
            keyID = credentials.key
            secret = credentials.secret
        } else {
            keyID = IdentifierGenerator.apiKeyID()
            secret = IdentifierGenerator.apiSecret()
        }
        let digest = SecretHasher.digest(of: secret)
        let now = Date()
        // The file is written inside the mutation, before the commit: if it cannot be written, nothing is stored and
        // the next start tries again; the secret never exists only in a database that cannot be logged into.
        let created = try await store.mutate { state -> BootstrapResult? in
            guard let result = state.bootstrap(now: now, adminKeyID: keyID, adminSecretDigest: digest) else { return nil }
            let document: JSONValue = [
                "organization_id": .string(result.organizationID), "environment_id": .string(result.environmentID),
                "user_id": .string(result.userID), "api_key": .string(result.apiKeyID), "api_secret": .string(secret),
            ]
            try writePrivately(Data(document.serialized() + [0x0A]), to: file)
            return result
        }
        guard let result = created else { return (file, false) }
        logger.info(
            "bootstrapped organization",
            metadata: ["organization": .string(result.organizationID), "environment": .string(result.environmentID), "user": .string(result.userID)])
        return (file, true)
    }

    /// Writes `data` to `url` through a temporary file created with mode 0600, fsynced, then renamed into place.
    ///
    /// Plain POSIX calls rather than `FileManager`/`FileHandle`: this runs at every first start, and Foundation's file
    /// operations would fault in code that the running server never needs again.
    static func writePrivately(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp").path
        if unlink(temporary) != 0 && errno == EISDIR {
            try? FileManager.default.removeItem(atPath: temporary)
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission) }
        var closed = false
        defer { if !closed { close(descriptor) } }
        // The mode must not depend on the umask.
        guard fchmod(descriptor, 0o600) == 0 else { throw CocoaError(.fileWriteNoPermission) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CocoaError(.fileWriteUnknown)
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown) }
        closed = true
        guard close(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown) }
        guard rename(temporary, url.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}
