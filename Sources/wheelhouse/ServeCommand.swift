import ArgumentParser
import Logging
import Registry
import RegistryServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the registry server.")

    @Option(help: "Address to listen on (env WHEELHOUSE_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env WHEELHOUSE_PORT; default 8080).")
    var port: Int?

    @Option(name: .customLong("external-url"), help: "Base URL for generated links, when behind a proxy (env WHEELHOUSE_EXTERNAL_URL).")
    var externalURL: String?

    @Option(name: .customLong("max-upload-size"), help: "Largest accepted file in bytes (env WHEELHOUSE_MAX_UPLOAD_SIZE; default 3 GiB).")
    var maxUploadSize: Int64?

    @Option(
        name: .customLong("s3-download"),
        help:
            "With an s3:// blob store: proxy (stream files through Wheelhouse) or redirect (302 to a presigned URL) (env WHEELHOUSE_S3_DOWNLOAD; default proxy)."
    )
    var s3Download: String?

    @Option(name: .customLong("log-format"), help: "text or json: one JSON object per line (env WHEELHOUSE_LOG_FORMAT; default text).")
    var logFormat: String?

    @Option(
        name: .customLong("monitoring-allowlist"),
        help: "Comma-separated CIDRs that may read /-/metrics (env WHEELHOUSE_MONITORING_ALLOWLIST; default 127.0.0.0/8,::1/128)."
    )
    var monitoringAllowlist: String?

    @Flag(name: .customLong("no-metrics"), help: "Count nothing; /-/metrics shows the build and the process only (env WHEELHOUSE_METRICS=off).")
    var noMetrics = false

    @OptionGroup var connections: ConnectionOptions

    @OptionGroup var data: DataOptions

    func run() async throws {
        var logger = try self.makeLogger()
        logger.logLevel = EnvironmentSetting.value("LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        let allowlist: MonitoringAllowlist
        do {
            allowlist =
                try (self.monitoringAllowlist ?? EnvironmentSetting.value("MONITORING_ALLOWLIST")).map(MonitoringAllowlist.init(parsing:))
                ?? .loopback
        } catch {
            throw ValidationError("--monitoring-allowlist: \(error)")
        }
        let counting = !self.noMetrics && EnvironmentSetting.value("METRICS")?.lowercased() != "off"

        let descriptorLimit = DescriptorLimit.raise()
        let configuration = try self.serverConfiguration(descriptorLimit: descriptorLimit)
        let downloadMode = try (self.s3Download ?? EnvironmentSetting.value("S3_DOWNLOAD")).map {
            guard let mode = S3Configuration.DownloadMode(rawValue: $0) else { throw ValidationError("--s3-download is proxy or redirect") }
            return mode
        }
        // The counters exist before the stores, which count into them.
        let metricsBackend = ServerMetricsBackend(counting: counting)
        let registry = try await self.data.openRegistry(downloadMode: downloadMode ?? .proxy, metrics: metricsBackend.metrics, logger: logger)
        // A store that cannot be used stops the start with one line naming it, not a stack trace
        // and not a server that fails every upload.
        do {
            try await registry.blobs.checkAccess()
            let removed = try await registry.blobs.removeStaleUploads(olderThan: .seconds(3600))
            if removed > 0 { logger.notice("removed \(removed) partial uploads left by an earlier stop") }
        } catch {
            await registry.close()
            CommandLineError.print("\(error)")
            throw ExitCode.failure
        }

        let upstream = UpstreamClient(userAgent: "Wheelhouse/\(WheelhouseVersion.current)")
        let services = RegistryServices(store: registry.store, blobs: registry.blobs, logger: logger, upstream: upstream)
        let observability = ServerObservability(
            backend: metricsBackend,
            readiness: ReadinessProbe(store: registry.store, blobs: registry.blobs),
            allowlist: allowlist,
            version: WheelhouseVersion.current
        )
        let application = RegistryServer.makeApplication(
            services: services,
            configuration: configuration,
            observability: observability,
            logger: logger
        )
        logger.notice(
            "wheelhouse serving",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)", "database": "\((try? self.data.databaseLocation())?.description ?? "?")",
                "blobs": "\((try? self.data.blobStoreLocation())?.description ?? "?")",
                "descriptor_limit": "\(descriptorLimit)", "max_connections": "\(configuration.maxConnections)",
            ]
        )
        // A dead upload's file is one not written for two body deadlines (at least 4 s); they are
        // looked for once per deadline (within 1 s to 60 s). Instances sharing a blob directory
        // should share the body deadline too: the shortest one decides for all.
        let bodyDeadline = Duration.nanoseconds(configuration.deadlines.requestBody.nanoseconds)
        let sweeper = TemporaryFileSweeper(
            blobs: registry.blobs,
            interval: min(max(bodyDeadline, .seconds(1)), .seconds(60)),
            // At least four times the interval at which a live upload touches its file.
            age: max(bodyDeadline * 2, .seconds(4)),
            logger: logger
        )
        do {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await sweeper.run() }
                try await application.runService()
                group.cancelAll()
            }
        } catch {
            try? await upstream.shutdown()
            await registry.close()
            throw error
        }
        try? await upstream.shutdown()
        await registry.close()
    }

    /// Text lines (swift-log's own format) or JSON lines, on standard error, each with the
    /// request id of the request it was written for.
    private func makeLogger() throws -> Logger {
        switch (self.logFormat ?? EnvironmentSetting.value("LOG_FORMAT") ?? "text").lowercased() {
        case "text":
            return Logger(label: "wheelhouse") { StreamLogHandler.standardError(label: $0, metadataProvider: RequestLogContext.metadataProvider) }
        case "json":
            return Logger(label: "wheelhouse") { JSONLogHandler(label: $0) }
        case let other:
            throw ValidationError("--log-format is text or json, not \(other)")
        }
    }

    private func serverConfiguration(descriptorLimit: Int) throws -> ServerConfiguration {
        let port =
            try self.port ?? EnvironmentSetting.value("PORT").map {
                guard let port = Int($0) else { throw ValidationError("WHEELHOUSE_PORT must be a number") }
                return port
            } ?? 8080
        let maxUploadSize =
            try self.maxUploadSize ?? EnvironmentSetting.value("MAX_UPLOAD_SIZE").map {
                guard let size = Int64($0) else { throw ValidationError("WHEELHOUSE_MAX_UPLOAD_SIZE must be a number of bytes") }
                return size
            } ?? ServerConfiguration.defaultMaxUploadSize
        guard (0...65535).contains(port) else { throw ValidationError("port must be 0 to 65535") }
        guard maxUploadSize > 0 else { throw ValidationError("max upload size must be positive") }
        return ServerConfiguration(
            host: self.host ?? EnvironmentSetting.value("HOST") ?? "127.0.0.1",
            port: port,
            externalURL: self.externalURL ?? EnvironmentSetting.value("EXTERNAL_URL"),
            maxUploadSize: maxUploadSize,
            deadlines: try self.connections.deadlines(),
            maxConnections: try self.connections.maxConnections(descriptorLimit: descriptorLimit)
        )
    }
}
