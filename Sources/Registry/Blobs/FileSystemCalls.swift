import PythonPackaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call, with what was being done.
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var errno: Int32

    public var description: String {
        "\(self.operation) \(self.path): \(String(cString: strerror(self.errno)))"
    }

    /// Whether the file (or a directory on its path) does not exist.
    public var isNotFound: Bool {
        self.errno == ENOENT || self.errno == ENOTDIR
    }
}

/// The few POSIX file operations the stores need, with errors as values (`StorageFull` for a full
/// disk, `FileSystemError` otherwise). All of them block: callers run them on a thread pool.
enum FileSystemCalls {
    static func makeDirectories(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o755) != 0 && errno != EEXIST {
                throw StorageFull.failure(operation: "mkdir", path: built, errno: errno)
            }
        }
    }

    static func createExclusive(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StorageFull.failure(operation: "create", path: path, errno: errno) }
        return descriptor
    }

    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StorageFull.failure(operation: "write", path: "fd \(descriptor)", errno: errno)
            }
            offset += written
        }
    }

    static func sync(_ descriptor: Int32) throws {
        guard fsync(descriptor) == 0 else { throw StorageFull.failure(operation: "fsync", path: "fd \(descriptor)", errno: errno) }
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        try self.sync(descriptor)
    }

    static func rename(_ source: String, to destination: String) throws {
        guard Glibc.rename(source, destination) == 0 else {
            throw StorageFull.failure(operation: "rename", path: "\(source) -> \(destination)", errno: errno)
        }
    }

    static func fileExists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// The names in `directory`, without `.` and `..`.
    static func entries(of directory: String) throws -> [String] {
        guard let handle = opendir(directory) else {
            throw FileSystemError(operation: "opendir", path: directory, errno: errno)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The files in `directory` whose names start with `prefix` and that were last written before
    /// `cutoff` (seconds since the epoch), with when that was; `kept` ones are left out.
    static func files(
        in directory: String,
        withPrefix prefix: String,
        modifiedBefore cutoff: Int,
        keeping kept: (String) -> Bool = { _ in false }
    ) throws -> [(path: String, modified: Int64)] {
        var found: [(path: String, modified: Int64)] = []
        for name in try self.entries(of: directory) where name.hasPrefix(prefix) {
            let path = directory + "/" + name
            guard let modified = self.modificationTime(path), modified < cutoff, !kept(path) else { continue }
            found.append((path, modified))
        }
        return found
    }

    /// Deletes the files `files(in:...)` finds; returns how many went.
    static func removeFiles(
        in directory: String,
        withPrefix prefix: String,
        modifiedBefore cutoff: Int,
        keeping kept: (String) -> Bool = { _ in false }
    ) throws -> Int {
        try self.files(in: directory, withPrefix: prefix, modifiedBefore: cutoff, keeping: kept).filter { unlink($0.path) == 0 }.count
    }

    /// When the file was last written (seconds since the epoch), or nil when it is not there.
    static func modificationTime(_ path: String) -> Int64? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Int64(status.st_mtim.tv_sec)
    }
}

extension Hex {
    /// `count` bytes from the system's secure random source, hex encoded.
    static func random(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
