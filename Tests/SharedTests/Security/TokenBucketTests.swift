import PropertyBased
import Shared
import Testing

@Suite("TokenBucket")
struct TokenBucketTests {
    static let second: UInt64 = 1_000_000_000

    @Test func takesUpToTheBurstThenRefillsAtTheRate() {
        var bucket = TokenBucket(rate: 10, burst: 5, now: 0)
        let initial = (0..<6).map { _ in bucket.take(now: 0) }
        #expect(initial == [true, true, true, true, true, false])
        // 100 ms at 10/s is one token.
        let refilled = (0..<2).map { _ in bucket.take(now: Self.second / 10) }
        #expect(refilled == [true, false])
        // A long pause refills only up to the burst.
        let available = bucket.available(now: 100 * Self.second)
        #expect(available == 5)
    }

    @Test func saysHowLongUntilTokensAreThere() {
        var bucket = TokenBucket(rate: 1000, burst: 1000, now: 0)
        let now = bucket.nanoseconds(until: 1000, now: 0)
        #expect(now == 0)
        let taken = bucket.take(800, now: 0)
        #expect(taken)
        // 200 left: 500 more take 0.5 s at 1,000/s; more than the burst waits for the burst.
        let half = bucket.nanoseconds(until: 700, now: 0)
        #expect(half == Self.second / 2)
        let capped = bucket.nanoseconds(until: 5000, now: 0)
        #expect(capped == Self.second * 8 / 10)
        let later = bucket.nanoseconds(until: 700, now: Self.second / 2)
        #expect(later == 0)
    }

    @Test func grantsAboutRateTimesTimePlusBurstNeverMore() async {
        await propertyCheck(input: Gen.int(in: 1...50), Gen.int(in: 1...20)) { rate, burst in
            var bucket = TokenBucket(rate: Double(rate), burst: Double(burst), now: 0)
            var granted = 0
            // Try every millisecond for two seconds.
            for millisecond in 0...2000 where bucket.take(now: UInt64(millisecond) * 1_000_000) {
                granted += 1
            }
            #expect(granted <= burst + 2 * rate)
            // Polling each millisecond wastes a little refill whenever the bucket is full.
            #expect(granted >= burst + (2 * rate * 9) / 10 - 1)
        }
    }
}
