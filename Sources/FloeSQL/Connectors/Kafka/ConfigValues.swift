// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Flink's `Duration` and `MemorySize` option values (`'7 d'`, `'1000'` ms, `'2097164 bytes'`), parsed as Flink's
/// `TimeUtils` and `MemorySize` parse them and printed as Confluent's SHOW CREATE TABLE prints them.
enum ConfigValues {
    /// Duration units with their length in milliseconds, each with the spellings Flink accepts, the printed one first.
    private static let durationUnits: [(names: [String], millis: Int64)] = [
        (["d", "day", "days"], 86_400_000),
        (["h", "hour", "hours"], 3_600_000),
        (["min", "m", "minute", "minutes"], 60_000),
        (["s", "sec", "secs", "second", "seconds"], 1_000),
        (["ms", "milli", "millis", "millisecond", "milliseconds"], 1),
    ]

    /// Memory units with their size in bytes (powers of 1024, as Flink's `MemorySize`).
    private static let memoryUnits: [(names: [String], bytes: Int64)] = [
        (["b", "bytes"], 1),
        (["k", "kb", "kibibytes"], 1 << 10),
        (["m", "mb", "mebibytes"], 1 << 20),
        (["g", "gb", "gibibytes"], 1 << 30),
        (["t", "tb", "tebibytes"], 1 << 40),
    ]

    /// Splits `'<number> <unit>'` (spaces optional) into its number and lower-cased unit.
    private static func split(_ text: String) -> (Int64, String)? {
        let trimmed = text.trimmingSpaces
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int64(digits) else { return nil }
        return (number, String(trimmed.dropFirst(digits.count)).trimmingSpaces.lowercased())
    }

    /// A duration in milliseconds; a number without a unit is milliseconds.
    static func durationMillis(_ text: String, key: String) throws(SQLError) -> Int64 {
        guard let (number, unit) = split(text),
            let scale = unit.isEmpty ? 1 : durationUnits.first(where: { $0.names.contains(unit) })?.millis
        else {
            throw SQLError("Could not parse value '\(text)' for key '\(key)'. A duration is a number with an optional unit (d, h, min, s, ms).")
        }
        let (millis, overflow) = number.multipliedReportingOverflow(by: scale)
        guard !overflow else { throw SQLError("The duration '\(text)' for key '\(key)' is too long.") }
        return millis
    }

    /// A memory size in bytes; a number without a unit is bytes.
    static func memoryBytes(_ text: String, key: String) throws(SQLError) -> Int64 {
        guard let (number, unit) = split(text),
            let scale = unit.isEmpty ? 1 : memoryUnits.first(where: { $0.names.contains(unit) })?.bytes
        else {
            throw SQLError(
                "Could not parse value '\(text)' for key '\(key)'. A memory size is a number with an optional unit (bytes, kb, mb, gb, tb).")
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: scale)
        guard !overflow else { throw SQLError("The memory size '\(text)' for key '\(key)' is too large.") }
        return bytes
    }

    /// `'7 d'`, `'90 s'`, `'1500 ms'`: the largest unit that divides the duration (as newer Confluent output prints it).
    static func formatDuration(millis: Int64) -> String {
        guard millis != 0 else { return "0 ms" }
        for unit in durationUnits where millis % unit.millis == 0 { return "\(millis / unit.millis) \(unit.names[0])" }
        return "\(millis) ms"
    }

    /// `'2097164 bytes'`: always in bytes, as Confluent prints sizes.
    static func formatMemory(bytes: Int64) -> String { "\(bytes) bytes" }
}
