import NIOCore

/// The MQTT protocol brain of one client connection: an IO-free value state machine.
///
/// The driver feeds ``MQTTSessionEvent``s with the current monotonic time in nanoseconds and
/// performs the returned ``MQTTSessionAction``s in order. Before feeding the CONNECT, the driver
/// looks up the client's stored ``MQTTSessionState`` and passes it to ``init(configuration:connectionNumber:storedState:)``;
/// the session resumes it unless the client asks for a clean start.
///
/// Outbound QoS 1/2 messages use an in-flight window bounded by the client's Receive Maximum;
/// messages behind it wait in a queue of at most ``MQTTSessionConfiguration/maximumQueuedMessages``
/// (on overflow the oldest QoS 0 message is dropped, otherwise the oldest message; see
/// ``statistics``).
public struct MQTTSession: Sendable {
    /// Where the connection is.
    public enum Phase: Hashable, Sendable {
        /// Waiting for CONNECT.
        case awaitingConnect
        /// CONNACK sent with Success.
        case connected
        /// The connection is (being) closed; every further event is ignored.
        case closed
    }

    /// Counters of outbound messages the session dropped.
    public struct Statistics: Hashable, Sendable {
        /// Dropped because the queue behind the in-flight window was full.
        public var droppedQueueFull = 0
        /// Dropped because they exceed the client's Maximum Packet Size.
        public var droppedTooLarge = 0
        /// Dropped because their message expiry interval passed while queued.
        public var droppedExpired = 0
        /// Not delivered because of No Local.
        public var droppedNoLocal = 0
    }

    /// A message waiting behind the in-flight window.
    struct Queued: Hashable, Sendable {
        var topic: String
        var payload: ByteBuffer
        var qos: MQTTQoS
        var retain: Bool
        var properties: MQTTProperties
        var receivedAt: UInt64
        var journalPosition: MQTTJournalPosition? = nil
    }

    /// The server's limits.
    public let configuration: MQTTSessionConfiguration
    /// Where the connection is.
    public internal(set) var phase: Phase = .awaitingConnect
    /// The protocol version of the connection (the one CONNECT announced); the driver encodes
    /// with it.
    public internal(set) var version: MQTTProtocolVersion = .v5
    /// The session's persistent part.
    public internal(set) var state: MQTTSessionState
    /// Drop counters.
    public internal(set) var statistics = Statistics()

    let connectionNumber: UInt64
    var storedState: MQTTSessionState?
    /// Effective keep alive in seconds (0: none).
    public internal(set) var keepAlive: UInt16 = 0
    var lastPacketAt: UInt64 = 0
    var will: MQTTWill?
    var connectSessionExpiryWasZero = true
    var clientReceiveMaximum = Int(UInt16.max)
    var clientMaximumPacketSize: Int?
    var clientTopicAliasMaximum: UInt16 = 0
    var outboundAliases: [String: UInt16] = [:]
    var inboundAliases: [UInt16: String] = [:]
    /// Inbound QoS 1/2 publications handed to the broker and not yet persisted.
    var inboundAwaitingPersist: [UInt16: MQTTQoS] = [:]
    var queue: [Queued] = []
    /// The enhanced authentication method CONNECT used (5.0), if any: AUTH is allowed only then.
    var authenticationMethod: String?
    /// Whether a re-authentication exchange is in progress.
    var reauthenticating = false

    /// A session for a new connection.
    ///
    /// - Parameters:
    ///   - connectionNumber: unique per connection on this broker; used to build the identifier
    ///     assigned to clients that connect without one.
    ///   - storedState: the client's stored session, if the broker has one.
    public init(configuration: MQTTSessionConfiguration = MQTTSessionConfiguration(), connectionNumber: UInt64, storedState: MQTTSessionState? = nil) {
        self.configuration = configuration
        self.connectionNumber = connectionNumber
        self.storedState = storedState
        self.state = MQTTSessionState(clientIdentifier: "")
    }

    /// The number of outbound QoS 1/2 messages waiting for acknowledgement.
    public var inFlightCount: Int { state.inFlight.count }
    /// The number of outbound messages waiting behind the in-flight window.
    public var queuedCount: Int { queue.count }
    /// The journal positions of the queued messages that came from the journal, in queue order:
    /// a driver that persists the session replays them from the journal on resume.
    public var queuedJournalPositions: [MQTTJournalPosition] { queue.compactMap(\.journalPosition) }
    /// The client identifier (assigned or given); empty before CONNECT.
    public var clientIdentifier: String { state.clientIdentifier }

    /// Handles one event at `now` (monotonic nanoseconds from the driver) and returns the
    /// actions to perform, in order. Consecutive packets are batched into one ``MQTTSessionAction/send(_:)``.
    public mutating func handle(_ event: MQTTSessionEvent, now: UInt64) -> [MQTTSessionAction] {
        var out = MQTTSessionActions()
        guard phase != .closed else { return [] }
        switch event {
        case .packetReceived(let packet):
            lastPacketAt = now
            if phase == .awaitingConnect {
                guard case .connect(let connect) = packet else {
                    out.append(.close(nil))
                    phase = .closed
                    break
                }
                handleConnect(connect, authentication: nil, now: now, into: &out)
            } else {
                handlePacket(packet, now: now, into: &out)
            }
        case .enhancedAuthenticationCompleted(let connect, let data):
            if phase == .awaitingConnect {
                lastPacketAt = now
                let method = connect.properties.authenticationMethod ?? ""
                handleConnect(connect, authentication: (method, data), now: now, into: &out)
            }
        case .reauthenticationStep(let step):
            if phase == .connected, reauthenticating { answerReauthentication(step, into: &out) }
        case .decodeFailed(let error):
            handleDecodeFailure(error, into: &out)
        case .keepAliveTick:
            handleTick(now: now, into: &out)
        case .deliver(let delivery):
            if phase == .connected { deliver(delivery, now: now, into: &out) }
        case .publishPersisted(let identifier, let code):
            if phase == .connected { publishPersisted(identifier, code, into: &out) }
        case .sessionTakenOver:
            if phase == .connected {
                close(.sessionTakenOver, publishWill: true, into: &out)
            } else {
                out.append(.close(nil))
                phase = .closed
            }
        case .connectionClosed:
            if phase == .connected {
                endSession(publishWill: true, into: &out)
            } else {
                phase = .closed
            }
        case .serverShutdown:
            if phase == .connected {
                close(.serverShuttingDown, publishWill: false, into: &out)
            } else {
                out.append(.close(nil))
                phase = .closed
            }
        }
        return out.actions
    }

    private mutating func handlePacket(_ packet: MQTTPacket, now: UInt64, into out: inout MQTTSessionActions) {
        switch packet {
        case .publish(let publish): receivePublish(publish, into: &out)
        case .puback(let ack): receivePubAck(ack.packetIdentifier, now: now, into: &out)
        case .pubrec(let ack): receivePubRec(ack.packetIdentifier, ack.reasonCode, now: now, into: &out)
        case .pubrel(let ack): receivePubRel(ack.packetIdentifier, into: &out)
        case .pubcomp(let ack): receivePubComp(ack.packetIdentifier, now: now, into: &out)
        case .subscribe(let subscribe): receiveSubscribe(subscribe, into: &out)
        case .unsubscribe(let unsubscribe): receiveUnsubscribe(unsubscribe, into: &out)
        case .pingreq: out.send(.pingresp)
        case .disconnect(let disconnect): receiveDisconnect(disconnect, into: &out)
        case .auth(let auth): receiveAuth(auth, into: &out)
        case .connect, .connack, .suback, .unsuback, .pingresp:
            close(.protocolError, publishWill: true, into: &out)
        }
    }

    private mutating func handleDecodeFailure(_ error: MQTTDecodeError, into out: inout MQTTSessionActions) {
        switch phase {
        case .awaitingConnect:
            if case .unsupportedProtocolVersion = error {
                // The version is unknown: answer in the 3.1.1 layout (return code 0x01).
                version = .v3_1_1
                out.send(.connack(MQTTConnAck(reasonCode: .unsupportedProtocolVersion)))
            }
            out.append(.close(nil))
            phase = .closed
        case .connected:
            close(error.reasonCode, publishWill: true, into: &out)
        case .closed:
            break
        }
    }

    private mutating func handleTick(now: UInt64, into out: inout MQTTSessionActions) {
        guard phase == .connected else { return }
        if keepAlive > 0 {
            // MQTT-3.1.2-24: one and a half times the keep alive without a packet closes.
            let limit = UInt64(keepAlive) * 1_500_000_000
            if now >= lastPacketAt && now - lastPacketAt >= limit {
                close(.keepAliveTimeout, publishWill: true, into: &out)
                return
            }
        }
        let before = queue.count
        queue.removeAll { Self.remainingExpiry(of: $0, now: now) == 0 }
        statistics.droppedExpired += before - queue.count
    }

    /// Sends a v5 DISCONNECT with `reason` (just closes before 5.0) and ends the session.
    mutating func close(_ reason: MQTTReasonCode, publishWill: Bool, into out: inout MQTTSessionActions) {
        out.append(.close(version == .v5 ? MQTTDisconnect(reasonCode: reason) : nil))
        endSession(publishWill: publishWill, into: &out)
    }

    /// Publishes the will if asked, then persists or discards the session.
    mutating func endSession(publishWill: Bool, into out: inout MQTTSessionActions) {
        phase = .closed
        if publishWill, let will {
            let delay = min(will.properties.willDelayInterval ?? 0, state.sessionExpiryInterval)
            out.append(.publishWill(clientIdentifier: state.clientIdentifier, will: will, delay: delay))
        }
        will = nil
        if state.sessionExpiryInterval > 0 {
            out.append(.persist(state))
        } else {
            out.append(.discard(clientIdentifier: state.clientIdentifier))
        }
    }
}

/// Actions under construction; consecutive packets share one `send`.
struct MQTTSessionActions {
    var actions: [MQTTSessionAction] = []

    mutating func send(_ packet: MQTTPacket) {
        if case .send(var packets)? = actions.last {
            actions.removeLast()
            packets.append(packet)
            actions.append(.send(packets))
        } else {
            actions.append(.send([packet]))
        }
    }

    mutating func append(_ action: MQTTSessionAction) { actions.append(action) }
}
