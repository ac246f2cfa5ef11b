@testable import MetaService

/// Checks Raft's safety properties over a simulation run, from what the nodes expose and what
/// they persist and apply. Violations are collected as readable strings.
struct SafetyChecker {
    /// term → the node that led it (election safety).
    private var leaders: [UInt64: RaftNodeID] = [:]
    /// (index, term) → (previous entry's term, the entry) seen in any node's durable log
    /// (log matching: same index and term imply the same entry and the same predecessor).
    private var logEntries: [LogKey: (prevTerm: UInt64, entry: RaftEntry)] = [:]
    /// index → the committed entry (state-machine safety, durability of committed entries).
    private(set) var committed: [UInt64: RaftEntry] = [:]
    /// The highest index known committed.
    private(set) var highestCommitted: UInt64 = 0
    /// (node, term) pairs whose leader completeness has been verified.
    private var verifiedLeaders: Set<LogKey> = []
    private(set) var violations: [String] = []

    struct LogKey: Hashable {
        var index: UInt64
        var term: UInt64
    }

    mutating func fail(_ message: String) {
        if violations.count < 20 { violations.append(message) }
    }

    /// Election safety and leader completeness, checked on every step for every live node.
    mutating func observe(_ node: RaftNode) {
        guard node.role == .leader else { return }
        if let other = leaders[node.term], other != node.id {
            fail("election safety: nodes \(other) and \(node.id) both lead term \(node.term)")
        }
        leaders[node.term] = node.id
        let key = LogKey(index: node.id, term: node.term)
        guard !verifiedLeaders.contains(key) else { return }
        verifiedLeaders.insert(key)
        for (index, entry) in committed where index > node.log.snapshot.index {
            if node.log.entry(at: index) != entry {
                fail("leader completeness: leader \(node.id) of term \(node.term) lacks committed entry \(index)/\(entry.term)")
            }
        }
    }

    /// Log matching over entries a node made durable; `previousTerm` is the term of the entry
    /// before `entries.first` in that node's storage.
    mutating func persisted(node: RaftNodeID, entries: [RaftEntry], previousTerm: UInt64?) {
        var prevTerm = previousTerm
        for entry in entries {
            let key = LogKey(index: entry.index, term: entry.term)
            if let known = logEntries[key] {
                if known.entry != entry {
                    fail("log matching: node \(node) has a different entry at \(entry.index)/\(entry.term)")
                }
                if let prevTerm, known.prevTerm != prevTerm {
                    fail("log matching: node \(node) entry \(entry.index)/\(entry.term) follows term \(prevTerm), another log's follows \(known.prevTerm)")
                }
            } else if let prevTerm {
                logEntries[key] = (prevTerm, entry)
            }
            prevTerm = entry.term
        }
    }

    /// Records an entry known committed (applied by a node, or below a durable commit index).
    mutating func committed(_ entry: RaftEntry, by node: RaftNodeID) {
        if let known = committed[entry.index] {
            if known != entry {
                fail("state machine safety: node \(node) committed \(entry.index)/\(entry.term), another node \(known.index)/\(known.term)")
            }
        } else {
            committed[entry.index] = entry
            highestCommitted = max(highestCommitted, entry.index)
        }
    }

    /// After a restart: every committed entry the node's durable log still covers must be intact.
    mutating func restarted(_ node: RaftNode) {
        for (index, entry) in committed where index > node.log.snapshot.index && index <= node.log.committed {
            if node.log.entry(at: index) != entry {
                fail("durability: node \(node.id) lost committed entry \(index) across a restart")
            }
        }
    }
}
