// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import FloeServer

/// The console's files (`Sources/FloeServer/Console/Assets`) as compiled in, served, and filled in by the code.
@Suite struct ConsoleAssetTests {
    /// `Sources/FloeServer/Console/Assets` of this checkout.
    static let assets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/FloeServer/Console/Assets")

    static func file(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: assets.appendingPathComponent(path)))
    }

    @Test func everyPlaceholderHasADeclaredNameAndEveryDeclaredNameAPlaceholder() throws {
        let layout = ConsoleTemplate.layout
        for template in ConsoleTemplate.allCases {
            // A page is the layout filled in: its context feeds both.
            let declared = template.contextNames.union(layout.contextNames)
            var check = TemplateNameCheck(declared: declared)
            try check.scan(layout.text)
            if template != .layout { try check.scan(template.text) }
            #expect(check.unresolved.isEmpty, "\(template.rawValue).mustache has placeholders its code does not declare: \(check.unresolved)")
            let unused = (template == .layout ? layout.contextNames : template.contextNames).subtracting(check.used)
            #expect(unused.isEmpty, "\(template.rawValue) declares names its template does not show: \(unused.sorted())")
        }
    }

    @Test func aPlaceholderRenamedOnOneSideIsCaught() throws {
        // In the file: the placeholder has no declared name, and the declared name no placeholder.
        var check = TemplateNameCheck(declared: ["pools", "pools.name", "pools.id", "any"])
        try check.scan("{{#pools}}{{nmae}} {{id}}{{/pools}}{{^any}}none{{/any}}")
        #expect(check.unresolved == ["pools.nmae"])
        #expect(check.used == ["pools", "pools.id", "any"])
        // In the code: a name the template does not declare (debug builds assert on it at render).
        let context: [String: Any] = ["pools": [["nmae": "p", "id": "lfcp-1"]], "any": true, "environment": ["id": "env-1", "name": "e"]]
        #expect(ConsoleTemplate.computePools.undeclaredNames(in: context) == ["pools.nmae"])
        #expect(
            ConsoleTemplate.names(in: context) == ["pools", "pools.nmae", "pools.id", "any", "environment", "environment.id", "environment.name"])
    }

    @Test func everyTemplateFileIsCompiledInAsItIs() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.assets.appendingPathComponent("templates").path)
        #expect(Set(files) == Set(ConsoleTemplate.allCases.map { "\($0.rawValue).mustache" }))
        for template in ConsoleTemplate.allCases {
            #expect(template.source == (try Self.file("templates/\(template.rawValue).mustache")), "\(template.rawValue)")
        }
    }

    @Test func theServedScriptAndStyleSheetAreTheFiles() async throws {
        let fixture = try await RouterFixture.make()
        let script = try Self.file("console.js")
        let style = try Self.file("console.css")
        try await fixture.application.test(.router) { client in
            for (path, bytes, type) in [("console.js", script, "text/javascript"), ("console.css", style, "text/css")] {
                let response = try await client.executeRequest(uri: "/console/assets/\(path)", method: .get, headers: [:], body: nil)
                #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix(type) == true)
                #expect(Array(response.body.readableBytesView) == bytes, "\(path)")
                #expect(response.headers[.contentSecurityPolicy] == ConsoleMiddleware.contentSecurityPolicyValue)
            }
        }
    }

    @Test func theContentSecurityPolicyAllowsNoInlineCodeAndNothingFromElsewhere() {
        #expect(
            ConsoleMiddleware.contentSecurityPolicyValue
                == "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                + "frame-ancestors 'none'; base-uri 'none'")
    }
}

/// A Mustache template's placeholders checked against the context names its code declares
/// (``ConsoleTemplate/contextNames``), looked up as Mustache looks them up.
///
/// A placeholder `p` inside the data sections `S1 … Sk` answers to the first declared of `Sk.p`, …, `S1.p`, `p`
/// (Mustache's context stack, innermost first). A section pushes its name only when that name has declared children
/// (`pools` of `pools.id`): a boolean section (`{{#can_manage}}`) or an inverted one pushes nothing.
struct TemplateNameCheck {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    let declared: Set<String>
    /// Placeholders no declared name answers, spelled in their innermost data section (`pools.nmae`).
    private(set) var unresolved: [String] = []
    /// The declared names some placeholder answered to.
    private(set) var used: Set<String> = []

    init(declared: Set<String>) {
        self.declared = declared
    }

    mutating func scan(_ text: String) throws {
        // The open sections: the data path each pushed, or nil.
        var sections: [(tag: String, data: String?)] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            let triple = rest[open.upperBound...].hasPrefix("{")
            let closer = triple ? "}}}" : "}}"
            let start = triple ? rest.index(after: open.upperBound) : open.upperBound
            guard let close = rest[start...].range(of: closer) else { throw Malformed(description: "an unclosed tag") }
            let tag = rest[start..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            guard let sigil = tag.first else { throw Malformed(description: "an empty tag") }
            let name = "#^/<$&!>=".contains(sigil) ? tag.dropFirst().trimmingCharacters(in: .whitespaces) : tag
            switch sigil {
            case "!", ">": continue
            case "=": throw Malformed(description: "a delimiter change (the check reads {{ }} only)")
            case "/":
                guard let last = sections.popLast(), last.tag == name else { throw Malformed(description: "{{/\(name)}} closes nothing open") }
            case "<", "$":
                sections.append((name, nil))
            case "#", "^":
                let resolved = resolve(name, in: sections)
                let isData = sigil == "#" && resolved.map { path in declared.contains { $0.hasPrefix(path + ".") } } == true
                sections.append((name, isData ? resolved : nil))
            default:
                if name != "." { _ = resolve(name, in: sections) }
            }
        }
        if let open = sections.last { throw Malformed(description: "{{#\(open.tag)}} is not closed") }
    }

    /// The declared name `name` answers to in `sections` (recorded as used), or nil (recorded as unresolved).
    private mutating func resolve(_ name: String, in sections: [(tag: String, data: String?)]) -> String? {
        let scopes = sections.compactMap(\.data)
        for scope in scopes.reversed() + [""] {
            let candidate = scope.isEmpty ? name : scope + "." + name
            if declared.contains(candidate) {
                used.insert(candidate)
                return candidate
            }
        }
        unresolved.append(scopes.last.map { $0 + "." + name } ?? name)
        return nil
    }
}
