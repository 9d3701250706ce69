// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import Foundation
import Hummingbird
import Synchronization

/// The base URLs the server is reached at, as `fcpm/v2` regions report them and links are built on.
///
/// A listener on port 0 learns its port only when it is bound, which is after its router was built: its URL is set
/// then (``bound(_:url:)``), before it accepts any request.
public final class ServerEndpoints: Sendable {
    private let urls: Mutex<(public: String, private: String?)>

    public init(publicURL: String, privateURL: String? = nil) {
        urls = Mutex((publicURL, privateURL))
    }

    /// The public listener's (`http_endpoint`).
    public var publicURL: String { urls.withLock { $0.public } }
    /// The private listener's (`private_http_endpoint`); nil without one.
    public var privateURL: String? { urls.withLock { $0.private } }

    /// Records the URL of a listener once it is bound.
    func bound(_ kind: NetworkKind, url: String) {
        urls.withLock { urls in
            switch kind {
            case .public: urls.public = url
            case .private: urls.private = url
            }
        }
    }
}

/// Builds absolute URLs on the base URL of the listener that answers (public or private), so that a client follows
/// links through the endpoint it came in by.
struct ResourceLinks: Sendable {
    /// Both endpoints of the server.
    let endpoints: ServerEndpoints
    /// The listener the links are for.
    let networkKind: NetworkKind

    init(endpoints: ServerEndpoints, networkKind: NetworkKind = .public) {
        self.endpoints = endpoints
        self.networkKind = networkKind
    }

    /// Links on a single base URL (a router without a server: tests).
    init(baseURL: String) {
        self.init(endpoints: ServerEndpoints(publicURL: baseURL))
    }

    /// `http://host:port` or the configured public (or private) URL of the answering listener, without a trailing slash.
    var baseURL: String {
        switch networkKind {
        case .public: endpoints.publicURL
        case .private: endpoints.privateURL ?? endpoints.publicURL
        }
    }

    /// `baseURL` + `path` (which starts with `/`) + an encoded query.
    func url(_ path: String, query: [(String, String)] = []) -> String {
        guard !query.isEmpty else { return baseURL + path }
        return baseURL + path + "?" + query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    static let queryAllowed: CharacterSet = {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return allowed
    }()

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? text
    }
}

/// Reads the query parameters of a listing: filters, page size and page token (whose stored filters apply unless the
/// request repeats them).
struct ListingQuery {
    let pageSize: Int
    let after: Int64?
    private let filters: [String: [String]]

    /// Parses `page_size`, `page_token` and the named filter parameters of `request`.
    init(_ request: Request, filterNames: [String]) throws(APIError) {
        let parameters = request.uri.queryParameters
        var token: PageToken?
        if let text = parameters.get("page_token"), !text.isEmpty { token = try PageToken(decoding: text) }
        var filters: [String: [String]] = [:]
        for name in filterNames {
            let values = parameters.getAll(name).map { String($0) }.filter { !$0.isEmpty }
            if !values.isEmpty {
                filters[name] = values
            } else if let stored = token?.filters[name] {
                filters[name] = stored
            }
        }
        self.filters = filters
        if parameters.get("page_size") != nil {
            self.pageSize = try Pagination.pageSize(parameters.get("page_size"))
        } else {
            self.pageSize = token?.pageSize ?? Pagination.defaultPageSize
        }
        self.after = token?.after
    }

    /// The first value of a filter.
    func filter(_ name: String) -> String? { filters[name]?.first }

    /// All values of a repeatable filter.
    func filterValues(_ name: String) -> [String] { filters[name] ?? [] }

    /// Cuts a page out of `items` (filtered, in creation order).
    func page<R: Sequenced>(_ items: [R]) -> Page<R> {
        Page(slicing: items, sequence: \.sequence, after: after, pageSize: pageSize, filters: filters)
    }

    /// How a listing's `next` link is spelled. The token carries the filters and page size either way.
    enum NextLinkStyle {
        /// `…?page_token=T`: what cc-clients expects for environments and API keys (it cuts the token after
        /// `?page_token=`), and the form of Confluent's own examples.
        case tokenOnly
        /// `…?filters&page_size=N&page_token=T`: what cc-clients expects for compute pools (it cuts after
        /// `&page_token=`).
        case tokenLast
    }

    /// The list document: `{api_version, kind, metadata{first, next, total_size}, data}`; `next` is empty on the last
    /// page.
    func document<R: Sequenced>(
        apiVersion: String, kind: String, path: String, links: ResourceLinks, page: Page<R>, next style: NextLinkStyle = .tokenOnly,
        render: (R) -> JSONValue
    ) -> JSONValue {
        var query: [(String, String)] = []
        for name in filters.keys.sorted() { for value in filters[name]! { query.append((name, value)) } }
        query.append(("page_size", String(pageSize)))
        var next = ""
        if let token = page.next {
            switch style {
            case .tokenOnly: next = links.url(path, query: [("page_token", token.encoded)])
            case .tokenLast: next = links.url(path, query: query + [("page_token", token.encoded)])
            }
        }
        return [
            "api_version": .string(apiVersion),
            "kind": .string(kind),
            "metadata": ["first": .string(links.url(path, query: query)), "next": .string(next), "total_size": .int(Int64(page.totalSize))],
            "data": .array(page.items.map(render)),
        ]
    }
}
