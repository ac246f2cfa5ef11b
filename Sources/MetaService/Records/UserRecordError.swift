/// Why a user record could not be built or read.
public enum UserRecordError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A user or tenant name is not acceptable.
    case invalidName(String)
    /// The password is not acceptable (empty, contains NUL, bad iteration count).
    case invalidPassword(String)
    /// The stored bytes are not a user record; the value names the problem.
    case malformed(String)

    public var description: String {
        switch self {
        case .invalidName(let problem): "invalid name: \(problem)"
        case .invalidPassword(let problem): "invalid password: \(problem)"
        case .malformed(let problem): "malformed user record: \(problem)"
        }
    }
}
