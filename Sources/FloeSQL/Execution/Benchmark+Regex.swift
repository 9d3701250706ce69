// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

extension FloeBenchmark {
    /// Nexmark q21's `REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)` over `rows` bid URLs shaped like
    /// bench/nexmark's (half the four hot channels' plain URLs, the rest `channel-K` URLs, 9 in 10 with
    /// `&channel_id=`), evaluated the way REGEXP_EXTRACT did with `NSRegularExpression` and the way it does with
    /// `JavaRegex`: rows/s of each, median of `runs`, and whether both gave the same results.
    public static func regexExtract(rows: Int, runs: Int = 3) -> (foundation: Double, javaRegex: Double, sameResults: Bool) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        func word() -> String { String((0..<5).map { _ in Character(Unicode.Scalar(UInt8(97 + random(26)))) }) }
        func baseURL() -> String { "https://www.nexmark.com/\(word())/\(word())/\(word())/item.htm?query=1" }
        let hot = (0..<4).map { _ in baseURL() }
        let urls = (0..<rows).map { _ -> String in
            if random(2) == 0 { return hot[random(4)] }
            let url = baseURL()
            return random(10) == 0 ? url : url + "&channel_id=\(random(2_000_000_000))"
        }
        let pattern = "(&|^)channel_id=([^&]*)"
        let foundation = try! NSRegularExpression(pattern: pattern)
        let java = SQLRegex(pattern)
        precondition(java.usesJavaRegex)
        func median(_ body: () -> Int) -> (Double, Int) {
            var rates: [Double] = []
            var found = 0
            for _ in 0..<runs {
                let start = ContinuousClock.now
                found = body()
                let elapsed = ContinuousClock.now - start
                rates.append(Double(rows) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            }
            return (rates.sorted()[rates.count / 2], found)
        }
        let (foundationRate, foundationChecksum) = median {
            var checksum = 0
            for url in urls {
                guard let match = foundation.firstMatch(in: url, range: NSRange(url.startIndex..., in: url)), 2 < match.numberOfRanges,
                    let range = Range(match.range(at: 2), in: url)
                else { continue }
                checksum &+= String(url[range]).utf8.count + 1
            }
            return checksum
        }
        let (javaRate, javaChecksum) = median {
            var checksum = 0
            for url in urls {
                guard let value = java.extract(url, group: 2) else { continue }
                checksum &+= value.utf8.count + 1
            }
            return checksum
        }
        return (foundationRate, javaRate, foundationChecksum == javaChecksum)
    }
}
