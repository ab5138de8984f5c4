/// What a blob store reports that its callers act on; any other failure of a store is turned into
/// `RegistryError.unavailable` (503, worth retrying) where it happens.
public enum BlobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No blob under that sha256 (deleted since its row was read, or never written).
    case notFound(sha256: String)

    public var description: String {
        switch self {
        case .notFound(let sha256): "no blob \(sha256)"
        }
    }

    /// Whether `error` says that a blob is missing, from any store.
    public static func isNotFound(_ error: any Error) -> Bool {
        if case .notFound = error as? BlobStoreError { return true }
        if let error = error as? FileSystemError { return error.isNotFound }
        return false
    }
}
