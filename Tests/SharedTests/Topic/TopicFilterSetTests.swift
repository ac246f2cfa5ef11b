import PropertyBased
import Testing

@testable import Shared

@Suite("TopicFilterSet matching (MQTT 5 §4.7)")
struct TopicFilterSetTests {
    @Test("spec examples: '+', '#', parent level, '$' topics")
    func specExamples() throws {
        let set = try TopicFilterSet(["sport/tennis/player1/#", "sport/+/scores", "+/+", "#"])
        #expect(set.matches("sport/tennis/player1"))
        #expect(set.matches("sport/tennis/player1/ranking/wimbledon"))
        #expect(set.matches("anything/at/all"))
        #expect(!set.matches("$SYS/monitor/Clients"))

        let sport = try TopicFilterSet(["sport/#"])
        #expect(sport.matches("sport"))
        #expect(sport.matches("sport/"))
        #expect(!sport.matches("sports"))

        let plus = try TopicFilterSet(["sport/+"])
        #expect(!plus.matches("sport"))
        #expect(plus.matches("sport/"))
        #expect(!plus.matches("sport/tennis/x"))

        let leading = try TopicFilterSet(["/+"])
        #expect(leading.matches("/finance"))
        #expect(!leading.matches("finance"))

        let dollar = try TopicFilterSet(["$SYS/#", "+/monitor/Clients"])
        #expect(dollar.matches("$SYS/monitor/Clients"))
        #expect(!dollar.matches("$OTHER/monitor/Clients"))
        #expect(dollar.matches("a/monitor/Clients"))
    }

    @Test("invalid filters are refused with a typed error")
    func validation() {
        #expect(throws: TopicFilterError.empty) { try TopicFilterSet.validate("") }
        #expect(throws: TopicFilterError.misplacedMultiLevelWildcard(filter: "sport/tennis#")) {
            try TopicFilterSet.validate("sport/tennis#")
        }
        #expect(throws: TopicFilterError.misplacedMultiLevelWildcard(filter: "sport/#/ranking")) {
            try TopicFilterSet.validate("sport/#/ranking")
        }
        #expect(throws: TopicFilterError.misplacedSingleLevelWildcard(filter: "sport+")) { try TopicFilterSet.validate("sport+") }
        #expect(throws: TopicFilterError.containsNull) { try TopicFilterSet.validate("a/\u{0}") }
        #expect(throws: TopicFilterError.tooLong(bytes: 65_536)) {
            try TopicFilterSet.validate(String(repeating: "a", count: 65_536))
        }
        #expect(throws: Never.self) { try TopicFilterSet.validate("+/+/#") }
    }

    @Test("insert, remove and equality ignore order and duplicates")
    func insertRemove() throws {
        var set = TopicFilterSet()
        #expect(!set.matches("a/b"))
        let first = try set.insert("a/+")
        let second = try set.insert("a/+")
        #expect(first && !second)
        try set.insert("c/#")
        #expect(set.matches("a/b") && set.matches("c/d/e"))
        let removed = set.remove("a/+")
        let removedAgain = set.remove("a/+")
        #expect(removed && !removedAgain)
        #expect(!set.matches("a/b"))
        #expect(set.matches("c"))
        #expect(set == (try TopicFilterSet(["c/#"])))
        #expect(set.count == 1)
    }

    @Test("keys that are not UTF-8 match nothing")
    func utf8Keys() throws {
        let set = try TopicFilterSet(["#"])
        #expect(set.matches(utf8: Array("a/b".utf8)))
        #expect(!set.matches(utf8: [UInt8]([0xFF, 0xFE])))
    }

    @Test("the trie agrees with a brute-force matcher on random filters and topics")
    func agreesWithBruteForce() async {
        await propertyCheck(count: 400, input: Gen.uint64()) { seed in
            var random = SplitMix(seed: seed)
            let levels = ["a", "b", "", "$s", "ab"]
            var filters: [String] = []
            for _ in 0..<random.next(below: 6) {
                var parts: [String] = []
                let count = 1 + random.next(below: 4)
                for index in 0..<count {
                    switch random.next(below: 7) {
                    case 0: parts.append("+")
                    case 1 where index == count - 1: parts.append("#")
                    default: parts.append(levels[random.next(below: levels.count)])
                    }
                }
                let filter = parts.joined(separator: "/")
                filters.append(filter.isEmpty ? "a" : filter)
            }
            let set = try? TopicFilterSet(filters)
            #expect(set != nil)
            for _ in 0..<20 {
                let topic = (0..<(1 + random.next(below: 4))).map { _ in levels[random.next(below: levels.count)] }
                    .joined(separator: "/")
                let expected = filters.contains { bruteForceMatches(filter: $0, topic: topic) }
                #expect(set?.matches(topic) == expected, "filters \(filters) topic '\(topic)'")
            }
        }
    }

    /// A direct reading of MQTT 5 §4.7, level by level, with no shared structure.
    private func bruteForceMatches(filter: String, topic: String) -> Bool {
        let f = filter.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let t = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if topic.hasPrefix("$") && (f[0] == "+" || f[0] == "#") { return false }
        var index = 0
        while index < f.count {
            if f[index] == "#" { return true }
            guard index < t.count else { return false }
            if f[index] != "+" && f[index] != t[index] { return false }
            index += 1
        }
        return index == t.count
    }
}

/// A tiny deterministic generator for building random filter sets from one seed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
