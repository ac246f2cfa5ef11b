/// Comparisons whose running time does not depend on where two secrets differ.
///
/// Used wherever a secret (password hash, SCRAM key, MAC) is compared with attacker-supplied
/// bytes, so that timing does not reveal how many leading bytes were right.
public enum ConstantTime {
    /// Returns `true` when both sequences hold the same bytes. The time taken depends only on
    /// the lengths (which are public: hash and key sizes are fixed), never on the contents.
    public static func equals<A: Collection<UInt8>, B: Collection<UInt8>>(_ lhs: A, _ rhs: B) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) {
            difference |= left ^ right
        }
        return difference == 0
    }
}
