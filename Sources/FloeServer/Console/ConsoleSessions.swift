// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Synchronization

/// The API key a console session signs its API calls with. The secret lives only in the server's memory for the
/// session's lifetime: it is never written to disk, logged or sent back to the browser.
struct ConsoleCredentials: Sendable {
    var key: String
    var secret: String

    /// The `Authorization` header value.
    var authorizationHeader: String { "Basic " + Data("\(key):\(secret)".utf8).base64EncodedString() }
}

/// One signed-in browser.
struct ConsoleSession: Sendable {
    /// The cookie value (256 random bits).
    var id: String
    var credentials: ConsoleCredentials
    /// The key's owner ("My account"): `u-…` or `sa-…`.
    var principalID: String
    /// The owner's display name (or e-mail), for the header.
    var principalName: String
    var organizationID: String
    /// Sent back in every form (`_csrf`) and fetch (`X-CSRF-Token`); compared in constant time.
    var csrfToken: String
    var created: Date
    var lastSeen: Date
    /// A message for the next page (after a redirect).
    var flash: ConsoleFlash?
    /// The key the wizard just created, until its page is shown (once).
    var createdKey: CreatedAPIKey?
}

/// An API key the wizard created, with its secret, between the create POST and the page that shows it.
struct CreatedAPIKey: Sendable {
    var environmentID: String
    var key: String
    var secret: String
    var scope: String
    var owner: String
    var notes: [String]
}

/// A one-time message shown on the next page.
struct ConsoleFlash: Sendable {
    enum Kind: String, Sendable { case notice, error }
    var kind: Kind
    var text: String
}

/// The server-side sessions of the console, in memory: a restart signs everyone out.
///
/// A session ends when signed out, after ``idleTimeout`` without a request, or ``absoluteTimeout`` after sign-in.
final class ConsoleSessionStore: Sendable {
    static let idleTimeout: TimeInterval = 60 * 60
    static let absoluteTimeout: TimeInterval = 12 * 60 * 60
    /// Sessions beyond this many evict the least recently seen (a bound on memory, not a limit users meet).
    static let capacity = 10_000

    private let sessions = Mutex<[String: ConsoleSession]>([:])
    private let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Starts a session for a verified key.
    func create(credentials: ConsoleCredentials, principalID: String, principalName: String, organizationID: String) -> ConsoleSession {
        let time = now()
        let session = ConsoleSession(
            id: Self.randomToken(), credentials: credentials, principalID: principalID, principalName: principalName,
            organizationID: organizationID, csrfToken: Self.randomToken(), created: time, lastSeen: time)
        sessions.withLock { sessions in
            sessions = sessions.filter { !Self.expired($0.value, at: time) }
            if sessions.count >= Self.capacity, let oldest = sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
                sessions[oldest] = nil
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session with this cookie value, marked as seen; `nil` when unknown or expired.
    func session(id: String) -> ConsoleSession? {
        let time = now()
        return sessions.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            if Self.expired(session, at: time) {
                sessions[id] = nil
                return nil
            }
            session.lastSeen = time
            sessions[id] = session
            return session
        }
    }

    /// Ends a session.
    func remove(id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// Sets the message for the session's next page.
    func setFlash(_ flash: ConsoleFlash, for id: String) {
        sessions.withLock { $0[id]?.flash = flash }
    }

    /// Takes (and clears) the session's pending message.
    func takeFlash(for id: String) -> ConsoleFlash? {
        sessions.withLock { sessions in
            let flash = sessions[id]?.flash
            sessions[id]?.flash = nil
            return flash
        }
    }

    /// Keeps a created key for the page that shows it.
    func setCreatedKey(_ key: CreatedAPIKey, for id: String) {
        sessions.withLock { $0[id]?.createdKey = key }
    }

    /// Takes (and forgets) the created key.
    func takeCreatedKey(for id: String) -> CreatedAPIKey? {
        sessions.withLock { sessions in
            let key = sessions[id]?.createdKey
            sessions[id]?.createdKey = nil
            return key
        }
    }

    private static func expired(_ session: ConsoleSession, at time: Date) -> Bool {
        time.timeIntervalSince(session.lastSeen) > idleTimeout || time.timeIntervalSince(session.created) > absoluteTimeout
    }

    /// 256 bits from the system CSPRNG, base64url without padding.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Constant-time comparison of two tokens.
    static func tokensMatch(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count, !a.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
