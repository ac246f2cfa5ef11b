import Foundation

/// A broker the paho-mqtt conformance runner (tests/paho/run.py) is pointed at.
struct PahoConformanceBroker: Sendable {
    /// Host of the MQTT listeners.
    let host: String
    /// MQTT over TCP.
    let port: Int
    /// MQTT over WebSocket (path /mqtt), if the broker has that listener.
    let webSocketPort: Int?
    /// Extra runner arguments: `--tributary` for Tributary-only cases, `--skip …` for the known
    /// deviations of a reference broker (each documented in docs/mqtt-conformance.md).
    let runnerArguments: [String]
    /// What the broker logged, for failure messages.
    let log: @Sendable () -> String
    /// Stops the broker and removes its files.
    let stop: @Sendable () -> Void
}

extension PahoConformanceBroker {
    /// The broker under test: `tributary standalone`. (``startMosquitto()`` runs the same cases
    /// against mosquitto, the reference the scripts were validated against.)
    static func start() async throws -> PahoConformanceBroker {
        try await startTributary()
    }

    /// The cases mosquitto 2.0.11 does not pass (see docs/mqtt-conformance.md, "Results").
    static let mosquittoDeviations = [
        "session-takeover[v5]",  // closes the old connection without DISCONNECT 0x8E
        "keep-alive",  // checks keep-alive on a coarse timer: closes up to ~5 s after 1.5 × keep-alive
        "receive-maximum[v5]",  // sends a second message per PUBACK beyond the client's Receive Maximum
    ]

    /// mosquitto on free loopback ports (TCP and WebSocket), anonymous, persistence in a temporary
    /// directory.
    static func startMosquitto() async throws -> PahoConformanceBroker {
        let webSocketPort = try BenchMQTTMosquitto.freePort()
        let persistence = TributaryProcess.temporaryDirectory()
        let mosquitto = try BenchMQTTMosquitto(extraConfiguration: [
            "allow_anonymous true",
            "persistence true",
            "persistence_location \(persistence)/",
            "listener \(webSocketPort) 127.0.0.1",
            "protocol websockets",
        ])
        let tcpListening = await mosquitto.waitUntilListening()
        let webSocketListening = await eventually(timeout: .seconds(30)) { BenchMQTTMosquitto.canConnect(port: webSocketPort) }
        guard tcpListening && webSocketListening else {
            let log = mosquitto.log
            mosquitto.kill()
            try? FileManager.default.removeItem(atPath: persistence)
            throw PahoConformanceError.brokerDidNotStart(log: log)
        }
        return PahoConformanceBroker(
            host: "127.0.0.1",
            port: mosquitto.port,
            webSocketPort: webSocketPort,
            runnerArguments: ["--skip", mosquittoDeviations.joined(separator: ",")],
            log: { mosquitto.log },
            stop: {
                mosquitto.kill()
                try? FileManager.default.removeItem(atPath: persistence)
            }
        )
    }

    /// `tributary standalone` on free ports, with the Tributary-only cases enabled. Its MQTT
    /// listeners are read from the ready line (`mqtt=host:port`, `mqtt-ws=host:port`).
    static func startTributary() async throws -> PahoConformanceBroker {
        let process = try TributaryProcess.standalone()
        guard let fields = await process.readyFields(), let mqtt = fields["mqtt"], let port = Self.port(of: mqtt) else {
            throw PahoConformanceError.brokerDidNotStart(log: process.standardOutput + process.standardError)
        }
        return PahoConformanceBroker(
            host: "127.0.0.1",
            port: port,
            webSocketPort: fields["mqtt-ws"].flatMap(Self.port(of:)),
            runnerArguments: ["--tributary"],
            log: { process.standardOutput + process.standardError },
            stop: { process.signal(SIGKILL) }
        )
    }

    private static func port(of address: String) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0) }
    }
}

/// Why the conformance suite could not run.
enum PahoConformanceError: Error, CustomStringConvertible {
    case brokerDidNotStart(log: String)
    case pahoUnavailable(String)
    case runnerTimedOut(output: String)

    var description: String {
        switch self {
        case .brokerDidNotStart(let log): return "the broker under test did not start:\n\(log)"
        case .pahoUnavailable(let detail): return "python3 with paho-mqtt 2.1 is required (scripts/install-test-deps.sh installs it): \(detail)"
        case .runnerTimedOut(let output): return "tests/paho/run.py did not finish in time:\n\(output)"
        }
    }
}
