import Shared

/// Typed access to consumer groups in meta (``ConsumerGroupRecord`` under
/// `/groups/<tenant>/<group>`): generations and committed offsets, with Kafka's OffsetCommit
/// fencing. Every change is a read then a compare-and-set on the record's revision, retried
/// when another change got in between, so a commit is checked against the generation that is
/// current when it is written.
public struct ConsumerOffsetStore: Sendable {
    /// The meta client used.
    public let client: MetaClient

    /// Creates a store over `client`.
    public init(client: MetaClient) { self.client = client }

    /// The group's record, or nil.
    public func group(tenant: String, group: String) async throws -> ConsumerGroupRecord? {
        try await read(tenant: tenant, group: group)?.record
    }

    /// The group's committed offsets (empty for an unknown group).
    public func offsets(tenant: String, group: String) async throws -> [TopicPartition: CommittedOffset] {
        try await self.group(tenant: tenant, group: group)?.offsets ?? [:]
    }

    /// Starts the group's next generation with `members` (the coordinator does, when a
    /// rebalance completes); committed offsets are kept. Returns the new generation. Commits
    /// naming an earlier generation are refused from then on.
    @discardableResult
    public func startGeneration(tenant: String, group: String, members: Set<String>) async throws -> Int32 {
        guard members.count <= ConsumerGroupRecord.maxMembers else {
            throw MetaRecordError.invalidSetting(what: "members", reason: "more than \(ConsumerGroupRecord.maxMembers)")
        }
        for member in members where member.isEmpty || member.utf8.count > MetaRecordNames.maxGroupBytes {
            throw MetaRecordError.invalidName(what: "member id", name: member, reason: "empty or longer than \(MetaRecordNames.maxGroupBytes) bytes")
        }
        return try await change(tenant: tenant, group: group) { record in
            guard record.generation < Int32.max else {
                throw MetaRecordError.invalidSetting(what: "generation", reason: "the generation counter is exhausted")
            }
            record.generation += 1
            record.members = members
        }.generation
    }

    /// Commits `offsets` for the group (Kafka's OffsetCommit). A member of a running group names
    /// its `generation` and `memberID`: refused with ``MetaRecordError/unknownMember(group:memberID:)``
    /// when the member is not in the current generation and
    /// ``MetaRecordError/illegalGeneration(group:given:current:)`` when the generation is not the
    /// current one. A consumer outside group management commits with generation -1 and an empty
    /// member id, which is accepted only while the group has no members (creating the group if
    /// needed). Returns the group as written.
    @discardableResult
    public func commit(
        tenant: String, group: String, generation: Int32, memberID: String, offsets: [TopicPartition: CommittedOffset]
    ) async throws -> ConsumerGroupRecord {
        for (partition, offset) in offsets {
            try MetaRecordNames.validateTopic(partition.topic)
            guard partition.partition >= 0, offset.offset >= 0 else {
                throw MetaRecordError.invalidSetting(what: "offset \(partition.topic)/\(partition.partition)", reason: "partition and offset must not be negative")
            }
            guard offset.metadata.utf8.count <= ConsumerGroupRecord.maxMetadataBytes else {
                throw MetaRecordError.invalidSetting(what: "offset metadata", reason: "longer than \(ConsumerGroupRecord.maxMetadataBytes) bytes")
            }
        }
        return try await change(tenant: tenant, group: group) { record in
            if generation < 0 && memberID.isEmpty {
                guard record.members.isEmpty else {
                    throw MetaRecordError.illegalGeneration(group: group, given: generation, current: record.generation)
                }
            } else {
                guard record.members.contains(memberID) else { throw MetaRecordError.unknownMember(group: group, memberID: memberID) }
                guard generation == record.generation else {
                    throw MetaRecordError.illegalGeneration(group: group, given: generation, current: record.generation)
                }
            }
            record.offsets.merge(offsets) { _, new in new }
            guard record.offsets.count <= ConsumerGroupRecord.maxOffsets else {
                throw MetaRecordError.invalidSetting(what: "offsets", reason: "more than \(ConsumerGroupRecord.maxOffsets) per group")
            }
        }
    }

    /// Deletes the group (its generation and offsets); whether it existed.
    @discardableResult
    public func deleteGroup(tenant: String, group: String) async throws -> Bool {
        try MetaRecordNames.validateTenant(tenant)
        try MetaRecordNames.validateGroup(group)
        guard case .deleted(_, let count) = try await client.delete(ConsumerGroupRecord.key(tenant: tenant, group: group)) else { return false }
        return count > 0
    }

    private func read(tenant: String, group: String) async throws -> (record: ConsumerGroupRecord, revision: UInt64)? {
        try MetaRecordNames.validateTenant(tenant)
        try MetaRecordNames.validateGroup(group)
        let key = ConsumerGroupRecord.key(tenant: tenant, group: group)
        guard let current = try await client.get(key).keyValue else { return nil }
        do {
            return (try ConsumerGroupRecord(bytes: current.value), current.modRevision)
        } catch {
            throw MetaRecordError.corrupt(key: key, reason: error.description)
        }
    }

    /// Reads the group (a fresh one if absent), applies `body`, and writes it with a
    /// compare-and-set on what was read; retried when the record changed in between.
    private func change(tenant: String, group: String, _ body: (inout ConsumerGroupRecord) throws -> Void) async throws -> ConsumerGroupRecord {
        let key = ConsumerGroupRecord.key(tenant: tenant, group: group)
        for _ in 0..<MetaRecordRetry.attempts {
            let current = try await read(tenant: tenant, group: group)
            var record = current?.record ?? ConsumerGroupRecord(tenant: tenant, group: group)
            try body(&record)
            let bytes = record.encodedBytes
            guard bytes.count <= MetaLimits.maxValueBytes else {
                throw MetaRecordError.invalidSetting(what: "group \(group)", reason: "its record would exceed \(MetaLimits.maxValueBytes) bytes")
            }
            let expect: MetaCommand.Expectation = current.map { .modRevision($0.revision) } ?? .absent
            if case .written = try await client.compareAndSet(key, expect: expect, value: bytes) { return record }
        }
        throw MetaRecordError.contended(key: key)
    }
}
