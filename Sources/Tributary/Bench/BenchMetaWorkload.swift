import Foundation

/// The write workload of `tributary bench meta`: keys `bench/<n>` with `n` drawn uniformly out
/// of `keys`, and one fixed value of `valueSize` bytes.
struct BenchMetaWorkload: Sendable {
    /// The number of distinct keys.
    let keys: Int
    /// The value written by every put.
    let value: [UInt8]
    /// `value`, base64-encoded (etcd's JSON gateway takes bytes as base64).
    let valueBase64: String

    init(keys: Int, valueSize: Int) {
        self.keys = max(1, keys)
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        self.value = (0..<valueSize).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        self.valueBase64 = Data(self.value).base64EncodedString()
    }

    /// A key drawn at random.
    func nextKey() -> String {
        "bench/" + String(Int.random(in: 0..<keys))
    }

    /// The JSON body of an etcd `/v3/kv/put` of a random key.
    func nextEtcdPutBody() -> String {
        "{\"key\":\"" + Data(nextKey().utf8).base64EncodedString() + "\",\"value\":\"" + valueBase64 + "\"}"
    }
}
