import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import BrokerServer

@Suite("MQTT TLS listener support", .serialized)
struct MQTTTLSConfigurationTests {
    @Test("a valid certificate and key build a server context")
    func validMaterial() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (certificate, key) = try certificates.selfSigned()
        _ = try MQTTTLSListenerSupport.makeServerContext(MQTTTLSConfiguration(certificateFile: certificate, privateKeyFile: key))
    }

    @Test("a key that belongs to another certificate is refused")
    func wrongKey() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (certificate, _) = try certificates.selfSigned(name: "one")
        let (_, otherKey) = try certificates.selfSigned(name: "two")
        #expect(throws: MQTTTLSError.keyDoesNotMatchCertificate(certificateFile: certificate, privateKeyFile: otherKey)) {
            try MQTTTLSListenerSupport.makeServerContext(MQTTTLSConfiguration(certificateFile: certificate, privateKeyFile: otherKey))
        }
    }

    @Test("an expired certificate is refused; a certificate checked before its validity is refused")
    func validityPeriod() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (expired, expiredKey) = try certificates.expired()
        let configuration = MQTTTLSConfiguration(certificateFile: expired, privateKeyFile: expiredKey)
        let error = #expect(throws: MQTTTLSError.self) { try MQTTTLSListenerSupport.makeServerContext(configuration) }
        // 2020-01-02T00:00:00Z
        #expect(error == .certificateExpired(file: expired, notAfter: 1_577_923_200))
        // The same certificate is accepted inside its validity period, and refused before it.
        _ = try configuration.makeServerContext(now: 1_577_880_000)
        #expect(throws: MQTTTLSError.certificateNotYetValid(file: expired, notBefore: 1_577_836_800)) {
            try configuration.makeServerContext(now: 1_500_000_000)
        }
    }

    @Test("missing or unreadable files, and client verification without a CA, are refused")
    func unusableMaterial() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (certificate, key) = try certificates.selfSigned()
        let missing = certificates.path("missing.pem")
        let error = #expect(throws: MQTTTLSError.self) {
            try MQTTTLSListenerSupport.makeServerContext(MQTTTLSConfiguration(certificateFile: missing, privateKeyFile: key))
        }
        guard case .unreadableCertificate(let file, _) = error else {
            Issue.record("expected an unreadable certificate, got \(String(describing: error))")
            return
        }
        #expect(file == missing)
        let keyAsCertificate = #expect(throws: MQTTTLSError.self) {
            try MQTTTLSListenerSupport.makeServerContext(MQTTTLSConfiguration(certificateFile: key, privateKeyFile: key))
        }
        guard case .unreadableCertificate = keyAsCertificate else {
            Issue.record("expected an unreadable certificate, got \(String(describing: keyAsCertificate))")
            return
        }
        let certificateAsKey = #expect(throws: MQTTTLSError.self) {
            try MQTTTLSListenerSupport.makeServerContext(MQTTTLSConfiguration(certificateFile: certificate, privateKeyFile: certificate))
        }
        guard case .unreadablePrivateKey = certificateAsKey else {
            Issue.record("expected an unreadable key, got \(String(describing: certificateAsKey))")
            return
        }
        #expect(throws: MQTTTLSError.clientCAMissing(.required)) {
            try MQTTTLSListenerSupport.makeServerContext(
                MQTTTLSConfiguration(certificateFile: certificate, privateKeyFile: key, clientVerification: .required)
            )
        }
    }

    @Test("the helper puts the TLS handler first: a TLS client completes a handshake with a raw echo server")
    func handlerFirstInPipeline() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (certificate, key) = try certificates.selfSigned()
        let context = try MQTTTLSListenerSupport.makeServerContext(MQTTTLSConfiguration(certificateFile: certificate, privateKeyFile: key))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteEcho())
                    try MQTTTLSListenerSupport.addServerHandler(context: context, to: channel.pipeline.syncOperations)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)

        var clientConfiguration = TLSConfiguration.makeClientConfiguration()
        clientConfiguration.trustRoots = .file(certificate)
        let clientContext = try NIOSSLContext(configuration: clientConfiguration)
        let received = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: ByteBuffer.self)
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: clientContext, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(FirstRead(promise: received))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        try await client.writeAndFlush(ByteBuffer(string: "over tls"))
        #expect(String(buffer: try await received.futureResult.get()) == "over tls")
        try await client.close()

        // A client that does not trust the certificate is refused by the handshake.
        let untrusting = try NIOSSLContext(configuration: .makeClientConfiguration())
        let refused = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: ByteBuffer.self)
        let other = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: untrusting, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(FirstRead(promise: refused))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        other.writeAndFlush(ByteBuffer(string: "refused"), promise: nil)
        await #expect(throws: (any Error).self) { _ = try await refused.futureResult.get() }
        try? await other.close()
    }
}

/// Echoes every byte.
private final class ByteEcho: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// Completes a promise with the first bytes read, or fails it with the first error or close.
private final class FirstRead: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<ByteBuffer>

    init(promise: EventLoopPromise<ByteBuffer>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(Self.unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
