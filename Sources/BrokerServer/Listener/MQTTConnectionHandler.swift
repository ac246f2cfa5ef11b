import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The driver of one MQTT connection: decoded packets in, one ``MQTTSession`` in the middle, the
/// session's actions performed against the channel and the ``MQTTBroker``.
///
/// Sits behind a `ByteToMessageHandler(MQTTDecoder)`. Writes every `send` of one event into the
/// channel and flushes once per event (a batch of deliveries is one event). Before CONNECT is
/// authenticated and the client's stored session loaded, later packets wait in a small queue.
final class MQTTConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = MQTTPacket
    typealias OutboundOut = ByteBuffer

    enum Phase {
        case awaitingConnect
        /// Authenticating, or waiting for a taken-over session to be stored and loaded.
        case connecting
        /// MQTT 5 enhanced authentication of the CONNECT: waiting for the client's next AUTH.
        case authenticating
        case active
        case closed
    }

    /// A shard whose stored records are being replayed to a resumed session; live deliveries of
    /// that shard wait until the replay reaches them.
    struct Replay {
        var end: Int64
        var waiting: [(deliveries: [MQTTDelivery], through: Int64)] = []
        var waitingCount = 0
    }

    /// Packets accepted while connecting; more close the connection.
    static let maximumEarlyPackets = 64
    /// How long a connection may take to send CONNECT.
    static let connectTimeout = TimeAmount.seconds(10)
    /// Journal appends one connection may have outstanding before it is no longer read from.
    static let maximumOutstandingAppends = 1024

    let broker: MQTTBroker
    var ref: MQTTConnectionRef?
    var context: ChannelHandlerContext?
    var phase = Phase.awaitingConnect
    var session: MQTTSession?
    var userName: String?
    /// Who the connection authenticated as (set once CONNECT is accepted; re-authentication
    /// replaces it).
    var authContext: MQTTAuthContext? {
        didSet { reidentifyAccess() }
    }
    /// The enhanced authentication exchange in progress (CONNECT or re-authentication).
    var exchange: (any MQTTAuthExchange)?
    /// The CONNECT waiting for its enhanced authentication to complete.
    var pendingConnect: MQTTConnect?
    var early: [MQTTPacket] = []
    var cursors: [Int64] = []
    var resuming = false
    var storedCursors: [Int64] = []
    var replays: [Int: Replay] = [:]
    var tick: RepeatedTask?
    var connectTimer: Scheduled<Void>?
    var needsFlush = false
    var statistics = MQTTSession.Statistics()
    var endedSession = false
    var outstandingAppends = 0
    var readingPaused = false
    /// Authorization state once CONNECT is authenticated (with an ``MQTTAccessControl``).
    var access: MQTTConnectionAccess?
    /// Disconnected by the server with a DISCONNECT and half-closed: input is discarded until the
    /// client closes (see ``disconnect(reason:)``).
    var draining = false

    init(broker: MQTTBroker) {
        self.broker = broker
    }

    var clientIdentifier: String? {
        guard let session, !session.clientIdentifier.isEmpty else { return nil }
        return session.clientIdentifier
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let loop = context.eventLoop
        ref = broker.openConnection { id in MQTTConnectionRef(id: id, handler: self, eventLoop: loop) }
        let bound = NIOLoopBound(self, eventLoop: loop)
        connectTimer = loop.scheduleTask(in: Self.connectTimeout) {
            let phase = bound.value.phase
            if phase == .awaitingConnect || phase == .connecting || phase == .authenticating { bound.value.closeChannel() }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connectionGone()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionGone()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        if draining { return }
        switch phase {
        case .awaitingConnect:
            guard case .connect(let connect) = packet else {
                closeChannel()
                return
            }
            receiveConnect(connect)
        case .connecting:
            guard early.count < Self.maximumEarlyPackets else {
                closeChannel()
                return
            }
            early.append(packet)
        case .authenticating:
            continueAuthentication(packet)
        case .active:
            if case .publish = packet, !admitPublishPacket() { return }
            handle(.packetReceived(packet))
        case .closed:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let decodeError = error as? MQTTDecodeError, session != nil, phase == .active {
            handle(.decodeFailed(decodeError))
        } else if let decodeError = error as? MQTTDecodeError, phase == .awaitingConnect, case .unsupportedProtocolVersion = decodeError {
            // Answer an unknown protocol level the way the session does (3.1.1 CONNACK 0x01).
            var session = MQTTSession(configuration: broker.configuration.session, connectionNumber: ref?.id ?? 0)
            phase = .active
            self.session = session
            let actions = session.handle(.decodeFailed(decodeError), now: MQTTBroker.monotonicNow())
            self.session = session
            perform(actions)
        } else {
            closeChannel()
        }
    }

    // MARK: CONNECT

    private func receiveConnect(_ connect: MQTTConnect) {
        guard let ref, let context else {
            // Over the connection limit: 5.0 gets CONNACK 0x97 (quota exceeded), 3.x is closed.
            if connect.protocolVersion == .v5 {
                write(.connack(MQTTConnAck(reasonCode: .quotaExceeded)), version: .v5)
            }
            closeChannel()
            return
        }
        if let redirection = broker.configuration.session.serverRedirection {
            // Before authentication and before the client id is attached: a redirected client
            // must not take over the session it has here.
            write(.connack(redirection.connAck(for: connect.protocolVersion)), version: connect.protocolVersion)
            closeChannel()
            return
        }
        if let refusal = admissionRefusal(connect) {
            refuse(connect, reason: refusal)
            return
        }
        phase = .connecting
        userName = connect.userName
        if connect.protocolVersion == .v5, let method = connect.properties.authenticationMethod {
            beginEnhancedAuthentication(connect, method: method, ref: ref)
            return
        }
        let credentials = MQTTConnectCredentials(
            clientIdentifier: connect.clientIdentifier, userName: connect.userName, password: connect.password,
            remoteAddress: context.channel.remoteAddress, protocolVersion: connect.protocolVersion,
            certificateCommonName: verifiedCertificateCommonName())
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        broker.authenticator.authenticate(credentials, on: context.eventLoop).hop(to: context.eventLoop).whenComplete { result in
            let handler = bound.value
            guard handler.phase == .connecting else { return }
            switch result {
            case .success(.allow(let authContext)):
                handler.authContext = authContext
                handler.userName = authContext.userName
                handler.authenticated(connect, ref: ref)
            case .success(.deny(let reason)):
                handler.refuse(connect, reason: reason)
            case .success(.ignore):
                handler.refuse(connect, reason: connect.userName == nil ? .notAuthorized : .badUserNameOrPassword)
            case .failure(let error):
                handler.broker.logger.warning("mqtt authentication failed", metadata: [
                    "client": "\(connect.clientIdentifier)", "error": "\(error)"])
                handler.refuse(connect, reason: .unspecifiedError)
            }
        }
    }

    func refuse(_ connect: MQTTConnect, reason: MQTTReasonCode) {
        // Refused while authenticating (no identity yet): an authentication failure to audit.
        if (phase == .connecting || phase == .authenticating) && authContext == nil {
            auditAuthenticationFailure(connect, reason: reason)
        }
        let version = connect.protocolVersion
        if version == .v5 || MQTTConnectReturnCode(reasonCode: reason) != nil {
            write(.connack(MQTTConnAck(reasonCode: reason)), version: version)
        } else {
            write(.connack(MQTTConnAck(reasonCode: .notAuthorized)), version: version)
        }
        closeChannel()
    }

    /// Accepted: attaches the client to the broker and starts its session. `serverData` is the
    /// Authentication Data of a completed enhanced authentication (the CONNACK carries it).
    func authenticated(_ connect: MQTTConnect, ref: MQTTConnectionRef, enhanced serverData: ByteBuffer?? = nil) {
        broker.logger.debug("mqtt client authenticated", metadata: [
            "client": "\(connect.clientIdentifier)", "user": "\(authContext?.userName ?? "")",
            "mechanism": "\(authContext?.mechanism.rawValue ?? "none")"])
        // An empty identifier gets `<prefix><connection number>` from the session (if it is
        // accepted at all); it is registered before the session subscribes, and nothing stored
        // under it is resumed (numbers restart with the process).
        let assigned = connect.clientIdentifier.isEmpty
        let clientIdentifier =
            assigned ? broker.configuration.session.assignedClientIdentifierPrefix + String(ref.id) : connect.clientIdentifier
        if let refusal = setUpAccess(connect, clientIdentifier: clientIdentifier) {
            refuse(connect, reason: refusal)
            return
        }
        let bound = NIOLoopBound(self, eventLoop: ref.eventLoop)
        broker.attach(ref, clientIdentifier: clientIdentifier, connect: connect).whenComplete { result in
            let handler = bound.value
            guard handler.phase == .connecting else { return }
            switch result {
            case .success(let loaded):
                handler.start(connect, stored: assigned ? nil : loaded.0, routed: loaded.1, enhanced: serverData)
            case .failure(let error):
                handler.broker.logger.warning("mqtt session not loaded", metadata: ["client": "\(connect.clientIdentifier)", "error": "\(error)"])
                handler.refuse(connect, reason: .serverUnavailable)
            }
        }
    }

    private func start(_ connect: MQTTConnect, stored: MQTTStoredSession?, routed: [Int64], enhanced serverData: ByteBuffer??) {
        connectTimer?.cancel()
        connectTimer = nil
        session = MQTTSession(configuration: broker.configuration.session, connectionNumber: ref?.id ?? 0, storedState: stored?.state)
        phase = .active
        resuming = !connect.cleanStart && stored != nil
        cursors = routed
        if resuming, let stored {
            storedCursors = stored.cursors
            for shard in cursors.indices where shard < stored.cursors.count {
                cursors[shard] = min(cursors[shard], stored.cursors[shard])
            }
        }
        if let serverData {
            handle(.enhancedAuthenticationCompleted(connect, authenticationData: serverData))
        } else {
            handle(.packetReceived(.connect(connect)))
        }
        resuming = false
        if let context, session?.phase == .connected {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let interval = broker.configuration.tickInterval
            tick = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                bound.value.handle(.keepAliveTick)
            }
        }
        let waiting = early
        early = []
        for packet in waiting where phase == .active {
            handle(.packetReceived(packet))
        }
    }

    // MARK: Events from the broker

    /// The broker routed live messages of `shard` up to offset `through`.
    func deliver(_ deliveries: [MQTTDelivery], shard: Int, through: Int64) {
        guard phase == .active, session?.phase == .connected else { return }
        if var replay = replays[shard] {
            replay.waiting.append((deliveries, through))
            replay.waitingCount += deliveries.count
            while replay.waitingCount > broker.configuration.session.maximumQueuedMessages, !replay.waiting.isEmpty {
                // Behind a long replay: the oldest waiting batch is dropped (counted as queue full).
                let dropped = replay.waiting.removeFirst()
                replay.waitingCount -= dropped.deliveries.count
                broker.metrics.droppedQueueFull.increment(by: Int64(dropped.deliveries.count))
            }
            replays[shard] = replay
            return
        }
        feed(deliveries, shard: shard, through: through)
    }

    /// A chunk of a resumed session's replay of `shard`.
    func replayed(_ deliveries: [MQTTDelivery], shard: Int, through: Int64) {
        guard phase == .active, replays[shard] != nil else { return }
        feed(deliveries, shard: shard, through: through)
    }

    /// The replay of `shard` is done: the live deliveries that waited follow.
    func replayFinished(shard: Int) {
        guard let replay = replays.removeValue(forKey: shard), phase == .active else { return }
        if shard < cursors.count { cursors[shard] = max(cursors[shard], replay.end) }
        for batch in replay.waiting {
            feed(batch.deliveries, shard: shard, through: batch.through)
        }
    }

    private func feed(_ deliveries: [MQTTDelivery], shard: Int, through: Int64) {
        let now = MQTTBroker.monotonicNow()
        for delivery in deliveries {
            guard session?.phase == .connected else { return }
            handle(.deliver(delivery), now: now, flush: false)
        }
        if session?.phase == .connected, shard < cursors.count {
            cursors[shard] = max(cursors[shard], through + 1)
        }
        flushIfNeeded()
    }

    /// Another connection took this client's session over.
    func takeOver() {
        guard session != nil, phase == .active else {
            closeChannel()
            return
        }
        handle(.sessionTakenOver)
    }

    /// The broker is shutting down.
    func serverShutdown() {
        guard session != nil, phase == .active else {
            closeChannel()
            return
        }
        handle(.serverShutdown)
    }

    // MARK: Teardown

    func closeChannel() {
        guard let context, phase != .closed else { return }
        if phase != .active || session?.phase != .connected { phase = .closed }
        flushIfNeeded()
        context.close(promise: nil)
    }

    /// The channel is gone: the session ends (will, persist) if it was connected.
    private func connectionGone() {
        connectTimer?.cancel()
        tick?.cancel()
        tick = nil
        if phase == .active, session?.phase == .connected {
            handle(.connectionClosed)
        }
        phase = .closed
        if let ref {
            self.ref = nil
            // A session that ended completes `ended` once it is stored or discarded; otherwise
            // closing the connection does.
            broker.closeConnection(ref, clientIdentifier: clientIdentifier, completeEnded: !endedSession)
        }
    }
}
