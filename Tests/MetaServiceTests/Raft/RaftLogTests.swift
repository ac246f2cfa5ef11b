@testable import MetaService
import Testing

@Suite("Raft log and storage")
struct RaftLogTests {
    static let founders = RaftConfiguration(voters: [1, 2, 3])

    static func makeLog() throws -> RaftLog {
        try RaftLog(storage: MemoryRaftStorage(bootstrap: founders))
    }

    @Test("a configuration takes effect when appended and is rolled back when its entry is truncated")
    func configurationRollback() throws {
        var log = try Self.makeLog()
        let grown = RaftConfiguration(voters: [1, 2, 3, 4])
        let change = RaftEntry(term: 2, index: 2, kind: .confChange, data: grown.encodedBytes())
        #expect(log.maybeAppend(prevIndex: 1, prevTerm: 1, [change]) == 2)
        #expect(log.configuration == grown)
        // A leader of term 3 replaces entry 2.
        #expect(log.maybeAppend(prevIndex: 1, prevTerm: 1, [RaftEntry(term: 3, index: 2, kind: .noop)]) == 2)
        #expect(log.configuration == Self.founders)
        #expect(log.unstableEntries.map(\.term) == [3])
    }

    @Test("a mismatching previous entry is refused, present entries are kept, committed ones never truncated")
    func appendRules() throws {
        var log = try Self.makeLog()
        #expect(log.maybeAppend(prevIndex: 1, prevTerm: 2, [RaftEntry(term: 2, index: 2)]) == nil)
        #expect(log.maybeAppend(prevIndex: 5, prevTerm: 1, []) == nil)
        let entries = (2...4).map { RaftEntry(term: 2, index: UInt64($0), data: [UInt8($0)]) }
        #expect(log.maybeAppend(prevIndex: 1, prevTerm: 1, entries) == 4)
        // A stale, shorter append does not cut the log.
        #expect(log.maybeAppend(prevIndex: 1, prevTerm: 1, Array(entries.prefix(1))) == 2)
        #expect(log.lastIndex == 4)
        log.commit(to: 3)
        #expect(log.maybeAppend(prevIndex: 2, prevTerm: 2, [RaftEntry(term: 9, index: 3)]) == nil)
        #expect(log.entry(at: 3)?.term == 2)
    }

    @Test("the conflict hint is the last index at or below the probe whose term is at most the probe's term")
    func conflictHint() throws {
        var log = try Self.makeLog()
        let terms: [UInt64] = [2, 2, 4, 4, 4, 7]
        let entries = terms.enumerated().map { RaftEntry(term: $0.element, index: UInt64($0.offset + 2)) }
        #expect(log.maybeAppend(prevIndex: 1, prevTerm: 1, entries) == 7)
        #expect(log.findConflictByTerm(7, 5) == 6)
        #expect(log.findConflictByTerm(7, 3) == 3)
        #expect(log.findConflictByTerm(100, 9) == 7)
        #expect(log.findConflictByTerm(7, 0) == 0)
    }

    @Test("compaction keeps the term and configuration at the snapshot index and refuses unapplied indices")
    func compaction() throws {
        var log = try Self.makeLog()
        let grown = RaftConfiguration(voters: [1, 2, 3, 4])
        let entries = [
            RaftEntry(term: 2, index: 2, kind: .noop),
            RaftEntry(term: 2, index: 3, kind: .confChange, data: grown.encodedBytes()),
            RaftEntry(term: 2, index: 4, data: [4]),
            RaftEntry(term: 3, index: 5, data: [5]),
        ]
        #expect(log.maybeAppend(prevIndex: 1, prevTerm: 1, entries) == 5)
        log.stable(to: 5, term: 3)
        log.commit(to: 5)
        #expect(throws: RaftError.compactionOutOfRange(index: 4)) { try log.compact(to: 4, data: []) }
        log.applied = 4
        let snapshot = try log.compact(to: 4, data: [42])
        #expect(snapshot == RaftSnapshot(index: 4, term: 2, configuration: grown, data: [42]))
        #expect(log.firstIndex == 5 && log.term(at: 4) == 2 && log.term(at: 3) == nil)
        #expect(log.configuration == grown)
        #expect(log.entries(from: 3, maxBytes: 100) == nil)
        #expect(throws: RaftError.compactionOutOfRange(index: 5)) { try log.compact(to: 5, data: []) }
    }

    @Test("storage appends truncate the stored suffix; a received snapshot replaces the whole log")
    func memoryStorage() throws {
        var disk = MemoryRaftStorage(bootstrap: Self.founders)
        try disk.persist(RaftReady(entries: [RaftEntry(term: 2, index: 2), RaftEntry(term: 2, index: 3)]))
        try disk.persist(RaftReady(hardState: RaftHardState(term: 3, vote: 2, commit: 2), entries: [RaftEntry(term: 3, index: 3)]))
        #expect(disk.log.map(\.term) == [1, 2, 3])
        #expect(disk.hardState == RaftHardState(term: 3, vote: 2, commit: 2))
        #expect(throws: RaftStorageError.self) { try disk.persist(RaftReady(entries: [RaftEntry(term: 3, index: 9)])) }
        let snapshot = RaftSnapshot(index: 10, term: 4, configuration: Self.founders, data: [1])
        try disk.persist(RaftReady(snapshot: snapshot))
        #expect(disk.firstIndex == 11 && disk.lastIndex == 10 && disk.term(at: 10) == 4)
        let reloaded = try RaftLog(storage: disk)
        #expect(reloaded.snapshot == snapshot && reloaded.committed == 10 && reloaded.applied == 10)
    }
}
