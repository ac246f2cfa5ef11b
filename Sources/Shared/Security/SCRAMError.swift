/// Why a SCRAM-SHA-256 exchange failed. After any error the `SCRAMServer` is in its failed
/// state and accepts no further messages.
public enum SCRAMError: Error, Equatable, Sendable {
    /// A message did not follow the RFC 5802 §7 grammar; the value names the part.
    case malformedMessage(String)
    /// A message arrived in a state that does not expect it.
    case unexpectedMessage
    /// The client asked for channel binding (`p=`), which this server does not offer.
    case channelBindingNotSupported
    /// The client sent an authorization identity different from its user name.
    case unsupportedAuthorizationIdentity
    /// The client sent a mandatory extension (`m=`).
    case unsupportedExtension
    /// The client-final nonce is not the combined nonce of this exchange.
    case nonceMismatch
    /// The client-final channel binding (`c=`) does not repeat the GS2 header.
    case channelBindingMismatch
    /// The proof is wrong (wrong password or unknown user; deliberately indistinguishable).
    case authenticationFailed
}
