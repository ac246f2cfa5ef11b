import NIOCore
import NIOSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Helpers for the MQTT listeners that speak TLS: the TCP listener (`mqtts://`) and the WebSocket
/// listener (`wss://`) put the TLS handler first in each accepted channel's pipeline.
public enum MQTTTLSListenerSupport {
    /// The pipeline name of the TLS handler.
    public static let handlerName = "mqtt-tls"

    /// Adds `NIOSSLServerHandler` at the front of the pipeline, so every other handler (HTTP,
    /// WebSocket, MQTT) sees plaintext. Call it on the channel's event loop (e.g. in a
    /// `childChannelInitializer`).
    public static func addServerHandler(context: NIOSSLContext, to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(NIOSSLServerHandler(context: context), name: handlerName, position: .first)
    }

    /// The server context for `configuration`, checked at the current wall-clock time.
    public static func makeServerContext(_ configuration: MQTTTLSConfiguration) throws(MQTTTLSError) -> NIOSSLContext {
        try configuration.makeServerContext(now: Int(time(nil)))
    }
}
