import ArgumentParser
import Logging
import NIOPosix
import Registry

#if canImport(Glibc)
import Glibc
#endif

/// Where the registry keeps its data: shared by `serve` and every admin command, so that the CLI can
/// administer a running server.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Directory holding the database and blobs (env WHEELHOUSE_DATA_DIR; default ./wheelhouse-data).")
    var dataDirectory: String?

    @Option(
        name: .customLong("database-url"),
        help: "postgres://user:password@host:5432/database, or sqlite:PATH (env WHEELHOUSE_DATABASE_URL; default SQLite in the data dir)."
    )
    var databaseURL: String?

    @Option(
        name: .customLong("blob-dir"),
        help: "Directory of package files, shareable by several instances (env WHEELHOUSE_BLOB_DIR; default <data-dir>/blobs)."
    )
    var blobDirectory: String?

    @Option(
        name: .customLong("database-pool-size"),
        help: "Database connections (env WHEELHOUSE_DATABASE_POOL_SIZE; default 10 on PostgreSQL, 4 readers on SQLite)."
    )
    var databasePoolSize: Int?

    var resolvedDataDirectory: String {
        self.dataDirectory ?? EnvironmentSetting.value("DATA_DIR") ?? "./wheelhouse-data"
    }

    var resolvedBlobDirectory: String {
        self.blobDirectory ?? EnvironmentSetting.value("BLOB_DIR") ?? self.resolvedDataDirectory + "/blobs"
    }

    func databaseLocation() throws -> DatabaseLocation {
        guard let url = self.databaseURL ?? EnvironmentSetting.value("DATABASE_URL") else {
            return .sqlite(path: self.resolvedDataDirectory + "/wheelhouse.sqlite3")
        }
        do { return try DatabaseLocation(parsing: url) } catch { throw ValidationError("\(error)") }
    }

    func poolSize() throws -> Int? {
        let size =
            try self.databasePoolSize
            ?? EnvironmentSetting.value("DATABASE_POOL_SIZE").map {
                guard let size = Int($0) else { throw ValidationError("WHEELHOUSE_DATABASE_POOL_SIZE must be a number") }
                return size
            }
        if let size, !(1...1000).contains(size) { throw ValidationError("the database pool size must be 1 to 1000") }
        return size
    }

    /// Where the registry is, for messages: the database (without its password) and the blobs.
    var summary: String {
        let database = (try? self.databaseLocation().description) ?? "?"
        return "\(database) with blobs in \(self.resolvedBlobDirectory)"
    }

    /// Opens the registry's stores, creating the data directory on first use.
    func openRegistry(logger: Logger) async throws -> OpenRegistry {
        let database = try await MetadataDatabase.open(try self.databaseLocation(), poolSize: try self.poolSize(), logger: logger)
        let blobs: LocalBlobStore
        do { blobs = try LocalBlobStore(root: self.resolvedBlobDirectory) } catch {
            await database.close()
            throw error
        }
        return OpenRegistry(database: database, store: MetadataStore(database: database), blobs: blobs)
    }
}

struct OpenRegistry {
    var database: MetadataDatabase
    var store: MetadataStore
    var blobs: LocalBlobStore
}

/// Runs an admin action against the data directory and turns refusals into one line on stderr.
protocol AdminCommand: AsyncParsableCommand {
    var data: DataOptions { get }
    var output: OutputOptions { get }
    func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String)
}

struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the created object as one JSON object.")
    var json = false
}

extension AdminCommand {
    func run() async throws {
        var logger = Logger(label: "wheelhouse")
        logger.logLevel = .warning
        let registry: OpenRegistry
        do { registry = try await self.data.openRegistry(logger: logger) } catch {
            CommandLineError.print("cannot open the registry (\(self.data.summary)): \(error)")
            throw ExitCode.failure
        }
        let services = RegistryServices(store: registry.store, blobs: registry.blobs, logger: logger)
        let outcome: Result<(json: JSONValue, text: String), any Error>
        do { outcome = .success(try await self.run(services)) } catch { outcome = .failure(error) }
        await registry.database.close()
        switch outcome {
        case .success(let (json, text)):
            print(self.output.json ? json.rendered : text)
        case .failure(let error as RegistryError):
            CommandLineError.print(error.description)
            throw ExitCode.failure
        case .failure(let error as ValidationFailure):
            CommandLineError.print(error.message)
            throw ExitCode.failure
        case .failure(let error):
            throw error
        }
    }
}

/// A bad flag value, reported as one line rather than a usage screen.
struct ValidationFailure: Error {
    var message: String
}

enum CommandLineError {
    static func print(_ message: String) {
        var standardError = StandardError()
        Swift.print("error: \(message)", to: &standardError)
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
