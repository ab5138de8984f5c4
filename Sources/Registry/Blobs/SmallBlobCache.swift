import NIOConcurrencyHelpers
import NIOCore

/// The first bytes of recently read small blobs (core metadata, small files), kept in memory up to
/// `capacity` bytes in all, the oldest going first. A blob never changes under its sha256, so a
/// cached copy is never stale; a deleted blob's rows are gone, so nothing asks for it again.
final class SmallBlobCache: Sendable {
    let capacity: Int
    let largestEntry: Int

    private struct State {
        var entries: [String: ByteBuffer] = [:]
        var order: [String] = []
        var bytes = 0
    }
    private let state = NIOLockedValueBox(State())

    init(capacity: Int, largestEntry: Int) {
        self.capacity = capacity
        self.largestEntry = largestEntry
    }

    /// `range` of the blob when the cached prefix covers it.
    func bytes(of sha256: String, range: ClosedRange<Int64>) -> ByteBuffer? {
        self.state.withLockedValue { state in
            guard let cached = state.entries[sha256], range.upperBound < Int64(cached.readableBytes) else { return nil }
            return cached.getSlice(at: cached.readerIndex + Int(range.lowerBound), length: Int(range.upperBound - range.lowerBound + 1))
        }
    }

    /// Keeps `bytes`, the blob's bytes from offset 0, when small enough.
    func keep(_ bytes: ByteBuffer, of sha256: String) {
        guard bytes.readableBytes <= self.largestEntry else { return }
        self.state.withLockedValue { state in
            guard state.entries[sha256] == nil else { return }
            state.entries[sha256] = bytes
            state.order.append(sha256)
            state.bytes += bytes.readableBytes
            while state.bytes > self.capacity, !state.order.isEmpty {
                let oldest = state.order.removeFirst()
                state.bytes -= state.entries.removeValue(forKey: oldest)?.readableBytes ?? 0
            }
        }
    }

    func forget(_ sha256: String) {
        self.state.withLockedValue { state in
            guard let removed = state.entries.removeValue(forKey: sha256) else { return }
            state.bytes -= removed.readableBytes
            state.order.removeAll { $0 == sha256 }
        }
    }
}
