extension RaftNode {
    /// How an election starts.
    enum CampaignKind {
        /// A pre-vote round: asks whether peers would vote, without bumping the term.
        case preElection
        /// A real election in term + 1.
        case election
        /// A real election ordered by TimeoutNow: overrides the peers' leader lease.
        case transfer
    }

    /// Processes a message from a peer. Messages not addressed to this node are ignored.
    public mutating func step(_ message: RaftMessage) {
        guard message.to == id, message.from != 0, message.from != id else { return }
        if message.term > term {
            if case .requestVote(_, _, _, let transfer) = message.body {
                let inLease = options.checkQuorum && leaderID != 0 && electionElapsed < options.electionTimeout
                if inLease && !transfer { return }
            }
            switch message.body {
            case .requestVote(_, _, true, _):
                break  // A pre-vote never changes our term.
            case .voteResponse(true, true):
                break  // A granted pre-vote carries the term the candidate will campaign in.
            case .appendEntries, .heartbeat, .installSnapshot:
                becomeFollower(term: message.term, leader: message.from)
            default:
                becomeFollower(term: message.term, leader: 0)
            }
        } else if message.term < term {
            switch message.body {
            case .appendEntries, .heartbeat:
                // A stale leader (e.g. one partitioned away whose peers moved on): tell it our
                // term so it steps down; with pre-vote it could otherwise never learn of it.
                if options.checkQuorum || options.preVote {
                    send(to: message.from, .appendResponse(index: 0, reject: true, rejectHint: 0, hintTerm: 0))
                }
            case .requestVote(_, _, true, _):
                send(to: message.from, .voteResponse(granted: false, preVote: true))
            default:
                break
            }
            return
        }

        if case .requestVote(let lastIndex, let lastTerm, let preVote, _) = message.body {
            handleVoteRequest(message, lastIndex: lastIndex, lastTerm: lastTerm, preVote: preVote)
            return
        }
        switch role {
        case .leader: stepLeader(message)
        case .candidate, .preCandidate: stepCandidate(message)
        case .follower: stepFollower(message)
        }
    }

    private mutating func handleVoteRequest(_ message: RaftMessage, lastIndex: UInt64, lastTerm: UInt64, preVote: Bool) {
        let canVote = vote == message.from || (vote == 0 && leaderID == 0) || (preVote && message.term > term)
        if canVote && log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm) {
            send(to: message.from, .voteResponse(granted: true, preVote: preVote), term: message.term)
            if !preVote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            send(to: message.from, .voteResponse(granted: false, preVote: preVote))
        }
    }

    private mutating func stepCandidate(_ message: RaftMessage) {
        switch message.body {
        case .voteResponse(let granted, let preVote):
            guard preVote == (role == .preCandidate) else { return }
            if votes[message.from] == nil { votes[message.from] = granted }
            switch tally() {
            case .won:
                if role == .preCandidate { campaign(.election) } else { becomeLeader() }
            case .lost:
                becomeFollower(term: term, leader: 0)
            case .pending:
                break
            }
        case .appendEntries:
            becomeFollower(term: message.term, leader: message.from)
            stepFollower(message)
        case .heartbeat, .installSnapshot:
            becomeFollower(term: message.term, leader: message.from)
            stepFollower(message)
        default:
            break
        }
    }

    enum Tally { case won, lost, pending }

    func tally() -> Tally {
        let voters = log.configuration.voters
        var granted = 0
        var rejected = 0
        for (voter, answer) in votes where voters.contains(voter) {
            if answer { granted += 1 } else { rejected += 1 }
        }
        let quorum = log.configuration.quorum
        if granted >= quorum { return .won }
        if rejected > voters.count - quorum { return .lost }
        return .pending
    }

    mutating func campaign(_ kind: CampaignKind) {
        guard isPromotable else { return }
        let voteTerm: UInt64
        if kind == .preElection {
            role = .preCandidate
            leaderID = 0
            votes = [:]
            voteTerm = term + 1
        } else {
            reset(term: term + 1)
            role = .candidate
            vote = id
            voteTerm = term
        }
        votes[id] = true
        if tally() == .won {
            if kind == .preElection { campaign(.election) } else { becomeLeader() }
            return
        }
        let body = RaftMessageBody.requestVote(
            lastIndex: log.lastIndex, lastTerm: log.lastTerm,
            preVote: kind == .preElection, transfer: kind == .transfer
        )
        for voter in log.configuration.voters.sorted() where voter != id {
            send(to: voter, body, term: voteTerm)
        }
    }

    /// Resets per-term volatile state; clears the vote only if the term changes.
    mutating func reset(term newTerm: UInt64) {
        if term != newTerm {
            term = newTerm
            vote = 0
        }
        leaderID = 0
        electionElapsed = 0
        heartbeatElapsed = 0
        resetElectionTimeout()
        leadTransferee = 0
        votes = [:]
        progress = [:]
        pendingReads = []
        readsAwaitingCommit = []
        broadcastPending = false
    }

    mutating func becomeFollower(term newTerm: UInt64, leader: RaftNodeID) {
        reset(term: newTerm)
        role = .follower
        leaderID = leader
    }

    mutating func becomeLeader() {
        reset(term: term)
        role = .leader
        leaderID = id
        syncProgress()
        for key in progress.keys { progress[key]?.recentActive = true }
        appendEntry(kind: .noop, data: [])
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        for key in progress.keys where progress[key]?.state == .snapshot {
            progress[key]?.snapshotTicks += 1
            if let ticks = progress[key]?.snapshotTicks, ticks > options.electionTimeout {
                progress[key]?.becomeProbe()  // The snapshot was probably lost: try again.
            }
        }
        if electionElapsed >= options.electionTimeout {
            electionElapsed = 0
            if options.checkQuorum {
                let voters = log.configuration.voters
                let active = voters.filter { $0 == id || progress[$0]?.recentActive == true }.count
                if active < log.configuration.quorum {
                    becomeFollower(term: term, leader: 0)
                    return
                }
                for key in progress.keys { progress[key]?.recentActive = false }
            }
            leadTransferee = 0  // A transfer that did not finish within an election timeout is abandoned.
        }
        if heartbeatElapsed >= options.heartbeatTimeout {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }
}
