/// PUBREL: the QoS 2 release answering PUBREC.
public struct MQTTPubRel: MQTTPublishAcknowledgement {
    static var packetType: MQTTPacketType { .pubrel }

    /// The identifier of the PUBLISH (or PUBREC) being answered.
    public var packetIdentifier: UInt16
    /// 5.0 only; always Success in 3.1 and 3.1.1.
    public var reasonCode: MQTTReasonCode
    /// 5.0 only.
    public var properties: MQTTProperties

    /// Creates the acknowledgement; Success without properties is the short form.
    public init(packetIdentifier: UInt16, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = MQTTProperties()) {
        self.packetIdentifier = packetIdentifier
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
