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
    /// The cookie value (a random token, ``ConsoleSessionStore/randomToken()``).
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
    /// The key the wizard just created, until its page is shown (once) or ``CreatedAPIKey/lifetime`` passes.
    var createdKey: CreatedAPIKey?
    /// Queries the workspace started (environment, statement name), stopped when the session signs out.
    var workspaceQueries: [(environmentID: String, name: String)] = []
}

/// An API key the wizard created, with its secret, between the create POST and the page that shows it.
struct CreatedAPIKey: Sendable {
    /// How long the secret waits for its page before it is forgotten.
    static let lifetime: TimeInterval = 5 * 60
    var environmentID: String
    var stored = Date()
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

    /// How often ``session(id:)`` sweeps out expired sessions (and stale created keys).
    static let sweepInterval: TimeInterval = 60

    private struct State {
        var sessions: [String: ConsoleSession] = [:]
        var lastSweep = Date.distantPast
    }

    private let state = Mutex(State())
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
        state.withLock { state in
            Self.sweep(&state, at: time)
            if state.sessions.count >= Self.capacity, let oldest = state.sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
                state.sessions[oldest] = nil
            }
            state.sessions[session.id] = session
        }
        return session
    }

    /// The live session with this cookie value, marked as seen; `nil` when unknown or expired.
    func session(id: String) -> ConsoleSession? {
        let time = now()
        return state.withLock { state in
            if time.timeIntervalSince(state.lastSweep) > Self.sweepInterval { Self.sweep(&state, at: time) }
            guard var session = state.sessions[id] else { return nil }
            if Self.expired(session, at: time) {
                state.sessions[id] = nil
                return nil
            }
            session.lastSeen = time
            state.sessions[id] = session
            return session
        }
    }

    /// Drops expired sessions and created keys nobody came for, so no secret waits in memory for long.
    private static func sweep(_ state: inout State, at time: Date) {
        state.lastSweep = time
        state.sessions = state.sessions.filter { !expired($0.value, at: time) }
        for (id, session) in state.sessions where session.createdKey.map({ time.timeIntervalSince($0.stored) > CreatedAPIKey.lifetime }) == true {
            state.sessions[id]?.createdKey = nil
        }
    }

    /// Ends a session; returns it (for what it leaves behind, such as running workspace queries).
    @discardableResult
    func remove(id: String) -> ConsoleSession? {
        state.withLock { $0.sessions.removeValue(forKey: id) }
    }

    /// Sets the message for the session's next page.
    func setFlash(_ flash: ConsoleFlash, for id: String) {
        state.withLock { $0.sessions[id]?.flash = flash }
    }

    /// Takes (and clears) the session's pending message.
    func takeFlash(for id: String) -> ConsoleFlash? {
        state.withLock { state in
            let flash = state.sessions[id]?.flash
            state.sessions[id]?.flash = nil
            return flash
        }
    }

    /// Keeps a created key for the page that shows it.
    func setCreatedKey(_ key: CreatedAPIKey, for id: String) {
        var key = key
        key.stored = now()
        state.withLock { $0.sessions[id]?.createdKey = key }
    }

    /// Takes (and forgets) the created key of `environmentID`, if it is still fresh; a key of another environment
    /// stays for its own page.
    func takeCreatedKey(for id: String, environmentID: String) -> CreatedAPIKey? {
        let time = now()
        return state.withLock { state in
            guard let key = state.sessions[id]?.createdKey, key.environmentID == environmentID else { return nil }
            state.sessions[id]?.createdKey = nil
            return time.timeIntervalSince(key.stored) <= CreatedAPIKey.lifetime ? key : nil
        }
    }

    /// Remembers a query the workspace started (the most recent 100).
    func addWorkspaceQuery(environmentID: String, name: String, for id: String) {
        state.withLock { state in
            state.sessions[id]?.workspaceQueries.append((environmentID, name))
            if let count = state.sessions[id]?.workspaceQueries.count, count > 100 { state.sessions[id]?.workspaceQueries.removeFirst(count - 100) }
        }
    }

    private static func expired(_ session: ConsoleSession, at time: Date) -> Bool {
        time.timeIntervalSince(session.lastSeen) > idleTimeout || time.timeIntervalSince(session.created) > absoluteTimeout
    }

    /// A session id or CSRF token (258 bits from the system CSPRNG, base64url).
    static func randomToken() -> String { IdentifierGenerator.urlSafeToken() }

    /// Constant-time comparison of two tokens; an empty token never matches.
    static func tokensMatch(_ given: String, _ expected: String) -> Bool {
        !expected.isEmpty && SecretHasher.constantTimeEqual(Array(given.utf8), Array(expected.utf8))
    }
}
