import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// One GET's body as a stream with a buffer of several reads.
///
/// AsyncHTTPClient's async body holds one read (up to 64 KiB) at a time: every read is a round
/// trip between the connection's event loop and the consumer, and the socket's read interest is
/// switched off and on again each time. Here the connection keeps reading until `highWatermark`
/// reads wait for the consumer, and resumes once they are down to `lowWatermark`: memory stays
/// bounded (about 2 MiB a download, with the gathering in `S3BlobStore.chunks`), and a slow client
/// still slows the bucket.
final class S3BodyStream: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void
    typealias Chunks = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Demand
    >

    static let lowWatermark = 4
    static let highWatermark = 16
    /// The longest the bucket may leave a read unanswered while the client waits for bytes. The
    /// HTTP client's own read timeout cannot be used: it also runs while a slow client holds the
    /// connection paused, and would cut its download.
    static let idleTimeout = TimeAmount.seconds(10)

    /// Completed with the answer's head, or failed if none comes.
    let head: EventLoopPromise<HTTPResponseHead>
    let chunks: Chunks
    private let source: Chunks.Source
    let demand: Demand
    /// Touched only on the request's event loop, where AsyncHTTPClient calls the delegate.
    private var headReceived = false
    private var idleTimer: Scheduled<Void>?

    init(eventLoop: any EventLoop) {
        self.head = eventLoop.makePromise(of: HTTPResponseHead.self)
        let demand = Demand()
        self.demand = demand
        let made = Chunks.makeSequence(
            backPressureStrategy: .init(lowWatermark: Self.lowWatermark, highWatermark: Self.highWatermark),
            finishOnDeinit: true,
            delegate: demand
        )
        self.chunks = made.sequence
        self.source = made.source
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.headReceived = true
        self.head.succeed(head)
        self.awaitBucket(task)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        switch self.source.yield(buffer) {
        case .produceMore:
            self.awaitBucket(task)
            return task.eventLoop.makeSucceededVoidFuture()
        case .stopProducing:
            // Paused for the client: its pace, not the bucket's, so no deadline meanwhile.
            self.idleTimer?.cancel()
            self.idleTimer = nil
            let resumed = self.demand.waitForMore(on: task.eventLoop)
            resumed.whenSuccess { self.awaitBucket(task) }
            return resumed
        case .dropped:
            return task.eventLoop.makeFailedFuture(CancellationError())
        }
    }

    /// (Re)starts the deadline for the bucket's next bytes.
    private func awaitBucket(_ task: HTTPClient.Task<Void>) {
        self.idleTimer?.cancel()
        self.idleTimer = task.eventLoop.scheduleTask(in: Self.idleTimeout) { task.cancel() }
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        self.idleTimer?.cancel()
        self.source.finish()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        self.idleTimer?.cancel()
        if !self.headReceived { self.head.fail(error) }
        self.source.finish(error)
    }

    /// The consumer's side of the back-pressure: wakes the connection when it wants more, and
    /// cancels the request when it goes away (a client that hung up).
    final class Demand: NIOAsyncSequenceProducerDelegate, Sendable {
        private struct State {
            var wanted = false
            var waiting: EventLoopPromise<Void>?
            var cancel: (@Sendable () -> Void)?
            var terminated = false
        }
        private let state = NIOLockedValueBox(State())

        func produceMore() {
            let waiting = self.state.withLockedValue { state -> EventLoopPromise<Void>? in
                guard let waiting = state.waiting else {
                    state.wanted = true
                    return nil
                }
                state.waiting = nil
                return waiting
            }
            waiting?.succeed()
        }

        func didTerminate() {
            let (waiting, cancel) = self.state.withLockedValue { state in
                state.terminated = true
                defer { state.waiting = nil }
                return (state.waiting, state.cancel)
            }
            waiting?.fail(CancellationError())
            cancel?()
        }

        func waitForMore(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
            self.state.withLockedValue { state in
                if state.terminated { return eventLoop.makeFailedFuture(CancellationError()) }
                if state.wanted {
                    state.wanted = false
                    return eventLoop.makeSucceededVoidFuture()
                }
                let promise = eventLoop.makePromise(of: Void.self)
                state.waiting = promise
                return promise.futureResult
            }
        }

        func onTerminate(_ cancel: @escaping @Sendable () -> Void) {
            let terminated = self.state.withLockedValue { state in
                state.cancel = cancel
                return state.terminated
            }
            if terminated { cancel() }
        }
    }
}
