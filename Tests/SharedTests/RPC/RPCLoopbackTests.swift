import Foundation
import NIOCore
import NIOSSL
import ServiceLifecycle
import Testing
@testable import Shared

/// Socket-only behaviour: pipelining, reconnects, TLS.
@Suite("RPC over loopback sockets")
struct RPCLoopbackTests {
    @Test("1,000 concurrent calls pipelined on one connection are all answered correctly")
    func pipelining() async throws {
        try await RPCTestHarness.with(.loopback, connections: 1) { harness in
            let transport = harness.transport
            let results = try await withThrowingTaskGroup(of: (Int, NodePing).self) { group in
                for index in 0..<1_000 {
                    group.addTask {
                        var payload = ByteBuffer()
                        payload.writeString("call-\(index)")
                        return (index, try await transport.call(NodeAPI.ping, NodePing(payload: payload), options: .timeout(.seconds(30))))
                    }
                }
                var results: [Int: NodePing] = [:]
                for try await (index, response) in group {
                    results[index] = response
                }
                return results
            }
            #expect(results.count == 1_000)
            for (index, response) in results {
                #expect(String(buffer: response.payload) == "call-\(index)")
            }
            #expect(harness.server?.connectionCount == 1)
        }
    }

    @Test("a pool spreads calls over several connections")
    func pool() async throws {
        try await RPCTestHarness.with(.loopback, connections: 3) { harness in
            for value in 0..<30 as Range<UInt64> {
                #expect(try await harness.transport.call(TestAPI.double, TestNumber(value)) == TestNumber(value * 2))
            }
            let server = try #require(harness.server)
            #expect(server.connectionCount == 3)
        }
    }

    @Test("a server dying mid-call fails the call with unavailable; calls succeed again once it is back")
    func serverDiesAndReturns() async throws {
        let probe = TestProbe()
        let router = TestAPI.router(probe: probe)
        let first = RPCServer(configuration: .init(port: 0, shutdownGracePeriod: .zero), router: router, logger: testLogger)
        let port = try #require(try await first.start().port)
        let client = RPCClient(
            configuration: RPCClientConfiguration(
                endpoints: [RPCEndpoint(host: "127.0.0.1", port: port)],
                connectTimeout: .seconds(1),
                backoff: .init(initial: .milliseconds(10), maximum: .milliseconds(200))
            ),
            logger: testLogger
        )
        #expect(try await client.call(NodeAPI.ping, NodePing()) == NodePing())

        let inFlight = Task { try await client.call(TestAPI.never, RPCEmpty()) }
        try await waitUntil("handler to start") { probe.started == 1 }
        await first.shutdown()
        let error = await expectRPCError { try await inFlight.value }
        #expect(error?.code == .unavailable)

        // While nothing listens, calls fail fast with unavailable (and back off).
        let down = await expectRPCError { try await client.call(NodeAPI.ping, NodePing(), options: .timeout(.seconds(5))) }
        #expect(down?.code == .unavailable)

        let second = RPCServer(configuration: .init(port: port), router: router, logger: testLogger)
        try await second.start()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        var recovered = false
        while !recovered && clock.now < deadline {
            do {
                recovered = try await client.call(NodeAPI.ping, NodePing(), options: .timeout(.seconds(2))) == NodePing()
            } catch let error as RPCError where error.code == .unavailable {
                continue
            }
        }
        #expect(recovered)
        await client.shutdown()
        await second.shutdown()
    }

    @Test("graceful shutdown lets an in-flight call finish and refuses new connections")
    func gracefulShutdown() async throws {
        // A grace period long enough for the stream to finish on a heavily loaded 2-core machine:
        // the test is about the stream finishing, not about how fast.
        try await RPCTestHarness.with(.loopback, shutdownGracePeriod: .seconds(60)) { harness in
            let server = try #require(harness.server)
            let transport = harness.transport
            // A stream in flight keeps its connection open until it ends.
            let stream = transport.stream(TestAPI.count, TestNumber(50), options: RPCCallOptions(streamWindow: 5))
            var iterator = stream.makeAsyncIterator()
            #expect(try await iterator.next()?.value == 0)
            let shutdown = Task { await server.shutdown() }
            var count = 1
            while try await iterator.next() != nil { count += 1 }
            #expect(count == 50)
            await shutdown.value
            let error = await expectRPCError { try await transport.call(NodeAPI.ping, NodePing(), options: .timeout(.seconds(5))) }
            #expect(error?.code == .unavailable)
        }
    }

    @Test("TLS with a self-signed certificate generated at test time by openssl")
    func tls() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certPath = directory.appendingPathComponent("cert.pem").path
        let keyPath = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", keyPath, "-out", certPath,
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl is required for this test")

        let certificate = try #require(try NIOSSLCertificate.fromPEMFile(certPath).first)
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        let serverTLS = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: [.certificate(certificate)],
            privateKey: .privateKey(key)
        ))
        var clientConfiguration = TLSConfiguration.makeClientConfiguration()
        clientConfiguration.trustRoots = .certificates([certificate])
        let clientTLS = try NIOSSLContext(configuration: clientConfiguration)

        let server = RPCServer(configuration: .init(port: 0, tls: serverTLS), router: TestAPI.router(probe: TestProbe()), logger: testLogger)
        let port = try #require(try await server.start().port)
        let client = RPCClient(
            configuration: RPCClientConfiguration(
                endpoints: [RPCEndpoint(host: "127.0.0.1", port: port)],
                tls: clientTLS,
                tlsServerHostname: "localhost"
            ),
            logger: testLogger
        )
        var payload = ByteBuffer()
        payload.writeString("over TLS")
        #expect(try await client.call(NodeAPI.ping, NodePing(payload: payload), options: .timeout(.seconds(10))) == NodePing(payload: payload))
        var streamed: [UInt64] = []
        for try await item in client.stream(TestAPI.count, TestNumber(20), options: RPCCallOptions(streamWindow: 3)) {
            streamed.append(item.value)
        }
        #expect(streamed == Array(0..<20))

        // A plain-TCP client cannot talk to the TLS server.
        let plain = RPCClient(endpoints: [RPCEndpoint(host: "127.0.0.1", port: port)], logger: testLogger)
        let error = await expectRPCError { try await plain.call(NodeAPI.ping, NodePing(), options: .timeout(.seconds(5))) }
        #expect(error?.code == .unavailable)

        await plain.shutdown()
        await client.shutdown()
        await server.shutdown()
    }

    @Test("the server runs in a ServiceGroup and stops on graceful shutdown")
    func serviceGroup() async throws {
        let server = RPCServer(configuration: .init(port: 0), router: TestAPI.router(probe: TestProbe()), logger: testLogger)
        let group = ServiceGroup(services: [server], logger: testLogger)
        // High priority: CPU-bound tests running beside this one must not delay the service group.
        let running = Task(priority: .high) { try await group.run() }
        try await waitUntil("server to bind") { server.localAddress != nil }
        let port = try #require(server.localAddress?.port)
        let client = RPCClient(endpoints: [RPCEndpoint(host: "127.0.0.1", port: port)], logger: testLogger)
        #expect(try await client.call(TestAPI.double, TestNumber(4)) == TestNumber(8))
        await group.triggerGracefulShutdown()
        try await running.value
        let error = await expectRPCError { try await client.call(NodeAPI.ping, NodePing(), options: .timeout(.seconds(5))) }
        #expect(error?.code == .unavailable)
        await client.shutdown()
    }

    @Test("reconnect backoff grows exponentially up to the maximum, within the jitter")
    func backoff() {
        let backoff = RPCClientConfiguration.Backoff(initial: .milliseconds(100), maximum: .seconds(1), multiplier: 2, jitter: 0.2)
        let expected: [(failures: Int, base: Int64)] = [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (50, 1000)]
        for (failures, base) in expected {
            for _ in 0..<20 {
                let delay = backoff.delay(afterFailures: failures).nanoseconds
                #expect(delay >= base * 800_000 && delay <= base * 1_200_000, "failures \(failures): \(delay) ns")
            }
        }
    }

    @Test("endpoints parse host:port forms")
    func endpointParsing() {
        #expect(RPCEndpoint("127.0.0.1:7000") == RPCEndpoint(host: "127.0.0.1", port: 7000))
        #expect(RPCEndpoint("[::1]:9") == RPCEndpoint(host: "::1", port: 9))
        #expect(RPCEndpoint("nohost") == nil)
        #expect(RPCEndpoint(":80") == nil)
        #expect(RPCEndpoint("h:99999") == nil)
    }
}
