/// One v5 User Property: a UTF-8 name/value pair. Order and duplicates are preserved.
public struct MQTTUserProperty: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
