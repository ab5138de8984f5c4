import Logging
import NIOCore

/// The HTTP/1 wire layer: channel handlers that work on NIO's HTTP/1 parts below Hummingbird's
/// HTTP-types codec, and next to the socket. Nothing here knows what a registry is: answers are
/// marked for it with the `InternalHeader`s, and what it needs to know (a blob's file, current
/// versions) comes in as closures.
public enum WireHTTP1 {
    /// New handlers for one connection, to be returned from Hummingbird's
    /// `additionalChannelHandlers`. Outbound, an answer meets the reason phrase writer first and the
    /// replay handler last, so a replay passes through neither of the others; a close meets
    /// `DrainBeforeClose` at the socket.
    public static func connectionHandlers(
        replay: ReplayCache,
        blobPath: @escaping @Sendable (String) -> String?,
        logger: Logger
    ) -> any RemovableChannelHandler {
        BelowCodecInstaller(
            belowCodec: [
                ConnectionCloseNormalizer(),
                ReplayHandler(cache: replay, logger: logger),
                FileBody.Writer(blobPath: blobPath, logger: logger),
                ReasonPhrase.Writer(),
            ],
            atSocket: [DrainBeforeClose()],
            logger: logger
        )
    }
}
