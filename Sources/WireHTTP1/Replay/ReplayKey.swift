import Crypto
import NIOHTTP1

/// The headers that carry a caller's credentials. An answer is replayed only to a request with the
/// same ones (compared by digest: a secret is never kept).
public struct CredentialHeaders: Sendable {
    /// Lowercased, at most 256.
    let lowercasedNames: [String]

    public init(_ names: [String]) {
        precondition(names.count <= 256)
        self.lowercasedNames = names.map { $0.lowercased() }
    }
}

extension ReplayCache {
    /// What a GET's answer depends on besides the registry's data, read from the HTTP/1 request head
    /// (the replay happens below Hummingbird's HTTP-types conversion).
    struct Key: Hashable, Sendable {
        /// The request target as sent, query included.
        var path: String
        /// sha256 of the credential headers, if any: a secret is never kept.
        var credentials: SHA256.Digest?
        var authority: String?
        var accept: String?
        var ifNoneMatch: String?
        var range: String?
        var ifRange: String?

        /// The key of a request that may be answered by replay: an HTTP/1.1 GET with no body that
        /// keeps the connection open, with at most one of each header the key holds; nil for any other.
        init?(_ head: HTTPRequestHead, credentialHeaders: CredentialHeaders) {
            // A request that closes its connection is not keyed: the answer's connection handling is
            // Hummingbird's, not the replay's.
            guard head.method == .GET, head.version == .http1_1, head.isKeepAlive else { return nil }
            self.path = head.uri
            var credentials: SHA256?
            for (name, value) in head.headers {
                guard let field = KeyField(name, credentialHeaders: credentialHeaders) else { continue }
                switch field {
                case .host: guard Self.setOnce(&self.authority, value) else { return nil }
                case .accept: guard Self.setOnce(&self.accept, value) else { return nil }
                case .ifNoneMatch: guard Self.setOnce(&self.ifNoneMatch, value) else { return nil }
                case .range: guard Self.setOnce(&self.range, value) else { return nil }
                case .ifRange: guard Self.setOnce(&self.ifRange, value) else { return nil }
                case .contentLength, .transferEncoding: return nil
                case .credential(let index):
                    // Which header, then its value, in the order sent: "a" in one header never
                    // equals "a" in another, and the same headers give the same digest.
                    var hasher = credentials ?? SHA256()
                    let length = UInt32(truncatingIfNeeded: value.utf8.count)
                    hasher.update(data: [index] + withUnsafeBytes(of: length.bigEndian, Array.init))
                    var value = value
                    value.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
                    credentials = hasher
                }
            }
            self.credentials = credentials?.finalize()
        }

        /// Sets a field the answer depends on; false when the request has it twice.
        private static func setOnce(_ field: inout String?, _ value: String) -> Bool {
            guard field == nil else { return false }
            field = value
            return true
        }
    }

    /// The headers `Key` reads, matched by name without regard to case and without allocating.
    enum KeyField: Equatable {
        case host, accept, ifNoneMatch, range, ifRange, contentLength, transferEncoding
        /// One of the credential headers, by its index among them.
        case credential(UInt8)

        init?(_ name: String, credentialHeaders: CredentialHeaders) {
            let utf8 = name.utf8
            switch utf8.count {
            case 4 where Self.matches(utf8, "host"): self = .host
            case 5 where Self.matches(utf8, "range"): self = .range
            case 6 where Self.matches(utf8, "accept"): self = .accept
            case 8 where Self.matches(utf8, "if-range"): self = .ifRange
            case 13 where Self.matches(utf8, "if-none-match"): self = .ifNoneMatch
            case 14 where Self.matches(utf8, "content-length"): self = .contentLength
            case 17 where Self.matches(utf8, "transfer-encoding"): self = .transferEncoding
            default:
                guard let index = credentialHeaders.lowercasedNames.firstIndex(where: { $0.utf8.count == utf8.count && Self.matches(utf8, $0) })
                else {
                    return nil
                }
                self = .credential(UInt8(index))
            }
        }

        /// Whether `name` is `lowercase` in any case (header names are tokens: letters, digits and
        /// a few symbols, so setting bit 5 lowercases a letter and leaves `-` as it is).
        private static func matches(_ name: String.UTF8View, _ lowercase: String) -> Bool {
            name.elementsEqual(lowercase.utf8) { ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 }
        }
    }
}
