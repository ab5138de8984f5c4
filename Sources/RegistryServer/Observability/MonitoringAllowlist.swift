#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The addresses `/-/metrics` answers (GitLab's `monitoring_whitelist`): CIDR ranges, IPv4 and
/// IPv6. Anyone else gets the 404 of an unknown path, so the endpoint does not show it exists.
public struct MonitoringAllowlist: Sendable, Equatable, CustomStringConvertible {
    /// One range: the network's bytes (4 or 16) and how many leading bits must match.
    struct Range: Sendable, Equatable {
        var network: [UInt8]
        var prefixLength: Int
    }

    private(set) var ranges: [Range]
    public let description: String

    /// GitLab's default: the loopback addresses only.
    public static let loopback = try! MonitoringAllowlist(parsing: "127.0.0.0/8,::1/128")

    /// A comma-separated list of CIDRs (`10.0.0.0/8`, `fd00::/8`) or single addresses.
    public init(parsing text: String) throws(InvalidCIDR) {
        var ranges: [Range] = []
        for item in text.split(separator: ",") {
            var entry = item
            while entry.first?.isWhitespace == true { entry = entry.dropFirst() }
            while entry.last?.isWhitespace == true { entry = entry.dropLast() }
            guard !entry.isEmpty else { continue }
            let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = Self.bytes(of: String(parts[0])) else { throw InvalidCIDR(entry: String(entry)) }
            let bits = address.count * 8
            let prefixLength = parts.count == 2 ? Int(parts[1]) : bits
            guard let prefixLength, (0...bits).contains(prefixLength) else { throw InvalidCIDR(entry: String(entry)) }
            ranges.append(Range(network: address, prefixLength: prefixLength))
        }
        self.ranges = ranges
        self.description = ranges.isEmpty ? "(nobody)" : text
    }

    /// Whether `address` (as the connection reports it) is in a range. An IPv4 address mapped into
    /// IPv6 (`::ffff:127.0.0.1`, a dual-stack listener's form) is matched as IPv4.
    public func allows(_ address: String?) -> Bool {
        guard let address, var bytes = Self.bytes(of: address) else { return false }
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = Array(bytes[12...])
        }
        return self.ranges.contains { range in range.network.count == bytes.count && Self.matches(bytes, range) }
    }

    private static func matches(_ address: [UInt8], _ range: Range) -> Bool {
        var remaining = range.prefixLength
        for index in address.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != range.network[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The address's bytes: 4 for IPv4, 16 for IPv6; nil for anything else.
    static func bytes(of address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

/// A `--monitoring-allowlist` entry that is not an address or CIDR.
public struct InvalidCIDR: Error, CustomStringConvertible {
    public var entry: String
    public var description: String { "\"\(self.entry)\" is not an IP address or CIDR range (e.g. 127.0.0.0/8, ::1/128)" }
}
