import Logging

/// Removes the temporary files of dead uploads while the server runs, so that uploads cut off by
/// a crash of another instance, or left by a bug, do not pile up until the next start. A file is
/// dead once not written for `age` (twice the body deadline: a live upload's client sends
/// something within each deadline, and its file is written or touched as it does).
public struct TemporaryFileSweeper: Sendable {
    public let blobs: any BlobStore
    public let interval: Duration
    public let age: Duration
    public let logger: Logger

    public init(blobs: any BlobStore, interval: Duration, age: Duration, logger: Logger) {
        self.blobs = blobs
        self.interval = interval
        self.age = age
        self.logger = logger
    }

    /// Sweeps every `interval` until cancelled. A failed sweep is logged and tried again next time.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: self.interval)
            } catch {
                return
            }
            do {
                let removed = try await self.blobs.removeDeadTemporaryFiles(olderThan: self.age)
                if removed > 0 { self.logger.notice("removed \(removed) temporary files of dead uploads") }
            } catch {
                self.logger.warning("sweeping temporary files failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
