import Logging
import NIOCore

/// The HTTP/1 wire layer: channel handlers that work on NIO's HTTP/1 parts below Hummingbird's
/// HTTP-types codec, and next to the socket. Nothing here knows what a registry is: answers are
/// marked for it with the `InternalHeader`s, and what it needs to know (a blob's file, current
/// versions) comes in as closures.
public enum WireHTTP1 {
    /// New handlers for one connection, to be returned from Hummingbird's
    /// `additionalChannelHandlers`. Inbound, a request meets the deadline watcher and the transfer
    /// coding guard first, so nothing refused reaches a replay. Outbound, an answer meets the reason
    /// phrase writer first and the replay handler after the file writer, so a replay passes through
    /// neither; every answer passes the deadline watcher. A close meets `DrainBeforeClose` at the
    /// socket; a deadline's close goes past it, from the socket watcher.
    public static func connectionHandlers(
        replay: ReplayCache,
        deadlines: ConnectionDeadlines,
        blobPath: @escaping @Sendable (String) -> String?,
        replayObserver: ReplayObserver = .none,
        requestIDs: RequestIDSource = RequestIDSource(),
        logger: Logger
    ) -> any RemovableChannelHandler {
        let clock = ConnectionClock(deadlines: deadlines, logger: logger)
        return BelowCodecInstaller(
            belowCodec: [
                DeadlineExchangeWatcher(clock: clock),
                TransferCodingGuard(),
                ConnectionCloseNormalizer(),
                ReplayHandler(cache: replay, observer: replayObserver, requestIDs: requestIDs, logger: logger),
                FileBody.Writer(blobPath: blobPath, logger: logger),
                ReasonPhrase.Writer(),
            ],
            atSocket: [DeadlineSocketWatcher(clock: clock), DrainBeforeClose()],
            logger: logger
        )
    }
}
