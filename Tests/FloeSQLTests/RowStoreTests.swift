// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Testing

@testable import FloeSQL

/// `RowStore`: rows kept column by column read back as they were put in, through slot reuse and arena compaction.
@Suite struct RowStoreTests {
    static let types: [SQLType] = [
        SQLType(.bigint), SQLType.string, SQLType(.double), SQLType(.decimal(precision: 10, scale: 2)),
        SQLType(.boolean), SQLType(.array(SQLType(.integer))),
    ]

    static func row(_ n: Int, text: String) -> Row {
        [
            n % 7 == 0 ? .null : .int(Int64(n)), n % 5 == 0 ? .null : .string(text), .double(Double(n) / 4), .decimal(Int128(n * 100)),
            .bool(n % 2 == 0), n % 3 == 0 ? .null : .list([.int(Int64(n))]),
        ]
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
            let slot = n % 2 == 0 ? store.insert(batch, rows: [0])[0] : store.insert(row)
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

    /// Rows stored a batch at a time and gathered column by column, mixed with input rows and NULLs, come out as the
    /// boxed rows they were.
    @Test func batchInsertAndGatherAgreeWithBoxedRows() {
        let store = RowStore(types: Self.types)
        let rows = (0..<50).map { Self.row($0, text: String(repeating: "x\($0)", count: $0 % 9)) }
        let batch = Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: Self.types)
        let picked = [3, 0, 49, 7, 7, 20]
        let slots = store.insert(batch, rows: picked)
        store.remove(slots[1])
        let sources: [RowSource] = [.kept(slots[0]), .input(5), .none, .kept(slots[2]), .input(14), .kept(slots[4])]
        let expected: [Row] = [rows[3], rows[5], Array(repeating: .null, count: Self.types.count), rows[49], rows[14], rows[7]]
        let columns = Self.types.indices.map { c in
            var appender = ColumnAppender(Self.types[c].physical)
            store.gather(column: c, sources, input: batch.columns[c], into: &appender)
            return appender.column()
        }
        #expect(Batch(columns: columns, kinds: Array(repeating: .insert, count: sources.count)).rows() == expected)
        #expect(store.count == 5)
    }

    @Test func columnsNobodyReadsAreNotKept() {
        let store = RowStore(types: Self.types, live: [true, false, true, true, false, false])
        let row = Self.row(3, text: "kept?")
        let slot = store.insert(Batch(rows: [row], kinds: [.insert], types: Self.types), rows: [0])[0]
        #expect(store.row(slot) == [row[0], .null, row[2], row[3], .null, .null])
        #expect(store.row(slot, only: [2]) == [.null, .null, row[2], .null, .null, .null])
    }
}
