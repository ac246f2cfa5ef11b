import Foundation
import Logging
import MetaService
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Shared
import Synchronization

/// The broker's authorization and admission control: ACL rules and bans loaded from meta (and
/// followed with a watch), flapping detection, and the connection, message, bandwidth and
/// subscription limits.
///
/// Pass it to ``MQTTBroker`` as its authorizer; connections find it there. Rules are held as
/// one immutable ``ACLEngine`` value with a generation number: each connection keeps its own
/// ``ACLAuthorizer`` (engine copy plus decision cache) and reloads it when the generation moves,
/// so the hot path takes one atomic load and no lock, and every rule change invalidates every
/// cache. As an ``MQTTAuthorizer`` (the broker's own check, used for wills) it only refuses
/// publishing to `$SYS`; connections check PUBLISH and SUBSCRIBE with their full context.
public final class MQTTAccessControl: MQTTAuthorizer, Sendable {
    /// The settings.
    public let configuration: MQTTAccessConfiguration
    /// Where security events are recorded, if anywhere.
    public let audit: AuditLog?
    let logger: Logger
    let generationCounter = Atomic<UInt64>(1)
    private let rules: NIOLockedValueBox<(engine: ACLEngine, generation: UInt64)>
    private let admission: NIOLockedValueBox<Admission>
    let broker = NIOLockedValueBox<MQTTBroker?>(nil)
    let followers = NIOLockedValueBox<[Task<Void, Never>]>([])
    let deniedPublishes = Counter(label: "tributary_mqtt_acl_denied_total", dimensions: [("action", "publish")])
    let deniedSubscriptions = Counter(label: "tributary_mqtt_acl_denied_total", dimensions: [("action", "subscribe")])
    let refusedConnects: [MQTTReasonCode: Counter] = [
        .banned: Counter(label: "tributary_mqtt_connects_refused_total", dimensions: [("reason", "banned")]),
        .connectionRateExceeded: Counter(label: "tributary_mqtt_connects_refused_total", dimensions: [("reason", "rate")]),
    ]

    struct Admission: Sendable {
        var blacklist = Blacklist()
        var flapping: FlappingDetector?
        var connects: TokenBucket?
    }

    /// An access control with no rules and no bans yet (``start(broker:meta:)`` loads them).
    public init(configuration: MQTTAccessConfiguration, audit: AuditLog? = nil, logger: Logger) {
        self.configuration = configuration
        self.audit = audit
        self.logger = logger
        self.rules = NIOLockedValueBox((ACLEngine(defaultPermission: configuration.noMatch), 1))
        var admission = Admission()
        if let flapping = configuration.flapping {
            admission.flapping = FlappingDetector(
                maximumConnects: flapping.maximumConnects, window: flapping.window, banDuration: flapping.banDuration)
        }
        if configuration.connectRate > 0 {
            let burst = configuration.connectBurst > 0 ? configuration.connectBurst : configuration.connectRate
            admission.connects = TokenBucket(rate: Double(configuration.connectRate), burst: Double(burst), now: MQTTBroker.monotonicNow())
        }
        self.admission = NIOLockedValueBox(admission)
    }

    // MARK: Rules

    /// The current rules and their generation.
    func currentRules() -> (engine: ACLEngine, generation: UInt64) {
        rules.withLockedValue { $0 }
    }

    /// The generation of the current rules (changes with every rule change).
    var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// Replaces every rule (all tenants) and invalidates every connection's decision cache.
    public func setRules(_ byTenant: [String: [ACLRule]]) {
        var engine = ACLEngine(defaultPermission: configuration.noMatch)
        for (tenant, tenantRules) in byTenant { engine.setRules(tenantRules, tenant: tenant) }
        rules.withLockedValue { current in
            current = (engine, current.generation + 1)
            generationCounter.store(current.generation, ordering: .releasing)
        }
    }

    // MARK: Admission

    /// Replaces every ban and disconnects (0x8A) connected clients that are now banned.
    public func setBans(_ entries: [Blacklist.Entry]) {
        var blacklist = Blacklist()
        for entry in entries { blacklist.add(entry) }
        admission.withLockedValue { $0.blacklist = blacklist }
        let open = broker.withLockedValue { $0 }?.state.withLockedValue { Array($0.open.values) } ?? []
        for connection in open { connection.execute { $0.recheckBan() } }
    }

    /// The ban in force for this connection, if any.
    public func ban(clientID: String, username: String?, peer: IPAddress?) -> Blacklist.Entry? {
        admission.withLockedValue { $0.blacklist.ban(clientID: clientID, username: username, peerAddress: peer, now: Date()) }
    }

    /// Admits a CONNECT or returns the refusal: 0x9F over the node's connection rate, 0x8A for a
    /// banned client id, user name or address, or for a client id that is flapping.
    public func admitConnect(clientID: String, username: String?, peer: IPAddress?) -> MQTTReasonCode? {
        let now = ContinuousClock.now
        let (refusal, flappingUntil): (MQTTReasonCode?, ContinuousClock.Instant?) = admission.withLockedValue { admission in
            if admission.connects != nil, admission.connects?.take(now: MQTTBroker.monotonicNow()) == false {
                return (.connectionRateExceeded, nil)
            }
            if admission.blacklist.ban(clientID: clientID, username: username, peerAddress: peer, now: Date()) != nil {
                return (.banned, nil)
            }
            guard !clientID.isEmpty, admission.flapping != nil else { return (nil, nil) }
            let wasBanned = admission.flapping?.bannedUntil(clientID: clientID, now: now) != nil
            if case .banned(let until) = admission.flapping?.recordConnect(clientID: clientID, now: now) {
                return (.banned, wasBanned ? nil : until)
            }
            return (nil, nil)
        }
        if let refusal { refusedConnects[refusal]?.increment() }
        if let flappingUntil {
            let seconds = Double((flappingUntil - now).components.seconds)
            logger.warning("mqtt client flapping; banned", metadata: ["client": "\(clientID)", "seconds": "\(seconds)"])
            audit?.record("blacklist.flapping", ["client_id": clientID, "seconds": String(Int(seconds))])
        }
        return refusal
    }

    // MARK: MQTTAuthorizer

    public func mayPublish(clientIdentifier: String, userName: String?, topic: String) -> Bool {
        !topic.hasPrefix("$SYS")
    }

    public func maySubscribe(clientIdentifier: String, userName: String?, filter: String) -> Bool { true }
}
