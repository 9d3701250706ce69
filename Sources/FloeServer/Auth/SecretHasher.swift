// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Crypto
import FloeCore
import Foundation

/// Hashes and verifies API secrets.
///
/// Secrets are 64 random characters (384 bits), so a salted SHA-256 is as strong as a slow hash would be and costs a
/// microsecond per request instead of milliseconds. Verification compares digests in constant time.
enum SecretHasher {
    /// A fresh digest of `secret` with a random 16-byte salt.
    static func digest(of secret: String) -> SecretDigest {
        var generator = SystemRandomNumberGenerator()
        let salt = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return SecretDigest(salt: salt.base64EncodedString(), digest: Data(hash(secret, salt: salt)).base64EncodedString())
    }

    /// Whether `secret` matches `digest`.
    static func verify(_ secret: Substring, against digest: SecretDigest) -> Bool {
        guard let salt = Data(base64Encoded: digest.salt), let expected = Data(base64Encoded: digest.digest) else { return false }
        return constantTimeEqual(hash(secret, salt: salt), Array(expected))
    }

    /// A digest no secret matches, verified against when a request names an unknown key: an unknown key then costs
    /// the same work as a known key with a wrong secret, so timing does not tell which key ids exist.
    static let decoy = digest(of: IdentifierGenerator.apiSecret())

    /// Whether two byte strings are equal, taking the same time wherever they differ (only their lengths may show).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func hash(_ secret: some StringProtocol, salt: Data) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Data(secret.utf8))
        return Array(hasher.finalize())
    }
}
