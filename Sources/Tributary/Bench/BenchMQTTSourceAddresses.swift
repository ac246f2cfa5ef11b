import ArgumentParser
import NIOCore

/// `--source-addresses` of `tributary bench mqtt`: the local addresses connections are bound to,
/// connection i to address i mod count, so that more connections than one source address has
/// ephemeral ports (about 28,000 on Linux) can reach one broker address.
enum BenchMQTTSourceAddresses {
    /// The most addresses a range may span.
    static let maximumCount = 256

    /// Parses `FIRST-LAST` (an IPv4 range, e.g. `127.0.0.2-127.0.0.9`) or `ADDRESS,ADDRESS,…`
    /// (IPv4 or IPv6 literals).
    static func parse(_ text: String) throws -> [String] {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 && !text.contains(":") {
            guard let first = ipv4(parts[0]), let last = ipv4(parts[1]) else {
                throw ValidationError("--source-addresses range must be FIRST-LAST IPv4 addresses, got '\(text)'")
            }
            guard first <= last, last - first < UInt32(maximumCount) else {
                throw ValidationError("--source-addresses range must run upwards over at most \(maximumCount) addresses, got '\(text)'")
            }
            return (first...last).map { value in
                [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
            }
        }
        let addresses = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard addresses.count <= maximumCount else {
            throw ValidationError("--source-addresses takes at most \(maximumCount) addresses")
        }
        for address in addresses where (try? SocketAddress(ipAddress: address, port: 0)) == nil {
            throw ValidationError("--source-addresses must be FIRST-LAST or ADDRESS,… of IP literals; '\(address)' is not an IP address")
        }
        return addresses
    }

    private static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard octet.count <= 3, let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}
