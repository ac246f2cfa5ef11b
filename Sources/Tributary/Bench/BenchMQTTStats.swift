import Synchronization

/// Counters shared by every benchmark connection (relaxed atomics; read once per second by the
/// progress line), plus the first few error messages for the report.
final class BenchMQTTStats: Sendable {
    private let sentCount = Atomic<Int>(0)
    private let receivedCount = Atomic<Int>(0)
    private let ackedCount = Atomic<Int>(0)
    private let errorCount = Atomic<Int>(0)
    private let sentBytes = Atomic<Int>(0)
    private let receivedBytes = Atomic<Int>(0)
    private let connectedCount = Atomic<Int>(0)
    private let openCount = Atomic<Int>(0)
    private let connectFailureCount = Atomic<Int>(0)
    private let messages = Mutex<[String]>([])

    /// How many error messages are kept for the report.
    static let keptMessages = 5

    func addSent(_ count: Int, bytes: Int) {
        self.sentCount.add(count, ordering: .relaxed)
        self.sentBytes.add(bytes, ordering: .relaxed)
    }

    func addReceived(_ count: Int, bytes: Int) {
        self.receivedCount.add(count, ordering: .relaxed)
        self.receivedBytes.add(bytes, ordering: .relaxed)
    }

    func addAcked(_ count: Int) { self.ackedCount.add(count, ordering: .relaxed) }

    /// A connection got its CONNACK.
    func connectionOpened() {
        self.connectedCount.add(1, ordering: .relaxed)
        self.openCount.add(1, ordering: .relaxed)
    }

    /// An accepted connection closed.
    func connectionClosed() { self.openCount.subtract(1, ordering: .relaxed) }

    /// A connection attempt failed (TCP or CONNACK).
    func connectFailed(_ message: String) {
        self.connectFailureCount.add(1, ordering: .relaxed)
        self.recordError(message)
    }

    /// Counts an error and keeps its message if it is among the first few.
    func recordError(_ message: String) {
        self.errorCount.add(1, ordering: .relaxed)
        self.messages.withLock { if $0.count < Self.keptMessages { $0.append(message) } }
    }

    var sent: Int { self.sentCount.load(ordering: .relaxed) }
    var received: Int { self.receivedCount.load(ordering: .relaxed) }
    var acked: Int { self.ackedCount.load(ordering: .relaxed) }
    var errors: Int { self.errorCount.load(ordering: .relaxed) }
    var bytesSent: Int { self.sentBytes.load(ordering: .relaxed) }
    var bytesReceived: Int { self.receivedBytes.load(ordering: .relaxed) }
    var connected: Int { self.connectedCount.load(ordering: .relaxed) }
    var open: Int { self.openCount.load(ordering: .relaxed) }
    var connectFailures: Int { self.connectFailureCount.load(ordering: .relaxed) }
    var errorMessages: [String] { self.messages.withLock { $0 } }
}
