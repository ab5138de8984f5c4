import ArgumentParser
import Logging
import Registry

#if canImport(Glibc)
import Glibc
#endif

/// What `fsck`, `gc`, `backup` and `audit` share: the registry opened as every admin command opens it
/// (`DataOptions`), never created where there is none, and closed whatever happens.
enum MaintenanceRegistry {
    /// Log lines go to stderr at warning and above: stdout carries only the command's report.
    static func logger() -> Logger {
        var logger = Logger(label: "wheelhouse") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` on the open registry; a registry that cannot be opened is one line on stderr
    /// and exit status 1.
    static func with(_ data: DataOptions, _ body: (OpenRegistry, Logger) async throws -> Void) async throws {
        let logger = Self.logger()
        if case .sqlite(let path) = try data.databaseLocation(), access(path, F_OK) != 0 {
            CommandLineError.print("no registry at \(data.summary): no database at \(path)")
            throw ExitCode.failure
        }
        let registry: OpenRegistry
        do {
            registry = try await data.openRegistry(logger: logger)
            try await registry.blobs.checkAccess()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            CommandLineError.print("cannot open the registry (\(data.summary)): \(error)")
            throw ExitCode.failure
        }
        let outcome: Result<Void, any Error>
        do { outcome = .success(try await body(registry, logger)) } catch { outcome = .failure(error) }
        await registry.close()
        switch outcome {
        case .success: return
        case .failure(let exit as ExitCode): throw exit
        case .failure(let error):
            CommandLineError.print("\(error)")
            throw ExitCode.failure
        }
    }
}
