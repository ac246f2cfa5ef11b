/// Why configuration was refused at start. Each case names the key (or file, or variable) and
/// the problem, and the process exits non-zero with ``description`` as its message.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `--config` named a file that does not exist or cannot be read.
    case fileNotReadable(path: String, reason: String)
    /// The file is not valid YAML or its top level is not a mapping.
    case fileNotParsable(path: String, reason: String)
    /// The file contains a key Tributary does not know.
    case unknownKey(path: String, key: String, suggestion: String?)
    /// A key that is a section in the catalog holds a value, or a key holds a section.
    case wrongShape(path: String, key: String, expected: String)
    /// An environment variable with the `TRIBUTARY_` prefix matches no key.
    case unknownEnvironmentVariable(name: String, suggestion: String?)
    /// A value does not fit its key.
    case badValue(key: String, source: String, problem: String)
    /// Two values are fine alone but not together.
    case inconsistent(key: String, problem: String)

    public var description: String {
        switch self {
        case .fileNotReadable(let path, let reason):
            return "config file '\(path)': cannot be read: \(reason)"
        case .fileNotParsable(let path, let reason):
            return "config file '\(path)': not valid YAML: \(reason)"
        case .unknownKey(let path, let key, let suggestion):
            return "config file '\(path)': unknown key '\(key)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
        case .wrongShape(let path, let key, let expected):
            return "config file '\(path)': key '\(key)' must be \(expected)"
        case .unknownEnvironmentVariable(let name, let suggestion):
            return "environment variable \(name) matches no configuration key"
                + (suggestion.map { " (did you mean \($0)?)" } ?? "")
        case .badValue(let key, let source, let problem):
            return "config key '\(key)' (from \(source)): \(problem)"
        case .inconsistent(let key, let problem):
            return "config key '\(key)': \(problem)"
        }
    }
}
