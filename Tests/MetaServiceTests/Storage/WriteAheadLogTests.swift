import Foundation
import Logging
import Testing

@testable import MetaService

/// A temporary directory removed when the value is released.
final class ScratchDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "tributary-meta-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func files(withPrefix prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
    }
}

@Suite("Raft write-ahead log")
struct WriteAheadLogTests {
    let logger = Logger(label: "test.wal")

    func entry(_ index: UInt64, term: UInt64 = 1) -> WALRecord {
        .entry(index: index, term: term, payload: Array("value-\(index)-\(term)".utf8))
    }

    func entryIndices(_ recovered: WriteAheadLog.Recovered) -> [UInt64] { recovered.entries.map(\.index) }

    @Test func syncedRecordsAreRecoveredOnReopen() throws {
        let dir = ScratchDirectory()
        do {
            let (wal, recovered) = try WriteAheadLog.open(directory: dir.path, logger: logger)
            #expect(recovered.entries.isEmpty && recovered.hardState == nil)
            try wal.append((1...50).map { entry($0) } + [.hardState(term: 1, vote: 2, commit: 40)])
            try wal.sync()
        }
        let (_, recovered) = try WriteAheadLog.open(directory: dir.path, logger: logger)
        #expect(entryIndices(recovered) == Array(1...50))
        #expect(recovered.entries[9].payload == Array("value-10-1".utf8))
        #expect(recovered.hardState?.term == 1 && recovered.hardState?.vote == 2 && recovered.hardState?.commit == 40)
        #expect(recovered.truncatedBytes == 0)
    }

    @Test func aLaterEntryReplacesTheConflictingSuffix() throws {
        let dir = ScratchDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: dir.path, logger: logger)
            try wal.append((1...5).map { entry($0, term: 1) })
            try wal.append([entry(3, term: 2), entry(4, term: 2)])
            try wal.sync()
        }
        let (_, recovered) = try WriteAheadLog.open(directory: dir.path, logger: logger)
        #expect(entryIndices(recovered) == [1, 2, 3, 4])
        #expect(recovered.entries.map(\.term) == [1, 1, 2, 2])
    }

    @Test(arguments: [1, 5, 9, 20])
    func aTornTailIsTruncatedAndTheLogContinues(cut: Int) throws {
        let dir = ScratchDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: dir.path, logger: logger)
            try wal.append((1...10).map { entry($0) })
            try wal.sync()
        }
        let file = dir.path + "/" + dir.files(withPrefix: "wal-")[0]
        let size = try #require(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        try truncate(file, to: size - cut)
        do {
            let (wal, recovered) = try WriteAheadLog.open(directory: dir.path, logger: logger)
            #expect(entryIndices(recovered) == Array(1...9), "the cut record is dropped, all others kept")
            #expect(recovered.truncatedBytes > 0)
            try wal.append([entry(10, term: 3)])
            try wal.sync()
        }
        let (_, again) = try WriteAheadLog.open(directory: dir.path, logger: logger)
        #expect(entryIndices(again) == Array(1...10))
        #expect(again.entries.last?.term == 3)
        #expect(again.truncatedBytes == 0)
    }

    @Test func aBadFinalRecordOrAZeroTailIsTorn() throws {
        let dir = ScratchDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: dir.path, logger: logger)
            try wal.append((1...3).map { entry($0) })
            try wal.sync()
        }
        let file = dir.path + "/" + dir.files(withPrefix: "wal-")[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 2] ^= 0x40  // flip a bit in the last record
        bytes.append(Data(count: 4096))  // and a zero-filled extension after it
        try bytes.write(to: URL(fileURLWithPath: file))
        let (_, recovered) = try WriteAheadLog.open(directory: dir.path, logger: logger)
        #expect(entryIndices(recovered) == [1, 2])
    }

    @Test func damageBeforeTheTailStopsTheNode() throws {
        let dir = ScratchDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: dir.path, logger: logger)
            try wal.append((1...3).map { entry($0) })
            try wal.sync()
        }
        let file = dir.path + "/" + dir.files(withPrefix: "wal-")[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[12] ^= 0x01  // inside the first record; valid records follow
        try bytes.write(to: URL(fileURLWithPath: file))
        #expect(throws: MetaStorageError.corrupt(path: file, offset: 0, reason: "CRC mismatch")) {
            _ = try WriteAheadLog.open(directory: dir.path, logger: logger)
        }
    }

    @Test func segmentsRollCarryStateAndCompact() throws {
        let dir = ScratchDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: dir.path, segmentBytes: 512, logger: logger)
            try wal.append([.hardState(term: 4, vote: 1, commit: 0)])
            for index in 1...200 {
                try wal.append([entry(UInt64(index), term: 4)])
            }
            try wal.append([.hardState(term: 4, vote: 1, commit: 150), .snapshot(index: 150, term: 4)])
            try wal.sync()
            let before = wal.segmentCount
            #expect(before > 5)
            try wal.compact(through: 150)
            #expect(wal.segmentCount < before)
            #expect(dir.files(withPrefix: "wal-").count == wal.segmentCount)
        }
        let (_, recovered) = try WriteAheadLog.open(directory: dir.path, segmentBytes: 512, logger: logger)
        #expect(recovered.snapshot?.index == 150)
        #expect(recovered.hardState?.commit == 150)
        #expect(entryIndices(recovered) == Array(151...200))
    }

    @Test func aCorruptSealedSegmentIsRefused() throws {
        let dir = ScratchDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: dir.path, segmentBytes: 256, logger: logger)
            for index in 1...40 { try wal.append([entry(UInt64(index))]) }
            try wal.sync()
        }
        let first = dir.path + "/" + dir.files(withPrefix: "wal-")[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: first))
        bytes.removeLast(3)  // a sealed segment cut short is damage, not a torn tail
        try bytes.write(to: URL(fileURLWithPath: first))
        #expect(throws: MetaStorageError.self) {
            _ = try WriteAheadLog.open(directory: dir.path, segmentBytes: 256, logger: logger)
        }
    }

    func truncate(_ path: String, to length: Int) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(length))
        try handle.close()
    }
}

@Suite("Raft snapshot files")
struct SnapshotStoreTests {
    let logger = Logger(label: "test.snap")

    @Test func savesAtomicallyLoadsTheNewestAndKeepsTwo() throws {
        let dir = ScratchDirectory()
        let store = try SnapshotStore(directory: dir.path, logger: logger)
        #expect(try store.loadLatest() == nil)
        for index in [10, 20, 30] as [UInt64] {
            try store.save(.init(index: index, term: 2, data: Array(repeating: UInt8(index), count: 1000)))
        }
        let latest = try #require(try store.loadLatest())
        #expect(latest.index == 30 && latest.term == 2 && latest.data == Array(repeating: 30, count: 1000))
        #expect(dir.files(withPrefix: "snapshot-").count == 2)
    }

    @Test func leftoverTemporaryFilesAreRemoved() throws {
        let dir = ScratchDirectory()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir.path + "/snapshot-x.snap.tmp"))
        let store = try SnapshotStore(directory: dir.path, logger: logger)
        #expect(dir.files(withPrefix: "snapshot-x").isEmpty)
        #expect(try store.loadLatest() == nil)
    }

    @Test func aDamagedSnapshotIsAnErrorNotAFallback() throws {
        let dir = ScratchDirectory()
        let store = try SnapshotStore(directory: dir.path, logger: logger)
        try store.save(.init(index: 5, term: 1, data: Array(0..<200)))
        let file = dir.path + "/" + dir.files(withPrefix: "snapshot-")[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        #expect(throws: MetaStorageError.corrupt(path: file, offset: SnapshotStore.headerBytes, reason: "CRC mismatch")) {
            _ = try store.loadLatest()
        }
    }
}

@Suite("Raft write-ahead log: damaged lengths")
struct WriteAheadLogLengthDamageTests {
    /// A bit flip in a record's length field must not pass for a torn tail: the records after
    /// it were synced and may be committed.
    @Test func aDamagedLengthBeforeValidRecordsIsCorruption() throws {
        let dir = ScratchDirectory()
        let logger = Logger(label: "test.wal")
        do {
            let (wal, _) = try WriteAheadLog.open(directory: dir.path, logger: logger)
            try wal.append((1...3).map { WALRecord.entry(index: $0, term: 1, payload: [1, 2, 3]) })
            try wal.sync()
        }
        let file = dir.path + "/" + dir.files(withPrefix: "wal-")[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[1] ^= 0x10  // the first record now claims ~1 MiB, far past the end of the file
        try bytes.write(to: URL(fileURLWithPath: file))
        #expect(throws: MetaStorageError.corrupt(path: file, offset: 0, reason: "damaged record header")) {
            _ = try WriteAheadLog.open(directory: dir.path, logger: logger)
        }
    }
}
