#!/usr/bin/env python3
# Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.
"""Writes Tests/FloeSQLTests/RegistryCodecFixtures.swift: Avro records encoded by fastavro (the library under
confluent-kafka's AvroSerializer), framed as Confluent's serializers frame them (magic 0, 4-byte big-endian schema
id), so that the Swift codec tests check Floe against an independent implementation without needing Python.

The Swift tests decode every fixture, and encode the same rows and compare the bytes with fastavro's: equal bytes
are what fastavro (and Java's Avro) read back, so the reverse direction is checked too. This script also reads
those bytes with confluent-kafka's AvroDeserializer (the consumer side of a Floe sink), and produces records with
confluent-kafka's own AvroSerializer and JSONSerializer (the latter validating against the JSON Schema Floe
generates, copied from the golden test).

Run: python3 -m venv /tmp/kv && /tmp/kv/bin/pip install 'confluent-kafka[avro,json]==2.16.2'
     /tmp/kv/bin/python tests/registry/make_codec_fixtures.py
"""
import io
import json
import pathlib
import struct
from decimal import Decimal

import fastavro
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry._sync.mock_schema_registry_client import MockSchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

NS = "org.apache.flink.avro.generated.record"
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "FloeSQLTests" / "RegistryCodecFixtures.swift"


def frame(schema_id, schema, record):
    parsed = fastavro.parse_schema(json.loads(json.dumps(schema)))
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, record)
    payload = buffer.getvalue()
    # Sanity: fastavro reads its own bytes back.
    back = fastavro.schemaless_reader(io.BytesIO(payload), parsed)
    assert back is not None
    return b"\x00" + struct.pack(">I", schema_id) + payload


def nullable(t):
    return ["null", t]


ORDERS_V1 = {
    "type": "record", "name": "orders_value", "namespace": NS,
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "price", "type": "double"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}
# An older writer without `qty`, a newer one with an extra field and an enum, and one whose numbers promote.
ORDERS_V0 = {"type": "record", "name": "orders_value", "namespace": NS, "fields": [f for f in ORDERS_V1["fields"] if f["name"] != "qty"]}
ORDERS_V2 = {
    "type": "record", "name": "orders_value", "namespace": NS,
    "fields": ORDERS_V1["fields"] + [
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}
ORDERS_NARROW = {
    "type": "record", "name": "orders_value", "namespace": NS,
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "name", "type": "bytes"},
        {"name": "qty", "type": "int"},
        {"name": "price", "type": "float"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}

ALL_TYPES = {
    "type": "record", "name": "all_types_value", "namespace": NS,
    "fields": [
        {"name": "b", "type": "boolean"},
        {"name": "ti", "type": {"type": "int", "connect.type": "int8"}},
        {"name": "si", "type": {"type": "int", "connect.type": "int16"}},
        {"name": "i", "type": "int"},
        {"name": "bi", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "s", "type": "string"},
        {"name": "vc", "type": {"type": "string", "flink.maxLength": 10}},
        {"name": "c", "type": {"type": "string", "flink.maxLength": 3, "flink.minLength": 3}},
        {"name": "by", "type": "bytes"},
        {"name": "bin", "type": {"type": "fixed", "name": "fixed_bin", "size": 4}},
        {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "dt", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "ts3", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "ts6", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "ltz3", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ltz6", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "arr", "type": {"type": "array", "items": "int"}},
        {"name": "m", "type": {"type": "map", "values": "long"}},
        {"name": "mi", "type": {"type": "array", "items": {
            "type": "record", "name": "MapEntry", "namespace": "io.confluent.connect.avro",
            "fields": [{"name": "key", "type": "int"}, {"name": "value", "type": "string"}]}}},
        {"name": "r", "type": {"type": "record", "name": "record_r", "fields": [
            {"name": "a", "type": "int"}, {"name": "b", "type": ["null", "string"], "default": None}]}},
        {"name": "n", "type": ["null", "long"], "default": None},
        {"name": "ns", "type": ["null", "string"], "default": None},
    ],
}
ALL_TYPES_RECORD = {
    "b": True, "ti": -7, "si": 1234, "i": -100000, "bi": 9007199254740993, "f": 1.5, "d": -2.25,
    "s": "héllo ✓", "vc": "short", "c": "abc", "by": b"\x00\x01\xfe\xff", "bin": b"WXYZ",
    "dec": Decimal("-12345.67"), "dt": 19723, "tm": 45296789, "ts3": 1704067200123, "ts6": 1704067200123456,
    "ltz3": 1704067200123, "ltz6": 1704067200123456, "arr": [1, 2, 3], "m": {"x": 1, "y": -2},
    "mi": [{"key": 1, "value": "one"}, {"key": 2, "value": "two"}], "r": {"a": 5, "b": None}, "n": 42, "ns": None,
}

# Unions Floe reads as ROWs, null-second nullable unions, and a top-level union.
UNIONS = {
    "type": "record", "name": "u_value", "namespace": NS,
    "fields": [
        {"name": "either", "type": ["string", "long"]},
        {"name": "late_null", "type": ["long", "null"]},
        {"name": "maybe_either", "type": ["null", "int", "string"], "default": None},
    ],
}
TOP_UNION = ["int", "string", {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "int"}]}]

FIXTURES = [
    ("ordersV1", 100001, ORDERS_V1, {"id": 1, "name": "apple", "qty": 3, "price": 2.5, "ts": 1704067200123}),
    ("ordersV0", 100000, ORDERS_V0, {"id": 2, "name": "pear", "price": 1.25, "ts": 1704067200456}),
    ("ordersV2", 100002, ORDERS_V2, {"id": 3, "name": "plum", "qty": 7, "price": 0.5, "ts": 1704067200789,
                                      "note": "gift", "status": "PAID", "tags": ["a", "b"]}),
    ("ordersNarrow", 100003, ORDERS_NARROW, {"id": 4, "name": b"fig", "qty": 1, "price": 0.75, "ts": 0}),
    ("allTypes", 100010, ALL_TYPES, ALL_TYPES_RECORD),
    ("unionsString", 100020, UNIONS, {"either": "text", "late_null": None, "maybe_either": 9}),
    ("unionsLong", 100020, UNIONS, {"either": -5, "late_null": 77, "maybe_either": None}),
    ("topUnionString", 100030, TOP_UNION, "hi"),
    ("topUnionRecord", 100030, TOP_UNION, {"x": 3}),
]


# The JSON Schema Floe generates for `orders` (RegistryCodecTests.goldenJSONSchema asserts the same text).
ORDERS_JSON_SCHEMA = (
    '{"type":"object","title":"orders_value","properties":{"id":{"type":"number","connect.type":"int64","connect.index":0},'
    '"name":{"oneOf":[{"type":"null"},{"type":"string"}],"connect.index":1},"ts":{"oneOf":[{"type":"null"},{"type":"number",'
    '"title":"org.apache.kafka.connect.data.Timestamp","connect.type":"int64","flink.precision":3}],"connect.index":2},'
    '"tags":{"oneOf":[{"type":"null"},{"type":"array","items":{"type":"string"}}],"connect.index":3},"addr":{"oneOf":'
    '[{"type":"null"},{"type":"object","properties":{"city":{"oneOf":[{"type":"null"},{"type":"string"}],"connect.index":0},'
    '"zip":{"type":"number","connect.type":"int16","connect.index":1}},"required":["zip"]}],"connect.index":4}},"required":["id"]}'
)


def confluent_fixtures():
    """Records from confluent-kafka's serializers, through its in-memory registry (schema ids from 1)."""
    registry = MockSchemaRegistryClient({"url": "mock://floe"})
    ctx = SerializationContext("orders", MessageField.VALUE)
    avro = AvroSerializer(registry, json.dumps(ORDERS_V1))({"id": 1, "name": "apple", "qty": 3, "price": 2.5, "ts": 1704067200123}, ctx)
    jsn = JSONSerializer(ORDERS_JSON_SCHEMA, registry)(
        {"id": 1, "name": "apple", "ts": 1704067200123, "tags": ["a", "b"], "addr": {"city": None, "zip": 12345}}, ctx)
    # The other way: AvroDeserializer reads the all-types record (the bytes Floe's encoder must reproduce).
    all_types = frame(1, ALL_TYPES, ALL_TYPES_RECORD)
    schema_id = registry.register_schema("all_types-value", Schema(json.dumps(ALL_TYPES), "AVRO"))
    back = AvroDeserializer(registry)(all_types[:1] + struct.pack(">I", schema_id) + all_types[5:],
                                      SerializationContext("all_types", MessageField.VALUE))
    assert back["dec"] == ALL_TYPES_RECORD["dec"] and back["mi"] == ALL_TYPES_RECORD["mi"], back
    assert JSONDeserializer(ORDERS_JSON_SCHEMA)(jsn, ctx)["addr"]["zip"] == 12345
    return [("confluentAvroOrders", avro), ("confluentJSONOrders", jsn)]


def hex_literal(data, indent="        "):
    """A multi-line string literal of the hex digits (the tests skip the line breaks)."""
    digits = data.hex()
    chunks = [digits[i:i + 96] for i in range(0, len(digits), 96)]
    return '"""\n' + "".join(indent + chunk + "\n" for chunk in chunks) + indent + '"""'


def schema_literal(schema, indent="        "):
    text = json.dumps(schema, indent=1)
    return '#"""\n' + "".join(indent + line + "\n" for line in text.splitlines()) + indent + '"""#'


def main():
    lines = [
        "// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.",
        "// Generated by tests/registry/make_codec_fixtures.py with fastavro " + fastavro.__version__ + "; do not edit.",
        "",
        "/// Confluent-framed Avro records written by fastavro, with the writer schema of each.",
        "enum RegistryCodecFixtures {",
    ]
    for name, schema_id, schema, record in FIXTURES:
        data = frame(schema_id, schema, record)
        lines.append(f"    static let {name} = (\n        schema: {schema_literal(schema)},\n        hex: {hex_literal(data)}\n    )")
    for name, data in confluent_fixtures():
        lines.append(f"    static let {name} = {hex_literal(data, '        ')}")
    lines.append("}")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(FIXTURES)} fixtures)")


if __name__ == "__main__":
    main()
