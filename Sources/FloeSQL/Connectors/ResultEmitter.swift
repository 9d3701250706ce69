// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore

/// The sink of a SELECT (Flink's collect sink): delivers its result changes to the statement's ``ResultReceiver``,
/// rendered as the results API encodes them, skipping the first `skip` (already delivered before a restart).
struct ResultEmitter {
    let receiver: any ResultReceiver
    let renderer: ValueRenderer
    let types: [SQLType]
    var remainingSkip: Int

    mutating func emit(_ batches: [Batch]) async throws {
        var changes: [ResultChange] = []
        for batch in batches {
            for i in 0..<batch.count {
                if remainingSkip > 0 {
                    remainingSkip -= 1
                    continue
                }
                let row = zip(batch.columns, types).map { renderer.json($0.value(at: i), $1) }
                changes.append(ResultChange(kind: batch.kinds[i], row: row))
            }
        }
        if !changes.isEmpty { try await receiver.deliver(changes) }
    }

    mutating func emit(rows: [Row]) async throws {
        guard !rows.isEmpty else { return }
        try await emit([Batch(rows: rows, kinds: Array(repeating: .insert, count: rows.count), types: types)])
    }
}
