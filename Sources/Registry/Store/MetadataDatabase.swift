import Logging
import NIOCore
import NIOPosix
import SQLiteKit

/// The metadata database: connections, transactions and the schema.
///
/// One box runs on SQLite in WAL mode: readers use a small pool of connections and never block the
/// writer; every write goes through a single writer connection, so write transactions queue in
/// process instead of contending for SQLite's lock (the admin CLI, another process, is covered by
/// SQLite's own busy handling). Queries are written once, in SQLKit, for every dialect.
// `@unchecked`: AsyncKit's EventLoopGroupConnectionPool guards its state with its own lock and is
// documented as usable from any thread, but is not annotated `Sendable`.
public final class MetadataDatabase: @unchecked Sendable {
    private let readers: EventLoopGroupConnectionPool<SQLiteConnectionSource>
    private let writer: EventLoopGroupConnectionPool<SQLiteConnectionSource>
    let logger: Logger

    private init(
        readers: EventLoopGroupConnectionPool<SQLiteConnectionSource>,
        writer: EventLoopGroupConnectionPool<SQLiteConnectionSource>,
        logger: Logger
    ) {
        self.readers = readers
        self.writer = writer
        self.logger = logger
    }

    /// Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
    public static func openSQLite(
        path: String,
        readConnections: Int = 4,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> MetadataDatabase {
        let source = SQLiteConnectionSource(
            configuration: .init(storage: .file(path: path), enableForeignKeys: true),
            threadPool: .singleton
        )
        let loop = eventLoopGroup.next()
        let writer = EventLoopGroupConnectionPool(
            source: source, maxConnectionsPerEventLoop: 1, requestTimeout: .seconds(30),
            pruneInterval: nil, logger: logger, on: loop
        )
        let readers = EventLoopGroupConnectionPool(
            source: source, maxConnectionsPerEventLoop: max(1, readConnections), requestTimeout: .seconds(30),
            pruneInterval: nil, logger: logger, on: loop
        )
        let database = MetadataDatabase(readers: readers, writer: writer, logger: logger)
        do {
            try await database.withWriterConnection { connection in
                // WAL is a property of the file: set once, it stays.
                _ = try await connection.raw("PRAGMA journal_mode = WAL").all()
            }
            try await Schema.migrate(database)
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    public func close() async {
        try? await self.readers.shutdownAsync()
        try? await self.writer.shutdownAsync()
    }

    /// Runs `body` on a read connection. Each statement sees committed data.
    func read<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let connection = try await self.readers.requestConnection(logger: self.logger).get()
        defer { self.readers.releaseConnection(connection, logger: self.logger) }
        return try await body(connection.sql(queryLogLevel: nil))
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it does.
    func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await self.withWriterConnection { database in
            // IMMEDIATE takes the write lock up front, so a transaction never fails half-way on a lock upgrade.
            try await database.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    private func withWriterConnection<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let connection = try await self.writer.requestConnection(logger: self.logger).get()
        defer { self.writer.releaseConnection(connection, logger: self.logger) }
        return try await body(connection.sql(queryLogLevel: nil))
    }

    /// Whether `error` is the database refusing a duplicate in a unique index.
    static func isUniqueViolation(_ error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
            || (error.reason == .constraint && error.message.contains("UNIQUE"))
    }
}
