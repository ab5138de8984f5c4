import Crypto
import Foundation
import NIOPosix
import PythonPackaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file work of `backup` and `restore`: hard links where the file system allows them (a blob
/// is never changed in place, so a link is as good as a copy and costs nothing), streamed copies
/// otherwise, sha256 of a file with bounded memory, and emptying a directory. Everything blocks
/// and runs on the thread pool.
struct MaintenanceFiles: Sendable {
    let threadPool: NIOThreadPool

    init(threadPool: NIOThreadPool = .singleton) {
        self.threadPool = threadPool
    }

    enum Placed: Sendable {
        case linked, copied
    }

    /// Puts a hard link to `source` at `destination` (creating its directory), or, across file
    /// systems, a copy written to a temporary name, fsynced and renamed. Throws a not-found
    /// `FileSystemError` when `source` is gone.
    func place(_ source: String, at destination: String) async throws -> Placed {
        try await self.threadPool.runIfActive {
            try FileSystemCalls.makeDirectories(Self.parent(of: destination))
            if link(source, destination) == 0 { return .linked }
            let code = errno
            if code == EEXIST { return .linked }  // the same content, from an earlier attempt
            guard code == EXDEV || code == EPERM || code == EMLINK else {
                throw StorageFull.failure(operation: "link", path: "\(source) -> \(destination)", errno: code)
            }
            try Self.copy(source, to: destination)
            return .copied
        }
    }

    /// Copies a file a MiB at a time into `destination.partial`, fsyncs it and renames it into place.
    static func copy(_ source: String, to destination: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileSystemError(operation: "open", path: source, errno: errno) }
        defer { close(input) }
        let partial = destination + ".partial"
        unlink(partial)
        let output = try FileSystemCalls.createExclusive(partial)
        do {
            defer { close(output) }
            var buffer = [UInt8](repeating: 0, count: 1024 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError(operation: "read", path: source, errno: errno)
                }
                if count == 0 { break }
                try buffer.withUnsafeBytes { try FileSystemCalls.writeAll(output, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
            try FileSystemCalls.sync(output)
            try FileSystemCalls.rename(partial, to: destination)
        } catch {
            unlink(partial)
            throw error
        }
    }

    /// The file's sha256 and size, read a MiB at a time.
    func digest(of path: String) async throws -> BackupManifest.File {
        var hash = SHA256()
        var size: Int64 = 0
        guard let total = FileSystemCalls.size(path) else { throw FileSystemError(operation: "stat", path: path, errno: ENOENT) }
        for try await chunk in FileChunks(path: path, range: 0..<total, threadPool: self.threadPool) {
            chunk.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
            size += Int64(chunk.readableBytes)
        }
        return BackupManifest.File(sha256: Hex.encode(hash.finalize()), size: size)
    }

    /// Flushes the file and its directory to disk.
    func sync(file path: String) async throws {
        try await self.threadPool.runIfActive {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw FileSystemError(operation: "open", path: path, errno: errno) }
            defer { close(descriptor) }
            try FileSystemCalls.sync(descriptor)
            try FileSystemCalls.syncDirectory(Self.parent(of: path))
        }
    }

    /// Writes `data` to `path` through a temporary name, durably: a reader sees all of it or no file.
    func writeAtomically(_ data: Data, to path: String) async throws {
        try await self.threadPool.runIfActive {
            let partial = path + ".partial"
            unlink(partial)
            let descriptor = try FileSystemCalls.createExclusive(partial)
            do {
                defer { close(descriptor) }
                try data.withUnsafeBytes { try FileSystemCalls.writeAll(descriptor, $0) }
                try FileSystemCalls.sync(descriptor)
                try FileSystemCalls.rename(partial, to: path)
                try FileSystemCalls.syncDirectory(Self.parent(of: path))
            } catch {
                unlink(partial)
                throw error
            }
        }
    }

    /// Whether `path` is absent or an empty directory: where `backup` and `restore` may write.
    static func isAbsentOrEmpty(_ path: String) throws -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return true }
            throw FileSystemError(operation: "stat", path: path, errno: errno)
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else { return false }
        return try FileSystemCalls.entries(of: path).isEmpty
    }

    /// Removes everything inside `directory` (not the directory itself).
    func empty(_ directory: String) async throws {
        try await self.threadPool.runIfActive {
            for name in try FileSystemCalls.entries(of: directory) {
                try FileManager.default.removeItem(atPath: directory + "/" + name)
            }
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension FileSystemCalls {
    /// The file's size, or nil when it is not there.
    static func size(_ path: String) -> Int64? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Int64(status.st_size)
    }
}
