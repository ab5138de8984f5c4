import Hummingbird
import Logging
import Registry

/// Builds the Hummingbird application serving the registry.
public enum RegistryServer {
    public static func makeApplication(
        packages: PackageService,
        configuration: ServerConfiguration,
        logger: Logger
    ) -> some ApplicationProtocol {
        let replay = ReplayCache(packages: packages)
        return Application(
            responder: RegistryResponder(packages: packages, replay: replay, configuration: configuration, logger: logger),
            // New handlers for every connection. Outbound, an answer meets the reason phrase writer
            // first and the replay handler last, so a replay passes through neither of the others.
            server: .http1(configuration: .init(additionalChannelHandlers: [
                BelowCodecInstaller(
                    belowCodec: [
                        ConnectionCloseNormalizer(),
                        ReplayHandler(cache: replay, logger: logger),
                        FileBody.Writer(blobs: packages.blobs, logger: logger),
                        ReasonPhrase.Writer(),
                    ],
                    atSocket: [DrainBeforeClose()],
                    logger: logger
                ),
            ])),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "Wheelhouse"
            ),
            logger: logger
        )
    }
}
