import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Shared

/// `tributary bench meta --etcd`: the same put workload against etcd's v3 HTTP/JSON gateway
/// (`POST /v3/kv/put`, base64 key and value), one keep-alive HTTP/1.1 connection per in-flight
/// request, all to the leader (found with `POST /v3/maintenance/status`), so that requests are
/// not forwarded by a follower.
final class BenchEtcdTarget: BenchMetaRunner {
    let name = "etcd"
    let description: String
    private let connections: [BenchHTTPConnection]
    private let workload: BenchMetaWorkload

    private init(leader: String, connections: [BenchHTTPConnection], workload: BenchMetaWorkload) {
        self.description = "etcd leader \(leader) over \(connections.count) connections"
        self.connections = connections
        self.workload = workload
    }

    /// `(host, port)` of an `http://HOST:PORT[/]` URL.
    static func endpoint(of url: String) -> RPCEndpoint? {
        guard url.hasPrefix("http://") else { return nil }
        var rest = url.dropFirst("http://".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        return RPCEndpoint(String(rest))
    }

    /// Finds the leader among `urls` and opens `concurrency` connections to it (to every URL in
    /// turn when no member names itself the leader).
    static func connect(urls: [String], concurrency: Int, workload: BenchMetaWorkload, group: any EventLoopGroup) async throws -> BenchEtcdTarget {
        let endpoints = urls.compactMap(endpoint(of:))
        guard !endpoints.isEmpty else { throw RPCError(.invalidArgument, "no etcd URL given") }
        var targets = endpoints
        for endpoint in endpoints {
            if try await isLeader(endpoint, group: group) {
                targets = [endpoint]
                break
            }
        }
        var connections: [BenchHTTPConnection] = []
        do {
            for lane in 0..<concurrency {
                let endpoint = targets[lane % targets.count]
                connections.append(try await BenchHTTPConnection.connect(host: endpoint.host, port: endpoint.port, group: group))
            }
            // One put per connection before measuring (and a check that etcd takes writes).
            for connection in connections {
                let response = try await connection.post("/v3/kv/put", json: workload.nextEtcdPutBody()).get()
                guard response.status == .ok else {
                    throw RPCError(.unavailable, "etcd refused a put: \(response.status) \(String(buffer: response.body))")
                }
            }
        } catch {
            for connection in connections { await connection.close() }
            throw error
        }
        return BenchEtcdTarget(leader: targets.map(\.description).joined(separator: ","), connections: connections, workload: workload)
    }

    /// Whether the member at `endpoint` reports itself as the leader.
    private static func isLeader(_ endpoint: RPCEndpoint, group: any EventLoopGroup) async throws -> Bool {
        let connection = try await BenchHTTPConnection.connect(host: endpoint.host, port: endpoint.port, group: group)
        let response: BenchHTTPConnection.Response
        do {
            response = try await connection.post("/v3/maintenance/status", json: "{}").get()
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        guard response.status == .ok,
              let object = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any],
              let header = object["header"] as? [String: Any],
              let member = header["member_id"] as? String,
              let leader = object["leader"] as? String
        else { return false }
        return member == leader
    }

    func run(concurrency: Int, recorder: BenchLatencyRecorder) async throws {
        let lanes = connections.map { $0.eventLoop.makePromise(of: Void.self) }
        for (connection, lane) in zip(connections, lanes) {
            issue(on: connection, recorder: recorder, done: lane)
        }
        for lane in lanes {
            try await lane.futureResult.get()
        }
    }

    /// One put in flight per connection, the next sent from the previous one's completion. A
    /// refused put is counted and the lane pauses 10 ms; a broken connection ends its lane.
    private func issue(on connection: BenchHTTPConnection, recorder: BenchLatencyRecorder, done: EventLoopPromise<Void>) {
        guard recorder.shouldIssue() else {
            done.succeed()
            return
        }
        let start = NIODeadline.now()
        connection.post("/v3/kv/put", json: workload.nextEtcdPutBody()).whenComplete { result in
            switch result {
            case .success(let response) where response.status == .ok:
                recorder.recordSuccess(since: start)
                self.issue(on: connection, recorder: recorder, done: done)
            case .success:
                recorder.recordFailure()
                connection.eventLoop.scheduleTask(in: .milliseconds(10)) {
                    self.issue(on: connection, recorder: recorder, done: done)
                }
            case .failure(let error):
                recorder.recordFailure()
                done.fail(error)
            }
        }
    }

    func close() async {
        for connection in connections { await connection.close() }
    }
}
