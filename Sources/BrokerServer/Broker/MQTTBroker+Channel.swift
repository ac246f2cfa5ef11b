import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

extension MQTTBroker {
    /// Installs the MQTT handlers on a channel that carries MQTT bytes (a TCP connection, or a
    /// WebSocket connection after the upgrade, whose frames are unwrapped before this pipeline):
    /// a byte counter, the ``MQTTDecoder`` (limited to ``MQTTBrokerConfiguration/maximumPacketSize``)
    /// and an ``MQTTConnectionHandler`` driving one session against this broker.
    public func configureMQTT(_ channel: any Channel) -> EventLoopFuture<Void> {
        let decoderConfiguration = MQTTDecoder.Configuration(maximumPacketSize: configuration.maximumPacketSize)
        let install: @Sendable () throws -> Void = {
            try channel.pipeline.syncOperations.addHandlers([
                MQTTByteCounter(broker: self),
                ByteToMessageHandler(MQTTDecoder(configuration: decoderConfiguration)),
                MQTTConnectionHandler(broker: self),
            ])
        }
        if channel.eventLoop.inEventLoop {
            return channel.eventLoop.makeCompletedFuture { try install() }
        }
        return channel.eventLoop.submit { try install() }
    }
}
