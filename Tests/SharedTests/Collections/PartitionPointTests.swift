import PropertyBased
import Testing

@testable import Shared

@Suite("partitionPoint")
struct PartitionPointTests {
    @Test func matchesALinearScanOnSortedInput() async {
        await propertyCheck(input: Gen.int(in: 0...50).array(of: 0...40), Gen.int(in: -1...51)) { values, key in
            let sorted = values.sorted()
            let expected = sorted.firstIndex { $0 > key } ?? sorted.endIndex
            #expect(sorted.partitionPoint { $0 > key } == expected)
            let slice = sorted.dropFirst(min(3, sorted.count))
            #expect(slice.partitionPoint { $0 > key } == (slice.firstIndex { $0 > key } ?? slice.endIndex))
        }
    }
}
