/// Why bytes could not be decoded into a value of our binary encodings.
///
/// Every decoder in Tributary (RPC bodies, metadata records, journal batches) reports malformed
/// input with one of these cases instead of trapping, so a bad peer or a corrupt file produces a
/// clean, specific error.
public enum WireDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended before the value was complete.
    case truncated(what: String)
    /// A varint ran past its maximum length (10 bytes for 64 bits).
    case varintTooLong
    /// A declared length is larger than the limit allowed at this place.
    case lengthExceedsLimit(what: String, length: Int, limit: Int)
    /// A string was not valid UTF-8.
    case invalidUTF8(what: String)
    /// An enum tag or discriminator had no known meaning.
    case unknownTag(what: String, tag: UInt64)
    /// A value was outside its allowed range.
    case invalidValue(what: String, reason: String)

    public var description: String {
        switch self {
        case .truncated(let what): "truncated input while reading \(what)"
        case .varintTooLong: "varint longer than 10 bytes"
        case .lengthExceedsLimit(let what, let length, let limit):
            "\(what) declares \(length) bytes, more than the limit of \(limit)"
        case .invalidUTF8(let what): "\(what) is not valid UTF-8"
        case .unknownTag(let what, let tag): "unknown \(what) tag \(tag)"
        case .invalidValue(let what, let reason): "invalid \(what): \(reason)"
        }
    }
}
