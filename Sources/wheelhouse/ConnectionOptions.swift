import ArgumentParser
import NIOCore
import WireHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `serve`'s limits on connections: a deadline for each phase of an exchange (nginx's four, with
/// its defaults) and a cap on how many are open at once.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("request-header-timeout"),
        help: "Seconds for a whole request head to arrive (env WHEELHOUSE_REQUEST_HEADER_TIMEOUT; default 60)."
    )
    var requestHeaderTimeout: Double?

    @Option(
        name: .customLong("keepalive-timeout"),
        help: "Seconds an idle kept-alive connection stays open (env WHEELHOUSE_KEEPALIVE_TIMEOUT; default 75)."
    )
    var keepaliveTimeout: Double?

    @Option(
        name: .customLong("request-body-timeout"),
        help: "Longest gap, in seconds, between two reads of a request body (env WHEELHOUSE_REQUEST_BODY_TIMEOUT; default 60)."
    )
    var requestBodyTimeout: Double?

    @Option(
        name: .customLong("send-timeout"),
        help: "Seconds a client may leave an answer unread before it is dropped (env WHEELHOUSE_SEND_TIMEOUT; default 60)."
    )
    var sendTimeout: Double?

    @Option(
        name: .customLong("max-connections"),
        help:
            "Most connections open at once; more wait in the backlog (env WHEELHOUSE_MAX_CONNECTIONS; default half the descriptor limit, less a reserve)."
    )
    var maxConnections: Int?

    func deadlines() throws -> ConnectionDeadlines {
        let standard = ConnectionDeadlines.standard
        return ConnectionDeadlines(
            requestHead: try Self.seconds(self.requestHeaderTimeout, "REQUEST_HEADER_TIMEOUT", default: standard.requestHead),
            keepAlive: try Self.seconds(self.keepaliveTimeout, "KEEPALIVE_TIMEOUT", default: standard.keepAlive),
            requestBody: try Self.seconds(self.requestBodyTimeout, "REQUEST_BODY_TIMEOUT", default: standard.requestBody),
            send: try Self.seconds(self.sendTimeout, "SEND_TIMEOUT", default: standard.send)
        )
    }

    /// The cap given, or one that leaves every connection room for a second descriptor (a file
    /// it sends or an upload it writes) and the server a reserve of 64 (database, bucket, logs).
    func maxConnections(descriptorLimit: Int) throws -> Int {
        let given =
            try self.maxConnections
            ?? EnvironmentSetting.value("MAX_CONNECTIONS").map {
                guard let count = Int($0) else { throw ValidationError("WHEELHOUSE_MAX_CONNECTIONS must be a whole number") }
                return count
            }
        if let given {
            guard given > 0 else { throw ValidationError("--max-connections must be at least 1") }
            return given
        }
        return max(8, (descriptorLimit - 64) / 2)
    }

    private static func seconds(_ flag: Double?, _ variable: String, default standard: TimeAmount) throws -> TimeAmount {
        let name = "--" + variable.lowercased().split(separator: "_").joined(separator: "-")
        let value =
            try flag
            ?? EnvironmentSetting.value(variable).map {
                guard let seconds = Double($0) else { throw ValidationError("WHEELHOUSE_\(variable) must be a number of seconds") }
                return seconds
            }
        guard let value else { return standard }
        guard value.isFinite, value > 0, value <= 86_400 else { throw ValidationError("\(name) must be more than 0 and at most 86400 seconds") }
        return .nanoseconds(Int64(value * 1_000_000_000))
    }
}

/// The process's limit on open descriptors. At start-up the soft limit is raised to the hard one
/// (as Go's runtime does): distributions start services at 1024 while allowing far more, and each
/// connection takes one.
enum DescriptorLimit {
    /// Raises the soft limit as far as allowed and returns it.
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        // An unlimited hard limit is not a number the kernel takes for the soft one.
        let target = min(limit.rlim_max, 1 << 20)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}
