// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The console's Mustache templates (``ConsoleTemplate``), compiled once. `{{value}}` escapes HTML; no template uses
/// the unescaped form for anything a user or the API supplied.
struct ConsoleRenderer: Sendable {
    private let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        for template in ConsoleTemplate.allCases {
            do {
                try library.register(template.text, named: template.rawValue)
            } catch {
                preconditionFailure("console template \(template.rawValue) does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// Renders a template with a context of dictionaries, arrays, strings, numbers and booleans.
    func render(_ template: ConsoleTemplate, _ context: [String: Any]) -> String {
        // A name the template does not declare is one it never shows (a placeholder renamed in the file only).
        assert(
            template.undeclaredNames(in: context).isEmpty,
            "console template \(template.rawValue) does not declare \(template.undeclaredNames(in: context).sorted())")
        guard let text = library.render(context, withTemplate: template.rawValue) else {
            preconditionFailure("console template \(template.rawValue) is not registered")
        }
        return text
    }
}

/// Response builders for console pages.
enum ConsolePages {
    /// An HTML page.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "text/html; charset=utf-8"
        let bytes = ByteBuffer(string: text)
        fields[.contentLength] = String(bytes.readableBytes)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: bytes))
    }

    /// A 303 to `location` (a path on this server), after a form post or for a page that moved.
    static func redirect(to location: String) -> Response {
        var fields = HTTPFields()
        fields[.location] = location
        fields[.contentLength] = "0"
        return Response(status: .seeOther, headers: fields)
    }

    /// A static asset compiled into the binary (``ConsoleAssets``).
    static func asset(_ bytes: ByteBuffer, contentType: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.cacheControl] = "no-cache"
        fields[.contentLength] = String(bytes.readableBytes)
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: bytes))
    }
}
