import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Registry
import TestSupport
import Testing

@testable import RegistryServer
@testable import WireHTTP1

/// Large files leave with sendfile: the header the responder sets, the handler that turns it into a
/// file region, and downloads over a live server.
@Suite struct FileBodyTests {
    static let sha256 = String(repeating: "ab", count: 32)

    /// The writer on an embedded channel over a blob store holding `content` under `sha256`.
    private func withWriter(content: [UInt8]?, _ body: (EmbeddedChannel) throws -> Void) async throws {
        try await TemporaryDirectory.with("wheelhouse-filebody") { directory in
            let blobs = try LocalBlobStore(root: directory + "/blobs")
            if let content {
                let path = blobs.path(forSHA256: Self.sha256)
                try FileManager.default.createDirectory(atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
                try Data(content).write(to: URL(fileURLWithPath: path))
            }
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let channel = EmbeddedChannel(handler: FileBody.Writer(blobPath: { blobs.path(forSHA256: $0) }, logger: logger))
            try body(channel)
            _ = try channel.finish(acceptAlreadyClosed: true)
        }
    }

    /// Where the writer on `channel` looks for the test blob.
    private func blobPath(of channel: EmbeddedChannel) throws -> String {
        try #require(try channel.pipeline.syncOperations.handler(type: FileBody.Writer.self).blobPath(Self.sha256))
    }

    private func head(range: ClosedRange<Int64>) -> HTTPServerResponsePart {
        .head(
            HTTPResponseHead(
                version: .http1_1,
                status: .partialContent,
                headers: [
                    "Content-Length": String(range.count), "Date": "now",
                    FileBodyRange.name.canonicalName: FileBodyRange(sha256: Self.sha256, range: range).headerValue,
                ]
            )
        )
    }

    @Test func aMarkedHeadIsFollowedByTheFilesRangeAndTheFileIsClosedOnceSent() async throws {
        try await self.withWriter(content: Array(repeating: 7, count: 200_000)) { channel in
            try channel.writeOutbound(self.head(range: 70_000...199_999))
            guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { throw Unexpected() }
            #expect(head.status == .partialContent)
            #expect(!head.headers.contains(name: FileBodyRange.name.canonicalName))
            guard case .body(.fileRegion(let region)) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { throw Unexpected() }
            #expect(region.readerIndex == 70_000 && region.endIndex == 200_000)
            #expect(!region.fileHandle.isOpen)
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
            guard case .end = try channel.readOutbound(as: HTTPServerResponsePart.self) else { throw Unexpected() }
        }
    }

    @Test func aVanishedBlobIsA404AndAShortOneA500WithNoBody() async throws {
        try await self.withWriter(content: nil) { channel in
            try channel.writeOutbound(self.head(range: 0...99_999))
            guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { throw Unexpected() }
            #expect(head.status == .notFound)
            #expect(head.headers["Content-Length"] == ["0"] && head.headers["Date"] == ["now"])
            #expect(!head.headers.contains(name: FileBodyRange.name.canonicalName))
            #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        }
        try await self.withWriter(content: Array(repeating: 7, count: 1000)) { channel in
            try channel.writeOutbound(self.head(range: 0...99_999))
            guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { throw Unexpected() }
            #expect(head.status == .internalServerError)
            #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        }
    }

    @Test func aBlobThatCannotBeOpenedIsA500UnlessGoneOrShortOfResources() async throws {
        #expect(FileBody.status(openingFailedWith: ENOENT) == .notFound)
        #expect(FileBody.status(openingFailedWith: ENOTDIR) == .notFound)
        for errno in [EMFILE, ENFILE, ENOMEM, EAGAIN] {
            #expect(FileBody.status(openingFailedWith: errno) == .serviceUnavailable, "\(errno)")
        }
        for errno in [EACCES, ELOOP, EIO] {
            #expect(FileBody.status(openingFailedWith: errno) == .internalServerError, "\(errno)")
        }
        #expect(FileBody.status(openingFailedWith: nil) == .internalServerError)
        try await self.withWriter(content: nil) { channel in
            // A symlink loop: open fails with ELOOP, neither "gone" nor a passing shortage.
            let path = try self.blobPath(of: channel)
            try FileManager.default.createDirectory(atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: path)
            try channel.writeOutbound(self.head(range: 0...99_999))
            guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { throw Unexpected() }
            #expect(head.status == .internalServerError)
            #expect(head.headers["Cache-Control"] == ["no-store"] && head.headers["Content-Length"] == ["0"])
            #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        }
    }

    @Test func anUnmarkedHeadPassesUnchanged() async throws {
        try await self.withWriter(content: nil) { channel in
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2"])
            try channel.writeOutbound(HTTPServerResponsePart.head(head))
            try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "ok"))))
            #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == .head(head))
            #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == .body(.byteBuffer(ByteBuffer(string: "ok"))))
        }
    }

    /// Over a live server: a wheel large enough to leave from disk, whole, in ranges on either side
    /// of the in-memory limit, by HEAD, and after its blob vanished.
    @Test func largeDownloadsAreExactWholeAndInRanges() async throws {
        var generator = SystemRandomNumberGenerator()
        let payload = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let wheel = try TestDistributions.wheel(name: "big", version: "1.0", payload: payload)
        #expect(Int64(wheel.count) > FileBody.largestInMemory)
        let sha256 = PyPIHTTPTests.sha256(wheel)
        try await TestServer.run { server, client in
            let form = UploadForm(fileName: "big-1.0-py3-none-any.whl", content: wheel, name: "big", version: "1.0", extra: [])
            #expect(try await client.upload(form, to: "acme%2Fopen", auth: server.basic("dev")).status == .created)
            let url = "/api/v4/projects/acme%2Fopen/packages/pypi/files/\(sha256)/big-1.0-py3-none-any.whl"

            let whole = try await client.execute(uri: url, method: .get)
            #expect(whole.status == .ok)
            #expect(whole.headers[.contentLength] == String(wheel.count))
            #expect(whole.headers[FileBodyRange.name] == nil)
            #expect(Array(buffer: whole.body) == wheel)

            for (first, last) in [(0, 99), (1000, 1000 + Int(FileBody.largestInMemory)), (70_000, wheel.count - 1)] {
                let part = try await client.execute(uri: url, method: .get, headers: [.range: "bytes=\(first)-\(last)"])
                #expect(part.status == .partialContent)
                #expect(part.headers[.contentRange] == "bytes \(first)-\(last)/\(wheel.count)")
                #expect(Array(buffer: part.body) == Array(wheel[first...last]), "bytes=\(first)-\(last)")
            }

            let head = try await client.execute(uri: url, method: .head)
            #expect(head.status == .ok && head.headers[.contentLength] == String(wheel.count) && head.body.readableBytes == 0)

            // The server still knows the file; its blob is gone from under it.
            try FileManager.default.removeItem(atPath: server.blobs.path(forSHA256: sha256))
            let gone = try await client.execute(uri: url, method: .get)
            #expect(gone.status == .notFound)
            #expect(gone.body.readableBytes == 0)
            // The connection is still good for the next request.
            let page = try await client.execute(uri: "/api/v4/projects/acme%2Fopen/packages/pypi/simple/big/", method: .get)
            #expect(page.status == .ok)
        }
    }

    /// A store whose blobs are not local files (as object storage's are): a large download is read
    /// and sent a chunk at a time through the `BlobStore` protocol instead of with sendfile.
    @Test func largeDownloadsStreamFromAStoreWithoutLocalFiles() async throws {
        var generator = SystemRandomNumberGenerator()
        let payload = (0..<2_500_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let wheel = try TestDistributions.wheel(name: "far", version: "1.0", payload: payload)
        #expect(wheel.count > 2 * 1024 * 1024)
        let sha256 = PyPIHTTPTests.sha256(wheel)
        try await TestServer.run(blobs: { NoLocalFiles(local: $0) }) { server, client in
            let form = UploadForm(fileName: "far-1.0-py3-none-any.whl", content: wheel, name: "far", version: "1.0", extra: [])
            #expect(try await client.upload(form, to: "acme%2Fopen", auth: server.basic("dev")).status == .created)
            let url = "/api/v4/projects/acme%2Fopen/packages/pypi/files/\(sha256)/far-1.0-py3-none-any.whl"
            let whole = try await client.execute(uri: url, method: .get)
            #expect(whole.status == .ok && whole.headers[.contentLength] == String(wheel.count))
            #expect(Array(buffer: whole.body) == wheel)
            for (first, last) in [(70_000, 1_200_000), (1_048_575, wheel.count - 1)] {
                let part = try await client.execute(uri: url, method: .get, headers: [.range: "bytes=\(first)-\(last)"])
                #expect(part.status == .partialContent)
                #expect(Array(buffer: part.body) == Array(wheel[first...last]), "bytes=\(first)-\(last)")
            }
            try FileManager.default.removeItem(atPath: server.blobs.path(forSHA256: sha256))
            let gone = try await client.execute(uri: url, method: .get)
            #expect(gone.status == .notFound)
        }
    }
}

private struct Unexpected: Error {}

/// `LocalBlobStore` with its files hidden: what a store without local files looks like to the server.
private struct NoLocalFiles: BlobStore {
    let local: LocalBlobStore

    func makeUpload() async throws -> BlobUpload { try await self.local.makeUpload() }
    func stage(_ bytes: [UInt8]) async throws -> (BlobUpload, BlobReference) { try await self.local.stage(bytes) }
    func commit(_ upload: BlobUpload, sha256: String) async throws { try await self.local.commit(upload, sha256: sha256) }
    func size(ofSHA256 sha256: String) async throws -> Int64? { try await self.local.size(ofSHA256: sha256) }
    func read(sha256: String, range: ClosedRange<Int64>) async throws -> ByteBuffer { try await self.local.read(sha256: sha256, range: range) }
    func localPath(forSHA256 sha256: String) -> String? { nil }
    func remove(sha256: String) async throws { try await self.local.remove(sha256: sha256) }
    func forEachBlob(_ visit: (String) async throws -> Void) async throws { try await self.local.forEachBlob(visit) }
    func removeStaleUploads(olderThan age: Duration) async throws -> Int { try await self.local.removeStaleUploads(olderThan: age) }
    func removeDeadTemporaryFiles(olderThan age: Duration) async throws -> Int {
        try await self.local.removeDeadTemporaryFiles(olderThan: age)
    }
}
