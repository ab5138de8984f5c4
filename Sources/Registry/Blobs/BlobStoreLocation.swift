/// Where the blobs are, as `--blob-store` names it: `file:PATH` or `s3://BUCKET[/PREFIX]`.
public enum BlobStoreLocation: Sendable, Equatable, CustomStringConvertible {
    case file(path: String)
    case s3(bucket: String, prefix: String)

    public init(parsing text: String) throws {
        if text.hasPrefix("file:") {
            let path = String(text.dropFirst("file:".count))
            guard !path.isEmpty else { throw BlobStoreLocationError(text, "file: needs a path, as in file:/srv/wheelhouse/blobs") }
            self = .file(path: path)
            return
        }
        guard text.hasPrefix("s3://") else {
            throw BlobStoreLocationError(text, "expected file:PATH or s3://BUCKET[/PREFIX]")
        }
        let rest = text.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        guard Self.isValidBucketName(bucket) else {
            throw BlobStoreLocationError(text, "\"\(bucket)\" is not a bucket name (3-63 of a-z, 0-9, '.' and '-')")
        }
        guard !prefix.contains(where: { $0 == "\\" || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } == true }),
            !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
        else { throw BlobStoreLocationError(text, "the prefix must be plain path segments") }
        self = .s3(bucket: bucket, prefix: prefix)
    }

    /// S3's rules for bucket names in every region: 3 to 63 characters of lowercase letters,
    /// digits, dots and hyphens, beginning and ending with a letter or digit.
    static func isValidBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        return isAlphanumeric(bytes.first!) && isAlphanumeric(bytes.last!)
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    public var description: String {
        switch self {
        case .file(let path): "file:\(path)"
        case .s3(let bucket, let prefix): prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
        }
    }
}

public struct BlobStoreLocationError: Error, CustomStringConvertible {
    public let text: String
    public let problem: String

    init(_ text: String, _ problem: String) {
        self.text = text
        self.problem = problem
    }

    public var description: String { "invalid blob store \"\(self.text)\": \(self.problem)" }
}
