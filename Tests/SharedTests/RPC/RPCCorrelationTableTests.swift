import PropertyBased
import Testing

@testable import Shared

@Suite("RPC correlation table")
struct RPCCorrelationTableTests {
    @Test func idsAreFreshAndEntriesAreFoundRemovedAndReused() {
        var table = RPCCorrelationTable<String>(capacity: 8)
        let a = table.insert("a")
        let b = table.insert("b")
        #expect(a != b && a != 0 && b != 0)
        #expect(table[a] == "a" && table[b] == "b")
        #expect(table.removeValue(forKey: a) == "a")
        #expect(table[a] == nil, "a removed id is gone")
        #expect(table.removeValue(forKey: a) == nil, "removing twice finds nothing")
        // Thousands of sequential calls reuse the same few slots; memory stays at the initial size.
        for _ in 0..<10_000 {
            let id = table.insert("x")
            #expect(table.removeValue(forKey: id) == "x")
        }
        #expect(table.count == 1)
        #expect(table.capacity == 8)
        #expect(table[b] == "b", "a long-lived entry survives its slot's id being skipped")
    }

    @Test func idsWrapAroundPastTheMaximumAndNeverUseZero() {
        var table = RPCCorrelationTable<Int>(capacity: 8, firstID: UInt64.max - 1)
        let ids = (0..<4).map { table.insert($0) }
        #expect(ids == [UInt64.max - 1, UInt64.max, 1, 2], "0 is reserved for keep-alive pings")
        for (value, id) in ids.enumerated() {
            #expect(table[id] == value)
        }
        #expect(table[0] == nil)
        #expect(table.removeValue(forKey: 0) == nil)
    }

    @Test func anIdWhoseSlotIsStillTakenIsSkipped() {
        var table = RPCCorrelationTable<Int>(capacity: 8)
        let longLived = table.insert(-1)  // id 1, slot 1
        var seen: Set<UInt64> = [longLived]
        for value in 0..<100 {
            let id = table.insert(value)
            #expect(!seen.contains(id), "ids are never handed out twice")
            #expect(Int(truncatingIfNeeded: id) & 7 != Int(truncatingIfNeeded: longLived) & 7, "the taken slot is skipped")
            seen.insert(id)
            #expect(table.removeValue(forKey: id) == value)
        }
        #expect(table[longLived] == -1)
    }

    @Test func growingKeepsEveryEntry() {
        var table = RPCCorrelationTable<Int>(capacity: 8)
        var ids: [UInt64] = []
        for value in 0..<1000 {
            ids.append(table.insert(value))
        }
        #expect(table.count == 1000)
        #expect(table.capacity >= 2000, "the ring stays at most half full")
        for (value, id) in ids.enumerated() {
            #expect(table[id] == value)
        }
        let all = table.removeAll()
        #expect(all.sorted() == Array(0..<1000))
        #expect(table.isEmpty)
        #expect(ids.allSatisfy { table[$0] == nil })
    }

    @Test func behavesLikeADictionaryUnderRandomInsertsAndRemovals() async {
        // Each step: a value ≥ 0 inserts; a negative value removes the entry inserted |value| steps ago.
        await propertyCheck(count: 200, input: Gen.int(in: -20...40).array(of: 0...300)) { steps in
            var table = RPCCorrelationTable<Int>(capacity: 8, firstID: UInt64.max - 50)
            var model: [UInt64: Int] = [:]
            var inserted: [UInt64] = []
            for step in steps {
                if step >= 0 {
                    let id = table.insert(step)
                    #expect(model[id] == nil, "a live id is never handed out again")
                    #expect(id != 0)
                    model[id] = step
                    inserted.append(id)
                } else if -step <= inserted.count {
                    let id = inserted[inserted.count + step]
                    #expect(table.removeValue(forKey: id) == model.removeValue(forKey: id))
                }
                #expect(table.count == model.count)
            }
            for (id, value) in model {
                #expect(table[id] == value)
            }
        }
    }
}
