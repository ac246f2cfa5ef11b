#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as raw network-order bytes (4 or 16).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no zone ids, no brackets); `nil` if invalid.
    public init?(_ text: String) {
        guard text.utf8.count <= 45 else { return nil }
        if text.contains(":") {
            // Plain bytes rather than `in6_addr()`: the C struct's initializer resolves to
            // whichever module imported the header first (Glibc or NIO's CNIOLinux).
            var storage = [UInt8](repeating: 0, count: 16)
            guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
            self.bytes = storage
        } else {
            var storage = [UInt8](repeating: 0, count: 4)
            guard inet_pton(AF_INET, text, &storage) == 1 else { return nil }
            self.bytes = storage
        }
    }

    /// Creates an address from 4 or 16 bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool { bytes.count == 4 }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else `self`.
    /// Dual-stack sockets report IPv4 peers this way; rules written for IPv4 must still match.
    public var unmappingIPv4: IPAddress {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF,
              let unmapped = IPAddress(bytes: Array(bytes[12..<16]))
        else { return self }
        return unmapped
    }

    /// Text form (dotted quad, or eight colon-separated hex groups).
    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map {
            String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
        }.joined(separator: ":")
    }
}

/// A CIDR block such as `10.0.0.0/8` or `2001:db8::/32`. Host bits in the text are ignored.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network address with host bits cleared.
    public let address: IPAddress
    /// Prefix length: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// Parses `address/prefix`, or a bare address as a single-host network; `nil` if invalid.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddress(String(parts[0])) else { return nil }
        let maximum = address.bytes.count * 8
        var prefix = maximum
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.count <= 3,
                  parts[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let parsed = Int(parts[1]), parsed <= maximum
            else { return nil }
            prefix = parsed
        }
        self.init(address: address, prefixLength: prefix)
    }

    /// Creates the network of `address` with `prefixLength` bits; `nil` if the length is out of range.
    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bytes.count * 8 else { return nil }
        var masked = address.bytes
        for index in masked.indices {
            masked[index] &= Self.maskByte(index: index, prefixLength: prefixLength)
        }
        guard let network = IPAddress(bytes: masked) else { return nil }
        self.address = network
        self.prefixLength = prefixLength
    }

    private static func maskByte(index: Int, prefixLength: Int) -> UInt8 {
        let bits = min(max(prefixLength - index * 8, 0), 8)
        return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
    }

    /// Whether `candidate` lies in this network. IPv4-mapped IPv6 peers match IPv4 networks;
    /// otherwise families never match each other.
    public func contains(_ candidate: IPAddress) -> Bool {
        let peer = address.isIPv4 ? candidate.unmappingIPv4 : candidate
        guard peer.bytes.count == address.bytes.count else { return false }
        for index in peer.bytes.indices {
            let mask = Self.maskByte(index: index, prefixLength: prefixLength)
            if peer.bytes[index] & mask != address.bytes[index] { return false }
        }
        return true
    }

    /// `address/prefix`.
    public var description: String { "\(address)/\(prefixLength)" }
}
