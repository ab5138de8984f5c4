import Crypto

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`): the `Authorization` header of a request, or the
/// query of a presigned URL. Pure computation, no I/O and no clock: the caller passes the time,
/// which keeps every step reproducible against AWS's test suite and botocore.
public struct SigV4Signer: Sendable {
    /// How the path becomes the canonical URI.
    public enum PathStyle: Sendable {
        /// S3: the path as sent, neither normalised nor encoded again.
        case s3
        /// Every other service: dot segments and repeated slashes removed, then each segment
        /// encoded once more (AWS's rule of "encoded twice").
        case normalizedAndEncodedAgain
    }

    public static let algorithm = "AWS4-HMAC-SHA256"

    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    public let pathStyle: PathStyle

    public init(credentials: AWSCredentials, region: String, service: String = "s3", pathStyle: PathStyle? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.pathStyle = pathStyle ?? (service == "s3" ? .s3 : .normalizedAndEncodedAgain)
    }

    /// `day/region/service/aws4_request`.
    public func scope(on date: AmzDate) -> String {
        "\(date.day)/\(self.region)/\(self.service)/aws4_request"
    }

    // MARK: Signing a request's headers

    /// The headers to add to `request`: `x-amz-date`, `x-amz-content-sha256` (S3 only),
    /// `x-amz-security-token` (with a session token) and `authorization`. All but the last are signed.
    public func signedHeaders(for request: SignableRequest, payload: PayloadSigning, at date: AmzDate) -> [(name: String, value: String)] {
        let added = self.headersToSign(payload: payload, at: date)
        var signable = request
        signable.headers += added
        return added + [("authorization", self.authorization(for: signable, payload: payload, at: date))]
    }

    /// The headers `signedHeaders` adds before it signs.
    func headersToSign(payload: PayloadSigning, at date: AmzDate) -> [(name: String, value: String)] {
        var added: [(name: String, value: String)] = [("x-amz-date", date.timestamp)]
        if self.service == "s3" { added.append(("x-amz-content-sha256", payload.canonicalValue)) }
        if let token = self.credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        return added
    }

    /// The `Authorization` value for a request whose headers already hold everything to sign.
    public func authorization(for request: SignableRequest, payload: PayloadSigning, at date: AmzDate) -> String {
        let canonical = self.canonicalRequest(for: request, payload: payload)
        let signature = self.signature(ofStringToSign: self.stringToSign(canonicalRequest: canonical.text, at: date), on: date)
        return "\(Self.algorithm) Credential=\(self.credentials.accessKeyID)/\(self.scope(on: date)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    // MARK: Presigned URLs

    /// The query of a presigned URL for `request`, already encoded: append it to the path after
    /// `?`. Its items, the request's own and the `X-Amz-*` ones together, are in canonical order
    /// (exactly the canonical query that was signed), then `X-Amz-Signature` last. (botocore writes
    /// the request's own items first, then the `X-Amz-*` ones: S3 accepts either, since it sorts
    /// the query itself.) Only the request's headers (`host`, at least) are signed, and the
    /// payload is `UNSIGNED-PAYLOAD`.
    public func presignedQuery(for request: SignableRequest, expiresInSeconds expires: Int, at date: AmzDate) -> String {
        var signable = request
        signable.query += self.presignQueryItems(for: request, expiresInSeconds: expires, at: date)
        let canonical = self.canonicalRequest(for: signable, payload: .unsigned)
        let signature = self.signature(ofStringToSign: self.stringToSign(canonicalRequest: canonical.text, at: date), on: date)
        return SigV4Encoding.canonicalQuery(signable.query) + "&X-Amz-Signature=" + signature
    }

    func presignQueryItems(for request: SignableRequest, expiresInSeconds expires: Int, at date: AmzDate) -> [(name: String, value: String)] {
        var items: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(self.credentials.accessKeyID)/\(self.scope(on: date))"),
            ("X-Amz-Date", date.timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", Self.canonicalHeaders(request.headers).signedHeaders),
        ]
        if let token = self.credentials.sessionToken { items.append(("X-Amz-Security-Token", token)) }
        return items
    }

    // MARK: The steps, public so that tests can compare each one

    /// The canonical request and the list of signed header names.
    public func canonicalRequest(for request: SignableRequest, payload: PayloadSigning) -> (text: String, signedHeaders: String) {
        let headers = Self.canonicalHeaders(request.headers)
        let text = [
            request.method.uppercased(),
            self.canonicalURI(request.path),
            SigV4Encoding.canonicalQuery(request.query),
            headers.block,
            headers.signedHeaders,
            payload.canonicalValue,
        ].joined(separator: "\n")
        return (text, headers.signedHeaders)
    }

    public func stringToSign(canonicalRequest: String, at date: AmzDate) -> String {
        let digest = Hex.lowercase(SHA256.hash(data: Array(canonicalRequest.utf8)))
        return [Self.algorithm, date.timestamp, self.scope(on: date), digest].joined(separator: "\n")
    }

    public func signature(ofStringToSign stringToSign: String, on date: AmzDate) -> String {
        Hex.lowercase(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: self.signingKey(on: date)))
    }

    /// HMAC chain over `AWS4<secret>`, the day, the region, the service and `aws4_request`.
    func signingKey(on date: AmzDate) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(self.credentials.secretAccessKey)".utf8))
        for part in [date.day, self.region, self.service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }

    func canonicalURI(_ path: String) -> String {
        let path = path.isEmpty ? "/" : path
        switch self.pathStyle {
        case .s3:
            return path
        case .normalizedAndEncodedAgain:
            return SigV4Encoding.encodePath(Self.removingDotSegments(path))
        }
    }

    /// RFC 3986's dot-segment removal, with empty segments dropped too (`//a//` is `/a/`); a
    /// trailing slash stays.
    static func removingDotSegments(_ path: String) -> String {
        var kept: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments {
            switch segment {
            case ".": continue
            case "..": _ = kept.popLast()
            default: kept.append(segment)
            }
        }
        let endsInSlash = path.hasSuffix("/") || segments.last == "." || segments.last == ".."
        let joined = "/" + kept.joined(separator: "/")
        return endsInSlash && !kept.isEmpty ? joined + "/" : joined
    }

    /// Names lowercased and sorted; values trimmed with inner runs of whitespace made one space;
    /// a repeated name's values joined by commas, in order.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signedHeaders: String) {
        var byName: [String: [String]] = [:]
        var order: [String] = []
        for (name, value) in headers {
            let name = name.lowercased()
            let value = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            if byName[name] == nil { order.append(name) }
            byName[name, default: []].append(value)
        }
        let names = order.sorted()
        let block = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func lowercase<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(Self.digits[Int(byte >> 4)])
            out.append(Self.digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
