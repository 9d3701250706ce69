// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// The `faker` connector's field expressions (`'fields.<name>.expression' = '#{Internet.uuid}'`): the ones the
/// `examples.marketplace` tables use, generated from word lists seeded like datagen.
enum FakerExpression: Sendable, Equatable {
    case uuid
    /// `#{Number.numberBetween 'min','max'}`: an integer in `min..<max`.
    case numberBetween(Int64, Int64)
    /// `#{Number.randomDouble 'decimals','min','max'}`.
    case randomDouble(decimals: Int, min: Int64, max: Int64)
    /// `#{regexify 'pattern'}`: literal characters, `[.]`-style escapes and character classes with `{n}` repeats.
    case regexify([RegexPart])
    /// A word-list generator (`#{Name.fullName}`, `#{Address.city}`, …).
    case words(String)

    /// One element of a regexify pattern: a set of characters, repeated.
    struct RegexPart: Sendable, Equatable {
        var characters: [Character]
        var count: Int
    }

    static let wordGenerators: Set<String> = [
        "Internet.userAgentAny", "Name.fullName", "Address.streetAddress", "Address.postcode", "Address.city", "Internet.emailAddress",
        "Commerce.productName", "Commerce.brand", "Commerce.vendor", "Commerce.department",
    ]

    /// Parses an expression; nil when it is not one Floe generates.
    static func parse(_ text: String) -> FakerExpression? {
        let trimmed = text.trimmingSpaces
        guard trimmed.hasPrefix("#{"), trimmed.hasSuffix("}") else { return nil }
        let body = String(trimmed.dropFirst(2).dropLast())
        let name = String(body.prefix { $0 != " " })
        let arguments = body.dropFirst(name.count).split(separator: ",").map { String($0).trimmingSpaces.trimmingCharacters(in: ["'"]) }
        switch name {
        case "Internet.uuid": return .uuid
        case "Number.numberBetween":
            guard arguments.count == 2, let low = Int64(arguments[0]), let high = Int64(arguments[1]), low < high else { return nil }
            return .numberBetween(low, high)
        case "Number.randomDouble":
            guard arguments.count == 3, let decimals = Int(arguments[0]), (0...9).contains(decimals), let low = Int64(arguments[1]),
                let high = Int64(arguments[2]), low <= high, abs(low) <= 1_000_000_000_000_000, abs(high) <= 1_000_000_000_000_000
            else { return nil }
            return .randomDouble(decimals: decimals, min: low, max: high)
        case "regexify":
            guard let open = body.firstIndex(of: "'"), let close = body.lastIndex(of: "'"), open < close else { return nil }
            return regexParts(String(body[body.index(after: open)..<close])).map { .regexify($0) }
        default:
            return wordGenerators.contains(name) && arguments.isEmpty ? .words(name) : nil
        }
    }

    private static func regexParts(_ pattern: String) -> [RegexPart]? {
        var parts: [RegexPart] = []
        var characters = Array(pattern)
        while !characters.isEmpty {
            var set: [Character]
            if characters[0] == "[" {
                guard let close = characters.firstIndex(of: "]"), close > 1 else { return nil }
                let inside = Array(characters[1..<close])
                characters.removeFirst(close + 1)
                set = []
                var i = 0
                while i < inside.count {
                    if i + 2 < inside.count, inside[i + 1] == "-", let low = inside[i].asciiValue, let high = inside[i + 2].asciiValue, low <= high {
                        set += (low...high).map { Character(UnicodeScalar($0)) }
                        i += 3
                    } else {
                        set.append(inside[i])
                        i += 1
                    }
                }
            } else {
                guard !"(){}|*+?\\".contains(characters[0]) else { return nil }
                set = [characters.removeFirst()]
            }
            var count = 1
            if characters.first == "{" {
                guard let close = characters.firstIndex(of: "}"), let n = Int(String(characters[1..<close])), n >= 0 else { return nil }
                count = n
                characters.removeFirst(close + 1)
            }
            parts.append(RegexPart(characters: set, count: count))
        }
        return parts
    }

    /// Whether the expression's values fit a column of `type` (numbers also fill character columns, as text).
    func canGenerate(_ type: SQLType) -> Bool {
        if type.isCharacter { return true }
        switch self {
        case .numberBetween: return type.isInteger
        case .randomDouble:
            switch type.kind {
            case .double, .float: return true
            default: return false
            }
        case .uuid, .regexify, .words: return false
        }
    }

    /// A value for a column of `type`.
    func generate(_ random: inout SplitMix64, type: SQLType) -> Value {
        switch self {
        case .uuid:
            var bytes: [UInt8] = []
            for _ in 0..<2 { withUnsafeBytes(of: random.next()) { bytes.append(contentsOf: $0) } }
            bytes[6] = bytes[6] & 0x0F | 0x40
            bytes[8] = bytes[8] & 0x3F | 0x80
            let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            let chars = Array(hex)
            return .string([0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(chars[$0]) }.joined(separator: "-"))
        case .numberBetween(let low, let high):
            let value = random.next(in: low, high - 1)
            return type.isCharacter ? .string(String(value)) : .int(value)
        case .randomDouble(let decimals, let low, let high):
            var scale = 1.0
            for _ in 0..<decimals { scale *= 10 }
            let value = ((Double(low) + Double(high - low) * random.unit()) * scale).rounded() / scale
            return type.isCharacter ? .string(String(value)) : .double(value)
        case .regexify(let parts):
            var text = ""
            for part in parts {
                for _ in 0..<part.count { text.append(part.characters[Int(random.next() % UInt64(part.characters.count))]) }
            }
            return .string(text)
        case .words(let name):
            return .string(Self.words(name, &random))
        }
    }

    private static func pick(_ list: [String], _ random: inout SplitMix64) -> String { list[Int(random.next() % UInt64(list.count))] }

    private static let firstNames = [
        "Ada", "Ben", "Carla", "Dmitri", "Elena", "Farah", "Gus", "Hana", "Ivan", "Jules", "Kofi", "Lena", "Mateo",
        "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wes", "Xia", "Yusuf", "Zoe",
    ]
    private static let lastNames = [
        "Abbott", "Barros", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
        "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rossi", "Schmidt", "Tanaka", "Usman",
        "Varga", "Weber", "Xu", "Yilmaz", "Zimmer",
    ]
    private static let streets = ["Maple", "Oak", "Cedar", "Elm", "Willow", "Harbor", "Hill", "Lake", "Mill", "Park", "River", "Station"]
    private static let streetKinds = ["Street", "Avenue", "Road", "Lane", "Way", "Drive"]
    private static let cities = [
        "Springfield", "Riverton", "Lakeside", "Fairview", "Brookhaven", "Ashford", "Milltown", "Northgate",
        "Oakridge", "Westbury", "Greenfield", "Hillcrest",
    ]
    private static let domains = ["example.com", "mail.test", "acme.test", "inbox.example"]
    private static let adjectives = ["Small", "Ergonomic", "Rustic", "Sleek", "Durable", "Lightweight", "Practical", "Gorgeous", "Awesome"]
    private static let materials = ["Steel", "Wooden", "Cotton", "Granite", "Plastic", "Leather", "Wool", "Copper", "Marble", "Silk"]
    private static let products = ["Chair", "Table", "Lamp", "Shoes", "Hat", "Bag", "Clock", "Bottle", "Keyboard", "Gloves", "Knife", "Wallet"]
    private static let brands = ["Acme", "Globex", "Initech", "Umbrella", "Soylent", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka"]
    private static let vendors = ["Amazon", "Target", "Walmart", "Costco", "Etsy", "eBay", "Best Buy", "Home Depot"]
    private static let departments = ["Books", "Electronics", "Garden", "Home", "Toys", "Sports", "Clothing", "Beauty", "Grocery", "Tools"]
    private static let userAgents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    ]

    private static func words(_ name: String, _ random: inout SplitMix64) -> String {
        switch name {
        case "Internet.userAgentAny": return pick(userAgents, &random)
        case "Name.fullName": return pick(firstNames, &random) + " " + pick(lastNames, &random)
        case "Address.streetAddress": return "\(random.next(in: 1, 9999)) \(pick(streets, &random)) \(pick(streetKinds, &random))"
        case "Address.postcode": return String(random.next(in: 10000, 99999))
        case "Address.city": return pick(cities, &random)
        case "Internet.emailAddress":
            return "\(pick(firstNames, &random).lowercased()).\(pick(lastNames, &random).lowercased())@\(pick(domains, &random))"
        case "Commerce.productName": return "\(pick(adjectives, &random)) \(pick(materials, &random)) \(pick(products, &random))"
        case "Commerce.brand": return pick(brands, &random)
        case "Commerce.vendor": return pick(vendors, &random)
        default: return pick(departments, &random)
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
