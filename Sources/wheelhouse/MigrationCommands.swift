import ArgumentParser
import Logging
import Registry

#if canImport(Glibc)
import Glibc
#endif

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the database's schema up to date (serve does this at start-up too) and print its version."
    )
    @OptionGroup var data: DataOptions

    func run() async throws {
        var logger = Logger(label: "wheelhouse")
        logger.logLevel = .warning
        let database: MetadataDatabase
        do {
            // Opening migrates, under a lock that other starting instances also take.
            database = try await MetadataDatabase.open(try self.data.databaseLocation(), poolSize: 1, logger: logger)
        } catch {
            CommandLineError.print("cannot migrate: \(error)")
            throw ExitCode.failure
        }
        let version = try await database.migrate()
        await database.close()
        print("Schema at version \(version) (\(try self.data.databaseLocation()))")
    }
}

struct MigrateDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-data",
        abstract: "Copy a registry's database into another, empty one (a one-box SQLite registry into PostgreSQL).",
        discussion: """
            Package files are not copied: start the new instances with --blob-dir pointing at the old \
            data dir's blobs directory (or copy that directory to the shared one).
            """
    )
    @Option(help: "The database to copy from, e.g. sqlite:/var/lib/wheelhouse/wheelhouse.sqlite3.") var from: String
    @Option(help: "The database to copy into, e.g. postgres://wheelhouse@db:5432/wheelhouse.") var to: String

    func run() async throws {
        var logger = Logger(label: "wheelhouse")
        logger.logLevel = .warning
        let source: DatabaseLocation
        let target: DatabaseLocation
        do {
            source = try DatabaseLocation(parsing: self.from)
            target = try DatabaseLocation(parsing: self.to)
        } catch {
            throw ValidationError("\(error)")
        }
        if case .sqlite(let path) = source, access(path, F_OK) != 0 {
            CommandLineError.print("no database at \(source)")
            throw ExitCode.failure
        }
        var opened: [MetadataDatabase] = []
        let outcome: Result<[(table: String, rows: Int)], any Error>
        do {
            // Read as it is: a copy does not write to its source.
            let from = try await MetadataDatabase.open(source, poolSize: 2, migrating: false, logger: logger)
            opened.append(from)
            let to = try await MetadataDatabase.open(target, poolSize: 2, logger: logger)
            opened.append(to)
            outcome = .success(try await DatabaseCopy.copy(from: from, to: to))
        } catch {
            outcome = .failure(error)
        }
        for database in opened { await database.close() }
        switch outcome {
        case .success(let counts):
            print("Copied \(source) into \(target):")
            for (table, rows) in counts { print("  \(table): \(rows)") }
        case .failure(let error):
            CommandLineError.print("migrate-data failed, nothing was copied: \(error)")
            throw ExitCode.failure
        }
    }
}
