// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

/// Where a listing continues: after the resource with creation sequence `after`.
///
/// Tokens are opaque to clients (base64url of a small JSON object). Listings are keyset-paginated on the creation
/// sequence, so a page never repeats or skips an item because something was created or deleted meanwhile.
/// The token also carries the filters and page size of the listing it continues, so a client that follows
/// `metadata.next` with only `page_token` (or that re-sends its own parameters) gets the same listing.
public struct PageToken: Sendable, Equatable {
    /// The sequence number of the last item already returned.
    public var after: Int64
    /// The page size of the listing.
    public var pageSize: Int
    /// The filter parameters of the listing (name → values).
    public var filters: [String: [String]]

    public init(after: Int64, pageSize: Int, filters: [String: [String]] = [:]) {
        self.after = after
        self.pageSize = pageSize
        self.filters = filters
    }

    /// The opaque text form.
    public var encoded: String {
        let filterMembers = filters.keys.sorted().map { key in (key, JSONValue.array(filters[key]!.map(JSONValue.string))) }
        let document: JSONValue = .object([("a", .int(after)), ("s", .int(Int64(pageSize))), ("f", .object(filterMembers))])
        return Data(document.serialized()).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a token made by ``encoded``.
    /// - Throws: ``APIError`` 400 naming `page_token` for anything else.
    public init(decoding text: String) throws(APIError) {
        let invalid = APIError.invalidParameter("page_token", "The page_token is not valid.")
        guard text.count <= 2048 else { throw invalid }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let document = try? JSONValue.parse(data),
            case .int(let after)? = document["a"], case .int(let size)? = document["s"], case .object(let members)? = document["f"]
        else { throw invalid }
        var filters: [String: [String]] = [:]
        for (key, value) in members {
            guard case .array(let items) = value else { throw invalid }
            filters[key] = try items.map { item throws(APIError) in
                guard case .string(let text) = item else { throw invalid }
                return text
            }
        }
        guard size >= 1, size <= Int64(Pagination.maximumPageSize) else { throw invalid }
        self.init(after: after, pageSize: Int(size), filters: filters)
    }
}

/// The page-size rules all listings share.
public enum Pagination {
    /// The page size when a request names none.
    public static let defaultPageSize = 10
    /// The largest page served; larger requests are served this many.
    public static let maximumPageSize = 100

    /// Parses a `page_size` parameter: absent → the default; above the maximum → the maximum.
    /// - Throws: ``APIError`` 400 for a non-integer or a value below 1.
    public static func pageSize(_ text: String?) throws(APIError) -> Int {
        guard let text else { return defaultPageSize }
        guard let value = Int(text), value >= 1 else {
            throw APIError.invalidParameter("page_size", "page_size must be an integer between 1 and \(maximumPageSize).")
        }
        return min(value, maximumPageSize)
    }
}

/// One page of a listing.
public struct Page<Item> {
    /// The items, in creation order.
    public var items: [Item]
    /// The token for the next page, or `nil` on the last page.
    public var next: PageToken?
    /// How many items match the listing in all.
    public var totalSize: Int

    /// Cuts the page that follows `after` out of `items` (already filtered and sorted by `sequence`).
    public init(slicing items: [Item], sequence: (Item) -> Int64, after: Int64?, pageSize: Int, filters: [String: [String]]) {
        let remaining = after.map { cursor in items.filter { sequence($0) > cursor } } ?? items
        let page = Array(remaining.prefix(pageSize))
        self.items = page
        self.totalSize = items.count
        if remaining.count > page.count, let last = page.last {
            self.next = PageToken(after: sequence(last), pageSize: pageSize, filters: filters)
        } else {
            self.next = nil
        }
    }
}
