import NIOCore
import NIOPosix
import PythonPackaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory of temporary files that new blobs are written to while they stream in and are
/// hashed: the first half of every store's upload. The local store renames them into place; the
/// object store sends them to the bucket once their sha256 is known.
public struct UploadSpool: Sendable {
    public let directory: String
    let threadPool: NIOThreadPool
    let live = LiveUploads()

    public init(directory: String, threadPool: NIOThreadPool = .singleton) throws {
        self.directory = directory
        self.threadPool = threadPool
        try FileSystemCalls.makeDirectories(directory)
    }

    public func makeUpload() async throws -> BlobUpload {
        let path = "\(self.directory)/upload-\(Hex.random(bytes: 16))"
        let descriptor = try await self.threadPool.runIfActive {
            try FileSystemCalls.createExclusive(path)
        }
        return BlobUpload(path: path, descriptor: descriptor, threadPool: self.threadPool, live: self.live)
    }

    /// Writes small content held in memory to a new upload, finished and ready to commit.
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

    /// Removes files of dead uploads (cut off by a crash, or abandoned) once untouched for `age`.
    /// Several instances may share the directory: an upload in progress on another writes to its
    /// file, or touches it, at least every `BlobUpload.touchInterval` while its bytes arrive, and
    /// this process's own uploads in progress are never removed.
    public func removeStale(olderThan age: Duration) async throws -> Int {
        try await self.stale(olderThan: age, removing: true).count
    }

    /// The files `removeStale` would remove, removed too when `removing`.
    func stale(olderThan age: Duration, removing: Bool) async throws -> [StaleUpload] {
        let cutoff = Int(time(nil)) - Int(age.components.seconds)
        let (directory, live) = (self.directory, self.live)
        return try await self.threadPool.runIfActive {
            try FileSystemCalls.files(in: directory, withPrefix: "upload-", modifiedBefore: cutoff) { live.contains($0) }
                .filter { !removing || unlink($0.path) == 0 }
                .map { StaleUpload(location: $0.path, modified: $0.modified) }
        }
    }
}
