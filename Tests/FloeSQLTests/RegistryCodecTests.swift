// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeSchemas
import Testing

@testable import FloeSQL

/// The Kafka record formats (`Connectors/Formats/Registry/`): Confluent framing, Avro rows against fastavro's bytes,
/// schema resolution across versions, the Flink ↔ Avro/JSON Schema mappings, table inference, JSON and raw.
@Suite struct RegistryCodecTests {
    /// The bytes of hex digits (line breaks ignored).
    static func bytes(_ text: String) -> [UInt8] {
        let hex = text.filter(\.isHexDigit)
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    static func schema(_ text: String) throws -> AvroSchema { try AvroSchema(parsing: text) }

    static func column(_ name: String, _ type: SQLType.Kind, nullable: Bool = false) -> SQLType.RowField {
        SQLType.RowField(name, SQLType(type, nullable: nullable))
    }

    static let string = SQLType.Kind.varchar(SQLType.maxLength)
    static let orderColumns = [
        column("id", .bigint), column("name", string), column("qty", .integer), column("price", .double), column("ts", .timestampLTZ(3)),
    ]
    static let ts1: Int64 = 1_704_067_200_123_000

    // MARK: Wire format

    @Test func headerCarriesTheSchemaID() throws {
        let record = Self.bytes(RegistryCodecFixtures.ordersV1.hex)
        let (id, start) = try ConfluentWireFormat.header(of: record)
        #expect(id == 100_001 && start == 5)
        var framed: [UInt8] = []
        ConfluentWireFormat.appendHeader(schemaID: 100_001, to: &framed)
        #expect(framed == Array(record.prefix(5)))
    }

    @Test func wrongMagicAndShortRecordsAreTypedErrors() {
        #expect(throws: RecordDecodeError.self) { try ConfluentWireFormat.header(of: [1, 0, 0, 0, 1, 2]) }
        do {
            _ = try ConfluentWireFormat.header(of: [1, 0, 0, 0, 1, 2])
        } catch {
            #expect(error.kind == .wrongMagicByte)
        }
        do {
            _ = try ConfluentWireFormat.header(of: [0, 0, 1])
        } catch {
            #expect(error.kind == .shortRecord)
            #expect(error.message.contains("3 bytes"))
        }
    }

    // MARK: Avro against fastavro

    @Test func decodesFastavroRecords() throws {
        let decoder = try AvroRowDecoder(writer: Self.schema(RegistryCodecFixtures.ordersV1.schema), columns: Self.orderColumns)
        let (id, row) = try decoder.decodeFramedRow(Self.bytes(RegistryCodecFixtures.ordersV1.hex))
        #expect(id == 100_001)
        #expect(row == [.int(1), .string("apple"), .int(3), .double(2.5), .int(Self.ts1)])
    }

    @Test func encodesTheBytesFastavroWrites() throws {
        let encoder = try AvroRowEncoder(schema: Self.schema(RegistryCodecFixtures.ordersV1.schema), columns: Self.orderColumns)
        let record = try encoder.encodeFramed([.int(1), .string("apple"), .int(3), .double(2.5), .int(Self.ts1)], schemaID: 100_001)
        #expect(record == Self.bytes(RegistryCodecFixtures.ordersV1.hex))
    }

    /// confluent-kafka's own AvroSerializer and JSONSerializer (with the JSON Schema Floe generates): Floe reads
    /// their records and writes the same bytes.
    @Test func readsAndWritesWhatConfluentSerializersDo() throws {
        let record = Self.bytes(RegistryCodecFixtures.confluentAvroOrders)
        let decoder = try AvroRowDecoder(writer: Self.schema(RegistryCodecFixtures.ordersV1.schema), columns: Self.orderColumns)
        let (id, row) = try decoder.decodeFramedRow(record)
        #expect(id == 1 && row == [.int(1), .string("apple"), .int(3), .double(2.5), .int(Self.ts1)])
        let encoder = try AvroRowEncoder(schema: Self.schema(RegistryCodecFixtures.ordersV1.schema), columns: Self.orderColumns)
        #expect(try encoder.encodeFramed(row, schemaID: id) == record)

        let json = Self.bytes(RegistryCodecFixtures.confluentJSONOrders)
        let codec = try JSONRowCodec.registry(columns: Self.goldenColumns)
        let decoded = try codec.decode(json)
        let expected: [Value] = [.int(1), .string("apple"), .int(Self.ts1), .list([.string("a"), .string("b")]), .list([.null, .int(12345)])]
        #expect(decoded.schemaID == 2 && decoded.row == expected)
        #expect(try codec.encode(expected, schemaID: 2) == json)
    }

    /// Records of three schema versions in one topic decode through one cache, each schema compiled once.
    @Test func decoderCacheCompilesEachWriterSchemaOnce() throws {
        let versions = [RegistryCodecFixtures.ordersV0, RegistryCodecFixtures.ordersV1, RegistryCodecFixtures.ordersV2]
        var schemas: [Int32: String] = [:]
        for version in versions { schemas[try ConfluentWireFormat.header(of: Self.bytes(version.hex)).schemaID] = version.schema }
        var columns = Self.orderColumns
        columns[2] = Self.column("qty", .integer, nullable: true)
        var cache = AvroDecoderCache(columns: columns)
        var lookups = 0
        var appenders = columns.map { ColumnAppender($0.type.physical) }
        for version in versions + versions {
            let record = Self.bytes(version.hex)
            let (id, start) = try ConfluentWireFormat.header(of: record)
            let decoder = try cache.decoder(forSchemaID: id) { id throws(RecordSchemaError) in
                lookups += 1
                guard let text = schemas[id] else { throw RecordSchemaError("Schema \(id) not found.") }
                do throws(AvroSchemaError) { return try AvroSchema(parsing: text) } catch { throw RecordSchemaError(error.message) }
            }
            try record.withUnsafeBufferPointer { try decoder.decode(UnsafeBufferPointer(rebasing: $0[start...]), into: &appenders) }
        }
        #expect(lookups == 3 && cache.count == 3)
        let qty = appenders[2].column()
        #expect((0..<6).map { qty.value(at: $0) } == [.null, .int(3), .int(7), .null, .int(3), .int(7)])
        #expect(throws: RecordSchemaError.self) {
            try cache.decoder(forSchemaID: 9) { id throws(RecordSchemaError) in throw RecordSchemaError("Schema \(id) not found.") }
        }
    }

    static let allTypesColumns: [SQLType.RowField] = [
        column("b", .boolean), column("ti", .tinyint), column("si", .smallint), column("i", .integer), column("bi", .bigint),
        column("f", .float), column("d", .double), column("s", string), column("vc", .varchar(10)), column("c", .char(3)),
        column("by", .varbinary(SQLType.maxLength)), column("bin", .binary(4)), column("dec", .decimal(precision: 10, scale: 2)),
        column("dt", .date), column("tm", .time(3)), column("ts3", .timestamp(3)), column("ts6", .timestamp(6)),
        column("ltz3", .timestampLTZ(3)), column("ltz6", .timestampLTZ(6)), column("arr", .array(SQLType(.integer, nullable: false))),
        column("m", .map(key: SQLType.string.notNull, value: SQLType(.bigint, nullable: false))),
        column("mi", .map(key: SQLType(.integer, nullable: false), value: SQLType.string.notNull)),
        column("r", .row([SQLType.RowField("a", SQLType(.integer, nullable: false)), SQLType.RowField("b", SQLType.string)])),
        column("n", .bigint, nullable: true), column("ns", string, nullable: true),
    ]

    static let allTypesRow: [Value] = [
        .bool(true), .int(-7), .int(1234), .int(-100_000), .int(9_007_199_254_740_993), .double(1.5), .double(-2.25),
        .string("héllo ✓"), .string("short"), .string("abc"), .bytes([0, 1, 0xFE, 0xFF]), .bytes(Array("WXYZ".utf8)),
        .decimal(-1_234_567), .int(19723), .int(45_296_789_000), .int(1_704_067_200_123_000), .int(1_704_067_200_123_456),
        .int(1_704_067_200_123_000), .int(1_704_067_200_123_456), .list([.int(1), .int(2), .int(3)]),
        .list([.list([.string("x"), .int(1)]), .list([.string("y"), .int(-2)])]),
        .list([.list([.int(1), .string("one")]), .list([.int(2), .string("two")])]), .list([.int(5), .null]), .int(42), .null,
    ]

    /// Every type of the KT §5 table: fastavro's record decodes to the expected values, encoding them gives
    /// fastavro's bytes, and the schema Floe generates for the columns is the one fastavro wrote with.
    @Test func everyMappedTypeAgainstFastavro() throws {
        let writer = try Self.schema(RegistryCodecFixtures.allTypes.schema)
        let decoder = try AvroRowDecoder(writer: writer, columns: Self.allTypesColumns)
        let (_, row) = try decoder.decodeFramedRow(Self.bytes(RegistryCodecFixtures.allTypes.hex))
        for (index, (got, want)) in zip(row, Self.allTypesRow).enumerated() {
            #expect(got == want, "column \(Self.allTypesColumns[index].name)")
        }
        let encoder = try AvroRowEncoder(schema: writer, columns: Self.allTypesColumns)
        #expect(try encoder.encodeFramed(Self.allTypesRow, schemaID: 100_010) == Self.bytes(RegistryCodecFixtures.allTypes.hex))
        let generated = try AvroSchemaGenerator.valueSchema(table: "all_types", columns: Self.allTypesColumns)
        #expect(try AvroSchema(parsing: generated.serializedString) == writer)
        // Inference reads the same columns back.
        let inferred = try RegistryTableInference.infer(key: nil, value: .avro(writer))
        #expect(inferred.columns.dropFirst().map { SQLType.RowField($0.name, $0.type) } == Self.allTypesColumns)
    }

    /// Types beyond the fixture round-trip through a generated schema: MULTISET, nullable nested values, CHAR,
    /// BINARY, DECIMAL scale, arrays of rows, maps with nullable values.
    @Test func roundTripsThroughGeneratedSchemas() throws {
        let columns: [SQLType.RowField] = [
            Self.column("ms", .multiset(SQLType.string.notNull), nullable: true),
            Self.column("ar", .array(SQLType(.row([SQLType.RowField("x", SQLType(.bigint))]), nullable: true))),
            Self.column("mv", .map(key: SQLType.string.notNull, value: SQLType(.double))),
            Self.column("ti", .tinyint, nullable: true), Self.column("dec", .decimal(precision: 38, scale: 10), nullable: true),
            Self.column("t", .time(3), nullable: true), Self.column("bin", .binary(2), nullable: true),
        ]
        let row: [Value] = [
            .list([.string("a"), .string("b"), .string("a")]),
            .list([.list([.int(1)]), .null, .list([.null])]),
            .list([.list([.string("k"), .null]), .list([.string("l"), .double(0.25)])]),
            .int(-128), .decimal(AvroDecimal.powerOfTen(37) - 1), .int(86_399_999_000), .bytes([7, 8]),
        ]
        let schema = try AvroSchema(parsing: AvroSchemaGenerator.valueSchema(table: "t", columns: columns).serializedString)
        var bytes: [UInt8] = []
        try AvroRowEncoder(schema: schema, columns: columns).encode(row, into: &bytes)
        let back = try AvroRowDecoder(writer: schema, columns: columns).decodeRow(bytes)
        #expect(back[0] == .list([.string("a"), .string("a"), .string("b")]))  // a multiset: counts, in first-seen order
        #expect(Array(back.dropFirst()) == Array(row.dropFirst()))
        let nulls: [Value] = [.null, .list([]), .list([]), .null, .null, .null, .null]
        bytes = []
        try AvroRowEncoder(schema: schema, columns: columns).encode(nulls, into: &bytes)
        #expect(try AvroRowDecoder(writer: schema, columns: columns).decodeRow(bytes) == nulls)
    }

    // MARK: Schema evolution

    @Test func olderWriterTakesTheReaderDefault() throws {
        let writer = try Self.schema(RegistryCodecFixtures.ordersV0.schema)
        let record = Self.bytes(RegistryCodecFixtures.ordersV0.hex)
        let reader = try Self.schema(
            #"{"type":"record","name":"orders_value","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"qty","type":"int","default":1},{"name":"price","type":"double"},{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#
        )
        let withDefault = try AvroRowDecoder(writer: writer, columns: Self.orderColumns, readerSchema: reader)
        #expect(try withDefault.decodeFramedRow(record).row == [.int(2), .string("pear"), .int(1), .double(1.25), .int(1_704_067_200_456_000)])
        var nullableQty = Self.orderColumns
        nullableQty[2] = Self.column("qty", .integer, nullable: true)
        #expect(try AvroRowDecoder(writer: writer, columns: nullableQty).decodeFramedRow(record).row[2] == .null)
        #expect(throws: RecordSchemaError.self) { try AvroRowDecoder(writer: writer, columns: Self.orderColumns) }
    }

    @Test func newerWriterFieldsAreSkippedOrReadAsTheyPromote() throws {
        let writer = try Self.schema(RegistryCodecFixtures.ordersV2.schema)
        let record = Self.bytes(RegistryCodecFixtures.ordersV2.hex)
        let old = try AvroRowDecoder(writer: writer, columns: Self.orderColumns)
        #expect(try old.decodeFramedRow(record).row == [.int(3), .string("plum"), .int(7), .double(0.5), .int(1_704_067_200_789_000)])
        // The enum reads as STRING, the array as ARRAY<STRING>, and fields come in any order.
        let columns = [
            Self.column("status", Self.string), Self.column("tags", .array(SQLType.string.notNull)), Self.column("note", Self.string, nullable: true),
            Self.column("id", .bigint),
        ]
        let row = try AvroRowDecoder(writer: writer, columns: columns).decodeFramedRow(record).row
        #expect(row == [.string("PAID"), .list([.string("a"), .string("b")]), .string("gift"), .int(3)])
        // Narrower writer types promote: int → BIGINT, bytes → STRING, float → DOUBLE.
        let narrow = try AvroRowDecoder(writer: Self.schema(RegistryCodecFixtures.ordersNarrow.schema), columns: Self.orderColumns)
        #expect(
            try narrow.decodeFramedRow(Self.bytes(RegistryCodecFixtures.ordersNarrow.hex)).row == [
                .int(4), .string("fig"), .int(1), .double(0.75), .int(0),
            ])
    }

    @Test func aliasesAndUnresolvableTypes() throws {
        let writer = try Self.schema(RegistryCodecFixtures.ordersV1.schema)
        let reader = try Self.schema(
            #"{"type":"record","name":"r","fields":[{"name":"title","type":"string","aliases":["name"]},{"name":"id","type":"long"}]}"#)
        let decoder = try AvroRowDecoder(
            writer: writer, columns: [Self.column("title", Self.string), Self.column("id", .bigint)], readerSchema: reader)
        #expect(try decoder.decodeFramedRow(Self.bytes(RegistryCodecFixtures.ordersV1.hex)).row == [.string("apple"), .int(1)])
        // A long cannot be read as INT (no narrowing), nor a string as DOUBLE.
        #expect(throws: RecordSchemaError.self) { try AvroRowDecoder(writer: writer, columns: [Self.column("id", .integer)]) }
        #expect(throws: RecordSchemaError.self) { try AvroRowDecoder(writer: writer, columns: [Self.column("name", .double)]) }
    }

    @Test func unionsReadAsRowsAndNullableInEitherOrder() throws {
        let writer = try Self.schema(RegistryCodecFixtures.unionsString.schema)
        let inferred = try RegistryTableInference.infer(key: nil, value: .avro(writer))
        let columns = inferred.columns.filter { $0.origin == .value }.map { SQLType.RowField($0.name, $0.type) }
        #expect(columns.map(\.type.sql) == ["ROW<`string` STRING, `long` BIGINT> NOT NULL", "BIGINT", "ROW<`int` INT, `string` STRING>"])
        let decoder = try AvroRowDecoder(writer: writer, columns: columns)
        let encoder = try AvroRowEncoder(schema: writer, columns: columns)
        for fixture in [RegistryCodecFixtures.unionsString, RegistryCodecFixtures.unionsLong] {
            let row = try decoder.decodeFramedRow(Self.bytes(fixture.hex)).row
            #expect(try encoder.encodeFramed(row, schemaID: 100_020) == Self.bytes(fixture.hex))
        }
        #expect(
            try decoder.decodeFramedRow(Self.bytes(RegistryCodecFixtures.unionsString.hex)).row == [
                .list([.string("text"), .null]), .null, .list([.int(9), .null]),
            ])
        #expect(try decoder.decodeFramedRow(Self.bytes(RegistryCodecFixtures.unionsLong.hex)).row == [.list([.null, .int(-5)]), .int(77), .null])
    }

    @Test func topLevelUnionIsOneColumnPerBranch() throws {
        let writer = try Self.schema(RegistryCodecFixtures.topUnionString.schema)
        let inferred = try RegistryTableInference.infer(key: nil, value: .avro(writer))
        #expect(inferred.columns.map(\.name) == ["key", "int", "string", "Point"])
        let columns = inferred.columns.dropFirst().map { SQLType.RowField($0.name, $0.type) }
        #expect(columns.allSatisfy { $0.type.nullable })
        let decoder = try AvroRowDecoder(writer: writer, columns: columns)
        #expect(try decoder.decodeFramedRow(Self.bytes(RegistryCodecFixtures.topUnionString.hex)).row == [.null, .string("hi"), .null])
        #expect(try decoder.decodeFramedRow(Self.bytes(RegistryCodecFixtures.topUnionRecord.hex)).row == [.null, .null, .list([.int(3)])])
        // A union with a null branch: the null record is NULL in every column.
        let withNull = try Self.schema(#"["null","int","string"]"#)
        let nullColumns = [Self.column("int", .integer, nullable: true), Self.column("string", Self.string, nullable: true)]
        #expect(try AvroRowDecoder(writer: withNull, columns: nullColumns).decodeRow([0]) == [.null, .null])
        #expect(try AvroRowDecoder(writer: withNull, columns: nullColumns).decodeRow([4, 2, 0x61]) == [.null, .string("a")])
    }

    @Test func recursiveWriterFieldsAreSkippedAndRefusedAsColumns() throws {
        let list = try Self.schema(
            #"{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}"#)
        // v=1, next={v=2, next=null}
        #expect(try AvroRowDecoder(writer: list, columns: [Self.column("v", .integer)]).decodeRow([0x02, 0x02, 0x04, 0x00]) == [.int(1)])
        #expect(throws: RecordSchemaError.self) { try RegistryTableInference.infer(key: nil, value: .avro(list)) }
    }

    @Test func enumsReadAsStringsWithTheReaderDefault() throws {
        let writer = try Self.schema(
            #"{"type":"record","name":"r","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}}]}"#)
        let reader = try Self.schema(
            #"{"type":"record","name":"r","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}}]}"#)
        let columns = [Self.column("e", Self.string)]
        #expect(try AvroRowDecoder(writer: writer, columns: columns).decodeRow([0x04]) == [.string("C")])
        #expect(try AvroRowDecoder(writer: writer, columns: columns, readerSchema: reader).decodeRow([0x04]) == [.string("A")])
        #expect(try AvroRowDecoder(writer: writer, columns: columns, readerSchema: reader).decodeRow([0x02]) == [.string("B")])
        // Writing: a symbol the enum lacks is an error, not a silent default.
        var output: [UInt8] = []
        #expect(throws: RecordEncodeError.self) { try AvroRowEncoder(schema: writer, columns: columns).encode([.string("Z")], into: &output) }
        // time-micros is BIGINT (Flink has no TIME(6)).
        let micros = try Self.schema(#"{"type":"record","name":"r","fields":[{"name":"t","type":{"type":"long","logicalType":"time-micros"}}]}"#)
        #expect(try RegistryTableInference.infer(key: nil, value: .avro(micros)).columns[1].type.sql == "BIGINT NOT NULL")
        #expect(try AvroRowDecoder(writer: micros, columns: [Self.column("t", .bigint)]).decodeRow([0x0A]) == [.int(5)])
    }

    // MARK: Malformed records

    @Test func malformedAvroIsARecordDecodeError() throws {
        let decoder = try AvroRowDecoder(writer: Self.schema(RegistryCodecFixtures.ordersV1.schema), columns: Self.orderColumns)
        let payload = Array(Self.bytes(RegistryCodecFixtures.ordersV1.hex).dropFirst(5))
        func kind(_ bytes: [UInt8]) -> RecordDecodeError.Kind? {
            do {
                _ = try decoder.decodeRow(bytes)
                return nil
            } catch {
                return error.kind
            }
        }
        #expect(kind(Array(payload.dropLast(3))) == .truncated)
        #expect(kind(payload + [0]) == .trailingBytes)
        #expect(kind([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == .malformed)
        var badUTF8 = payload
        badUTF8[2] = 0xC3  // "apple" → an invalid sequence
        badUTF8[3] = 0x28
        #expect(kind(badUTF8) == .malformed)
        #expect(kind([0x02, 0x7E]) == .truncated)  // a string length past the end
        #expect(kind([0x02, 0x7F]) == .malformed)  // a negative length
        // A failed record leaves the columns as they were.
        var appenders = Self.orderColumns.map { ColumnAppender($0.type.physical) }
        try payload.withUnsafeBufferPointer { try decoder.decode($0, into: &appenders) }
        #expect(throws: RecordDecodeError.self) { try badUTF8.withUnsafeBufferPointer { try decoder.decode($0, into: &appenders) } }
        #expect(appenders.allSatisfy { $0.count == 1 })
        // NULL for a NOT NULL column.
        let nullable = try Self.schema(#"{"type":"record","name":"r","fields":[{"name":"id","type":["null","long"]}]}"#)
        let strict = try AvroRowDecoder(writer: nullable, columns: [Self.column("id", .bigint)])
        #expect(throws: RecordDecodeError.self) { try strict.decodeRow([0]) }
        #expect(try strict.decodeRow([2, 4]) == [.int(2)])
        let unknownBranch = try AvroRowDecoder(writer: nullable, columns: [Self.column("id", .bigint, nullable: true)])
        #expect(throws: RecordDecodeError.self) { try unknownBranch.decodeRow([6]) }
    }

    // MARK: Generated schemas (golden)

    static let goldenColumns: [SQLType.RowField] = [
        column("id", .bigint), column("name", .varchar(20), nullable: true), column("ts", .timestampLTZ(3), nullable: true),
        column("tags", .array(SQLType.string.notNull), nullable: true),
        column(
            "addr", .row([SQLType.RowField("city", SQLType.string), SQLType.RowField("zip", SQLType(.smallint, nullable: false))]), nullable: true),
    ]

    @Test func goldenAvroSchema() throws {
        let schema = try AvroSchemaGenerator.valueSchema(table: "orders", columns: Self.goldenColumns).serializedString
        #expect(
            schema
                == #"{"type":"record","name":"orders_value","namespace":"org.apache.flink.avro.generated.record","fields":[{"name":"id","type":"long"},{"name":"name","type":["null",{"type":"string","flink.maxLength":20}],"default":null},{"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},{"name":"tags","type":["null",{"type":"array","items":"string"}],"default":null},{"name":"addr","type":["null",{"type":"record","name":"record_addr","fields":[{"name":"city","type":["null","string"],"default":null},{"name":"zip","type":{"type":"int","connect.type":"int16"}}]}],"default":null}]}"#
        )
        let parsed = try AvroSchema(parsing: schema)
        #expect(parsed.canonicalForm.contains("org.apache.flink.avro.generated.record.orders_value"))
        let key = try AvroSchemaGenerator.keySchema(table: "customer_conversations", columns: [Self.column("key", Self.string)]).serializedString
        #expect(
            key
                == #"{"type":"record","name":"customer_conversations_key","namespace":"org.apache.flink.avro.generated.record","fields":[{"name":"key","type":"string"}]}"#
        )
        #expect(throws: RecordSchemaError.self) { try AvroSchemaGenerator.valueSchema(table: "t", columns: [Self.column("bad-name", .integer)]) }
    }

    @Test func goldenJSONSchema() throws {
        let schema = try JSONSchemaMapping.valueSchema(table: "orders", columns: Self.goldenColumns).serializedString
        #expect(
            schema
                == #"{"type":"object","title":"orders_value","properties":{"id":{"type":"number","connect.type":"int64","connect.index":0},"name":{"oneOf":[{"type":"null"},{"type":"string"}],"connect.index":1},"ts":{"oneOf":[{"type":"null"},{"type":"number","title":"org.apache.kafka.connect.data.Timestamp","connect.type":"int64","flink.precision":3}],"connect.index":2},"tags":{"oneOf":[{"type":"null"},{"type":"array","items":{"type":"string"}}],"connect.index":3},"addr":{"oneOf":[{"type":"null"},{"type":"object","properties":{"city":{"oneOf":[{"type":"null"},{"type":"string"}],"connect.index":0},"zip":{"type":"number","connect.type":"int16","connect.index":1}},"required":["zip"]}],"connect.index":4}},"required":["id"]}"#
        )
        // It is a valid JSON Schema, and reading it back gives the columns (VARCHAR(20) reads as STRING).
        let document = try JSONSchemaDocument(parsing: schema)
        let inferred = try RegistryTableInference.infer(key: nil, value: .json(document))
        var expected = Self.goldenColumns
        expected[1] = Self.column("name", Self.string, nullable: true)
        #expect(inferred.columns.dropFirst().map { SQLType.RowField($0.name, $0.type) } == expected)
        #expect(inferred.options["value.format"] == "json-registry")
    }

    // MARK: Inference (kafka-tables.md §1, row by row)

    @Test func inferenceFollowsTheRegistryStateTable() throws {
        let bytes = SQLType(.varbinary(SQLType.maxLength))
        // No key or value subject: raw key and val.
        let none = try RegistryTableInference.infer(key: nil, value: nil)
        #expect(none.columns.map(\.name) == ["key", "val"] && none.columns.allSatisfy { $0.type == bytes })
        #expect(none.options == ["key.format": "raw", "value.format": "raw"])
        // Value record only: key VARBINARY, then the value fields (non-union fields NOT NULL).
        let value = try Self.schema(RegistryCodecFixtures.ordersV2.schema)
        let valueOnly = try RegistryTableInference.infer(key: nil, value: .avro(value))
        #expect(valueOnly.columns.map(\.name) == ["key", "id", "name", "qty", "price", "ts", "note", "status", "tags"])
        #expect(valueOnly.columns[0].type == bytes && valueOnly.columns[1].type == SQLType(.bigint, nullable: false))
        #expect(valueOnly.columns[6].type.nullable && !valueOnly.columns[7].type.nullable)
        #expect(valueOnly.options == ["key.format": "raw", "value.format": "avro-registry"])
        // Atomic key: `key INT NOT NULL`, key.format avro-registry.
        let atomic = try RegistryTableInference.infer(key: .avro(Self.schema(#""int""#)), value: .avro(value))
        #expect(atomic.columns[0].name == "key" && atomic.columns[0].type.sql == "INT NOT NULL")
        #expect(atomic.options["key.format"] == "avro-registry" && atomic.distributionKey == ["key"])
        // A value field named `key`: the raw key column becomes `key_key`, prefix `key_`.
        let withKeyField = try Self.schema(#"{"type":"record","name":"v","fields":[{"name":"key","type":"string"},{"name":"x","type":"int"}]}"#)
        let prefixed = try RegistryTableInference.infer(key: nil, value: .avro(withKeyField))
        #expect(prefixed.columns.map(\.name) == ["key_key", "key", "x"])
        #expect(prefixed.options["key.fields-prefix"] == "key_")
        // Key record fully inside the value: value.fields-include = all, no separate key columns.
        let keyRecord = try Self.schema(#"{"type":"record","name":"k","fields":[{"name":"id","type":"long"}]}"#)
        let inside = try RegistryTableInference.infer(key: .avro(keyRecord), value: .avro(value))
        #expect(inside.options["value.fields-include"] == "all")
        #expect(inside.columns.map(\.name) == ["id", "name", "qty", "price", "ts", "note", "status", "tags"])
        #expect(inside.columns[0].origin == .keyAndValue && inside.distributionKey == ["id"])
        // A key record not inside the value: key columns first.
        let otherKey = try Self.schema(#"{"type":"record","name":"k","fields":[{"name":"region","type":"string"}]}"#)
        let separate = try RegistryTableInference.infer(key: .avro(otherKey), value: .avro(value))
        #expect(separate.columns.first?.name == "region" && separate.columns.first?.origin == .key)
        #expect(separate.options["value.fields-include"] == nil)
    }

    // MARK: JSON

    @Test func jsonRoundTripsInBothDialects() throws {
        for codec in [try JSONRowCodec.registry(columns: Self.allTypesColumns), try JSONRowCodec.plain(columns: Self.allTypesColumns)] {
            let record = try codec.encode(Self.allTypesRow, schemaID: 7)
            let (id, row) = try codec.decode(record)
            #expect(id == (codec.framed ? 7 : nil))
            for (index, (got, want)) in zip(row, Self.allTypesRow).enumerated() {
                // Connect's Timestamp is epoch milliseconds: json-registry keeps TIMESTAMP(6) to the millisecond.
                var expected = want
                if codec.dialect == .connect, ["ts6", "ltz6"].contains(Self.allTypesColumns[index].name), case .int(let micros) = want {
                    expected = .int(Temporal.truncate(micros, precision: 3))
                }
                #expect(got == expected, "column \(Self.allTypesColumns[index].name)")
            }
        }
        let connect = try JSONRowCodec.registry(columns: [
            Self.column("d", .date), Self.column("ts", .timestampLTZ(3)), Self.column("dec", .decimal(precision: 5, scale: 2)),
        ])
        let text = String(decoding: try connect.encode([.int(19723), .int(Self.ts1), .decimal(-12345)], schemaID: 1).dropFirst(5), as: UTF8.self)
        #expect(text == #"{"d":19723,"ts":1704067200123,"dec":-123.45}"#)
        let plain = try JSONRowCodec.plain(columns: [Self.column("d", .date), Self.column("ts", .timestampLTZ(3))])
        #expect(
            String(decoding: try plain.encode([.int(19723), .int(Self.ts1)]), as: UTF8.self) == #"{"d":"2024-01-01","ts":"2024-01-01 00:00:00.123Z"}"#
        )
    }

    /// Maps with other keys and multisets: objects in Flink's `json`, arrays of {key, value} in json-registry.
    @Test func jsonMapsAndMultisetsPerDialect() throws {
        let columns = [
            Self.column("m", .map(key: SQLType(.integer, nullable: false), value: SQLType.string)),
            Self.column("ms", .multiset(SQLType.string.notNull)),
        ]
        let row: [Value] = [.list([.list([.int(1), .string("one")])]), .list([.string("a"), .string("b"), .string("a")])]
        let plain = try JSONRowCodec.plain(columns: columns)
        let plainText = try plain.encode(row)
        #expect(String(decoding: plainText, as: UTF8.self) == #"{"m":{"1":"one"},"ms":{"a":2,"b":1}}"#)
        #expect(try plain.decode(plainText).row == [row[0], .list([.string("a"), .string("a"), .string("b")])])
        let registry = try JSONRowCodec.registry(columns: columns)
        let registryText = try registry.encode(row, schemaID: 3)
        #expect(
            String(decoding: registryText.dropFirst(5), as: UTF8.self)
                == #"{"m":[{"key":1,"value":"one"}],"ms":[{"key":"a","value":2},{"key":"b","value":1}]}"#)
        #expect(try registry.decode(registryText).row == [row[0], .list([.string("a"), .string("a"), .string("b")])])
    }

    @Test func jsonReadsForeignSpellingsAndRefusesMalformedText() throws {
        let codec = try JSONRowCodec.plain(columns: [
            Self.column("id", .bigint), Self.column("at", .timestamp(3), nullable: true), Self.column("s", Self.string, nullable: true),
        ])
        #expect(
            try codec.decode(Array(#"{"s":{"a":1},"id":5,"extra":[1,2],"at":"2024-01-01T00:00:00.123"}"#.utf8)).row == [
                .int(5), .int(Self.ts1), .string(#"{"a":1}"#),
            ])
        func kind(_ text: String) -> RecordDecodeError.Kind? {
            do {
                _ = try codec.decode(Array(text.utf8))
                return nil
            } catch {
                return error.kind
            }
        }
        #expect(kind(#"{"id":5,"#) == .malformed)
        #expect(kind(#"[1,2]"#) == .malformed)
        #expect(kind(#"{"at":null}"#) == .unrepresentable)  // id is NOT NULL
        #expect(kind(#"{"id":"five"}"#) == .unrepresentable)
        // Nesting: the parser refuses JSON deeper than 512 levels even in members no column reads; the columns'
        // own nesting is bounded by their types (ARRAY<ARRAY<INT>> refuses a third level).
        let tooDeep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(kind(#"{"id":1,"x":\#(tooDeep)}"#) == .malformed)
        let deep = try JSONRowCodec.plain(columns: [Self.column("a", .array(SQLType(.array(SQLType(.integer)))), nullable: true)])
        #expect(try deep.decode(Array(#"{"a":[[1],[2,3]]}"#.utf8)).row == [.list([.list([.int(1)]), .list([.int(2), .int(3)])])])
        #expect(throws: RecordDecodeError.self) { try deep.decode(Array(#"{"a":[[[1]]]}"#.utf8)) }
        let framed = try JSONRowCodec.registry(columns: [Self.column("id", .bigint)])
        #expect(throws: RecordDecodeError.self) { try framed.decode(Array(#"{"id":1}"#.utf8)) }  // no header
    }

    // MARK: Raw

    @Test func rawReadsBytesAndText() throws {
        let bytes = try RawCodec(type: SQLType(.varbinary(SQLType.maxLength)))
        #expect(try bytes.decode([0xFF, 0]) == .bytes([0xFF, 0]))
        #expect(try bytes.decode(nil as [UInt8]?) == .null)
        #expect(try bytes.encode(.null) == nil)
        let text = try RawCodec(type: SQLType.string)
        #expect(try text.decode(Array("héllo".utf8)) == .string("héllo"))
        #expect(throws: RecordDecodeError.self) { try text.decode([0xC3, 0x28]) }
        #expect(try text.encode(.string("a")) == [0x61])
        #expect(throws: RecordSchemaError.self) { try RawCodec(type: SQLType(.integer)) }
    }
}
