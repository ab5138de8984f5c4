import NIOCore
import NIOPosix
import PythonPackaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Content-addressed file storage on a local (or shared) disk.
///
/// A blob lives at `<root>/sha256/ab/cd/<sha256>`. New content is written under `<root>/tmp/`,
/// fsynced, then renamed into place and its directory fsynced, so a reader or a crash never sees a
/// partial blob under its final name. Blocking file work runs on a thread pool, never on an event loop.
public struct LocalBlobStore: Sendable {
    public let root: String
    let threadPool: NIOThreadPool

    public init(root: String, threadPool: NIOThreadPool = .singleton) throws {
        self.root = root
        self.threadPool = threadPool
        try FileSystemCalls.makeDirectories(root + "/tmp")
        try FileSystemCalls.makeDirectories(root + "/sha256")
    }

    /// Where the blob of that digest lives (whether or not it exists).
    public func path(forSHA256 sha256: String) -> String {
        let prefix1 = sha256.prefix(2), prefix2 = sha256.dropFirst(2).prefix(2)
        return "\(self.root)/sha256/\(prefix1)/\(prefix2)/\(sha256)"
    }

    /// Starts writing new content to a private temporary file.
    public func makeUpload() async throws -> BlobUpload {
        let path = "\(self.root)/tmp/upload-\(Hex.random(bytes: 16))"
        let descriptor = try await self.threadPool.runIfActive {
            try FileSystemCalls.createExclusive(path)
        }
        return BlobUpload(path: path, descriptor: descriptor, threadPool: self.threadPool)
    }

    /// Moves a finished upload into the store under its sha256, durably. Content already present is
    /// simply replaced by identical bytes.
    public func commit(_ upload: BlobUpload, sha256: String) async throws {
        let destination = self.path(forSHA256: sha256)
        let source = upload.path
        try await self.threadPool.runIfActive {
            let directory = String(destination[..<destination.lastIndex(of: "/")!])
            try FileSystemCalls.makeDirectories(directory)
            try FileSystemCalls.rename(source, to: destination)
            try FileSystemCalls.syncDirectory(directory)
        }
        upload.closeAfterCommit()
    }

    /// Stages small content held in memory: written and fsynced, ready to `commit`.
    public func stage(_ bytes: [UInt8]) async throws -> (BlobUpload, BlobReference) {
        let upload = try await self.makeUpload()
        do {
            try await upload.append(ByteBuffer(bytes: bytes))
            let digests = try await upload.finish()
            return (upload, BlobReference(sha256: digests.sha256, size: Int64(bytes.count)))
        } catch {
            upload.discard()
            throw error
        }
    }

    /// Reads up to this many bytes inline, without a trip to the thread pool.
    static let inlineReadLimit: Int64 = 64 * 1024

    /// Reads `range` of a blob at once: for small reads (metadata files, the range requests resolvers
    /// make), where a streamed body costs more than the bytes. Reads of up to `inlineReadLimit` run
    /// on the calling task: one `pread` of a blob the page cache holds costs less than the hand-off
    /// to the thread pool and back; larger ones go to the thread pool.
    public func read(sha256: String, range: ClosedRange<Int64>) async throws -> ByteBuffer {
        let path = self.path(forSHA256: sha256)
        if range.upperBound - range.lowerBound < Self.inlineReadLimit {
            return try Self.read(path: path, range: range)
        }
        return try await self.threadPool.runIfActive { try Self.read(path: path, range: range) }
    }

    private static func read(path: String, range: ClosedRange<Int64>) throws -> ByteBuffer {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        let count = Int(range.upperBound - range.lowerBound + 1)
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
            var done = 0
            while done < count {
                let result = pread(descriptor, bytes.baseAddress! + done, count - done, off_t(range.lowerBound) + off_t(done))
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

    /// Deletes a blob; a missing one is not an error.
    public func remove(sha256: String) async throws {
        let path = self.path(forSHA256: sha256)
        try await self.threadPool.runIfActive {
            if unlink(path) != 0 && errno != ENOENT {
                throw FileSystemError(operation: "unlink", path: path, errno: errno)
            }
        }
    }

    /// Removes temporary files left behind by a crash; call at start-up, before serving. Several
    /// instances may share this directory, so only files untouched for `age` go: an upload in
    /// progress elsewhere writes to its file as its bytes arrive.
    public func removeStaleUploads(olderThan age: Duration = .seconds(3600)) throws -> Int {
        let cutoff = Int(time(nil)) - Int(age.components.seconds)
        return try FileSystemCalls.removeFiles(in: self.root + "/tmp", withPrefix: "upload-", modifiedBefore: cutoff)
    }
}

/// One upload being written: used by one task at a time, in order (append..., finish, then commit or discard).
///
/// Network chunks are gathered into blocks of `blockSize` (bounded memory), and each block is written
/// and hashed on two thread-pool threads at once: sha256 beside the write, md5 and blake2b on the other.
public final class BlobUpload: @unchecked Sendable {
    static let blockSize = 1024 * 1024

    let path: String
    private let threadPool: NIOThreadPool
    private var descriptor: Int32
    // Two halves of the digests: each is touched by one thread at a time, never both by the same.
    private var primary = FileDigester.Primary()
    private var secondary = FileDigester.Secondary()
    private var block = ByteBuffer()
    public private(set) var size: Int64 = 0

    init(path: String, descriptor: Int32, threadPool: NIOThreadPool) {
        self.path = path
        self.descriptor = descriptor
        self.threadPool = threadPool
    }

    deinit {
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
        }
    }

    private func write(_ block: ByteBuffer) async throws {
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
