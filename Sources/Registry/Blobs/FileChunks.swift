import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte range of a local file as a sequence of buffers read on the thread pool, one at a time
/// as the consumer asks: a request body streamed from a spooled upload holds one chunk in memory.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let path: String
    let range: Range<Int64>
    let chunkSize: Int
    let threadPool: NIOThreadPool

    init(path: String, range: Range<Int64>, chunkSize: Int = 1024 * 1024, threadPool: NIOThreadPool = .singleton) {
        self.path = path
        self.range = range
        self.chunkSize = chunkSize
        self.threadPool = threadPool
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(chunks: self, offset: self.range.lowerBound)
    }

    struct Iterator: AsyncIteratorProtocol {
        let chunks: FileChunks
        var offset: Int64

        mutating func next() async throws -> ByteBuffer? {
            guard self.offset < self.chunks.range.upperBound else { return nil }
            let count = Int(Swift.min(Int64(self.chunks.chunkSize), self.chunks.range.upperBound - self.offset))
            let (path, offset) = (self.chunks.path, self.offset)
            let buffer = try await self.chunks.threadPool.runIfActive { try FileChunks.read(path: path, offset: offset, count: count) }
            self.offset += Int64(count)
            return buffer
        }
    }

    /// Exactly `count` bytes at `offset`, or an error: a file that shrank is never sent short.
    static func read(path: String, offset: Int64, count: Int) throws -> ByteBuffer {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
            var done = 0
            while done < count {
                let result = pread(descriptor, bytes.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if result < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError(operation: "read", path: path, errno: errno)
                }
                if result == 0 { break }
                done += result
            }
            return done
        }
        guard read == count else { throw FileSystemError(operation: "read (short)", path: path, errno: EIO) }
        return buffer
    }
}
