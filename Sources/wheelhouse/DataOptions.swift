import AWSSigV4
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
        name: .customLong("blob-store"),
        help: "file:PATH, or s3://BUCKET[/PREFIX] for an S3-compatible bucket (env WHEELHOUSE_BLOB_STORE; default file:<data-dir>/blobs)."
    )
    var blobStore: String?

    @OptionGroup var s3: S3Options

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

    /// `--blob-store`, else `--blob-dir` (the older spelling of `file:`), else the data dir's blobs.
    func blobStoreLocation() throws -> BlobStoreLocation {
        let store = self.blobStore ?? EnvironmentSetting.value("BLOB_STORE")
        let directory = self.blobDirectory ?? EnvironmentSetting.value("BLOB_DIR")
        guard let store else { return .file(path: directory ?? self.resolvedDataDirectory + "/blobs") }
        if directory != nil { throw ValidationError("give --blob-store or --blob-dir, not both") }
        do { return try BlobStoreLocation(parsing: store) } catch { throw ValidationError("\(error)") }
    }

    /// Opens the store at `location`; an object store spools its uploads under the data dir.
    func makeBlobStore(_ location: BlobStoreLocation, downloadMode: S3Configuration.DownloadMode = .proxy, logger: Logger) throws -> any BlobStore {
        switch location {
        case .file(let path):
            return try LocalBlobStore(root: path)
        case .s3(let bucket, let prefix):
            let configuration = try self.s3.configuration(bucket: bucket, prefix: prefix, downloadMode: downloadMode)
            return try S3BlobStore(configuration: configuration, spoolDirectory: self.resolvedDataDirectory + "/spool", logger: logger)
        }
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
        let blobs = (try? self.blobStoreLocation().description) ?? "?"
        return "\(database) with blobs in \(blobs)"
    }

    /// Opens the registry's stores, creating the data directory on first use.
    /// `metrics` counts the database's pools and errors, and the blob store's failures.
    func openRegistry(
        downloadMode: S3Configuration.DownloadMode = .proxy,
        metrics: RegistryMetrics = .disabled,
        logger: Logger
    ) async throws -> OpenRegistry {
        let location = try self.blobStoreLocation()
        let blobs = CountingBlobStore(
            try self.makeBlobStore(location, downloadMode: downloadMode, logger: logger),
            errors: metrics.blobStoreErrors
        )
        let database: MetadataDatabase
        do {
            database = try await MetadataDatabase.open(try self.databaseLocation(), poolSize: try self.poolSize(), metrics: metrics, logger: logger)
        } catch {
            try? await blobs.shutdown()
            throw error
        }
        return OpenRegistry(database: database, store: MetadataStore(database: database), blobs: blobs)
    }
}

struct OpenRegistry {
    var database: MetadataDatabase
    var store: MetadataStore
    var blobs: any BlobStore

    func close() async {
        try? await self.blobs.shutdown()
        await self.database.close()
    }
}

/// How to reach an S3-compatible bucket; credentials come only from the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), as every AWS tool reads them.
struct S3Options: ParsableArguments {
    @Option(
        name: .customLong("s3-endpoint"),
        help: "URL of an S3-compatible store, e.g. http://127.0.0.1:9000 (env WHEELHOUSE_S3_ENDPOINT; default AWS's endpoint for the region)."
    )
    var endpoint: String?

    @Option(name: .customLong("s3-region"), help: "The bucket's region (env WHEELHOUSE_S3_REGION, else AWS_REGION; default us-east-1).")
    var region: String?

    @Option(
        name: .customLong("s3-addressing"),
        help: "path or virtual-host (env WHEELHOUSE_S3_ADDRESSING; default path with --s3-endpoint, else virtual-host)."
    )
    var addressing: String?

    func configuration(bucket: String, prefix: String, downloadMode: S3Configuration.DownloadMode) throws -> S3Configuration {
        let environment = EnvironmentSetting.aws
        guard let credentials = AWSCredentials(environment: environment) else {
            throw ValidationError(
                "s3:// needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)"
            )
        }
        let region =
            self.region ?? EnvironmentSetting.value("S3_REGION") ?? environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        let addressing = try (self.addressing ?? EnvironmentSetting.value("S3_ADDRESSING")).map {
            guard let value = S3Configuration.Addressing(rawValue: $0) else { throw ValidationError("--s3-addressing is path or virtual-host") }
            return value
        }
        do {
            return try S3Configuration(
                bucket: bucket,
                prefix: prefix,
                region: region,
                credentials: credentials,
                endpoint: self.endpoint ?? EnvironmentSetting.value("S3_ENDPOINT"),
                addressing: addressing,
                downloadMode: downloadMode
            )
        } catch { throw ValidationError("\(error)") }
    }
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
        await registry.close()
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
