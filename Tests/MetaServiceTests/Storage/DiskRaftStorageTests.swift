import Logging
import PropertyBased
import Testing

@testable import MetaService

/// The disk storage must behave exactly like the simulation's model of a disk, and keep
/// behaving so after a reopen (a restart of the node).
@Suite("Raft disk storage")
struct DiskRaftStorageTests {
    let logger = Logger(label: "test.raft-storage")

    func assertSame(_ disk: DiskRaftStorage, _ model: MemoryRaftStorage, _ note: String) throws {
        #expect(disk.hardState == model.hardState, "\(note): hard state")
        #expect(disk.snapshot == model.snapshot, "\(note): snapshot")
        #expect(disk.firstIndex == model.firstIndex && disk.lastIndex == model.lastIndex, "\(note): bounds")
        if model.lastIndex >= model.firstIndex {
            #expect(try disk.entries(model.firstIndex..<(model.lastIndex + 1)) == model.log, "\(note): entries")
        }
        #expect(disk.term(at: model.snapshot.index) == model.snapshot.term)
    }

    @Test func bootstrapIsDurableAndHappensOnce() throws {
        let dir = ScratchDirectory()
        let configuration = RaftConfiguration(voters: [1, 2, 3])
        do {
            let storage = try DiskRaftStorage(directory: dir.path, bootstrap: configuration, logger: logger)
            try assertSame(storage, MemoryRaftStorage(bootstrap: configuration), "fresh")
        }
        var reopened = try DiskRaftStorage(directory: dir.path, bootstrap: configuration, logger: logger)
        #expect(reopened.lastIndex == 1, "a second start must not bootstrap again")
        try reopened.persist(RaftReady(hardState: RaftHardState(term: 2, vote: 1, commit: 1), entries: [RaftEntry(term: 2, index: 2, kind: .noop)]))
        let again = try DiskRaftStorage(directory: dir.path, bootstrap: configuration, logger: logger)
        #expect(again.lastIndex == 2 && again.hardState.term == 2 && again.hardState.vote == 1)
    }

    /// Random readies and compactions applied to both; equal after every step and after reopening.
    @Test func matchesTheModelAcrossRandomHistoriesAndRestarts() async throws {
        await propertyCheck(count: 40, input: Gen.int(in: 0...1000).array(of: 5...40)) { choices in
            let dir = ScratchDirectory()
            var model = MemoryRaftStorage()
            var disk = try DiskRaftStorage(directory: dir.path, bootstrap: nil, segmentBytes: 600, logger: logger)
            var term: UInt64 = 1
            for (step, choice) in choices.enumerated() {
                switch choice % 5 {
                case 0, 1, 2:
                    // Append 1–4 entries, sometimes overwriting a suffix (a follower's conflict).
                    let back = UInt64(choice % 3)
                    let start = max(model.firstIndex, model.lastIndex + 1 - min(back, model.lastIndex + 1 - model.firstIndex))
                    if choice % 7 == 0 { term += 1 }
                    let entries = (0..<UInt64(1 + choice % 4)).map {
                        RaftEntry(term: term, index: start + $0, kind: .normal, data: Array("e\(step)-\($0)".utf8))
                    }
                    let ready = RaftReady(hardState: RaftHardState(term: term, vote: 1, commit: model.hardState.commit), entries: entries)
                    try model.persist(ready)
                    try disk.persist(ready)
                case 3 where model.lastIndex > model.snapshot.index:
                    let index = model.snapshot.index + 1 + UInt64(choice) % (model.lastIndex - model.snapshot.index)
                    let snapshot = RaftSnapshot(index: index, term: model.term(at: index) ?? 0,
                                                configuration: RaftConfiguration(voters: [1]), data: [UInt8(index & 0xFF)])
                    try model.compact(to: snapshot)
                    try disk.compact(to: snapshot)
                case 4:
                    disk = try DiskRaftStorage(directory: dir.path, bootstrap: nil, segmentBytes: 600, logger: logger)
                    #expect(disk.recoveredTornBytes == 0)
                default:
                    break
                }
                try assertSame(disk, model, "step \(step)")
            }
            let reopened = try DiskRaftStorage(directory: dir.path, bootstrap: nil, segmentBytes: 600, logger: logger)
            try assertSame(reopened, model, "after reopen")
        }
    }

    @Test func anInstalledSnapshotReplacesTheLog() throws {
        let dir = ScratchDirectory()
        var disk = try DiskRaftStorage(directory: dir.path, bootstrap: RaftConfiguration(voters: [1, 2, 3]), logger: logger)
        let snapshot = RaftSnapshot(index: 500, term: 7, configuration: RaftConfiguration(voters: [1, 2, 3]), data: Array(repeating: 9, count: 4096))
        try disk.persist(RaftReady(hardState: RaftHardState(term: 7, vote: 0, commit: 500), snapshot: snapshot))
        let reopened = try DiskRaftStorage(directory: dir.path, bootstrap: nil, logger: logger)
        #expect(reopened.snapshot == snapshot)
        #expect(reopened.firstIndex == 501 && reopened.lastIndex == 500)
        #expect(reopened.hardState.commit == 500)
    }
}
