// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

/// The formats of generated ids and secrets, as Confluent Cloud shapes them.
@Suite struct IdentifierGeneratorTests {
    static let lowerAlphanumerics = Set("abcdefghijklmnopqrstuvwxyz0123456789")
    static let upperAlphanumerics = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    static let mixedAlphanumerics = lowerAlphanumerics.union(upperAlphanumerics)
    static let base64Alphabet = mixedAlphanumerics.union("+/")
    static let hexDigits = Set("0123456789abcdef")

    /// `prefix` followed by exactly `length` characters of `alphabet`.
    func hasShape(_ value: String, prefix: String, length: Int, alphabet: Set<Character>) -> Bool {
        guard value.hasPrefix(prefix) else { return false }
        let rest = value.dropFirst(prefix.count)
        return rest.count == length && rest.allSatisfy(alphabet.contains)
    }

    @Test(arguments: [
        ("env-", IdentifierGenerator.environmentID as @Sendable () -> String),
        ("lfcp-", IdentifierGenerator.computePoolID),
        ("sa-", IdentifierGenerator.serviceAccountID),
        ("u-", IdentifierGenerator.userID),
    ])
    func resourceIDsArePrefixedSixLowerAlphanumerics(prefix: String, make: @Sendable () -> String) {
        for _ in 0..<200 {
            let id = make()
            #expect(hasShape(id, prefix: prefix, length: 6, alphabet: Self.lowerAlphanumerics), "\(id)")
        }
    }

    @Test func roleBindingIDsAreFiveMixedCaseAlphanumerics() {
        var sawUpper = false
        var sawLower = false
        for _ in 0..<500 {
            let id = IdentifierGenerator.roleBindingID()
            #expect(hasShape(id, prefix: "rb-", length: 5, alphabet: Self.mixedAlphanumerics), "\(id)")
            let body = id.dropFirst(3)
            sawUpper = sawUpper || body.contains(where: \.isUppercase)
            sawLower = sawLower || body.contains(where: \.isLowercase)
        }
        #expect(sawUpper && sawLower, "role binding ids draw from both cases")
    }

    @Test func apiKeyIDsAreSixteenUpperCaseAlphanumerics() {
        for _ in 0..<200 {
            let id = IdentifierGenerator.apiKeyID()
            #expect(hasShape(id, prefix: "", length: 16, alphabet: Self.upperAlphanumerics), "\(id)")
            #expect(IdentifierGenerator.isAPIKeyID(id))
        }
    }

    @Test func apiSecretsAreSixtyFourBase64AlphabetCharacters() {
        var seen = Set<Character>()
        for _ in 0..<200 {
            let secret = IdentifierGenerator.apiSecret()
            #expect(hasShape(secret, prefix: "", length: 64, alphabet: Self.base64Alphabet), "\(secret)")
            #expect(!secret.contains("="), "no padding")
            #expect(IdentifierGenerator.isAPISecret(secret))
            seen.formUnion(secret)
        }
        // 12,800 draws from 64 symbols: every symbol, including '+' and '/', appears.
        #expect(seen == Self.base64Alphabet)
    }

    @Test func requestIDsAreThirtyTwoLowerHexDigits() {
        for _ in 0..<100 {
            let id = IdentifierGenerator.requestID()
            #expect(hasShape(id, prefix: "", length: 32, alphabet: Self.hexDigits), "\(id)")
        }
    }

    @Test func uuidsAreLowerCaseVersion4() throws {
        for _ in 0..<500 {
            let uuid = IdentifierGenerator.uuid()
            let groups = uuid.split(separator: "-", omittingEmptySubsequences: false)
            #expect(groups.map(\.count) == [8, 4, 4, 4, 12], "\(uuid)")
            #expect(uuid.replacingOccurrences(of: "-", with: "").allSatisfy(Self.hexDigits.contains), "\(uuid)")
            #expect(groups[2].first == "4", "version nibble of \(uuid)")
            #expect(groups[3].first.map { "89ab".contains($0) } == true, "variant bits of \(uuid)")
            let parsed = try #require(UUID(uuidString: uuid))
            #expect(parsed.uuidString.lowercased() == uuid)
        }
    }

    @Test(arguments: [
        IdentifierGenerator.environmentID as @Sendable () -> String,
        IdentifierGenerator.computePoolID,
        IdentifierGenerator.serviceAccountID,
        IdentifierGenerator.userID,
        IdentifierGenerator.apiKeyID,
        IdentifierGenerator.apiSecret,
        IdentifierGenerator.requestID,
        IdentifierGenerator.uuid,
    ])
    func thousandDrawsAreUnique(make: @Sendable () -> String) {
        // 36^6 ≈ 2.2e9 ids: the chance of a collision in 1000 draws is about 2e-4; the others are astronomically smaller.
        let draws = (0..<1000).map { _ in make() }
        #expect(Set(draws).count == draws.count)
    }

    @Test func roleBindingIDsRarelyCollide() {
        // 62^5 ≈ 9.2e8 ids; expect well under one collision in 1000 draws (p ≈ 5e-4).
        let draws = (0..<1000).map { _ in IdentifierGenerator.roleBindingID() }
        #expect(Set(draws).count >= 999)
    }

    @Test(arguments: [
        "ABCDEFGHIJKLMNO", "ABCDEFGHIJKLMNOPQ", "abcdefghijklmnop", "ABCDEFGHIJKLMNO-", "ABCDEFGHIJKLMNOÉ", "",
    ])
    func isAPIKeyIDRejectsOtherShapes(value: String) {
        #expect(!IdentifierGenerator.isAPIKeyID(value))
    }

    @Test func isAPISecretRejectsOtherShapes() {
        let valid = String(repeating: "aB3+", count: 16)
        #expect(IdentifierGenerator.isAPISecret(valid))
        #expect(!IdentifierGenerator.isAPISecret(String(valid.dropLast())))
        #expect(!IdentifierGenerator.isAPISecret(valid + "a"))
        #expect(!IdentifierGenerator.isAPISecret(String(valid.dropLast()) + "="))
        #expect(!IdentifierGenerator.isAPISecret(String(valid.dropLast()) + "-"))
    }

    @Test func randomStringUsesOnlyTheAlphabetAndLength() {
        #expect(IdentifierGenerator.randomString(length: 0, alphabet: ["x"]) == "")
        #expect(IdentifierGenerator.randomString(length: 7, alphabet: ["x"]) == "xxxxxxx")
        let value = IdentifierGenerator.randomString(length: 1000, alphabet: ["a", "b"])
        #expect(value.count == 1000)
        #expect(value.contains("a") && value.contains("b"))
        #expect(value.allSatisfy { $0 == "a" || $0 == "b" })
    }
}
