import ArgumentParser

/// `tributary ctl`: administration of a running node or cluster over the binary RPC.
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Administer a running Tributary node or cluster.",
        subcommands: []
    )
}
