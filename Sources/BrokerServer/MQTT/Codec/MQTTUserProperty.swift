/// One v5 User Property: a UTF-8 name/value pair. Order and duplicates are preserved.
public struct MQTTUserProperty: Hashable, Sendable {
    /// The property name.
    public var name: String
    /// The property value.
    public var value: String

    /// A name/value pair.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
