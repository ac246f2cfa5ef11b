import Foundation
import MetaService
import Shared

/// One row of `tributary ctl cluster status`: a meta member or a registered (or once registered)
/// node. Encoded as is by `--json` (times in Unix milliseconds).
struct CtlClusterNodeStatus: Codable, Equatable {
    /// `meta`, `journal`, `broker`, …
    var role: String
    /// The id within the role.
    var id: UInt64
    /// The advertised address.
    var address: String
    /// Meta members: `leader`, `follower`, `candidate`, `pre-candidate` or `unreachable`;
    /// other nodes: `alive` (registered) or `dead`.
    var state: String
    /// The registration lease (the last one held, for a dead node).
    var lease: UInt64?
    /// The lease's TTL.
    var leaseTtlMs: UInt64?
    /// Time left before the lease expires unless renewed.
    var leaseRemainingMs: UInt64?
    /// When the node started.
    var startedAtMs: UInt64?
    /// When the controller last saw its state change.
    var changedAtMs: UInt64?
}

/// Gathers and prints the cluster's nodes for `ctl cluster status`.
enum CtlClusterStatus {
    /// Meta members (with each one's own Raft role), registrations, history records and leases.
    static func gather(_ client: MetaClient, contacted: [String]) async throws -> [CtlClusterNodeStatus] {
        let leader = try await client.leaderStatus()
        let nowMillis = NodeRegistration.nowMillis()
        var rows: [CtlClusterNodeStatus] = []
        for member in leader.members {
            var address = member.address
            // A member started on port 0 advertises that; show the address it was reached at.
            if address.hasSuffix(":0"), leader.members.count == 1, let only = contacted.first { address = only }
            var row = CtlClusterNodeStatus(role: "meta", id: member.id, address: address, state: "unreachable")
            if let status = try? await client.status(of: address) {
                row.state = stateName(status.role)
            }
            if let node = try? await client.transport(to: address).call(NodeAPI.status, RPCEmpty(), options: .timeout(client.options.attemptTimeout)) {
                row.startedAtMs = nowMillis - min(nowMillis, node.uptimeSeconds * 1000)
            }
            rows.append(row)
        }
        let leases = Dictionary(try await client.leases().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var nodes: [String: CtlClusterNodeStatus] = [:]
        for keyValue in try await client.range(prefix: NodeHistoryRecord.keyPrefix).keyValues {
            guard let history = try? NodeHistoryRecord(bytes: keyValue.value) else { continue }
            let node = history.node
            // Alive in the history but no longer registered: the controller has not caught up yet.
            nodes["\(node.role)/\(node.id)"] = CtlClusterNodeStatus(
                role: node.role, id: node.id, address: node.address, state: "dead", lease: node.lease,
                startedAtMs: node.startedAtMillis, changedAtMs: history.changedAtMillis)
        }
        for keyValue in try await client.range(prefix: NodeRecord.keyPrefix).keyValues {
            guard let node = try? NodeRecord(keyValue: keyValue) else { continue }
            let lease = leases[node.lease]
            let changed = nodes["\(node.role)/\(node.id)"].flatMap { $0.lease == node.lease ? $0.changedAtMs : nil }
            nodes["\(node.role)/\(node.id)"] = CtlClusterNodeStatus(
                role: node.role, id: node.id, address: node.address, state: "alive", lease: node.lease,
                leaseTtlMs: lease?.ttlMillis, leaseRemainingMs: lease?.remainingMillis,
                startedAtMs: node.startedAtMillis, changedAtMs: changed)
        }
        rows += nodes.values.sorted { ($0.role, $0.id) < ($1.role, $1.id) }
        return rows
    }

    static func stateName(_ role: RaftRole) -> String {
        switch role {
        case .leader: "leader"
        case .follower: "follower"
        case .candidate: "candidate"
        case .preCandidate: "pre-candidate"
        }
    }

    /// The rows as an aligned text table.
    static func table(_ rows: [CtlClusterNodeStatus]) -> String {
        let header = ["ROLE", "ID", "ADDRESS", "STATE", "LEASE", "TTL", "STARTED", "CHANGED"]
        let cells = rows.map { row in
            [
                row.role, String(row.id), row.address, row.state,
                row.lease.map { String($0) } ?? "-",
                row.leaseRemainingMs.map { remaining in
                    seconds(remaining) + (row.leaseTtlMs.map { "/" + seconds($0) } ?? "")
                } ?? "-",
                row.startedAtMs.map(timestamp) ?? "-",
                row.changedAtMs.map(timestamp) ?? "-",
            ]
        }
        let widths = header.indices.map { column in
            ([header] + cells).map { $0[column].count }.max() ?? 0
        }
        return ([header] + cells).map { line in
            line.enumerated().map { column, cell in
                column == line.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The rows as JSON: `{"nodes": [...]}`.
    static func json(_ rows: [CtlClusterNodeStatus]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(["nodes": rows]), as: UTF8.self)
    }

    static func seconds(_ millis: UInt64) -> String {
        String(format: "%.1fs", Double(millis) / 1000)
    }

    static func timestamp(_ millis: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
