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
        Application(
            responder: RegistryResponder(packages: packages, configuration: configuration, logger: logger),
            server: .http1(configuration: .init(additionalChannelHandlers: ReasonPhrase.channelHandlers())),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "Wheelhouse"
            ),
            logger: logger
        )
    }
}
