import Crypto
import PythonPackaging

/// The sha256 of content in memory, lowercase hex: content addresses and entity tags.
public enum ContentHash {
    public static func sha256(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return Hex.encode(hasher.finalize())
    }
}

/// Computes every digest a registry publishes or checks (sha256, md5, blake2b-256) in one pass.
public struct FileDigester: Sendable {
    private var sha256 = SHA256()
    private var md5 = Insecure.MD5()
    private var blake2b = BLAKE2b(digestLength: 32)

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        self.sha256.update(bufferPointer: bytes)
        self.md5.update(bufferPointer: bytes)
        self.blake2b.update(bytes)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBytes { self.update($0) }
    }

    public func finalize() -> FileDigests {
        FileDigests(
            sha256: Hex.encode(self.sha256.finalize()),
            md5: Hex.encode(self.md5.finalize()),
            blake2b256: Hex.encode(self.blake2b.finalize())
        )
    }
}
