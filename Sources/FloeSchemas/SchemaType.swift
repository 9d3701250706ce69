// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The kinds of schema the Schema Registry stores, spelled as its `schemaType` field spells them (an absent
/// `schemaType` means AVRO).
public enum SchemaType: String, Sendable, Hashable, CaseIterable {
    case avro = "AVRO"
    case json = "JSON"
    case protobuf = "PROTOBUF"

    /// Reads a `schemaType` as clients send it: absent means AVRO, case is not significant.
    public init?(registryName: String?) {
        guard let registryName else {
            self = .avro
            return
        }
        self.init(rawValue: registryName.uppercased())
    }
}
