import NIOCore

/// One header of a ``Record``: a UTF-8 key and optional bytes.
public struct RecordHeader: Sendable, Hashable {
    /// The header name.
    public var key: String
    /// The header value (`nil` is distinct from empty).
    public var value: ByteBuffer?

    /// Creates a header.
    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }
}
