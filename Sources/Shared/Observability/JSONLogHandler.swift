import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard error, for log shippers:
/// `{"ts":"…","level":"info","label":"…","msg":"…","meta":{…},"source":"…"}`.
public struct JSONLogHandler: LogHandler {
    /// The logger's label (the component).
    public let label: String
    /// Lowest level written.
    public var logLevel: Logger.Level = .info
    /// Metadata attached to every line of this logger.
    public var metadata: Logger.Metadata = [:]
    private let output: @Sendable (String) -> Void

    /// Creates a handler writing to standard error.
    public init(label: String) {
        self.init(label: label) { line in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// Creates a handler writing each line through `output` (tests capture lines this way).
    public init(label: String, output: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        var line = "{\"ts\":"
        line += Self.quoted(Self.timestamp())
        line += ",\"level\":" + Self.quoted(event.level.rawValue)
        line += ",\"label\":" + Self.quoted(label)
        line += ",\"msg\":" + Self.quoted("\(event.message)")
        if !merged.isEmpty {
            line += ",\"meta\":" + Self.object(merged)
        }
        line += ",\"source\":" + Self.quoted("\(event.source)") + "}\n"
        output(line)
    }

    private static func object(_ metadata: Logger.Metadata) -> String {
        "{" + metadata.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + value($0.value) }.joined(separator: ",") + "}"
    }

    private static func value(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): quoted(s)
        case .stringConvertible(let c): quoted(c.description)
        case .array(let items): "[" + items.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let dict): object(dict)
        }
    }

    /// JSON string literal with the escapes RFC 8259 requires.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
