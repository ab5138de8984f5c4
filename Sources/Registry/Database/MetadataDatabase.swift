import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLiteKit

/// The metadata database: connections, transactions and the schema, over SQLite or PostgreSQL.
///
/// One box runs on SQLite in WAL mode: readers use a small pool of connections and never block the
/// writer; every write goes through a single writer connection, so write transactions queue in
/// process instead of contending for SQLite's lock (the admin CLI, another process, is covered by
/// SQLite's own busy handling). Several instances share PostgreSQL: one pool serves reads and
/// writes, uniqueness is the database's, and the few writers that check across rows take an
/// advisory lock (`DatabaseLock`). Queries are written once, in SQLKit, for both.
public final class MetadataDatabase: Sendable {
    public let dialect: DatabaseDialect
    /// How long a read, and a write transaction, may wait for a database across a network before
    /// the request gets a 503 rather than a hang. None for SQLite, which is on local disk.
    let readDeadline: Duration?
    let writeDeadline: Duration?
    private let readers: any SQLConnectionPool
    private let writers: any SQLConnectionPool
    let logger: Logger
    /// Counts the times the database could not be reached (each a 503 to someone).
    private let errors: Counter

    private init(
        dialect: DatabaseDialect,
        readers: any SQLConnectionPool,
        writers: any SQLConnectionPool,
        metrics: RegistryMetrics,
        logger: Logger
    ) {
        self.dialect = dialect
        self.errors = metrics.databaseErrors
        self.readDeadline = dialect == .postgres ? .seconds(3) : nil
        self.writeDeadline = dialect == .postgres ? .seconds(8) : nil
        self.readers = readers
        self.writers = writers
        self.logger = logger
    }

    /// Opens the database at `location` and brings its schema up to date (or refuses a newer one).
    /// `poolSize` is the number of connections: readers beside the one writer on SQLite, all of them
    /// on PostgreSQL.
    /// With `migrating: false` the schema is left as it is and must be the one this binary knows
    /// (for reading a registry without writing to it, as `migrate-data` reads its source).
    public static func open(
        _ location: DatabaseLocation,
        poolSize: Int? = nil,
        migrating: Bool = true,
        metrics: RegistryMetrics = .disabled,
        logger: Logger
    ) async throws -> MetadataDatabase {
        switch location {
        case .sqlite(let path):
            return try await self.openSQLite(
                path: path,
                readConnections: poolSize ?? 4,
                migrating: migrating,
                metrics: metrics,
                logger: logger
            )
        case .postgres(let url):
            var configuration: SQLPostgresConfiguration
            do { configuration = try SQLPostgresConfiguration(url: url) } catch {
                // The parser's error quotes the whole URL, password included: say it without.
                throw DatabaseLocation.InvalidURL(
                    description:
                        "\(location) is not a PostgreSQL URL of the form postgres://user:password@host:5432/database[?sslmode=disable|prefer|require]"
                )
            }
            // An unreachable server should fail a request in seconds, not hang it.
            configuration.coreConfiguration.options.connectTimeout = .seconds(3)
            return try await self.openPostgres(
                configuration: configuration,
                poolSize: poolSize ?? 10,
                migrating: migrating,
                metrics: metrics,
                logger: logger
            )
        }
    }

    /// Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
    public static func openSQLite(
        path: String,
        readConnections: Int = 4,
        migrating: Bool = true,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        metrics: RegistryMetrics = .disabled,
        logger: Logger
    ) async throws -> MetadataDatabase {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try FileSystemCalls.makeDirectories(String(path[..<slash]))
        }
        let source = SQLiteConnectionSource(
            configuration: .init(storage: .file(path: path), enableForeignKeys: true),
            threadPool: .singleton
        )
        let loop = eventLoopGroup.next()
        let writer = PooledConnections(source: source, size: 1, on: loop, logger: logger, gauges: metrics.pool("write")) {
            $0.sql(queryLogLevel: nil)
        }
        let readers = PooledConnections(source: source, size: max(1, readConnections), on: loop, logger: logger, gauges: metrics.pool("read")) {
            $0.sql(queryLogLevel: nil)
        }
        let database = MetadataDatabase(dialect: .sqlite, readers: readers, writers: writer, metrics: metrics, logger: logger)
        return try await database.prepared(migrating: migrating) {
            try await writer.withConnection(deadline: nil) { connection in
                // WAL is a property of the file: set once, it stays.
                _ = try await connection.raw("PRAGMA journal_mode = WAL").all()
            }
        }
    }

    /// Connects a pool of `poolSize` connections to PostgreSQL and brings the schema up to date.
    public static func openPostgres(
        configuration: SQLPostgresConfiguration,
        poolSize: Int = 10,
        migrating: Bool = true,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        metrics: RegistryMetrics = .disabled,
        logger: Logger
    ) async throws -> MetadataDatabase {
        let pool = PooledConnections(
            source: PostgresConnectionSource(sqlConfiguration: configuration),
            size: max(1, poolSize),
            on: eventLoopGroup.next(),
            logger: logger,
            gauges: metrics.pool("shared"),
            circuit: CircuitBreaker()
        ) { $0.sql(queryLogLevel: nil) }
        let database = MetadataDatabase(dialect: .postgres, readers: pool, writers: pool, metrics: metrics, logger: logger)
        return try await database.prepared(migrating: migrating)
    }

    /// Runs `setUp`, then the migrations (or checks there are none to run); closes the connections
    /// if anything fails.
    private func prepared(migrating: Bool, _ setUp: () async throws -> Void = {}) async throws -> MetadataDatabase {
        do {
            try await setUp()
            if migrating {
                try await self.migrate()
            } else {
                let version = try await Schema.version(of: self)
                guard version == Schema.latestVersion else {
                    throw RegistryError.invalid(
                        "The database's schema is at version \(version), this wheelhouse's at \(Schema.latestVersion): run `wheelhouse migrate` on it first"
                    )
                }
            }
        } catch {
            await self.close()
            throw error
        }
        return self
    }

    public func close() async {
        await self.readers.close()
        if self.writers !== self.readers { await self.writers.close() }
    }

    /// Applies the migrations this database lacks; returns the schema version it is at.
    @discardableResult
    public func migrate() async throws -> Int {
        try await Schema.migrate(self)
    }

    /// Runs `body` in one read-only transaction that sees the database as it was at its start,
    /// with no deadline: for copying a whole registry.
    func snapshot<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let dialect = self.dialect
        return try await self.reportingUnavailability {
            try await self.readers.withConnection(deadline: nil) { database in
                try await Self.committing(database, opening: [dialect.beginSnapshot], body)
            }
        }
    }

    /// Runs `body` on a read connection. Each statement sees committed data.
    func read<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await self.reportingUnavailability {
            try await self.readers.withConnection(deadline: self.readDeadline, body)
        }
    }

    /// Runs `body` in one write transaction, holding `locks` from its start: all of it commits, or
    /// none of it does.
    /// `unbounded` lifts the write deadline, for work that is long by nature (migrations, copies).
    func transaction<Result: Sendable>(
        locking locks: [DatabaseLock] = [],
        unbounded: Bool = false,
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let dialect = self.dialect
        return try await self.reportingUnavailability {
            try await self.writers.withConnection(deadline: unbounded ? nil : self.writeDeadline) { database in
                let lockStatements = locks.compactMap { dialect.statement(taking: $0) }
                return try await Self.committing(database, opening: [dialect.beginWrite] + lockStatements, body)
            }
        }
    }

    /// Runs the `opening` statements (the first begins a transaction), then `body`, then COMMIT;
    /// ROLLBACK if anything fails.
    private static func committing<Result: Sendable>(
        _ database: any SQLDatabase,
        opening: [String],
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await database.raw(SQLQueryString(opening[0])).run()
        do {
            for statement in opening.dropFirst() { try await database.raw(SQLQueryString(statement)).run() }
            let result = try await body(database)
            try await database.raw("COMMIT").run()
            return result
        } catch {
            try? await database.raw("ROLLBACK").run()
            throw error
        }
    }

    /// Turns "cannot reach the database" into `RegistryError.unavailable` (a 503), logging the cause
    /// here, since the caller is told only to retry.
    private func reportingUnavailability<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as DatabaseUnreachable {
            self.errors.increment()
            if error.logged { self.logger.warning("database unreachable", metadata: ["reason": "\(error.reason)"]) }
            throw RegistryError.unavailable(Self.unavailableMessage)
        } catch  where DatabaseDialect.isUnavailable(error) {
            self.errors.increment()
            self.logger.warning("database connection failed", metadata: ["reason": "\(String(reflecting: error))"])
            throw RegistryError.unavailable(Self.unavailableMessage)
        } catch  where DatabaseDialect.isFull(error) {
            // The transaction rolled back, so nothing of the change is kept: the caller answers 507.
            self.errors.increment()
            self.logger.error("the database's disk is full", metadata: ["reason": "\(String(reflecting: error))"])
            throw StorageFull(operation: "write", path: "the metadata database")
        }
    }

    static let unavailableMessage = "The database cannot be reached; try again shortly"
}

/// No connection could be had: the server refused, timed out or is shutting down.
struct DatabaseUnreachable: Error {
    var reason: String
    /// Whether it is worth a log line: failing fast while the circuit is open is not, every time.
    var logged = true
}

/// A pool of connections that hands out `SQLDatabase`s, whatever the driver.
protocol SQLConnectionPool: AnyObject, Sendable {
    /// Runs `body` on a connection; past `deadline` (if any) it is abandoned as unreachable.
    func withConnection<Result: Sendable>(
        deadline: Duration?,
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result
    func close() async
}

// `@unchecked`: AsyncKit's EventLoopGroupConnectionPool guards its state with its own lock and is
// documented as usable from any thread, but is not annotated `Sendable`.
final class PooledConnections<Source: ConnectionPoolSource>: SQLConnectionPool, @unchecked Sendable where Source.Connection: Sendable {
    private let pool: EventLoopGroupConnectionPool<Source>
    private let sql: @Sendable (Source.Connection) -> any SQLDatabase
    private let logger: Logger
    /// For a database across a network: fail fast while it is known to be unreachable.
    private let circuit: CircuitBreaker?
    private let gauges: PoolGauges

    init(
        source: Source,
        size: Int,
        on loop: any EventLoop,
        logger: Logger,
        gauges: PoolGauges,
        circuit: CircuitBreaker? = nil,
        sql: @escaping @Sendable (Source.Connection) -> any SQLDatabase
    ) {
        // The pool's own logging of failed connections would repeat, at error level, what
        // `MetadataDatabase` reports once as a warning.
        var quiet = logger
        quiet.logLevel = .critical
        // One event loop, so that `size` is the whole pool, not a number per loop.
        self.pool = EventLoopGroupConnectionPool(
            source: source,
            maxConnectionsPerEventLoop: size,
            requestTimeout: .seconds(10),
            pruneInterval: nil,
            logger: quiet,
            on: loop
        )
        self.sql = sql
        self.logger = quiet
        self.circuit = circuit
        self.gauges = gauges
    }

    func withConnection<Result: Sendable>(
        deadline: Duration?,
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        if let circuit = self.circuit, !circuit.admit() {
            throw DatabaseUnreachable(reason: "failing fast: the last attempt to reach the database failed", logged: false)
        }
        let connection: Source.Connection
        self.gauges.startWaiting()
        do {
            connection = try await self.pool.requestConnection(logger: self.logger).get()
            self.gauges.stopWaiting(gotConnection: true)
        } catch let error as ConnectionPoolTimeoutError {
            self.gauges.stopWaiting(gotConnection: false)
            // Every connection was busy for the whole wait: load, not an outage.
            self.circuit?.recordInconclusive()
            throw DatabaseUnreachable(reason: String(reflecting: error))
        } catch {
            self.gauges.stopWaiting(gotConnection: false)
            self.circuit?.recordFailure()
            throw DatabaseUnreachable(reason: String(reflecting: error))
        }
        defer {
            self.pool.releaseConnection(connection, logger: self.logger)
            self.gauges.release()
        }
        do {
            let result = try await self.run(body, on: connection, deadline: deadline)
            self.circuit?.recordSuccess()
            return result
        } catch  where error is DatabaseUnreachable || DatabaseDialect.isUnavailable(error) {
            self.circuit?.recordFailure()
            throw error
        } catch is CancellationError {
            self.circuit?.recordInconclusive()
            throw CancellationError()
        } catch {
            self.circuit?.recordSuccess()
            throw error
        }
    }

    /// Runs `body`; past `deadline` the connection is closed, which fails whatever it was waiting
    /// for (a transaction not yet committed is then rolled back by the server). If the body made it
    /// in the meantime (its COMMIT answered just as the deadline passed), its result stands.
    private func run<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result,
        on connection: Source.Connection,
        deadline: Duration?
    ) async throws -> Result {
        let database = self.sql(connection)
        guard let deadline else { return try await body(database) }
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask { try await body(database) }
                group.addTask {
                    // Throws CancellationError if the request is cancelled: that is not a timeout.
                    try await Task.sleep(for: deadline)
                    return nil
                }
                if let first = try await group.next(), let result = first {
                    group.cancelAll()
                    return result
                }
                _ = connection.close()
                if let late = try? await group.next(), let result = late {
                    return result
                }
                throw DatabaseUnreachable(reason: "no answer within \(deadline)")
            }
        }
    }

    func close() async {
        try? await self.pool.shutdownAsync()
    }
}
