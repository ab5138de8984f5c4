import AWSSigV4
import NIOCore
import Testing

@testable import Registry

/// The parts of the object store that need no server: locations, addressing, S3's XML, the sweep's
/// choice of old uploads, the small-blob cache.
@Suite struct S3PureTests {
    @Test func parsesBlobStoreLocations() throws {
        #expect(try BlobStoreLocation(parsing: "file:/srv/blobs") == .file(path: "/srv/blobs"))
        #expect(try BlobStoreLocation(parsing: "s3://wheelhouse-blobs") == .s3(bucket: "wheelhouse-blobs", prefix: ""))
        #expect(try BlobStoreLocation(parsing: "s3://b.example-1/a//b/") == .s3(bucket: "b.example-1", prefix: "a/b"))
        #expect(try BlobStoreLocation(parsing: "s3://bucket/team/pkgs").description == "s3://bucket/team/pkgs")
        for bad in ["", "file:", "s3://", "s3://ab", "s3://Upper", "s3://-dash", "s3://b/../x", "http://bucket", "/srv/blobs"] {
            #expect(throws: BlobStoreLocationError.self, "\(bad)") { try BlobStoreLocation(parsing: bad) }
        }
    }

    @Test func addressesObjectsByPathOrVirtualHost() throws {
        let credentials = AWSCredentials(accessKeyID: "id", secretAccessKey: "secret")
        let path = try S3Configuration(bucket: "bkt", prefix: "p", region: "eu-west-1", credentials: credentials, endpoint: "http://127.0.0.1:9000/")
        #expect(path.addressing == .path)
        #expect(path.address(ofKey: path.key(forSHA256: "ab")) == ("127.0.0.1:9000", "/bkt/p/sha256/ab"))
        #expect(path.address(ofKey: nil) == ("127.0.0.1:9000", "/bkt/"))
        let aws = try S3Configuration(bucket: "bkt", prefix: "", region: "eu-west-1", credentials: credentials)
        #expect(aws.addressing == .virtualHost && aws.endpoint == "https://s3.eu-west-1.amazonaws.com")
        #expect(aws.address(ofKey: aws.key(forSHA256: "ab")) == ("bkt.s3.eu-west-1.amazonaws.com", "/sha256/ab"))
        for bad in ["127.0.0.1:9000", "ftp://host", "http://host/path", "http://user@host"] {
            #expect(throws: S3ConfigurationError.self, "\(bad)") {
                try S3Configuration(bucket: "bkt", prefix: "", region: "r", credentials: credentials, endpoint: bad)
            }
        }
    }

    @Test func readsS3XML() {
        let document = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature &amp; &lt;more&gt; &#x41;&#66;</Message></Error>
            """
        #expect(S3XML.text("Code", in: document[...]) == "SignatureDoesNotMatch")
        #expect(S3XML.text("Message", in: document[...]) == "The request signature & <more> AB")
        #expect(S3XML.text("Missing", in: document[...]) == nil)
        #expect(S3XML.escape("\"a\"&<b>") == "\"a\"&amp;&lt;b&gt;")
    }

    @Test func theSweepTakesOnlyUploadsStartedBeforeTheCutoff() {
        let page = """
            <ListMultipartUploadsResult><Bucket>b</Bucket>
            <Upload><Key>p/sha256/old</Key><UploadId>one</UploadId><Initiated>2026-12-02T17:59:59.000Z</Initiated></Upload>
            <Upload><Key>p/sha256/young</Key><UploadId>two</UploadId><Initiated>2026-12-02T18:30:00.000Z</Initiated></Upload>
            <IsTruncated>false</IsTruncated></ListMultipartUploadsResult>
            """
        let cutoff = AmzDate(timestamp: "20261202T180000Z")!
        let stale = S3BlobStore.uploads(in: page, startedBefore: cutoff)
        #expect(stale.map(\.key) == ["p/sha256/old"] && stale.map(\.uploadID) == ["one"])
    }

    @Test func smallBlobCacheServesPrefixesAndEvictsTheOldest() {
        let cache = SmallBlobCache(capacity: 10, largestEntry: 6)
        cache.keep(ByteBuffer(string: "abcdef"), of: "one")
        #expect(cache.bytes(of: "one", range: 1...3).map { String(buffer: $0) } == "bcd")
        #expect(cache.bytes(of: "one", range: 4...6) == nil)
        cache.keep(ByteBuffer(string: "toolarge"), of: "big")
        #expect(cache.bytes(of: "big", range: 0...0) == nil)
        cache.keep(ByteBuffer(string: "ghijk"), of: "two")
        #expect(cache.bytes(of: "one", range: 0...0) == nil)
        #expect(cache.bytes(of: "two", range: 0...4).map { String(buffer: $0) } == "ghijk")
        cache.forget("two")
        #expect(cache.bytes(of: "two", range: 0...0) == nil)
    }
}
