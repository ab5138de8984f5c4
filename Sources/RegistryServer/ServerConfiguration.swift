import WireHTTP1

/// How the HTTP server runs.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The base URL generated links start with (e.g. `https://pypi.example.com`), for running behind a
    /// proxy. Without it, links use the request's `Host` header over plain HTTP.
    public var externalURL: String?
    /// The largest file an upload may carry, in bytes.
    public var maxUploadSize: Int64
    /// How long a connection may take over each phase of an exchange.
    public var deadlines: ConnectionDeadlines
    /// The most connections open at once; beyond it new ones wait in the listen backlog.
    public var maxConnections: Int

    public static let defaultMaxUploadSize: Int64 = 3 * 1024 * 1024 * 1024

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        externalURL: String? = nil,
        maxUploadSize: Int64 = defaultMaxUploadSize,
        deadlines: ConnectionDeadlines = .standard,
        maxConnections: Int = 1024
    ) {
        self.host = host
        self.port = port
        self.externalURL = externalURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.maxUploadSize = maxUploadSize
        self.deadlines = deadlines
        self.maxConnections = maxConnections
    }
}
