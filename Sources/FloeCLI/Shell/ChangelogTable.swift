// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// A query result materialized from its changelog, as a table view shows it: `+I` adds a row, `-U`/`-D` remove one,
/// `+U` adds (or, with upsert columns, replaces the row with the same key). The most recent changes are kept for
/// the changelog view. Both are bounded so an endless stream cannot exhaust memory.
struct ChangelogTable {
    private(set) var rows: [[JSONValue]] = []
    private(set) var recentChanges: [ResultChange] = []
    private(set) var changeCount = 0
    /// Indexes of the upsert key columns (`status.traits.upsert_columns`), if the result has them.
    let upsertColumns: [Int]?
    let capacity: Int
    /// Where the row retracted by the last `-U` was, so that its `+U` takes the same place.
    private var retractedIndex: Int?

    init(upsertColumns: [Int]? = nil, capacity: Int = 10_000) {
        self.upsertColumns = upsertColumns?.isEmpty == true ? nil : upsertColumns
        self.capacity = capacity
    }

    mutating func apply(_ change: ResultChange) {
        changeCount += 1
        recentChanges.append(change)
        if recentChanges.count > capacity { recentChanges.removeFirst(recentChanges.count - capacity) }
        switch change.operation {
        case .insert:
            rows.append(change.values)
        case .updateAfter:
            if let index = indexOfKey(change.values) {
                rows[index] = change.values
            } else if let index = retractedIndex, index <= rows.count {
                rows.insert(change.values, at: index)
            } else {
                rows.append(change.values)
            }
        case .updateBefore, .delete:
            if let index = upsertColumns == nil ? rows.lastIndex(of: change.values) : indexOfKey(change.values) {
                rows.remove(at: index)
                if change.operation == .updateBefore { retractedIndex = index }
            }
        }
        if change.operation != .updateBefore { retractedIndex = nil }
        if rows.count > capacity { rows.removeFirst(rows.count - capacity) }
    }

    mutating func apply(_ changes: [ResultChange]) { for change in changes { apply(change) } }

    private func indexOfKey(_ values: [JSONValue]) -> Int? {
        guard let upsertColumns else { return nil }
        func key(_ row: [JSONValue]) -> [JSONValue] { upsertColumns.map { $0 < row.count ? row[$0] : .null } }
        let wanted = key(values)
        return rows.lastIndex { key($0) == wanted }
    }
}
