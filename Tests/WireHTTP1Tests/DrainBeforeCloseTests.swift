import NIOCore
import NIOEmbedded
import Testing

@testable import WireHTTP1

/// DrainBeforeClose on an embedded channel, above a stand-in socket that completes writes only
/// when told, as a real one does once the peer has read them.
@Suite struct DrainBeforeCloseTests {
    /// Holds every write's promise until `complete()`; the writes themselves go on.
    final class SlowSocket: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = IOData
        var pending: [EventLoopPromise<Void>] = []
        var written = 0

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let held = context.eventLoop.makePromise(of: Void.self)
            if let promise { held.futureResult.cascade(to: promise) }
            self.pending.append(held)
            self.written += 1
            context.write(data, promise: nil)
        }

        /// As a socket does, a close fails the writes not yet sent.
        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            let unsent = self.pending
            self.pending = []
            for promise in unsent { promise.fail(ChannelError.ioOnClosedChannel) }
            context.close(mode: mode, promise: promise)
        }

        func complete(_ count: Int? = nil) {
            let done = self.pending.prefix(count ?? self.pending.count)
            self.pending.removeFirst(done.count)
            for promise in done { promise.succeed() }
        }
    }

    private func rig() throws -> (EmbeddedChannel, SlowSocket) {
        let socket = SlowSocket()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(socket, DrainBeforeClose())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return (channel, socket)
    }

    @Test(arguments: [CloseMode.all, .output])
    func aCloseWaitsForEveryWriteBeforeIt(mode: CloseMode) throws {
        let (channel, socket) = try self.rig()
        // An answer, and a second one pipelined behind it, both still queued.
        channel.write(ByteBuffer(string: "answer 1"), promise: nil)
        channel.writeAndFlush(ByteBuffer(string: "answer 2"), promise: nil)
        let closed = channel.close(mode: mode)
        socket.complete(1)
        let activeWithAnAnswerQueued = channel.isActive
        #expect(activeWithAnAnswerQueued)
        socket.complete()
        try closed.wait()
        // (EmbeddedChannel closes wholly whatever the mode.)
        let activeOnceSent = channel.isActive
        #expect(!activeOnceSent)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func aClientThatStopsReadingHoldsACloseOnlyForTheGrace() throws {
        let (channel, _) = try self.rig()
        channel.writeAndFlush(ByteBuffer(string: "never read"), promise: nil)
        let closed = channel.close()
        channel.embeddedEventLoop.advanceTime(by: DrainBeforeClose.grace - .seconds(1))
        let activeBefore = channel.isActive
        #expect(activeBefore)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        try closed.wait()
        let activeAfter = channel.isActive
        #expect(!activeAfter)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func anInputCloseIsNotHeld() throws {
        let (channel, socket) = try self.rig()
        channel.writeAndFlush(ByteBuffer(string: "queued"), promise: nil)
        // Closing the input drops nothing that was written: it goes through at once.
        try channel.close(mode: .input).wait()
        #expect(socket.written == 1, "the input close wrote nothing and waited for nothing")
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
