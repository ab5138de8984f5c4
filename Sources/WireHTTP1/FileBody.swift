import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Large stored files leave with sendfile(2), through NIO's `FileRegion`, instead of being read
/// into buffers in Swift. Hummingbird's response bodies carry only buffers, so the responder
/// answers with the head alone and names the blob and range in `FileBodyRange`; `Writer`, below
/// the HTTP-types codec, takes the header out and sends the bytes from the file.
public enum FileBody {
    /// Ranges up to this long are read into memory instead: one `pread` costs less than an open
    /// file handle and a write of its own, and the answer can be replayed.
    public static let largestInMemory: Int64 = 64 * 1024

    /// The status of an answer whose blob could not be opened: 404 when it has gone from disk since
    /// the answer was made (a fresh request would find the same), 503 when the server is short of
    /// descriptors or memory for now (the file is there: ask again), 500 for anything else.
    static func status(openingFailedWith errno: CInt?) -> HTTPResponseStatus {
        switch errno {
        case ENOENT, ENOTDIR: .notFound
        case EMFILE, ENFILE, ENOMEM, EAGAIN: .serviceUnavailable
        default: .internalServerError
        }
    }

    /// Turns a head carrying `header` into that head followed by the file's bytes. The file is opened
    /// on the event loop, as nginx does: a blob the page cache holds opens in microseconds. If it
    /// cannot be sent, the head is replaced by a bodyless one (see `status(openingFailedWith:)`; a
    /// blob shorter than its row says is a 500) and the client sees a whole, honest answer.
    ///
    /// Hummingbird's answer ends as soon as the head is written, while the file is still on its way;
    /// `DrainBeforeClose` keeps a close asked for meanwhile from cutting it short.
    final class Writer: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart

        /// Where the file of a blob named by its sha256 lies (nil: nowhere on this machine).
        let blobPath: @Sendable (String) -> String?
        private let logger: Logger

        init(blobPath: @escaping @Sendable (String) -> String?, logger: Logger) {
            self.blobPath = blobPath
            self.logger = logger
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            guard case .head(var head) = self.unwrapOutboundIn(data), let file = head.headers.takeInternal(FileBodyRange.self) else {
                context.write(data, promise: promise)
                return
            }
            guard let (sha256, range) = file.parsed.map({ ($0.sha256, $0.range) }) else {
                self.logger.error("unreadable file body header", metadata: ["value": "\(file.rawValue)"])
                context.write(self.wrapOutboundOut(.head(Self.failure(.internalServerError, like: head))), promise: promise)
                return
            }
            let handle: NIOFileHandle
            do {
                guard let path = self.blobPath(sha256) else { throw IOError(errnoCode: EINVAL, reason: "no local file") }
                handle = try NIOFileHandle(_deprecatedPath: path)
            } catch {
                let status = FileBody.status(openingFailedWith: (error as? IOError)?.errnoCode)
                self.logger.log(
                    level: status == .notFound ? .warning : .error,
                    "cannot open blob",
                    metadata: ["sha256": "\(sha256)", "error": "\(error)", "status": "\(status.code)"]
                )
                var failure = Self.failure(status, like: head)
                if status == .serviceUnavailable { failure.headers.add(name: "Retry-After", value: "5") }
                context.write(self.wrapOutboundOut(.head(failure)), promise: promise)
                return
            }
            guard let size = try? handle.withUnsafeFileDescriptor(Self.size), size > range.upperBound else {
                try? handle.close()
                self.logger.error("blob shorter than recorded", metadata: ["sha256": "\(sha256)", "range": "\(range)"])
                context.write(self.wrapOutboundOut(.head(Self.failure(.internalServerError, like: head))), promise: promise)
                return
            }
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
            let region = FileRegion(fileHandle: handle, readerIndex: Int(range.lowerBound), endIndex: Int(range.upperBound) + 1)
            let sent = context.eventLoop.makePromise(of: Void.self)
            // Sent, or failed because the connection went: either way the descriptor is done with.
            sent.futureResult.whenComplete { _ in try? handle.close() }
            context.write(self.wrapOutboundOut(.body(.fileRegion(region))), promise: sent)
        }

        private static func size(of descriptor: CInt) throws -> Int64 {
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw IOError(errnoCode: errno, reason: "fstat") }
            return Int64(status.st_size)
        }

        /// A bodyless answer with `status` in place of `head`, keeping its version, date and server;
        /// not to be cached, since it reports a moment, not the file.
        private static func failure(_ status: HTTPResponseStatus, like head: HTTPResponseHead) -> HTTPResponseHead {
            var headers: HTTPHeaders = ["Content-Length": "0", "Cache-Control": "no-store"]
            for name in ["Date", "Server"] {
                if let value = head.headers.first(name: name) { headers.add(name: name, value: value) }
            }
            return HTTPResponseHead(version: head.version, status: status, headers: headers)
        }
    }
}
