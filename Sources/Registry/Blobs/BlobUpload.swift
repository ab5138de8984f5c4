import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One upload being written: used by one task at a time, in order (append..., finish, then commit or discard).
///
/// Network chunks are gathered into blocks of `blockSize` (bounded memory), and each block is written
/// and hashed on two thread-pool threads at once: sha256 beside the write, md5 and blake2b on the other.
public final class BlobUpload: @unchecked Sendable {
    static let blockSize = 1024 * 1024

    let path: String
    private let threadPool: NIOThreadPool
    private let live: LiveUploads?
    private var descriptor: Int32
    /// When the file was last written or touched: a slow upload's file is touched every
    /// `touchInterval` between its 1 MiB writes, and once more when its bytes are all in, so
    /// another instance's sweep (which waits at least four intervals) sees it alive.
    private var lastTouched = ContinuousClock.now
    static let touchInterval = Duration.seconds(1)
    // Two halves of the digests: each is touched by one thread at a time, never both by the same.
    private var primary = FileDigester.Primary()
    private var secondary = FileDigester.Secondary()
    private var block = ByteBuffer()
    public private(set) var size: Int64 = 0

    init(path: String, descriptor: Int32, threadPool: NIOThreadPool, live: LiveUploads? = nil) {
        self.path = path
        self.descriptor = descriptor
        self.threadPool = threadPool
        self.live = live
        live?.insert(path)
    }

    deinit {
        self.live?.remove(self.path)
        if self.descriptor >= 0 {
            close(self.descriptor)
            unlink(self.path)
        }
    }

    /// Takes `buffer`; full blocks are hashed and written off the caller's thread.
    public func append(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        self.size += Int64(buffer.readableBytes)
        var buffer = buffer
        if self.block.readableBytes == 0 && buffer.readableBytes >= Self.blockSize {
            try await self.write(buffer)
            return
        }
        self.block.writeBuffer(&buffer)
        if self.block.readableBytes >= Self.blockSize {
            let full = self.block
            self.block = ByteBuffer()
            try await self.write(full)
        } else if ContinuousClock.now - self.lastTouched >= Self.touchInterval {
            self.lastTouched = .now
            _ = futimens(self.descriptor, nil)
        }
    }

    private func write(_ block: ByteBuffer) async throws {
        self.lastTouched = .now
        async let written: Void = self.threadPool.runIfActive {
            try block.withUnsafeReadableBytes { bytes in
                self.primary.update(bytes)
                try FileSystemCalls.writeAll(self.descriptor, bytes)
            }
        }
        async let hashed: Void = self.threadPool.runIfActive {
            block.withUnsafeReadableBytes { self.secondary.update($0) }
        }
        try await written
        try await hashed
    }

    /// Writes what is left, flushes the file to disk and returns its digests.
    public func finish() async throws -> FileDigests {
        if self.block.readableBytes > 0 {
            let last = self.block
            self.block = ByteBuffer()
            try await self.write(last)
        }
        try await self.threadPool.runIfActive {
            try FileSystemCalls.sync(self.descriptor)
            _ = futimens(self.descriptor, nil)  // the commit that follows may take a while yet
        }
        return FileDigester(primary: self.primary, secondary: self.secondary).finalize()
    }

    /// Deletes the temporary file. Safe to call more than once, and after a commit.
    public func discard() {
        guard self.descriptor >= 0 else { return }
        close(self.descriptor)
        self.descriptor = -1
        unlink(self.path)
    }

    /// Closes the descriptor after a commit moved the file away.
    func closeAfterCommit() {
        guard self.descriptor >= 0 else { return }
        close(self.descriptor)
        self.descriptor = -1
    }
}

/// The temporary files of this process's uploads in progress, which its own sweep of stale files
/// never removes, however long since they were written: an upload whose body has all arrived may
/// spend a while being sent to a bucket. Each `BlobUpload` is in it from creation to its end.
public final class LiveUploads: Sendable {
    private let paths = NIOLockedValueBox(Set<String>())

    public init() {}

    func insert(_ path: String) { self.paths.withLockedValue { _ = $0.insert(path) } }
    func remove(_ path: String) { self.paths.withLockedValue { _ = $0.remove(path) } }
    func contains(_ path: String) -> Bool { self.paths.withLockedValue { $0.contains(path) } }
}
