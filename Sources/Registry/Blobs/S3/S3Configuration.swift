import AWSSigV4

/// How to reach one bucket: where it is, how its objects are addressed, and the keys to sign with.
public struct S3Configuration: Sendable {
    public enum Addressing: String, Sendable, CaseIterable {
        /// `ENDPOINT/BUCKET/KEY`: what S3-compatible stores (MinIO, Ceph, Garage, moto) serve.
        case path
        /// `BUCKET.ENDPOINT-HOST/KEY`: AWS's own preference.
        case virtualHost = "virtual-host"
    }

    /// How file downloads are answered (GitLab's `proxy_download`).
    public enum DownloadMode: String, Sendable, CaseIterable {
        /// Wheelhouse streams the bytes from the bucket.
        case proxy
        /// A 302 to a presigned URL of the object, valid for `S3BlobStore.redirectLifetime`.
        case redirect
    }

    public let bucket: String
    /// Key prefix without slashes at either end; empty for the bucket's root.
    public let prefix: String
    public let region: String
    public let credentials: AWSCredentials
    public let addressing: Addressing
    public let downloadMode: DownloadMode
    /// `scheme://host[:port]`, no trailing slash.
    public let endpoint: String
    let scheme: String
    let endpointHost: String

    /// `endpoint` nil means AWS's regional endpoint; `addressing` nil means path-style with an
    /// endpoint and virtual-host without one (the defaults of every AWS tool and of S3-compatible stores).
    public init(
        bucket: String,
        prefix: String,
        region: String,
        credentials: AWSCredentials,
        endpoint: String? = nil,
        addressing: Addressing? = nil,
        downloadMode: DownloadMode = .proxy
    ) throws {
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.credentials = credentials
        self.addressing = addressing ?? (endpoint == nil ? .virtualHost : .path)
        self.downloadMode = downloadMode
        var endpoint = endpoint ?? "https://s3.\(region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard let separator = endpoint.range(of: "://") else {
            throw S3ConfigurationError("the S3 endpoint \"\(endpoint)\" needs a scheme, as in http://127.0.0.1:9000")
        }
        let scheme = String(endpoint[..<separator.lowerBound]).lowercased()
        let host = String(endpoint[separator.upperBound...])
        guard scheme == "http" || scheme == "https" else { throw S3ConfigurationError("the S3 endpoint must be http or https") }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@"), !host.contains("?") else {
            throw S3ConfigurationError("the S3 endpoint must be scheme://host[:port] with no path")
        }
        self.endpoint = endpoint
        self.scheme = scheme
        // Signed as the HTTP client sends it: without the scheme's default port.
        let defaultPort = scheme == "https" ? ":443" : ":80"
        self.endpointHost = host.hasSuffix(defaultPort) ? String(host.dropLast(defaultPort.count)) : host
    }

    /// `s3://bucket[/prefix]`, for messages.
    public var storeDescription: String {
        BlobStoreLocation.s3(bucket: self.bucket, prefix: self.prefix).description
    }

    /// The key of the blob with this sha256.
    func key(forSHA256 sha256: String) -> String {
        self.prefix.isEmpty ? "sha256/\(sha256)" : "\(self.prefix)/sha256/\(sha256)"
    }

    /// The key prefix every blob's key starts with.
    var blobKeyPrefix: String { self.prefix.isEmpty ? "sha256/" : "\(self.prefix)/sha256/" }

    /// The host header and the encoded path of an object (or of the bucket, for a nil key).
    func address(ofKey key: String?) -> (host: String, path: String) {
        let encodedKey = key.map { SigV4Encoding.encodePath($0) } ?? ""
        switch self.addressing {
        case .path:
            return (self.endpointHost, "/\(self.bucket)/\(encodedKey)")
        case .virtualHost:
            return ("\(self.bucket).\(self.endpointHost)", "/\(encodedKey)")
        }
    }
}

public struct S3ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
