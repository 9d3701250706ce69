// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Testing

/// Opaque page tokens, page-size parsing and slicing a listing into pages.
@Suite struct PageTokenTests {
    /// The error decoding `text` throws, or `nil` if it decodes.
    func decodeError(_ text: String) -> APIError? {
        do {
            _ = try PageToken(decoding: text)
            return nil
        } catch {
            return error
        }
    }

    /// A base64url token (no padding) of an arbitrary JSON text.
    func token(ofJSON json: String) -> String {
        Data(json.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    // MARK: Encoding

    @Test(arguments: [
        PageToken(after: 0, pageSize: 1),
        PageToken(after: 42, pageSize: 10),
        PageToken(after: Int64.max, pageSize: 100),
        PageToken(after: 7, pageSize: 25, filters: ["environment": ["env-abc123"]]),
        PageToken(
            after: 3, pageSize: 5,
            filters: ["spec.display_name": ["a/b+c=d", "é😀", ""], "crn_pattern": ["crn://confluent.cloud/organization=o"], "empty": []]),
    ])
    func encodeThenDecodeIsIdentity(token: PageToken) throws {
        let text = token.encoded
        #expect(try PageToken(decoding: text) == token)
    }

    @Test func encodedTokensAreURLSafe() {
        // Filters chosen so that the standard base64 form contains '+', '/' and padding.
        for length in 0..<12 {
            let token = PageToken(after: Int64(length), pageSize: 10, filters: ["f": [String(repeating: "?>~", count: length)]])
            let text = token.encoded
            #expect(!text.contains("+") && !text.contains("/") && !text.contains("="), "\(text)")
            #expect(text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
    }

    @Test func encodingIsDeterministic() {
        let filters = ["b": ["2"], "a": ["1"], "c": ["3"]]
        let first = PageToken(after: 9, pageSize: 10, filters: filters).encoded
        for _ in 0..<20 { #expect(PageToken(after: 9, pageSize: 10, filters: filters).encoded == first) }
    }

    @Test func decodingAcceptsPaddedAndStandardBase64() throws {
        let json = #"{"a":5,"s":10,"f":{}}"#
        #expect(try PageToken(decoding: Data(json.utf8).base64EncodedString()) == PageToken(after: 5, pageSize: 10))
        #expect(try PageToken(decoding: token(ofJSON: json)) == PageToken(after: 5, pageSize: 10))
    }

    // MARK: Invalid tokens

    @Test(arguments: [
        "", "garbage!", "%%%", "not a token", "AAAA", "e30",  // "{}"
        "====", String(repeating: "A", count: 2049),
    ])
    func garbageIsABadRequestNamingPageToken(text: String) throws {
        let error = try #require(decodeError(text))
        #expect(error.status == 400)
        #expect(error.source.parameter == "page_token")
        #expect(error.source.pointer == nil)
        #expect(error.code == "invalid_filter")
    }

    @Test(arguments: [
        #"[]"#,
        #"{"a":5,"s":10}"#,  // no filters
        #"{"s":10,"f":{}}"#,  // no cursor
        #"{"a":5,"f":{}}"#,  // no size
        #"{"a":"5","s":10,"f":{}}"#,
        #"{"a":5,"s":10.5,"f":{}}"#,
        #"{"a":5,"s":0,"f":{}}"#,
        #"{"a":5,"s":-1,"f":{}}"#,
        #"{"a":5,"s":101,"f":{}}"#,
        #"{"a":5,"s":10,"f":[]}"#,
        #"{"a":5,"s":10,"f":{"x":"y"}}"#,
        #"{"a":5,"s":10,"f":{"x":[1]}}"#,
        #"{"a":5,"s":10,"f":{}} trailing"#,
    ])
    func wellFormedBase64OfTheWrongJSONIsRejected(json: String) throws {
        let error = try #require(decodeError(token(ofJSON: json)), "\(json)")
        #expect(error.status == 400)
        #expect(error.source.parameter == "page_token")
    }

    @Test func tamperedTokenIsRejected() throws {
        var text = PageToken(after: 12, pageSize: 10, filters: ["a": ["b"]]).encoded
        text.removeFirst(2)
        #expect(decodeError(text)?.status == 400)
    }

    @Test func sizeBoundsAreInclusive() throws {
        #expect(try PageToken(decoding: token(ofJSON: #"{"a":0,"s":1,"f":{}}"#)).pageSize == 1)
        #expect(try PageToken(decoding: token(ofJSON: #"{"a":0,"s":100,"f":{}}"#)).pageSize == 100)
    }

    // MARK: Page size

    @Test func pageSizeParameter() throws {
        #expect(try Pagination.pageSize(nil) == 10)
        #expect(try Pagination.pageSize("1") == 1)
        #expect(try Pagination.pageSize("37") == 37)
        #expect(try Pagination.pageSize("100") == 100)
        #expect(try Pagination.pageSize("101") == 100)
        #expect(try Pagination.pageSize("1000000") == 100)
    }

    @Test(arguments: ["0", "-1", "abc", "", "1.5", " 5", "0x10"])
    func invalidPageSizeIsABadRequest(text: String) {
        let error = #expect(throws: APIError.self) { try Pagination.pageSize(text) }
        #expect(error?.status == 400)
        #expect(error?.source.parameter == "page_size")
    }

    // MARK: Slicing

    struct Item: Equatable {
        var sequence: Int64
    }

    func page(_ items: [Item], after: Int64?, size: Int, filters: [String: [String]] = [:]) -> Page<Item> {
        Page(slicing: items, sequence: \.sequence, after: after, pageSize: size, filters: filters)
    }

    @Test func walksAListingPageByPage() throws {
        let items = (1...25).map { Item(sequence: Int64($0)) }
        let filters = ["environment": ["env-a"]]

        let first = page(items, after: nil, size: 10, filters: filters)
        #expect(first.items.map(\.sequence) == Array(1...10))
        #expect(first.totalSize == 25)
        let next = try #require(first.next)
        #expect(next == PageToken(after: 10, pageSize: 10, filters: filters))

        let second = page(items, after: next.after, size: next.pageSize, filters: next.filters)
        #expect(second.items.map(\.sequence) == Array(11...20))
        #expect(second.totalSize == 25)
        #expect(second.next?.after == 20)

        let third = page(items, after: 20, size: 10, filters: filters)
        #expect(third.items.map(\.sequence) == Array(21...25))
        #expect(third.totalSize == 25)
        #expect(third.next == nil)
    }

    @Test func noNextTokenWhenTheLastPageIsExactlyFull() {
        let items = (1...20).map { Item(sequence: Int64($0)) }
        let second = page(items, after: 10, size: 10)
        #expect(second.items.count == 10)
        #expect(second.next == nil)
        let one = page(items, after: nil, size: 20)
        #expect(one.items.count == 20)
        #expect(one.next == nil)
        let short = page(items, after: nil, size: 19)
        #expect(short.next?.after == 19)
    }

    @Test func emptyListingAndCursorPastTheEnd() {
        let empty = page([], after: nil, size: 10)
        #expect(empty.items.isEmpty && empty.next == nil && empty.totalSize == 0)
        let items = (1...3).map { Item(sequence: Int64($0)) }
        let past = page(items, after: 99, size: 10)
        #expect(past.items.isEmpty && past.next == nil && past.totalSize == 3)
    }

    @Test func cursorOnADeletedItemContinuesAfterIt() {
        // Items 4–6 were deleted since the token was issued: keyset pagination neither repeats nor skips.
        let items = [1, 2, 3, 7, 8, 9, 10].map { Item(sequence: Int64($0)) }
        let page = page(items, after: 5, size: 2)
        #expect(page.items.map(\.sequence) == [7, 8])
        #expect(page.next?.after == 8)
        #expect(page.totalSize == 7)
    }

    @Test func nextTokenSurvivesEncoding() throws {
        let items = (1...5).map { Item(sequence: Int64($0 * 10)) }
        let first = page(items, after: nil, size: 2, filters: ["x": ["1", "2"]])
        let decoded = try PageToken(decoding: try #require(first.next).encoded)
        let second = page(items, after: decoded.after, size: decoded.pageSize, filters: decoded.filters)
        #expect(second.items.map(\.sequence) == [30, 40])
        #expect(second.next?.filters == ["x": ["1", "2"]])
    }
}
