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
public struct LocalBlobStore: BlobStore {
    public let root: String
    private let threadPool: NIOThreadPool
    /// `<root>/tmp`: on the same file system as the blobs, so that a commit is a rename.
    private let spool: UploadSpool

    public init(root: String, threadPool: NIOThreadPool = .singleton) throws {
        self.root = root
        self.threadPool = threadPool
        self.spool = try UploadSpool(directory: root + "/tmp", threadPool: threadPool)
        try FileSystemCalls.makeDirectories(root + "/sha256")
    }

    public func localPath(forSHA256 sha256: String) -> String? {
        self.path(forSHA256: sha256)
    }

    /// Where the blob of that digest lives (whether or not it exists).
    public func path(forSHA256 sha256: String) -> String {
        Self.path(forSHA256: sha256, under: self.root)
    }

    /// The layout under any root (a backup's `blobs/` too, which is read without opening a store).
    static func path(forSHA256 sha256: String, under root: String) -> String {
        let prefix1 = sha256.prefix(2)
        let prefix2 = sha256.dropFirst(2).prefix(2)
        return "\(root)/sha256/\(prefix1)/\(prefix2)/\(sha256)"
    }

    public func makeUpload() async throws -> BlobUpload {
        try await self.spool.makeUpload()
    }

    /// Renames the finished upload into place and fsyncs its directory.
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

    public func stage(_ bytes: [UInt8]) async throws -> (BlobUpload, BlobReference) {
        try await self.spool.stage(bytes)
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
        try FileChunks.read(path: path, offset: range.lowerBound, count: Int(range.upperBound - range.lowerBound + 1))
    }

    public func remove(sha256: String) async throws {
        let path = self.path(forSHA256: sha256)
        try await self.threadPool.runIfActive {
            if unlink(path) != 0 && errno != ENOENT {
                throw FileSystemError(operation: "unlink", path: path, errno: errno)
            }
        }
    }

    /// Call at start-up, before serving. Several instances may share this directory, so only files
    /// untouched for `age` go: an upload in progress elsewhere writes to its file as its bytes arrive.
    public func removeStaleUploads(olderThan age: Duration = .seconds(3600)) async throws -> Int {
        try await self.spool.removeStale(olderThan: age)
    }

    public func removeDeadTemporaryFiles(olderThan age: Duration) async throws -> Int {
        try await self.spool.removeStale(olderThan: age)
    }

    public func staleUploads(olderThan age: Duration) async throws -> [StaleUpload] {
        try await self.spool.stale(olderThan: age, removing: false)
    }

    /// The file's mtime: a blob is written once (renamed into place when its upload finishes).
    public func lastModified(ofSHA256 sha256: String) async throws -> Int64? {
        let path = self.path(forSHA256: sha256)
        return try await self.threadPool.runIfActive { FileSystemCalls.modificationTime(path) }
    }

    public func size(ofSHA256 sha256: String) async throws -> Int64? {
        let path = self.path(forSHA256: sha256)
        return try await self.threadPool.runIfActive {
            var status = stat()
            guard stat(path, &status) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw FileSystemError(operation: "stat", path: path, errno: errno)
            }
            return Int64(status.st_size)
        }
    }

    /// Walks `sha256/ab/cd/`, one leaf directory at a time.
    public func forEachBlob(_ visit: (String) async throws -> Void) async throws {
        let top = self.root + "/sha256"
        for first in try await self.entries(of: top) where first.utf8.count == 2 {
            for second in try await self.entries(of: "\(top)/\(first)") where second.utf8.count == 2 {
                for name in try await self.entries(of: "\(top)/\(first)/\(second)")
                where name.utf8.count == 64 && name.hasPrefix(first + second) {
                    try await visit(name)
                }
            }
        }
    }

    private func entries(of directory: String) async throws -> [String] {
        try await self.threadPool.runIfActive { try FileSystemCalls.entries(of: directory) }
    }
}
