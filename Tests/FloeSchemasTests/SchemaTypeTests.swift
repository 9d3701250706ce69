// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeSchemas
import Testing

@Suite struct SchemaTypeTests {
    @Test func anAbsentSchemaTypeIsAvroAndCaseDoesNotMatter() {
        #expect(SchemaType(registryName: nil) == .avro)
        #expect(SchemaType(registryName: "json") == .json)
        #expect(SchemaType(registryName: "Protobuf") == .protobuf)
        #expect(SchemaType(registryName: "XML") == nil)
    }
}
