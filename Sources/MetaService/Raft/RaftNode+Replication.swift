extension RaftNode {
    mutating func stepLeader(_ message: RaftMessage) {
        switch message.body {
        case .appendResponse(let index, let reject, let hint, let hintTerm):
            handleAppendResponse(from: message.from, index: index, reject: reject, hint: hint, hintTerm: hintTerm)
        case .heartbeatResponse(let sequence):
            handleHeartbeatResponse(from: message.from, sequence: sequence)
        case .readIndex(let context):
            handleReadRequest(ReadRequest(context: context, from: message.from))
        default:
            break
        }
    }

    mutating func stepFollower(_ message: RaftMessage) {
        switch message.body {
        case .appendEntries(let prevIndex, let prevTerm, let entries, let commit):
            electionElapsed = 0
            leaderID = message.from
            handleAppendEntries(from: message.from, term: message.term, prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit)
        case .heartbeat(let commit, let sequence):
            electionElapsed = 0
            leaderID = message.from
            log.commit(to: commit)
            send(to: message.from, .heartbeatResponse(readSequence: sequence))
        case .installSnapshot(let snapshot):
            electionElapsed = 0
            leaderID = message.from
            handleSnapshot(from: message.from, snapshot)
        case .timeoutNow:
            campaign(.transfer)
        case .readIndexResponse(let context, let index):
            readStates.append(RaftReadState(index: index, context: context))
        default:
            break
        }
    }

    /// Appends a new entry of the current term to the leader's log.
    @discardableResult
    mutating func appendEntry(kind: RaftEntry.Kind, data: [UInt8]) -> UInt64 {
        let index = log.lastIndex + 1
        log.truncateAndAppend([RaftEntry(term: term, index: index, kind: kind, data: data)])
        if kind == .confChange { syncProgress() }
        _ = maybeCommit()
        broadcastPending = true
        return index
    }

    /// Brings the progress map in line with the configuration (leader only).
    mutating func syncProgress() {
        let members = log.configuration.members
        for member in members where member != id && progress[member] == nil {
            var entry = RaftProgress(next: log.lastIndex + 1)
            entry.recentActive = true
            progress[member] = entry
        }
        // A removed member keeps receiving the log until its removal commits, so it learns of it.
        if log.lastConfigIndex <= log.committed {
            for member in progress.keys where !members.contains(member) {
                progress[member] = nil
            }
        }
        if leadTransferee != 0 && !log.configuration.voters.contains(leadTransferee) {
            leadTransferee = 0
        }
    }

    /// Advances the commit index to the highest current-term index a quorum holds (§5.4.2).
    mutating func maybeCommit() -> Bool {
        let configuration = log.configuration
        let matches = configuration.voters.map { $0 == id ? log.lastIndex : progress[$0]?.match ?? 0 }.sorted(by: >)
        guard matches.count >= configuration.quorum else { return false }
        let candidate = matches[configuration.quorum - 1]
        guard candidate > log.committed, log.term(at: candidate) == term else { return false }
        log.commit(to: candidate)
        if progress.count > configuration.members.count - 1 { syncProgress() }
        releaseReadsAwaitingCommit()
        return true
    }

    /// Sends entries (or a snapshot) to `peer` if its flow control allows; returns whether a
    /// message was sent.
    @discardableResult
    mutating func sendAppend(to peer: RaftNodeID, sendIfEmpty: Bool) -> Bool {
        guard var entry = progress[peer], !entry.isPaused(maxInflight: options.maxInflightMessages) else { return false }
        let prevIndex = entry.next - 1
        guard let prevTerm = log.term(at: prevIndex),
              let entries = log.entries(from: entry.next, maxBytes: options.maxMessageBytes)
        else {
            entry.becomeSnapshot(log.snapshot.index)
            progress[peer] = entry
            send(to: peer, .installSnapshot(log.snapshot))
            return true
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        entry.sent(last: entries.last?.index ?? prevIndex, entryCount: entries.count)
        progress[peer] = entry
        send(to: peer, .appendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: log.committed))
        return true
    }

    mutating func broadcastAppend() {
        for peer in progress.keys.sorted() where sendAppend(to: peer, sendIfEmpty: true) {
            while sendAppend(to: peer, sendIfEmpty: false) {}
        }
    }

    mutating func broadcastHeartbeat() {
        let sequence = pendingReads.last?.sequence ?? 0
        for peer in progress.keys.sorted() {
            let match = progress[peer]?.match ?? 0
            send(to: peer, .heartbeat(commit: min(match, log.committed), readSequence: sequence))
        }
    }

    private mutating func handleAppendResponse(from peer: RaftNodeID, index: UInt64, reject: Bool, hint: UInt64, hintTerm: UInt64) {
        guard var entry = progress[peer], index <= log.lastIndex else { return }
        entry.recentActive = true
        if reject {
            let nextProbe = hintTerm > 0 ? log.findConflictByTerm(hint, hintTerm) : hint
            let decreased = entry.maybeDecrease(rejected: index, hint: nextProbe)
            if decreased && entry.state == .replicate { entry.becomeProbe() }
            progress[peer] = entry
            if decreased { sendAppend(to: peer, sendIfEmpty: true) }
            return
        }
        guard entry.maybeUpdate(index) else {
            progress[peer] = entry
            return
        }
        switch entry.state {
        case .probe:
            entry.becomeReplicate()
        case .snapshot:
            if entry.match + 1 >= log.firstIndex {
                entry.becomeProbe()
                entry.becomeReplicate()
            }
        case .replicate:
            entry.freeInflights(upTo: index)
        }
        progress[peer] = entry
        if maybeCommit() {
            broadcastAppend()
        } else {
            while sendAppend(to: peer, sendIfEmpty: false) {}
        }
        if peer == leadTransferee && progress[peer]?.match == log.lastIndex {
            send(to: peer, .timeoutNow)
        }
    }

    private mutating func handleHeartbeatResponse(from peer: RaftNodeID, sequence: UInt64) {
        guard var entry = progress[peer] else { return }
        entry.recentActive = true
        entry.probeSent = false
        if entry.state == .replicate && entry.inflights.count >= options.maxInflightMessages {
            entry.inflights.removeFirst()
        }
        progress[peer] = entry
        if entry.match < log.lastIndex || entry.state == .probe {
            sendAppend(to: peer, sendIfEmpty: true)
        }
        acknowledgeReads(from: peer, upTo: sequence)
    }

    private mutating func handleAppendEntries(
        from leader: RaftNodeID, term messageTerm: UInt64, prevIndex: UInt64, prevTerm: UInt64,
        entries: [RaftEntry], commit: UInt64
    ) {
        for (offset, entry) in entries.enumerated() {
            guard entry.index == prevIndex + 1 + UInt64(offset), entry.term <= messageTerm, entry.term >= prevTerm else {
                return  // Malformed: not a contiguous run of the leader's log.
            }
        }
        if prevIndex < log.committed {
            send(to: leader, .appendResponse(index: log.committed, reject: false, rejectHint: 0, hintTerm: 0))
            return
        }
        if let lastNew = log.maybeAppend(prevIndex: prevIndex, prevTerm: prevTerm, entries) {
            log.commit(to: min(commit, lastNew))
            send(to: leader, .appendResponse(index: lastNew, reject: false, rejectHint: 0, hintTerm: 0))
        } else {
            let hint = log.findConflictByTerm(min(prevIndex, log.lastIndex), prevTerm)
            send(to: leader, .appendResponse(index: prevIndex, reject: true, rejectHint: hint, hintTerm: log.term(at: hint) ?? 0))
        }
    }

    private mutating func handleSnapshot(from leader: RaftNodeID, _ snapshot: RaftSnapshot) {
        if snapshot.index <= log.committed {
            send(to: leader, .appendResponse(index: log.committed, reject: false, rejectHint: 0, hintTerm: 0))
            return
        }
        if log.matchTerm(snapshot.index, snapshot.term) {
            log.commit(to: snapshot.index)
        } else {
            log.restore(snapshot)
        }
        send(to: leader, .appendResponse(index: log.committed, reject: false, rejectHint: 0, hintTerm: 0))
    }
}
