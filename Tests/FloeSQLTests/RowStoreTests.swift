// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

@testable import FloeSQL
import Testing

/// `RowStore`: rows kept column by column read back as they were put in, through slot reuse and arena compaction.
@Suite struct RowStoreTests {
    static let types: [SQLType] = [SQLType(.bigint), SQLType.string, SQLType(.double), SQLType(.decimal(precision: 10, scale: 2)),
                                   SQLType(.boolean), SQLType(.array(SQLType(.integer)))]

    static func row(_ n: Int, text: String) -> Row {
        [n % 7 == 0 ? .null : .int(Int64(n)), n % 5 == 0 ? .null : .string(text), .double(Double(n) / 4), .decimal(Int128(n * 100)),
         .bool(n % 2 == 0), .list([.int(Int64(n))])]
    }

    @Test func rowsReadBackThroughReuseAndCompaction() {
        let store = RowStore(types: Self.types)
        var kept: [Int32: Row] = [:]
        var random = SeededGenerator(seed: 11)
        for n in 0..<6000 {
            // Long strings, so that removed ones add up to more than the 1 MiB before the arena is compacted.
            let text = String(repeating: "é\(n)", count: Int.random(in: 0...200, using: &random))
            let row = Self.row(n, text: text)
            let batch = Batch(rows: [row], kinds: [.insert], types: Self.types)
            let slot = n % 2 == 0 ? store.insert(batch, 0) : store.insert(row)
            #expect(kept[slot] == nil)
            kept[slot] = row
            #expect(store.matches(slot, batch, 0))
            if Int.random(in: 0..<3, using: &random) > 0, let victim = kept.keys.randomElement(using: &random) {
                store.remove(victim)
                kept[victim] = nil
            }
        }
        #expect(store.count == kept.count)
        for (slot, row) in kept {
            #expect(store.row(slot) == row)
            var appenders = Self.types.map { ColumnAppender($0.physical) }
            for c in Self.types.indices { store.append(slot, c, to: &appenders[c]) }
            #expect(Batch(columns: appenders.map { $0.column() }, kinds: [.insert]).row(0) == row)
        }
        let (slot, row) = kept.first!
        var other = row
        other[2] = .double(-1)
        #expect(!store.matches(slot, Batch(rows: [other], kinds: [.insert], types: Self.types), 0))
    }

    @Test func columnsNobodyReadsAreNotKept() {
        let store = RowStore(types: Self.types, live: [true, false, true, true, false, false])
        let row = Self.row(3, text: "kept?")
        let slot = store.insert(Batch(rows: [row], kinds: [.insert], types: Self.types), 0)
        #expect(store.row(slot) == [row[0], .null, row[2], row[3], .null, .null])
        #expect(store.row(slot, only: [2]) == [.null, .null, row[2], .null, .null, .null])
    }
}
