import AWSSigV4
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import TestSupport
import Testing

@testable import Registry

/// `S3BlobStore` against a real S3 server (moto, which checks every signature), held to the same
/// contract as the local store, plus what only an object store has: multipart uploads, the sweep
/// of unfinished ones, and failures of the store turned into 503s.
@Suite(.enabled(if: TestS3.isConfigured, "needs the S3 server scripts/test starts (WHEELHOUSE_TEST_S3_*)"))
struct S3BlobStoreTests {
    static func write(_ bytes: [UInt8], to store: any BlobStore) async throws -> (BlobUpload, FileDigests) {
        let upload = try await store.makeUpload()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 300_000)
            try await upload.append(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
        }
        return (upload, try await upload.finish())
    }

    /// Bytes that differ from one call to the next and repeat no short pattern (a few random words
    /// stretched with a multiplicative hash: per-byte random numbers are slow in a debug build).
    static func randomBytes(_ count: Int) -> [UInt8] {
        let seed = UInt64.random(in: 1...UInt64.max)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            var state = seed
            for index in stride(from: 0, to: count, by: 8) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                withUnsafeBytes(of: state) { word in
                    for offset in 0..<min(8, count - index) { raw[index + offset] = word[offset] }
                }
            }
        }
        return bytes
    }

    @Test func uploadCommitReadSizeListAndRemove() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            try await TestS3.withStore(try TestS3.configuration(), spoolingIn: directory) { store in
                let blobs: any BlobStore = store
                let (upload, digests) = try await Self.write(Array("hello, blob".utf8), to: blobs)
                #expect(try await blobs.size(ofSHA256: digests.sha256) == nil)
                try await blobs.transfer(upload, sha256: digests.sha256)
                try await blobs.commit(upload, sha256: digests.sha256)
                #expect(try await blobs.size(ofSHA256: digests.sha256) == 11)
                #expect(String(buffer: try await blobs.read(sha256: digests.sha256, range: 7...10)) == "blob")
                #expect(blobs.localPath(forSHA256: digests.sha256) == nil)
                // The spooled file is gone once committed.
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/spool").isEmpty)

                let (staged, reference) = try await blobs.stage(Array("metadata".utf8))
                try await blobs.commit(staged, sha256: reference.sha256)
                var listed: [String] = []
                try await blobs.forEachBlob { listed.append($0) }
                #expect(listed.sorted() == [digests.sha256, reference.sha256].sorted())

                try await blobs.remove(sha256: digests.sha256)
                try await blobs.remove(sha256: digests.sha256)
                #expect(try await blobs.size(ofSHA256: digests.sha256) == nil)
                await #expect(throws: BlobStoreError.notFound(sha256: digests.sha256)) {
                    try await blobs.read(sha256: digests.sha256, range: 0...1)
                }
                await #expect(throws: BlobStoreError.notFound(sha256: digests.sha256)) {
                    try await blobs.chunks(sha256: digests.sha256, range: 0...1)
                }
            }
        }
    }

    /// Above `singlePutLimit` the file goes in 8 MiB parts; the object is the file, byte for byte,
    /// across part boundaries, and no multipart upload is left open.
    @Test func largeFilesGoAsMultipartUploads() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            let configuration = try TestS3.configuration()
            try await TestS3.withStore(configuration, spoolingIn: directory) { store in
                let bytes = Self.randomBytes(Int(S3BlobStore.singlePutLimit) + 3 * 1024 * 1024 + 17)
                let (upload, digests) = try await Self.write(bytes, to: store)
                try await store.transfer(upload, sha256: digests.sha256)
                try await store.commit(upload, sha256: digests.sha256)
                #expect(try await store.size(ofSHA256: digests.sha256) == Int64(bytes.count))

                let boundary = Int64(S3BlobStore.partSize)
                let around = (boundary - 5)...(boundary + 5)
                #expect(
                    Array(buffer: try await store.read(sha256: digests.sha256, range: around)) == Array(bytes[Int(boundary - 5)...Int(boundary + 5)])
                )
                var streamed = ByteBuffer()
                for try await var chunk in try await store.chunks(sha256: digests.sha256, range: 0...Int64(bytes.count - 1)) {
                    streamed.writeBuffer(&chunk)
                }
                #expect(streamed == ByteBuffer(bytes: bytes))
                #expect(try await store.openMultipartUploads().isEmpty)
            }
        }
    }

    /// A client that stops reading for longer than the bucket's idle deadline (a paused laptop, a
    /// buffering proxy) still gets the whole file: that deadline runs only while bytes are awaited.
    @Test func aConsumerThatPausesIsNotCutOff() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            try await TestS3.withStore(try TestS3.configuration(), spoolingIn: directory) { store in
                let bytes = Self.randomBytes(24 * 1024 * 1024)  // more than every buffer on the way holds
                let (upload, digests) = try await Self.write(bytes, to: store)
                try await store.transfer(upload, sha256: digests.sha256)
                try await store.commit(upload, sha256: digests.sha256)
                var streamed = ByteBuffer()
                var iterator = try await store.chunks(sha256: digests.sha256, range: 0...Int64(bytes.count - 1)).makeAsyncIterator()
                guard var first = try await iterator.next() else {
                    Issue.record("no first chunk")
                    return
                }
                streamed.writeBuffer(&first)
                try await Task.sleep(for: .nanoseconds(S3BodyStream.idleTimeout.nanoseconds) + .seconds(2))
                while var chunk = try await iterator.next() { streamed.writeBuffer(&chunk) }
                #expect(streamed == ByteBuffer(bytes: bytes))
            }
        }
    }

    /// The same bytes committed twice, as two projects' uploads would be, are one object.
    @Test func identicalContentIsOneObject() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            try await TestS3.withStore(try TestS3.configuration(), spoolingIn: directory) { store in
                let bytes = Self.randomBytes(5000)
                for _ in 0..<2 {
                    let (upload, digests) = try await Self.write(bytes, to: store)
                    try await store.transfer(upload, sha256: digests.sha256)
                    try await store.commit(upload, sha256: digests.sha256)
                }
                var listed: [String] = []
                try await store.forEachBlob { listed.append($0) }
                #expect(listed.count == 1)
            }
        }
    }

    /// A deletion between `transfer` and `commit` (the last file with the same bytes deleted at the
    /// same moment) does not lose the new upload's object: the commit sends it again.
    @Test func commitRestoresAnObjectRemovedAfterItsTransfer() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            try await TestS3.withStore(try TestS3.configuration(), spoolingIn: directory) { store in
                let (upload, digests) = try await Self.write(Self.randomBytes(4096), to: store)
                try await store.transfer(upload, sha256: digests.sha256)
                try await store.remove(sha256: digests.sha256)
                try await store.commit(upload, sha256: digests.sha256)
                #expect(try await store.size(ofSHA256: digests.sha256) == 4096)
            }
        }
    }

    /// Multipart uploads a crash left are aborted by the sweep. (moto dates every multipart upload
    /// 2010-11-10, so which are old enough is checked on a listing below, not against moto.)
    @Test func theSweepAbortsUnfinishedMultipartUploads() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            try await TestS3.withStore(try TestS3.configuration(), spoolingIn: directory) { store in
                _ = try await store.startMultipartUpload(key: store.configuration.key(forSHA256: String(repeating: "ab", count: 32)))
                #expect(try await store.openMultipartUploads().count == 1)
                #expect(try await store.removeStaleUploads(olderThan: .zero) == 1)
                #expect(try await store.openMultipartUploads().isEmpty)
            }
        }
    }

    @Test func startUpCheckNamesTheProblemInOneLine() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            try await TestS3.withStore(try TestS3.configuration(), spoolingIn: directory) { store in
                try await store.checkAccess()
            }
            let wrongSecret = AWSCredentials(accessKeyID: TestS3.credentials.accessKeyID, secretAccessKey: "not-the-secret")
            let cases: [(S3Configuration, String)] = [
                (try TestS3.configuration(credentials: wrongSecret), "access denied (SignatureDoesNotMatch)"),
                (try TestS3.configuration(bucket: "no-such-bucket-here"), "no such bucket"),
                (try TestS3.configuration(endpoint: "http://127.0.0.1:1"), "connection refused"),
            ]
            for (configuration, reason) in cases {
                try await TestS3.withStore(configuration, spoolingIn: directory) { store in
                    do {
                        try await store.checkAccess()
                        Issue.record("checkAccess passed for \(configuration.storeDescription) at \(configuration.endpoint)")
                    } catch let error as BlobStoreAccessError {
                        #expect(error.reason == reason)
                        #expect("\(error)".hasPrefix("cannot use blob store \(configuration.storeDescription) at \(configuration.endpoint): "))
                        #expect(!"\(error)".contains("not-the-secret") && !"\(error)".contains(TestS3.credentials.secretAccessKey))
                    }
                }
            }
        }
    }

    /// A store that is down is a 503 for the caller (`RegistryError.unavailable`), soon, not a hang.
    @Test func aStoreThatIsDownIsUnavailable() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            try await TestS3.withStore(try TestS3.configuration(endpoint: "http://127.0.0.1:1"), spoolingIn: directory) { store in
                let started = ContinuousClock.now
                await #expect(throws: RegistryError.unavailable("the blob store did not answer")) {
                    try await store.size(ofSHA256: String(repeating: "0", count: 64))
                }
                let (upload, digests) = try await Self.write(Array("x".utf8), to: store)
                await #expect(throws: RegistryError.unavailable("the blob store did not answer")) {
                    try await store.transfer(upload, sha256: digests.sha256)
                }
                upload.discard()
                // "Not a hang": the client gives up in seconds; the bound catches minutes, under any load.
                #expect(ContinuousClock.now - started < .seconds(60))
            }
        }
    }

    @Test func redirectModeGivesPresignedURLsAndProxyModeNone() async throws {
        try await TemporaryDirectory.with("wheelhouse-s3") { directory in
            let sha256 = String(repeating: "c", count: 64)
            try await TestS3.withStore(try TestS3.configuration(downloadMode: .redirect), spoolingIn: directory) { store in
                let url = try #require(store.downloadURL(forSHA256: sha256, fileName: "a b-1.0.tar.gz"))
                #expect(url.hasPrefix("\(TestS3.endpoint)/\(TestS3.bucket)/\(store.configuration.key(forSHA256: sha256))?"))
                #expect(url.contains("X-Amz-Expires=600") && url.contains("X-Amz-Signature="))
                #expect(url.contains("response-content-disposition=attachment%3B%20filename%3D%22a%20b-1.0.tar.gz%22"))
            }
            try await TestS3.withStore(try TestS3.configuration(), spoolingIn: directory) { store in
                #expect(store.downloadURL(forSHA256: sha256, fileName: "a-1.0.tar.gz") == nil)
            }
        }
    }
}

extension S3BlobStore {
    /// For tests: a multipart upload left open, as a crash would leave it.
    func startMultipartUpload(key: String) async throws -> String {
        let response = try await self.client.send(S3Client.Call(method: .POST, key: key, query: [("uploads", "")], idempotent: false))
        return S3XML.text("UploadId", in: String(buffer: try await response.body.collect(upTo: 65536))[...]) ?? ""
    }

    /// For tests: the keys of open multipart uploads under the store's prefix.
    func openMultipartUploads() async throws -> [String] {
        let response = try await self.client.send(
            S3Client.Call(method: .GET, key: nil, query: [("uploads", ""), ("prefix", self.configuration.blobKeyPrefix)])
        )
        let page = String(buffer: try await response.body.collect(upTo: 1024 * 1024))
        return S3XML.elements("Upload", in: page[...]).compactMap { S3XML.text("Key", in: $0) }
    }
}
