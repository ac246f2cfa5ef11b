/// One operation of a client history. `returned == nil` means the outcome is unknown (the
/// client gave up): the operation may or may not have taken effect, at any time after `invoked`.
struct HistoryOperation: Equatable {
    var client: Int
    var operation: KVOperation
    var output: KVOutput?
    var invoked: Int
    var returned: Int?
}

/// A linearizability checker for key-value histories (Wing & Gong's search with Lowe's
/// memoisation of (linearized set, state), as in Porcupine), partitioned per key.
enum LinearizabilityChecker {
    enum Verdict: Equatable {
        case linearizable
        case notLinearizable(key: UInt8)
        case gaveUp(key: UInt8)
    }

    /// Checks `history`; `budget` bounds the search steps per key.
    static func check(_ history: [HistoryOperation], budget: Int = 2_000_000) -> Verdict {
        let byKey = Dictionary(grouping: history, by: { $0.operation.key })
        for key in byKey.keys.sorted() {
            guard let operations = byKey[key] else { continue }
            switch checkKey(operations, budget: budget) {
            case .some(true): continue
            case .some(false): return .notLinearizable(key: key)
            case .none: return .gaveUp(key: key)
            }
        }
        return .linearizable
    }

    private struct CacheKey: Hashable {
        var bits: [UInt64]
        var state: Int64?
    }

    /// `true` if linearizable, `false` if not, `nil` if the budget ran out.
    static func checkKey(_ operations: [HistoryOperation], budget: Int) -> Bool? {
        // Events: node 0 is the list head; node 2k+1 is op k's call, 2k+2 its return.
        struct Event { var time: Int; var isCall: Bool; var op: Int }
        var events: [Event] = []
        for (k, op) in operations.enumerated() {
            events.append(Event(time: op.invoked, isCall: true, op: k))
            events.append(Event(time: op.returned ?? Int.max, isCall: false, op: k))
        }
        events.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            return a.isCall && !b.isCall
        }
        let count = events.count
        // Doubly linked list over positions 1...count, 0 is the head sentinel.
        var next = Array(1...(count + 1))
        var prev = [0] + Array(0..<count)
        next[count] = -1
        var match = [Int](repeating: 0, count: count + 1)
        var callPosition = [Int](repeating: 0, count: operations.count)
        var returnPosition = [Int](repeating: 0, count: operations.count)
        for (position, event) in events.enumerated() {
            if event.isCall { callPosition[event.op] = position + 1 } else { returnPosition[event.op] = position + 1 }
        }
        for k in operations.indices { match[callPosition[k]] = returnPosition[k] }
        func lift(_ call: Int) {
            next[prev[call]] = next[call]
            if next[call] >= 0 { prev[next[call]] = prev[call] }
            let ret = match[call]
            next[prev[ret]] = next[ret]
            if next[ret] >= 0 { prev[next[ret]] = prev[ret] }
        }
        func unlift(_ call: Int) {
            let ret = match[call]
            next[prev[ret]] = ret
            if next[ret] >= 0 { prev[next[ret]] = ret }
            next[prev[call]] = call
            if next[call] >= 0 { prev[next[call]] = call }
        }
        var bits = [UInt64](repeating: 0, count: (operations.count + 63) / 64)
        var state: Int64? = nil
        var cache = Set<CacheKey>()
        var stack: [(call: Int, state: Int64?)] = []
        var position = next[0]
        var steps = 0
        while next[0] >= 0 {
            steps += 1
            if steps > budget { return nil }
            guard position >= 0 else { return false }
            let event = events[position - 1]
            if event.isCall {
                let op = operations[event.op]
                let (output, newState) = KVModel.step(state, op.operation)
                if op.output == nil || op.output == output {
                    var newBits = bits
                    newBits[event.op / 64] |= 1 << UInt64(event.op % 64)
                    if cache.insert(CacheKey(bits: newBits, state: newState)).inserted {
                        stack.append((position, state))
                        state = newState
                        bits = newBits
                        lift(position)
                        position = next[0]
                        continue
                    }
                }
                position = next[position]
            } else {
                guard let top = stack.popLast() else { return false }
                state = top.state
                let op = events[top.call - 1].op
                bits[op / 64] &= ~(1 << UInt64(op % 64))
                unlift(top.call)
                position = next[top.call]
            }
        }
        return true
    }
}
