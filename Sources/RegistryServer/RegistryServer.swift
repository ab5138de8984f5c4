import Hummingbird
import Logging
import Registry
import WireHTTP1

/// Builds the Hummingbird application serving the registry.
public enum RegistryServer {
    public static func makeApplication(
        services: RegistryServices,
        configuration: ServerConfiguration,
        observability: ServerObservability,
        logger: Logger
    ) -> some ApplicationProtocol {
        let reader = services.reader
        let replay = ReplayCache(
            lifetime: CacheLifetimes.replayedAnswers,
            credentialHeaders: CredentialExtraction.headerNames,
            currentVersions: { reader.freshPackagesVersions(of: $0) }
        )
        // A change of who may do what through this server is applied to kept answers at once.
        services.freshness.onChange { change in
            if change == .access { replay.removeAll() }
        }
        return Application(
            responder: RegistryResponder(
                services: services,
                replay: replay,
                configuration: configuration,
                observability: observability,
                logger: logger
            ),
            server: .http1(
                configuration: .init(additionalChannelHandlers: [
                    WireHTTP1.connectionHandlers(
                        replay: replay,
                        deadlines: configuration.deadlines,
                        blobPath: { reader.localPath(ofBlob: $0) },
                        replayObserver: observability.replayObserver,
                        requestIDs: observability.requestIDs,
                        logger: logger
                    )
                ])
            ),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "Wheelhouse",
                // At the cap the listener stops accepting: new connections wait in the kernel's
                // backlog until one closes, rather than each taking a descriptor.
                availableConnectionsDelegate: .maximum(configuration.maxConnections, logger: logger)
            ),
            onServerRunning: { listener in await WireHTTP1.pauseAcceptingWhenOutOfDescriptors(listener, logger: logger) },
            logger: logger
        )
    }
}
