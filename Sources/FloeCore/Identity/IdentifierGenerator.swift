// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Makes the identifiers and secrets Floe hands out, in the formats Confluent Cloud uses.
///
/// Every value comes from `SystemRandomNumberGenerator`, which reads the operating system's CSPRNG
/// (`getrandom(2)` on Linux), and characters are drawn without modulo bias.
public enum IdentifierGenerator {
    static let lowerAlphanumerics = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    static let upperAlphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    static let mixedAlphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    static let hexDigits = Array("0123456789abcdef")

    /// A string of `length` characters drawn uniformly from `alphabet`.
    public static func randomString(length: Int, alphabet: [Character]) -> String {
        var generator = SystemRandomNumberGenerator()
        var result = ""
        result.reserveCapacity(length)
        for _ in 0..<length {
            result.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)])
        }
        return result
    }

    /// An environment id such as `env-x7rgx1`.
    public static func environmentID() -> String { "env-" + randomString(length: 6, alphabet: lowerAlphanumerics) }
    /// A compute pool id such as `lfcp-x7rgx1`.
    public static func computePoolID() -> String { "lfcp-" + randomString(length: 6, alphabet: lowerAlphanumerics) }
    /// A Kafka cluster id such as `lkc-x7rgx1`.
    public static func kafkaClusterID() -> String { "lkc-" + randomString(length: 6, alphabet: lowerAlphanumerics) }
    /// A service account id such as `sa-1jjv26`.
    public static func serviceAccountID() -> String { "sa-" + randomString(length: 6, alphabet: lowerAlphanumerics) }
    /// A user id such as `u-vr99n5`.
    public static func userID() -> String { "u-" + randomString(length: 6, alphabet: lowerAlphanumerics) }
    /// A role binding id such as `rb-OOXL7` (mixed case, as Confluent Cloud's are).
    public static func roleBindingID() -> String { "rb-" + randomString(length: 5, alphabet: mixedAlphanumerics) }
    /// An API key id: 16 upper-case alphanumerics.
    public static func apiKeyID() -> String { randomString(length: 16, alphabet: upperAlphanumerics) }
    /// An API secret: 64 characters of the base64 alphabet (384 bits of entropy).
    public static func apiSecret() -> String { randomString(length: 64, alphabet: base64Alphabet) }
    /// A request id: 32 lower-case hex digits.
    public static func requestID() -> String { randomString(length: 32, alphabet: hexDigits) }
    /// `length` lower-case hex digits.
    public static func hexString(length: Int) -> String { randomString(length: length, alphabet: hexDigits) }
    /// A bearer token safe in cookies, URLs and form fields: 43 characters of the base64url alphabet (258 bits).
    public static func urlSafeToken() -> String { randomString(length: 43, alphabet: base64URLAlphabet) }
    /// A lower-case UUID string, used for organization ids and statement uids.
    public static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte in String(hexDigits[Int(byte >> 4)]) + String(hexDigits[Int(byte & 0x0F)]) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    /// Whether `value` has the shape of an API key id (16 upper-case alphanumerics).
    public static func isAPIKeyID(_ value: some StringProtocol) -> Bool {
        value.count == 16 && value.allSatisfy { upperAlphanumerics.contains($0) }
    }

    /// Whether `value` has the shape of an API secret (64 base64-alphabet characters).
    public static func isAPISecret(_ value: some StringProtocol) -> Bool {
        value.count == 64 && value.allSatisfy { base64Alphabet.contains($0) }
    }
}
