// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Testing

@testable import FloeSQL

/// `StringColumn`: the byte form reads, gathers and compares as the string form does.
@Suite struct StringColumnTests {
    static let texts = ["", "a", "0123456789abcdefXYZ", "ünï 🎉", "", "tail"]

    static func bytesForm(_ texts: [String]) -> StringColumn {
        var builder = StringColumnBuilder()
        for text in texts { builder.append(text) }
        return builder.column()
    }

    @Test func bothFormsReadTheSameStrings() {
        let bytes = Self.bytesForm(Self.texts)
        let strings = StringColumn(Self.texts)
        #expect(Array(bytes) == Self.texts)
        #expect(Array(strings) == Self.texts)
        #expect(bytes.description == strings.description)
        let order = [5, 0, 3, 3, 2]
        #expect(Array(bytes.gathered(order)) == order.map { Self.texts[$0] })
        #expect(Array(strings.gathered(order)) == order.map { Self.texts[$0] })
        #expect(Array(bytes.gathered([])) == [])
    }

    @Test func equalityIsByBytesInEveryPairing() {
        let bytes = Self.bytesForm(Self.texts)
        let strings = StringColumn(Self.texts)
        for i in Self.texts.indices {
            for j in Self.texts.indices {
                let expected = Array(Self.texts[i].utf8) == Array(Self.texts[j].utf8)
                #expect(bytes.elementsEqual(at: i, bytes, at: j) == expected)
                #expect(bytes.elementsEqual(at: i, strings, at: j) == expected)
                #expect(strings.elementsEqual(at: i, bytes, at: j) == expected)
            }
        }
        // Canonically equivalent spellings are different strings to Flink.
        let composed = StringColumn(["\u{E9}"])
        let decomposed = Self.bytesForm(["e\u{301}"])
        #expect(!composed.elementsEqual(at: 0, decomposed, at: 0))
    }

    @Test func builderUndoesTrailingStrings() {
        var builder = StringColumnBuilder()
        for text in Self.texts { builder.append(text) }
        builder.removeLast(3)
        builder.append("new")
        #expect(Array(builder.column()) == Array(Self.texts.prefix(3)) + ["new"])
        builder.removeLast(4)
        #expect(Array(builder.column()) == [])
    }
}
