import BrokerServer

/// The MQTT client side of one benchmark connection as an IO-free state machine: a received
/// packet in, what to do about it out. Tracks the QoS 1/2 in-flight window of outgoing
/// PUBLISHes (bounded by the configured window and the broker's Receive Maximum) and the
/// QoS 2 handshakes of incoming ones.
struct BenchMQTTFlow {
    /// What the driver does after a packet was handled.
    struct Output {
        /// A packet to send back (PUBACK, PUBREC, PUBREL, PUBCOMP).
        var reply: MQTTPacket?
        /// The broker accepted the connection.
        var connected = false
        /// The broker granted the subscription.
        var subscribed = false
        /// An outgoing QoS 1/2 PUBLISH completed; its send time (uptime nanoseconds).
        var completedSentAt: UInt64?
        /// An application message arrived (counted once, on its PUBLISH).
        var delivered: MQTTPublish?
    }

    /// The QoS of outgoing messages.
    let qos: MQTTQoS
    /// The window configured on the command line.
    let configuredWindow: Int
    /// The window in force: the configured one, lowered to the broker's Receive Maximum.
    private(set) var window: Int
    /// Outgoing PUBLISHes awaiting PUBACK / PUBREC+PUBCOMP, by packet identifier: send time and
    /// whether PUBREC was seen.
    private var inFlight: [UInt16: (sentAt: UInt64, released: Bool)] = [:]
    /// Incoming QoS 2 PUBLISHes whose PUBREL has not arrived yet.
    private var incomingQoS2: Set<UInt16> = []
    private var nextIdentifier: UInt16 = 1
    /// The identifier of the SUBSCRIBE sent, if any.
    private(set) var subscribeIdentifier: UInt16?

    init(qos: MQTTQoS, window: Int) {
        self.qos = qos
        self.configuredWindow = max(1, window)
        self.window = max(1, window)
    }

    /// Outgoing messages not yet acknowledged.
    var inFlightCount: Int { self.inFlight.count }

    /// Whether another PUBLISH may be sent now (QoS 0 is never window-limited here).
    var canSend: Bool { self.qos == .atMostOnce || self.inFlight.count < self.window }

    /// Claims a packet identifier for an outgoing PUBLISH sent at `now`; `nil` for QoS 0.
    /// Call only when ``canSend``.
    mutating func claimIdentifier(now: UInt64) -> UInt16? {
        guard self.qos != .atMostOnce else { return nil }
        var identifier = self.nextIdentifier
        while self.inFlight[identifier] != nil || identifier == 0 {
            identifier &+= 1
        }
        self.nextIdentifier = identifier &+ 1
        self.inFlight[identifier] = (now, false)
        return identifier
    }

    /// Claims the identifier of the SUBSCRIBE.
    mutating func claimSubscribeIdentifier() -> UInt16 {
        self.subscribeIdentifier = 0xFFFF
        return 0xFFFF
    }

    /// Handles one packet from the broker.
    mutating func handle(_ packet: MQTTPacket) throws(BenchMQTTError) -> Output {
        var output = Output()
        switch packet {
        case .connack(let connack):
            guard !connack.reasonCode.isFailure else { throw .refused(connack.reasonCode) }
            if let receiveMaximum = connack.properties.receiveMaximum {
                self.window = min(self.configuredWindow, Int(receiveMaximum))
            }
            if let maximumQoS = connack.properties.maximumQoS, maximumQoS < self.qos {
                throw .qosNotSupported(granted: maximumQoS, wanted: self.qos)
            }
            output.connected = true
        case .suback(let suback):
            guard suback.packetIdentifier == self.subscribeIdentifier else {
                throw .unknownPacketIdentifier(.suback, suback.packetIdentifier)
            }
            if let failure = suback.reasonCodes.first(where: { $0.isFailure }) {
                throw .subscriptionRefused(failure)
            }
            output.subscribed = true
        case .puback(let ack):
            guard let entry = self.inFlight[ack.packetIdentifier], self.qos == .atLeastOnce else {
                throw .unknownPacketIdentifier(.puback, ack.packetIdentifier)
            }
            guard !ack.reasonCode.isFailure else { throw .publishRefused(ack.reasonCode) }
            self.inFlight[ack.packetIdentifier] = nil
            output.completedSentAt = entry.sentAt
        case .pubrec(let rec):
            guard let entry = self.inFlight[rec.packetIdentifier], self.qos == .exactlyOnce else {
                throw .unknownPacketIdentifier(.pubrec, rec.packetIdentifier)
            }
            guard !rec.reasonCode.isFailure else { throw .publishRefused(rec.reasonCode) }
            self.inFlight[rec.packetIdentifier] = (entry.sentAt, true)
            output.reply = .pubrel(MQTTPubRel(packetIdentifier: rec.packetIdentifier))
        case .pubcomp(let comp):
            guard let entry = self.inFlight[comp.packetIdentifier], entry.released else {
                throw .unknownPacketIdentifier(.pubcomp, comp.packetIdentifier)
            }
            self.inFlight[comp.packetIdentifier] = nil
            output.completedSentAt = entry.sentAt
        case .publish(let publish):
            switch (publish.qos, publish.packetIdentifier) {
            case (.atMostOnce, _):
                output.delivered = publish
            case (.atLeastOnce, let identifier?):
                output.delivered = publish
                output.reply = .puback(MQTTPubAck(packetIdentifier: identifier))
            case (.exactlyOnce, let identifier?):
                // A PUBLISH repeated before its PUBREL is the same message.
                if self.incomingQoS2.insert(identifier).inserted {
                    output.delivered = publish
                }
                output.reply = .pubrec(MQTTPubRec(packetIdentifier: identifier))
            default:
                throw .unexpected(.publish)
            }
        case .pubrel(let rel):
            self.incomingQoS2.remove(rel.packetIdentifier)
            output.reply = .pubcomp(MQTTPubComp(packetIdentifier: rel.packetIdentifier))
        case .disconnect(let disconnect):
            throw .disconnectedByBroker(disconnect.reasonCode)
        case .pingresp:
            break
        default:
            throw .unexpected(packet.type)
        }
        return output
    }
}
