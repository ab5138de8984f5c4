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

    /// Completed with the answer's head, or failed if none comes.
    let head: EventLoopPromise<HTTPResponseHead>
    let chunks: Chunks
    private let source: Chunks.Source
    let demand: Demand
    /// Touched only on the request's event loop, where AsyncHTTPClient calls the delegate.
    private var headReceived = false

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
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        switch self.source.yield(buffer) {
        case .produceMore: return task.eventLoop.makeSucceededVoidFuture()
        case .stopProducing: return self.demand.waitForMore(on: task.eventLoop)
        case .dropped: return task.eventLoop.makeFailedFuture(CancellationError())
        }
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        self.source.finish()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
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
