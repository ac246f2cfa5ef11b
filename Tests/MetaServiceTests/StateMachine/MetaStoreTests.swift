import NIOCore
import PropertyBased
import Shared
import Testing

@testable import MetaService

@Suite("Metadata state machine")
struct MetaStoreTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func putsAdvanceTheRevisionAndKeepMVCCFields() {
        var store = MetaStore()
        #expect(store.apply(.put(key: "nodes/1", value: bytes("a"), lease: 0)) == .written(revision: 1, previous: nil))
        let first = store.get("nodes/1")
        guard case .written(2, let previous) = store.apply(.put(key: "nodes/1", value: bytes("b"), lease: 0)) else {
            Issue.record("second put did not write at revision 2")
            return
        }
        #expect(previous == first)
        let record = store.get("nodes/1")
        #expect(record?.value == bytes("b"))
        #expect(record?.createRevision == 1 && record?.modRevision == 2 && record?.version == 2)
        #expect(store.revision == 2)
    }

    @Test func deletesAndPrefixDeletes() {
        var store = MetaStore()
        for key in ["shards/a/1", "shards/a/2", "shards/b/1"] {
            _ = store.apply(.put(key: key, value: [1], lease: 0))
        }
        #expect(store.apply(.delete(key: "missing")) == .deleted(revision: 3, count: 0), "no-op deletes do not advance the revision")
        #expect(store.apply(.deletePrefix(prefix: "shards/a/")) == .deleted(revision: 4, count: 2))
        #expect(store.range(prefix: "shards/").map(\.key) == ["shards/b/1"])
        #expect(store.apply(.delete(key: "shards/b/1")) == .deleted(revision: 5, count: 1))
        #expect(store.count == 0)
    }

    @Test func compareAndSetChecksEachExpectation() {
        var store = MetaStore()
        #expect(store.apply(.compareAndSet(key: "k", expect: .absent, value: bytes("v1"), lease: 0)) == .written(revision: 1, previous: nil))
        let current = store.get("k")
        #expect(store.apply(.compareAndSet(key: "k", expect: .absent, value: bytes("x"), lease: 0)) == .compareFailed(revision: 1, current: current))
        #expect(store.apply(.compareAndSet(key: "k", expect: .modRevision(7), value: bytes("x"), lease: 0)) == .compareFailed(revision: 1, current: current))
        guard case .written(revision: 2, _) = store.apply(.compareAndSet(key: "k", expect: .modRevision(1), value: bytes("v2"), lease: 0)) else {
            Issue.record("CAS on the right revision failed")
            return
        }
        #expect(store.apply(.compareAndSet(key: "k", expect: .value(bytes("v1")), value: nil, lease: 0)).isCompareFailure)
        #expect(store.apply(.compareAndSet(key: "k", expect: .value(bytes("v2")), value: nil, lease: 0)) == .deleted(revision: 3, count: 1))
        #expect(store.get("k") == nil)
    }

    @Test func leasesOwnTheirKeys() {
        var store = MetaStore()
        #expect(store.apply(.put(key: "nodes/1", value: [], lease: 9)) == .rejected(.leaseNotFound(9)))
        #expect(store.apply(.grantLease(id: 9, ttlMillis: 3000)) == .lease(revision: 1))
        #expect(store.apply(.grantLease(id: 9, ttlMillis: 3000)) == .rejected(.leaseExists(9)))
        _ = store.apply(.put(key: "nodes/1", value: [1], lease: 9))
        _ = store.apply(.put(key: "nodes/2", value: [2], lease: 9))
        _ = store.apply(.put(key: "nodes/2", value: [3], lease: 0))  // detached by a lease-less write
        #expect(store.lease(9)?.keys == ["nodes/1"])
        #expect(store.apply(.revokeLease(id: 9)) == .lease(revision: 5))
        #expect(store.get("nodes/1") == nil)
        #expect(store.get("nodes/2")?.value == [3])
        #expect(store.apply(.revokeLease(id: 9)) == .rejected(.leaseNotFound(9)))
    }

    @Test func invalidKeysAndValuesAreRejectedWithoutAdvancing() {
        var store = MetaStore()
        #expect(store.apply(.put(key: "", value: [], lease: 0)) == .rejected(.invalidKey("")))
        let big = [UInt8](repeating: 0, count: MetaLimits.maxValueBytes + 1)
        #expect(store.apply(.put(key: "k", value: big, lease: 0)) == .rejected(.valueTooLarge(big.count)))
        #expect(store.revision == 0)
    }

    @Test func watchersResumeFromAnyRetainedRevisionWithoutGaps() throws {
        var store = MetaStore(historyLimit: 10)
        for index in 1...6 {
            _ = store.apply(.put(key: "sessions/\(index)", value: [UInt8(index)], lease: 0))
        }
        _ = store.apply(.put(key: "other/x", value: [], lease: 0))
        _ = store.apply(.delete(key: "sessions/2"))
        let all = try store.events(from: 1, prefix: "sessions/")
        #expect(all.map(\.revision) == [1, 2, 3, 4, 5, 6, 8])
        #expect(all.last?.kind == .delete && all.last?.previous?.value == [2])
        let resumed = try store.events(from: 5, prefix: "sessions/")
        #expect(resumed.map(\.revision) == [5, 6, 8])
        #expect(try store.events(from: 9, prefix: "").isEmpty)

        for index in 1...20 {
            _ = store.apply(.put(key: "flood/\(index)", value: [], lease: 0))
        }
        #expect(throws: MetaError.compacted(oldestRevision: store.oldestRetainedRevision)) {
            _ = try store.events(from: 5, prefix: "sessions/")
        }
        #expect(try store.events(from: store.oldestRetainedRevision, prefix: "").count == 10)
    }

    @Test func historyIsTrimmedByWholeRevisions() throws {
        var store = MetaStore(historyLimit: 5)
        for key in ["a/1", "a/2", "a/3", "a/4"] { _ = store.apply(.put(key: key, value: [], lease: 0)) }
        _ = store.apply(.deletePrefix(prefix: "a/"))  // revision 5: four delete events
        #expect(store.oldestRetainedRevision == 4)
        #expect(try store.events(from: 4, prefix: "a/").map(\.revision) == [4, 5, 5, 5, 5])
        _ = store.apply(.put(key: "b", value: [], lease: 0))  // revision 6
        #expect(try store.events(from: 5, prefix: "").map(\.revision) == [5, 5, 5, 5, 6])
        _ = store.apply(.put(key: "c", value: [], lease: 0))  // revision 7 pushes out all of revision 5
        #expect(throws: MetaError.compacted(oldestRevision: 6)) { _ = try store.events(from: 5, prefix: "") }
        #expect(try store.events(from: 6, prefix: "").map(\.keyValue.key) == ["b", "c"])
    }

    @Test func snapshotsRestoreEqualStores() throws {
        var store = MetaStore()
        _ = store.apply(.grantLease(id: 4, ttlMillis: 1000))
        _ = store.apply(.put(key: "nodes/1", value: bytes("x"), lease: 4))
        _ = store.apply(.put(key: "topics/t", value: bytes("y"), lease: 0))
        let restored = try MetaStore(snapshot: store.snapshot())
        #expect(restored == store)
        #expect(restored.lease(4)?.keys == ["nodes/1"])
        #expect(throws: MetaError.compacted(oldestRevision: 4)) { _ = try restored.events(from: 1, prefix: "") }
        var truncated = store.snapshot()
        truncated.removeLast()
        #expect(throws: WireDecodingError.self) { _ = try MetaStore(snapshot: truncated) }
    }

    @Test func commandsRoundTripAndRejectGarbage() async throws {
        let commands: [MetaCommand] = [
            .put(key: "k", value: [1, 2], lease: 3),
            .delete(key: "k"),
            .deletePrefix(prefix: "p/"),
            .compareAndSet(key: "k", expect: .absent, value: [9], lease: 0),
            .compareAndSet(key: "k", expect: .modRevision(12), value: nil, lease: 0),
            .compareAndSet(key: "k", expect: .value([1]), value: [2], lease: 5),
            .grantLease(id: 1, ttlMillis: 5000),
            .revokeLease(id: 1),
        ]
        for command in commands {
            #expect(try MetaCommand(bytes: command.encoded) == command)
        }
        #expect(throws: WireDecodingError.unknownTag(what: "meta command", tag: 99)) { _ = try MetaCommand(bytes: [99]) }
        #expect(throws: WireDecodingError.self) { _ = try MetaCommand(bytes: command(commands[0]).dropLast()) }
        await propertyCheck(input: Gen.uint8().array(of: 0...40)) { garbage in
            _ = try? MetaCommand(bytes: garbage)  // must never trap
        }
    }

    func command(_ c: MetaCommand) -> [UInt8] { c.encoded }

    /// Replicas applying the same commands agree (the state machine safety the simulation relies on).
    @Test func applyIsDeterministic() async {
        await propertyCheck(input: Gen.int(in: 0...5).array(of: 1...60)) { ops in
            var a = MetaStore(), b = MetaStore()
            for (i, op) in ops.enumerated() {
                let key = "k/\(op)"
                let command: MetaCommand = switch i % 4 {
                case 0: .put(key: key, value: [UInt8(i & 0xFF)], lease: 0)
                case 1: .delete(key: key)
                case 2: .compareAndSet(key: key, expect: .absent, value: [1], lease: 0)
                default: .deletePrefix(prefix: "k/\(op % 2)")
                }
                #expect(a.apply(command) == b.apply(command))
            }
            #expect(a == b)
            let restored = try MetaStore(snapshot: a.snapshot())
            #expect(restored == b)
        }
    }
}

extension MetaCommandResult {
    var isCompareFailure: Bool {
        if case .compareFailed = self { return true }
        return false
    }
}
