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
            server: .http1(configuration: .init(additionalChannelHandlers: {
                ReasonPhrase.channelHandlers() + [ReplayHandler(cache: replay, logger: logger)]
            }())),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "Wheelhouse"
            ),
            logger: logger
        )
    }
}
