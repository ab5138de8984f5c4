import Foundation
import XCTest

@testable import AWSSigV4

/// AWS's `UriEncode`: which bytes stay, how `/` is treated in a path and in a query, and how the
/// canonical query is ordered.
final class SigV4EncodingTests: XCTestCase {
    func testOnlyTheUnreservedCharactersStay() {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".unicodeScalars)
        for value in UInt8(0)...UInt8(127) {
            let scalar = Unicode.Scalar(value)
            let text = String(Character(scalar))
            let expected = unreserved.contains(scalar) ? text : String(format: "%%%02X", value)
            XCTAssertEqual(SigV4Encoding.encode(text), expected, "byte \(value)")
            XCTAssertEqual(SigV4Encoding.encodePath(text), scalar == "/" ? "/" : expected, "byte \(value) in a path")
        }
        // Everything else is its UTF-8 bytes, uppercase hex; a decomposed accent is not the
        // precomposed one (no normalisation), and a space is never `+`.
        XCTAssertEqual(SigV4Encoding.encode("é"), "%C3%A9")
        XCTAssertEqual(SigV4Encoding.encode("e\u{301}"), "e%CC%81")
        XCTAssertEqual(SigV4Encoding.encode("🐍"), "%F0%9F%90%8D")
        XCTAssertEqual(SigV4Encoding.encode("a b+c"), "a%20b%2Bc")
        XCTAssertEqual(SigV4Encoding.encode(""), "")
    }

    func testSlashIsKeptInPathsOnly() {
        XCTAssertEqual(SigV4Encoding.encode("a/b"), "a%2Fb")
        XCTAssertEqual(SigV4Encoding.encodePath("/bucket/a b/c~d/"), "/bucket/a%20b/c~d/")
        // Empty and dot segments stay as they are: S3 keys may hold them.
        XCTAssertEqual(SigV4Encoding.encodePath("//a/./../b//"), "//a/./../b//")
        // A path is encoded from its raw text: an escape already in the key is encoded again.
        XCTAssertEqual(SigV4Encoding.encodePath("/k%2Fv"), "/k%252Fv")
        XCTAssertEqual(SigV4Encoding.encodePath("/日本/?#"), "/%E6%97%A5%E6%9C%AC/%3F%23")
    }

    func testCanonicalQuerySortsByEncodedNameThenEncodedValue() {
        XCTAssertEqual(SigV4Encoding.canonicalQuery([]), "")
        XCTAssertEqual(
            SigV4Encoding.canonicalQuery([("b", "1"), ("a", "2"), ("a-b", "0"), ("a", "1"), ("A", "z"), ("a", "1")]),
            // By name first: `a` before `a-b`, although `a-b=0` sorts before `a=1` as whole strings;
            // uppercase before lowercase (byte order); a repeated pair is kept twice.
            "A=z&a=1&a=1&a=2&a-b=0&b=1"
        )
        // The order is that of the encoded text: `%` (0x25) sorts before digits and letters, so
        // `é` (`%C3%A9`) comes before `1.0`, and a value `%` (`%25`) before `~`.
        XCTAssertEqual(SigV4Encoding.canonicalQuery([("1.0", "x"), ("é", "")]), "%C3%A9=&1.0=x")
        XCTAssertEqual(SigV4Encoding.canonicalQuery([("k", "~"), ("k", "%")]), "k=%25&k=~")
        // Empty values are written `name=`; reserved characters in names and values are encoded.
        XCTAssertEqual(
            SigV4Encoding.canonicalQuery([("prefix", "a b/c"), ("uploads", ""), ("x&y", "1=2+3")]),
            "prefix=a%20b%2Fc&uploads=&x%26y=1%3D2%2B3"
        )
    }

    func testS3PathsAreNotNormalisedOthersAre() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")
        let s3 = SigV4Signer(credentials: credentials, region: "us-east-1")
        XCTAssertEqual(s3.pathStyle, .s3)
        XCTAssertEqual(s3.canonicalURI("/bucket//a/./b/../k%20v"), "/bucket//a/./b/../k%20v")
        XCTAssertEqual(s3.canonicalURI(""), "/")
        let other = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        XCTAssertEqual(other.pathStyle, .normalizedAndEncodedAgain)
        XCTAssertEqual(other.canonicalURI("//a/./b/../c//"), "/a/c/")
        XCTAssertEqual(other.canonicalURI("/a/.."), "/")
        // RFC 3986's remove_dot_segments: a final `..` or `.` leaves a directory, so a trailing
        // slash (botocore's normalize_url_path writes `/a` and `/a/b` here; AWS's suite has no case
        // that tells them apart, and S3 never normalises).
        XCTAssertEqual(other.canonicalURI("/a/b/.."), "/a/")
        XCTAssertEqual(other.canonicalURI("/a/b/."), "/a/b/")
        // "Encoded twice": a path already encoded for the request line is encoded once more.
        XCTAssertEqual(other.canonicalURI("/k%20v"), "/k%2520v")
        XCTAssertEqual(other.canonicalURI(""), "/")
    }
}
