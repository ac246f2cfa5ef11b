import JournalServer
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Shared
import Synchronization

/// An application message as the broker stores it in a journal record: key = topic (UTF-8),
/// value = payload, and one header `mqtt` holding the rest in a compact binary encoding
/// (see ``encodeHeader()``).
public struct MQTTStoredMessage: Hashable, Sendable {
    /// The topic name.
    public var topic: String
    /// The payload.
    public var payload: ByteBuffer
    /// The QoS it was published with.
    public var qos: MQTTQoS
    /// The RETAIN flag.
    public var retain: Bool
    /// The publishing client (`nil` for broker-originated messages such as `$SYS`).
    public var publisherClientIdentifier: String?
    /// The MQTT 5 PUBLISH properties kept with the message: payload format, message expiry
    /// interval, content type, response topic, correlation data, user properties.
    public var properties: MQTTProperties
    /// When the broker received it, in milliseconds since the Unix epoch (message expiry counts
    /// from here, also across restarts).
    public var receivedAtMillis: Int64

    /// The record header name.
    public static let headerKey = "mqtt"
    static let encodingVersion: UInt8 = 1
    static let propertiesLimit = 1 << 20

    /// A message.
    public init(
        topic: String, payload: ByteBuffer, qos: MQTTQoS, retain: Bool, publisherClientIdentifier: String?,
        properties: MQTTProperties, receivedAtMillis: Int64
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.publisherClientIdentifier = publisherClientIdentifier
        self.properties = Self.storable(properties)
        self.receivedAtMillis = receivedAtMillis
    }

    /// The properties that travel with a message (topic alias and subscription identifiers
    /// belong to one connection and are dropped).
    static func storable(_ properties: MQTTProperties) -> MQTTProperties {
        var kept = MQTTProperties()
        kept.payloadFormatIndicator = properties.payloadFormatIndicator
        kept.messageExpiryInterval = properties.messageExpiryInterval
        kept.contentType = properties.contentType
        kept.responseTopic = properties.responseTopic
        kept.correlationData = properties.correlationData
        kept.userProperties = properties.userProperties
        return kept
    }

    /// The `mqtt` header: version byte, flags (bits 0–1 QoS, bit 2 retain, bit 3 publisher
    /// present), the publisher as a length-prefixed string, the receive time as a varint, then the
    /// properties in the MQTT 5 PUBLISH property encoding (a variable byte length and the list).
    public func encodeHeader() throws(MQTTEncodeError) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeInteger(Self.encodingVersion)
        let flags = qos.rawValue | (retain ? 0x04 : 0) | (publisherClientIdentifier != nil ? 0x08 : 0)
        out.writeInteger(flags)
        if let publisherClientIdentifier { out.writeLengthPrefixed(string: publisherClientIdentifier) }
        out.writeVarint(UInt64(max(receivedAtMillis, 0)))
        try properties.encode(into: &out, context: .publish)
        return out
    }

    /// The journal record for this message.
    public func record() throws(MQTTEncodeError) -> Record {
        Record(
            timestamp: receivedAtMillis, key: ByteBuffer(string: topic), value: payload,
            headers: [RecordHeader(key: Self.headerKey, value: try encodeHeader())])
    }

    /// Decodes a record written by ``record()``; throws `WireDecodingError` for anything else.
    public init(record: Record) throws(WireDecodingError) {
        guard let key = record.key, let topic = key.getString(at: key.readerIndex, length: key.readableBytes),
            MQTTTopic.isValidTopicName(topic)
        else { throw .invalidValue(what: "mqtt record key", reason: "not a topic name") }
        guard var header = record.headers.first(where: { $0.key == Self.headerKey })?.value else {
            throw .invalidValue(what: "mqtt record", reason: "no mqtt header")
        }
        let version = try header.readFixed("mqtt header version", as: UInt8.self)
        guard version == Self.encodingVersion else { throw .unknownTag(what: "mqtt header version", tag: UInt64(version)) }
        let flags = try header.readFixed("mqtt header flags", as: UInt8.self)
        guard let qos = MQTTQoS(rawValue: flags & 0x03), flags & 0xF0 == 0 else {
            throw .invalidValue(what: "mqtt header flags", reason: "\(flags)")
        }
        var publisher: String?
        if flags & 0x08 != 0 {
            publisher = try header.readLengthPrefixedString("publisher", limit: Int(UInt16.max))
        }
        let received = try header.readVarint()
        let properties: MQTTProperties
        do {
            properties = try MQTTProperties.decode(from: &header, context: .publish, rejectDiscouraged: false)
        } catch {
            throw .invalidValue(what: "mqtt header properties", reason: "\(error)")
        }
        self.init(
            topic: topic, payload: record.value ?? ByteBuffer(), qos: qos, retain: flags & 0x04 != 0,
            publisherClientIdentifier: publisher, properties: properties,
            receivedAtMillis: Int64(clamping: received))
    }
}
