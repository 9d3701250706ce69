// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The console's Mustache templates, compiled once. `{{value}}` escapes HTML; no template uses the unescaped form
/// for anything a user or the API supplied.
struct ConsoleRenderer: Sendable {
    private let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            do {
                try library.register(text, named: name)
            } catch {
                preconditionFailure("console template \(name) does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// Renders a template with a context of dictionaries, arrays, strings, numbers and booleans.
    func render(_ template: String, _ context: [String: Any]) -> String {
        guard let text = library.render(context, withTemplate: template) else {
            preconditionFailure("no console template named \(template)")
        }
        return text
    }
}

/// Response builders for console pages.
enum ConsolePages {
    /// An HTML page.
    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        let bytes = ByteBuffer(string: text)
        fields[.contentLength] = String(bytes.readableBytes)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: bytes))
    }

    /// A 303 to `location` (a path on this server), after a form post or for a page that moved.
    static func redirect(to location: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.location] = location
        fields[.contentLength] = "0"
        return Response(status: .seeOther, headers: fields)
    }

    /// A static asset compiled into the binary.
    static func asset(_ text: String, contentType: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.cacheControl] = "no-cache"
        let bytes = ByteBuffer(string: text)
        fields[.contentLength] = String(bytes.readableBytes)
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: bytes))
    }
}
