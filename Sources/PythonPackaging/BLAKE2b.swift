/// The BLAKE2b hash function (RFC 7693), unkeyed, with a digest of 1 to 64 bytes.
///
/// PyPI publishes the 32-byte BLAKE2b digest of every file, and the registry computes it while
/// an upload streams in, so hashing works incrementally and without allocating: the state and
/// the one block held back for finalisation live inline in this value.
///
/// ```swift
/// var hasher = BLAKE2b(digestLength: 32)
/// hasher.update(chunk)
/// let digest = hasher.finalize()
/// ```
public struct BLAKE2b: Sendable {
    /// The size of the blocks the compression function consumes, in bytes.
    public static let blockSize = 128

    /// The length of the digest ``finalize()`` returns, in bytes.
    public let digestLength: Int

    private var state: ChainingValue
    /// Bytes compressed so far, as a 128-bit counter (low word, high word).
    private var compressedLow: UInt64 = 0
    private var compressedHigh: UInt64 = 0
    /// Input not compressed yet: compression waits until more input proves a block is not the
    /// last, which must be compressed with the final flag set.
    private var pending: Block = Block()
    private var pendingCount = 0

    /// Starts a hash with a digest of `digestLength` bytes, which must be in `1...64`.
    public init(digestLength: Int = 32) {
        precondition((1...64).contains(digestLength), "BLAKE2b digest length must be 1...64 bytes")
        self.digestLength = digestLength
        // Parameter block: digest length, no key, fanout 1, depth 1, everything else zero.
        self.state = ChainingValue(parameterWord: 0x0101_0000 ^ UInt64(digestLength))
    }

    /// Hashes `bytes` in one go.
    public static func hash(_ bytes: some Sequence<UInt8>, digestLength: Int = 32) -> [UInt8] {
        var hasher = BLAKE2b(digestLength: digestLength)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Feeds `bytes` to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var input = bytes.baseAddress, bytes.count > 0 else {
            return
        }
        var remaining = bytes.count
        if self.pendingCount > 0 {
            let taken = min(Self.blockSize - self.pendingCount, remaining)
            self.appendToPending(input, count: taken)
            input += taken
            remaining -= taken
            guard remaining > 0 else {
                return
            }
            // More input follows, so the full pending block is not the last one.
            self.compressPending(isFinal: false)
        }
        // Compress whole blocks straight from the input, always holding one back.
        while remaining > Self.blockSize {
            self.countCompressed(Self.blockSize)
            self.state.compress(
                input,
                counterLow: self.compressedLow,
                counterHigh: self.compressedHigh,
                isFinal: false
            )
            input += Self.blockSize
            remaining -= Self.blockSize
        }
        self.appendToPending(input, count: remaining)
    }

    /// Feeds `bytes` to the hash; contiguous collections are hashed in place.
    public mutating func update<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        let hashedInPlace: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            self.update(UnsafeRawBufferPointer(buffer))
        }
        guard hashedInPlace == nil else {
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { chunk in
            var count = 0
            for byte in bytes {
                chunk[count] = byte
                count += 1
                if count == chunk.count {
                    self.update(UnsafeRawBufferPointer(chunk))
                    count = 0
                }
            }
            self.update(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: chunk[..<count])))
        }
    }

    /// Completes the hash and returns the digest, ``digestLength`` bytes.
    public consuming func finalize() -> [UInt8] {
        let padding = self.pendingCount
        withUnsafeMutableBytes(of: &self.pending) { block in
            for index in padding..<block.count {
                block[index] = 0
            }
        }
        self.compressPending(isFinal: true)
        return self.state.digest(length: self.digestLength)
    }

    private mutating func appendToPending(_ bytes: UnsafeRawPointer, count: Int) {
        let offset = self.pendingCount
        withUnsafeMutableBytes(of: &self.pending) { block in
            (block.baseAddress! + offset).copyMemory(from: bytes, byteCount: count)
        }
        self.pendingCount += count
    }

    private mutating func compressPending(isFinal: Bool) {
        self.countCompressed(self.pendingCount)
        let block = self.pending
        withUnsafeBytes(of: block) { block in
            self.state.compress(
                block.baseAddress!,
                counterLow: self.compressedLow,
                counterHigh: self.compressedHigh,
                isFinal: isFinal
            )
        }
        self.pendingCount = 0
    }

    private mutating func countCompressed(_ count: Int) {
        let (low, carry) = self.compressedLow.addingReportingOverflow(UInt64(count))
        self.compressedLow = low
        self.compressedHigh &+= carry ? 1 : 0
    }
}

extension BLAKE2b {
    /// 128 bytes of inline storage for the pending block.
    struct Block {
        var words:
            (
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    }
}
