import Foundation
import Logging
import PostgresKit
import Registry

/// The database the store and HTTP tests run on: SQLite in the test's directory by default, or a
/// fresh PostgreSQL database per test when `WHEELHOUSE_TEST_DATABASE=postgres` (the test command
/// runs the suite both ways, on a throwaway PostgreSQL server it starts; see scripts/test).
public enum TestDatabase {
    public struct Misconfigured: Error, CustomStringConvertible {
        public var description: String
    }

    public static var isPostgres: Bool {
        ProcessInfo.processInfo.environment["WHEELHOUSE_TEST_DATABASE"] == "postgres"
    }

    /// A new, empty database for one test.
    public static func makeLocation(directory: String) async throws -> DatabaseLocation {
        guard self.isPostgres else { return .sqlite(path: directory + "/db.sqlite3") }
        guard let serverURL = ProcessInfo.processInfo.environment["WHEELHOUSE_TEST_POSTGRES_URL"] else {
            throw Misconfigured(
                description: "WHEELHOUSE_TEST_DATABASE=postgres needs WHEELHOUSE_TEST_POSTGRES_URL (postgres://user@host:port/postgres)"
            )
        }
        let name = "wheelhouse_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        var logger = Logger(label: "test-database")
        logger.logLevel = .warning
        let configuration = try SQLPostgresConfiguration(url: serverURL).coreConfiguration
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        guard let slash = serverURL.lastIndex(of: "/") else { throw Misconfigured(description: "bad WHEELHOUSE_TEST_POSTGRES_URL") }
        return .postgres(url: serverURL[..<slash] + "/" + name)
    }

    /// Opens a new, empty database for one test.
    public static func open(directory: String, logger: Logger) async throws -> MetadataDatabase {
        try await MetadataDatabase.open(try await self.makeLocation(directory: directory), poolSize: 4, logger: logger)
    }
}
