import MetaService

/// The simulated clients: each runs one operation at a time against the key-value store,
/// writes through the leader's log and reads through ReadIndex on any node, and records the
/// invocation and response in the history the linearizability checker reads.
extension RaftSimulation {
    func startClientOperations() {
        for c in clients.indices where clients[c] == nil && rng.chance(options.clientRate) {
            let key = UInt8(rng.int(0...Int(options.keys - 1)))
            let value = Int64(nextOpID)
            let operation: KVOperation
            switch rng.int(0...2) {
            case 0: operation = .put(key: key, value: value)
            case 1: operation = .get(key: key)
            default: operation = .cas(key: key, expected: rng.chance(0.5) ? nil : Int64(rng.int(1...Int(nextOpID))), new: value)
            }
            let command = KVCommand(opID: nextOpID, operation: operation)
            if case .get = operation {
                guard let target = rng.pick(nodes.filter { $0.raft != nil }.map(\.id)),
                      var raft = nodes[index(target)].raft,
                      (try? raft.readIndex(context: command.encoded())) != nil
                else { continue }
                nodes[index(target)].raft = raft
                invoke(c, command, node: target, writeIndex: nil)
            } else {
                guard var raft = leader, let entryIndex = try? raft.propose(command.encoded()) else { continue }
                nodes[index(raft.id)].raft = raft
                invoke(c, command, node: raft.id, writeIndex: entryIndex)
            }
        }
    }

    func invoke(_ c: Int, _ command: KVCommand, node: RaftNodeID, writeIndex: UInt64?) {
        clock += 1
        history.append(HistoryOperation(client: c, operation: command.operation, output: nil, invoked: clock, returned: nil))
        clients[c] = PendingOp(history: history.count - 1, opID: command.opID, node: node, writeIndex: writeIndex, deadline: now + options.clientTimeout)
        nextOpID += 1
    }

    func serveReads() {
        for i in nodes.indices where !nodes[i].reads.isEmpty {
            let applied = nodes[i].applied
            let ready = nodes[i].reads.filter { $0.index <= applied }
            nodes[i].reads.removeAll { $0.index <= applied }
            for read in ready {
                guard let c = clients.firstIndex(where: { $0?.opID == read.opID && $0?.node == nodes[i].id }),
                      let op = clients[c]
                else { continue }
                clock += 1
                let output = KVModel.step(nodes[i].kv.values[history[op.history].operation.key], history[op.history].operation).0
                history[op.history].output = output
                history[op.history].returned = clock
                stats.readsAcknowledged += 1
                clients[c] = nil
            }
        }
    }

    func expireClients() {
        for c in clients.indices {
            guard let op = clients[c], op.deadline <= now else { continue }
            if op.writeIndex == nil { discarded.insert(op.history) }  // A read without an answer had no effect.
            clients[c] = nil
        }
    }
}
