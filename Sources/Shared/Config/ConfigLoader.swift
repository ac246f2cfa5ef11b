import Configuration
import Foundation
import SystemPackage
import Yams

/// Loads and validates configuration through apple/swift-configuration, layering (highest
/// precedence first) flags, `TRIBUTARY_…` environment variables, the YAML file and defaults.
///
/// Everything is checked before the process starts serving: an unknown key in the file, an
/// unknown `TRIBUTARY_` variable, a missing or unparsable file, or a value that does not fit its
/// key is a ``ConfigurationError`` naming the key and the problem.
public struct ConfigLoader: Sendable {
    /// Path of the YAML file, if any.
    public var filePath: String?
    /// The process environment (injectable for tests).
    public var environment: [String: String]
    /// Values from command-line flags, by dotted key name.
    public var flags: [String: String]

    /// Creates a loader.
    public init(filePath: String?, environment: [String: String], flags: [String: String]) {
        self.filePath = filePath
        self.environment = environment
        self.flags = flags
    }

    /// Reads, validates and returns the configuration.
    public func load() async throws(ConfigurationError) -> TributaryConfig {
        for name in flags.keys where ConfigCatalog.spec(named: name) == nil {
            throw .badValue(key: name, source: "command line", problem: "no such configuration key")
        }
        try checkEnvironment()
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                name: "flags",
                values: Dictionary(uniqueKeysWithValues: flags.map { name, raw in
                    (AbsoluteConfigKey(Self.components(name)), ConfigValue(.string(raw), isSecret: false))
                })
            ),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: ConfigKey(["tributary"])),
        ]
        // An empty file (or one holding only comments) sets nothing.
        if let filePath, try checkFile(at: filePath) {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(filePath)))
            } catch {
                throw .fileNotParsable(path: filePath, reason: "\(error)")
            }
        }
        let reader = ConfigReader(providers: providers)
        var resolved: [String: String] = [:]
        for spec in ConfigCatalog.keys {
            let raw = reader.string(forKey: ConfigKey(Self.components(spec.name))) ?? spec.defaultValue
            if let problem = spec.problem(with: raw) {
                throw .badValue(key: spec.name, source: source(of: spec), problem: problem)
            }
            resolved[spec.name] = raw
        }
        return try TributaryConfig(resolved: { resolved[$0] ?? "" })
    }

    /// Where a key's value came from, for error messages.
    private func source(of spec: ConfigKeySpec) -> String {
        if flags[spec.name] != nil { return "command line" }
        if environment[spec.environmentVariable] != nil { return "environment variable \(spec.environmentVariable)" }
        if let filePath { return "config file '\(filePath)'" }
        return "default"
    }

    private static func components(_ name: String) -> [String] {
        name.split(separator: ".").map(String.init)
    }

    /// Refuses `TRIBUTARY_` variables that match no key (a typo would otherwise be ignored).
    private func checkEnvironment() throws(ConfigurationError) {
        let known = Dictionary(uniqueKeysWithValues: ConfigCatalog.keys.map { ($0.environmentVariable, $0) })
        for name in environment.keys.sorted() where name.hasPrefix("TRIBUTARY_") && known[name] == nil {
            throw .unknownEnvironmentVariable(name: name, suggestion: Self.closest(to: name, in: Array(known.keys)))
        }
    }

    /// Parses the file with Yams and checks every key path against the catalog; returns whether
    /// the file holds any keys.
    private func checkFile(at path: String) throws(ConfigurationError) -> Bool {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "\(error.localizedDescription)" : "no such file"
            throw .fileNotReadable(path: path, reason: reason)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .fileNotParsable(path: path, reason: "\(error)")
        }
        guard let root else { return false }
        guard let mapping = root.mapping else {
            throw .fileNotParsable(path: path, reason: "the top level must be a mapping of keys")
        }
        try checkMapping(mapping, prefix: "", path: path)
        return true
    }

    private func checkMapping(_ mapping: Node.Mapping, prefix: String, path: String) throws(ConfigurationError) {
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else {
                throw .fileNotParsable(path: path, reason: "a key under '\(prefix)' is not a string")
            }
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            let isKey = ConfigCatalog.spec(named: name) != nil
            let isSection = ConfigCatalog.sections.contains(name)
            switch valueNode {
            case .mapping(let nested):
                if isSection {
                    try checkMapping(nested, prefix: name, path: path)
                } else if isKey {
                    throw .wrongShape(path: path, key: name, expected: "a single value, not a mapping")
                } else {
                    throw .unknownKey(path: path, key: name, suggestion: Self.closest(to: name, in: Self.allNames))
                }
            case .scalar(let scalar):
                if isKey {
                    if scalar.tag.description == Tag.Name.null.rawValue || (scalar.string.isEmpty && scalar.style == .plain) {
                        throw .wrongShape(path: path, key: name, expected: "given a value (it is empty)")
                    }
                } else if isSection {
                    throw .wrongShape(path: path, key: name, expected: "a section (a mapping of keys)")
                } else {
                    throw .unknownKey(path: path, key: name, suggestion: Self.closest(to: name, in: Self.allNames))
                }
            case .sequence, .alias:
                if isKey || isSection {
                    throw .wrongShape(path: path, key: name, expected: isKey ? "a single value, not a list" : "a section (a mapping of keys)")
                }
                throw .unknownKey(path: path, key: name, suggestion: Self.closest(to: name, in: Self.allNames))
            }
        }
    }

    private static let allNames = ConfigCatalog.keys.map(\.name) + Array(ConfigCatalog.sections)

    /// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
    static func closest(to name: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(name, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, name.count / 4) else { return nil }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
