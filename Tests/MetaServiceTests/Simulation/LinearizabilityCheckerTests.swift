import Testing

@Suite("Linearizability checker")
struct LinearizabilityCheckerTests {
    typealias Op = HistoryOperation

    @Test("sequential history that follows the specification is linearizable")
    func sequential() {
        let history = [
            Op(client: 0, operation: .put(key: 1, value: 5), output: .ok, invoked: 1, returned: 2),
            Op(client: 0, operation: .get(key: 1), output: .value(5), invoked: 3, returned: 4),
            Op(client: 0, operation: .cas(key: 1, expected: 5, new: 6), output: .swapped(true), invoked: 5, returned: 6),
            Op(client: 0, operation: .get(key: 1), output: .value(6), invoked: 7, returned: 8),
        ]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
    }

    @Test("a stale read after a completed write is rejected")
    func staleRead() {
        let history = [
            Op(client: 0, operation: .put(key: 1, value: 5), output: .ok, invoked: 1, returned: 2),
            Op(client: 1, operation: .get(key: 1), output: .value(nil), invoked: 3, returned: 4),
        ]
        #expect(LinearizabilityChecker.check(history) == .notLinearizable(key: 1))
    }

    @Test("concurrent operations may take effect in either order")
    func concurrent() {
        let history = [
            Op(client: 0, operation: .put(key: 1, value: 1), output: .ok, invoked: 1, returned: 6),
            Op(client: 1, operation: .put(key: 1, value: 2), output: .ok, invoked: 2, returned: 5),
            Op(client: 2, operation: .get(key: 1), output: .value(2), invoked: 7, returned: 8),
        ]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
    }

    @Test("reads that observe two writes in opposite orders are rejected")
    func oppositeOrders() {
        let history = [
            Op(client: 0, operation: .put(key: 1, value: 1), output: .ok, invoked: 1, returned: 9),
            Op(client: 1, operation: .put(key: 1, value: 2), output: .ok, invoked: 2, returned: 9),
            Op(client: 2, operation: .get(key: 1), output: .value(1), invoked: 3, returned: 4),
            Op(client: 2, operation: .get(key: 1), output: .value(2), invoked: 5, returned: 6),
            Op(client: 3, operation: .get(key: 1), output: .value(1), invoked: 7, returned: 8),
        ]
        #expect(LinearizabilityChecker.check(history) == .notLinearizable(key: 1))
    }

    @Test("an operation with unknown outcome may have taken effect, or not")
    func unknownOutcome() {
        let tookEffect = [
            Op(client: 0, operation: .put(key: 2, value: 7), output: nil, invoked: 1, returned: nil),
            Op(client: 1, operation: .get(key: 2), output: .value(7), invoked: 5, returned: 6),
        ]
        #expect(LinearizabilityChecker.check(tookEffect) == .linearizable)
        let didNot = [
            Op(client: 0, operation: .put(key: 2, value: 7), output: nil, invoked: 1, returned: nil),
            Op(client: 1, operation: .get(key: 2), output: .value(nil), invoked: 5, returned: 6),
        ]
        #expect(LinearizabilityChecker.check(didNot) == .linearizable)
        let flipFlop = [
            Op(client: 0, operation: .put(key: 2, value: 7), output: nil, invoked: 1, returned: nil),
            Op(client: 1, operation: .get(key: 2), output: .value(7), invoked: 5, returned: 6),
            Op(client: 1, operation: .get(key: 2), output: .value(nil), invoked: 7, returned: 8),
        ]
        #expect(LinearizabilityChecker.check(flipFlop) == .notLinearizable(key: 2))
    }

    @Test("a failed compare-and-set must be explained by the value it saw")
    func casOutcome() {
        let history = [
            Op(client: 0, operation: .put(key: 3, value: 1), output: .ok, invoked: 1, returned: 2),
            Op(client: 1, operation: .cas(key: 3, expected: 1, new: 2), output: .swapped(false), invoked: 3, returned: 4),
        ]
        #expect(LinearizabilityChecker.check(history) == .notLinearizable(key: 3))
    }

    @Test("keys are checked independently")
    func perKey() {
        let history = [
            Op(client: 0, operation: .put(key: 1, value: 1), output: .ok, invoked: 1, returned: 2),
            Op(client: 0, operation: .put(key: 2, value: 2), output: .ok, invoked: 3, returned: 4),
            Op(client: 1, operation: .get(key: 1), output: .value(1), invoked: 5, returned: 6),
            Op(client: 1, operation: .get(key: 2), output: .value(1), invoked: 7, returned: 8),
        ]
        #expect(LinearizabilityChecker.check(history) == .notLinearizable(key: 2))
    }
}
