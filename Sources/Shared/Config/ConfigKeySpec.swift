/// One configuration key: its dotted name, the kind of value it takes, its default and what it
/// does. ``ConfigCatalog`` lists every key Tributary understands; the loader refuses any other.
public struct ConfigKeySpec: Sendable {
    /// The kinds of values a key can hold, each with its own validation.
    public enum Kind: Sendable {
        /// An integer in the given closed range.
        case integer(ClosedRange<Int>)
        /// A TCP port, 0...65535 (0 asks the system for a free port).
        case port
        /// Free text; `allowEmpty` says whether "" is valid.
        case text(allowEmpty: Bool)
        /// One of a fixed set of words.
        case choice([String])
        /// `true` or `false`.
        case boolean
    }

    /// The dotted name, e.g. `admin.port`. In YAML it is nested (`admin:` then `port:`).
    public let name: String
    /// What values it accepts.
    public let kind: Kind
    /// The default, as it would be written in YAML.
    public let defaultValue: String
    /// One sentence for `docs/configuration.md`.
    public let summary: String

    /// Creates a key description.
    public init(_ name: String, _ kind: Kind, default defaultValue: String, _ summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
    }

    /// The environment variable that sets this key: `TRIBUTARY_` + the name upper-cased with
    /// every non-alphanumeric character turned into `_` (`admin.port` → `TRIBUTARY_ADMIN_PORT`).
    public var environmentVariable: String {
        let mapped = name.unicodeScalars.map { scalar -> String in
            let isAlnum = (scalar.value >= 48 && scalar.value <= 57) || (scalar.value >= 65 && scalar.value <= 90)
                || (scalar.value >= 97 && scalar.value <= 122)
            return isAlnum ? String(scalar).uppercased() : "_"
        }
        return "TRIBUTARY_" + mapped.joined()
    }

    /// Checks `raw` against the key's kind; returns a human explanation when it does not fit.
    public func problem(with raw: String) -> String? {
        switch kind {
        case .integer(let range):
            guard let value = Int(raw.trimmingSpaces), range.contains(value) else {
                return "expected an integer from \(range.lowerBound) to \(range.upperBound), got '\(raw)'"
            }
        case .port:
            guard let value = Int(raw.trimmingSpaces), (0...65535).contains(value) else {
                return "expected a TCP port from 0 to 65535, got '\(raw)'"
            }
        case .text(let allowEmpty):
            if !allowEmpty && raw.trimmingSpaces.isEmpty {
                return "must not be empty"
            }
        case .choice(let words):
            guard words.contains(raw.trimmingSpaces) else {
                return "expected one of \(words.joined(separator: ", ")), got '\(raw)'"
            }
        case .boolean:
            guard ["true", "false"].contains(raw.trimmingSpaces) else {
                return "expected true or false, got '\(raw)'"
            }
        }
        return nil
    }

    /// A short description of the accepted values for documentation.
    public var kindDescription: String {
        switch kind {
        case .integer(let range): "integer \(range.lowerBound)…\(range.upperBound)"
        case .port: "port 0…65535 (0 = any free port)"
        case .text(let allowEmpty): allowEmpty ? "text (may be empty)" : "text"
        case .choice(let words): words.joined(separator: " \\| ")
        case .boolean: "true \\| false"
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
