import Foundation
import Testing

@testable import Shared

@Suite("Blacklist and FlappingDetector")
struct BlacklistTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("bans by client id, user and network, with expiry")
    func blacklist() throws {
        var list = Blacklist()
        list.add(.init(target: .clientID("bad-client"), expiresAt: Self.now.addingTimeInterval(60), reason: "abuse"))
        list.add(.init(target: .username("mallory"), expiresAt: nil))
        list.add(.init(target: .network(try #require(IPNetwork("203.0.113.0/24"))), expiresAt: Self.now.addingTimeInterval(10)))
        let inside = IPAddress("203.0.113.9")
        let outside = IPAddress("203.0.114.9")
        #expect(list.ban(clientID: "bad-client", username: nil, peerAddress: outside, now: Self.now)?.reason == "abuse")
        #expect(list.ban(clientID: "ok", username: "mallory", peerAddress: outside, now: Self.now.addingTimeInterval(1e6)) != nil)
        #expect(list.ban(clientID: "ok", username: "alice", peerAddress: inside, now: Self.now) != nil)
        #expect(list.ban(clientID: "ok", username: "alice", peerAddress: IPAddress("::ffff:203.0.113.1"), now: Self.now) != nil)
        #expect(list.ban(clientID: "ok", username: "alice", peerAddress: outside, now: Self.now) == nil)
        #expect(list.ban(clientID: "ok", username: nil, peerAddress: nil, now: Self.now) == nil)
        // Expiry is exclusive: at the expiry instant the ban is over.
        #expect(list.ban(clientID: "ok", username: nil, peerAddress: inside, now: Self.now.addingTimeInterval(10)) == nil)
        #expect(list.ban(clientID: "bad-client", username: nil, peerAddress: nil, now: Self.now.addingTimeInterval(59)) != nil)
        #expect(list.ban(clientID: "bad-client", username: nil, peerAddress: nil, now: Self.now.addingTimeInterval(60)) == nil)
        list.purgeExpired(now: Self.now.addingTimeInterval(60))
        #expect(list.entries.count == 1)
        list.remove(.username("mallory"))
        #expect(list.ban(clientID: "ok", username: "mallory", peerAddress: nil, now: Self.now) == nil)
        #expect(list.entries.isEmpty)
    }

    @Test("re-adding a target replaces its ban")
    func replace() throws {
        var list = Blacklist()
        let network = try #require(IPNetwork("10.0.0.0/8"))
        list.add(.init(target: .network(network), expiresAt: Self.now))
        list.add(.init(target: .network(network), expiresAt: nil))
        #expect(list.entries.count == 1)
        #expect(list.ban(clientID: "c", username: nil, peerAddress: IPAddress("10.1.1.1"), now: Self.now) != nil)
    }

    @Test("N connects within the window are allowed, one more bans for the period")
    func flapping() {
        let start = ContinuousClock.now
        var detector = FlappingDetector(maximumConnects: 3, window: .seconds(10), banDuration: .seconds(60))
        #expect(detector.recordConnect(clientID: "c", now: start) == .allowed)
        #expect(detector.recordConnect(clientID: "c", now: start + .seconds(1)) == .allowed)
        #expect(detector.recordConnect(clientID: "c", now: start + .seconds(2)) == .allowed)
        #expect(detector.recordConnect(clientID: "other", now: start + .seconds(2)) == .allowed)
        #expect(detector.recordConnect(clientID: "c", now: start + .seconds(3)) == .banned(until: start + .seconds(63)))
        #expect(detector.bannedUntil(clientID: "c", now: start + .seconds(62)) == start + .seconds(63))
        #expect(detector.recordConnect(clientID: "c", now: start + .seconds(30)) == .banned(until: start + .seconds(63)))
        #expect(detector.bannedUntil(clientID: "other", now: start + .seconds(3)) == nil)
        // After the ban the history starts afresh.
        #expect(detector.recordConnect(clientID: "c", now: start + .seconds(63)) == .allowed)
        #expect(detector.bannedUntil(clientID: "c", now: start + .seconds(63)) == nil)
    }

    @Test("connects spread wider than the window never ban; reset lifts a ban")
    func slidingWindow() {
        let start = ContinuousClock.now
        var detector = FlappingDetector(maximumConnects: 2, window: .seconds(10), banDuration: .seconds(60))
        for step in 0..<20 {
            #expect(detector.recordConnect(clientID: "c", now: start + .seconds(5 * step)) == .allowed)
        }
        #expect(detector.recordConnect(clientID: "c", now: start + .seconds(96)) == .banned(until: start + .seconds(156)))
        detector.reset(clientID: "c")
        #expect(detector.recordConnect(clientID: "c", now: start + .seconds(97)) == .allowed)
    }

    @Test("tracking is bounded; stale histories are purged")
    func bounded() {
        let start = ContinuousClock.now
        var detector = FlappingDetector(maximumConnects: 1, window: .seconds(10), banDuration: .seconds(60), maximumTrackedClients: 4)
        for index in 0..<4 { _ = detector.recordConnect(clientID: "c\(index)", now: start) }
        #expect(detector.trackedClients == 4)
        _ = detector.recordConnect(clientID: "late", now: start + .seconds(11))
        #expect(detector.trackedClients == 1)
        detector.purge(now: start + .seconds(30))
        #expect(detector.trackedClients == 0)
    }
}
