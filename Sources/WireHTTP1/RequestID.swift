import NIOConcurrencyHelpers

/// The id that ties an answer to its log lines: `X-Request-Id`, as GitLab and most proxies name it.
/// A client's (or a proxy's) id is kept when it is well-formed, so one id follows a request
/// through every hop; anything else is replaced, so that a log line never carries what a client
/// wrote there unchecked.
public enum RequestID {
    public static let headerName = "X-Request-Id"

    /// `value` when it is 1 to 128 characters of letters, digits and `.`, `_`, `:`, `-`; else nil.
    public static func accepting(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128, value.utf8.allSatisfy(Self.isAllowed) else { return nil }
        return value
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"): true
        default: false
        }
    }
}

/// New request ids: 32 lowercase hex digits, a random half chosen when the source is made and a
/// counter. Unique within a process, and across instances but for a 1 in 2^64 chance; making one
/// costs a lock and no system call, which matters on the replay path.
public final class RequestIDSource: Sendable {
    private let prefix: String
    private let counter = NIOLockedValueBox<UInt64>(0)

    public init() {
        var random = SystemRandomNumberGenerator()
        self.prefix = Self.hex(random.next())
    }

    public func next() -> String {
        let number = self.counter.withLockedValue { counter in
            counter &+= 1
            return counter
        }
        return self.prefix + Self.hex(number)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0, count: 16)
        var rest = value
        for index in stride(from: 15, through: 0, by: -1) {
            bytes[index] = digits[Int(rest & 0xF)]
            rest >>= 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Duration {
    /// Milliseconds to the microsecond, as request log lines give durations.
    public var milliseconds: Double {
        let components = self.components
        return Double(components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000) / 1000
    }
}
