import ArgumentParser
import MetaService
import Shared

/// `tributary ctl meta …`: the MetaService cluster's Raft membership and status.
struct CtlMetaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Inspect and change the MetaService cluster.",
        subcommands: [Status.self, AddMember.self, RemoveMember.self, TransferLeader.self]
    )

    /// `ctl meta status`: every named member's Raft view.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each member's role, term, leader, commit and applied index.")
        @OptionGroup var connection: CtlConnectionOptions

        func run() async throws {
            try await connection.withMetaClient { client in
                var failures = 0
                for address in connection.meta.split(separator: ",").map(String.init) {
                    do {
                        let status = try await client.status(of: address)
                        print("\(address)  id=\(status.id) role=\(status.role) term=\(status.term) leader=\(status.leader) commit=\(status.commit) applied=\(status.applied) revision=\(status.revision)")
                        for member in status.members {
                            print("    member id=\(member.id) \(member.voter ? "voter" : "learner") address=\(member.address)\(status.role == .leader ? " match=\(member.match)" : "")")
                        }
                    } catch {
                        failures += 1
                        print("\(address)  unreachable: \(error)")
                    }
                }
                if failures > 0 { throw RPCError(.unavailable, "\(failures) member(s) did not answer") }
            }
        }
    }

    /// `ctl meta add-member ID HOST:PORT [--learner]`.
    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a voter (or a learner; adding a learner again without --learner promotes it).")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument(help: "The new member's id.") var id: UInt64
        @Argument(help: "Its RPC address HOST:PORT.") var address: String
        @Flag(help: "Add as a non-voting learner.") var learner = false

        func validate() throws {
            guard id != 0, RPCEndpoint(address) != nil else { throw ValidationError("need a non-zero ID and HOST:PORT") }
        }

        func run() async throws {
            try await connection.withMetaClient { client in
                try await client.addMember(id: id, address: address, learner: learner)
                print("OK added \(learner ? "learner" : "voter") \(id) at \(address)")
            }
        }
    }

    /// `ctl meta remove-member ID`.
    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member (transfer leadership away from it first).")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument(help: "The member's id.") var id: UInt64

        func run() async throws {
            try await connection.withMetaClient { client in
                try await client.removeMember(id: id)
                print("OK removed \(id)")
            }
        }
    }

    /// `ctl meta transfer-leader ID`.
    struct TransferLeader: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hand leadership to a voter.")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument(help: "The voter's id.") var id: UInt64

        func run() async throws {
            try await connection.withMetaClient { client in
                try await client.transferLeader(to: id)
                print("OK transferring leadership to \(id)")
            }
        }
    }
}
