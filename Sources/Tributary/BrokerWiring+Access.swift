import BrokerServer
import Shared

extension BrokerWiring {
    /// The broker's authorization and limit settings. `auth.acl.no-match: auto` allows
    /// unmatched requests in standalone mode and denies them in cluster mode (`clusterMode`).
    static func accessConfiguration(_ config: TributaryConfig, clusterMode: Bool = false) -> MQTTAccessConfiguration {
        let security = config.security
        let allows = security.aclNoMatchAllows ?? !clusterMode
        let flapping = security.flappingEnabled
            ? MQTTAccessConfiguration.Flapping(
                maximumConnects: security.flappingMaxConnects, window: .seconds(security.flappingWindow),
                banDuration: .seconds(security.flappingBanSeconds))
            : nil
        return MQTTAccessConfiguration(
            noMatch: allows ? .allow : .deny, v3PublishDeniedDisconnects: security.v3PublishDeniedDisconnects,
            aclCacheSize: security.aclCacheSize, flapping: flapping, connectRate: security.connectRate,
            connectBurst: security.connectBurst, messageRate: security.messageRate, messageBurst: security.messageBurst,
            bandwidth: security.bandwidth, maximumSubscriptions: security.maxSubscriptions)
    }
}
