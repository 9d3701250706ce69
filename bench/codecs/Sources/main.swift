// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
@_spi(Benchmarks) import FloeSQL
import FloeSchemas
import Foundation

// The Kafka record formats alone, on one core: Avro records of ~85 bytes (long, string, int, double,
// timestamp-millis) decoded into columns, and rows encoded back, as a Kafka source and sink do per record. The
// issue's end-to-end target is ≥ ~255k records/s; the codecs must leave most of that budget to the rest.

let count = Int(ProcessInfo.processInfo.environment["BENCH_RECORDS"] ?? "") ?? 1_000_000

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

let columns: [SQLType.RowField] = [
    .init("id", SQLType(.bigint, nullable: false)), .init("name", SQLType.string.notNull), .init("qty", SQLType(.integer, nullable: false)),
    .init("price", SQLType(.double, nullable: false)), .init("ts", SQLType(.timestampLTZ(3), nullable: false)),
]
let schema = try AvroSchema(parsing: AvroSchemaGenerator.valueSchema(table: "orders", columns: columns).serializedString)
let encoder = try AvroRowEncoder(schema: schema, columns: columns)
let decoder = try AvroRowDecoder(writer: schema, columns: columns)

let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
let rows: [[Value]] = (0..<count).map { i in
    let name = (0..<12).map { words[(i + $0 * 3) % words.count] }.joined(separator: "-").prefix(57)
    return [
        .int(Int64(i) * 7_919), .string(String(name)), .int(Int64(i % 1000)), .double(Double(i % 10_000) / 100),
        .int(1_704_067_200_000_000 + Int64(i) * 1_000),
    ]
}

var payloads: [[UInt8]] = []
payloads.reserveCapacity(count)
let encodeTime = try seconds {
    for row in rows {
        var output: [UInt8] = []
        output.reserveCapacity(96)
        try encoder.encode(row, into: &output)
        payloads.append(output)
    }
}
let averageSize = Double(payloads.reduce(0) { $0 + $1.count }) / Double(count)
var decoded = 0
let decodeTime = try seconds { decoded = try decoder.decodeBatches(payloads) }
precondition(decoded == count)

// json-registry, for comparison (a generic JSON parse per record).
let json = try JSONRowCodec.registry(columns: columns)
var jsonRecords: [[UInt8]] = []
jsonRecords.reserveCapacity(count)
let jsonEncodeTime = try seconds { for row in rows { jsonRecords.append(try json.encode(row, schemaID: 1)) } }
let jsonDecodeTime = try seconds { for record in jsonRecords { _ = try json.decode(record) } }

func rate(_ time: Double) -> String { String(format: "%.0f", Double(count) / time) }
print("records: \(count), average Avro payload: \(String(format: "%.1f", averageSize)) bytes")
print("decode into columns: \(rate(decodeTime)) records/s")
print("encode from rows:    \(rate(encodeTime)) records/s")
print("decode + encode:     \(rate(decodeTime + encodeTime)) records/s")
print("json-registry decode to rows: \(rate(jsonDecodeTime)) records/s, encode: \(rate(jsonEncodeTime)) records/s")
