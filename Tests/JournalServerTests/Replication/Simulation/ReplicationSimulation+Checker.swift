import NIOCore

@testable import JournalServer

/// The safety checker, run after the final seal.
extension ReplicationSimulation {
    /// Rebuilds the shard's log from the sealed segments' members and checks that segments
    /// follow each other, members agree byte for byte, every offset appears once, every
    /// acknowledged record is at its offset, and every record a reader saw is there too.
    mutating func check() {
        var log: [Int64: String] = [:]
        var expectedBase: Int64 = 0
        for segment in segments {
            guard let sealOffset = segment.sealOffset else {
                fail("segment \(segment.id) is not sealed at the end")
                return
            }
            if segment.base != expectedBase { fail("segment \(segment.id) starts at \(segment.base), expected \(expectedBase)") }
            guard let first = segment.members.first, let reference = nodes[index(first)].stores[segment.id] else {
                fail("segment \(segment.id) has no members")
                return
            }
            for member in segment.members.dropFirst() where nodes[index(member)].stores[segment.id]?.batches != reference.batches {
                fail("members \(first) and \(member) of segment \(segment.id) disagree")
            }
            if reference.durableEnd != sealOffset { fail("segment \(segment.id) member \(first) is durable only to \(reference.durableEnd)") }
            var next = segment.base
            for batch in reference.batches {
                guard batch.baseOffset == next, let records = try? batch.records() else {
                    fail("segment \(segment.id) batch at \(batch.baseOffset) is misplaced or undecodable")
                    return
                }
                for record in records {
                    if log[record.offset] != nil { fail("offset \(record.offset) appears twice") }
                    if record.offset != next { fail("offset \(record.offset) is out of order, expected \(next)") }
                    log[record.offset] = record.value.map { String(buffer: $0) } ?? ""
                    next = record.offset + 1
                }
            }
            expectedBase = sealOffset
        }
        for ack in acknowledged {
            guard let request = requests[ack.requestID] else { continue }
            for (position, value) in request.values.enumerated() where log[ack.baseOffset + Int64(position)] != value {
                let offset = ack.baseOffset + Int64(position)
                fail("acknowledged record \(value) at offset \(offset) is missing (found \(log[offset] ?? "nothing"))")
            }
        }
        for (offset, value) in observed.sorted(by: { $0.key < $1.key }) where log[offset] != value {
            fail("a reader saw \(value) at offset \(offset) but the log has \(log[offset] ?? "nothing")")
        }
    }

    /// A digest of the outcome (for the determinism test).
    var outcomeDigest: [Int64] {
        acknowledged.flatMap { [Int64($0.requestID), $0.baseOffset, $0.lastOffset] }
            + segments.flatMap { [$0.base, $0.sealOffset ?? -1, Int64($0.epoch)] + $0.members.map { Int64($0) } }
    }
}
