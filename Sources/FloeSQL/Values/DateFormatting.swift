// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Java `SimpleDateFormat`-style patterns (`yyyy-MM-dd HH:mm:ss.SSS`) over wall-clock microseconds.
enum DateFormatting {
    /// A pattern split once into its runs of one pattern letter and its literal text, for formatting many values.
    struct Pattern: Sendable {
        fileprivate let tokens: [(letter: Character?, count: Int, literal: String)]
        /// The span of time within which the formatted text cannot change (microseconds): a day for `yyyy-MM-dd`, a
        /// minute for `HH:mm`, … Values in the same span, aligned to the epoch, format alike.
        let resolution: Int64

        init(_ pattern: String) {
            tokens = DateFormatting.tokens(pattern)
            var resolution = Temporal.microsPerDay
            for token in tokens {
                switch token.letter {
                case "S": resolution = min(resolution, 1)
                case "s": resolution = min(resolution, Temporal.microsPerSecond)
                case "m": resolution = min(resolution, 60 * Temporal.microsPerSecond)
                case "H", "h", "a": resolution = min(resolution, 3_600 * Temporal.microsPerSecond)
                default: break
                }
            }
            self.resolution = resolution
        }
    }

    /// Splits a pattern into runs of one pattern letter and literal text (`'quoted'` text included).
    fileprivate static func tokens(_ pattern: String) -> [(letter: Character?, count: Int, literal: String)] {
        var result: [(Character?, Int, String)] = []
        let characters = Array(pattern)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c == "'" {
                var literal = ""
                i += 1
                while i < characters.count, characters[i] != "'" {
                    literal.append(characters[i])
                    i += 1
                }
                i += 1
                result.append((nil, 0, literal.isEmpty ? "'" : literal))
            } else if c.isLetter {
                var count = 0
                while i < characters.count, characters[i] == c {
                    count += 1
                    i += 1
                }
                result.append((c, count, ""))
            } else {
                result.append((nil, 0, String(c)))
                i += 1
            }
        }
        return result
    }

    static func format(_ micros: Int64, pattern: String) -> String { format(micros, pattern: Pattern(pattern)) }

    static func format(_ micros: Int64, pattern: Pattern) -> String {
        let day = Temporal.floorDiv(micros, Temporal.microsPerDay)
        let time = Temporal.floorMod(micros, Temporal.microsPerDay)
        let date = Temporal.civil(day)
        var output = ""
        for token in pattern.tokens {
            guard let letter = token.letter else {
                output += token.literal
                continue
            }
            let n = token.count
            switch letter {
            case "y": output += n == 2 ? Temporal.pad(date.year % 100, 2) : Temporal.pad(date.year, n)
            case "M":
                if n >= 3 {
                    let names = [
                        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
                    ]
                    let name = names[Int(date.month) - 1]
                    output += n == 3 ? String(name.prefix(3)) : name
                } else {
                    output += Temporal.pad(date.month, n)
                }
            case "d": output += Temporal.pad(date.day, n)
            case "H": output += Temporal.pad(time / 3_600_000_000, n)
            case "h": output += Temporal.pad((time / 3_600_000_000 + 11) % 12 + 1, n)
            case "m": output += Temporal.pad(time / 60_000_000 % 60, n)
            case "s": output += Temporal.pad(time / Temporal.microsPerSecond % 60, n)
            case "S": output += String((Temporal.pad(time % Temporal.microsPerSecond, 6) + "000").prefix(n))
            case "a": output += time < 43_200_000_000 ? "AM" : "PM"
            case "D": output += Temporal.pad(day - Temporal.days(Temporal.CivilDate(year: date.year, month: 1, day: 1)) + 1, n)
            case "E":
                let names = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"]
                let name = names[Int(Temporal.floorMod(day, 7))]
                output += n >= 4 ? name : String(name.prefix(3))
            default: output += String(repeating: letter, count: n)
            }
        }
        return output
    }

    /// Parses `text` with `format`; nil when it does not match.
    static func parse(_ text: String, format: String) -> Int64? {
        let characters = Array(text)
        var i = 0
        var (year, month, day, hour, minute, second, micros): (Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (1970, 1, 1, 0, 0, 0, 0)
        for token in tokens(format) {
            guard let letter = token.letter else {
                for expected in token.literal {
                    guard i < characters.count, characters[i] == expected else { return nil }
                    i += 1
                }
                continue
            }
            var digits = ""
            let maxDigits = letter == "S" ? 9 : (letter == "y" && token.count == 4 ? 4 : max(token.count, 2))
            while i < characters.count, characters[i].isASCII, characters[i].isNumber, digits.count < maxDigits {
                digits.append(characters[i])
                i += 1
            }
            guard let value = Int64(digits) else { return nil }
            switch letter {
            case "y": year = value
            case "M": month = value
            case "d": day = value
            case "H": hour = value
            case "m": minute = value
            case "s": second = value
            case "S": micros = Int64((digits + "000000").prefix(6)) ?? 0
            default: return nil
            }
        }
        guard i == characters.count, (1...12).contains(month), day >= 1, day <= Temporal.daysInMonth(year, month), hour < 24, minute < 60,
            second < 60
        else { return nil }
        let days = Temporal.days(Temporal.CivilDate(year: year, month: month, day: day))
        return days * Temporal.microsPerDay + ((hour * 60 + minute) * 60 + second) * Temporal.microsPerSecond + micros
    }
}
