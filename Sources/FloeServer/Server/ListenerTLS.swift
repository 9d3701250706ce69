// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// Where a listener's TLS material is: a PEM certificate chain (leaf first) and its PEM private key.
public struct TLSFiles: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// Why TLS material could not be used: the message names the file.
public struct TLSMaterialError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// A listener's TLS server context, read from its files at start and again on every reload (SIGHUP).
///
/// Each new connection takes the context current when it is accepted, so a reload changes what new clients see
/// without touching open connections; a reload that fails leaves the current context in place.
final class ReloadableTLSContext: Sendable {
    let files: TLSFiles
    private let context: Mutex<NIOSSLContext>

    /// Reads the material.
    /// - Throws: ``TLSMaterialError`` naming the file that is missing, unreadable or not valid PEM, or saying that the
    ///   key does not belong to the certificate.
    init(files: TLSFiles) throws(TLSMaterialError) {
        self.files = files
        self.context = Mutex(try Self.load(files))
    }

    /// The context new connections use.
    var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads the files again and, if they make a valid context, uses it for new connections.
    /// - Throws: ``TLSMaterialError``; the current context then stays.
    func reload() throws(TLSMaterialError) {
        let fresh = try Self.load(files)
        context.withLock { $0 = fresh }
    }

    /// A server context for `files`: TLS 1.2 and later, HTTP/1.1 offered by ALPN.
    static func load(_ files: TLSFiles) throws(TLSMaterialError) -> NIOSSLContext {
        func readable(_ path: String, _ what: String) throws(TLSMaterialError) {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw TLSMaterialError(description: "The TLS \(what) file '\(path)' does not exist or cannot be read.")
            }
        }
        try readable(files.certificatePath, "certificate")
        try readable(files.keyPath, "key")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
        } catch {
            throw TLSMaterialError(description: "The TLS certificate file '\(files.certificatePath)' holds no valid PEM certificate (\(error)).")
        }
        guard !chain.isEmpty else {
            throw TLSMaterialError(description: "The TLS certificate file '\(files.certificatePath)' holds no PEM certificate.")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.keyPath, format: .pem)
        } catch {
            throw TLSMaterialError(description: "The TLS key file '\(files.keyPath)' holds no valid PEM private key (\(error)).")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSMaterialError(
                description:
                    "The TLS key in '\(files.keyPath)' and the certificate in '\(files.certificatePath)' cannot be used together (\(error)).")
        }
    }
}

/// A child channel that starts with a TLS handshake (on the listener's current context), then speaks `Base`.
///
/// Hummingbird's own `TLSChannel` keeps one context for the server's life; this one reads it per connection so that
/// SIGHUP can swap certificates.
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let tls: ReloadableTLSContext

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = tls.current
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}
