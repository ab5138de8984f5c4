import Crypto
import PythonPackaging

/// Computes every digest a registry publishes or checks (sha256, md5, blake2b-256) in one pass.
/// Its two halves can run on two threads at once over the same bytes (see `BlobUpload`).
public struct FileDigester: Sendable {
    /// sha256: the content address.
    struct Primary: Sendable {
        var sha256 = SHA256()
        mutating func update(_ bytes: UnsafeRawBufferPointer) { self.sha256.update(bufferPointer: bytes) }
    }

    /// md5 and blake2b-256: the other digests clients may send.
    struct Secondary: Sendable {
        var md5 = Insecure.MD5()
        var blake2b = BLAKE2b(digestLength: 32)

        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            self.md5.update(bufferPointer: bytes)
            self.blake2b.update(bytes)
        }
    }

    var primary = Primary()
    var secondary = Secondary()

    public init() {}

    init(primary: Primary, secondary: Secondary) {
        self.primary = primary
        self.secondary = secondary
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        self.primary.update(bytes)
        self.secondary.update(bytes)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBytes { self.update($0) }
    }

    public func finalize() -> FileDigests {
        FileDigests(
            sha256: Hex.encode(self.primary.sha256.finalize()),
            md5: Hex.encode(self.secondary.md5.finalize()),
            blake2b256: Hex.encode(self.secondary.blake2b.finalize())
        )
    }
}
