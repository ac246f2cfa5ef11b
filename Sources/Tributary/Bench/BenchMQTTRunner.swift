import BrokerServer
import Foundation
import NIOCore
import NIOPosix

/// Runs one `tributary bench mqtt` scenario: opens the connections, starts and stops the
/// publishers, waits for in-flight messages and deliveries, prints progress, and returns the
/// summary. The per-message work happens in ``BenchMQTTConnectionHandler`` on the event loops.
struct BenchMQTTRunner {
    /// One open benchmark connection.
    struct Connection {
        var channel: any Channel
        var ready: EventLoopFuture<Void>
        var drained: EventLoopPromise<Void>
    }

    /// A failure that ends the run, with the message to show.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// How long to wait for CONNACK/SUBACK, and for acknowledgements and deliveries after the run.
    static let handshakeTimeout = TimeAmount.seconds(10)
    static let drainTimeout = TimeAmount.seconds(10)
    /// Connection attempts in flight at once when `--rate 0`.
    static let connectConcurrency = 128

    let settings: BenchMQTTSettings
    let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    let stats = BenchMQTTStats()
    let recorder = BenchLatencyRecorder(stopAt: nil, maxCalls: nil)
    let runIdentifier = "tb\(ProcessInfo.processInfo.processIdentifier)"

    func run() async throws -> BenchMQTTSummary {
        switch self.settings.scenario {
        case .conn: return try await self.runConnections()
        case .pub, .sub, .e2e: return try await self.runTraffic()
        }
    }

    // MARK: conn

    private func runConnections() async throws -> BenchMQTTSummary {
        let residentBefore = self.settings.brokerPID.flatMap(BenchProcessMemory.residentKiB)
        let started = NIODeadline.now()
        let progress = self.startProgress(started: started)
        var connections: [Connection] = []
        var pending: [EventLoopFuture<Void>] = []
        for index in 0..<self.settings.clients {
            if self.settings.rate > 0 {
                let due = started + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(self.settings.rate))
                try await Self.sleep(until: due)
            }
            let connection = try await self.open(index: index, role: .idle)
            if let connection {
                connections.append(connection)
                pending.append(connection.ready)
            }
            if self.settings.rate == 0 && pending.count >= Self.connectConcurrency {
                await Self.settle(pending)
                pending.removeAll()
            }
        }
        await Self.settle(pending)
        let connectSeconds = Self.seconds(since: started)
        try await Self.sleep(until: started + .seconds(Int64(self.settings.duration)))
        let held = self.stats.open
        let residentHeld = self.settings.brokerPID.flatMap(BenchProcessMemory.residentKiB)
        progress.cancel()
        let elapsed = Self.seconds(since: started)
        await self.disconnect(connections)
        var summary = BenchMQTTSummary(
            settings: self.settings, stats: self.stats, histogram: self.recorder.snapshot,
            seconds: elapsed, receiveSeconds: elapsed, connectSeconds: connectSeconds, held: held
        )
        if let residentBefore, let residentHeld {
            summary.brokerResidentKiB = (before: residentBefore, held: residentHeld)
        }
        return summary
    }

    // MARK: pub, sub, e2e

    private func runTraffic() async throws -> BenchMQTTSummary {
        var subscribers: [Connection] = []
        var publishers: [Connection] = []
        do {
            subscribers = try await self.openAll(count: self.settings.subscribers) { .subscriber(filter: self.settings.subscribeFilter($0)) }
            publishers = try await self.openAll(count: self.settings.publishers) { .publisher(topic: self.settings.publishTopic($0)) }
        } catch {
            await self.disconnect(subscribers + publishers)
            throw error
        }
        let started = NIODeadline.now()
        let stopAt = started + .seconds(Int64(self.settings.duration))
        let progress = self.startProgress(started: started)
        for publisher in publishers {
            publisher.channel.pipeline.fireUserInboundEventTriggered(BenchMQTTConnectionHandler.Command.publish(stopAt: stopAt))
        }
        // Until the end of the run, or until the broker closed every connection.
        while NIODeadline.now() < stopAt && self.stats.open > 0 {
            try await Self.sleep(until: min(stopAt, .now() + .milliseconds(100)))
        }
        // Publishers stop themselves at stopAt; give their in-flight messages time to complete.
        for publisher in publishers {
            let drained = publisher.drained
            let timeout = publisher.channel.eventLoop.scheduleTask(deadline: stopAt + Self.drainTimeout) {
                drained.fail(Failure(description: "timeout"))
            }
            do {
                try await drained.futureResult.get()
            } catch {
                self.stats.recordError("publisher still had unacknowledged messages \(Self.drainTimeout.nanoseconds / 1_000_000_000) s after the run")
            }
            timeout.cancel()
        }
        let sendSeconds = Self.seconds(since: started)
        if self.settings.scenario == .e2e {
            await self.awaitDeliveries()
        }
        let receiveSeconds = Self.seconds(since: started)
        progress.cancel()
        await self.disconnect(subscribers + publishers)
        return BenchMQTTSummary(
            settings: self.settings, stats: self.stats, histogram: self.recorder.snapshot,
            seconds: sendSeconds, receiveSeconds: receiveSeconds, connectSeconds: nil, held: nil
        )
    }

    /// Waits until every expected delivery arrived (QoS 1/2: counts an error for missing or, at
    /// QoS 2, duplicated ones) or, at QoS 0, until deliveries stop for half a second.
    private func awaitDeliveries() async {
        let expected = self.settings.expectedDeliveries(sent: self.stats.sent)
        let deadline = NIODeadline.now() + Self.drainTimeout
        var last = self.stats.received
        var lastChange = NIODeadline.now()
        while NIODeadline.now() < deadline && self.stats.received < expected {
            try? await Task.sleep(for: .milliseconds(20))
            let received = self.stats.received
            if received != last {
                last = received
                lastChange = .now()
            } else if self.settings.qos == .atMostOnce && NIODeadline.now() - lastChange > .milliseconds(500) {
                break
            }
        }
        let received = self.stats.received
        guard self.settings.qos != .atMostOnce else { return }
        if received < expected {
            self.stats.recordError("\(expected - received) of \(expected) QoS \(self.settings.qos.rawValue) messages were not delivered")
        } else if received > expected && self.settings.qos == .exactlyOnce {
            self.stats.recordError("\(received - expected) QoS 2 messages were delivered twice")
        }
    }

    // MARK: Connections

    private func openAll(count: Int, role: (Int) -> BenchMQTTConnectionHandler.Role) async throws -> [Connection] {
        var connections: [Connection] = []
        var firstError: (any Error)?
        for chunkStart in stride(from: 0, to: count, by: Self.connectConcurrency) {
            var chunk: [Connection] = []
            for index in chunkStart..<min(count, chunkStart + Self.connectConcurrency) {
                if let connection = try await self.open(index: index, role: role(index)) {
                    chunk.append(connection)
                }
            }
            for connection in chunk {
                do {
                    try await connection.ready.get()
                } catch {
                    firstError = firstError ?? error
                }
            }
            connections += chunk
            if firstError != nil || self.stats.connectFailures > 0 { break }
        }
        if self.stats.connectFailures > 0 || firstError != nil {
            await self.disconnect(connections)
            let message = self.stats.errorMessages.first ?? firstError.map { "\($0)" } ?? "connection failed"
            throw Failure(description: "\(self.stats.connectFailures) connection(s) to \(self.settings.host):\(self.settings.port) failed; first: \(message)")
        }
        return connections
    }

    /// Opens connection `index`; `nil` (and a counted failure) when TCP connect fails.
    private func open(index: Int, role: BenchMQTTConnectionHandler.Role) async throws -> Connection? {
        let loop = self.group.next()
        let ready = loop.makePromise(of: Void.self)
        let drained = loop.makePromise(of: Void.self)
        let tag: String
        switch role {
        case .idle: tag = "c"
        case .publisher: tag = "p"
        case .subscriber: tag = "s"
        }
        let plan = BenchMQTTConnectionHandler.Plan(
            index: index, clientIdentifier: "\(self.runIdentifier)\(tag)\(index)", version: self.settings.version,
            qos: self.settings.qos, role: role, payloadBytes: self.settings.payloadBytes, rate: self.settings.rate,
            window: self.settings.inFlight, stampPayload: self.settings.payloadBytes >= 8,
            latency: self.latency(for: role)
        )
        let decoderConfiguration = MQTTDecoder.Configuration(maximumPacketSize: max(1 << 20, self.settings.payloadBytes + (1 << 17)))
        let stats = self.stats
        let recorder = self.recorder
        do {
            var bootstrap = ClientBootstrap(group: loop)
            if !self.settings.sourceAddresses.isEmpty {
                let source = self.settings.sourceAddresses[index % self.settings.sourceAddresses.count]
                bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0))
            }
            let channel = try await bootstrap
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
                .connectTimeout(Self.handshakeTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let decoder = MQTTDecoder(role: .client, version: plan.version, configuration: decoderConfiguration)
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
                        try channel.pipeline.syncOperations.addHandler(
                            BenchMQTTConnectionHandler(plan: plan, stats: stats, recorder: recorder, ready: ready, drained: drained))
                    }
                }
                .connect(host: self.settings.host, port: self.settings.port)
                .get()
            loop.scheduleTask(in: Self.handshakeTimeout) {
                ready.fail(BenchMQTTError.handshakeTimeout)
            }
            ready.futureResult.whenFailure { error in
                if case BenchMQTTError.handshakeTimeout = error {
                    stats.connectFailed("connection \(index) (\(plan.clientIdentifier)): \(error)")
                    channel.close(promise: nil)
                }
            }
            return Connection(channel: channel, ready: ready.futureResult, drained: drained)
        } catch {
            ready.fail(error)
            drained.succeed()
            self.stats.connectFailed("connection \(index): cannot connect to \(self.settings.host):\(self.settings.port): \(error)")
            return nil
        }
    }

    /// conn records connect times, pub acknowledgement times, sub and e2e subscribers the
    /// end-to-end latency.
    private func latency(for role: BenchMQTTConnectionHandler.Role) -> BenchMQTTConnectionHandler.Latency {
        switch (self.settings.scenario, role) {
        case (.conn, _): return .connect
        case (.pub, .publisher): return .acknowledgement
        case (.sub, .subscriber), (.e2e, .subscriber): return .endToEnd
        default: return .none
        }
    }

    private func disconnect(_ connections: [Connection]) async {
        for connection in connections {
            connection.channel.pipeline.fireUserInboundEventTriggered(BenchMQTTConnectionHandler.Command.disconnect)
        }
        for connection in connections {
            try? await connection.channel.closeFuture.get()
        }
    }

    // MARK: Progress and time

    private func startProgress(started: NIODeadline) -> Task<Void, Never> {
        let stats = self.stats
        let quiet = self.settings.quiet
        let isConn = self.settings.scenario == .conn
        return Task {
            var second = 0
            var last = (sent: 0, received: 0, acked: 0, connected: 0)
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(1))
                } catch {
                    return
                }
                second += 1
                let now = (sent: stats.sent, received: stats.received, acked: stats.acked, connected: stats.connected)
                if !quiet {
                    if isConn {
                        print("[\(second)s] \(now.connected - last.connected) connects/s, \(stats.open) open, \(stats.connectFailures) failed, \(stats.errors) errors")
                    } else {
                        print("[\(second)s] sent \(now.sent - last.sent)/s, received \(now.received - last.received)/s, acked \(now.acked - last.acked)/s, \(stats.errors) errors")
                    }
                }
                last = now
            }
        }
    }

    private static func settle(_ futures: [EventLoopFuture<Void>]) async {
        for future in futures {
            try? await future.get()
        }
    }

    private static func sleep(until deadline: NIODeadline) async throws {
        let remaining = deadline - .now()
        if remaining > .zero {
            try await Task.sleep(for: .nanoseconds(remaining.nanoseconds))
        }
    }

    private static func seconds(since start: NIODeadline) -> Double {
        Double((NIODeadline.now() - start).nanoseconds) / 1e9
    }
}
