extension ShardMetadata {
    /// The segment accepting appends: the last one, unless it is sealed (then a new one is being
    /// opened) or the record has none yet (pending placement).
    public var activeSegment: Segment? {
        guard let last = segments.last, !last.sealed, state == .active else { return nil }
        return last
    }

    /// The segment holding `offset`: the last one whose base offset is at most `offset` (the
    /// first one for offsets before every base, which its replicas then refuse as out of range).
    public func segment(containing offset: Int64) -> Segment? {
        segments.last { $0.baseOffset <= offset } ?? segments.first
    }
}
