import ArgumentParser

/// `tributary broker`: a stateless protocol front end.
struct BrokerRoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a BrokerServer (stateless MQTT front end) of a cluster."
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "This node's id.") var id: Int?
    @Option(help: "Meta nodes HOST:PORT,…") var meta: String?

    func run() async throws {
        try refuseUnbuiltRole("broker", issue: "cluster mode")
    }
}
