#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file system under the blobs, the upload spool or the database has no room left, or the quota of the
/// user the server runs as is used up (ENOSPC, EDQUOT). Unlike other write failures it is neither
/// the client's fault nor a crash: the upload is refused with 507 Insufficient Storage and a
/// message the operator recognises, whatever it had written is removed by the upload's own
/// clean-up, and reads go on. Uploads work again once space is freed; nothing needs a restart.
public struct StorageFull: Error, Sendable, Equatable, CustomStringConvertible {
    /// The system call that failed, and what it was writing.
    public var operation: String
    public var path: String

    public init(operation: String, path: String) {
        self.operation = operation
        self.path = path
    }

    /// What the client is told (twine shows the reason phrase, uv the JSON message).
    public static let message = "507 Insufficient Storage: the registry's disk is full"

    public var description: String { "no space left on the disk (\(self.operation) \(self.path))" }

    /// Whether a failed call's `errno` means the disk (or the quota) is full.
    static func isFull(_ code: Int32) -> Bool {
        code == ENOSPC || code == EDQUOT
    }

    /// The error for a failed call: `StorageFull` when the disk is full, else `FileSystemError`.
    static func failure(operation: String, path: String, errno code: Int32) -> any Error {
        if Self.isFull(code) { return StorageFull(operation: operation, path: path) }
        return FileSystemError(operation: operation, path: path, errno: code)
    }
}
