extension RandomAccessCollection {
    /// Binary search: the index of the first element for which `belongsAfter` is true, in a
    /// collection where every element for which it is false comes before every element for
    /// which it is true (for example entries sorted by a key, with `{ $0.key > k }`).
    /// `endIndex` when there is none.
    @inlinable
    public func partitionPoint(where belongsAfter: (Element) throws -> Bool) rethrows -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let half = count / 2
            let mid = index(low, offsetBy: half)
            if try belongsAfter(self[mid]) {
                count = half
            } else {
                low = index(after: mid)
                count -= half + 1
            }
        }
        return low
    }
}
