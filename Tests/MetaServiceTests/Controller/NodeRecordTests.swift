import Logging
import NIOCore
import PropertyBased
import Shared
import Testing

@testable import MetaService

@Suite("Node records")
struct NodeRecordTests {
    @Test func nodeRecordsRoundTrip() async {
        await propertyCheck(input: Gen.uint64(), Gen.uint64(), Gen.int(in: 0...5000)) { id, started, port in
            let record = NodeRecord(role: "journal", id: id, address: "host-\(port):\(port)", startedAtMillis: started)
            #expect((try? NodeRecord(bytes: record.encodedBytes)) == record)
            let history = NodeHistoryRecord(state: port % 2 == 0 ? .alive : .dead, node: NodeRecord(
                role: "broker", id: id, address: "h:\(port)", startedAtMillis: started, lease: id &+ 1), changedAtMillis: started / 2)
            #expect((try? NodeHistoryRecord(bytes: history.encodedBytes)) == history)
        }
    }

    @Test func theLeaseComesFromTheKeyAndTheKeyMustMatch() throws {
        let record = NodeRecord(role: "journal", id: 3, address: "a:1", startedAtMillis: 9)
        let keyValue = MetaKeyValue(key: "/nodes/journal/3", value: record.encodedBytes, createRevision: 1, modRevision: 1, version: 1, lease: 77)
        #expect(try NodeRecord(keyValue: keyValue).lease == 77)
        var other = keyValue
        other.key = "/nodes/journal/4"
        #expect(throws: WireDecodingError.self) { try NodeRecord(keyValue: other) }
        other.key = "/nodes/broker/3"
        #expect(throws: WireDecodingError.self) { try NodeRecord(keyValue: other) }
        #expect(NodeRecord.parseKey("/nodes/journal/3").map { $0.role == "journal" && $0.id == 3 } == true)
        #expect(NodeRecord.parseKey("/nodes/journal/x") == nil)
        #expect(NodeRecord.parseKey("/nodes/journal/3/extra") == nil)
        #expect(NodeRecord.parseKey("/other/journal/3") == nil)
    }

    @Test func malformedValuesAreTypedErrors() {
        let good = NodeRecord(role: "journal", id: 3, address: "a:1", startedAtMillis: 9).encodedBytes
        // Every truncation fails, with a typed error.
        for length in 0..<good.count {
            #expect(throws: WireDecodingError.self) { try NodeRecord(bytes: Array(good.prefix(length))) }
        }
        #expect(throws: WireDecodingError.invalidValue(what: "node record", reason: "trailing bytes")) {
            try NodeRecord(bytes: good + [0])
        }
        #expect(throws: WireDecodingError.unknownTag(what: "node record version", tag: 2)) {
            try NodeRecord(bytes: [2] + good.dropFirst())
        }
        // The old format (a bare address) is refused, not misread.
        #expect(throws: WireDecodingError.self) { try NodeRecord(bytes: Array("127.0.0.1:7000".utf8)) }
        // A role with a '/' would make an ambiguous key.
        let slashed = NodeRecord(role: "a/b", id: 1, address: "x", startedAtMillis: 0).encodedBytes
        #expect(throws: WireDecodingError.self) { try NodeRecord(bytes: slashed) }
        var history = NodeHistoryRecord(state: .dead, node: NodeRecord(role: "journal", id: 3, address: "a:1", startedAtMillis: 9), changedAtMillis: 1).encodedBytes
        history[1] = 9
        #expect(throws: WireDecodingError.unknownTag(what: "node history state", tag: 9)) { try NodeHistoryRecord(bytes: history) }
    }

    @Test func clusterNodesReportsJoinsAndDeathsOnceInOrder() async {
        let nodes = ClusterNodes()
        let logger = Logger(label: "test")
        let a = NodeRecord(role: "journal", id: 1, address: "a:1", startedAtMillis: 1, lease: 10)
        let b = NodeRecord(role: "broker", id: 2, address: "b:1", startedAtMillis: 2, lease: 20)
        nodes.reset(to: [a])
        let events = nodes.events()
        func put(_ record: NodeRecord, _ revision: UInt64) -> WatchEvent {
            WatchEvent(kind: .put, keyValue: MetaKeyValue(key: record.key, value: record.encodedBytes, createRevision: revision,
                                                         modRevision: revision, version: 1, lease: record.lease), previous: nil)
        }
        nodes.apply(put(b, 5), logger: logger)
        nodes.apply(put(b, 6), logger: logger)  // unchanged: no event
        nodes.apply(WatchEvent(kind: .put, keyValue: MetaKeyValue(key: "/nodes/journal/5", value: [1, 2], createRevision: 7,
                                                                  modRevision: 7, version: 1, lease: 0), previous: nil), logger: logger)
        nodes.apply(WatchEvent(kind: .delete, keyValue: MetaKeyValue(key: a.key, value: [], createRevision: 1, modRevision: 8,
                                                                     version: 0, lease: 0), previous: nil), logger: logger)
        var b2 = b
        b2.lease = 21
        nodes.reset(to: [b2])
        #expect(nodes.live(role: "broker") == [b2])
        #expect(nodes.live(role: "journal").isEmpty)
        nodes.finish()
        var seen: [NodeEvent] = []
        for await event in events { seen.append(event) }
        #expect(seen == [.joined(a), .joined(b), .died(a), .joined(b2)])
        // A subscription after the view finished ends at once.
        var late = 0
        for await _ in nodes.events() { late += 1 }
        #expect(late == 0)
    }
}
