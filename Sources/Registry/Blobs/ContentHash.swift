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
