import Crypto
import Foundation
import XCTest

@testable import AWSSigV4

/// SigV4Signer against botocore's own signer on 200 generated S3 requests (botocore_cases.py,
/// fixed seed and clock): for each, the same canonical request, string to sign, and the same
/// headers (`Authorization` included) or presigned query.
///
/// Runs the script with the Python named by `WHEELHOUSE_TEST_PYTHON` (one with botocore, as the
/// test command's venv has); without it the test is skipped, unless `WHEELHOUSE_REQUIRE_BOTOCORE=1`
/// makes that a failure.
///
/// botocore's ways that a client of SigV4Signer has to match (and this test does):
/// - It signs every header of the request except those of its `SIGNED_HEADERS_BLACKLIST`
///   (`unsignedByBotocore` below: user-agent, expect, ...), and `host`, which it derives from the
///   URL: lowercase, without the port when it is the scheme's default (`https://h:443` signs `h`,
///   `http://127.0.0.1:9000` signs `127.0.0.1:9000`).
/// - The S3 path is the key percent-encoded with `/` and `~` kept (`SigV4Encoding.encodePath`),
///   never normalised: `a/./b/../`, `//` and a trailing `/` are signed as they are.
/// - The query is encoded with only `A-Z a-z 0-9 - _ . ~` left as they are (so space is `%20`,
///   never `+`), every item written `name=value` (an empty value is `name=`), and sorted by
///   encoded name, then encoded value (byte order: `%C3%BC` before `1.0`, `a` before `a-b`).
/// - Header values are trimmed and inner runs of whitespace made one space; a repeated header's
///   values are joined by `,` in the order given. (Python's `str.split()` also counts exotic
///   whitespace such as U+00A0 or \v; the generated headers are ASCII spaces and tabs.)
/// - A presigned URL's query is, in botocore, the request's own items first and the `X-Amz-*`
///   ones after, unsorted; SigV4Signer writes it in canonical order instead. Both sign the same
///   canonical query, so the URLs are compared as sets of items, and SigV4Signer's query must be
///   exactly botocore's canonical query followed by `&X-Amz-Signature=`.
/// - botocore presigns with a dict: a repeated query name keeps only its last value, so the
///   generated presigned requests have no repeated names (header-signed ones do).
final class BotocoreCrossCheckTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("botocore_cases.py")
    static let count = 200
    /// botocore 1.44.8's `SIGNED_HEADERS_BLACKLIST`.
    static let unsignedByBotocore: Set = [
        "baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "traceparent",
        "tracestate", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    struct Case: Decodable {
        var index: Int
        var kind: String
        var timestamp: String
        var region: String
        var endpoint: String
        var addressing: String
        var method: String
        var bucket: String
        var key: String?
        var query: [[String]]
        var headers: [[String]]
        var bodyBase64: String
        var payload: String
        var accessKey: String
        var secretKey: String
        var token: String?
        var expires: Int?
        var botocore: Botocore
    }

    struct Botocore: Decodable {
        var canonicalRequest: String
        var stringToSign: String
        var headers: [[String]]?
        var url: String?
    }

    func testSameStepsAsBotocore() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let python = environment["WHEELHOUSE_TEST_PYTHON"], !python.isEmpty else {
            if environment["WHEELHOUSE_REQUIRE_BOTOCORE"] == "1" {
                XCTFail("WHEELHOUSE_REQUIRE_BOTOCORE=1 but WHEELHOUSE_TEST_PYTHON (a Python with botocore) is not set")
                return
            }
            throw XCTSkip("WHEELHOUSE_TEST_PYTHON is not set (a Python with botocore, as scripts/test's venv has)")
        }
        let lines = try Self.run(python, [Self.script.path, "--count", String(Self.count)])
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let version = try JSONSerialization.jsonObject(with: Data(lines.first?.utf8 ?? "".utf8)) as? [String: Any]
        let botocoreVersion = version?["botocore_version"] as? String ?? "?"
        let cases = try lines.dropFirst().map { try decoder.decode(Case.self, from: Data($0.utf8)) }
        XCTAssertEqual(cases.count, Self.count)
        XCTAssertTrue(cases.contains { $0.kind == "presign" } && cases.contains { $0.kind == "header" })

        var failedCases = 0
        for item in cases {
            let mismatches = try item.kind == "presign" ? Self.checkPresigned(item) : Self.checkHeaderSigned(item)
            guard !mismatches.isEmpty else { continue }
            failedCases += 1
            if failedCases <= 10 {
                XCTFail("case \(item.index) differs from botocore \(botocoreVersion):\n\(mismatches.joined(separator: "\n"))\ninputs: \(item)")
            }
        }
        XCTAssertEqual(failedCases, 0, "of \(cases.count) requests, those signed differently from botocore \(botocoreVersion)")
    }

    // MARK: The two ways of signing

    static func checkHeaderSigned(_ item: Case) throws -> [String] {
        let (signer, date) = try Self.signer(for: item)
        let body = try XCTUnwrap(Data(base64Encoded: item.bodyBase64))
        let payload: PayloadSigning = item.payload == "sha256" ? .sha256(Self.hex(SHA256.hash(data: body))) : .unsigned
        let given = item.headers.map { (name: $0[0], value: $0[1]) }
        let request = SignableRequest(
            method: item.method,
            path: Self.path(of: item),
            query: item.query.map { (name: $0[0], value: $0[1]) },
            headers: [("host", try Self.host(of: item.endpoint))] + given.filter { !Self.unsignedByBotocore.contains($0.name.lowercased()) }
        )
        let added = signer.signedHeaders(for: request, payload: payload, at: date)
        var toSign = request
        toSign.headers += added.filter { $0.name != "authorization" }
        let canonical = signer.canonicalRequest(for: toSign, payload: payload).text
        var mismatches: [String] = []
        Self.compare(canonical, item.botocore.canonicalRequest, "canonical request", into: &mismatches)
        Self.compare(signer.stringToSign(canonicalRequest: canonical, at: date), item.botocore.stringToSign, "string to sign", into: &mismatches)
        // The request botocore would send (it leaves `host` to the HTTP client): the given headers,
        // those it leaves unsigned included, plus what the signer added, Authorization last.
        let ours = Self.normalised(given + added)
        let theirs = Self.normalised((item.botocore.headers ?? []).map { (name: $0[0], value: $0[1]) })
        Self.compare(ours.joined(separator: "\n"), theirs.joined(separator: "\n"), "headers", into: &mismatches)
        return mismatches
    }

    static func checkPresigned(_ item: Case) throws -> [String] {
        let (signer, date) = try Self.signer(for: item)
        let expires = try XCTUnwrap(item.expires)
        let path = Self.path(of: item)
        let request = SignableRequest(
            method: item.method,
            path: path,
            query: item.query.map { (name: $0[0], value: $0[1]) },
            headers: [("host", try Self.host(of: item.endpoint))] + item.headers.map { (name: $0[0], value: $0[1]) }
        )
        let query = signer.presignedQuery(for: request, expiresInSeconds: expires, at: date)
        var signable = request
        signable.query += signer.presignQueryItems(for: request, expiresInSeconds: expires, at: date)
        let canonical = signer.canonicalRequest(for: signable, payload: .unsigned).text
        var mismatches: [String] = []
        Self.compare(canonical, item.botocore.canonicalRequest, "canonical request", into: &mismatches)
        Self.compare(signer.stringToSign(canonicalRequest: canonical, at: date), item.botocore.stringToSign, "string to sign", into: &mismatches)

        let url = try XCTUnwrap(item.botocore.url)
        let prefix = item.endpoint + path + "?"
        guard url.hasPrefix(prefix) else { return mismatches + ["botocore's URL \(url) does not start with \(prefix)"] }
        let theirs = String(url.dropFirst(prefix.count))
        Self.compare(
            query.split(separator: "&").sorted().joined(separator: "\n"),
            theirs.split(separator: "&").sorted().joined(separator: "\n"),
            "presigned query items",
            into: &mismatches
        )
        // Ours is in canonical order: exactly the canonical query botocore signed, then the signature.
        let theirCanonicalQuery = item.botocore.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2]
        let signature = theirs.split(separator: "&").last { $0.hasPrefix("X-Amz-Signature=") } ?? "no X-Amz-Signature"
        Self.compare(query, "\(theirCanonicalQuery)&\(signature)", "presigned query", into: &mismatches)
        return mismatches
    }

    // MARK: Helpers

    static func signer(for item: Case) throws -> (SigV4Signer, AmzDate) {
        let date = try XCTUnwrap(AmzDate(timestamp: item.timestamp))
        let credentials = AWSCredentials(accessKeyID: item.accessKey, secretAccessKey: item.secretKey, sessionToken: item.token)
        let signer = SigV4Signer(credentials: credentials, region: item.region, service: "s3")
        XCTAssertEqual(signer.pathStyle, .s3)
        return (signer, date)
    }

    /// The request path as botocore's S3 client writes it: `/bucket/key` (path style) or `/key`
    /// (virtual host), the key encoded with `/` kept; a bucket-level request has no key.
    static func path(of item: Case) -> String {
        let raw = item.addressing == "path" ? "/\(item.bucket)" + (item.key.map { "/" + $0 } ?? "") : "/" + (item.key ?? "")
        return SigV4Encoding.encodePath(raw)
    }

    /// The `host` botocore signs for an endpoint (auth.py's `_host_from_url`).
    static func host(of endpoint: String) throws -> String {
        let components = try XCTUnwrap(URLComponents(string: endpoint))
        let host = try XCTUnwrap(components.host).lowercased()
        let defaultPort = ["http": 80, "https": 443][components.scheme ?? ""]
        guard let port = components.port, port != defaultPort else { return host }
        return "\(host):\(port)"
    }

    static func compare(_ ours: String, _ theirs: String, _ what: String, into mismatches: inout [String]) {
        if ours != theirs { mismatches.append("\(what):\n  ours:     \(ours.debugDescription)\n  botocore: \(theirs.debugDescription)") }
    }

    /// Header lists as a multiset: names lowercased, order of different names ignored (that of a
    /// repeated name's values kept), values exact.
    static func normalised(_ headers: [(name: String, value: String)]) -> [String] {
        typealias Entry = (offset: Int, name: String, value: String)
        let entries: [Entry] = headers.enumerated().map { item -> Entry in
            (offset: item.offset, name: item.element.name.lowercased(), value: item.element.value)
        }
        let sorted = entries.sorted { (a: Entry, b: Entry) -> Bool in a.name == b.name ? a.offset < b.offset : a.name < b.name }
        return sorted.map { (entry: Entry) -> String in "\(entry.name): \(entry.value)" }
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    struct ScriptFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the script and returns its stdout's lines; its stderr goes into the error when it fails.
    static func run(_ executable: String, _ arguments: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = FileManager.default.temporaryDirectory.appendingPathComponent("botocore_cases-\(UUID().uuidString).stderr")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: stderr) }
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: (try? Data(contentsOf: stderr)) ?? Data(), as: UTF8.self)
            throw ScriptFailed(description: "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(message)")
        }
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
