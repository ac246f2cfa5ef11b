/// Renders ``ConfigCatalog`` for people: the table in `docs/configuration.md` is this output.
public enum ConfigDocumentation {
    /// A Markdown table with one row per key.
    public static func markdownTable() -> String {
        var lines = [
            "| key | environment variable | default | values | meaning |",
            "|---|---|---|---|---|",
        ]
        for key in ConfigCatalog.keys {
            let shownDefault = key.defaultValue.isEmpty ? "(empty)" : "`\(key.defaultValue)`"
            lines.append("| `\(key.name)` | `\(key.environmentVariable)` | \(shownDefault) | \(key.kindDescription) | \(key.summary) |")
        }
        return lines.joined(separator: "\n")
    }
}
