/// Validation of the names that become meta key segments (tenants, topics, groups).
public enum MetaRecordNames {
    /// Longest tenant name.
    public static let maxTenantBytes = 64
    /// Longest topic name (Kafka's limit).
    public static let maxTopicBytes = 249
    /// Longest consumer group or member id.
    public static let maxGroupBytes = 255

    /// A tenant: 1–64 of `[A-Za-z0-9._-]`.
    public static func validateTenant(_ name: String) throws(MetaRecordError) {
        try validate(name, what: "tenant", limit: maxTenantBytes)
    }

    /// A topic: 1–249 of `[A-Za-z0-9._-]`, not `.` or `..`.
    public static func validateTopic(_ name: String) throws(MetaRecordError) {
        try validate(name, what: "topic", limit: maxTopicBytes)
    }

    /// A consumer group: 1–255 of `[A-Za-z0-9._-]`, not `.` or `..`.
    public static func validateGroup(_ name: String) throws(MetaRecordError) {
        try validate(name, what: "group", limit: maxGroupBytes)
    }

    private static func validate(_ name: String, what: String, limit: Int) throws(MetaRecordError) {
        guard !name.isEmpty else { throw .invalidName(what: what, name: name, reason: "empty") }
        guard name.utf8.count <= limit else { throw .invalidName(what: what, name: name, reason: "longer than \(limit) bytes") }
        guard name != ".", name != ".." else { throw .invalidName(what: what, name: name, reason: "reserved") }
        for byte in name.utf8 {
            let legal = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
            guard legal else { throw .invalidName(what: what, name: name, reason: "only A-Z, a-z, 0-9, '.', '_' and '-' are allowed") }
        }
    }
}
