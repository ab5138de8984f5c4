/// Which database holds the registry's metadata, as named by `--database-url`.
///
/// `postgres://user:password@host:5432/database` (or `postgresql://`) selects PostgreSQL; `sqlite:PATH`
/// (`sqlite:///absolute/path` also works) selects an SQLite file.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    public struct InvalidURL: Error, CustomStringConvertible {
        public var description: String
    }

    public init(parsing url: String) throws {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            self = .postgres(url: url)
        } else if url.hasPrefix("sqlite:") {
            var path = Substring(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = path.dropFirst(2) }
            guard !path.isEmpty else { throw InvalidURL(description: "an sqlite: URL needs a file path, as sqlite:/var/lib/wheelhouse/db.sqlite3") }
            self = .sqlite(path: String(path))
        } else {
            throw InvalidURL(description: "database URL must start with postgres://, postgresql:// or sqlite:")
        }
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        switch self {
        case .sqlite(let path):
            return "sqlite:\(path)"
        case .postgres(let url):
            guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
            let credentials = url[scheme.upperBound..<at]
            guard let colon = credentials.firstIndex(of: ":") else { return url }
            return String(url[..<colon]) + ":***" + String(url[at...])
        }
    }
}
